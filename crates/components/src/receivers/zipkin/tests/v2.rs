use std::collections::BTreeMap;

use prost::Message;
use switchyard_pdata::proto::common::v1::any_value::Value;

use super::super::model::{ProtoAnnotation, ProtoEndpoint, ProtoSpan};
use super::super::{decode, DecodeError, Format, ProtoListOfSpans, START_TIME_ABSENT};
use super::{attr, hex, spans, value};

/// A client calling a server (the shape of the Collector's sample JSON testdata), plus a
/// span of a second service listed first, to show the grouping by service.
const TWO_SERVICES: &str = r#"[
  {"traceId": "4d1e00c0db9010db86154a4ba6e91385", "parentId": "86154a4ba6e91385", "id": "4d1e00c0db9010db",
   "kind": "SERVER", "name": "get /api", "timestamp": 1472470996199000, "duration": 207000,
   "localEndpoint": {"serviceName": "frontend", "ipv4": "192.168.99.101", "port": 9000},
   "remoteEndpoint": {"serviceName": "browser", "ipv6": "2001:db8::c001", "port": 54321},
   "annotations": [{"timestamp": 1472470996238000, "value": "ws"}, {"timestamp": 1472470996403000, "value": "wr"}],
   "tags": {"http.path": "/api", "clnt/finagle.version": "6.45.0", "http.status_code": "200"}},
  {"traceId": "4d1e00c0db9010db86154a4ba6e91385", "parentId": "4d1e00c0db9010db", "id": "5e2f11d1ec0121ec",
   "kind": "CLIENT", "name": "get", "timestamp": 1472470996250000, "duration": 100000,
   "localEndpoint": {"serviceName": "frontend"}, "remoteEndpoint": {"serviceName": "backend", "ipv4": "192.168.99.102"}},
  {"traceId": "4d1e00c0db9010db86154a4ba6e91385", "parentId": "5e2f11d1ec0121ec", "id": "6f3022e2fd1232fd",
   "kind": "SERVER", "name": "get", "shared": true, "timestamp": 1472470996260000, "duration": 80000,
   "localEndpoint": {"serviceName": "backend"}}
]"#;

fn json(body: &str) -> Result<switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest, DecodeError> {
    decode(Format::V2Json, body.as_bytes(), false)
}

#[test]
fn spans_are_grouped_per_service_with_kinds_times_parents_and_peer_attributes() {
    let req = json(TWO_SERVICES).expect("decodes");
    // One ResourceSpans per local service, sorted by service name.
    let services: Vec<String> = req
        .resource_spans
        .iter()
        .map(|rs| attr(&rs.resource.as_ref().expect("resource").attributes, "service.name").expect("service.name"))
        .collect();
    assert_eq!(services, ["backend", "frontend"]);
    let all = spans(&req);
    assert_eq!(all.len(), 3);
    let (service, _, server) = all.iter().find(|(_, _, s)| s.name == "get /api").expect("server span");
    assert_eq!(service, "frontend");
    assert_eq!(hex(&server.trace_id), "4d1e00c0db9010db86154a4ba6e91385");
    assert_eq!(hex(&server.span_id), "4d1e00c0db9010db");
    assert_eq!(hex(&server.parent_span_id), "86154a4ba6e91385");
    assert_eq!(server.kind, 2, "SERVER");
    assert_eq!(server.start_time_unix_nano, 1_472_470_996_199_000_000);
    assert_eq!(server.end_time_unix_nano, 1_472_470_996_406_000_000);
    let a = &server.attributes;
    assert_eq!(attr(a, "http.path").as_deref(), Some("/api"));
    assert_eq!(attr(a, "http.status_code").as_deref(), Some("200"), "strings stay strings by default");
    assert!(matches!(value(a, "http.status_code"), Some(Value::StringValue(_))));
    assert_eq!(attr(a, "net.host.ip").as_deref(), Some("192.168.99.101"));
    assert_eq!(attr(a, "net.host.port").as_deref(), Some("9000"));
    assert_eq!(attr(a, "peer.service").as_deref(), Some("browser"));
    assert_eq!(attr(a, "net.peer.ip").as_deref(), Some("2001:db8::c001"));
    assert_eq!(attr(a, "net.peer.port").as_deref(), Some("54321"));
    let events: Vec<(&str, u64)> = server.events.iter().map(|e| (e.name.as_str(), e.time_unix_nano)).collect();
    assert_eq!(events, [("ws", 1_472_470_996_238_000_000), ("wr", 1_472_470_996_403_000_000)]);
    let (_, _, client) = all.iter().find(|(_, _, s)| s.kind == 3).expect("client span");
    assert_eq!(hex(&client.parent_span_id), "4d1e00c0db9010db");
    assert_eq!(attr(&client.attributes, "peer.service").as_deref(), Some("backend"));
    assert_eq!(attr(&client.attributes, "net.peer.ip").as_deref(), Some("192.168.99.102"));
    let (service, _, backend) = all.iter().find(|(_, _, s)| hex(&s.span_id) == "6f3022e2fd1232fd").expect("backend");
    assert_eq!((service.as_str(), backend.kind), ("backend", 2));
}

#[test]
fn status_comes_from_otel_status_code_and_error_tags() {
    let span = |tags: &str| {
        let body = format!(r#"[{{"traceId": "01", "id": "02", "name": "s", "timestamp": 1, "tags": {tags}}}]"#);
        let all = spans(&json(&body).expect("decodes"));
        all[0].2.clone()
    };
    let s = span(r#"{"otel.status_code": "STATUS_CODE_ERROR", "otel.status_description": "boom"}"#);
    let st = s.status.clone().expect("status");
    assert_eq!((st.code, st.message.as_str()), (2, "boom"));
    assert!(
        attr(&s.attributes, "otel.status_code").is_none() && attr(&s.attributes, "otel.status_description").is_none()
    );
    // The exporter spellings the Collector reads, and the specification's (the SDKs').
    assert_eq!(span(r#"{"otel.status_code": "Ok"}"#).status.expect("status").code, 1);
    assert_eq!(span(r#"{"otel.status_code": "ERROR"}"#).status.expect("status").code, 2);
    assert_eq!(span(r#"{"otel.status_code": "bogus"}"#).status.expect("status").code, 0);
    // error=true is an error and is consumed; any other error value stays an attribute.
    let s = span(r#"{"error": "true"}"#);
    assert_eq!(s.status.expect("status").code, 2);
    assert!(attr(&s.attributes, "error").is_none());
    let s = span(r#"{"error": "timeout"}"#);
    assert_eq!(s.status.expect("status").code, 0);
    assert_eq!(attr(&s.attributes, "error").as_deref(), Some("timeout"));
}

#[test]
fn resource_tags_scope_tags_kind_and_trace_state_are_taken_from_tags() {
    let body = r#"[
      {"traceId": "0000000000000001", "id": "0000000000000002", "name": "a", "timestamp": 10,
       "localEndpoint": {"serviceName": "svc"},
       "tags": {"telemetry.sdk.language": "python", "service.version": "1.2", "otel.library.name": "lib",
                "otel.library.version": "0.1", "otel.scope.name": "lib", "span.kind": "internal",
                "w3c.tracestate": "k=v", "http.method": "GET"}},
      {"traceId": "0000000000000001", "id": "0000000000000003", "name": "b", "timestamp": 11,
       "localEndpoint": {"serviceName": "svc"},
       "tags": {"telemetry.sdk.language": "python", "otel.library.name": "lib", "span.kind": "weird"}}
    ]"#;
    let req = json(body).expect("decodes");
    assert_eq!(req.resource_spans.len(), 1);
    let rs = &req.resource_spans[0];
    let r = &rs.resource.as_ref().expect("resource").attributes;
    assert_eq!(attr(r, "service.name").as_deref(), Some("svc"));
    assert_eq!(attr(r, "telemetry.sdk.language").as_deref(), Some("python"));
    assert_eq!(attr(r, "service.version").as_deref(), Some("1.2"));
    assert_eq!(rs.scope_spans.len(), 1, "one scope for one otel.library.name");
    let scope = rs.scope_spans[0].scope.as_ref().expect("scope");
    assert_eq!((scope.name.as_str(), scope.version.as_str()), ("lib", "0.1"));
    let a = &rs.scope_spans[0].spans[0];
    assert_eq!(a.kind, 1, "span.kind=internal");
    assert_eq!(a.trace_state, "k=v");
    assert_eq!(hex(&a.trace_id), "00000000000000000000000000000001", "a 64-bit trace id fills the low half");
    let keys: Vec<&str> = a.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["otel.scope.name", "http.method"], "resource and library tags are not span attributes");
    let b = &rs.scope_spans[0].spans[1];
    assert_eq!(b.kind, 0);
    assert!(b.attributes.is_empty(), "{:?}", b.attributes);
}

#[test]
fn service_name_source_and_spans_without_service() {
    let body = r#"[{"traceId": "1", "id": "2", "timestamp": 1, "localEndpoint": {"serviceName": "svc"},
                    "tags": {"otlp.service.name.source": "faas.name"}},
                   {"traceId": "1", "id": "3", "timestamp": 1, "tags": {"host.name": "h"}}]"#;
    let req = json(body).expect("decodes");
    assert_eq!(req.resource_spans.len(), 2);
    let no_service = &req.resource_spans[0];
    assert!(no_service.resource.as_ref().expect("resource").attributes.is_empty());
    assert!(no_service.scope_spans[0].spans[0].attributes.is_empty(), "host.name is never a span attribute");
    let r = &req.resource_spans[1].resource.as_ref().expect("resource").attributes;
    assert_eq!(attr(r, "faas.name").as_deref(), Some("svc"));
    assert!(attr(r, "service.name").is_none());
}

#[test]
fn parse_string_tags_types_what_looks_typed() {
    let body = r#"[{"traceId": "1", "id": "2", "timestamp": 1, "tags": {"i": "-42", "d": "3.25", "b": "true",
        "B": "True", "e": "1e5", "s": "12a", "big": "99999999999999999999", "empty": ""}}]"#;
    let req = decode(Format::V2Json, body.as_bytes(), true).expect("decodes");
    let a = &spans(&req)[0].2.attributes;
    assert_eq!(value(a, "i"), Some(&Value::IntValue(-42)));
    assert_eq!(value(a, "d"), Some(&Value::DoubleValue(3.25)));
    assert_eq!(value(a, "b"), Some(&Value::BoolValue(true)));
    assert_eq!(value(a, "B"), Some(&Value::StringValue("True".into())));
    assert_eq!(value(a, "e"), Some(&Value::StringValue("1e5".into())));
    assert_eq!(value(a, "s"), Some(&Value::StringValue("12a".into())));
    assert_eq!(value(a, "big"), Some(&Value::IntValue(i64::MAX)), "saturates as Go's ParseInt");
    assert_eq!(value(a, "empty"), Some(&Value::StringValue(String::new())));
}

#[test]
fn a_span_without_start_time_is_flagged_and_annotations_with_attributes_become_events() {
    let body = r#"[{"traceId": "1", "id": "2", "duration": 5,
        "annotations": [{"timestamp": 7, "value": "retry|{\"attempt\":2,\"why\":\"busy\",\"ratio\":0.5}|1"},
                        {"timestamp": 8, "value": "{\"plain\": {}}"}],
        "tags": {"otlp.link.0": "0102030405060708090a0b0c0d0e0f10|0102030405060708|ts=1|{\"k\":\"v\"}|3"}}]"#;
    let s = spans(&json(body).expect("decodes"))[0].2.clone();
    assert_eq!((s.start_time_unix_nano, s.end_time_unix_nano), (0, 5000));
    assert_eq!(value(&s.attributes, START_TIME_ABSENT), Some(&Value::BoolValue(true)));
    assert_eq!(s.events[0].name, "retry");
    assert_eq!(s.events[0].time_unix_nano, 7000);
    assert_eq!(value(&s.events[0].attributes, "attempt"), Some(&Value::IntValue(2)));
    assert_eq!(value(&s.events[0].attributes, "ratio"), Some(&Value::DoubleValue(0.5)));
    assert_eq!(attr(&s.events[0].attributes, "why").as_deref(), Some("busy"));
    assert_eq!(s.events[0].dropped_attributes_count, 1);
    assert_eq!(s.events[1].name, "{\"plain\": {}}", "no pipes: the whole value is the name");
    assert_eq!(s.links.len(), 1);
    assert_eq!(hex(&s.links[0].trace_id), "0102030405060708090a0b0c0d0e0f10");
    assert_eq!((s.links[0].trace_state.as_str(), s.links[0].dropped_attributes_count), ("ts=1", 3));
    assert!(attr(&s.attributes, "otlp.link.0").is_none());
}

#[test]
fn malformed_requests_are_refused_with_the_reason() {
    let err = |body: &str| json(body).expect_err("refused");
    let e = err("not json");
    assert!(matches!(e, DecodeError::Syntax(_)) && e.to_string().contains("invalid Zipkin v2 JSON"), "{e}");
    assert_eq!(e.spans(), 0);
    let e = err(r#"[{"traceId": "1", "id": "2"}, {"traceId": "1", "name": "no id"}]"#);
    assert_eq!(e.to_string(), "span 1: id is required");
    assert_eq!(e.spans(), 2, "the refused request's spans are counted");
    assert_eq!(err(r#"[{"id": "2"}]"#).to_string(), "span 0: traceId is required");
    assert_eq!(err(r#"[{"traceId": "0", "id": "2"}]"#).to_string(), "span 0: traceId: trace id is zero");
    assert!(err(r#"[{"traceId": "xyz", "id": "2"}]"#).to_string().contains("not hex"));
    assert!(err(r#"[{"traceId": "1", "id": "00000000000000000"}]"#).to_string().contains("longer than 16"));
    assert!(err(r#"[{"traceId": "1", "id": "2", "localEndpoint": {"ipv4": "1.2.3"}}]"#).to_string().contains("1.2.3"));
    assert!(err(r#"[{"traceId": "1", "id": "2", "annotations": [{"value": "x"}]}]"#).to_string().contains("timestamp"));
    assert!(matches!(err(r#"[{"traceId": "1", "id": "2", "tags": {"n": 1}}]"#), DecodeError::Syntax(_)));
    assert!(err(r#"[{"traceId": "1", "id": "2", "annotations": [{"timestamp": 1, "value": "a|{bad|0"}]}]"#)
        .to_string()
        .contains("annotation"));
    assert_eq!(json("[]").expect("empty").resource_spans.len(), 0);
}

fn proto_span(trace_id: Vec<u8>, id: Vec<u8>) -> ProtoSpan {
    ProtoSpan {
        trace_id,
        id,
        parent_id: vec![0, 0, 0, 0, 0, 0, 0, 9],
        kind: 1,
        name: "call".into(),
        timestamp: 1_700_000_000_000_000,
        duration: 1500,
        local_endpoint: Some(ProtoEndpoint {
            service_name: "api".into(),
            ipv4: vec![10, 0, 0, 1],
            ipv6: vec![],
            port: 8080,
        }),
        remote_endpoint: Some(ProtoEndpoint { service_name: "db".into(), ipv4: vec![], ipv6: vec![0; 16], port: 5432 }),
        annotations: vec![ProtoAnnotation { timestamp: 1_700_000_000_000_100, value: "sent".into() }],
        tags: BTreeMap::from([("db.system".to_string(), "postgresql".to_string()), ("error".into(), "true".into())]),
        debug: false,
        shared: false,
    }
}

#[test]
fn protobuf_spans_translate_like_json_ones() {
    let list =
        ProtoListOfSpans { spans: vec![proto_span(vec![0xab; 16], vec![7; 8]), proto_span(vec![1; 8], vec![8; 8])] };
    let req = decode(Format::V2Proto, &list.encode_to_vec(), false).expect("decodes");
    let all = spans(&req);
    assert_eq!(all.len(), 2);
    let (service, _, s) = &all[0];
    assert_eq!(service, "api");
    assert_eq!(hex(&s.trace_id), "abababababababababababababababab");
    assert_eq!(hex(&s.span_id), "0707070707070707");
    assert_eq!(hex(&s.parent_span_id), "0000000000000009");
    assert_eq!(s.kind, 3, "CLIENT");
    assert_eq!((s.start_time_unix_nano, s.end_time_unix_nano), (1_700_000_000_000_000_000, 1_700_000_000_001_500_000));
    assert_eq!(s.status.as_ref().expect("status").code, 2);
    assert_eq!(attr(&s.attributes, "db.system").as_deref(), Some("postgresql"));
    assert_eq!(attr(&s.attributes, "net.host.ip").as_deref(), Some("10.0.0.1"));
    assert_eq!(attr(&s.attributes, "net.host.port").as_deref(), Some("8080"));
    assert_eq!(attr(&s.attributes, "peer.service").as_deref(), Some("db"));
    assert_eq!(attr(&s.attributes, "net.peer.ip").as_deref(), Some("::"));
    assert_eq!(attr(&s.attributes, "net.peer.port").as_deref(), Some("5432"));
    assert_eq!((s.events[0].name.as_str(), s.events[0].time_unix_nano), ("sent", 1_700_000_000_000_100_000));
    assert_eq!(hex(&all[1].2.trace_id), "00000000000000000101010101010101", "8-byte trace id");
}

#[test]
fn malformed_protobuf_is_refused() {
    let e = decode(Format::V2Proto, b"\x0a\xff\xff", false).expect_err("truncated");
    assert!(e.to_string().contains("invalid Zipkin v2 protobuf"), "{e}");
    let enc = |s: ProtoSpan| ProtoListOfSpans { spans: vec![s] }.encode_to_vec();
    let e = decode(Format::V2Proto, &enc(proto_span(vec![1; 16], vec![])), false).expect_err("no id");
    assert_eq!(e.to_string(), "span 0: id is required");
    assert_eq!(e.spans(), 1);
    let e = decode(Format::V2Proto, &enc(proto_span(vec![], vec![1; 8])), false).expect_err("no trace id");
    assert_eq!(e.to_string(), "span 0: trace_id is required");
    let e = decode(Format::V2Proto, &enc(proto_span(vec![1; 5], vec![1; 8])), false).expect_err("short trace id");
    assert!(e.to_string().contains("5 bytes"), "{e}");
}
