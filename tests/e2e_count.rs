//! The `count` connector with the real binary: spans, span events and logs from the
//! OpenTelemetry Python SDK (two services) → traces and logs pipelines → `count` → metrics
//! pipeline → `prometheusremotewrite` → a real Prometheus, read back with PromQL the way a
//! user checks them: counts per service, per route, of error logs.
//!
//! Prometheus remote write refuses delta sums (as in the Collector), and the connector emits
//! delta counts, one sample per batch. The Collector pairs it with `deltatocumulative`,
//! which Switchyard does not have yet; the config here turns each delta count into a gauge
//! (`convert_sum_to_gauge`), and PromQL adds the batches up with `sum_over_time`.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use support::backends::{promql_until, Backend, PromSample};
use support::{free_port, sdk_client, Gateway};

fn config(grpc: u16, prom: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
connectors:
  count:
    spans:
      spans.by.route:
        description: Spans per HTTP route.
        attributes:
          - key: http.route
            default_value: unrouted
          - key: run.id
    logs:
      log.record.count:
        description: The number of log records observed.
        attributes: [{{key: run.id}}]
      error.log.count:
        description: Error+ logs.
        conditions:
          - severity_number >= SEVERITY_NUMBER_ERROR
        attributes: [{{key: run.id}}]
processors:
  transform/delta_to_gauge:
    metric_statements:
      - context: metric
        statements:
          - convert_sum_to_gauge() where aggregation_temporality == AGGREGATION_TEMPORALITY_DELTA
exporters:
  prometheusremotewrite:
    endpoint: {prom}/api/v1/write
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [count]
    logs:
      receivers: [otlp]
      exporters: [count]
    metrics:
      receivers: [count]
      processors: [transform/delta_to_gauge]
      exporters: [prometheusremotewrite]
"#
    )
}

/// Sends `n` spans (routes cycling through `routes`), `n - 1` span events and `n` logs
/// (severities cycling INFO, WARN, ERROR) as service `service`.
fn send(endpoint: &str, rid: &str, service: &str, n: usize, routes: &str) {
    let route = format!("http.route={routes}");
    let args = ["--service-name", service, "--signals", "traces,logs", "--span-attr", &route];
    let out = sdk_client("grpc", endpoint, n, rid, &args);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("client output: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success() && summary["ok"] == true, "client failed: {summary}");
}

/// `sum by (<by>) (sum_over_time(<series>[10m]))` as label values → count, polled until the
/// total reaches `total` (the samples arrive batch by batch).
fn counts(prom: &str, series: &str, by: &[&str], total: f64) -> BTreeMap<String, f64> {
    let q = format!("sum by ({}) (sum_over_time({series}[10m]))", by.join(", "));
    let sum = |r: &[PromSample]| r.iter().map(|s| s.value).sum::<f64>();
    let got = promql_until(prom, &q, Duration::from_secs(30), |r| sum(r) >= total);
    got.iter().map(|s| (by.iter().map(|l| s.label(l)).collect::<Vec<_>>().join("|"), s.value)).collect()
}

fn expect(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn spans_span_events_and_logs_are_counted_per_service_route_and_severity_in_prometheus() {
    let prom = Backend::start("prometheus", &[]);
    let grpc = free_port();
    let gw = Gateway::start(&config(grpc, &prom.url), grpc);
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let rid = format!("count{}", std::process::id());
    // checkout: 12 spans, 4 per route, 11 events, 12 logs of which 4 ERROR.
    send(&endpoint, &rid, "checkout", 12, "/cart|/pay|/ship");
    // cart: 5 spans (/cart x3, /items x2), 4 events, 5 logs of which 1 ERROR.
    send(&endpoint, &rid, "cart", 5, "/cart|/items");

    let run = format!(r#"{{run_id="{rid}"}}"#);
    // Spans per service (job = service.name) and route.
    assert_eq!(
        counts(&prom.url, &format!("spans_by_route{run}"), &["job", "http_route"], 17.0),
        expect(&[
            ("cart|/cart", 3.0),
            ("cart|/items", 2.0),
            ("checkout|/cart", 4.0),
            ("checkout|/pay", 4.0),
            ("checkout|/ship", 4.0)
        ]),
        "{}",
        gw.logs()
    );
    // The default span-event metric (no `spanevents` section): per service.
    assert_eq!(
        counts(&prom.url, r#"trace_span_event_count{job=~"checkout|cart"}"#, &["job"], 15.0),
        expect(&[("cart", 4.0), ("checkout", 11.0)]),
    );
    // Every log record, and those at ERROR or above (the condition), per service.
    assert_eq!(
        counts(&prom.url, &format!("log_record_count{run}"), &["job"], 17.0),
        expect(&[("cart", 5.0), ("checkout", 12.0)]),
        "{}",
        gw.logs()
    );
    assert_eq!(
        counts(&prom.url, &format!("error_log_count{run}"), &["job"], 5.0),
        expect(&[("cart", 1.0), ("checkout", 4.0)]),
        "{}",
        gw.logs()
    );
    // Nothing refused or dropped on the way, no condition failed.
    assert_eq!(gw.metric("otelcol_exporter_send_failed_metric_points"), 0.0, "{}", gw.logs());
    assert_eq!(gw.metric("switchyard_processor_ottl_errors"), 0.0, "{}", gw.logs());
    assert!(gw.metric("otelcol_exporter_sent_metric_points") > 0.0, "{}", gw.logs());
}
