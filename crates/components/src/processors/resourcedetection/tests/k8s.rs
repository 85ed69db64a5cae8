//! `k8s_api` / `k8snode` and `eks` against a stand-in API server reached through a
//! kubeconfig. The stand-in answers the shapes of the Kubernetes API reference:
//! `GET /version` (version.Info: major, minor, gitVersion, ...; EKS versions look like
//! `v1.29.1-eks-b9c9ed7`, as upstream's eks tests use), `GET /api/v1/nodes/{name}` and
//! `GET /api/v1/namespaces/kube-system` (objects with metadata.name and metadata.uid).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use switchyard_core::component::Component;

use super::{env_of, get as attr, standins, started, through, Logs};
use crate::processors::resourcedetection::detectors::{ec2, eks};

fn version(git: &str) -> String {
    format!(
        r#"{{"major":"1","minor":"29","gitVersion":"{git}","gitCommit":"abc","gitTreeState":"clean","buildDate":"2024-01-01T00:00:00Z","goVersion":"go1.21.6","compiler":"gc","platform":"linux/amd64"}}"#
    )
}

/// An API server stand-in; returns the path of a kubeconfig pointing at it.
async fn api_server(dir: &std::path::Path, git_version: &'static str) -> String {
    let app = Router::new()
        .route("/version", get(move || async move { version(git_version) }))
        .route(
            "/api/v1/nodes/{name}",
            get(|Path(name): Path<String>| async move {
                if name != "node-a" {
                    return (StatusCode::NOT_FOUND, r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#.to_string());
                }
                (StatusCode::OK, r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a","uid":"0b6b6f5e-7a35-4b11-9b0a-1f1b3c6d7e8f"}}"#.to_string())
            }),
        )
        .route(
            "/api/v1/namespaces/kube-system",
            get(|| async { r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kube-system","uid":"c1c2c3c4-0000-4000-8000-000000000001"}}"# }),
        );
    let base = standins::serve(app).await;
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster:\n    server: {base}\ncontexts:\n- name: t\n  context:\n    cluster: t\n    user: u\nusers:\n- name: u\n  user:\n    token: test-token\n"
        ),
    )
    .expect("write kubeconfig");
    path.display().to_string()
}

#[tokio::test]
async fn k8s_api_reads_the_node_and_the_cluster_uid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = api_server(dir.path(), "v1.30.0").await;
    let vars = [("KUBECONFIG", kubeconfig.as_str()), ("MY_NODE", "node-a")];
    let yaml = "detectors: [k8s_api]\nk8s_api:\n  auth_type: kubeConfig\n  node_from_env_var: MY_NODE\n";
    let (p, r) = started(yaml, env_of(&vars)).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(attr(&out, "k8s.node.name"), Some("node-a"));
    assert_eq!(attr(&out, "k8s.node.uid"), Some("0b6b6f5e-7a35-4b11-9b0a-1f1b3c6d7e8f"));
    assert_eq!(attr(&out, "k8s.cluster.uid"), Some("c1c2c3c4-0000-4000-8000-000000000001"));
    r.shutdown().await;
}

#[tokio::test]
async fn k8snode_without_the_node_variable_is_logged_and_sets_nothing() {
    let (logs, _guard) = Logs::capture();
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = api_server(dir.path(), "v1.30.0").await;
    let yaml = "detectors: [k8snode]\nretry: {enabled: false}\nk8snode:\n  auth_type: kubeConfig\n";
    let (p, r) = started(yaml, env_of(&[("KUBECONFIG", kubeconfig.as_str())])).await;
    assert!(through(&p, &[]).0.is_empty());
    let text = logs.text();
    assert!(text.contains("WARN") && text.contains("K8S_NODE_NAME"), "{text}");
    r.shutdown().await;
}

#[tokio::test]
async fn eks_is_recognised_by_the_api_server_version_and_reads_imds_for_opt_in_attributes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = api_server(dir.path(), "v1.29.1-eks-b9c9ed7").await;
    let imds = standins::ec2().await;
    let vars = [
        ("KUBERNETES_SERVICE_HOST", "10.100.0.1"),
        (eks::TEST_KUBECONFIG_VAR, kubeconfig.as_str()),
        (ec2::TEST_ENDPOINT_VAR, imds.as_str()),
    ];
    let (p, r) = started("detectors: [eks]\n", env_of(&vars)).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(out, vec![("cloud.provider".into(), "aws".into()), ("cloud.platform".into(), "aws_eks".into())]);
    r.shutdown().await;

    let yaml = "detectors: [eks]\neks:\n  resource_attributes:\n    host.id: {enabled: true}\n    cloud.region: {enabled: true}\n";
    let (p, r) = started(yaml, env_of(&vars)).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(attr(&out, "host.id"), Some("i-1234567890abcdef0"));
    assert_eq!(attr(&out, "cloud.region"), Some("us-west-2"));
    assert_eq!(attr(&out, "host.name"), None, "not enabled");
    r.shutdown().await;
}

#[tokio::test]
async fn eks_elsewhere_sets_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = api_server(dir.path(), "v1.30.0").await;
    let vars = [("KUBERNETES_SERVICE_HOST", "10.100.0.1"), (eks::TEST_KUBECONFIG_VAR, kubeconfig.as_str())];
    let (p, r) = started("detectors: [eks]\n", env_of(&vars)).await;
    assert!(through(&p, &[]).0.is_empty(), "a cluster that is not EKS");
    r.shutdown().await;
    let (p, r) = started("detectors: [eks]\n", env_of(&[])).await;
    assert!(through(&p, &[]).0.is_empty(), "not on Kubernetes");
    r.shutdown().await;
}
