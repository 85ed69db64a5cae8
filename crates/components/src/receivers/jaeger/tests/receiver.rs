//! The receiver running in process: every protocol delivers, bad input is answered, counted
//! and loses nothing else.

use std::time::Duration;

use switchyard_core::component::{Host, Kind, ReceiverFactory, ReceiverOutputs};
use switchyard_core::telemetry::ReceiverObs;
use switchyard_core::testing::SinkConsumer;
use switchyard_pdata::Traces;

use super::proto::sample_request;
use super::thrift::sample_batch;
use crate::receivers::jaeger::proto_model::{PostSpansRequest, PostSpansResponse};
use crate::receivers::jaeger::thrift_encode::{binary_batch, binary_emit_batch, compact_emit_batch};
use crate::receivers::jaeger::JaegerReceiverFactory;

use switchyard_core::testing::free_port as port;

fn udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).expect("port")
}

async fn wait_for(sink: &SinkConsumer<Traces>, spans: usize) -> bool {
    for _ in 0..100 {
        if sink.item_count() >= spans {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn every_protocol_delivers_and_bad_input_is_refused() {
    let (g, h, c, b) = (port(), port(), udp_port(), udp_port());
    let cfg = super::cfg(&format!(
        "protocols:\n  grpc:\n    endpoint: 127.0.0.1:{g}\n  thrift_http:\n    endpoint: 127.0.0.1:{h}\n  thrift_compact:\n    endpoint: 127.0.0.1:{c}\n  thrift_binary:\n    endpoint: 127.0.0.1:{b}\n"
    ));
    let set = switchyard_core::testing::settings(Kind::Receiver, "jaeger");
    let (telemetry, id) = (set.telemetry.clone(), set.id.clone());
    let sink = SinkConsumer::<Traces>::new();
    let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
    let r = JaegerReceiverFactory.create(set, &cfg, out).expect("create");
    r.start(&Host::default()).await.expect("start");
    let malformed = |transport: &str| ReceiverObs::new(&telemetry, &id, transport).guard.req_malformed.get();

    // thrift_http: not Thrift → 400 with the reason, counted; then a real batch → 202.
    let web = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{h}/api/traces");
    let resp =
        web.post(&url).header("content-type", "application/x-thrift").body("not thrift").send().await.expect("post");
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap_or_default().starts_with("Unable to process request body:"));
    assert_eq!(malformed("collector_http"), 1);
    let resp = web.post(&url).header("content-type", "application/json").body("{}").send().await.expect("post");
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.text().await.unwrap_or_default(), "Unsupported content type: application/json\n");
    let body = binary_batch(&sample_batch());
    let resp = web.post(&url).header("content-type", "application/x-thrift").body(body).send().await.expect("post");
    assert_eq!(resp.status(), 202);
    assert!(wait_for(&sink, 1).await);

    // UDP: a garbage datagram is counted; good ones in both protocols arrive.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    udp.send_to(b"garbage", ("127.0.0.1", c)).expect("send");
    udp.send_to(&compact_emit_batch(&sample_batch()), ("127.0.0.1", c)).expect("send");
    udp.send_to(&binary_emit_batch(&sample_batch()), ("127.0.0.1", b)).expect("send");
    assert!(wait_for(&sink, 3).await, "{} spans", sink.item_count());
    assert_eq!(malformed("udp_thrift_compact"), 1);

    // gRPC PostSpans through a tonic client.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{g}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = tonic::client::Grpc::new(channel);
    let path = http::uri::PathAndQuery::from_static("/jaeger.api_v2.CollectorService/PostSpans");
    let codec = tonic_prost::ProstCodec::<PostSpansRequest, PostSpansResponse>::default();
    client.ready().await.expect("ready");
    client.unary(tonic::Request::new(sample_request()), path.clone(), codec).await.expect("PostSpans");
    assert!(wait_for(&sink, 6).await, "{} spans", sink.item_count());
    // A span id of the wrong length is INVALID_ARGUMENT and counted.
    let mut bad = sample_request();
    if let Some(b) = bad.batch.as_mut() {
        b.spans[0].span_id = vec![1];
    }
    let codec = tonic_prost::ProstCodec::<PostSpansRequest, PostSpansResponse>::default();
    client.ready().await.expect("ready");
    let Err(err) = client.unary(tonic::Request::new(bad), path, codec).await else { panic!("refused") };
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert_eq!(malformed("grpc"), 1);
    assert_eq!(sink.item_count(), 6, "nothing else lost or added");
    r.shutdown().await;
}
