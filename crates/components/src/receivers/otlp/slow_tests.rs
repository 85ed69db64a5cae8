//! Slow and oversized bodies against the receiver on real sockets: 100 clients that send
//! their headers and then trickle their bodies (HTTP with a length, HTTP chunked, gRPC)
//! hold neither admission slots nor bytes in flight past `read_timeout`, while a normal
//! client keeps being served; and an early refusal is read by the client, not reset.

use std::time::{Duration, Instant};

use bytes::Bytes;
use prost::Message;
use switchyard_core::component::{Host, ReceiverFactory, ReceiverOutputs};
use switchyard_core::telemetry::Telemetry;
use switchyard_core::testing::SinkConsumer;
use switchyard_pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;
use switchyard_pdata::Traces;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tests::{config_from, one_span, port, settings};
use super::{OtlpReceiverConfig, OtlpReceiverFactory};

const READ_TIMEOUT_S: u64 = 12;
const TRICKLE_EVERY: Duration = Duration::from_millis(300);
/// A trickler gives up after this long: far past the read timeout plus the lingering close.
const TRICKLER_LIMIT: Duration = Duration::from_secs(20);

fn config(grpc: u16, http: u16) -> OtlpReceiverConfig {
    config_from(&format!(
        "protocols:\n  grpc:\n    endpoint: 127.0.0.1:{grpc}\n    read_timeout: {READ_TIMEOUT_S}s\n  http:\n    endpoint: 127.0.0.1:{http}\n    read_timeout: {READ_TIMEOUT_S}s\n    max_request_body_size: 62914560\n"
    ))
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// The answer the client read, e.g. "408" or grpc-status "4".
    Answered(String),
    Closed,
    GaveUp,
}

/// HTTP/1.1: headers (with `Content-Length` or chunked), then one byte per tick until the
/// server answers or closes.
async fn http_trickler(http: u16, content_length: Option<usize>) -> Outcome {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", http)).await else { return Outcome::Closed };
    let framing = match content_length {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".to_string(),
    };
    let head =
        format!("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n{framing}\r\n\r\n");
    if s.write_all(head.as_bytes()).await.is_err() {
        return Outcome::Closed;
    }
    let piece: &[u8] = if content_length.is_some() { b"x" } else { b"1\r\nx\r\n" };
    let started = Instant::now();
    let mut buf = [0u8; 512];
    while started.elapsed() < TRICKLER_LIMIT {
        tokio::select! {
            r = s.read(&mut buf) => {
                return match r {
                    Ok(n) if n >= 12 => Outcome::Answered(String::from_utf8_lossy(&buf[9..12]).into_owned()),
                    _ => Outcome::Closed,
                };
            }
            _ = tokio::time::sleep(TRICKLE_EVERY) => {
                if s.write_all(piece).await.is_err() {
                    return Outcome::Closed;
                }
            }
        }
    }
    Outcome::GaveUp
}

/// gRPC over HTTP/2: the call's headers and a frame header announcing 1000 bytes, then
/// one byte per tick until the server answers.
async fn grpc_trickler(grpc: u16) -> Outcome {
    let Ok(tcp) = TcpStream::connect(("127.0.0.1", grpc)).await else { return Outcome::Closed };
    let Ok((client, conn)) = h2::client::handshake(tcp).await else { return Outcome::Closed };
    tokio::spawn(conn);
    let Ok(mut client) = client.ready().await else { return Outcome::Closed };
    let req = http::Request::post(format!(
        "http://127.0.0.1:{grpc}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(())
    .expect("request");
    let Ok((mut response, mut body)) = client.send_request(req, false) else { return Outcome::Closed };
    if body.send_data(Bytes::from_static(&[0, 0, 0, 3, 232]), false).is_err() {
        return Outcome::Closed;
    }
    let started = Instant::now();
    while started.elapsed() < TRICKLER_LIMIT {
        tokio::select! {
            r = &mut response => {
                return match r {
                    Ok(resp) => Outcome::Answered(
                        resp.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("none").to_string(),
                    ),
                    Err(_) => Outcome::Closed,
                };
            }
            _ = tokio::time::sleep(TRICKLE_EVERY) => {
                if body.send_data(Bytes::from_static(b"x"), false).is_err() {
                    return Outcome::Closed;
                }
            }
        }
    }
    Outcome::GaveUp
}

/// 100 requests, alternating HTTP and gRPC; returns how long they took.
async fn normal_client(http: u16, grpc: &mut TraceServiceClient<tonic::transport::Channel>) -> Duration {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{http}/v1/traces");
    let body = one_span().encode_to_vec();
    let started = Instant::now();
    for _ in 0..50 {
        let r = client.post(&url).header("content-type", "application/x-protobuf").body(body.clone()).send().await;
        assert_eq!(r.expect("POST").status(), 200);
        grpc.export(one_span()).await.expect("gRPC export");
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_clients_are_cut_at_read_timeout_and_starve_no_one() {
    let sink = SinkConsumer::<Traces>::new();
    let (grpc, http) = (port(), port());
    let telemetry = Telemetry::default();
    let mut set = settings();
    set.telemetry = telemetry.clone();
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let receiver = OtlpReceiverFactory.create(set, &config(grpc, http), out).expect("create");
    receiver.start(&Host::default()).await.expect("start");
    let mut grpc_client = TraceServiceClient::connect(format!("http://127.0.0.1:{grpc}")).await.expect("connect");
    let baseline = normal_client(http, &mut grpc_client).await;

    // 40 HTTP bodies announcing 200 kB each (8 MB reserved up front), 30 chunked bodies
    // (reserving only what they send), 30 gRPC calls (more than the admission slots).
    let started = Instant::now();
    let mut tricklers = Vec::new();
    for i in 0..100 {
        tricklers.push(tokio::spawn(async move {
            match i % 10 {
                0..=3 => ("http", http_trickler(http, Some(200_000)).await),
                4..=6 => ("chunked", http_trickler(http, None).await),
                _ => ("grpc", grpc_trickler(grpc).await),
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // While they trickle: the normal client is served in full, with no slot to wait for.
    let during = normal_client(http, &mut grpc_client).await;
    assert!(
        started.elapsed() < Duration::from_secs(READ_TIMEOUT_S),
        "the normal client finished only after the tricklers were cut ({:?}): it was starved",
        started.elapsed()
    );
    // The chunked bodies hold only what they sent: 54 MiB of the 64 MiB budget are free,
    // so a 50 MiB body is read (and refused as garbage with 400, not for lack of room: 429).
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{http}/v1/traces");
    let big = vec![0xffu8; 50 << 20];
    let r = client.post(&url).header("content-type", "application/x-protobuf").body(big.clone()).send().await;
    assert_eq!(r.expect("POST").status(), 400, "50 MiB fits beside the tricklers' 8 MB");
    // 60 MiB does not fit while the announced 8 MB are held...
    let bigger = vec![0xffu8; 60 << 20];
    assert!(started.elapsed() < Duration::from_secs(READ_TIMEOUT_S - 2), "tricklers still hold their room");
    let r = client.post(&url).header("content-type", "application/x-protobuf").body(bigger.clone()).send().await;
    assert_eq!(r.expect("POST").status(), 429, "60 MiB does not fit beside 8 MB");

    // ...and every trickler is cut at the read timeout and reads why.
    for t in tricklers {
        let (kind, outcome) = t.await.expect("trickler");
        let want = if kind == "grpc" { "4" } else { "408" };
        assert_eq!(outcome, Outcome::Answered(want.into()), "{kind} trickler");
    }
    let cut = started.elapsed();
    assert!(cut >= Duration::from_secs(READ_TIMEOUT_S), "not before the timeout: {cut:?}");
    let timeouts = |transport: &str| {
        telemetry
            .metrics
            .counter(
                switchyard_core::telemetry::names::RECEIVER_REJECTED_REQUESTS,
                "",
                &[("receiver", "otlp"), ("transport", transport), ("reason", "read_timeout")],
            )
            .get()
    };
    assert_eq!((timeouts("http"), timeouts("grpc")), (70, 30));
    // Their reservations are released: the 60 MiB body is read now.
    let r = client.post(&url).header("content-type", "application/x-protobuf").body(bigger).send().await;
    assert_eq!(r.expect("POST").status(), 400, "read once the tricklers are gone");
    let after = normal_client(http, &mut grpc_client).await;
    eprintln!(
        "100 normal requests: {baseline:?} before, {during:?} beside 100 tricklers, {after:?} after; tricklers cut after {cut:?}"
    );
    receiver.shutdown().await;
}

/// Bodies over `max_request_body_size` are answered 413, 200 times in a row, whether the
/// length is announced or not: the client reads the answer rather than a reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_oversized_bodies_each_read_their_413() {
    let sink = SinkConsumer::<Traces>::new();
    let http = port();
    let cfg = config_from(&format!(
        "protocols:\n  http:\n    endpoint: 127.0.0.1:{http}\n    max_request_body_size: 1048576\n"
    ));
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let receiver = OtlpReceiverFactory.create(settings(), &cfg, out).expect("create");
    receiver.start(&Host::default()).await.expect("start");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{http}/v1/traces");
    let body = Bytes::from(vec![0u8; 3 << 20]);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..200 {
        let req = client.post(&url).header("content-type", "application/x-protobuf");
        let req = if i % 2 == 0 {
            req.body(body.clone())
        } else {
            // No Content-Length: refused once 1 MiB has been read.
            let chunks = futures::stream::iter(
                body.chunks(64 << 10).map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c))).collect::<Vec<_>>(),
            );
            req.body(reqwest::Body::wrap_stream(chunks))
        };
        let outcome = match req.send().await {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) => format!("error: {e:?}"),
        };
        *statuses.entry(outcome).or_insert(0) += 1;
    }
    assert_eq!(statuses, [("413".to_string(), 200)].into(), "every oversized body gets its 413");
    assert_eq!(sink.item_count(), 0);
    receiver.shutdown().await;
}
