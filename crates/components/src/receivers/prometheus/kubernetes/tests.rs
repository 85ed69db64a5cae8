//! Kubernetes SD: the labels of every role against Prometheus's (`discovery/kubernetes/*_test.go`
//! shapes), relabeling of public configs over them, config checks, and discovery against the
//! stand-in API server ([`crate::k8s::testserver`]): objects appear, change and disappear.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::targets::{endpoints_targets, endpointslice_targets, node_targets, pod_targets, service_targets, Objects};
use super::{KubernetesDiscovery, KubernetesSdConfig};
use crate::k8s::testserver::{ApiServer, Kind};
use crate::receivers::prometheus::discovery::{targets, TargetGroup};
use crate::receivers::prometheus::promconfig::{GlobalConfig, ScrapeConfig};
use crate::receivers::prometheus::relabel::{Labels, Rule};

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn pod_json(name: &str, ip: &str, port: u16, annotations: Value) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
            "labels": {"app": name, "app.kubernetes.io/name": "x"}, "annotations": annotations,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs-1", "uid": "u", "controller": true}]},
        "spec": {"nodeName": "node-1",
            "containers": [
                {"name": "app", "image": "app:1", "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}]},
                {"name": "sidecar", "image": "side:1"}],
            "initContainers": [{"name": "init", "image": "init:1"}]},
        "status": {"podIP": ip, "hostIP": "10.1.0.1", "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "containerID": "containerd://abc", "image": "app:1", "imageID": "",
                "ready": true, "restartCount": 0}]}
    })
}

fn pod(name: &str, ip: &str, port: u16) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(pod_json(name, ip, port, json!({"prometheus.io/scrape": "true"}))).unwrap()
}

#[test]
fn pod_role_labels_are_prometheus_s() {
    let ts = pod_targets(&pod("web-0", "10.0.0.5", 8080));
    assert_eq!(ts.len(), 3, "a port target, a portless container and the init container: {ts:#?}");
    let want = labels(&[
        ("__address__", "10.0.0.5:8080"),
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_pod_name", "web-0"),
        ("__meta_kubernetes_pod_ip", "10.0.0.5"),
        ("__meta_kubernetes_pod_ready", "true"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "node-1"),
        ("__meta_kubernetes_pod_host_ip", "10.1.0.1"),
        ("__meta_kubernetes_pod_uid", "uid-web-0"),
        ("__meta_kubernetes_pod_label_app", "web-0"),
        ("__meta_kubernetes_pod_labelpresent_app", "true"),
        ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "x"),
        ("__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name", "true"),
        ("__meta_kubernetes_pod_annotation_prometheus_io_scrape", "true"),
        ("__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape", "true"),
        ("__meta_kubernetes_pod_controller_kind", "ReplicaSet"),
        ("__meta_kubernetes_pod_controller_name", "rs-1"),
        ("__meta_kubernetes_pod_container_name", "app"),
        ("__meta_kubernetes_pod_container_id", "containerd://abc"),
        ("__meta_kubernetes_pod_container_image", "app:1"),
        ("__meta_kubernetes_pod_container_init", "false"),
        ("__meta_kubernetes_pod_container_port_name", "http"),
        ("__meta_kubernetes_pod_container_port_number", "8080"),
        ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
    ]);
    assert_eq!(ts[0], want);
    assert_eq!(ts[1]["__address__"], "10.0.0.5", "a container without ports is the pod IP alone");
    assert_eq!(ts[1]["__meta_kubernetes_pod_container_name"], "sidecar");
    assert!(!ts[1].contains_key("__meta_kubernetes_pod_container_port_number"));
    assert_eq!(ts[2]["__meta_kubernetes_pod_container_init"], "true");
    let mut no_ip = pod("web-1", "", 8080);
    assert!(pod_targets(&no_ip).is_empty(), "a pod without an IP has no targets");
    no_ip.status = None;
    assert!(pod_targets(&no_ip).is_empty());
}

fn service() -> k8s_openapi::api::core::v1::Service {
    serde_json::from_value(json!({
        "metadata": {"name": "redis", "namespace": "db", "labels": {"tier": "cache"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9121"}},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10", "ports": [{"name": "redis", "port": 6379, "protocol": "TCP"}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"ip": "1.2.3.5"}]}}
    }))
    .unwrap()
}

#[test]
fn service_role_labels_and_address() {
    let ts = service_targets(&service());
    assert_eq!(ts.len(), 1);
    let t = &ts[0];
    assert_eq!(t["__address__"], "redis.db.svc:6379");
    assert_eq!(t["__meta_kubernetes_service_name"], "redis");
    assert_eq!(t["__meta_kubernetes_namespace"], "db");
    assert_eq!(t["__meta_kubernetes_service_port_name"], "redis");
    assert_eq!(t["__meta_kubernetes_service_port_number"], "6379");
    assert_eq!(t["__meta_kubernetes_service_port_protocol"], "TCP");
    assert_eq!(t["__meta_kubernetes_service_type"], "LoadBalancer");
    assert_eq!(t["__meta_kubernetes_service_cluster_ip"], "10.96.0.10");
    assert_eq!(t["__meta_kubernetes_service_loadbalancer_ip"], "1.2.3.4,1.2.3.5");
    assert_eq!(t["__meta_kubernetes_service_label_tier"], "cache");
    assert_eq!(t["__meta_kubernetes_service_annotation_prometheus_io_port"], "9121");
}

#[test]
fn node_role_prefers_the_internal_ip_and_sets_instance() {
    let n = serde_json::from_value(json!({
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/os": "linux"}},
        "spec": {"providerID": "aws:///i-1"},
        "status": {"addresses": [{"type": "Hostname", "address": "ip-10-0-0-1"}, {"type": "InternalIP", "address": "10.0.0.1"},
                {"type": "InternalIP", "address": "10.0.0.2"}],
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "False"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}
    }))
    .unwrap();
    let ts = node_targets(&n);
    let want = labels(&[
        ("__address__", "10.0.0.1:10250"),
        ("instance", "node-1"),
        ("__meta_kubernetes_node_name", "node-1"),
        ("__meta_kubernetes_node_provider_id", "aws:///i-1"),
        ("__meta_kubernetes_node_label_kubernetes_io_os", "linux"),
        ("__meta_kubernetes_node_labelpresent_kubernetes_io_os", "true"),
        ("__meta_kubernetes_node_address_InternalIP", "10.0.0.1"),
        ("__meta_kubernetes_node_address_Hostname", "ip-10-0-0-1"),
        ("__meta_kubernetes_node_condition_ready", "true"),
        ("__meta_kubernetes_node_condition_diskpressure", "false"),
    ]);
    assert_eq!(ts, vec![want]);
}

fn objects<K>(items: Vec<K>, key: impl Fn(&K) -> String) -> Objects<K> {
    items.into_iter().map(|k| (key(&k), k)).collect()
}

#[test]
fn endpoints_role_joins_service_and_pod_and_adds_uncovered_pod_ports() {
    let mut p = pod("redis-0", "10.0.0.7", 6379);
    p.metadata.namespace = Some("db".into());
    if let Some(spec) = p.spec.as_mut() {
        spec.containers[1].ports =
            Some(vec![serde_json::from_value(json!({"containerPort": 9121, "name": "metrics"})).unwrap()]);
    }
    let pods = objects(vec![p], |p| format!("db/{}", p.metadata.name.clone().unwrap()));
    let services = objects(vec![service()], |_| "db/redis".to_string());
    let eps = serde_json::from_value(json!({
        "metadata": {"name": "redis", "namespace": "db", "labels": {"l": "v"}},
        "subsets": [{
            "addresses": [{"ip": "10.0.0.7", "nodeName": "node-1", "targetRef": {"kind": "Pod", "name": "redis-0", "namespace": "db"}}],
            "notReadyAddresses": [{"ip": "10.0.0.8", "hostname": "h8"}],
            "ports": [{"name": "redis", "port": 6379, "protocol": "TCP"}]}]
    }))
    .unwrap();
    let ts = endpoints_targets(&eps, &services, &pods);
    assert_eq!(ts.len(), 3, "{ts:#?}");
    let t = &ts[0];
    assert_eq!(t["__address__"], "10.0.0.7:6379");
    assert_eq!(t["__meta_kubernetes_endpoints_name"], "redis");
    assert_eq!(t["__meta_kubernetes_endpoints_label_l"], "v");
    assert_eq!(t["__meta_kubernetes_endpoint_ready"], "true");
    assert_eq!(t["__meta_kubernetes_endpoint_port_name"], "redis");
    assert_eq!(t["__meta_kubernetes_endpoint_port_protocol"], "TCP");
    assert_eq!(t["__meta_kubernetes_endpoint_node_name"], "node-1");
    assert_eq!(t["__meta_kubernetes_endpoint_address_target_kind"], "Pod");
    assert_eq!(t["__meta_kubernetes_endpoint_address_target_name"], "redis-0");
    assert_eq!(t["__meta_kubernetes_service_annotation_prometheus_io_scrape"], "true");
    assert_eq!(t["__meta_kubernetes_pod_name"], "redis-0");
    assert_eq!(t["__meta_kubernetes_pod_container_name"], "app");
    assert_eq!(t["__meta_kubernetes_pod_container_port_number"], "6379");
    let nr = &ts[1];
    assert_eq!(nr["__address__"], "10.0.0.8:6379");
    assert_eq!(nr["__meta_kubernetes_endpoint_ready"], "false");
    assert_eq!(nr["__meta_kubernetes_endpoint_hostname"], "h8");
    assert!(!nr.contains_key("__meta_kubernetes_pod_name"));
    let extra = &ts[2];
    assert_eq!(extra["__address__"], "10.0.0.7:9121", "the pod's port no endpoint covers");
    assert_eq!(extra["__meta_kubernetes_pod_container_name"], "sidecar");
    assert_eq!(extra["__meta_kubernetes_service_name"], "redis");
    assert!(!extra.contains_key("__meta_kubernetes_endpoint_port_name"));

    // Public config 28 (aws-otel-collector, kubernetes-service-endpoints): keep by the
    // service's scrape annotation, the port from its port annotation, service labels mapped.
    let sc: ScrapeConfig = {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/conformance/configs/28-aws-eks-prometheus-emf-dollar-escape.yaml"
        ));
        match text {
            Ok(t) => {
                let node = switchyard_core::config::parse("28.yaml", &t.replace("$$", "$")).unwrap();
                let sc = &node_at(&node, &["receivers", "prometheus", "config", "scrape_configs"]);
                switchyard_core::config::from_node::<Vec<ScrapeConfig>>(sc, "s").unwrap().remove(0)
            }
            Err(_) => {
                eprintln!("skipped the public config part: the conformance configs are not here");
                return;
            }
        }
    };
    let rules = Rule::compile_all(&sc.relabel_configs).unwrap();
    let groups: Vec<TargetGroup> = ts.into_iter().map(super::group).collect();
    let got = targets(&sc, &GlobalConfig::default(), &rules, &groups);
    let addrs: Vec<&str> = got.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(addrs, ["http://10.0.0.7:9121/metrics", "http://10.0.0.8:9121/metrics", "http://10.0.0.7:9121/metrics"]);
    let l = &got[0].labels;
    assert_eq!(l["Namespace"], "db");
    assert_eq!(l["Service"], "redis");
    assert_eq!(l["tier"], "cache", "labelmap of the service labels");
    assert_eq!(l["pod_name"], "redis-0");
    assert_eq!(l["kubernetes_node"], "node-1");
    assert_eq!(l["container_name"], "app");
    assert_eq!(l["instance"], "10.0.0.7:9121");
    assert_eq!(l["job"], "kubernetes-service-endpoints");
}

fn node_at(node: &switchyard_core::config::Node, path: &[&str]) -> switchyard_core::config::Node {
    let mut n = node.clone();
    for p in path {
        let switchyard_core::config::Value::Map(m) = &n.value else { panic!("not a map at {p}") };
        n = m.get(*p).unwrap().node.clone();
    }
    n
}

#[test]
fn endpointslice_role_labels() {
    let pods = objects(vec![pod("web-0", "10.0.0.5", 8080)], |_| "default/web-0".to_string());
    let es = serde_json::from_value(json!({
        "metadata": {"name": "web-abc", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.5"], "conditions": {"ready": true, "serving": true, "terminating": false},
            "nodeName": "node-1", "zone": "a", "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "default"}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "appProtocol": "http"}]
    }))
    .unwrap();
    let ts = endpointslice_targets(&es, &Objects::new(), &pods);
    assert_eq!(ts.len(), 1, "{ts:#?}");
    let t = &ts[0];
    for (k, v) in [
        ("__address__", "10.0.0.5:8080"),
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_endpointslice_name", "web-abc"),
        ("__meta_kubernetes_endpointslice_address_type", "IPv4"),
        ("__meta_kubernetes_endpointslice_port", "8080"),
        ("__meta_kubernetes_endpointslice_port_name", "http"),
        ("__meta_kubernetes_endpointslice_port_protocol", "TCP"),
        ("__meta_kubernetes_endpointslice_port_app_protocol", "http"),
        ("__meta_kubernetes_endpointslice_endpoint_conditions_ready", "true"),
        ("__meta_kubernetes_endpointslice_endpoint_conditions_serving", "true"),
        ("__meta_kubernetes_endpointslice_endpoint_conditions_terminating", "false"),
        ("__meta_kubernetes_endpointslice_endpoint_node_name", "node-1"),
        ("__meta_kubernetes_endpointslice_endpoint_zone", "a"),
        ("__meta_kubernetes_endpointslice_address_target_kind", "Pod"),
        ("__meta_kubernetes_endpointslice_address_target_name", "web-0"),
        ("__meta_kubernetes_pod_name", "web-0"),
        ("__meta_kubernetes_pod_container_name", "app"),
        ("__meta_kubernetes_pod_container_port_name", "http"),
    ] {
        assert_eq!(t.get(k).map(String::as_str), Some(v), "{k}");
    }
}

fn sd(yaml: &str) -> KubernetesSdConfig {
    let node = switchyard_core::config::parse("t.yaml", yaml).unwrap();
    switchyard_core::config::from_node(&node, "k").unwrap()
}

fn sd_errors(yaml: &str) -> String {
    let mut e = Vec::new();
    sd(yaml).validate("k", &mut e);
    e.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n")
}

#[test]
fn config_checks_are_prometheus_s() {
    assert_eq!(sd_errors("role: endpoints\nnamespaces: {names: [a]}\nselectors: [{role: pod, label: 'a=b'}]\n"), "");
    assert!(sd_errors("{}").contains("k::role: role missing"));
    assert!(sd_errors("role: pods").contains("unknown Kubernetes SD role \"pods\""));
    let e = sd_errors("role: pod\napi_server: http://a\nkubeconfig_file: /k\n");
    assert!(e.contains("cannot use 'kubeconfig_file' and 'api_server' simultaneously"), "{e}");
    let e = sd_errors("role: pod\nbearer_token: t\n");
    assert!(e.contains("please provide the 'api_server' URL explicitly"), "{e}");
    let e = sd_errors("role: pod\napi_server: http://a\nnamespaces: {own_namespace: true}\n");
    assert!(e.contains("cannot use 'api_server' and 'namespaces.own_namespace' simultaneously"), "{e}");
    let e = sd_errors("role: node\nselectors: [{role: pod, label: a=b}]\n");
    assert!(e.contains("k::selectors::0::role: node role supports only node selectors"), "{e}");
    let e = sd_errors("role: pod\nselectors: [{role: pod}, {role: pod}]\n");
    assert!(e.contains("duplicated selector role: pod"), "{e}");
    let e = sd_errors("role: pod\nattach_metadata: {node: true}\n");
    assert!(e.contains("k::attach_metadata::node: attach_metadata is not supported yet"), "{e}");
    let e = sd_errors("role: pod\napi_server: 'ftp://x'\n");
    assert!(e.contains("not an http or https URL"), "{e}");
    let node = switchyard_core::config::parse("t.yaml", "role: pod\nrefresh_interval: 5s\n").unwrap();
    assert!(switchyard_core::config::from_node::<KubernetesSdConfig>(&node, "k").is_err(), "unknown keys are refused");
}

async fn wait_for(d: &KubernetesDiscovery, what: &str, f: impl Fn(&[TargetGroup]) -> bool) -> Vec<TargetGroup> {
    for _ in 0..100 {
        let g = d.groups();
        if f(&g) {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}: {:#?}", d.groups());
}

fn addrs(gs: &[TargetGroup]) -> Vec<String> {
    let mut v: Vec<String> = gs.iter().flat_map(|g| g.targets.clone()).collect();
    v.sort();
    v.dedup();
    v
}

/// Against the stand-in API server: the watch sees pods appear, change and go; only the
/// listed namespace is watched; the selector is sent; the token is the configured one.
#[tokio::test]
async fn discovery_follows_the_api_server() {
    let api = ApiServer::start().await;
    api.apply(Kind::Pod, pod_json("a", "10.0.0.1", 80, json!({})));
    let mut other = pod_json("b", "10.0.0.2", 80, json!({}));
    other["metadata"]["namespace"] = json!("kube-system");
    api.apply(Kind::Pod, other);
    let cfg = sd(&format!(
        "role: pod\napi_server: {}\nauthorization: {{credentials: test-token}}\nnamespaces: {{names: [default]}}\n\
         selectors: [{{role: pod, label: 'app!=skip'}}]\n",
        api.url
    ));
    let changed = Arc::new(Notify::new());
    let stop = CancellationToken::new();
    let d = KubernetesDiscovery::start(&cfg, changed.clone(), stop.clone()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), changed.notified()).await.expect("a change is notified");
    let gs = wait_for(&d, "pod a", |g| addrs(g) == ["10.0.0.1", "10.0.0.1:80"]).await;
    assert!(gs.iter().all(|g| g.labels["__meta_kubernetes_namespace"] == "default"), "kube-system is not watched");
    api.apply(Kind::Pod, pod_json("c", "10.0.0.3", 81, json!({})));
    wait_for(&d, "pod c added", |g| addrs(g).contains(&"10.0.0.3:81".to_string())).await;
    api.apply(Kind::Pod, pod_json("a", "10.0.0.9", 80, json!({})));
    wait_for(&d, "pod a moved", |g| {
        addrs(g).contains(&"10.0.0.9:80".to_string()) && !addrs(g).contains(&"10.0.0.1:80".to_string())
    })
    .await;
    api.delete(Kind::Pod, "default", "c");
    wait_for(&d, "pod c deleted", |g| !addrs(g).iter().any(|a| a.starts_with("10.0.0.3"))).await;
    let reqs = api.requests();
    assert!(reqs.iter().all(|r| r.starts_with("/api/v1/namespaces/default/pods")), "{reqs:?}");
    assert!(
        reqs.iter().any(|r| r.contains("labelSelector=app%21%3Dskip")
            || r.contains("labelSelector=app!%3Dskip")
            || r.contains("labelSelector=app!=skip")),
        "{reqs:?}"
    );
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), d.stopped()).await.expect("the watches end on stop");
}

/// A wrong token: the watch retries (no targets, no panic), as Prometheus keeps retrying.
#[tokio::test]
async fn a_refused_token_finds_nothing() {
    let api = ApiServer::start().await;
    api.apply(Kind::Pod, pod_json("a", "10.0.0.1", 80, json!({})));
    let cfg = sd(&format!("role: pod\napi_server: {}\nbearer_token: wrong\n", api.url));
    let stop = CancellationToken::new();
    let d = KubernetesDiscovery::start(&cfg, Arc::new(Notify::new()), stop.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(d.groups().is_empty());
    assert!(!api.requests().is_empty(), "the API server was asked");
    stop.cancel();
}
