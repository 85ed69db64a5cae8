//! The `prometheus` receiver's `kubernetes_sd_configs` end to end: the stand-in Kubernetes API
//! server (the components crate's, included below: the real list/watch protocol on a real
//! socket) lists pods whose IP is 127.0.0.1 and whose annotations point at real targets: a
//! real Prometheus's own `/metrics` and the gateway's self-metrics. The gateway discovers
//! them with `role: pod`, keeps only the pods annotated `prometheus.io/scrape: "true"`, takes
//! the port from `prometheus.io/port`, sets `job` from the `app` label and `instance` from
//! the pod name, and exports over OTLP to the Python sink. A pod then appears and another
//! disappears, and the gateway scrapes exactly the discovered targets.

mod support;

#[allow(dead_code, clippy::unwrap_used)]
#[path = "../crates/components/src/k8s/testserver.rs"]
mod testserver;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use support::backends::Backend;
use support::scraped::{find, seen, Seen};
use support::{free_port, wait_until, Gateway, Sink};
use testserver::{ApiServer, Kind};

fn pod(name: &str, app: &str, container_port: u16, annotations: Value) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "apps", "uid": format!("uid-{name}"), "labels": {"app": app},
            "annotations": annotations},
        "spec": {"nodeName": "node-1",
            "containers": [{"name": "main", "image": "img:1",
                "ports": [{"name": "http", "containerPort": container_port, "protocol": "TCP"}]}]},
        "status": {"podIP": "127.0.0.1", "hostIP": "127.0.0.1", "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

/// (job, instance) pairs that sent an `up` sample since `from` (the sink's request index).
fn scraped_since(all: &[Seen], from: usize) -> BTreeSet<(String, String)> {
    all[from.min(all.len())..]
        .iter()
        .filter(|s| s.metric["name"] == "up")
        .map(|s| (s.job.clone(), s.instance.clone()))
        .collect()
}

fn pair(job: &str, instance: &str) -> (String, String) {
    (job.to_string(), instance.to_string())
}

#[test]
fn discovers_scrapes_and_follows_pods() {
    let prom = Backend::start("prometheus", &[]);
    let prom_port: u16 = prom.url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).expect("port");
    let sink = Sink::start(&[]);
    let self_port = free_port();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let api = rt.block_on(ApiServer::start());

    // prom-0: scraped on its annotated port (the container port is a decoy).
    api.apply(
        Kind::Pod,
        pod(
            "prom-0",
            "prometheus",
            1,
            json!({"prometheus.io/scrape": "true", "prometheus.io/port": prom_port.to_string()}),
        ),
    );
    // quiet-0: no scrape annotation, so never scraped even though its port is live.
    api.apply(Kind::Pod, pod("quiet-0", "quiet", prom_port, json!({})));
    // elsewhere-0: in a namespace that is not watched.
    let mut elsewhere = pod("elsewhere-0", "elsewhere", prom_port, json!({"prometheus.io/scrape": "true"}));
    elsewhere["metadata"]["namespace"] = json!("other");
    api.apply(Kind::Pod, elsewhere);

    let cfg = format!(
        r#"
receivers:
  prometheus:
    config:
      scrape_configs:
        - job_name: kubernetes-pods
          scrape_interval: 1s
          kubernetes_sd_configs:
            - role: pod
              api_server: {api_url}
              authorization: {{credentials: test-token}}
              namespaces: {{names: [apps]}}
          relabel_configs:
            - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
              action: keep
              regex: true
            - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
              action: replace
              regex: ([^:]+)(?::\d+)?;(\d+)
              replacement: $$1:$$2
              target_label: __address__
            - source_labels: [__meta_kubernetes_pod_label_app]
              target_label: job
            - source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_name]
              separator: /
              target_label: instance
            - action: labelmap
              regex: __meta_kubernetes_pod_(node_name|phase)
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{self_port}
  pipelines:
    metrics:
      receivers: [prometheus]
      exporters: [otlp]
"#,
        api_url = api.url,
        sink = sink.grpc_endpoint(),
    );
    let gw = Gateway::start(&cfg, self_port);

    // The annotated pod is found and scraped with the relabelled job and instance.
    let ok = wait_until(Duration::from_secs(30), || {
        find(&seen(&sink), "prometheus", "prometheus_http_requests_total").len() >= 2
    });
    assert!(ok, "the discovered Prometheus was not scraped:\n{}", gw.logs());
    let all = seen(&sink);
    let reqs = find(&all, "prometheus", "prometheus_http_requests_total");
    assert_eq!(reqs[0].instance, "apps/prom-0", "instance relabelled from namespace/pod");
    let keys: Vec<&str> = reqs[0].metric["sum"]["dataPoints"][0]["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .filter_map(|kv| kv["key"].as_str())
        .collect();
    assert!(keys.contains(&"node_name") && keys.contains(&"phase"), "labelmap of pod metadata: {keys:?}");
    let jobs: BTreeSet<String> = all.iter().map(|s| s.job.clone()).collect();
    assert_eq!(jobs, BTreeSet::from(["prometheus".to_string()]), "only the annotated pod in the watched namespace");

    // A pod appears (the gateway's own self-metrics) and the first disappears.
    api.apply(
        Kind::Pod,
        pod(
            "gw-0",
            "switchyard",
            2,
            json!({"prometheus.io/scrape": "true", "prometheus.io/port": self_port.to_string()}),
        ),
    );
    let ok = wait_until(Duration::from_secs(20), || {
        !find(&seen(&sink), "switchyard", "otelcol_exporter_sent_metric_points").is_empty()
    });
    assert!(ok, "the new pod was not scraped:\n{}", gw.logs());
    api.delete(Kind::Pod, "apps", "prom-0");

    // After the deletion settles, three seconds of scrapes come from gw-0 alone.
    std::thread::sleep(Duration::from_secs(3));
    let from = seen(&sink).len();
    std::thread::sleep(Duration::from_secs(3));
    let recent = scraped_since(&seen(&sink), from);
    assert_eq!(recent, BTreeSet::from([pair("switchyard", "apps/gw-0")]), "exactly the discovered targets");
    // The removed target's series were marked stale (no recorded value) when it went.
    let stale = find(&seen(&sink), "prometheus", "up").into_iter().any(|s| {
        let p = &s.metric["gauge"]["dataPoints"][0];
        p["flags"] == 1 && p.get("asDouble").is_none()
    });
    assert!(stale, "prom-0's up was marked stale");
    let paths = api.requests();
    assert!(paths.iter().all(|p| p.starts_with("/api/v1/namespaces/apps/pods")), "{paths:?}");
    drop(gw);
    drop(rt);
}
