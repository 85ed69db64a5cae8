use switchyard_pdata::proto::common::v1::any_value::Value;

use super::super::{decode, Format, START_TIME_ABSENT};
use super::{attr, hex, spans, value};

fn v1(body: &str, parse: bool) -> switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest {
    decode(Format::V1Json, body.as_bytes(), parse).expect("decodes")
}

/// A client span and the server span it caused, v1 style (core annotations carry the
/// endpoints), after the Collector's zipkinv1 testdata.
const CLIENT_SERVER: &str = r#"[
  {"traceId": "0ed2e63cbe71f5a8", "name": "checkavailability", "id": "0ed2e63cbe71f5a8", "timestamp": 1544805927446743,
   "duration": 12956,
   "annotations": [
     {"timestamp": 1544805927446743, "value": "cs", "endpoint": {"serviceName": "front-proxy", "ipv4": "172.31.0.2", "port": 80}},
     {"timestamp": 1544805927450000, "value": "custom", "endpoint": {"serviceName": "front-proxy", "ipv4": "172.31.0.2", "port": 80}},
     {"timestamp": 1544805927459699, "value": "cr", "endpoint": {"serviceName": "front-proxy", "ipv4": "172.31.0.2", "port": 80}}],
   "binaryAnnotations": [
     {"key": "http.status_code", "value": "503", "endpoint": {"serviceName": "front-proxy"}},
     {"key": "lc", "value": "proxy"}]},
  {"traceId": "0ed2e63cbe71f5a8", "name": "checkstock", "id": "1a2b3c4d5e6f7081", "parentId": "0ed2e63cbe71f5a8",
   "timestamp": 1544805927448081, "duration": 3000,
   "annotations": [{"timestamp": 1544805927448081, "value": "sr", "endpoint": {"serviceName": "service1", "ipv4": "172.31.0.4", "port": 9000}}],
   "binaryAnnotations": [{"key": "error", "value": "no stock"}, {"key": "otel.status_description", "value": "out"},
                          {"key": "retries", "value": "2"}]}
]"#;

#[test]
fn core_annotations_give_kind_times_and_the_resource() {
    let req = v1(CLIENT_SERVER, false);
    assert_eq!(req.resource_spans.len(), 2, "one resource per endpoint");
    let r = &req.resource_spans[0].resource.as_ref().expect("resource").attributes;
    assert_eq!(attr(r, "service.name").as_deref(), Some("front-proxy"));
    assert_eq!(attr(r, "ipv4").as_deref(), Some("172.31.0.2"));
    assert_eq!(attr(r, "port").as_deref(), Some("80"), "the Collector's port is a string");
    let all = spans(&req);
    let (_, _, client) = &all[0];
    assert_eq!(hex(&client.trace_id), "00000000000000000ed2e63cbe71f5a8", "a 64-bit trace id");
    assert_eq!(client.kind, 3, "cs → CLIENT");
    assert_eq!(client.start_time_unix_nano, 1_544_805_927_446_743_000);
    assert_eq!(client.end_time_unix_nano, 1_544_805_927_459_699_000, "span timestamp + duration");
    assert_eq!(client.events.len(), 1, "core annotations are not events");
    assert_eq!(
        (client.events[0].name.as_str(), client.events[0].time_unix_nano),
        ("custom", 1_544_805_927_450_000_000)
    );
    assert_eq!(attr(&client.attributes, "component").as_deref(), Some("proxy"), "lc is renamed");
    assert_eq!(attr(&client.attributes, "http.status_code").as_deref(), Some("503"));
    assert_eq!(client.status.as_ref().expect("status").code, 2, "HTTP 503 is an error");
    let (service, _, server) = &all[1];
    assert_eq!(service, "service1");
    assert_eq!(server.kind, 2, "sr → SERVER");
    assert_eq!(hex(&server.parent_span_id), "0ed2e63cbe71f5a8");
    let st = server.status.as_ref().expect("status");
    assert_eq!((st.code, st.message.as_str()), (2, "out"), "error tag, message from otel.status_description");
    assert!(attr(&server.attributes, "error").is_none());
    assert_eq!(attr(&server.attributes, "retries").as_deref(), Some("2"));
}

#[test]
fn status_preference_and_typed_tags() {
    let body = r#"[{"traceId": "0000000000000001", "id": "0000000000000002", "timestamp": 5,
        "binaryAnnotations": [{"key": "census.status_code", "value": "0"}, {"key": "error", "value": "x"},
                              {"key": "n", "value": "7"}, {"key": "ok", "value": "false"}]},
                   {"traceId": "0000000000000001", "id": "0000000000000003", "timestamp": 5,
        "binaryAnnotations": [{"key": "otel.status_code", "value": "OK"}]}]"#;
    let all = spans(&v1(body, true));
    assert_eq!(all[0].2.status.as_ref().expect("status").code, 1, "census code 0 is OK and wins over error");
    assert_eq!(value(&all[0].2.attributes, "n"), Some(&Value::IntValue(7)));
    assert_eq!(value(&all[0].2.attributes, "ok"), Some(&Value::BoolValue(false)));
    assert_eq!(all[1].2.status.as_ref().expect("status").code, 1);
    assert_eq!(all[0].0, "unknown-service", "no core annotation names a service");
}

#[test]
fn a_span_without_any_time_is_stamped_and_flagged() {
    let body = r#"[{"traceId": "00000000000000010000000000000001", "id": "0000000000000002", "name": "x",
        "binaryAnnotations": [{"key": "k", "value": "v", "endpoint": {"serviceName": "from-binary"}}]}]"#;
    let all = spans(&v1(body, false));
    let (service, _, s) = &all[0];
    assert_eq!(service, "from-binary", "a binary annotation's endpoint names the service");
    assert!(s.start_time_unix_nano > 1_600_000_000_000_000_000 && s.start_time_unix_nano == s.end_time_unix_nano);
    assert_eq!(value(&s.attributes, START_TIME_ABSENT), Some(&Value::BoolValue(true)));
    assert_eq!(hex(&s.trace_id), "00000000000000010000000000000001");
}

#[test]
fn malformed_v1_is_refused() {
    let err = |b: &str| decode(Format::V1Json, b.as_bytes(), false).expect_err("refused").to_string();
    assert!(err("{").contains("zipkinv1"));
    assert_eq!(err(r#"[{"id": "0000000000000002"}]"#), "span 0: traceId is required");
    assert_eq!(err(r#"[{"traceId": "0000000000000001"}]"#), "span 0: id is required");
    assert!(err(r#"[{"traceId": "001", "id": "0000000000000002"}]"#).contains("wrong length"));
    assert!(err(r#"[{"traceId": "0000000000000000", "id": "0000000000000002"}]"#).contains("zero"));
    assert!(err(r#"[{"traceId": "0000000000000001", "id": "000000000000000g"}]"#).contains("hex"));
    let e = decode(Format::V1Thrift, b"", false).expect_err("thrift");
    assert!(e.to_string().contains("Thrift"));
}
