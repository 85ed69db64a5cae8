//! The OTLP/HTTP receiver against a real HTTP client: every status code of the reference
//! (reference/otlp-protocol.md §3, §6, §7.4), every request compression, JSON in and
//! protobuf (or JSON) out with the same data, custom paths, and a 1 GiB gzip bomb.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use prost::Message;
use reqwest::StatusCode;
use support::{items_of, wait_until, Gateway, Sink};
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

struct Setup {
    ok: u16,
    unavailable: u16,
    permanent: u16,
    sink: Sink,
    json_sink: Sink,
    _bad: (Sink, Sink),
    gw: Gateway,
}

fn setup() -> Setup {
    let (sink, json_sink) = (Sink::start(&[]), Sink::start(&[]));
    let (s503, s400) = (Sink::start(&["--fail-status", "503"]), Sink::start(&["--fail-status", "400"]));
    let (ok, unavailable, permanent) = (support::free_port(), support::free_port(), support::free_port());
    let no_queue = "sending_queue: {enabled: false}\n    retry_on_failure: {enabled: false}";
    let config = format!(
        r#"
receivers:
  otlp/ok:
    protocols:
      http:
        endpoint: 127.0.0.1:{ok}
        max_request_body_size: 1048576
        traces_url_path: /custom/traces
  otlp/unavailable:
    protocols:
      http:
        endpoint: 127.0.0.1:{unavailable}
  otlp/permanent:
    protocols:
      http:
        endpoint: 127.0.0.1:{permanent}
exporters:
  otlphttp/proto:
    endpoint: {sink}
  otlphttp/json:
    endpoint: {json_sink}
    encoding: json
  otlphttp/503:
    endpoint: {s503}
    {no_queue}
  otlphttp/400:
    endpoint: {s400}
    {no_queue}
service:
  pipelines:
    traces/ok:
      receivers: [otlp/ok]
      exporters: [otlphttp/proto, otlphttp/json]
    logs/ok:
      receivers: [otlp/ok]
      exporters: [otlphttp/proto]
    traces/unavailable:
      receivers: [otlp/unavailable]
      exporters: [otlphttp/503]
    traces/permanent:
      receivers: [otlp/permanent]
      exporters: [otlphttp/400]
"#,
        sink = sink.http_url(),
        json_sink = json_sink.http_url(),
        s503 = s503.http_url(),
        s400 = s400.http_url(),
    );
    let gw = Gateway::start(&config, permanent);
    Setup { ok, unavailable, permanent, sink, json_sink, _bad: (s503, s400), gw }
}

fn kv(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

fn request(marker: &str, spans: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(switchyard_pdata::proto::resource::v1::Resource {
                attributes: vec![kv("run.id", any_value::Value::StringValue(marker.into()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        trace_id: vec![0xab; 16],
                        span_id: vec![i as u8 + 1; 8],
                        name: format!("span-{i}"),
                        start_time_unix_nano: 1_700_000_000_000_000_000,
                        end_time_unix_nano: 1_700_000_000_500_000_000,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn post(port: u16, path: &str, ctype: &str, encoding: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req =
        reqwest::Client::new().post(format!("http://127.0.0.1:{port}{path}")).header("content-type", ctype).body(body);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    req.send().await.expect("request")
}

fn compress(encoding: &str, raw: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(raw).expect("gzip");
            e.finish().expect("gzip")
        }
        "deflate" | "zlib" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(raw).expect("zlib");
            e.finish().expect("zlib")
        }
        "zstd" => zstd::encode_all(raw, 1).expect("zstd"),
        "snappy" => snap::raw::Encoder::new().compress_vec(raw).expect("snappy"),
        "x-snappy-framed" => {
            let mut w = snap::write::FrameEncoder::new(Vec::new());
            w.write_all(raw).expect("snappy framed");
            w.into_inner().expect("snappy framed")
        }
        "lz4" => {
            let mut w = lz4_flex::frame::FrameEncoder::new(Vec::new());
            w.write_all(raw).expect("lz4");
            w.finish().expect("lz4")
        }
        other => panic!("no compressor for {other}"),
    }
}

fn status_message(body: &[u8]) -> String {
    switchyard_components::otlp_signal::RpcStatus::decode(body).map(|s| s.message).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_codes_compressions_and_json() {
    let s = setup();
    let proto = "application/x-protobuf";
    let path = "/custom/traces";

    // 405, 415, 404 for the default path when a custom one is configured.
    let r = reqwest::Client::new().get(format!("http://127.0.0.1:{}{path}", s.ok)).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = post(s.ok, path, "text/plain", None, b"hello".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.text().await.unwrap_or_default().contains("application/x-protobuf"));
    let r = post(s.ok, "/v1/traces", proto, None, request("x", 1).encode_to_vec()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // 400: undecodable protobuf (Status body in protobuf), bad JSON and a bad id (Status in JSON).
    let r = post(s.ok, path, proto, None, vec![0xff, 0xff, 0xff, 0x01]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], proto);
    assert!(status_message(&r.bytes().await.unwrap_or_default()).contains("failed to decode traces request"));
    let r = post(s.ok, path, "application/json; charset=utf-8", None, b"{not json".to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.expect("JSON status");
    assert_eq!(body["code"], 3);
    let bad_id = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcdef","spanId":"0102030405060708","name":"x"}]}]}]}"#;
    let r = post(s.ok, path, "application/json", None, bad_id.to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap_or_default().contains("traceId"), "the message names the field");

    // Unknown Content-Encoding: 400.
    let r = post(s.ok, path, proto, Some("br"), request("x", 1).encode_to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Too large (max_request_body_size 1 MiB): before and after decompression.
    let r = post(s.ok, path, proto, None, vec![0u8; 2 << 20]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let started = Instant::now();
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        bomb.write_all(&zeros).expect("bomb");
    }
    let bomb = bomb.finish().expect("bomb");
    assert!(bomb.len() < 1 << 20, "a 1 GiB bomb compresses under the compressed limit ({} bytes)", bomb.len());
    let sent = Instant::now();
    let r = post(s.ok, path, proto, Some("gzip"), bomb).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "bomb refused in {:?} (built in {:?})",
        sent.elapsed(),
        started.elapsed()
    );

    // Empty request: 200 without touching the pipeline.
    let r = post(s.ok, path, proto, None, ExportTraceServiceRequest::default().encode_to_vec()).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Every compression the Collector accepts.
    let encodings = ["gzip", "deflate", "zlib", "zstd", "snappy", "x-snappy-framed", "lz4"];
    for enc in encodings {
        let r = post(s.ok, path, proto, Some(enc), compress(enc, &request(enc, 2).encode_to_vec())).await;
        assert_eq!(r.status(), StatusCode::OK, "{enc}");
        assert_eq!(r.headers()["content-type"], proto);
    }
    for enc in encodings {
        assert!(
            wait_until(Duration::from_secs(10), || s.sink.items("traces", Some(enc)) == 2),
            "{enc} did not arrive\n{}",
            s.gw.logs()
        );
    }

    // JSON in (upper-case hex, snake_case keys, int64 as number, enum by name) -> protobuf and JSON out.
    let json = br#"{"resource_spans":[{"resource":{"attributes":[{"key":"run.id","value":{"stringValue":"json-in"}},
        {"key":"n","value":{"intValue":42}}]},
      "scopeSpans":[{"scope":{"name":"lib","version":"1.0"},"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C",
        "spanId":"EEE19B7EC3C1B174","parentSpanId":"","name":"checkout","kind":"SPAN_KIND_SERVER",
        "startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
        "attributes":[{"key":"http.status","value":{"intValue":"200"}},{"key":"ok","value":{"boolValue":true}},
          {"key":"ratio","value":{"doubleValue":0.5}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"}]}}}],
        "status":{"code":2,"message":"boom"},"unknownField":{"x":1}}]}]}]}"#;
    let r = post(s.ok, path, "application/json", None, json.to_vec()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    for sink in [&s.sink, &s.json_sink] {
        assert!(wait_until(Duration::from_secs(10), || sink.items("traces", Some("json-in")) == 1));
        let span = sink.requests().iter().flat_map(|r| items_of(&r["request"], Some("json-in"))).next().expect("span");
        assert_eq!(span.item["traceId"], "5b8efff798038103d269b633813fc60c");
        assert_eq!(span.item["spanId"], "eee19b7ec3c1b174");
        assert_eq!(span.item["name"], "checkout");
        assert_eq!(span.item["kind"], "SPAN_KIND_SERVER");
        assert_eq!(span.item["startTimeUnixNano"], "1544712660000000000");
        assert_eq!(span.item["endTimeUnixNano"], "1544712661000000000");
        assert_eq!(span.item["status"]["code"], "STATUS_CODE_ERROR");
        assert_eq!(span.item["status"]["message"], "boom");
        assert_eq!(span.attr("http.status").as_deref(), Some("200"));
        assert_eq!(span.attr("ok").as_deref(), Some("true"));
        assert_eq!(span.attr("ratio").as_deref(), Some("0.5"));
        assert_eq!(span.item["attributes"][3]["value"]["arrayValue"]["values"][0]["stringValue"], "a");
        assert_eq!(span.resource_attr("n").as_deref(), Some("42"));
        assert_eq!(span.scope["name"], "lib");
        assert_eq!(span.scope["version"], "1.0");
    }
    let transports: Vec<String> = s
        .json_sink
        .requests()
        .iter()
        .map(|r| r["headers"]["content-type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(transports.iter().all(|t| t == "application/json"), "the json exporter sends JSON: {transports:?}");

    // Pipeline refusals: retryable -> 503 (UNAVAILABLE), permanent -> 500 (INTERNAL).
    let r = post(s.unavailable, "/v1/traces", proto, None, request("u", 1).encode_to_vec()).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let status =
        switchyard_components::otlp_signal::RpcStatus::decode(r.bytes().await.unwrap_or_default()).expect("status");
    assert_eq!(status.code, 14);
    assert!(status.message.contains("503"), "{}", status.message);
    let r = post(
        s.permanent,
        "/v1/traces",
        "application/json",
        None,
        switchyard_pdata::json::encode_traces(&request("p", 1)),
    )
    .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = r.json().await.expect("JSON status");
    assert_eq!(body["code"], 13);
    // A signal without a pipeline on this receiver.
    let r = post(s.permanent, "/v1/metrics", proto, None, vec![]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// The OpenTelemetry Python SDK's OTLP/HTTP exporter, sending a 3 MiB export to a 1 MiB
/// limit 200 times, reads a 413 every time: never a reset connection (which it would retry).
#[test]
fn the_python_sdk_reads_every_413_for_an_oversized_export() {
    let s = setup();
    let out = std::process::Command::new(support::python())
        .arg(support::root().join("scripts/backends/sdk_oversize_client.py"))
        .args(["--endpoint", &format!("http://127.0.0.1:{}/custom/traces", s.ok), "-n", "200"])
        .output()
        .expect("run sdk_oversize_client.py");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["statuses"], serde_json::json!({"413": 200}), "{report}");
    assert_eq!(report["errors"], serde_json::json!({}), "no connection errors: {report}");
    assert_eq!(report["results"], serde_json::json!({"FAILURE": 200}), "{report}");
    let refused = s.gw.metric_with("switchyard_receiver_rejected_requests", &["reason=\"too_large\"", "otlp/ok"]);
    assert!(refused >= 200.0, "{refused}");
    assert_eq!(s.sink.items("traces", None), 0);
}
