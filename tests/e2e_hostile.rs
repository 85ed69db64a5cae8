//! Hostile input against the real binary, while a well-behaved client keeps sending: 1 GiB
//! gzip and zstd bombs, a snappy body declaring 2 GiB, deeply nested JSON, a 100 MB
//! attribute over gRPC and HTTP, truncated protobuf, 500 idle connections (slowloris),
//! stalled headers and a connection flood past `max_connections`. Each is refused quickly
//! with the protocol's error, counted, and the gateway's memory stays bounded.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use prost::Message;
use support::{gen, wait_until, Gateway, Sink};
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// Peak RSS allowed during the attacks. An idle gateway is about 10 MiB; the limits
/// (20 MiB bodies, 64 MiB bytes in flight, 4 MiB gRPC messages) bound the rest.
const RSS_LIMIT_MIB: u64 = 160;

fn request_with_attribute(value_len: usize) -> Vec<u8> {
    let span = Span {
        trace_id: vec![7; 16],
        span_id: vec![8; 8],
        name: "hostile".into(),
        attributes: vec![KeyValue {
            key: "big".into(),
            value: Some(AnyValue { value: Some(any_value::Value::StringValue("x".repeat(value_len))) }),
            ..Default::default()
        }],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans { spans: vec![span], ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

async fn post(port: u16, ctype: &str, encoding: Option<&str>, body: Vec<u8>) -> Result<(u16, String), String> {
    let mut req = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/traces"))
        .header("content-type", ctype)
        .body(body);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = String::from_utf8_lossy(&r.bytes().await.unwrap_or_default()).to_string();
            Ok((status, text))
        }
        Err(e) => Err(format!("{e:?}")),
    }
}

/// One gRPC Export call over h2c with a raw body; returns grpc-status and message.
async fn grpc_call(port: u16, message: &[u8], declared_len: Option<u32>) -> (String, String) {
    let mut body = vec![0u8];
    body.extend_from_slice(&declared_len.unwrap_or(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let client = reqwest::Client::builder().http2_prior_knowledge().build().expect("client");
    let r = client
        .post(format!("http://127.0.0.1:{port}/opentelemetry.proto.collector.trace.v1.TraceService/Export"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(body)
        .send()
        .await;
    match r {
        Ok(r) => {
            let h = |k: &str| r.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            (h("grpc-status"), h("grpc-message"))
        }
        Err(e) => ("transport".into(), format!("{e:?}")),
    }
}

struct Attack<'a> {
    gw: &'a Gateway,
    report: Vec<String>,
}

impl Attack<'_> {
    fn record(&mut self, what: &str, took: Duration) {
        let peak = self.gw.peak_rss_mib();
        let line = format!("{what}: refused in {} ms, peak RSS {peak} MiB", took.as_millis());
        eprintln!("hostile: {line}");
        assert!(peak < RSS_LIMIT_MIB, "{line}: RSS above {RSS_LIMIT_MIB} MiB");
        self.report.push(line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_quickly_with_bounded_memory_while_others_are_served() {
    let sink = Sink::start(&[]);
    let (g, h) = (support::free_port(), support::free_port());
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{g}", max_connections: 50, read_header_timeout: 2s}}
      http: {{endpoint: "127.0.0.1:{h}", read_header_timeout: 2s}}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp]}}
"#,
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&config, h);
    // The well-behaved client, for the whole run: 500 spans/s over HTTP.
    let good = std::thread::spawn(move || {
        gen(&[
            "traces",
            "--protocol",
            "http",
            "--endpoint",
            &format!("http://127.0.0.1:{h}"),
            "--duration",
            "30s",
            "--rate",
            "500",
            "--batch-size",
            "50",
        ])
    });
    let mut a = Attack { gw: &gw, report: Vec::new() };
    let proto = "application/x-protobuf";

    // 1 GiB of zeros, gzip and zstd: refused after at most max_request_body_size (20 MiB) inflated.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut zs = zstd::stream::write::Encoder::new(Vec::new(), 19).expect("zstd");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        gz.write_all(&zeros).expect("gzip");
        zs.write_all(&zeros).expect("zstd");
    }
    for (name, enc, body) in [("gzip", "gzip", gz.finish().expect("gz")), ("zstd", "zstd", zs.finish().expect("zs"))] {
        let t = Instant::now();
        let (status, text) = post(h, proto, Some(enc), body).await.expect("answered");
        assert_eq!(status, 413, "{name} bomb: {text}");
        assert!(text.contains("after decompression"), "{text}");
        a.record(&format!("1 GiB {name} bomb (HTTP 413)"), t.elapsed());
    }

    // Snappy block format declaring 2 GiB: refused from the header, nothing allocated.
    let mut snappy = Vec::new();
    let mut n: u64 = 2 << 30;
    while n >= 0x80 {
        snappy.push((n as u8) | 0x80);
        n >>= 7;
    }
    snappy.push(n as u8);
    snappy.extend_from_slice(&[0x00, b'x']);
    let t = Instant::now();
    let (status, text) = post(h, proto, Some("snappy"), snappy).await.expect("answered");
    assert_eq!(status, 413, "snappy 2 GiB: {text}");
    a.record("snappy declaring 2 GiB (HTTP 413)", t.elapsed());

    // JSON nested 1,000,000 levels: refused by the depth check before parsing.
    let t = Instant::now();
    let (status, text) = post(h, "application/json", None, "[".repeat(1_000_000).into_bytes()).await.expect("answered");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("max_json_depth"), "{text}");
    a.record("JSON nested 10^6 deep (HTTP 400)", t.elapsed());

    // 100 MB in one attribute: over HTTP the body passes max_request_body_size; over gRPC
    // the frame header declares more than max_recv_msg_size_mib.
    let huge = request_with_attribute(100 << 20);
    let t = Instant::now();
    match post(h, proto, None, huge.clone()).await {
        Ok((status, text)) => assert_eq!(status, 413, "{text}"),
        // The server answers and closes before the client finished writing 100 MB.
        Err(e) => assert!(e.contains("reset") || e.contains("Broken pipe") || e.contains("closed"), "{e}"),
    }
    a.record("100 MB attribute over HTTP (413)", t.elapsed());
    let t = Instant::now();
    let (code, msg) = grpc_call(g, &huge, None).await;
    assert_eq!(code, "8", "gRPC 100 MB message: RESOURCE_EXHAUSTED as the Collector answers: {msg}");
    a.record(&format!("100 MB attribute over gRPC (status {code})"), t.elapsed());

    // Truncated protobuf: 400 / a gRPC error, not a crash.
    let valid = request_with_attribute(1000);
    let cut = valid[..valid.len() / 2].to_vec();
    let t = Instant::now();
    let (status, text) = post(h, proto, None, cut.clone()).await.expect("answered");
    assert_eq!(status, 400, "{text}");
    let (code, msg) = grpc_call(g, &cut, None).await;
    assert!(!code.is_empty() && code != "0", "truncated gRPC message: {code} {msg}");
    let (code, msg) = grpc_call(g, &cut, Some(cut.len() as u32 + 100)).await;
    assert!(!code.is_empty() && code != "0", "frame shorter than declared: {code} {msg}");
    a.record("truncated protobuf (HTTP 400, gRPC error)", t.elapsed());

    // Slowloris: 500 connections that never send, and 100 that stall mid-headers. All are
    // closed after read_header_timeout (2 s); meanwhile the good client keeps going.
    let t = Instant::now();
    let mut idle: Vec<TcpStream> = (0..500).map(|_| TcpStream::connect(("127.0.0.1", h)).expect("connect")).collect();
    for _ in 0..100 {
        let mut s = TcpStream::connect(("127.0.0.1", h)).expect("connect");
        s.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n")
            .expect("partial");
        idle.push(s);
    }
    let closed = idle_closed(&mut idle, Duration::from_secs(10));
    assert_eq!(closed, 600, "every idle or stalled connection is closed by the server");
    let took = t.elapsed();
    assert!(took < Duration::from_secs(6), "closed after read_header_timeout, in {took:?}");
    a.record("600 slowloris connections (closed)", took);
    let timeouts =
        gw.metric_with("switchyard_receiver_refused_connections", &["transport=\"http\"", "reason=\"timeout\""]);
    assert!(timeouts >= 500.0, "timeouts counted: {timeouts}");

    // Half an HTTP/2 preface, then silence: past the first byte, but never a request.
    let t = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", g)).expect("connect");
            s.write_all(b"PRI * HTTP/2.0\r\n").expect("partial preface");
            s
        })
        .collect();
    let closed = idle_closed(&mut stalled, Duration::from_secs(10));
    assert_eq!(closed, 20, "connections that never send a request are closed");
    a.record("20 stalled HTTP/2 prefaces (closed)", t.elapsed());
    let grpc_timeouts =
        gw.metric_with("switchyard_receiver_refused_connections", &["transport=\"grpc\"", "reason=\"timeout\""]);
    assert!(grpc_timeouts >= 20.0, "counted: {grpc_timeouts}");

    // A flood past max_connections (50) on the gRPC port: the excess is closed at once.
    let t = Instant::now();
    let mut flood: Vec<TcpStream> = (0..80).map(|_| TcpStream::connect(("127.0.0.1", g)).expect("connect")).collect();
    let early = idle_closed(&mut flood, Duration::from_millis(1500));
    assert!(early >= 30, "connections past max_connections closed at once: {early}");
    a.record("80 connections against max_connections 50", t.elapsed());
    assert!(gw.metric_with("switchyard_receiver_refused_connections", &["reason=\"max_connections\""]) >= 30.0);
    drop(flood);

    let report = good.join().expect("good client");
    assert_eq!(report["refused_items"], 0, "the well-behaved client was never refused: {report}");
    let sent = report["accepted_items"].as_u64().unwrap_or(0) as usize;
    assert!(sent >= 10_000, "{report}");
    assert!(wait_until(Duration::from_secs(15), || sink.items("traces", None) == sent), "its data all arrived");
    assert!(gw.metric_with("switchyard_receiver_rejected_requests", &["reason=\"too_large\""]) >= 4.0);
    let grpc_refused = |reason: &str| {
        gw.metric_with(
            "switchyard_receiver_rejected_requests",
            &["transport=\"grpc\"", &format!("reason=\"{reason}\"")],
        )
    };
    assert_eq!(grpc_refused("too_large"), 1.0, "the 100 MB gRPC message is counted");
    assert!(grpc_refused("malformed") >= 1.0, "truncated gRPC messages are counted");
    assert!(gw.metric_with("switchyard_receiver_rejected_requests", &["reason=\"json_depth\""]) >= 1.0);
    eprintln!("hostile summary:\n  {}", a.report.join("\n  "));
}

/// Waits up to `within` for the server to close connections; returns how many it closed.
fn idle_closed(conns: &mut [TcpStream], within: Duration) -> usize {
    let deadline = Instant::now() + within;
    let mut closed = vec![false; conns.len()];
    for s in conns.iter() {
        s.set_nonblocking(true).expect("nonblocking");
    }
    while Instant::now() < deadline && closed.iter().any(|c| !c) {
        for (i, s) in conns.iter_mut().enumerate() {
            if closed[i] {
                continue;
            }
            let mut buf = [0u8; 512];
            match s.read(&mut buf) {
                Ok(0) => closed[i] = true,
                Ok(_) => {} // an HTTP error answer; the close follows
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => closed[i] = true,
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    closed.iter().filter(|c| **c).count()
}
