//! deploy/kubernetes as a user applies it: `kubectl kustomize` renders every overlay, the
//! rendered objects pass strict schema validation (PyPI kubernetes-validate, Kubernetes
//! 1.32), every object they reference is in the render (refs.rs), and every embedded
//! Collector config passes `switchyard validate` in the file layout its pod would see.
//!
//! Tools come from scripts/backends/k8s-tools.sh (scripts/test.sh runs it through install.sh);
//! a test whose tool is missing says SKIPPED and why.

mod helm;
mod refs;
#[path = "../support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use refs::{check, find, kind, name, pod, resolve_file, workload_config};

const OVERLAYS: [&str; 4] = ["overlays/gateway", "overlays/gateway-agent", "overlays/two-tier", "."];
const NS: &str = "observability";
/// The Kubernetes version the objects are validated against (shipped by kubernetes-validate).
const K8S_VERSION: &str = "1.32.0";

fn tools_dir() -> PathBuf {
    PathBuf::from(std::env::var("K8S_TOOLS").unwrap_or_else(|_| "/tmp/k8s-tools".into()))
}

/// A kubectl whose embedded kustomize is v4 or later (Debian bookworm's 1.20 has v2.0.3).
fn kubectl(test: &str) -> Option<PathBuf> {
    let mut candidates = vec![tools_dir().join("bin/kubectl"), PathBuf::from("kubectl")];
    if let Ok(k) = std::env::var("KUBECTL") {
        candidates.insert(0, PathBuf::from(k));
    }
    for k in candidates {
        let Ok(out) = Command::new(&k).args(["version", "--client"]).output() else { continue };
        let text = String::from_utf8_lossy(&out.stdout);
        let major = text.split("Kustomize Version: v").nth(1).and_then(|v| v.split('.').next()?.parse::<u32>().ok());
        if major.is_some_and(|m| m >= 4) {
            return Some(k);
        }
    }
    eprintln!("SKIPPED {test}: no kubectl with kustomize v4+ (run scripts/backends/k8s-tools.sh)");
    None
}

fn validator(test: &str) -> Option<PathBuf> {
    let venv = std::env::var("K8S_VENV").unwrap_or_else(|_| "/tmp/k8s-venv".into());
    let v = Path::new(&venv).join("bin/kubernetes-validate");
    if v.exists() {
        return Some(v);
    }
    eprintln!("SKIPPED {test}: {} missing (run scripts/backends/k8s-tools.sh)", v.display());
    None
}

/// `kubectl kustomize <root>/<overlay>`, parsed.
fn render(kubectl: &Path, root: &Path, overlay: &str) -> (String, Vec<Value>) {
    let out = Command::new(kubectl).arg("kustomize").arg(root.join(overlay)).output().expect("run kubectl");
    assert!(out.status.success(), "kubectl kustomize {overlay}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let objs = refs::parse_stream(&text);
    (text, objs)
}

fn kubernetes_validate(v: &Path, dir: &Path, name_: &str, text: &str) -> std::process::Output {
    let file = support::write(dir, name_, text);
    Command::new(v)
        .args(["--strict", "--quiet", "-k", K8S_VERSION])
        .arg(file)
        .output()
        .expect("run kubernetes-validate")
}

fn kinds(objs: &[Value]) -> Vec<(String, String)> {
    objs.iter().map(|o| (kind(o).to_string(), name(o).to_string())).collect()
}

fn has(objs: &[Value], kind_: &str, name_: &str) -> bool {
    objs.iter().any(|o| kind(o) == kind_ && (name(o) == name_ || name(o).starts_with(&format!("{name_}-"))))
}

fn get<'a>(objs: &'a [Value], kind_: &str, name_: &str) -> &'a Value {
    find(objs, kind_, NS, name_).unwrap_or_else(|| panic!("no {kind_} {name_} in {:?}", kinds(objs)))
}

/// The user's own overlay the README describes: the repository's `overlay`, with the two
/// Secrets' generators replaced by the user's files (a CA, a server certificate for the
/// gateway Service's name, its key, a token) and the image set to the user's registry.
fn user_overlay(overlay: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let certs = tmp.path().join("certs");
    std::fs::create_dir_all(&certs).expect("mkdir certs");
    let pki = tmp.path().join("pki");
    std::fs::create_dir_all(&pki).expect("mkdir pki");
    let ca = support::pki::Ca::new(&pki, "gateway");
    let server = ca.server("server");
    std::fs::copy(&ca.cert, certs.join("ca.pem")).expect("ca.pem");
    std::fs::copy(&server.cert, certs.join("server.pem")).expect("server.pem");
    std::fs::copy(&server.key, certs.join("server-key.pem")).expect("server-key.pem");
    std::fs::write(certs.join("token"), "s3cr3t-token\n").expect("token");
    // kustomize takes resources by relative path only.
    let up = "../".repeat(tmp.path().components().count() - 1);
    let repo = support::root().join("deploy/kubernetes").join(overlay);
    let target = format!("{up}{}", repo.to_string_lossy().trim_start_matches('/'));
    let k = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {target}
secretGenerator:
  - name: switchyard-gateway-tls
    namespace: observability
    behavior: replace
    type: kubernetes.io/tls
    files:
      - tls.crt=certs/server.pem
      - tls.key=certs/server-key.pem
      - ca.crt=certs/ca.pem
  - name: switchyard-gateway-token
    namespace: observability
    behavior: replace
    files:
      - token=certs/token
images:
  - name: ghcr.io/switchyard/switchyard
    newName: registry.example.com/switchyard
    newTag: \"0.1.0\"
"
    );
    support::write(tmp.path(), "kustomization.yaml", &k);
    tmp
}

/// Writes every file `w`'s container would see under its mounts into `root`, and returns its
/// config with the mount paths moved under `root`, and the container's environment (values
/// from the downward API get a stand-in).
fn pod_files(objs: &[Value], w: &Value, root: &Path) -> (String, Vec<(String, String)>) {
    let c = &pod(w)["containers"][0];
    let (mut text, cfg) = workload_config(objs, w).expect("the config resolves");
    let mut paths = Vec::new();
    refs::file_paths(&cfg, &mut paths);
    for (_, p) in &paths {
        let data = resolve_file(objs, w, p).expect("the file resolves");
        let dest = root.join(p.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().expect("a parent")).expect("mkdir");
        std::fs::write(dest, data).expect("write");
    }
    let mut mounts: Vec<String> = c["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["mountPath"].as_str().map(String::from))
        .collect();
    mounts.sort();
    mounts.dedup_by(|b, a| b.starts_with(&format!("{a}/")));
    for mp in mounts {
        text = text.replace(&format!("{mp}/"), &format!("{}{mp}/", root.display()));
    }
    let env = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["name"].as_str()?.to_string(), e["value"].as_str().unwrap_or("node-1").to_string())))
        .collect();
    (text, env)
}

fn validate(objs: &[Value], w: &Value, dir: &Path) -> std::process::Output {
    let root = dir.join(name(w));
    let (text, env) = pod_files(objs, w, &root);
    let path = support::write(dir, &format!("{}.yaml", name(w)), &text);
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["validate", "--config"])
        .arg(path)
        .env_remove("KUBE_NODE_NAME")
        .envs(env)
        .output()
        .expect("run switchyard")
}

#[test]
fn every_overlay_renders_and_passes_strict_schema_validation() {
    let test = "every_overlay_renders_and_passes_strict_schema_validation";
    let (Some(k), Some(v)) = (kubectl(test), validator(test)) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = support::root().join("deploy/kubernetes");
    for overlay in OVERLAYS {
        let (text, objs) = render(&k, &root, overlay);
        let want: &[(&str, &str)] = match overlay {
            "overlays/gateway" => {
                &[("Deployment", "switchyard-gateway"), ("HorizontalPodAutoscaler", "switchyard-gateway")]
            }
            "overlays/two-tier" => &[("StatefulSet", "switchyard-tier2"), ("Deployment", "switchyard-tier1")],
            _ => &[("Deployment", "switchyard-gateway"), ("DaemonSet", "switchyard-agent")],
        };
        for (kd, n) in want.iter().chain(&[("Namespace", NS)]) {
            assert!(has(&objs, kd, n), "{overlay}: no {kd} {n} in {:?}", kinds(&objs));
        }
        let out = kubernetes_validate(&v, tmp.path(), "rendered.yaml", &text);
        assert!(
            out.status.success(),
            "{overlay}: kubernetes-validate --strict -k {K8S_VERSION}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The validator is strict: a misspelt field in the render is refused.
    let (text, _) = render(&k, &root, "overlays/gateway-agent");
    let typo = text.replacen("readinessProbe:", "readinessProbes:", 1);
    let out = kubernetes_validate(&v, tmp.path(), "typo.yaml", &typo);
    assert!(!out.status.success(), "a misspelt field passed kubernetes-validate");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("readinessProbes"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn every_overlay_references_only_objects_it_renders() {
    let Some(k) = kubectl("every_overlay_references_only_objects_it_renders") else { return };
    let root = support::root().join("deploy/kubernetes");
    for overlay in OVERLAYS {
        let (_, objs) = render(&k, &root, overlay);
        let (bad, links) = check(&objs);
        assert!(bad.is_empty(), "{overlay}:\n{}", bad.join("\n"));
        // The exporters that dial a rendered Service reach a pod that receives on that port.
        let want: &[(&str, &str, i64)] = match overlay {
            "overlays/gateway" => &[],
            "overlays/two-tier" => &[("switchyard-tier1", "switchyard-tier2", 4317)],
            _ => &[("switchyard-agent", "switchyard-gateway", 4317)],
        };
        let got: Vec<(&str, &str, i64)> = links.iter().map(|l| (l.from.as_str(), l.service.as_str(), l.port)).collect();
        for w in want {
            assert!(got.contains(w), "{overlay}: no link {w:?} in {links:?}");
        }
    }
}

#[test]
fn the_gateway_serves_tls_and_a_token_from_mounted_secrets_behind_two_services() {
    let Some(k) = kubectl("the_gateway_serves_tls_and_a_token_from_mounted_secrets_behind_two_services") else {
        return;
    };
    let (_, objs) = render(&k, &support::root().join("deploy/kubernetes"), "overlays/gateway");
    let dep = get(&objs, "Deployment", "switchyard-gateway");
    let p = pod(dep);
    let c = &p["containers"][0];
    assert_eq!(p["securityContext"]["runAsNonRoot"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert!(c["resources"]["requests"]["cpu"].is_string() && c["resources"]["limits"]["memory"].is_string());
    assert!(c["livenessProbe"]["httpGet"].is_object() && c["readinessProbe"]["httpGet"].is_object());
    let (_, cfg) = workload_config(&objs, dep).unwrap();

    // Both OTLP protocols: TLS from the kubernetes.io/tls Secret, the token from its Secret.
    for proto in ["grpc", "http"] {
        let r = &cfg["receivers"]["otlp"]["protocols"][proto];
        assert_eq!(r["auth"]["authenticator"], "bearertokenauth", "{proto}");
        for (field, key) in [("cert_file", "tls.crt"), ("key_file", "tls.key")] {
            let path = r["tls"][field].as_str().unwrap_or_else(|| panic!("{proto} tls.{field}"));
            assert!(path.ends_with(key), "{path}");
            resolve_file(&objs, dep, path).unwrap();
        }
    }
    let tls = objs.iter().find(|o| kind(o) == "Secret" && name(o).starts_with("switchyard-gateway-tls-")).unwrap();
    assert_eq!(tls["type"], "kubernetes.io/tls");
    let token = cfg["extensions"]["bearertokenauth"]["filename"].as_str().expect("bearertokenauth filename");
    resolve_file(&objs, dep, token).unwrap();
    assert!(cfg["extensions"]["bearertokenauth"]["token"].is_null(), "no inline token");

    // ClusterIP and headless Services, both on 4317/4318 and the self-metrics port.
    let metrics = &cfg["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"];
    assert_eq!(metrics["host"], "0.0.0.0", "self-metrics reachable from outside the pod");
    for (svc, cluster_ip) in [("switchyard-gateway", None), ("switchyard-gateway-headless", Some("None"))] {
        let s = get(&objs, "Service", svc);
        assert_eq!(s["spec"]["clusterIP"].as_str(), cluster_ip, "{svc}");
        let mut ports: Vec<i64> = s["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|sp| refs::container_port(p, &sp["targetPort"]).unwrap())
            .collect();
        ports.sort();
        assert_eq!(ports, [4317, 4318, metrics["port"].as_i64().unwrap()], "{svc}");
    }

    // The PDB and the HPA (autoscaling/v2) govern these pods.
    let pdb = get(&objs, "PodDisruptionBudget", "switchyard-gateway");
    assert!(refs::labels_match(
        &pdb["spec"]["selector"]["matchLabels"],
        &dep["spec"]["template"]["metadata"]["labels"]
    ));
    let hpa = get(&objs, "HorizontalPodAutoscaler", "switchyard-gateway");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "switchyard-gateway");
    assert!(hpa["spec"]["minReplicas"].as_i64().unwrap() >= 2, "a PDB with one replica blocks every drain");
    // The ConfigMap is generated from the repository's gateway.yaml, byte for byte.
    let on_disk = std::fs::read_to_string(support::root().join("deploy/kubernetes/base/gateway/gateway.yaml")).unwrap();
    assert_eq!(workload_config(&objs, dep).unwrap().0, on_disk);
}

#[test]
fn the_agent_is_a_daemonset_that_forwards_node_local_otlp_to_the_gateway() {
    let Some(k) = kubectl("the_agent_is_a_daemonset_that_forwards_node_local_otlp_to_the_gateway") else { return };
    let (_, objs) = render(&k, &support::root().join("deploy/kubernetes"), "overlays/gateway-agent");
    let ds = get(&objs, "DaemonSet", "switchyard-agent");
    let gw = get(&objs, "Deployment", "switchyard-gateway");
    let p = pod(ds);
    let host_ports: Vec<i64> =
        p["containers"][0]["ports"].as_array().unwrap().iter().filter_map(|x| x["hostPort"].as_i64()).collect();
    assert_eq!(host_ports, [4317, 4318], "node-local OTLP on the node's IP");
    let local = get(&objs, "Service", "switchyard-agent");
    assert_eq!(local["spec"]["internalTrafficPolicy"], "Local");

    let (_, cfg) = workload_config(&objs, ds).unwrap();
    let (_, gw_cfg) = workload_config(&objs, gw).unwrap();
    let exp = &cfg["exporters"]["otlp/gateway"];
    let (host, port) = refs::endpoint_port(exp["endpoint"].as_str().unwrap()).unwrap();
    assert_eq!(refs::service_of(&objs, NS, &host).map(name), Some("switchyard-gateway"), "{host}");
    assert_eq!(port, 4317);
    // The agent trusts the CA of the certificate the gateway serves, and sends the token the
    // gateway accepts: the same Secrets' keys.
    let ca = resolve_file(&objs, ds, exp["tls"]["ca_file"].as_str().unwrap()).unwrap();
    let gw_ca = resolve_file(&objs, gw, "/etc/switchyard/tls/ca.crt").unwrap();
    assert_eq!(ca, gw_ca);
    assert_eq!(
        resolve_file(&objs, ds, cfg["extensions"]["bearertokenauth"]["filename"].as_str().unwrap()).unwrap(),
        resolve_file(&objs, gw, gw_cfg["extensions"]["bearertokenauth"]["filename"].as_str().unwrap()).unwrap()
    );
    assert_eq!(exp["auth"]["authenticator"], "bearertokenauth");
    // ...but not the gateway's private key.
    assert!(resolve_file(&objs, ds, "/etc/switchyard/tls/tls.key").is_err(), "the agent mounts the gateway's key");

    // k8sattributes is in every pipeline, watching this node's pods with the bound account.
    for (sig, pl) in cfg["service"]["pipelines"].as_object().unwrap() {
        assert!(pl["processors"].as_array().unwrap().iter().any(|x| x == "k8sattributes"), "{sig}");
    }
    let sa = p["serviceAccountName"].as_str().unwrap();
    let crb = get(&objs, "ClusterRoleBinding", "switchyard-agent");
    assert!(crb["subjects"].as_array().unwrap().iter().any(|s| s["name"] == sa && s["namespace"] == NS));
    let env = &p["containers"][0]["env"][0];
    assert_eq!(env["name"], cfg["processors"]["k8sattributes"]["filter"]["node_from_env_var"]);
    assert_eq!(env["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
}

#[test]
fn every_embedded_config_passes_switchyard_validate() {
    let Some(k) = kubectl("every_embedded_config_passes_switchyard_validate") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for overlay in OVERLAYS {
        let (_, objs) = if overlay == "overlays/two-tier" {
            render(&k, &support::root().join("deploy/kubernetes"), overlay)
        } else {
            let user = user_overlay(overlay);
            let (text, objs) = render(&k, user.path(), ".");
            let crt =
                resolve_file(&objs, get(&objs, "Deployment", "switchyard-gateway"), "/etc/switchyard/tls/tls.crt");
            assert!(crt.unwrap().starts_with(b"-----BEGIN CERTIFICATE-----"), "{overlay}: the user's certificate");
            assert!(!text.contains("ghcr.io"), "{overlay}: the user's image");
            (text, objs)
        };
        for w in objs.iter().filter(|o| refs::WORKLOADS.contains(&kind(o))) {
            let dir = tmp.path().join(overlay.replace('/', "_"));
            std::fs::create_dir_all(&dir).unwrap();
            let out = validate(&objs, w, &dir);
            assert!(
                out.status.success(),
                "{overlay}: {} {}: switchyard validate failed:\n{}",
                kind(w),
                name(w),
                String::from_utf8_lossy(&out.stderr)
            );
            seen.push(name(w).to_string());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["switchyard-agent", "switchyard-gateway", "switchyard-tier1", "switchyard-tier2"]);

    // As shipped, the secret files are placeholders that do not make a working agent: its
    // exporter finds no certificate in ca.crt (the README says to replace them).
    let (_, objs) = render(&k, &support::root().join("deploy/kubernetes"), "overlays/gateway-agent");
    let out = validate(&objs, get(&objs, "DaemonSet", "switchyard-agent"), tmp.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ca_file"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Each broken reference a user could make is reported.
#[test]
fn a_broken_reference_is_caught() {
    let Some(k) = kubectl("a_broken_reference_is_caught") else { return };
    let root = support::root().join("deploy/kubernetes");
    let (text, _) = render(&k, &root, "overlays/gateway-agent");
    let (tt, _) = render(&k, &root, "overlays/two-tier");
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "Service selector",
            "    app.kubernetes.io/component: gateway\n    app.kubernetes.io/name: switchyard\n  type: ClusterIP",
            "    app.kubernetes.io/component: gatewy\n    app.kubernetes.io/name: switchyard\n  type: ClusterIP",
            "selector matches no pods",
        ),
        ("targetPort", "targetPort: otlp-http", "targetPort: otlp-https", "targetPort"),
        (
            "Secret name",
            "secretName: switchyard-gateway-token-",
            "secretName: switchyard-gateway-tokens-",
            "is not rendered",
        ),
        ("Secret item", "- key: ca.crt", "- key: ca.pem", "wants key ca.pem"),
        ("probe port", "port: health", "port: metrics", "probe"),
        ("health port", "endpoint: 0.0.0.0:13133", "endpoint: 0.0.0.0:13134", "probe"),
        ("agent endpoint port", "observability.svc:4317", "observability.svc:4319", "not a port of Service"),
        (
            "config file path",
            "filename: /etc/switchyard/token/token",
            "filename: /etc/switchyard/tokens/token",
            "config filename /etc/switchyard/tokens/token",
        ),
        (
            "binding subject",
            "- kind: ServiceAccount\n  name: switchyard-agent",
            "- kind: ServiceAccount\n  name: switchyard-agents",
            "subject",
        ),
        ("ClusterRole rule", "- replicasets", "- replicaset", "replicasets"),
        ("node env var", "name: KUBE_NODE_NAME", "name: NODE_NAME", "KUBE_NODE_NAME"),
        (
            "HPA target",
            "kind: Deployment\n    name: switchyard-gateway\n",
            "kind: Deployment\n    name: switchyard-gatewy\n",
            "scaleTargetRef",
        ),
        (
            "PDB selector",
            "  maxUnavailable: 1\n  selector:\n    matchLabels:\n",
            "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      x: y\n",
            "PodDisruptionBudget",
        ),
    ];
    for (what, from, to, want) in cases {
        assert!(text.contains(from), "{what}: {from:?} not in the render");
        let broken = refs::parse_stream(&text.replacen(from, to, 1));
        let (bad, _) = check(&broken);
        assert!(bad.iter().any(|b| b.contains(want)), "{what}: no problem mentioning {want:?} in {bad:?}");
    }
    // Two tiers: the resolver's service and the RBAC it needs.
    for (what, from, to, want) in [
        ("resolver port", "ports: [4317]", "ports: [4318]", "not a port of Service"),
        ("Role resource", "- endpointslices", "- endpoints", "endpointslices"),
    ] {
        assert!(tt.contains(from), "{what}: {from:?} not in the render");
        let (bad, _) = check(&refs::parse_stream(&tt.replacen(from, to, 1)));
        assert!(bad.iter().any(|b| b.contains(want)), "{what}: no problem mentioning {want:?} in {bad:?}");
    }
}
