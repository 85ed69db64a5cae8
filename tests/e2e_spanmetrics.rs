//! RED metrics from real spans: the OpenTelemetry Python SDK (a client service calling a
//! server service, known latencies, some errors) → Switchyard's OTLP receiver →
//! `spanmetrics` → `prometheusremotewrite` → a real Prometheus, read back with the PromQL
//! a user writes against the Collector's span metrics.

mod support;

use std::time::Duration;

use support::backends::{promql, promql_until, Backend, PromSample};
use support::{free_port, red_client, Gateway};

fn value(samples: &[PromSample], what: &str) -> f64 {
    assert_eq!(samples.len(), 1, "{what}: expected one series, got {samples:?}");
    samples[0].value
}

#[test]
fn calls_errors_and_latency_quantiles_are_queryable_in_prometheus() {
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
    dimensions:
      - name: http.request.method
exporters:
  prometheusremotewrite:
    endpoint: {}/api/v1/write
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [spanmetrics]
    metrics:
      receivers: [spanmetrics]
      exporters: [prometheusremotewrite]
"#,
        prom.url
    );
    let gw = Gateway::start(&cfg, grpc);
    let n = 100;
    let summary = red_client(&format!("http://127.0.0.1:{grpc}"), n, &[]);
    let (errors, slow) = (summary["errors"].as_f64().expect("errors"), summary["slow"].as_f64().expect("slow"));
    assert_eq!((errors, slow), (20.0, 10.0));
    let wait = Duration::from_secs(30);
    let n = n as f64;

    // Calls per service: every span counted once, under the Collector's metric name.
    let q = "sum by (service_name) (traces_span_metrics_calls_total)";
    let got = promql_until(&prom.url, q, wait, |r| r.len() == 2 && r.iter().all(|s| s.value == n));
    let mut per_service: Vec<(String, f64)> =
        got.iter().map(|s| (s.label("service_name").to_string(), s.value)).collect();
    per_service.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(per_service, [("red-client".to_string(), n), ("red-server".to_string(), n)], "{}", gw.logs());

    // One series per (service, span name, kind, status) with the Collector's labels.
    let q = r#"traces_span_metrics_calls_total{service_name="red-server",status_code="STATUS_CODE_ERROR"}"#;
    let s = promql(&prom.url, q);
    assert_eq!(value(&s, q), errors, "errors counted on the server");
    assert_eq!(s[0].label("span_name"), "GET /api/item");
    assert_eq!(s[0].label("span_kind"), "SPAN_KIND_SERVER");
    assert_eq!(s[0].label("http_request_method"), "GET", "a configured dimension");
    assert_eq!(s[0].label("job"), "red-server", "resource attributes are kept: job from service.name");
    assert_eq!(s[0].label("collector_instance_id").len(), 36, "the gateway's instance id: {:?}", s[0]);
    let q = r#"sum(traces_span_metrics_calls_total{service_name="red-client",span_kind="SPAN_KIND_CLIENT",status_code="STATUS_CODE_UNSET"})"#;
    assert_eq!(value(&promql(&prom.url, q), q), n - errors);
    // Error ratio, as a RED dashboard computes it.
    let q = r#"sum(traces_span_metrics_calls_total{service_name="red-server",status_code="STATUS_CODE_ERROR"}) / sum(traces_span_metrics_calls_total{service_name="red-server"})"#;
    assert_eq!(value(&promql(&prom.url, q), q), 0.2);

    // A new counter opens at 0, so rate/increase see every call (a few flushes later, so
    // the window's extrapolation past the last sample stays small).
    std::thread::sleep(Duration::from_secs(5));
    let q = r#"sum(increase(traces_span_metrics_calls_total{service_name="red-server"}[5m]))"#;
    let inc = value(&promql(&prom.url, q), q);
    assert!((n * 0.99..=n * 1.5).contains(&inc), "increase over the run: {inc}");
    let q = r#"sum(rate(traces_span_metrics_calls_total{service_name="red-server"}[5m]))"#;
    assert!(value(&promql(&prom.url, q), q) > 0.0);

    // Durations in milliseconds: count, sum, and quantiles in the known latency bands.
    let sel = r#"{service_name="red-server"}"#;
    let q = format!("sum(traces_span_metrics_duration_milliseconds_count{sel})");
    assert_eq!(value(&promql(&prom.url, &q), &q), n);
    let q = format!("sum(traces_span_metrics_duration_milliseconds_sum{sel})");
    assert!((value(&promql(&prom.url, &q), &q) - summary["server_ms_sum"].as_f64().expect("sum")).abs() < 1e-6);
    let quantile = |phi: f64, service: &str| {
        let q = format!(
            r#"histogram_quantile({phi}, sum by (le) (traces_span_metrics_duration_milliseconds_bucket{{service_name="{service}"}}))"#
        );
        value(&promql(&prom.url, &q), &q)
    };
    // 90% of server spans take 40 ms (bucket (10, 50]), 10% take 450 ms (bucket (400, 800]).
    let p50 = quantile(0.5, "red-server");
    assert!((10.0..=50.0).contains(&p50), "server p50 {p50} ms");
    let p99 = quantile(0.99, "red-server");
    assert!((400.0..=800.0).contains(&p99), "server p99 {p99} ms");
    let p99 = quantile(0.99, "red-client");
    assert!((400.0..=800.0).contains(&p99), "client p99 {p99} ms (460 ms spans)");
    let q = r#"traces_span_metrics_duration_milliseconds_bucket{service_name="red-server",status_code="STATUS_CODE_UNSET",le="50"}"#;
    assert_eq!(value(&promql(&prom.url, q), q), n - errors, "every ok call took 40 ms (the slow calls all failed)");
    assert_eq!(gw.metric("otelcol_exporter_send_failed_metric_points"), 0.0, "{}", gw.logs());
}

#[test]
fn the_alias_and_seconds_histograms_work_with_exponential_buckets_too() {
    let prom = Backend::start("prometheus", &[("PROM_FEATURES", "native-histograms")]);
    let grpc = free_port();
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
connectors:
  span_metrics:
    metrics_flush_interval: 1s
    namespace: red
    histogram:
      unit: s
      exponential:
        max_size: 80
exporters:
  prometheusremotewrite:
    endpoint: {}/api/v1/write
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [span_metrics]
    metrics:
      receivers: [span_metrics]
      exporters: [prometheusremotewrite]
"#,
        prom.url
    );
    let _gw = Gateway::start(&cfg, grpc);
    let n = 50;
    red_client(&format!("http://127.0.0.1:{grpc}"), n, &[]);
    let wait = Duration::from_secs(30);
    let q = r#"histogram_count(sum(red_duration_seconds{service_name="red-server"}))"#;
    let got = promql_until(&prom.url, q, wait, |r| r.len() == 1 && r[0].value == n as f64);
    assert_eq!(value(&got, q), n as f64, "a native histogram named with the namespace and unit");
    let q = r#"histogram_quantile(0.5, sum(red_duration_seconds{service_name="red-server"}))"#;
    let p50 = value(&promql(&prom.url, q), q);
    assert!((0.035..=0.045).contains(&p50), "exponential buckets are fine-grained: p50 {p50} s");
    let q = r#"sum(red_calls_total{service_name="red-client"})"#;
    assert_eq!(value(&promql_until(&prom.url, q, wait, |r| r.len() == 1 && r[0].value == n as f64), q), n as f64);
}
