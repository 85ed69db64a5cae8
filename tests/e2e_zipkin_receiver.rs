//! The `zipkin` receiver end to end: the OpenTelemetry Python SDK's Zipkin exporters (v2
//! JSON, v2 protobuf, v1 JSON) → Switchyard → OTLP → the OTLP sink, checked the way a user
//! would look at the spans in a backend; and bad requests refused, counted and logged while
//! good ones in the same run still arrive.

mod support;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{free_port, items_of, python, root, wait_until, Gateway, Item, Sink};

fn gateway(sink: &Sink, port: u16) -> Gateway {
    let cfg = format!(
        r#"
receivers:
  zipkin:
    endpoint: 127.0.0.1:{port}
exporters:
  otlp:
    endpoint: {}
    tls: {{insecure: true}}
service:
  pipelines:
    traces:
      receivers: [zipkin]
      exporters: [otlp]
"#,
        sink.grpc_endpoint()
    );
    Gateway::start(&cfg, port)
}

/// The venv with the Zipkin protobuf exporter (it needs protobuf 3; see requirements-zipkin-proto.txt).
fn proto_python() -> PathBuf {
    if let Ok(p) = std::env::var("SWITCHYARD_ZIPKIN_PROTO_PY") {
        return PathBuf::from(p);
    }
    let out =
        Command::new(root().join("scripts/backends/zipkin-proto-venv.sh")).output().expect("zipkin-proto-venv.sh");
    assert!(out.status.success(), "zipkin-proto-venv.sh: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Runs `sdk_zipkin_client.py`; returns its summary (trace id, span ids), asserting success.
fn client(encoding: &str, url: &str, service: &str, run: &str) -> Value {
    let py = if encoding == "proto" { proto_python() } else { python() };
    let out = Command::new(py)
        .arg(root().join("scripts/backends/sdk_zipkin_client.py"))
        .args(["--endpoint", url, "--encoding", encoding, "--service-name", service, "--run-id", run])
        .output()
        .expect("run sdk_zipkin_client.py");
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("client output: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "client failed: {summary}\n{}", String::from_utf8_lossy(&out.stderr));
    summary
}

fn spans_of(sink: &Sink, run: &str) -> Vec<Item> {
    sink.requests()
        .iter()
        .filter(|r| r["signal"] == "traces")
        .flat_map(|r| items_of(&r["request"], Some(run)))
        .collect()
}

fn wait_spans(sink: &Sink, run: &str, n: usize, gw: &Gateway) -> Vec<Item> {
    assert!(wait_until(Duration::from_secs(20), || spans_of(sink, run).len() >= n), "{}", gw.logs());
    spans_of(sink, run)
}

fn by_name<'a>(spans: &'a [Item], name: &str) -> &'a Item {
    spans.iter().find(|s| s.item["name"] == name).unwrap_or_else(|| panic!("no span {name}: {spans:?}"))
}

fn check_common(spans: &[Item], summary: &Value) {
    assert_eq!(spans.len(), 4, "{spans:?}");
    let ids = &summary["span_ids"];
    for s in spans {
        assert_eq!(s.item["traceId"], summary["trace_id"], "{:?}", s.item);
        let (start, end) = (&s.item["startTimeUnixNano"], &s.item["endTimeUnixNano"]);
        let (start, end): (u64, u64) =
            (start.as_str().expect("start").parse().expect("n"), end.as_str().expect("end").parse().expect("n"));
        assert!(start > 1_600_000_000_000_000_000 && end >= start, "{:?}", s.item);
    }
    let root = by_name(spans, "zipkin.root");
    assert_eq!(root.item["spanId"], ids["zipkin.root"]);
    assert!(root.item.get("parentSpanId").is_none());
    assert_eq!(by_name(spans, "zipkin.query").item["parentSpanId"], ids["zipkin.root"]);
    assert_eq!(by_name(spans, "zipkin.work").item["parentSpanId"], ids["zipkin.root"]);
    assert_eq!(by_name(spans, "zipkin.publish").item["parentSpanId"], ids["zipkin.work"]);
    assert_eq!(root.attr("http.request.method").as_deref(), Some("GET"));
    assert_eq!(root.attr("http.response.status_code").as_deref(), Some("200"), "tags are strings");
    let event = &root.item["events"][0];
    assert!(event["name"].as_str().is_some_and(|n| n.contains("cache-miss")), "{event}");
    assert!(event["timeUnixNano"].is_string(), "{event}");
    let query = by_name(spans, "zipkin.query");
    assert_eq!(query.attr("db.system").as_deref(), Some("postgresql"));
    assert_eq!(query.item["status"]["code"], "STATUS_CODE_ERROR", "{:?}", query.item);
    assert_eq!(by_name(spans, "zipkin.work").item["status"]["code"], "STATUS_CODE_OK");
}

#[test]
fn python_sdk_zipkin_exporters_deliver_spans_with_the_collectors_translation() {
    let sink = Sink::start(&[]);
    let port = free_port();
    let gw = gateway(&sink, port);
    for (encoding, path) in [("json-v2", "/api/v2/spans"), ("proto", "/api/v2/spans")] {
        let (service, run) = (format!("zk-{encoding}"), format!("run-{encoding}"));
        let summary = client(encoding, &format!("http://127.0.0.1:{port}{path}"), &service, &run);
        let spans = wait_spans(&sink, &run, 4, &gw);
        check_common(&spans, &summary);
        for s in &spans {
            assert_eq!(s.resource_attr("service.name").as_deref(), Some(service.as_str()), "{encoding}");
            assert_eq!(
                s.resource_attr("service.version").as_deref(),
                Some("1.2.3"),
                "resource tags move to the resource"
            );
            assert_eq!(s.resource_attr("telemetry.sdk.language").as_deref(), Some("python"));
            assert_eq!(s.scope["name"], "zipkin-e2e", "otel.library.name is the scope");
            assert_eq!(s.scope["version"], "0.1");
            assert!(s.attr("service.name").is_none() && s.attr("otel.library.name").is_none(), "{:?}", s.item);
            assert_eq!(s.attr("net.host.ip").as_deref(), Some("127.0.0.5"), "the local endpoint");
            assert_eq!(s.attr("net.host.port").as_deref(), Some("8080"));
        }
        assert_eq!(by_name(&spans, "zipkin.root").item["kind"], "SPAN_KIND_SERVER", "{encoding}");
        assert_eq!(by_name(&spans, "zipkin.query").item["kind"], "SPAN_KIND_CLIENT");
        assert_eq!(by_name(&spans, "zipkin.publish").item["kind"], "SPAN_KIND_PRODUCER");
        // Zipkin has no INTERNAL kind; the SDK sends none, so the Collector's translation leaves it unspecified.
        assert!(by_name(&spans, "zipkin.work").item.get("kind").is_none());
        // The SDK writes the status description to the `error` tag, which the Collector keeps.
        assert_eq!(by_name(&spans, "zipkin.query").attr("error").as_deref(), Some("db down"));
    }
    // Zipkin v1 JSON: no core annotations from the SDK, so the service comes from the binary
    // annotations' endpoint, and every tag is an attribute (v1 has no resource tags).
    let summary = client("json-v1", &format!("http://127.0.0.1:{port}/api/v1/spans"), "zk-v1", "run-v1");
    let spans = wait_spans(&sink, "run-v1", 4, &gw);
    check_common(&spans, &summary);
    for s in &spans {
        assert_eq!(s.resource_attr("service.name").as_deref(), Some("zk-v1"));
        assert_eq!(s.attr("otel.library.name").as_deref(), Some("zipkin-e2e"));
    }
    let transport = |t: &str| metric(&gw, "otelcol_receiver_accepted_spans", &[&format!("transport=\"{t}\"")]);
    assert_eq!((transport("http_v2_json"), transport("http_v2_proto"), transport("http_v1_json")), (4.0, 4.0, 4.0));
}

/// A raw HTTP/1.1 POST; returns status and body.
fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    c.write_all(head.as_bytes()).and_then(|_| c.write_all(body)).expect("write");
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    let status = buf.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// Sum of a self-metric's samples (with or without `_total`) whose labels contain all of `labels`.
fn metric(gw: &Gateway, name: &str, labels: &[&str]) -> f64 {
    let port = gw.metrics_port.expect("metrics port");
    let (_, text) = support::http_get(&format!("127.0.0.1:{port}"), "/metrics");
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name}_total{{")))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn bad_requests_get_400_and_are_counted_while_good_ones_arrive() {
    let sink = Sink::start(&[]);
    let port = free_port();
    let gw = gateway(&sink, port);
    let json = [("Content-Type", "application/json")];
    let (status, body) = post(port, "/api/v2/spans", &json, b"this is not json");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid Zipkin v2 JSON"), "{body}");
    let no_ids =
        br#"[{"traceId": "5af7183fb1d4cf5f", "id": "6b221d5bc9e6496c", "name": "ok", "timestamp": 1700000000000000},
                      {"name": "no ids", "timestamp": 1700000000000000}]"#;
    let (status, body) = post(port, "/api/v2/spans", &json, no_ids);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("span 1: traceId is required"), "{body}");
    let (status, body) = post(port, "/api/v1/spans", &[("Content-Type", "application/x-thrift")], b"\x0c\x00");
    assert_eq!(status, 415, "{body}");
    assert!(body.contains("Thrift"), "{body}");
    // A good request in the same run, gzip-compressed as zipkin-java sends it.
    let good = br#"[{"traceId": "5af7183fb1d4cf5f5af7183fb1d4cf5f", "id": "6b221d5bc9e6496c", "kind": "SERVER",
        "name": "good", "timestamp": 1700000000000000, "duration": 1500, "localEndpoint": {"serviceName": "svc"},
        "remoteEndpoint": {"serviceName": "caller", "ipv4": "10.1.2.3", "port": 4321},
        "tags": {"run.id": "bad-input", "otel.status_code": "STATUS_CODE_ERROR", "otel.status_description": "nope"}}]"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(good).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let (status, body) =
        post(port, "/api/v2/spans", &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")], &gz);
    assert_eq!((status, body.as_str()), (202, ""));
    let spans = wait_spans(&sink, "bad-input", 1, &gw);
    let s = &spans[0];
    assert_eq!(s.item["name"], "good");
    assert_eq!(s.item["traceId"], "5af7183fb1d4cf5f5af7183fb1d4cf5f");
    assert_eq!(s.item["kind"], "SPAN_KIND_SERVER");
    assert_eq!(s.item["startTimeUnixNano"], "1700000000000000000");
    assert_eq!(s.item["endTimeUnixNano"], "1700000000001500000");
    assert_eq!(
        (s.item["status"]["code"].as_str(), s.item["status"]["message"].as_str()),
        (Some("STATUS_CODE_ERROR"), Some("nope"))
    );
    assert_eq!(s.resource_attr("service.name").as_deref(), Some("svc"));
    assert_eq!(s.attr("peer.service").as_deref(), Some("caller"));
    assert_eq!(s.attr("net.peer.ip").as_deref(), Some("10.1.2.3"));
    assert_eq!(s.attr("net.peer.port").as_deref(), Some("4321"));
    // Counted: two malformed v2 JSON requests (and the Thrift one), the id-less request's two spans refused.
    let v2 = "transport=\"http_v2_json\"";
    assert_eq!(
        metric(&gw, "switchyard_receiver_rejected_requests", &[v2, "reason=\"malformed\""]),
        2.0,
        "{}",
        gw.logs()
    );
    assert_eq!(metric(&gw, "switchyard_receiver_rejected_requests", &["transport=\"http_v1_thrift\""]), 1.0);
    assert_eq!(metric(&gw, "otelcol_receiver_refused_spans", &[v2, "receiver=\"zipkin\""]), 2.0);
    assert_eq!(metric(&gw, "otelcol_receiver_accepted_spans", &[v2]), 1.0);
    assert!(gw.logs().contains("cannot decode Zipkin spans"), "{}", gw.logs());
    assert_eq!(spans_of(&sink, "bad-input").len(), 1, "nothing of the refused requests arrived");
}
