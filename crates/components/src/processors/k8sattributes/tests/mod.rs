//! The processor against the stand-in API server ([`crate::k8s::testserver`]): what a user checks is
//! the resource attributes their data leaves with.

mod graph;
mod service;

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_core::component::{Component, ComponentConfig, Host, Kind};
use switchyard_core::config;
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::ResourceSpans;
use switchyard_pdata::value::{as_string, str_value};

use super::{parts, K8sAttributesConfig, K8sAttributesProcessor, Watcher, BYTES_GAUGE, PODS_GAUGE};
use crate::k8s::testserver::{ApiServer, Kind as K};
use crate::k8s::{ApiConfig, AuthType};

fn parse(yaml: &str) -> K8sAttributesConfig {
    let node = config::parse("t.yaml", yaml).expect("yaml");
    config::from_node(&node, "k8sattributes").expect("config decodes")
}

/// A pod in the shape the API server returns it.
fn pod(ns: &str, name: &str, uid: &str, ip: &str) -> Value {
    json!({
        "metadata": {
            "name": name, "namespace": ns, "uid": uid,
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/version": "1.2", "pod-template-hash": "7d9f8b6c5", "team": "core"},
            "annotations": {"git.sha": "abc123", "other": "x"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{name}-rs-7d9f8b6c5"),
                                  "uid": format!("rs-{uid}"), "controller": true}]
        },
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "nginx:1.25"}]},
        "status": {
            "phase": "Running", "podIP": ip, "startTime": "2024-05-01T10:00:01Z",
            "containerStatuses": [{"name": "app", "image": "nginx:1.25", "imageID": "", "ready": true,
                                   "restartCount": 0, "containerID": format!("containerd://c-{uid}")}]
        }
    })
}

fn replicaset(ns: &str, name: &str, uid: &str, deployment: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": ns, "uid": uid,
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment, "uid": "dep-1", "controller": true}]}})
}

async fn start(
    server: &ApiServer,
    yaml: &str,
) -> (K8sAttributesProcessor, Watcher, switchyard_core::component::Settings) {
    let cfg = parse(yaml);
    assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
    let set = switchyard_core::testing::settings(Kind::Processor, "k8sattributes");
    let api = ApiConfig {
        auth_type: AuthType::KubeConfig,
        context: Some("stand-in".into()),
        kubeconfig: Some(server.kubeconfig.clone()),
    };
    let (p, w) = parts(&set, &cfg, api, Duration::ZERO).expect("builds");
    let w = w.expect("a watcher unless passthrough");
    w.start(&Host::default()).await.expect("starts");
    (p, w, set)
}

/// The resource attributes one resource leaves with, sent from `ip` with `given` attributes.
fn run(p: &K8sAttributesProcessor, ip: Option<&str>, given: &[(&str, &str)]) -> Vec<(String, String)> {
    let cx =
        RequestContext { client_addr: ip.map(|i| format!("{i}:4317").parse().expect("addr")), ..Default::default() };
    let attributes: Vec<KeyValue> = given
        .iter()
        .map(|(k, v)| KeyValue { key: k.to_string(), value: Some(str_value(*v)), ..Default::default() })
        .collect();
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes, ..Default::default() }),
            ..Default::default()
        }],
    };
    p.process_traces(&cx, &mut req).expect("processes");
    let res = req.resource_spans[0].resource.clone().unwrap_or_default();
    res.attributes.iter().map(|kv| (kv.key.clone(), as_string(attrs::value_of(kv)).into_owned())).collect()
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Polls `f` until it holds (the watch delivers asynchronously), at most 10 s.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

const KUBECONFIG: &str = "auth_type: kubeConfig\ncontext: stand-in\nwait_for_metadata: true\n";

#[tokio::test]
async fn a_pod_present_at_start_annotates_data_from_its_ip_and_by_its_k8s_pod_ip_attribute() {
    let server = ApiServer::start().await;
    server.apply(K::ReplicaSet, replicaset("shop", "web-rs-7d9f8b6c5", "rs-u1", "web"));
    server.apply(K::Pod, pod("shop", "web", "u1", "10.1.0.5"));
    let (p, w, set) = start(&server, KUBECONFIG).await;
    let from_conn = run(&p, Some("10.1.0.5"), &[("service.name", "checkout")]);
    let want = [
        ("service.name", "checkout"),
        ("k8s.pod.name", "web"),
        ("k8s.namespace.name", "shop"),
        ("k8s.pod.start_time", "2024-05-01T10:00:00Z"),
        ("k8s.pod.uid", "u1"),
        ("k8s.node.name", "node-1"),
        ("k8s.container.name", "app"),
        ("container.image.name", "docker.io/library/nginx"),
        ("container.image.tag", "1.25"),
        ("k8s.deployment.name", "web"),
    ];
    for (k, v) in want {
        assert_eq!(get(&from_conn, k), Some(v), "{k} in {from_conn:?}");
    }
    assert_eq!(from_conn.len(), want.len(), "{from_conn:?}");

    // By resource attribute, no connection; an attribute already set is kept.
    let by_attr = run(&p, None, &[("k8s.pod.ip", "10.1.0.5"), ("k8s.namespace.name", "given")]);
    assert_eq!(get(&by_attr, "k8s.pod.name"), Some("web"));
    assert_eq!(get(&by_attr, "k8s.namespace.name"), Some("given"));

    // The pod and replicaset watches ran; the client authenticated with the kubeconfig's token.
    eventually("the pod watch", || {
        server.requests().iter().any(|r| r.starts_with("/api/v1/pods?") && r.contains("watch=true"))
    })
    .await;
    let reqs = server.requests();
    assert!(reqs.iter().any(|r| r.starts_with("/api/v1/pods?") && r.contains("limit=500")), "{reqs:?}");
    assert!(reqs.iter().any(|r| r.starts_with("/apis/apps/v1/replicasets?")), "{reqs:?}");
    assert!(!reqs.iter().any(|r| r.starts_with("/api/v1/nodes")), "nodes are not watched unless needed: {reqs:?}");
    let m = &set.telemetry.metrics;
    assert_eq!(m.gauge(PODS_GAUGE, "", &[("processor", "k8sattributes")]).get(), 1);
    assert!(m.gauge(BYTES_GAUGE, "", &[("processor", "k8sattributes")]).get() > 100);
    w.shutdown().await;
}

#[tokio::test]
async fn a_pod_added_after_start_is_picked_up_and_a_deleted_pod_stops_matching() {
    let server = ApiServer::start().await;
    let (p, w, _) = start(&server, KUBECONFIG).await;
    assert_eq!(get(&run(&p, Some("10.1.0.9"), &[]), "k8s.pod.name"), None);

    server.apply(K::Pod, pod("shop", "late", "u9", "10.1.0.9"));
    eventually("the ADDED pod", || get(&run(&p, Some("10.1.0.9"), &[]), "k8s.pod.name") == Some("late")).await;
    // Without a known replicaset the deployment name comes from the pod-template-hash suffix.
    assert_eq!(get(&run(&p, Some("10.1.0.9"), &[]), "k8s.deployment.name"), Some("late-rs"));

    // MODIFIED with a new IP: the old IP no longer matches.
    server.apply(K::Pod, pod("shop", "late", "u9", "10.1.0.10"));
    eventually("the MODIFIED pod", || get(&run(&p, Some("10.1.0.10"), &[]), "k8s.pod.name") == Some("late")).await;
    assert_eq!(get(&run(&p, Some("10.1.0.9"), &[]), "k8s.pod.name"), None);

    server.delete(K::Pod, "shop", "late");
    eventually("the DELETED pod to stop matching", || run(&p, Some("10.1.0.10"), &[]).is_empty()).await;
    w.shutdown().await;
}

#[tokio::test]
async fn an_unknown_pod_leaves_the_data_unchanged() {
    let server = ApiServer::start().await;
    server.apply(K::Pod, pod("shop", "web", "u1", "10.1.0.5"));
    let (p, w, _) = start(&server, KUBECONFIG).await;
    let given = [("service.name", "x"), ("host.name", "db-1")];
    let out = run(&p, Some("10.9.9.9"), &given);
    assert_eq!(out, given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>());
    // Nor does data with no connection and no identifying attribute.
    assert_eq!(run(&p, None, &given).len(), 2);
    // A batch without a resource is not given an empty one.
    let mut req = ExportTraceServiceRequest { resource_spans: vec![ResourceSpans::default()] };
    let cx = RequestContext { client_addr: Some("10.9.9.9:1".parse().unwrap()), ..Default::default() };
    p.process_traces(&cx, &mut req).unwrap();
    assert_eq!(req.resource_spans[0].resource, None);
    w.shutdown().await;
}

#[tokio::test]
async fn labels_and_annotations_are_extracted_with_key_and_key_regex_from_pod_and_namespace() {
    let server = ApiServer::start().await;
    server.apply(K::Namespace, json!({"metadata": {"name": "shop", "uid": "ns-1", "labels": {"tier": "gold"}}}));
    server.apply(K::Namespace, json!({"metadata": {"name": "kube-system", "uid": "cluster-42"}}));
    server.apply(K::Pod, pod("shop", "web", "u1", "10.1.0.5"));
    // `$1` as the loader leaves it: a config file writes `$$1` (`$` escaped from expansion).
    let yaml = format!(
        "{KUBECONFIG}extract:\n  metadata: [k8s.pod.name, k8s.cluster.uid]\n  labels:\n    - tag_name: \"$1\"\n      key_regex: app.kubernetes.io/(.*)\n    - key: team\n    - tag_name: ns.tier\n      key: tier\n      from: namespace\n  annotations:\n    - tag_name: commit\n      key: git.sha\n"
    );
    let (p, w, _) = start(&server, &yaml).await;
    let out = run(&p, Some("10.1.0.5"), &[]);
    let want = [
        ("k8s.pod.name", "web"),
        ("name", "web"),
        ("version", "1.2"),
        ("k8s.pod.labels.team", "core"),
        ("commit", "abc123"),
        ("ns.tier", "gold"),
        ("k8s.cluster.uid", "cluster-42"),
    ];
    for (k, v) in want {
        assert_eq!(get(&out, k), Some(v), "{k} in {out:?}");
    }
    assert_eq!(out.len(), want.len(), "{out:?}");
    // An unknown pod in a known namespace still gets the namespace's attributes (not the pod's).
    let out = run(&p, Some("10.9.9.9"), &[("k8s.namespace.name", "shop")]);
    assert_eq!(out, vec![("k8s.namespace.name".into(), "shop".into()), ("ns.tier".into(), "gold".into())]);
    let reqs = server.requests();
    assert!(reqs.iter().any(|r| r.starts_with("/api/v1/namespaces?")), "{reqs:?}");
    assert!(!reqs.iter().any(|r| r.starts_with("/apis/apps/v1/")), "no deployment name asked: {reqs:?}");
    w.shutdown().await;
}

#[tokio::test]
async fn the_filter_is_sent_to_the_server_as_the_namespace_path_and_selectors() {
    let server = ApiServer::start().await;
    // The stand-in applies label selectors: in-a carries the `app=web` the filter asks for.
    let mut in_a = pod("team-a", "in-a", "ua", "10.2.0.1");
    in_a["metadata"]["labels"]["app"] = json!("web");
    server.apply(K::Pod, in_a);
    server.apply(K::Pod, pod("team-b", "in-b", "ub", "10.2.0.2"));
    let yaml = format!(
        "{KUBECONFIG}filter:\n  namespace: team-a\n  node: node-1\n  labels:\n    - key: app\n      value: web\n    - key: canary\n      op: does-not-exist\n  fields:\n    - key: status.phase\n      value: Pending\n      op: not-equals\n"
    );
    let (p, w, _) = start(&server, &yaml).await;
    let reqs = server.requests();
    let list = reqs.iter().find(|r| r.contains("/pods?") && !r.contains("watch=true")).expect("a pod list");
    assert!(list.starts_with("/api/v1/namespaces/team-a/pods?"), "{list}");
    assert!(list.contains("labelSelector=app%3Dweb%2C%21canary"), "{list}");
    assert!(list.contains("fieldSelector=status.phase%21%3DPending%2Cspec.nodeName%3Dnode-1"), "{list}");
    assert!(reqs.iter().any(|r| r.starts_with("/apis/apps/v1/namespaces/team-a/replicasets?")), "{reqs:?}");
    assert_eq!(get(&run(&p, Some("10.2.0.1"), &[]), "k8s.pod.name"), Some("in-a"));
    assert_eq!(get(&run(&p, Some("10.2.0.2"), &[]), "k8s.pod.name"), None);
    w.shutdown().await;
}

#[tokio::test]
async fn custom_associations_and_excluded_pods() {
    let server = ApiServer::start().await;
    server.apply(K::Pod, pod("shop", "web", "u1", "10.1.0.5"));
    server.apply(K::Pod, pod("shop", "jaeger-agent-x", "u2", "10.1.0.6"));
    let yaml = format!(
        "{KUBECONFIG}pod_association:\n  - sources:\n      - from: resource_attribute\n        name: k8s.namespace.name\n      - from: resource_attribute\n        name: k8s.pod.name\n"
    );
    let (p, w, _) = start(&server, &yaml).await;
    let out = run(&p, Some("10.9.9.9"), &[("k8s.namespace.name", "shop"), ("k8s.pod.name", "web")]);
    assert_eq!(get(&out, "k8s.pod.uid"), Some("u1"), "{out:?}");
    // Only one source present: the association does not apply.
    assert_eq!(get(&run(&p, None, &[("k8s.pod.name", "web")]), "k8s.pod.uid"), None);
    // jaeger-agent pods are excluded by default.
    let out = run(&p, None, &[("k8s.namespace.name", "shop"), ("k8s.pod.name", "jaeger-agent-x")]);
    assert_eq!(get(&out, "k8s.pod.uid"), None, "{out:?}");
    w.shutdown().await;
}

#[tokio::test]
async fn pipelines_of_one_processor_share_one_cache_and_the_last_shutdown_stops_the_watch() {
    let server = ApiServer::start().await;
    server.apply(K::Pod, pod("shop", "web", "u1", "10.1.0.5"));
    let cfg = parse(KUBECONFIG);
    let set = switchyard_core::testing::settings(Kind::Processor, "k8sattributes/shared");
    let api = ApiConfig {
        auth_type: AuthType::KubeConfig,
        context: Some("stand-in".into()),
        kubeconfig: Some(server.kubeconfig.clone()),
    };
    let (traces, wt) = parts(&set, &cfg, api.clone(), Duration::ZERO).expect("builds");
    let (logs, wl) = parts(&set, &cfg, api.clone(), Duration::ZERO).expect("builds");
    let (wt, wl) = (wt.expect("watcher"), wl.expect("watcher"));
    assert!(wt.shares_with(&wl));
    let other = parse(&format!("{KUBECONFIG}extract:\n  metadata: [k8s.pod.uid]\n"));
    let (_, wo) = parts(&set, &other, api, Duration::ZERO).expect("builds");
    assert!(!wt.shares_with(&wo.expect("watcher")), "another config gets its own cache");

    wt.start(&Host::default()).await.expect("starts");
    wl.start(&Host::default()).await.expect("starts");
    assert_eq!(get(&run(&logs, Some("10.1.0.5"), &[]), "k8s.pod.name"), Some("web"));
    let pod_watches =
        || server.requests().iter().filter(|r| r.starts_with("/api/v1/pods?") && r.contains("watch=true")).count();
    eventually("the pod watch", || pod_watches() == 1).await;

    // One pipeline stops: the other still sees new pods.
    wt.shutdown().await;
    server.apply(K::Pod, pod("shop", "new", "u2", "10.1.0.6"));
    eventually("the pod added after one shutdown", || {
        get(&run(&logs, Some("10.1.0.6"), &[]), "k8s.pod.name") == Some("new")
    })
    .await;
    assert_eq!(get(&run(&traces, Some("10.1.0.6"), &[]), "k8s.pod.name"), Some("new"), "same cache");
    assert_eq!(pod_watches(), 1, "one watch for both pipelines");
    wl.shutdown().await;
}

#[tokio::test]
async fn passthrough_only_adds_the_connection_ip() {
    let cfg = parse("passthrough: true\n");
    let set = switchyard_core::testing::settings(Kind::Processor, "k8sattributes");
    let (p, w) = parts(&set, &cfg, ApiConfig::default(), Duration::ZERO).expect("builds");
    assert!(w.is_none(), "passthrough needs no API access");
    assert_eq!(run(&p, Some("10.3.0.7"), &[]), vec![("k8s.pod.ip".to_string(), "10.3.0.7".to_string())]);
    assert_eq!(get(&run(&p, Some("10.3.0.7"), &[("k8s.pod.ip", "1.1.1.1")]), "k8s.pod.ip"), Some("1.1.1.1"));
}

#[tokio::test]
async fn start_fails_when_wait_for_metadata_times_out() {
    let server = ApiServer::start().await;
    // The context points at a closed port.
    let cfg = parse("auth_type: kubeConfig\nwait_for_metadata: true\nwait_for_metadata_timeout: 300ms\n");
    let set = switchyard_core::testing::settings(Kind::Processor, "k8sattributes");
    let api = ApiConfig { auth_type: AuthType::KubeConfig, context: None, kubeconfig: Some(server.kubeconfig.clone()) };
    let (_, w) = parts(&set, &cfg, api, Duration::ZERO).expect("builds");
    let w = w.expect("watcher");
    let err = w.start(&Host::default()).await.expect_err("times out");
    assert!(err.message.contains("wait_for_metadata_timeout"), "{err}");
    w.shutdown().await;
}

#[test]
fn config_errors_name_the_key_and_suggest() {
    let e = parse("extract:\n  metadata: [k8s.pod.name, k8s.pod.nmae]\n  labels:\n    - key: a\n      key_regex: b\n      from: pods\n")
        .validate();
    let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["extract::metadata::1", "extract::labels::0", "extract::labels::0::from"], "{e:?}");
    assert!(e[0].message.contains("did you mean \"k8s.pod.name\""), "{}", e[0].message);
    let e = parse("pod_association:\n  - sources:\n      - from: conection\n").validate();
    assert_eq!(e[0].field, "pod_association::0::sources::0::from");
    assert!(e[0].message.contains("did you mean \"connection\""), "{}", e[0].message);
    let names = parse("filter:\n  namespace: [a, b]\n").filter.namespace.names();
    assert_eq!(names, ["a", "b"]);
    let node = config::parse("t.yaml", "auth_type: serviceaccount\n").expect("yaml");
    assert!(config::from_node::<K8sAttributesConfig>(&node, "k8sattributes").is_err());
}
