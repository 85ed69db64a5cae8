//! The Kubernetes manifests of the two-tier overlay (seed 003), `deploy/kubernetes/overlays/two-tier`
//! and the bases it applies (`base/namespace`, `base/two-tier`), read as files: every document
//! parses, the objects reference each other as a cluster would resolve them (the resolver's
//! Service, selectors, ports, RBAC, mounted ConfigMaps), and both embedded Switchyard
//! configs pass `switchyard validate`.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use switchyard_core::config;

const NS: &str = "observability";

/// One YAML document of a manifest file.
struct Doc {
    file: String,
    v: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        self.v["kind"].as_str().unwrap_or_default()
    }
    fn name(&self) -> &str {
        self.v["metadata"]["name"].as_str().unwrap_or_default()
    }
}

/// The overlay and the bases it lists (tests/deploy_kubernetes renders it with kubectl).
const DIRS: [&str; 3] = ["overlays/two-tier", "base/namespace", "base/two-tier"];

fn dir() -> PathBuf {
    support::root().join("deploy/kubernetes")
}

/// Every document of every `*.yaml` file of DIRS, parsed with the project's YAML reader;
/// `file` is the path under deploy/kubernetes.
fn docs() -> Vec<Doc> {
    let mut files: Vec<PathBuf> = Vec::new();
    for d in DIRS {
        let mut in_dir: Vec<PathBuf> = std::fs::read_dir(dir().join(d))
            .unwrap_or_else(|e| panic!("deploy/kubernetes/{d}: {e}"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        in_dir.sort();
        files.extend(in_dir);
    }
    let mut out = Vec::new();
    for path in files {
        let file = path.strip_prefix(dir()).expect("under deploy/kubernetes").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("readable");
        let mut part = String::new();
        let mut parts = Vec::new();
        for line in text.lines() {
            if line.trim_end() == "---" {
                parts.push(std::mem::take(&mut part));
            } else {
                part.push_str(line);
                part.push('\n');
            }
        }
        parts.push(part);
        for (i, p) in parts.iter().enumerate() {
            if p.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
                continue;
            }
            let node = config::parse(&file, p).unwrap_or_else(|e| panic!("{file} document {i}: {e}"));
            let v: Value = config::from_node(&node, "").unwrap_or_else(|e| panic!("{file} document {i}: {e}"));
            assert!(v["apiVersion"].is_string() && v["kind"].is_string(), "{file} document {i} lacks apiVersion/kind");
            out.push(Doc { file: file.clone(), v });
        }
    }
    out
}

fn find<'a>(docs: &'a [Doc], kind: &str, name: &str) -> &'a Value {
    let d = docs.iter().find(|d| d.kind() == kind && d.name() == name);
    &d.unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes")).v
}

/// The Switchyard config a workload mounts: its ConfigMap's `config.yaml`, as the path in
/// its `--config` argument resolves through the volume mount.
fn mounted_config<'a>(docs: &'a [Doc], workload: &Value) -> &'a str {
    let pod = &workload["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    let args: Vec<&str> = c["args"].as_array().expect("args").iter().filter_map(Value::as_str).collect();
    let path = args.windows(2).find(|w| w[0] == "--config").map(|w| w[1]).expect("--config <path> in args");
    let (mount_dir, key) = path.rsplit_once('/').expect("an absolute path");
    let mount = c["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["mountPath"] == mount_dir)
        .expect("a mount");
    let vol =
        pod["volumes"].as_array().expect("volumes").iter().find(|v| v["name"] == mount["name"]).expect("the volume");
    let cm = vol["configMap"]["name"].as_str().expect("a ConfigMap volume");
    find(docs, "ConfigMap", cm)["data"][key].as_str().unwrap_or_else(|| panic!("ConfigMap {cm} has no key {key}"))
}

fn labels_match(selector: &Value, labels: &Value) -> bool {
    let sel = selector.as_object().expect("a selector");
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The container port `target` (a number or a port name) designates.
fn container_port(pod: &Value, target: &Value) -> i64 {
    let ports = pod["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .flat_map(|c| c["ports"].as_array().expect("ports").iter());
    for p in ports {
        if (target.is_string() && p["name"] == *target) || (target.is_i64() && p["containerPort"] == *target) {
            return p["containerPort"].as_i64().expect("a numeric containerPort");
        }
    }
    panic!("no container port {target}");
}

/// The port a config's `otlp` receiver listens on for gRPC.
fn grpc_port(cfg: &Value) -> i64 {
    let ep = cfg["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].as_str().expect("an OTLP gRPC endpoint");
    ep.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).expect("host:port")
}

fn yaml(text: &str) -> Value {
    config::from_node(&config::parse("config.yaml", text).expect("config parses"), "").expect("decodes")
}

#[test]
fn every_document_parses_and_everything_is_in_the_namespace() {
    let docs = docs();
    let kinds: Vec<(&str, &str)> = docs.iter().map(|d| (d.kind(), d.name())).collect();
    for want in [
        ("Namespace", NS),
        ("ConfigMap", "switchyard-tier1"),
        ("Deployment", "switchyard-tier1"),
        ("Service", "switchyard-tier1"),
        ("ServiceAccount", "switchyard-tier1"),
        ("Role", "switchyard-tier1-endpointslices"),
        ("RoleBinding", "switchyard-tier1-endpointslices"),
        ("ConfigMap", "switchyard-tier2"),
        ("StatefulSet", "switchyard-tier2"),
        ("Service", "switchyard-tier2"),
    ] {
        assert!(kinds.contains(&want), "missing {want:?} in {kinds:?}");
    }
    for d in docs.iter().filter(|d| !matches!(d.kind(), "Namespace" | "Kustomization")) {
        assert_eq!(d.v["metadata"]["namespace"], NS, "{} {} in {}", d.kind(), d.name(), d.file);
    }
    // The overlay applies both bases, and each base's kustomization applies every manifest of
    // its directory, in file order.
    let listed = |dir: &str| -> Vec<String> {
        let k = docs
            .iter()
            .find(|d| d.kind() == "Kustomization" && d.file == format!("{dir}/kustomization.yaml"))
            .unwrap_or_else(|| panic!("no {dir}/kustomization.yaml"));
        k.v["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(listed("overlays/two-tier"), ["../../base/namespace", "../../base/two-tier"]);
    for base in ["base/namespace", "base/two-tier"] {
        let mut files: Vec<String> = docs
            .iter()
            .filter(|d| d.kind() != "Kustomization" && d.file.starts_with(&format!("{base}/")))
            .map(|d| d.file[base.len() + 1..].to_string())
            .collect();
        files.dedup();
        assert_eq!(listed(base), files, "{base}");
    }
}

#[test]
fn the_tier1_resolver_targets_the_headless_service_in_front_of_the_tier2_pods() {
    let docs = docs();
    let tier1 = find(&docs, "Deployment", "switchyard-tier1");
    let cfg = yaml(mounted_config(&docs, tier1));
    let lb = &cfg["exporters"]["loadbalancing"];
    assert_eq!(lb["routing_key"], "traceID");
    let service = lb["resolver"]["k8s"]["service"].as_str().expect("resolver.k8s.service");
    let (name, ns) = service.split_once('.').expect("name.namespace");
    let svc = find(&docs, "Service", name);
    assert_eq!((ns, svc["metadata"]["namespace"].as_str().unwrap()), (NS, NS));
    assert_eq!(svc["spec"]["clusterIP"], "None", "the tier-2 Service is headless");

    // Its selector picks the tier-2 pods (and only them), and its port reaches the port
    // the tier-2 receiver listens on, which is the port the resolver dials.
    let tier2 = find(&docs, "StatefulSet", name);
    assert_eq!(tier2["spec"]["serviceName"], name, "the StatefulSet's governing Service");
    let pod = &tier2["spec"]["template"];
    assert!(labels_match(&svc["spec"]["selector"], &pod["metadata"]["labels"]));
    assert!(labels_match(&tier2["spec"]["selector"]["matchLabels"], &pod["metadata"]["labels"]));
    let tier1_pod = &tier1["spec"]["template"]["metadata"]["labels"];
    assert!(!labels_match(&svc["spec"]["selector"], tier1_pod), "tier-1 pods are not tier-2 backends");
    let port = svc["spec"]["ports"].as_array().unwrap().iter().find(|p| p["name"] == "otlp-grpc").expect("otlp-grpc");
    let target = container_port(&pod["spec"], &port["targetPort"]);
    let tier2_cfg = yaml(mounted_config(&docs, tier2));
    assert_eq!(target, grpc_port(&tier2_cfg));
    let ports: Vec<i64> =
        lb["resolver"]["k8s"]["ports"].as_array().unwrap().iter().map(|p| p.as_i64().unwrap()).collect();
    assert_eq!(ports, [target], "the resolver dials the pods' receiver port");

    // Tier 2 runs seed 002's policy.
    let ts = &tier2_cfg["processors"]["tail_sampling"];
    assert_eq!(ts["decision_wait"], "10s");
    let types: Vec<&str> = ts["policies"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["status_code", "probabilistic"]);
    assert_eq!(ts["policies"][1]["probabilistic"]["sampling_percentage"], 5);
}

#[test]
fn the_tier1_service_and_deployment_agree() {
    let docs = docs();
    let dep = find(&docs, "Deployment", "switchyard-tier1");
    let svc = find(&docs, "Service", "switchyard-tier1");
    let pod = &dep["spec"]["template"];
    assert!(labels_match(&svc["spec"]["selector"], &pod["metadata"]["labels"]));
    assert!(labels_match(&dep["spec"]["selector"]["matchLabels"], &pod["metadata"]["labels"]));
    let cfg = yaml(mounted_config(&docs, dep));
    let http = cfg["receivers"]["otlp"]["protocols"]["http"]["endpoint"].as_str().unwrap();
    let mut listened = vec![grpc_port(&cfg), http.rsplit_once(':').unwrap().1.parse().unwrap()];
    let mut served: Vec<i64> = svc["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["port"], container_port(&pod["spec"], &p["targetPort"]));
            container_port(&pod["spec"], &p["targetPort"])
        })
        .collect();
    listened.sort();
    served.sort();
    assert_eq!(served, listened);
    assert_eq!(served, [4317, 4318]);
}

#[test]
fn the_role_lets_the_tier1_service_account_list_and_watch_endpointslices() {
    let docs = docs();
    let dep = find(&docs, "Deployment", "switchyard-tier1");
    let sa = dep["spec"]["template"]["spec"]["serviceAccountName"].as_str().expect("serviceAccountName");
    find(&docs, "ServiceAccount", sa);
    let binding = docs
        .iter()
        .filter(|d| d.kind() == "RoleBinding")
        .find(|d| {
            d.v["subjects"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == "ServiceAccount" && s["name"] == sa && s["namespace"] == NS)
        })
        .expect("a RoleBinding of the tier-1 ServiceAccount");
    let rr = &binding.v["roleRef"];
    assert_eq!((rr["kind"].as_str(), rr["apiGroup"].as_str()), (Some("Role"), Some("rbac.authorization.k8s.io")));
    let role = find(&docs, "Role", rr["name"].as_str().unwrap());
    let grants = |verb: &str| {
        role["rules"].as_array().unwrap().iter().any(|r| {
            let has = |k: &str, v: &str| r[k].as_array().unwrap().iter().any(|x| x == v || x == "*");
            has("apiGroups", "discovery.k8s.io") && has("resources", "endpointslices") && has("verbs", verb)
        })
    };
    for verb in ["get", "list", "watch"] {
        assert!(grants(verb), "the Role does not grant {verb} on endpointslices: {role}");
    }
    // Tier 2 needs no API access and mounts no token.
    let tier2 = find(&docs, "StatefulSet", "switchyard-tier2");
    assert_eq!(tier2["spec"]["template"]["spec"]["automountServiceAccountToken"], false);
}

#[test]
fn every_mounted_configmap_exists_and_both_configs_pass_switchyard_validate() {
    let docs = docs();
    let tmp = tempfile::tempdir().unwrap();
    let workloads: Vec<&Doc> = docs.iter().filter(|d| matches!(d.kind(), "Deployment" | "StatefulSet")).collect();
    assert_eq!(workloads.len(), 2);
    for w in workloads {
        for vol in w.v["spec"]["template"]["spec"]["volumes"].as_array().unwrap() {
            if let Some(cm) = vol["configMap"]["name"].as_str() {
                find(&docs, "ConfigMap", cm);
            }
        }
        let text = mounted_config(&docs, &w.v);
        let path = support::write(tmp.path(), &format!("{}.yaml", w.name()), text);
        let out = support::switchyard(&["validate", "--config", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{} {}: switchyard validate failed:\n{}{}",
            w.kind(),
            w.name(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
