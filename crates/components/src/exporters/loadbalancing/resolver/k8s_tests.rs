//! The `k8s` resolver against the stand-in API server ([`crate::k8s::testserver`]): what a
//! user checks is the backend list the exporter gets and the resolver's metrics.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};
use switchyard_core::component::{ComponentConfig, Kind, Settings};
use switchyard_core::config;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{parse_service, K8sResolver, SERVICE_NAME_LABEL};
use crate::exporters::loadbalancing::config::{K8sResolverConfig, LoadBalancingConfig};
use crate::exporters::loadbalancing::resolver::{from_config, Backends, Publisher, Resolver};
use crate::k8s::testserver::{ApiServer, Kind as K};
use crate::k8s::{ApiConfig, AuthType};

/// An endpoint as the EndpointSlice controller writes it; `ready: None` leaves
/// `conditions` out (the API says absent means ready).
fn ep(ip: &str, ready: Option<bool>, hostname: Option<&str>) -> Value {
    let mut e = json!({"addresses": [ip], "nodeName": "node-1",
        "targetRef": {"kind": "Pod", "namespace": "observability", "name": format!("pod-{ip}")}});
    if let Some(r) = ready {
        e["conditions"] = json!({"ready": r, "serving": r, "terminating": !r});
    }
    if let Some(h) = hostname {
        e["hostname"] = json!(h);
    }
    e
}

/// A slice of `service` in `ns` holding `endpoints`.
fn slice(ns: &str, name: &str, service: &str, endpoints: Vec<Value>) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns, "generateName": format!("{service}-"),
            "labels": {SERVICE_NAME_LABEL: service, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "otlp-grpc", "port": 4317, "protocol": "TCP"}]
    })
}

fn cfg(yaml: &str) -> K8sResolverConfig {
    let node = config::parse("t.yaml", &format!("resolver:\n  k8s:\n{yaml}")).expect("yaml");
    let lb: LoadBalancingConfig = config::from_node(&node, "loadbalancing").expect("config decodes");
    assert!(lb.validate().is_empty(), "{:?}", lb.validate());
    lb.resolver.k8s.expect("a k8s resolver")
}

struct Running {
    rx: watch::Receiver<Backends>,
    set: Settings,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn now(&self) -> Vec<String> {
        self.rx.borrow().to_vec()
    }

    /// Waits (at most 10 s) until the published list is `want`.
    async fn until(&mut self, want: &[&str]) {
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        let ok = tokio::time::timeout(Duration::from_secs(10), self.rx.wait_for(|l| **l == want)).await.is_ok();
        assert!(ok, "timed out waiting for {want:?}; have {:?}", self.now());
    }

    fn resolutions(&self, success: &str) -> u64 {
        let l = [("resolver", "k8s"), ("success", success)];
        self.set.telemetry.metrics.counter("otelcol_loadbalancer_num_resolutions", "", &l).get()
    }

    async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("the resolver task ends");
    }
}

fn api(server: &ApiServer) -> ApiConfig {
    ApiConfig {
        auth_type: AuthType::KubeConfig,
        context: Some("stand-in".into()),
        kubeconfig: Some(server.kubeconfig.clone()),
    }
}

fn start(server: &ApiServer, cfg: &K8sResolverConfig, ns_file: &Path) -> Running {
    let resolver = Arc::new(K8sResolver::with(cfg, api(server), ns_file).expect("builds"));
    let set = switchyard_core::testing::settings(Kind::Exporter, "loadbalancing");
    let (publisher, rx) = Publisher::new(&set, resolver.name());
    let stop = CancellationToken::new();
    let task = tokio::spawn(resolver.run(publisher, stop.clone()));
    Running { rx, set, stop, task }
}

const NO_NS_FILE: &str = "/nonexistent/serviceaccount/namespace";

#[tokio::test]
async fn ready_endpoints_of_the_services_slices_become_backends_and_leave_when_not_ready_or_deleted() {
    let server = ApiServer::start().await;
    let ns = "observability";
    server.apply(
        K::EndpointSlice,
        slice(ns, "tier2-abc", "tier2", vec![ep("10.0.0.2", Some(true), None), ep("10.0.0.1", None, None)]),
    );
    // Another Service's slice in the same namespace, and this Service's name in another namespace.
    server.apply(K::EndpointSlice, slice(ns, "other-xyz", "other", vec![ep("10.9.0.1", Some(true), None)]));
    server.apply(K::EndpointSlice, slice("elsewhere", "tier2-def", "tier2", vec![ep("10.8.0.1", Some(true), None)]));
    let mut r = start(&server, &cfg("    service: tier2.observability\n"), Path::new(NO_NS_FILE));
    r.until(&["10.0.0.1:4317", "10.0.0.2:4317"]).await;

    // A second slice of the Service (past 100 endpoints, or another address family) adds to the first.
    server.apply(K::EndpointSlice, slice(ns, "tier2-ghi", "tier2", vec![ep("10.0.0.3", Some(true), None)]));
    r.until(&["10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"]).await;

    // A pod that terminates is reported not ready while its address is still in the slice.
    server.apply(
        K::EndpointSlice,
        slice(ns, "tier2-abc", "tier2", vec![ep("10.0.0.2", Some(false), None), ep("10.0.0.1", None, None)]),
    );
    r.until(&["10.0.0.1:4317", "10.0.0.3:4317"]).await;

    server.delete(K::EndpointSlice, ns, "tier2-ghi");
    r.until(&["10.0.0.1:4317"]).await;

    // What was asked: the Service's slices in its namespace, by label, with the configured timeout.
    let reqs = server.requests();
    let watch = reqs.iter().find(|q| q.contains("watch=true")).expect("a watch");
    assert!(watch.starts_with("/apis/discovery.k8s.io/v1/namespaces/observability/endpointslices?"), "{watch}");
    assert!(watch.contains("labelSelector=kubernetes.io%2Fservice-name%3Dtier2"), "{watch}");
    assert!(watch.contains("timeoutSeconds=1"), "{watch}");
    r.stop().await;
}

#[tokio::test]
async fn two_ports_give_two_backends_per_endpoint_and_ipv6_is_bracketed() {
    let server = ApiServer::start().await;
    let mut v6 = slice("default", "lb-v6", "lb", vec![ep("fd00::5", Some(true), None)]);
    v6["addressType"] = json!("IPv6");
    server.apply(K::EndpointSlice, slice("default", "lb-v4", "lb", vec![ep("10.0.0.5", Some(true), None)]));
    server.apply(K::EndpointSlice, v6);
    let mut r = start(&server, &cfg("    service: lb.default\n    ports: [4317, 55690]\n"), Path::new(NO_NS_FILE));
    r.until(&["10.0.0.5:4317", "10.0.0.5:55690", "[fd00::5]:4317", "[fd00::5]:55690"]).await;
    r.stop().await;
}

#[tokio::test]
async fn return_hostnames_gives_pod_service_namespace_names_and_counts_an_endpoint_without_one() {
    let server = ApiServer::start().await;
    let ns = "observability";
    let eps = vec![
        ep("10.0.0.1", Some(true), Some("switchyard-tier2-0")),
        ep("10.0.0.2", Some(true), Some("switchyard-tier2-1")),
        ep("10.0.0.3", Some(false), Some("switchyard-tier2-2")),
    ];
    server.apply(K::EndpointSlice, slice(ns, "t2-a", "switchyard-tier2", eps));
    let yaml = "    service: switchyard-tier2.observability.svc.cluster.local\n    return_hostnames: true\n";
    let mut r = start(&server, &cfg(yaml), Path::new(NO_NS_FILE));
    r.until(&[
        "switchyard-tier2-0.switchyard-tier2.observability:4317",
        "switchyard-tier2-1.switchyard-tier2.observability:4317",
    ])
    .await;
    assert_eq!(r.resolutions("false"), 0);

    // A new pod shows up before its hostname is set: left out, counted as a failed resolution.
    let eps = vec![ep("10.0.0.1", Some(true), Some("switchyard-tier2-0")), ep("10.0.0.4", Some(true), None)];
    server.apply(K::EndpointSlice, slice(ns, "t2-a", "switchyard-tier2", eps));
    r.until(&["switchyard-tier2-0.switchyard-tier2.observability:4317"]).await;
    assert!(r.resolutions("false") >= 1);
    r.stop().await;
}

#[tokio::test]
async fn without_a_namespace_the_gateways_own_is_used_else_default() {
    let server = ApiServer::start().await;
    server.apply(K::EndpointSlice, slice("team-a", "lb-1", "lb", vec![ep("10.1.0.1", Some(true), None)]));
    server.apply(K::EndpointSlice, slice("default", "lb-2", "lb", vec![ep("10.2.0.1", Some(true), None)]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("namespace");
    std::fs::write(&file, "team-a").unwrap();

    let mut r = start(&server, &cfg("    service: lb\n"), &file);
    r.until(&["10.1.0.1:4317"]).await;
    r.stop().await;

    let mut r = start(&server, &cfg("    service: lb\n"), Path::new(NO_NS_FILE));
    r.until(&["10.2.0.1:4317"]).await;
    r.stop().await;
    let k = K8sResolver::with(&cfg("    service: lb\n"), ApiConfig::default(), Path::new(NO_NS_FILE)).unwrap();
    assert_eq!(k.namespace(), "default");
}

#[tokio::test]
async fn resolutions_are_counted_on_changes_and_a_failing_api_keeps_the_list_then_recovers() {
    let server = ApiServer::start().await;
    let ns = "default";
    server.apply(K::EndpointSlice, slice(ns, "lb-1", "lb", vec![ep("10.0.0.1", Some(true), None)]));
    let mut r = start(&server, &cfg("    service: lb\n"), Path::new(NO_NS_FILE));
    r.until(&["10.0.0.1:4317"]).await;
    assert_eq!(r.resolutions("true"), 1);

    // A change to the slice that changes no backend is no resolution (the watch re-opens
    // every second meanwhile: that is no resolution either).
    let mut same = slice(ns, "lb-1", "lb", vec![ep("10.0.0.1", Some(true), None)]);
    same["metadata"]["annotations"] = json!({"touched": "yes"});
    server.apply(K::EndpointSlice, same);
    server.apply(K::EndpointSlice, slice(ns, "lb-2", "lb", vec![ep("10.0.0.2", Some(true), None)]));
    r.until(&["10.0.0.1:4317", "10.0.0.2:4317"]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(r.resolutions("true"), 2);

    // The API refuses (RBAC removed): each failed call is counted, the list stays.
    server.refuse(Some(StatusCode::FORBIDDEN));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while r.resolutions("false") < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(r.resolutions("false") >= 2, "failed calls counted: {}", r.resolutions("false"));
    assert_eq!(r.now(), ["10.0.0.1:4317", "10.0.0.2:4317"]);

    // A change while the API refuses is seen once it answers again (re-watch with backoff).
    server.delete(K::EndpointSlice, ns, "lb-1");
    server.refuse(None);
    r.until(&["10.0.0.2:4317"]).await;
    assert_eq!(r.resolutions("true"), 3);
    r.stop().await;
}

#[test]
fn service_forms_are_the_collectors() {
    assert_eq!(parse_service("lb"), Ok(("lb", None)));
    assert_eq!(parse_service("lb.kube-public"), Ok(("lb", Some("kube-public"))));
    assert_eq!(parse_service("lb.custom.svc.cluster.local"), Ok(("lb", Some("custom"))));
    for bad in ["lb.kube-public.foo.bar", "lb.kube-public.svc", "lb..x", ".lb"] {
        assert!(parse_service(bad).is_err(), "{bad}");
    }
    // The error reaches `validate` with its key path; `kubernetes` is an alias of `k8s`.
    let node = config::parse("t.yaml", "resolver:\n  kubernetes:\n    service: a.b.c\n").expect("yaml");
    let lb: LoadBalancingConfig = config::from_node(&node, "loadbalancing").expect("decodes");
    let e = lb.validate();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].field, "resolver::k8s::service");
    assert!(e[0].message.contains("name.namespace"), "{}", e[0].message);
    // Built outside a cluster: the client is made when the resolver runs, not at build.
    let node = config::parse("t.yaml", "resolver:\n  k8s:\n    service: lb.x\n").expect("yaml");
    let lb: LoadBalancingConfig = config::from_node(&node, "loadbalancing").expect("decodes");
    assert_eq!(from_config(&lb.resolver).expect("builds").name(), "k8s");
}
