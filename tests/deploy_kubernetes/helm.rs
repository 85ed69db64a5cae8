//! deploy/helm/switchyard, the gateway as a Helm chart: `helm lint`, `helm template` renders
//! objects that pass the same strict schema validation and reference checks as the Kustomize
//! overlays, and its config (by default the same file as overlays/gateway's) passes
//! `switchyard validate`.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::refs::{check, kind, name};
use crate::{kubernetes_validate, support, validate, validator, K8S_VERSION, NS};

fn helm(test: &str) -> Option<PathBuf> {
    for h in [crate::tools_dir().join("bin/helm"), PathBuf::from("helm")] {
        if Command::new(&h).arg("version").output().is_ok_and(|o| o.status.success()) {
            return Some(h);
        }
    }
    eprintln!("SKIPPED {test}: no helm (run scripts/backends/k8s-tools.sh)");
    None
}

fn chart() -> PathBuf {
    support::root().join("deploy/helm/switchyard")
}

fn template(helm: &PathBuf, args: &[&str]) -> Output {
    Command::new(helm)
        .args(["template", "switchyard-gateway"])
        .arg(chart())
        .args(["--namespace", NS])
        .args(args)
        .output()
        .expect("run helm")
}

#[test]
fn the_helm_chart_lints_renders_validates_and_references_what_it_renders() {
    let test = "the_helm_chart_lints_renders_validates_and_references_what_it_renders";
    let (Some(h), Some(v)) = (helm(test), validator(test)) else { return };
    let out = Command::new(&h).arg("lint").arg(chart()).output().expect("run helm lint");
    assert!(out.status.success(), "helm lint:\n{}", String::from_utf8_lossy(&out.stdout));
    let tmp = tempfile::tempdir().unwrap();

    // Defaults: the Secrets are the user's to create, so they are the only missing references.
    let out = template(&h, &[]);
    assert!(out.status.success(), "helm template: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let out = kubernetes_validate(&v, tmp.path(), "helm.yaml", &text);
    assert!(out.status.success(), "kubernetes-validate -k {K8S_VERSION}:\n{}", String::from_utf8_lossy(&out.stdout));
    let objs = crate::refs::parse_stream(&text);
    let (bad, _) = check(&objs);
    assert!(!bad.is_empty() && bad.iter().all(|b| b.contains("Secret switchyard-gateway-t")), "{bad:#?}");
    let kinds: Vec<&str> = objs.iter().map(kind).collect();
    for k in ["Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ConfigMap"] {
        assert!(kinds.contains(&k), "no {k} in {kinds:?}");
    }
    // The config is the Kustomize gateway's file, byte for byte.
    let cm = objs.iter().find(|o| kind(o) == "ConfigMap").unwrap();
    let on_disk = std::fs::read_to_string(support::root().join("deploy/kubernetes/base/gateway/gateway.yaml")).unwrap();
    assert_eq!(cm["data"]["config.yaml"].as_str(), Some(on_disk.as_str()));

    // secrets.create=true without the files is refused; with them, everything resolves and
    // the config passes switchyard validate in the pod's file layout.
    let out = template(&h, &["--set", "secrets.create=true"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("secrets.tlsCrt"));
    let ca = support::pki::Ca::new(tmp.path(), "helm");
    let server = ca.server("server");
    let token = support::write(tmp.path(), "token", "helm-token\n");
    let set_file = |k: &str, p: &PathBuf| format!("secrets.{k}={}", p.display());
    let files = [
        set_file("tlsCrt", &server.cert),
        set_file("tlsKey", &server.key),
        set_file("caCrt", &ca.cert),
        set_file("token", &token),
    ];
    let mut args = vec!["--set", "secrets.create=true"];
    for f in &files {
        args.extend(["--set-file", f.as_str()]);
    }
    let out = template(&h, &args);
    assert!(out.status.success(), "helm template: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let out = kubernetes_validate(&v, tmp.path(), "helm-secrets.yaml", &text);
    assert!(out.status.success(), "kubernetes-validate:\n{}", String::from_utf8_lossy(&out.stdout));
    let objs = crate::refs::parse_stream(&text);
    let (bad, _) = check(&objs);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let dep = objs.iter().find(|o| kind(o) == "Deployment").unwrap();
    let out = validate(&objs, dep, tmp.path());
    assert!(out.status.success(), "{}: switchyard validate:\n{}", name(dep), String::from_utf8_lossy(&out.stderr));
}
