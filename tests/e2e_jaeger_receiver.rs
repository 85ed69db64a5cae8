//! The `jaeger` receiver end to end with real Jaeger clients: the OpenTelemetry Python SDK's
//! Jaeger exporters (`opentelemetry-exporter-jaeger-thrift` to the agent's UDP compact port
//! and to the collector's Thrift HTTP endpoint, its agent client switched to the binary
//! protocol for the UDP binary port, and `opentelemetry-exporter-jaeger-proto-grpc` to
//! PostSpans) → the gateway → OTLP → the OTLP sink, where the spans are checked as a user
//! would: service, names, ids, parent, kind, attributes, events, status. Also: a body that
//! is not Thrift is refused with 400, counted and logged, and nothing else is lost.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{free_port, root, wait_until, Gateway, Item, Sink};

/// The Jaeger clients' venv (scripts/backends/jaeger-venv.sh; `SWITCHYARD_JAEGER_PY` if set).
fn jaeger_python() -> PathBuf {
    if let Ok(p) = std::env::var("SWITCHYARD_JAEGER_PY") {
        return PathBuf::from(p);
    }
    let out = Command::new(root().join("scripts/backends/jaeger-venv.sh")).output().expect("run jaeger-venv.sh");
    assert!(out.status.success(), "jaeger-venv.sh: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn client(py: &Path, mode: &str, port: u16, run: &str) -> Value {
    let out = Command::new(py)
        .arg(root().join("scripts/backends/jaeger_client.py"))
        .args(["--mode", mode, "--port", &port.to_string(), "--run-id", run])
        .output()
        .expect("run jaeger_client.py");
    assert!(out.status.success(), "{mode}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{mode}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn spans(sink: &Sink, run: &str) -> Vec<Item> {
    sink.requests()
        .iter()
        .filter(|r| r["signal"] == "traces")
        .flat_map(|r| support::items_of(&r["request"], Some(run)))
        .collect()
}

/// Requests refused as malformed on a transport (`switchyard_receiver_rejected_requests`).
fn malformed(gw: &Gateway, transport: &str) -> f64 {
    let (_, text) = support::http_get(&format!("127.0.0.1:{}", gw.metrics_port.unwrap_or(0)), "/metrics");
    text.lines()
        .filter(|l| l.starts_with("switchyard_receiver_rejected_requests"))
        .filter(|l| l.contains("reason=\"malformed\"") && l.contains(&format!("transport=\"{transport}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A plain HTTP/1.1 POST of a Thrift-typed body; returns status and body.
fn post_thrift(port: u16, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(
        c,
        "POST /api/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    let status = buf.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn event_attr(e: &Value, key: &str) -> Option<String> {
    e["attributes"]
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["stringValue"].as_str().map(String::from))
}

/// What the Collector makes of the trace `jaeger_client.py` sends.
fn check(mode: &str, sent: &Value, got: &[Item]) {
    assert_eq!(got.len(), 2, "{mode}: {got:?}");
    let by_name = |n: &str| got.iter().find(|i| i.item["name"] == n).unwrap_or_else(|| panic!("{mode}: no span {n}"));
    let (parent, child) = (by_name("checkout"), by_name("GET /cart"));
    for s in [parent, child] {
        assert_eq!(s.resource_attr("service.name").as_deref(), Some("jaeger-e2e"), "{mode}");
        assert_eq!(s.item["traceId"], sent["trace_id"], "{mode}");
    }
    assert_eq!(parent.item["spanId"], sent["parent_span_id"], "{mode}");
    assert_eq!(child.item["spanId"], sent["child_span_id"], "{mode}");
    assert_eq!(child.item["parentSpanId"], sent["parent_span_id"], "{mode}");
    assert!(parent.item.get("parentSpanId").is_none(), "{mode}: the root has no parent");
    assert_eq!(parent.item["kind"], "SPAN_KIND_SERVER", "{mode}");
    assert_eq!(child.item["kind"], "SPAN_KIND_CLIENT", "{mode}");
    // `error`, `otel.status_code` and `otel.status_description` became the status.
    assert_eq!(child.item["status"]["code"], "STATUS_CODE_ERROR", "{mode}");
    assert_eq!(child.item["status"]["message"], "backend down", "{mode}");
    for gone in ["error", "otel.status_code", "otel.status_description", "span.kind"] {
        assert!(child.attr(gone).is_none(), "{mode}: {gone} left as an attribute");
    }
    assert_eq!(child.attr("http.status_code").as_deref(), Some("503"), "{mode}");
    assert!(parent.item.get("status").is_none_or(|s| s.get("code").is_none()), "{mode}: the parent's status is unset");
    // The SDK's exporters write an event's name in a `message` field; the Collector names
    // events by an `event` field only, so the name stays an attribute, as there.
    let e = &parent.item["events"][0];
    assert_eq!(event_attr(e, "message").as_deref(), Some("cache.miss"), "{mode}: {e}");
    assert_eq!(event_attr(e, "key").as_deref(), Some("user:1"), "{mode}");
    if mode == "grpc" {
        // Protobuf: the scope comes from otel.scope.name/version (removed); resource tags travel
        // on the process.
        assert_eq!(parent.scope["name"], "e2e.tracer", "{mode}");
        assert_eq!(parent.scope["version"], "0.9", "{mode}");
        assert!(parent.attr("otel.scope.name").is_none(), "{mode}");
        assert_eq!(parent.resource_attr("telemetry.sdk.language").as_deref(), Some("python"), "{mode}");
    } else {
        // Thrift: one unnamed scope, the scope tags stay (the Collector's Thrift path).
        assert!(parent.scope.get("name").is_none(), "{mode}: {}", parent.scope);
        assert_eq!(parent.attr("otel.scope.name").as_deref(), Some("e2e.tracer"), "{mode}");
    }
}

#[test]
fn real_jaeger_clients_over_every_protocol_reach_the_otlp_sink() {
    let py = jaeger_python();
    let sink = Sink::start(&[]);
    let (grpc, http) = (free_port(), free_port());
    let udp =
        || std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).expect("udp port");
    let (compact, binary) = (udp(), udp());
    let cfg = format!(
        r#"
receivers:
  jaeger:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{grpc}"}}
      thrift_http: {{endpoint: "127.0.0.1:{http}"}}
      thrift_compact: {{endpoint: "127.0.0.1:{compact}"}}
      thrift_binary: {{endpoint: "127.0.0.1:{binary}"}}
exporters:
  otlp: {{endpoint: "{sink}", tls: {{insecure: true}}}}
service:
  pipelines:
    traces: {{receivers: [jaeger], exporters: [otlp]}}
"#,
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&cfg, http);
    for (mode, port) in [("agent-compact", compact), ("agent-binary", binary), ("collector-http", http), ("grpc", grpc)]
    {
        let run = format!("run-{mode}");
        let sent = client(&py, mode, port, &run);
        assert!(wait_until(Duration::from_secs(20), || spans(&sink, &run).len() >= 2), "{mode}: spans did not arrive");
        check(mode, &sent, &spans(&sink, &run));
    }

    // A body that is not Thrift: 400 with the decoder's reason, counted and logged; the
    // receiver goes on serving.
    let (status, body) = post_thrift(http, "{\"this is\": \"json\"}");
    assert_eq!(status, 400, "{body}");
    assert!(body.starts_with("Unable to process request body:"), "{body}");
    assert!(
        wait_until(Duration::from_secs(10), || malformed(&gw, "collector_http") >= 1.0),
        "malformed body not counted: {}",
        gw.logs()
    );
    assert!(gw.logs().contains("could not be decoded"), "not logged: {}", gw.logs());
    // A garbage datagram on the compact port is counted too, and a good one after it arrives.
    std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("udp")
        .send_to(b"\x82\x21garbage", ("127.0.0.1", compact))
        .expect("send");
    let sent = client(&py, "agent-compact", compact, "after-bad");
    assert!(wait_until(Duration::from_secs(20), || spans(&sink, "after-bad").len() >= 2), "spans after bad input");
    check("agent-compact", &sent, &spans(&sink, "after-bad"));
    assert!(malformed(&gw, "udp_thrift_compact") >= 1.0);
    // Every span sent arrived once: 2 per run, 5 runs.
    let total: usize = sink.items("traces", None);
    assert_eq!(total, 10, "{total} spans at the sink");
}
