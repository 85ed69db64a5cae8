//! Metrics from the OpenTelemetry Python SDK (counter, up-down counter, gauge, histogram,
//! exponential histogram) → Switchyard → `prometheusremotewrite` → a real Prometheus 2.42
//! and VictoriaMetrics 1.79 (Debian packages), read back with PromQL.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::backends::{promql, promql_until, Backend, PromSample};
use support::{free_port, python, root, wait_until, Gateway};

/// Runs `sdk_metrics_client.py`; returns its JSON summary (asserting it succeeded).
fn metrics_client(endpoint: &str, run_id: &str, rounds: usize, interval: f64) -> Value {
    let out = Command::new(python())
        .arg(root().join("scripts/backends/sdk_metrics_client.py"))
        .args(["--endpoint", endpoint, "--run-id", run_id, "--rounds", &rounds.to_string()])
        .args(["--interval", &interval.to_string()])
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

fn gateway(grpc: u16, exporters: &str, names: &str) -> Gateway {
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
processors:
  batch:
    timeout: 100ms
exporters:
{exporters}
service:
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [{names}]
"#
    );
    Gateway::start(&cfg, grpc)
}

#[test]
fn every_sdk_metric_kind_is_queryable_in_prometheus_and_victoriametrics() {
    let prom = Backend::start("prometheus", &[("PROM_FEATURES", "native-histograms")]);
    let vm = Backend::start("victoriametrics", &[]);
    let grpc = free_port();
    let exporters = format!(
        r#"  prometheusremotewrite/prom:
    endpoint: {}/api/v1/write
    external_labels:
      cluster: ci
  prometheusremotewrite/vm:
    endpoint: {}/api/v1/write
    send_metadata: true"#,
        prom.url, vm.url
    );
    let gw = gateway(grpc, &exporters, "prometheusremotewrite/prom, prometheusremotewrite/vm");
    let rid = format!("rw{}", std::process::id());
    let n = 5;
    metrics_client(&format!("http://127.0.0.1:{grpc}"), &rid, n, 0.1);

    let sel = format!(r#"{{run_id="{rid}"}}"#);
    let wait = Duration::from_secs(20);
    for (backend, base) in [("prometheus", &prom.url), ("victoriametrics", &vm.url)] {
        let expect = |q: &str, v: f64| {
            let got = promql_until(base, q, wait, |r| r.len() == 1 && r[0].value == v);
            let s = one(&got, q);
            assert_eq!(s.value, v, "{backend}: {q}");
            s
        };
        // Counter: `_total`; job/instance from service.namespace/name and instance.id;
        // the point's attributes; the scope.
        let c = expect(&format!("sdk_requests_total{sel}"), n as f64);
        assert_eq!(c.label("job"), "itest/metrics-client", "{backend}: {c:?}");
        assert_eq!(c.label("instance"), format!("inst-{}", &rid[..8.min(rid.len())]), "{backend}");
        assert_eq!(c.label("http_method"), "GET", "{backend}");
        assert_eq!(c.label("otel_scope_name"), "sdk_metrics_client", "{backend}");
        assert_eq!(c.label("otel_scope_version"), "1.0", "{backend}");
        assert_eq!(c.label("deployment_environment"), "", "{backend}: resource attributes go to target_info only");
        // Up-down counter: a gauge named without `_total`; gauge with its unit.
        expect(&format!("sdk_inflight{sel}"), n as f64);
        expect(&format!("sdk_temperature_celsius{sel}"), 20.0 + n as f64);
        // Histogram: cumulative buckets with `le`, `+Inf` = count, `_sum`, `_count`.
        expect(&format!("sdk_latency_milliseconds_count{sel}"), n as f64);
        expect(&format!("sdk_latency_milliseconds_sum{sel}"), (5 * n * (n + 1)) as f64);
        expect(&format!(r#"sdk_latency_milliseconds_bucket{{run_id="{rid}",le="+Inf"}}"#), n as f64);
        expect(&format!(r#"sdk_latency_milliseconds_bucket{{run_id="{rid}",le="25"}}"#), 2.0);
        expect(&format!(r#"sdk_latency_milliseconds_bucket{{run_id="{rid}",le="5"}}"#), 0.0);
        // target_info: the other resource attributes, once per resource.
        let t = expect(&format!("target_info{sel}"), 1.0);
        assert_eq!(t.label("deployment_environment"), "ci", "{backend}: {t:?}");
        assert_eq!(t.label("job"), "itest/metrics-client", "{backend}");
        assert_eq!(t.label("telemetry_sdk_language"), "python", "{backend}");
    }
    // External labels on one exporter only.
    assert_eq!(one(&promql(&prom.url, &format!("sdk_requests_total{sel}")), "prom").label("cluster"), "ci");
    assert_eq!(one(&promql(&vm.url, &format!("sdk_requests_total{sel}")), "vm").label("cluster"), "");

    // Exponential histogram: a native histogram in Prometheus (feature enabled)...
    let q = format!("histogram_count(sdk_size_bytes{sel})");
    let got = promql_until(&prom.url, &q, wait, |r| r.len() == 1 && r[0].value == n as f64);
    assert_eq!(one(&got, &q).value, n as f64);
    let sum = one(&promql(&prom.url, &format!("histogram_sum(sdk_size_bytes{sel})")), "sum").value;
    assert_eq!(sum, (50 * n * (n + 1)) as f64);
    // (values 100..500: the median's bucket holds 300)
    let median = one(&promql(&prom.url, &format!("histogram_quantile(0.5, sdk_size_bytes{sel})")), "p50").value;
    assert!((250.0..=350.0).contains(&median), "median {median}");
    // ...and nothing in VictoriaMetrics 1.79, which has no native histograms (documented).
    assert!(promql(&vm.url, &format!("sdk_size_bytes{sel}")).is_empty());

    // Every sample of every round is stored, in order (a sample per export).
    let samples = promql(&prom.url, &format!("count_over_time(sdk_requests_total{sel}[10m])"));
    assert!(one(&samples, "count_over_time").value >= n as f64, "{samples:?}");
    assert!(gw.has_metric("otelcol_exporter_send_failed_metric_points"), "{}", gw.logs());
    assert_eq!(gw.metric("otelcol_exporter_send_failed_metric_points"), 0.0, "{}", gw.logs());
}

#[test]
fn a_prometheus_restart_mid_stream_loses_no_sample() {
    let mut prom = Backend::start("prometheus", &[]);
    let grpc = free_port();
    let exporters = format!("  prometheusremotewrite:\n    endpoint: {}/api/v1/write", prom.url);
    let gw = gateway(grpc, &exporters, "prometheusremotewrite");
    let rid = format!("restart{}", std::process::id());
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let client = {
        let (endpoint, rid) = (endpoint.clone(), rid.clone());
        std::thread::spawn(move || metrics_client(&endpoint, &rid, 30, 0.2))
    };
    std::thread::sleep(Duration::from_millis(1500));
    prom.stop();
    std::thread::sleep(Duration::from_secs(2));
    prom.restart();
    let summary = client.join().expect("client thread");
    let exports = summary["exports"]["ok"].as_u64().expect("exports") as f64;

    // One sample per export of every series: none lost while Prometheus was down.
    let q = format!(r#"count_over_time(sdk_requests_total{{run_id="{rid}"}}[10m])"#);
    let got = promql_until(&prom.url, &q, Duration::from_secs(30), |r| r.len() == 1 && r[0].value >= exports);
    assert_eq!(one(&got, &q).value, exports, "samples stored vs exports made\n{}", gw.logs());
    let q = format!(r#"sdk_requests_total{{run_id="{rid}"}}"#);
    assert_eq!(one(&promql(&prom.url, &q), &q).value, 30.0);
    assert!(gw.logs().contains("Will retry"), "the outage was retried:\n{}", gw.logs());
    assert!(gw.has_metric("otelcol_exporter_send_failed_metric_points"), "{}", gw.logs());
    assert_eq!(gw.metric("otelcol_exporter_send_failed_metric_points"), 0.0);
}

#[test]
fn a_refused_sample_is_dropped_counted_and_logged_without_blocking_the_rest() {
    // Prometheus refuses a new series 3 hours old ("out of bounds", HTTP 400): permanent.
    let prom = Backend::start("prometheus", &[]);
    let (grpc, http) = (free_port(), free_port());
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
exporters:
  prometheusremotewrite:
    endpoint: {}/api/v1/write
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheusremotewrite]
"#,
        prom.url
    );
    let gw = Gateway::start(&cfg, http);
    let now_ns = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    let gauge = |name: &str, t_ns: u128| {
        format!(
            r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"late"}}}}]}},
            "scopeMetrics":[{{"metrics":[{{"name":"{name}","gauge":{{"dataPoints":[{{"timeUnixNano":"{t_ns}","asDouble":7}}]}}}}]}}]}}]}}"#
        )
    };
    let post = |body: String| {
        let resp = support::http_post_json(&format!("127.0.0.1:{http}"), "/v1/metrics", &body);
        assert_eq!(resp, 200, "the gateway accepted the request");
    };
    let tag = std::process::id();
    // (An empty Prometheus takes any timestamp: give it a recent sample first.)
    post(gauge(&format!("first_{tag}"), now_ns));
    promql_until(&prom.url, &format!("first_{tag}"), Duration::from_secs(10), |r| r.len() == 1);
    post(gauge(&format!("too_old_{tag}"), now_ns - 3 * 3600 * 1_000_000_000));
    post(gauge(&format!("fresh_{tag}"), now_ns + 1_000_000_000));
    let got = promql_until(&prom.url, &format!("fresh_{tag}"), Duration::from_secs(10), |r| r.len() == 1);
    assert_eq!(one(&got, "fresh").value, 7.0, "the batch after the refused one arrives");
    let old = format!("count_over_time(too_old_{tag}[6h])");
    assert!(promql(&prom.url, &old).is_empty(), "{:?}", promql(&prom.url, &old));
    let dropped = || gw.metric_with("switchyard_exporter_dropped_metric_points", &["permanent_error"]);
    assert!(wait_until(Duration::from_secs(5), || dropped() == 1.0), "dropped {}\n{}", dropped(), gw.logs());
    let logs = gw.logs();
    assert!(logs.contains("HTTP 400") && logs.contains("out of bounds"), "{logs}");
    assert!(!logs.contains("Will retry"), "a 400 is not retried:\n{logs}");
}
