//! The protobuf model's wire format and the protobuf → OTLP translation.

use prost::Message;
use switchyard_pdata::proto::trace::v1::span::SpanKind;
use switchyard_pdata::proto::trace::v1::status::StatusCode;
use switchyard_pdata::SignalData;

use super::{attr, keys};
use crate::receivers::jaeger::proto_model::*;
use crate::receivers::jaeger::proto_translate::request_to_traces;

fn kv_str(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), v_type: value_type::STRING, v_str: v.into(), ..Default::default() }
}

fn process(name: &str) -> Process {
    Process { service_name: name.into(), tags: vec![kv_str("hostname", "h1")] }
}

pub(crate) fn sample_request() -> PostSpansRequest {
    let trace: Vec<u8> = (1..=16).collect();
    let span = |id: u8, scope: Option<&str>| Span {
        trace_id: trace.clone(),
        span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
        operation_name: format!("op{id}"),
        flags: 3,
        start_time: Some(Timestamp { seconds: 1_700_000_000, nanos: 5 }),
        duration: Some(Duration { seconds: 1, nanos: 10 }),
        tags: scope
            .map(|s| {
                vec![kv_str("otel.scope.name", s), kv_str("otel.scope.version", "1.0"), kv_str("span.kind", "client")]
            })
            .unwrap_or_default(),
        ..Default::default()
    };
    let mut child = span(2, Some("lib"));
    child.references =
        vec![SpanRef { trace_id: trace.clone(), span_id: vec![0, 0, 0, 0, 0, 0, 0, 1], ref_type: CHILD_OF }];
    child.tags.push(kv_str("w3c.tracestate", "rojo=00f067aa0ba902b7"));
    child.tags.push(kv_str("otel.status_code", "ERROR"));
    child.tags.push(KeyValue { key: "n".into(), v_type: value_type::INT64, v_int64: 7, ..Default::default() });
    child.logs = vec![Log {
        timestamp: Some(Timestamp { seconds: 1_700_000_000, nanos: 6 }),
        fields: vec![kv_str("event", "retry")],
    }];
    let mut other = span(3, None);
    other.process = Some(process("billing"));
    PostSpansRequest { batch: Some(Batch { spans: vec![span(1, None), child, other], process: Some(process("cart")) }) }
}

#[test]
fn field_numbers_are_model_proto() {
    // KeyValue{key: "k", v_type: INT64, v_int64: 1} written by hand from model.proto's numbers.
    let kv = KeyValue::decode(&[0x0a, 1, b'k', 0x10, 2, 0x28, 1][..]).expect("decode");
    assert_eq!((kv.key.as_str(), kv.v_type, kv.v_int64), ("k", value_type::INT64, 1));
    // Span.process is field 10, Batch.process field 2, PostSpansRequest.batch field 1.
    let req = sample_request();
    let bytes = req.encode_to_vec();
    assert_eq!(bytes[0], 0x0a);
    assert_eq!(PostSpansRequest::decode(bytes.as_slice()).expect("round trip"), req);
}

#[test]
fn translation_is_the_collectors() {
    let t = request_to_traces(sample_request()).expect("translate");
    assert_eq!(t.item_count(), 3);
    let req = t.request();
    // Regrouped by process: the batch's process, then the span's own.
    assert_eq!(req.resource_spans.len(), 2);
    let res = |i: usize| req.resource_spans[i].resource.clone().expect("resource").attributes;
    assert_eq!(attr(&res(0), "service.name").as_deref(), Some("cart"));
    assert_eq!(attr(&res(0), "host.name").as_deref(), Some("h1"));
    assert_eq!(attr(&res(1), "service.name").as_deref(), Some("billing"));
    // Scopes by otel.scope.name/version, removed from the attributes.
    let scopes = &req.resource_spans[0].scope_spans;
    assert_eq!(scopes.len(), 2);
    let lib = scopes.iter().find(|s| s.scope.as_ref().is_some_and(|sc| sc.name == "lib")).expect("lib scope");
    assert_eq!(lib.scope.as_ref().map(|s| s.version.as_str()), Some("1.0"));
    let s = &lib.spans[0];
    assert_eq!(s.name, "op2");
    assert_eq!(s.trace_id, (1..=16).collect::<Vec<u8>>());
    assert_eq!(s.parent_span_id, vec![0, 0, 0, 0, 0, 0, 0, 1]);
    assert!(s.links.is_empty(), "the CHILD_OF parent is not a link");
    assert_eq!(s.kind, SpanKind::Client as i32);
    assert_eq!(s.flags, 1, "only the sampled flag is kept");
    assert_eq!(s.trace_state, "rojo=00f067aa0ba902b7");
    assert_eq!(s.status.as_ref().map(|st| st.code), Some(StatusCode::Error as i32));
    assert_eq!(s.start_time_unix_nano, 1_700_000_000_000_000_005);
    assert_eq!(s.end_time_unix_nano, 1_700_000_001_000_000_015);
    assert_eq!(keys(&s.attributes), vec!["n"]);
    assert_eq!(attr(&s.attributes, "n").as_deref(), Some("7"));
    assert_eq!((s.events[0].name.as_str(), s.events[0].time_unix_nano), ("retry", 1_700_000_000_000_000_006));
}

#[test]
fn bad_ids_are_refused_and_short_trace_ids_accepted() {
    let mut req = sample_request();
    if let Some(b) = req.batch.as_mut() {
        b.spans[0].span_id = vec![1, 2, 3];
    }
    let Err(e) = request_to_traces(req) else { panic!("bad span id") };
    assert_eq!(e.to_string(), "invalid length for SpanID: 3 bytes");
    let mut req = sample_request();
    if let Some(b) = req.batch.as_mut() {
        b.spans.truncate(1);
        b.spans[0].trace_id = vec![0, 0, 0, 0, 0, 0, 0, 9];
    }
    let t = request_to_traces(req).expect("64-bit trace id");
    let s = &t.request().resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(s.trace_id, [[0u8; 15].as_slice(), &[9]].concat());
}

#[test]
fn empty_and_serviceless_requests() {
    assert_eq!(request_to_traces(PostSpansRequest { batch: None }).expect("empty").item_count(), 0);
    let req = PostSpansRequest {
        batch: Some(Batch {
            spans: vec![Span { span_id: vec![0, 0, 0, 0, 0, 0, 0, 1], ..Default::default() }],
            process: Some(Process { service_name: "OTLPResourceNoServiceName".into(), tags: vec![kv_str("a", "b")] }),
        }),
    };
    let t = request_to_traces(req).expect("translate");
    assert!(t.request().resource_spans[0].resource.as_ref().is_some_and(|r| r.attributes.is_empty()));
}
