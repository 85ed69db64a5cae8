//! A service graph from real spans: the OpenTelemetry Python SDK (a client service
//! calling a server service, known latencies, some failures, and calls to an outside
//! service that never answers) → Switchyard → `servicegraph` (spelled `service_graph`) →
//! `prometheusremotewrite` → a real Prometheus, read back with the PromQL Grafana's
//! service map runs; the unpaired calls show in the self-metrics and as a virtual node.

mod support;

use std::time::Duration;

use support::backends::{promql, promql_until, Backend, PromSample};
use support::{free_port, red_client, wait_until, Gateway};

fn value(samples: &[PromSample], what: &str) -> f64 {
    assert_eq!(samples.len(), 1, "{what}: expected one series, got {samples:?}");
    samples[0].value
}

#[test]
fn the_edge_between_two_services_its_failures_and_latencies_are_queryable() {
    let prom = Backend::start("prometheus", &[]);
    let grpc = free_port();
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
connectors:
  service_graph:
    metrics_flush_interval: 1s
    store:
      ttl: 3s
      max_items: 10000
    virtual_node_extra_label: true
exporters:
  prometheusremotewrite:
    endpoint: {}/api/v1/write
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [service_graph]
    metrics:
      receivers: [service_graph]
      exporters: [prometheusremotewrite]
"#,
        prom.url
    );
    let gw = Gateway::start(&cfg, grpc);
    let (n, unpaired) = (100, 7);
    let summary = red_client(&format!("http://127.0.0.1:{grpc}"), n, &["--unpaired", &unpaired.to_string()]);
    let errors = summary["errors"].as_f64().expect("errors");
    let (n, unpaired) = (n as f64, unpaired as f64);
    let wait = Duration::from_secs(30);

    // The edge client -> server: every call once, split by `failed`.
    let edge = r#"{client="red-client",server="red-server"}"#;
    let q = format!("sum(traces_service_graph_request_total{edge})");
    let got = promql_until(&prom.url, &q, wait, |r| r.len() == 1 && r[0].value == n);
    assert_eq!(value(&got, &q), n, "{}", gw.logs());
    let q = r#"traces_service_graph_request_total{client="red-client",server="red-server",failed="true"}"#;
    let s = promql(&prom.url, q);
    assert_eq!(value(&s, q), errors);
    assert_eq!(s[0].label("connection_type"), "", "a direct request");
    assert_eq!(s[0].label("virtual_node"), "", "neither side made up");
    let q = format!("sum(traces_service_graph_request_failed_total{edge})");
    assert_eq!(value(&promql(&prom.url, &q), &q), errors);

    // Latencies in seconds, seen from both sides: 40 ms (450 ms for every 10th call) on
    // the server, 10 ms more on the client.
    let q = format!("sum(traces_service_graph_request_server_seconds_count{edge})");
    assert_eq!(value(&promql(&prom.url, &q), &q), n);
    let q = format!("sum(traces_service_graph_request_server_seconds_sum{edge})");
    let sum = value(&promql(&prom.url, &q), &q);
    assert!((sum - summary["server_ms_sum"].as_f64().expect("ms") / 1000.0).abs() < 1e-6, "server sum {sum}");
    let quantile = |phi: f64, side: &str| {
        let q = format!(
            r#"histogram_quantile({phi}, sum by (le) (traces_service_graph_request_{side}_seconds_bucket{edge}))"#
        );
        value(&promql(&prom.url, &q), &q)
    };
    let p50 = quantile(0.5, "server");
    assert!((0.01..=0.05).contains(&p50), "server p50 {p50} s");
    let p99 = quantile(0.99, "client");
    assert!((0.4..=0.8).contains(&p99), "client p99 {p99} s");

    // The calls nobody answered: expired, counted, and drawn as a virtual server named by
    // the client's peer.service.
    let q = r#"traces_service_graph_request_total{client="red-client",server="payments-api"}"#;
    let got = promql_until(&prom.url, q, wait, |r| r.len() == 1 && r[0].value == unpaired);
    assert_eq!(value(&got, q), unpaired, "{}", gw.logs());
    assert_eq!(got[0].label("connection_type"), "virtual_node");
    assert_eq!(got[0].label("virtual_node"), "server");
    assert!(
        wait_until(Duration::from_secs(10), || gw.metric("otelcol_connector_servicegraph_expired_edges") == unpaired)
    );
    assert_eq!(gw.metric("otelcol_connector_servicegraph_total_edges"), n + unpaired);
    assert!(gw.has_metric("otelcol_connector_servicegraph_dropped_spans"), "named with the Collector's name");
    assert_eq!(gw.metric("otelcol_connector_servicegraph_dropped_spans"), 0.0);
    assert_eq!(gw.metric("otelcol_exporter_send_failed_metric_points"), 0.0, "{}", gw.logs());
}

#[test]
fn red_metrics_and_the_service_graph_come_from_the_same_spans() {
    // Seed 004's shape: both connectors on one traces pipeline, one metrics pipeline out.
    let prom = Backend::start("prometheus", &[]);
    let grpc = free_port();
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
connectors:
  spanmetrics:
    metrics_flush_interval: 1s
  servicegraph:
    metrics_flush_interval: 1s
processors:
  batch:
    timeout: 200ms
exporters:
  prometheusremotewrite:
    endpoint: {}/api/v1/write
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [spanmetrics, servicegraph]
    metrics:
      receivers: [spanmetrics, servicegraph]
      processors: [batch]
      exporters: [prometheusremotewrite]
"#,
        prom.url
    );
    let gw = Gateway::start(&cfg, grpc);
    let n = 40;
    red_client(&format!("http://127.0.0.1:{grpc}"), n, &[]);
    let wait = Duration::from_secs(30);
    let n = n as f64;
    let q = r#"sum(traces_service_graph_request_total{client="red-client",server="red-server"})"#;
    assert_eq!(value(&promql_until(&prom.url, q, wait, |r| r.len() == 1 && r[0].value == n), q), n, "{}", gw.logs());
    let q = r#"sum(traces_span_metrics_calls_total{service_name="red-server"})"#;
    assert_eq!(value(&promql_until(&prom.url, q, wait, |r| r.len() == 1 && r[0].value == n), q), n);
    let q = r#"sum(traces_span_metrics_calls_total{service_name="red-server",status_code="STATUS_CODE_ERROR"}) == bool sum(traces_service_graph_request_failed_total{server="red-server"})"#;
    assert_eq!(value(&promql(&prom.url, q), q), 1.0, "both count the same failures");
}
