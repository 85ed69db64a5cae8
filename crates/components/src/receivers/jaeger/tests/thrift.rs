//! Thrift decoding (binary body, compact and binary `emitBatch` datagrams, bad input) and
//! the Thrift → OTLP translation.

use switchyard_pdata::proto::trace::v1::span::SpanKind;
use switchyard_pdata::proto::trace::v1::status::StatusCode;
use switchyard_pdata::SignalData;

use super::{attr, keys};
use crate::receivers::jaeger::thrift_encode::{binary_batch, binary_emit_batch, compact_emit_batch};
use crate::receivers::jaeger::thrift_model::*;
use crate::receivers::jaeger::thrift_translate::batch_to_traces;

fn tag_str(k: &str, v: &str) -> Tag {
    Tag { key: k.into(), v_type: TagType::String, v_str: Some(v.into()), ..blank_tag() }
}

fn blank_tag() -> Tag {
    Tag {
        key: String::new(),
        v_type: TagType::String,
        v_str: None,
        v_double: None,
        v_bool: None,
        v_long: None,
        v_binary: None,
    }
}

/// A batch with every kind of field set.
pub(crate) fn sample_batch() -> Batch {
    Batch {
        process: Process {
            service_name: "checkout".into(),
            tags: Some(vec![
                tag_str("hostname", "web-1"),
                tag_str("jaeger.version", "Python-4.8.0"),
                Tag { key: "ip".into(), v_type: TagType::Long, v_long: Some(167772161), ..blank_tag() },
            ]),
        },
        spans: vec![Span {
            trace_id_low: 0x0102030405060708,
            trace_id_high: 0x1112131415161718,
            span_id: 0x2122232425262728,
            parent_span_id: 0x3132333435363738,
            operation_name: "GET /cart".into(),
            references: vec![SpanRef { ref_type: 1, trace_id_low: 7, trace_id_high: 0, span_id: 9 }],
            flags: 1,
            start_time: 1_700_000_000_000_000,
            duration: 1500,
            tags: vec![
                tag_str("span.kind", "server"),
                Tag { key: "error".into(), v_type: TagType::Bool, v_bool: Some(true), ..blank_tag() },
                tag_str("otel.status_description", "boom"),
                Tag { key: "http.status_code".into(), v_type: TagType::Long, v_long: Some(500), ..blank_tag() },
                Tag { key: "ratio".into(), v_type: TagType::Double, v_double: Some(0.5), ..blank_tag() },
                Tag { key: "blob".into(), v_type: TagType::Binary, v_binary: Some(vec![1, 2, 3]), ..blank_tag() },
                Tag { key: "odd".into(), v_type: TagType::Unknown(9), ..blank_tag() },
            ],
            logs: vec![Log {
                timestamp: 1_700_000_000_000_500,
                fields: vec![tag_str("event", "cache.miss"), tag_str("key", "user:1")],
            }],
            incomplete: None,
        }],
    }
}

#[test]
fn every_encoding_decodes_to_the_same_batch() {
    let b = sample_batch();
    assert_eq!(decode_binary_batch(&binary_batch(&b)).expect("binary body"), b);
    assert_eq!(decode_compact_emit_batch(&compact_emit_batch(&b)).expect("compact datagram"), b);
    assert_eq!(decode_binary_emit_batch(&binary_emit_batch(&b)).expect("binary datagram"), b);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let b = sample_batch();
    let body = binary_batch(&b);
    // Not Thrift at all, truncated at every length, and a datagram in the wrong protocol.
    assert!(decode_binary_batch(b"this is not thrift").is_err());
    for n in 0..body.len() {
        assert!(decode_binary_batch(&body[..n]).is_err(), "truncated at {n}");
    }
    assert!(decode_compact_emit_batch(&binary_emit_batch(&b)).is_err());
    // A string length far beyond the input is refused before allocating it.
    let mut huge = body.clone();
    // Batch: struct field header (type 12, id 1), Process field 1 string header, then its length.
    huge[6..10].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    assert!(decode_binary_batch(&huge).is_err());
    // A required field missing: a Batch without spans.
    let no_spans = [12u8, 0, 1, 11, 0, 1, 0, 0, 0, 1, b'x', 0, 0];
    let Err(e) = decode_binary_batch(&no_spans) else { panic!("missing spans") };
    assert_eq!(e.to_string(), "required field Spans is not set");
    // Another agent method.
    let mut zipkin = compact_emit_batch(&b);
    let at = zipkin.windows(9).position(|w| w == b"emitBatch").expect("name");
    zipkin[at..at + 9].copy_from_slice(b"emitBatcH");
    assert!(matches!(decode_compact_emit_batch(&zipkin), Err(DecodeError::Method(m)) if m == "emitBatcH"));
}

#[test]
fn translation_is_the_collectors() {
    let t = batch_to_traces(sample_batch());
    let req = t.request();
    assert_eq!(t.item_count(), 1);
    let rs = &req.resource_spans[0];
    let res = &rs.resource.as_ref().expect("resource").attributes;
    assert_eq!(attr(res, "service.name").as_deref(), Some("checkout"));
    assert_eq!(attr(res, "host.name").as_deref(), Some("web-1"));
    assert_eq!(attr(res, "opencensus.exporterversion").as_deref(), Some("Jaeger-Python-4.8.0"));
    assert_eq!(attr(res, "ip").as_deref(), Some("167772161"));
    assert!(attr(res, "hostname").is_none() && attr(res, "jaeger.version").is_none());
    // One unnamed scope: the Thrift path does not read otel.scope.name.
    assert_eq!(rs.scope_spans.len(), 1);
    assert!(rs.scope_spans[0].scope.is_none());
    let s = &rs.scope_spans[0].spans[0];
    assert_eq!(hex(&s.trace_id), "11121314151617180102030405060708");
    assert_eq!(hex(&s.span_id), "2122232425262728");
    assert_eq!(hex(&s.parent_span_id), "3132333435363738");
    assert_eq!(s.name, "GET /cart");
    assert_eq!(s.kind, SpanKind::Server as i32);
    assert_eq!(s.flags, 1);
    assert_eq!(s.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(s.end_time_unix_nano, 1_700_000_000_001_500_000);
    let status = s.status.as_ref().expect("status");
    assert_eq!((status.code, status.message.as_str()), (StatusCode::Error as i32, "boom"));
    // span.kind, error and otel.status_description are consumed; the rest stay, typed.
    assert_eq!(attr(&s.attributes, "http.status_code").as_deref(), Some("500"));
    assert_eq!(attr(&s.attributes, "ratio").as_deref(), Some("0.5"));
    assert_eq!(attr(&s.attributes, "blob").as_deref(), Some("bytes:3"));
    assert_eq!(attr(&s.attributes, "odd").as_deref(), Some("<Unknown Jaeger TagType \"<UNSET>\">"));
    assert!(!keys(&s.attributes).iter().any(|k| ["span.kind", "error", "otel.status_description"].contains(k)));
    // The log is an event named by its `event` field.
    let e = &s.events[0];
    assert_eq!((e.name.as_str(), e.time_unix_nano), ("cache.miss", 1_700_000_000_000_500_000));
    assert_eq!(keys(&e.attributes), vec!["key"]);
    // A FOLLOWS_FROM reference to another trace is a link with its ref type.
    assert_eq!(s.links.len(), 1);
    assert_eq!(hex(&s.links[0].trace_id), "00000000000000000000000000000007");
    assert_eq!(attr(&s.links[0].attributes, "opentracing.ref_type").as_deref(), Some("follows_from"));
}

#[test]
fn parent_comes_from_references_when_parent_span_id_is_zero() {
    let mut b = sample_batch();
    let s = &mut b.spans[0];
    s.parent_span_id = 0;
    let (lo, hi) = (s.trace_id_low, s.trace_id_high);
    let same = |ref_type, span_id| SpanRef { ref_type, trace_id_low: lo, trace_id_high: hi, span_id };
    s.references = vec![same(1, 0x55), same(CHILD_OF, 0x66)];
    let t = batch_to_traces(b);
    let span = &t.request().resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(hex(&span.parent_span_id), "0000000000000066");
    // The CHILD_OF parent is not a link; the FOLLOWS_FROM one is.
    assert_eq!(span.links.len(), 1);
    assert_eq!(hex(&span.links[0].span_id), "0000000000000055");
}

#[test]
fn status_rules() {
    let status = |tags: Vec<Tag>| {
        let mut b = sample_batch();
        b.spans[0].tags = tags;
        let t = batch_to_traces(b);
        let s = t.request().resource_spans[0].scope_spans[0].spans[0].clone();
        (
            s.status.map(|st| (st.code, st.message)),
            keys(&s.attributes).iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        )
    };
    let long = |k: &str, v| Tag { key: k.into(), v_type: TagType::Long, v_long: Some(v), ..blank_tag() };
    // otel.status_code OK, removed with its description.
    let (st, rest) = status(vec![tag_str("otel.status_code", "OK"), tag_str("otel.status_description", "d")]);
    assert_eq!(st, Some((StatusCode::Ok as i32, "d".into())));
    assert!(rest.is_empty(), "{rest:?}");
    // http.status_code alone: 404 is an error for a client, unset for a server.
    let (st, _) = status(vec![tag_str("span.kind", "client"), long("http.status_code", 404)]);
    assert_eq!(st, Some((StatusCode::Error as i32, String::new())));
    let (st, _) = status(vec![tag_str("span.kind", "server"), long("http.status_code", 404)]);
    assert_eq!(st, None);
    let (st, _) = status(vec![tag_str("http.status_code", "503"), tag_str("http.status_message", "down")]);
    assert_eq!(st, Some((StatusCode::Error as i32, "down".into())));
    // error=false is kept as an attribute and sets nothing.
    let f = Tag { key: "error".into(), v_type: TagType::Bool, v_bool: Some(false), ..blank_tag() };
    let (st, rest) = status(vec![f]);
    assert_eq!((st, rest), (None, vec!["error".to_string()]));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Datagrams captured from the OpenTelemetry Python SDK's Jaeger exporter
/// (`scripts/backends/jaeger_client.py --mode agent-compact|agent-binary`): the first span it
/// sends, `GET /cart`, a client span in error.
#[test]
fn real_client_datagrams_decode() {
    for (bytes, decode) in [
        (&include_bytes!("../testdata/sdk-compact-emitbatch.bin")[..], decode_compact_emit_batch as fn(&[u8]) -> _),
        (&include_bytes!("../testdata/sdk-binary-emitbatch.bin")[..], decode_binary_emit_batch),
    ] {
        let batch = decode(bytes).expect("a real client's datagram decodes");
        assert_eq!(batch.process.service_name, "jaeger-e2e");
        let t = batch_to_traces(batch);
        let s = &t.request().resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(s.name, "GET /cart");
        assert_eq!(s.kind, SpanKind::Client as i32);
        assert_eq!(
            s.status.as_ref().map(|st| (st.code, st.message.as_str())),
            Some((StatusCode::Error as i32, "backend down"))
        );
        assert_eq!(s.parent_span_id.len(), 8);
        assert_eq!(attr(&s.attributes, "http.status_code").as_deref(), Some("503"));
    }
}
