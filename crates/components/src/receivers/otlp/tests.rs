//! The receiver with an in-process pipeline that refuses on demand: the throttling answers
//! (HTTP 429/503 with Retry-After, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE with RetryInfo) that
//! the memory limiter and queues will produce, and the lifecycle contract.

use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use switchyard_core::component::{ComponentId, Host, Kind, ReceiverFactory, ReceiverOutputs, Settings};
use switchyard_core::consumer::ConsumeError;
use switchyard_core::telemetry::Telemetry;
use switchyard_core::testing::{lifecycle_check, SinkConsumer};
use switchyard_pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::{SignalData, Traces};

use super::{OtlpReceiverConfig, OtlpReceiverFactory};
use crate::otlp_signal::{RetryInfo, RpcStatus, RETRY_INFO_TYPE};

pub(super) use switchyard_core::testing::free_port as port;

pub(super) fn settings() -> Settings {
    Settings { id: ComponentId::new("otlp"), kind: Kind::Receiver, telemetry: Telemetry::default() }
}

fn config(grpc: u16, http: u16) -> OtlpReceiverConfig {
    config_from(&format!(
        "protocols:\n  grpc:\n    endpoint: 127.0.0.1:{grpc}\n  http:\n    endpoint: 127.0.0.1:{http}\n"
    ))
}

/// The receiver's config from YAML, as a config file would give it.
pub(super) fn config_from(yaml: &str) -> OtlpReceiverConfig {
    switchyard_core::config::from_node(&switchyard_core::config::parse("t.yaml", yaml).expect("yaml"), "otlp")
        .expect("config")
}

pub(super) fn one_span() -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "s".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn throttling_answers_carry_the_retry_delay() {
    let sink = SinkConsumer::<Traces>::new();
    let (grpc, http) = (port(), port());
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let receiver = OtlpReceiverFactory.create(settings(), &config(grpc, http), out).expect("create");
    receiver.start(&Host::default()).await.expect("start");

    sink.fail_with(Some(ConsumeError::Throttled {
        message: "over the memory limit".into(),
        retry_after: Duration::from_secs(7),
    }));
    let client = reqwest::Client::new();
    let r = client
        .post(format!("http://127.0.0.1:{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(one_span().encode_to_vec())
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");

    let mut grpc_client = TraceServiceClient::connect(format!("http://127.0.0.1:{grpc}")).await.expect("connect");
    let status = grpc_client.export(one_span()).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    let details = RpcStatus::decode(status.details()).expect("status details");
    let info = details.details.iter().find(|d| d.type_url == RETRY_INFO_TYPE).expect("RetryInfo");
    assert_eq!(RetryInfo::decode(info.value.as_slice()).expect("RetryInfo").retry_delay.map(|d| d.seconds), Some(7));

    sink.fail_with(Some(ConsumeError::Retryable {
        message: "queue full".into(),
        retry_after: Some(Duration::from_secs(2)),
    }));
    let r = client
        .post(format!("http://127.0.0.1:{http}/v1/traces"))
        .header("content-type", "application/json")
        .body(switchyard_pdata::json::encode_traces(&one_span()))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let status = grpc_client.export(one_span()).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::Unavailable);

    sink.fail_with(None);
    grpc_client.export(one_span()).await.expect("accepted");
    assert_eq!(sink.item_count(), 1);
    receiver.shutdown().await;
}

#[tokio::test]
async fn lifecycle() {
    let out = ReceiverOutputs { traces: Some(Arc::new(SinkConsumer::<Traces>::default())), ..Default::default() };
    let a = OtlpReceiverFactory.create(settings(), &config(port(), port()), out.clone()).expect("create");
    let b = OtlpReceiverFactory.create(settings(), &config(port(), port()), out).expect("create");
    lifecycle_check(a.as_ref(), b.as_ref()).await;
}

#[tokio::test]
async fn grpc_requests_over_max_recv_msg_size_are_refused_and_others_still_served() {
    let sink = SinkConsumer::<Traces>::new();
    let grpc = port();
    let cfg =
        config_from(&format!("protocols:\n  grpc:\n    endpoint: 127.0.0.1:{grpc}\n    max_recv_msg_size_mib: 1\n"));
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let receiver = OtlpReceiverFactory.create(settings(), &cfg, out).expect("create");
    receiver.start(&Host::default()).await.expect("start");
    let mut big = one_span();
    big.resource_spans[0].scope_spans[0].spans[0].name = "x".repeat(2 << 20);
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{grpc}")).await.expect("connect");
    let status = client.export(big).await.expect_err("over the limit");
    // RESOURCE_EXHAUSTED as grpc-go (the Collector) answers: the wire size is over the limit.
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    client.export(one_span()).await.expect("a normal request still works");
    assert_eq!(sink.item_count(), 1);
    receiver.shutdown().await;
}

#[tokio::test]
async fn a_grpc_request_keeps_no_more_memory_than_its_bytes() {
    // A batch keeps the request's bytes until it is exported. Split from tonic's read buffer,
    // those bytes would hold its whole allocation (sized for the first DATA frame plus the
    // message, then grown by doubling; 104,401 bytes for this 52,198-byte message) through
    // batching and queueing, which the declared memory bounds do not count.
    let sink = SinkConsumer::<Traces>::new();
    let grpc = port();
    let cfg = config_from(&format!("protocols:\n  grpc:\n    endpoint: 127.0.0.1:{grpc}\n"));
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let receiver = OtlpReceiverFactory.create(settings(), &cfg, out).expect("create");
    receiver.start(&Host::default()).await.expect("start");
    let req = hundred_spans();
    let len = req.encoded_len();
    assert!(len > 3 * 16384, "a message of several HTTP/2 DATA frames: {len}");
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{grpc}")).await.expect("connect");
    client.export(req).await.expect("accepted");
    receiver.shutdown().await;

    let mut batches = sink.take();
    assert_eq!(batches.len(), 1);
    assert_holds_exactly(batches.remove(0), len);
}

/// A request of 100 spans, about 52 KB encoded.
fn hundred_spans() -> ExportTraceServiceRequest {
    let mut req = one_span();
    let span = req.resource_spans[0].scope_spans[0].spans[0].clone();
    req.resource_spans[0].scope_spans[0].spans =
        (0..100).map(|i| Span { name: format!("span-{i}-{}", "n".repeat(480)), ..span.clone() }).collect();
    req
}

/// `batch` is the sole owner of an allocation of exactly `len` bytes.
fn assert_holds_exactly(batch: Traces, len: usize) {
    assert_eq!(batch.item_count(), 100);
    let bytes = batch.to_bytes();
    drop(batch);
    let held = bytes.try_into_mut().expect("the batch was the only owner of its bytes");
    assert_eq!(held.len(), len);
    assert_eq!(held.capacity(), len, "the allocation behind the batch is the message, no more");
}

#[tokio::test]
async fn an_http_request_keeps_no_more_memory_than_its_bytes() {
    let sink = SinkConsumer::<Traces>::new();
    let (grpc, http) = (port(), port());
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let receiver = OtlpReceiverFactory.create(settings(), &config(grpc, http), out).expect("create");
    receiver.start(&Host::default()).await.expect("start");
    let body = hundred_spans().encode_to_vec();
    let r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(body.clone())
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 200);
    receiver.shutdown().await;
    let mut batches = sink.take();
    assert_eq!(batches.len(), 1);
    assert_holds_exactly(batches.remove(0), body.len());
}

/// Sends request headers announcing `len` body bytes and no body yet; returns the socket.
async fn announce_body(http: u16, len: usize) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", http)).await.expect("connect");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    s
}

#[tokio::test]
async fn http_bodies_beyond_the_bytes_in_flight_budget_are_refused_unread_then_accepted_again() {
    let sink = SinkConsumer::<Traces>::new();
    let (grpc, http) = (port(), port());
    let mut cfg = config(grpc, http);
    if let Some(h) = cfg.protocols.http.0.as_mut() {
        h.max_request_body_size = 32 << 20;
    }
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let receiver = OtlpReceiverFactory.create(settings(), &cfg, out).expect("create");
    receiver.start(&Host::default()).await.expect("start");
    // Three slow clients announce 20 MiB bodies: 60 of the 64 MiB budget are reserved.
    let mut slow = Vec::new();
    for _ in 0..3 {
        slow.push(announce_body(http, 20 << 20).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{http}/v1/traces");
    let big = vec![0u8; 8 << 20];
    let r = client.post(&url).header("content-type", "application/x-protobuf").body(big).send().await.expect("post");
    assert_eq!(r.status(), 429, "an 8 MiB body does not fit in the remaining 4 MiB");
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    // A small request still fits.
    let small = one_span().encode_to_vec();
    let r = client.post(&url).header("content-type", "application/x-protobuf").body(small.clone()).send().await;
    assert_eq!(r.expect("post").status(), 200);
    // The slow clients go away: their reservations are released.
    drop(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = client.post(&url).header("content-type", "application/x-protobuf").body(vec![0u8; 8 << 20]).send().await;
    assert_eq!(r.expect("post").status(), 400, "read now (and refused as garbage, not for lack of room)");
    receiver.shutdown().await;
}
