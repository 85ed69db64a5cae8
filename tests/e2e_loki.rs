//! Logs from the OpenTelemetry Python SDK → Switchyard → `loki` exporter → Loki's push API
//! (`scripts/backends/loki_fake.py`, a stand-in that speaks Loki's HTTP API; Grafana Loki is
//! packaged nowhere here), read back with `query_range`.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::backends::{encode, get_json, Backend};
use support::{free_port, sdk_client, wait_until, Gateway};

/// `query_range` over the last hour: (stream labels, line) of every entry, oldest first.
fn query(loki: &Backend, selector: &str) -> Vec<(serde_json::Map<String, Value>, String)> {
    let url = format!("{}/loki/api/v1/query_range?query={}&limit=1000&direction=forward", loki.url, encode(selector));
    let v = get_json(&url);
    assert_eq!(v["status"], "success", "{v}");
    let mut out = Vec::new();
    for stream in v["data"]["result"].as_array().cloned().unwrap_or_default() {
        let labels = stream["stream"].as_object().cloned().unwrap_or_default();
        for e in stream["values"].as_array().cloned().unwrap_or_default() {
            out.push((labels.clone(), e[1].as_str().unwrap_or("").to_string()));
        }
    }
    out
}

fn stats(loki: &Backend) -> Value {
    get_json(&format!("{}/fake/stats", loki.url))
}

fn config(grpc: u16, http: u16, exporters: &str, names: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
processors:
  batch:
    timeout: 100ms
exporters:
{exporters}
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [{names}]
"#
    )
}

#[test]
fn sdk_logs_reach_loki_with_labels_and_lines_in_both_encodings() {
    let proto_loki = Backend::start("loki", &[]);
    let json_loki = Backend::start("loki", &[]);
    let (grpc, http) = (free_port(), free_port());
    let exporters = format!(
        "  loki:\n    endpoint: {}/loki/api/v1/push\n  loki/json:\n    endpoint: {}/loki/api/v1/push\n    format: json",
        proto_loki.url, json_loki.url
    );
    let gw = Gateway::start(&config(grpc, http, &exporters, "loki, loki/json"), grpc);
    let n = 12;
    let rid = format!("loki{}", std::process::id());
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let out = sdk_client(
        "grpc",
        &endpoint,
        n,
        &rid,
        &["--signals", "logs", "--resource-attr", "loki.resource.labels=run.id"],
    );
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));
    // A second run asks for logfmt lines with the `loki.format` hint.
    let rid_logfmt = format!("{rid}lf");
    let out = sdk_client(
        "grpc",
        &endpoint,
        n,
        &rid_logfmt,
        &[
            "--signals",
            "logs",
            "--resource-attr",
            "loki.resource.labels=run.id",
            "--resource-attr",
            "loki.format=logfmt",
        ],
    );
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));

    for (what, loki) in [("protobuf", &proto_loki), ("json", &json_loki)] {
        let sel = format!(r#"{{run_id="{rid}"}}"#);
        let mut entries = Vec::new();
        wait_until(Duration::from_secs(15), || {
            entries = query(loki, &sel);
            entries.len() >= n
        });
        assert_eq!(entries.len(), n, "{what}: every record arrives once\n{}", gw.logs());
        let mut seqs = Vec::new();
        for (labels, line) in &entries {
            // Default labels and the promoted resource attribute; hints are not labels.
            assert_eq!(labels["job"], "e2e-client", "{what}: {labels:?}");
            assert_eq!(labels["exporter"], "OTLP", "{what}");
            assert_eq!(labels["run_id"], rid.as_str(), "{what}");
            assert!(["INFO", "WARN", "ERROR"].contains(&labels["level"].as_str().unwrap_or("")), "{labels:?}");
            assert!(!labels.contains_key("loki_resource_labels"), "{labels:?}");
            // The line: JSON with body, ids, severity and attributes.
            let l: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("{what}: not JSON: {line}"));
            let body = l["body"].as_str().unwrap_or_else(|| panic!("{line}"));
            assert!(body.starts_with("otel_sdk_client log ") && body.ends_with(&format!("run {rid}")), "{line}");
            assert_eq!(l["traceid"].as_str().map(str::len), Some(32), "{line}");
            assert_eq!(l["spanid"].as_str().map(str::len), Some(16), "{line}");
            assert_eq!(l["severity"].as_str(), labels["level"].as_str(), "{line}");
            // As in the Collector: an attribute promoted to a label leaves the line.
            assert!(l["attributes"].get("run.id").is_none() && l["resources"].get("run.id").is_none(), "{line}");
            assert_eq!(l["resources"]["service.name"], "e2e-client", "{line}");
            seqs.push(l["attributes"]["seq"].as_i64().expect("seq"));
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..n as i64).collect::<Vec<_>>(), "{what}");

        let mut lf = Vec::new();
        wait_until(Duration::from_secs(10), || {
            lf = query(loki, &format!(r#"{{run_id="{rid_logfmt}"}}"#));
            lf.len() >= n
        });
        assert_eq!(lf.len(), n, "{what}: logfmt run");
        for (_, line) in &lf {
            assert!(line.contains("traceID=") && line.contains("spanID=") && line.contains("severity="), "{line}");
            assert!(line.contains("attribute_seq=") && line.contains("resource_service.name=e2e-client"), "{line}");
            assert!(!line.starts_with('{'), "logfmt, not JSON: {line}");
        }
    }
    assert!(stats(&proto_loki)["push_protobuf"].as_u64().unwrap_or(0) > 0);
    assert_eq!(stats(&proto_loki)["push_json"].as_u64(), Some(0));
    assert!(stats(&json_loki)["push_json"].as_u64().unwrap_or(0) > 0);
    assert_eq!(stats(&json_loki)["push_protobuf"].as_u64(), Some(0));
    assert!(gw.has_metric("otelcol_exporter_send_failed_log_records"), "{}", gw.logs());
    assert_eq!(gw.metric("otelcol_exporter_send_failed_log_records"), 0.0, "{}", gw.logs());
}

#[test]
fn an_entry_loki_refuses_is_dropped_counted_and_logged_and_the_stream_goes_on() {
    let loki = Backend::start("loki", &[]);
    let (grpc, http) = (free_port(), free_port());
    let exporters = format!("  loki:\n    endpoint: {}/loki/api/v1/push", loki.url);
    let gw = Gateway::start(&config(grpc, http, &exporters, "loki"), http);
    let now_ns = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    let record = |body: &str, t_ns: u128| {
        format!(
            r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"late-svc"}}}}]}},
            "scopeLogs":[{{"logRecords":[{{"timeUnixNano":"{t_ns}","severityNumber":9,"body":{{"stringValue":"{body}"}}}}]}}]}}]}}"#
        )
    };
    let addr = format!("127.0.0.1:{http}");
    // Eight days old: Loki answers 400 ("entry too far behind"), which must not be retried.
    assert_eq!(
        support::http_post_json(&addr, "/v1/logs", &record("too old", now_ns - 8 * 86_400 * 1_000_000_000)),
        200
    );
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..5 {
        assert_eq!(support::http_post_json(&addr, "/v1/logs", &record(&format!("fresh {i}"), now_ns)), 200);
    }
    let mut got = Vec::new();
    wait_until(Duration::from_secs(10), || {
        got = query(&loki, r#"{job="late-svc"}"#);
        got.len() >= 5
    });
    assert_eq!(got.len(), 5, "the records after the refused one arrive: {got:?}");
    assert!(got.iter().all(|(_, l)| l.contains("fresh")), "{got:?}");
    let dropped = || gw.metric_with("switchyard_exporter_dropped_log_records", &["permanent_error"]);
    assert!(wait_until(Duration::from_secs(5), || dropped() == 1.0), "dropped {}\n{}", dropped(), gw.logs());
    let logs = gw.logs();
    assert!(logs.contains("HTTP Status Code 400"), "{logs}");
    assert!(!logs.contains("Will retry"), "a 400 is not retried:\n{logs}");
    assert_eq!(stats(&loki)["rejected"].as_u64(), Some(1));
}
