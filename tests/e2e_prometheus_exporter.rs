//! The `prometheus` exporter end to end: the OpenTelemetry Python SDK sends every metric
//! kind over OTLP to the gateway, a real Prometheus (Debian package) scrapes the exporter
//! — once as OpenMetrics, once as the text format — and the series are read back with PromQL:
//! names, labels, values, target_info; then the series expire and Prometheus marks them stale.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::backends::{promql, promql_until, Backend, PromSample};
use support::{free_port, http_get, python, root, wait_until, Gateway};

/// Runs `sdk_metrics_client.py`; returns its JSON summary (asserting it succeeded).
fn metrics_client(endpoint: &str, run_id: &str, rounds: usize) -> Value {
    let out = Command::new(python())
        .arg(root().join("scripts/backends/sdk_metrics_client.py"))
        .args(["--endpoint", endpoint, "--run-id", run_id, "--rounds", &rounds.to_string(), "--interval", "0.1"])
        .output()
        .expect("run sdk_metrics_client.py");
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("client output: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "client failed: {summary}\n{}", String::from_utf8_lossy(&out.stderr));
    summary
}

fn one(samples: &[PromSample], what: &str) -> PromSample {
    assert_eq!(samples.len(), 1, "{what}: expected one series, got {samples:?}");
    samples[0].clone()
}

#[test]
fn sdk_metrics_are_scraped_by_prometheus_in_both_formats_then_expire() {
    let (grpc, om_port, text_port) = (free_port(), free_port(), free_port());
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
exporters:
  prometheus/om:
    endpoint: 127.0.0.1:{om_port}
    enable_open_metrics: true
    const_labels:
      cluster: ci
    metric_expiration: 6s
  prometheus/text:
    endpoint: 127.0.0.1:{text_port}
    namespace: txt
    metric_expiration: 6s
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheus/om, prometheus/text]
"#
    );
    let gw = Gateway::start(&cfg, grpc);
    let targets = format!("127.0.0.1:{om_port},127.0.0.1:{text_port}");
    let prom = Backend::start("prometheus", &[("PROM_SCRAPE_TARGETS", &targets), ("PROM_SCRAPE_INTERVAL", "1s")]);
    let rid = format!("pe{}", std::process::id());
    let n = 5;
    metrics_client(&format!("http://127.0.0.1:{grpc}"), &rid, n);

    // What the exporter serves, as a scraper sees it (text format by default).
    let (code, body) = http_get(&format!("127.0.0.1:{text_port}"), "/metrics");
    assert_eq!(code, 200);
    assert!(body.contains("# TYPE txt_sdk_requests_total counter"), "{body}");

    let sel = format!(r#"run_id="{rid}""#);
    let wait = Duration::from_secs(30);
    for (prefix, extra) in [("", r#",cluster="ci""#), ("txt_", "")] {
        let expect = |metric: &str, labels: &str, v: f64| {
            let q = format!("{prefix}{metric}{{{sel}{extra}{labels}}}");
            let got = promql_until(&prom.url, &q, wait, |r| r.len() == 1 && r[0].value == v);
            let s = one(&got, &q);
            assert_eq!(s.value, v, "{q}\n{}", gw.logs());
            s
        };
        // Counter: `_total`; job/instance from the resource (honor_labels keeps them);
        // the point's attributes; the scope; the const label on one exporter only.
        let c = expect("sdk_requests_total", "", n as f64);
        assert_eq!(c.label("job"), "itest/metrics-client", "{c:?}");
        assert_eq!(c.label("instance"), format!("inst-{}", &rid[..8.min(rid.len())]));
        assert_eq!(c.label("http_method"), "GET");
        assert_eq!(c.label("otel_scope_name"), "sdk_metrics_client");
        assert_eq!(c.label("otel_scope_version"), "1.0");
        assert_eq!(c.label("deployment_environment"), "", "resource attributes go to target_info only");
        assert_eq!(c.label("cluster"), if prefix.is_empty() { "ci" } else { "" });
        // Up-down counter: a gauge without `_total`; gauge with its unit.
        expect("sdk_inflight", "", n as f64);
        expect("sdk_temperature_celsius", "", 20.0 + n as f64);
        // Histogram: cumulative buckets, `+Inf` = count, `_sum`, `_count`.
        expect("sdk_latency_milliseconds_count", "", n as f64);
        expect("sdk_latency_milliseconds_sum", "", (5 * n * (n + 1)) as f64);
        expect("sdk_latency_milliseconds_bucket", r#",le="+Inf""#, n as f64);
        expect("sdk_latency_milliseconds_bucket", r#",le="25""#, 2.0);
        expect("sdk_latency_milliseconds_bucket", r#",le="5""#, 0.0);
        // Exponential histogram: count and sum (the text formats have no native buckets).
        expect("sdk_size_bytes_count", "", n as f64);
        expect("sdk_size_bytes_sum", "", (50 * n * (n + 1)) as f64);
        // target_info: the resource's other attributes with job and instance.
        let q = format!(r#"{prefix}target_info{{job="itest/metrics-client",run_id="{rid}"}}"#);
        let t = one(&promql_until(&prom.url, &q, wait, |r| r.len() == 1), &q);
        assert_eq!(t.value, 1.0);
        assert_eq!(t.label("deployment_environment"), "ci", "{t:?}");
        assert_eq!(t.label("telemetry_sdk_language"), "python");
        assert_eq!(t.label("instance"), format!("inst-{}", &rid[..8.min(rid.len())]));
    }
    // Both scrapes succeed (OpenMetrics and text parsed by Prometheus itself).
    let up = promql(&prom.url, r#"up{job="scrape"}"#);
    assert_eq!(up.len(), 2, "{up:?}");
    assert!(up.iter().all(|s| s.value == 1.0), "{up:?}");
    let sent = |id: &str| gw.metric_with("otelcol_exporter_sent_metric_points", &[&format!("exporter=\"{id}\"")]);
    assert!(sent("prometheus/om") >= (5 * n) as f64, "{}", gw.logs());
    assert_eq!(sent("prometheus/om"), sent("prometheus/text"));

    // Nothing more arrives: after metric_expiration the series are no longer served, and
    // Prometheus marks them stale (an instant query finds nothing).
    assert!(
        wait_until(Duration::from_secs(20), || !http_get(&format!("127.0.0.1:{om_port}"), "/metrics")
            .1
            .contains("sdk_requests")),
        "expired series are no longer served"
    );
    let q = format!("sdk_requests_total{{{sel}}}");
    let gone = promql_until(&prom.url, &q, wait, |r| r.is_empty());
    assert!(gone.is_empty(), "stale after expiry: {gone:?}");
}
