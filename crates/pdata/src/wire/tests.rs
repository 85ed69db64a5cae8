//! The walker against prost: every test feeds the same bytes to both and asserts they
//! agree (accept ⇔ decode, equal item counts, chunks that reassemble the buffer).

mod fixtures;
mod probes;
mod regroup;

use prost::Message as _;

use super::{walk, walk_resource, WireError};
use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::{Logs, Metrics, Signal, SignalData, Traces};
use fixtures::{cat, key, ld};

/// prost's verdict: `Some(item_count)` if `buf` decodes as the request of `signal`.
pub(super) fn prost_items(signal: Signal, buf: &[u8]) -> Option<usize> {
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(buf).ok().map(|r| Traces::from_request(r).item_count()),
        Signal::Metrics => ExportMetricsServiceRequest::decode(buf).ok().map(|r| Metrics::from_request(r).item_count()),
        Signal::Logs => ExportLogsServiceRequest::decode(buf).ok().map(|r| Logs::from_request(r).item_count()),
        Signal::Profiles => None,
    }
}

/// Walks and decodes `buf`, asserts they agree, and returns whether it was accepted.
pub(super) fn agree(signal: Signal, buf: &[u8]) -> bool {
    let walked = walk(signal, buf);
    let decoded = prost_items(signal, buf);
    match (&walked, decoded) {
        (Ok(w), Some(items)) => {
            assert_eq!(w.items, items, "item count differs from item_count() on {buf:02x?}");
            let joined: Vec<u8> = w.chunks.iter().flat_map(|c| &buf[c.start..c.end]).copied().collect();
            assert_eq!(joined, buf, "chunks do not reassemble the buffer");
            assert_eq!(w.chunks.iter().map(|c| c.items as usize).sum::<usize>(), items);
            true
        }
        (Err(_), None) => false,
        _ => panic!("walker {walked:?} but prost {decoded:?} (signal {signal}) on {buf:02x?}"),
    }
}

fn accepted(signal: Signal, buf: &[u8]) {
    assert!(agree(signal, buf), "expected both to accept {buf:02x?}");
}

fn refused(signal: Signal, buf: &[u8]) {
    assert!(!agree(signal, buf), "expected both to refuse {buf:02x?}");
}

/// A span whose payload is `fields`, inside one resource and one scope.
fn in_span(fields: &[u8]) -> Vec<u8> {
    ld(1, &ld(2, &ld(2, fields)))
}

#[test]
fn encoded_requests_are_accepted_with_their_counts_and_chunks() {
    for (signal, buf) in fixtures::samples() {
        assert!(agree(signal, &buf));
        let w = walk(signal, &buf).expect("walk");
        assert!(w.items > 0, "{signal} sample has no items");
        assert!(w.chunks.len() >= 2, "{signal} sample has one resource only");
        for c in &w.chunks {
            // Each chunk is a field-1 element and its payload walks on its own.
            let mut pos = c.start;
            let (number, _) = super::reader::key(&buf, &mut pos, c.end).expect("key");
            assert_eq!(number, 1);
            let (from, to) = super::reader::len_delimited(&buf, &mut pos, c.end).expect("len");
            assert_eq!(to, c.end);
            assert_eq!(walk_resource(signal, &buf[from..to]), Ok(c.items));
        }
    }
}

#[test]
fn empty_request_is_accepted() {
    for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
        assert_eq!(walk(signal, &[]), Ok(super::Walked::default()));
        accepted(signal, &[]);
    }
}

#[test]
fn profiles_are_unsupported() {
    assert_eq!(walk(Signal::Profiles, &[]), Err(WireError::Unsupported(Signal::Profiles)));
    assert_eq!(walk_resource(Signal::Profiles, &[]), Err(WireError::Unsupported(Signal::Profiles)));
}

#[test]
fn error_display_names_the_offset() {
    let err = walk(Signal::Traces, &[0x0a, 0x05, 0x00]).expect_err("truncated");
    assert_eq!(err.to_string(), "invalid protobuf at byte 1: length-delimited field runs past the end of its message");
}

#[test]
fn every_truncation_agrees_with_prost() {
    for (signal, buf) in fixtures::samples() {
        let mut refusals = 0;
        for cut in 0..buf.len() {
            if !agree(signal, &buf[..cut]) {
                refusals += 1;
            }
        }
        assert!(refusals > 0, "{signal}: no truncation was refused");
    }
}

#[test]
fn malformed_keys_are_refused() {
    let t = Signal::Traces;
    // Key above u32::MAX (a 5-byte varint with bit 32 set), with a valid varint value after it.
    refused(t, &[0x80, 0x80, 0x80, 0x80, 0x10, 0x00]);
    // Largest key that fits in 32 bits: field 536870911, wire type 7 → refused for the type.
    refused(t, &[0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    // Field 536870911 wire type 0 fits: an unknown varint field.
    accepted(t, &[0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    // Wire types 6 and 7, at the top and inside a span.
    refused(t, &cat(&[&key(9, 6), &[0]]));
    refused(t, &cat(&[&key(9, 7), &[0]]));
    refused(t, &in_span(&cat(&[&key(30, 6), &[0]])));
    // Field number 0.
    refused(t, &[0x02, 0x00]);
    refused(t, &in_span(&[0x00, 0x00]));
}

#[test]
fn varint_limits_match_prost() {
    let t = Signal::Traces;
    let with_value = |v: &[u8]| cat(&[&key(20, 0), v]);
    // Ten bytes whose last is 0x01: u64::MAX-sized, accepted.
    accepted(t, &with_value(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    // Last byte 0x02 overflows.
    refused(t, &with_value(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]));
    // Redundant zero continuation up to ten bytes is fine; eleven bytes is not.
    accepted(t, &with_value(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]));
    refused(t, &with_value(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]));
    // Truncated at the end of the buffer and at the end of a nested message.
    refused(t, &with_value(&[0xff, 0xff]));
    refused(t, &cat(&[&in_span(&[0x30, 0x80]), &[0x01]]));
    // A 10-byte varint as a length is far too long for the buffer.
    refused(t, &cat(&[&key(20, 2), &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]]));
}

#[test]
fn known_fields_with_the_wrong_wire_type_are_refused() {
    let t = Signal::Traces;
    refused(t, &cat(&[&key(1, 0), &[0]])); // resource_spans as a varint
    refused(t, &cat(&[&key(1, 3), &key(1, 4)])); // resource_spans as a group
    refused(t, &in_span(&cat(&[&key(5, 0), &[0]]))); // name as a varint
    refused(t, &in_span(&cat(&[&key(16, 1), &[0; 8]]))); // flags (fixed32) as fixed64
    refused(t, &in_span(&cat(&[&key(7, 5), &[0; 4]]))); // start time (fixed64) as fixed32
    refused(t, &in_span(&cat(&[&key(6, 2), &[0]]))); // kind (singular enum) packed
    refused(t, &in_span(&cat(&[&key(9, 0), &[0]]))); // attributes as a varint
    accepted(t, &in_span(&cat(&[&key(6, 0), &[0xff, 0xff, 0xff, 0xff, 0x7f]]))); // any enum value
    accepted(t, &in_span(&cat(&[&key(10, 0), &[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]])));
    // u32 truncated
}

/// A histogram data point whose payload is `fields`, in a metric, scope and resource.
fn in_histogram_point(fields: &[u8]) -> Vec<u8> {
    ld(1, &ld(2, &ld(2, &ld(9, &ld(1, fields)))))
}

/// Exponential histogram buckets (`positive`) whose payload is `fields`.
fn in_buckets(fields: &[u8]) -> Vec<u8> {
    ld(1, &ld(2, &ld(2, &ld(10, &ld(1, &ld(8, fields))))))
}

#[test]
fn repeated_numbers_accept_packed_and_unpacked_forms() {
    let m = Signal::Metrics;
    // bucket_counts (repeated fixed64): packed 16 bytes, unpacked, mixed.
    accepted(m, &in_histogram_point(&cat(&[&key(6, 2), &[16], &[1; 16]])));
    accepted(m, &in_histogram_point(&cat(&[&key(6, 1), &[1; 8], &key(6, 2), &[8], &[2; 8]])));
    accepted(m, &in_histogram_point(&cat(&[&key(6, 2), &[0]])));
    refused(m, &in_histogram_point(&cat(&[&key(6, 2), &[7], &[1; 7]])));
    refused(m, &in_histogram_point(&cat(&[&key(6, 2), &[9], &[1; 9]])));
    refused(m, &in_histogram_point(&cat(&[&key(6, 0), &[1]])));
    refused(m, &in_histogram_point(&cat(&[&key(6, 5), &[1; 4]])));
    // explicit_bounds (repeated double) likewise.
    accepted(m, &in_histogram_point(&cat(&[&key(7, 2), &[8], &[0; 8], &key(7, 1), &[0; 8]])));
    refused(m, &in_histogram_point(&cat(&[&key(7, 2), &[4], &[0; 4]])));
    // Singular double (sum) packed is refused.
    refused(m, &in_histogram_point(&cat(&[&key(5, 2), &[8], &[0; 8]])));
    // Buckets.bucket_counts (repeated uint64): packed varints must end exactly at the limit.
    accepted(m, &in_buckets(&cat(&[&key(2, 2), &[3, 0x01, 0x80, 0x01], &key(2, 0), &[5]])));
    refused(m, &in_buckets(&cat(&[&key(2, 2), &[2, 0x01, 0x80]])));
    refused(m, &in_buckets(&cat(&[&key(2, 2), &[1, 0x80], &[0x01]])));
    refused(m, &in_buckets(&cat(&[&key(2, 1), &[0; 8]])));
    // A packed varint overflowing in its tenth byte.
    refused(m, &in_buckets(&cat(&[&key(2, 2), &[10], &[0xff; 9], &[0x02]])));
}

#[test]
fn lengths_must_fit_their_message() {
    let t = Signal::Traces;
    refused(t, &cat(&[&key(20, 2), &[5], &[0; 4]]));
    accepted(t, &cat(&[&key(20, 2), &[5], &[0; 5]]));
    // A name whose length runs past the span's end (but not past the buffer).
    let span = cat(&[&key(5, 2), &[4], b"ab"]);
    let mut buf = ld(1, &ld(2, &ld(2, &span)));
    buf.extend_from_slice(b"cd");
    refused(t, &buf);
    // The same with the span itself too long for its scope.
    let inner = cat(&[&key(2, 2), &[6], &key(5, 2), &[2], b"ab"]);
    refused(t, &ld(1, &ld(2, &inner)));
}

#[test]
fn strings_must_be_utf8_and_bytes_need_not() {
    let t = Signal::Traces;
    refused(t, &in_span(&cat(&[&key(5, 2), &[2, 0xc3, 0x28]]))); // name
    accepted(t, &in_span(&cat(&[&key(5, 2), &[2, 0xc3, 0xa9]])));
    accepted(t, &in_span(&cat(&[&key(1, 2), &[2, 0xc3, 0x28]]))); // trace_id: bytes
    accepted(t, &in_span(&cat(&[&key(40, 2), &[1, 0xff]]))); // unknown field
    let attr = |kv: &[u8]| in_span(&ld(9, kv));
    refused(t, &attr(&cat(&[&key(1, 2), &[1, 0xff]]))); // KeyValue.key
    refused(t, &attr(&ld(2, &cat(&[&key(1, 2), &[1, 0xff]])))); // AnyValue.string_value
    accepted(t, &attr(&ld(2, &cat(&[&key(7, 2), &[1, 0xff]])))); // AnyValue.bytes_value
                                                                 // EntityRef.id_keys is a repeated string.
    let entity = |payload: &[u8]| ld(1, &ld(1, &ld(3, payload)));
    refused(t, &entity(&cat(&[&key(3, 2), &[1, 0xff]])));
    accepted(t, &entity(&cat(&[&key(3, 2), &[1, b'a'], &key(3, 2), &[0]])));
}

#[test]
fn unknown_fields_and_groups_are_skipped_like_prost() {
    let t = Signal::Traces;
    let group = |n: u32, inner: &[u8]| cat(&[&key(n, 3), inner, &key(n, 4)]);
    // At the top level: each unknown field is a chunk with no items.
    let buf = cat(&[
        &group(9, &[]),
        &in_span(&[]),
        &group(9, &cat(&[&key(1, 0), &[1], &key(2, 2), &[1, 0xff], &group(3, &group(4, &[]))])),
        &key(10, 5),
        &[0; 4],
    ]);
    accepted(t, &buf);
    let w = walk(t, &buf).expect("walk");
    assert_eq!(w.chunks.len(), 4);
    assert_eq!(w.chunks.iter().map(|c| c.items).collect::<Vec<_>>(), [0, 1, 0, 0]);
    // Inside a span.
    accepted(t, &in_span(&group(20, &cat(&[&key(5, 0), &[1], &key(6, 1), &[0; 8]]))));
    // A stray end-group, a mismatched end, an unterminated group, a group crossing its message's end.
    refused(t, &key(9, 4));
    refused(t, &in_span(&key(20, 4)));
    refused(t, &cat(&[&key(9, 3), &key(8, 4)]));
    refused(t, &group(9, &cat(&[&key(3, 3), &key(9, 4)])));
    refused(t, &cat(&[&key(9, 3), &key(1, 0), &[1]]));
    let mut crossing = in_span(&key(20, 3));
    crossing.extend_from_slice(&key(20, 4));
    refused(t, &crossing);
    // A known field number inside an unknown group is just skipped (name as varint here).
    accepted(t, &in_span(&group(20, &cat(&[&key(5, 0), &[1]]))));
}

/// A logs request whose one log record's body is `depth` AnyValues nested through
/// ArrayValues, the innermost having payload `leaf`.
fn nested_body(depth: usize, leaf: &[u8]) -> Vec<u8> {
    let mut any = leaf.to_vec();
    for _ in 0..depth {
        any = ld(5, &ld(1, &any));
    }
    ld(1, &ld(2, &ld(2, &ld(5, &any))))
}

#[test]
fn recursion_limit_matches_prost_at_every_depth() {
    let leaves: [&[u8]; 6] = [
        &[],
        &cat(&[&key(3, 0), &[7]]),                           // int_value, a known scalar
        &cat(&[&key(30, 0), &[7]]),                          // unknown varint: needs budget
        &cat(&[&key(30, 3), &key(30, 4)]),                   // empty group
        &cat(&[&key(30, 3), &key(1, 0), &[0], &key(30, 4)]), // group with a field
        &cat(&[&key(6, 2), &[2], &key(1, 2), &[0]]),         // kvlist with one empty KeyValue
    ];
    for (i, leaf) in leaves.iter().enumerate() {
        let verdicts: Vec<bool> = (40..52).map(|d| agree(Signal::Logs, &nested_body(d, leaf))).collect();
        // Each leaf is accepted up to some depth and refused beyond it, as prost does.
        let first_refused = verdicts.iter().position(|ok| !ok).unwrap_or_else(|| panic!("leaf {i}: never refused"));
        assert!(first_refused > 0, "leaf {i}: refused at every depth");
        assert!(verdicts[first_refused..].iter().all(|ok| !ok), "leaf {i}: {verdicts:?}");
    }
    // The same with AnyValue → KeyValueList → KeyValue → AnyValue (three levels per step).
    for d in 25..40 {
        let mut any: Vec<u8> = Vec::new();
        for _ in 0..d {
            any = ld(6, &ld(1, &ld(2, &any)));
        }
        agree(Signal::Logs, &ld(1, &ld(2, &ld(2, &ld(5, &any)))));
    }
}

#[test]
fn recursion_limit_counts_messages_like_prost_decode() {
    // Depth in messages below the request: request(budget 100) → ResourceLogs → ScopeLogs →
    // LogRecord → AnyValue, then 2 messages per nesting level. The deepest message prost
    // enters has its fields merged with budget 0: `n` levels reach budget 96 - 2n at the
    // innermost AnyValue's fields, so 48 levels is the last accepted with an empty leaf.
    assert!(agree(Signal::Logs, &nested_body(48, &[])));
    assert!(!agree(Signal::Logs, &nested_body(49, &[])));
    // A known scalar needs no budget, an unknown field needs budget above 0.
    assert!(agree(Signal::Logs, &nested_body(48, &cat(&[&key(3, 0), &[7]]))));
    assert!(!agree(Signal::Logs, &nested_body(48, &cat(&[&key(30, 0), &[7]]))));
    assert!(agree(Signal::Logs, &nested_body(47, &cat(&[&key(30, 0), &[7]]))));
}

#[test]
fn metric_data_oneof_counts_like_item_count() {
    use crate::proto::metrics::v1::{metric::Data, Gauge, Metric, NumberDataPoint, Sum};
    let gauge = |n: usize| {
        Metric {
            data: Some(Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default(); n] })),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let sum = |n: usize| {
        Metric {
            data: Some(Data::Sum(Sum { data_points: vec![NumberDataPoint::default(); n], ..Default::default() })),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let named = Metric { name: "m".into(), ..Default::default() }.encode_to_vec();
    // Concatenated encodings of one message merge: same member → points add up, another
    // member → replaced, a metric without data → 0, a metric repeated → counted twice.
    let cases: [(Vec<u8>, usize); 6] = [
        (cat(&[&gauge(2), &gauge(1)]), 3),
        (cat(&[&gauge(2), &sum(3)]), 3),
        (cat(&[&sum(3), &gauge(0)]), 0),
        (cat(&[&gauge(2), &sum(3), &gauge(1)]), 1),
        (cat(&[&gauge(4), &named]), 4),
        (named.clone(), 0),
    ];
    for (metric, expected) in cases {
        let buf = ld(1, &ld(2, &cat(&[&ld(2, &metric), &ld(2, &metric)])));
        assert!(agree(Signal::Metrics, &buf));
        assert_eq!(walk(Signal::Metrics, &buf).expect("walk").items, 2 * expected);
    }
}

#[test]
fn varint_reader_reports_where_it_failed() {
    let buf = [0x00, 0x96, 0x01, 0xff];
    let mut pos = 1;
    assert_eq!(super::reader::varint(&buf, &mut pos, 4), Ok(150));
    assert_eq!(pos, 3);
    assert_eq!(
        super::reader::varint(&buf, &mut pos, 4),
        Err(WireError::Malformed { offset: 3, reason: "truncated varint" })
    );
    // The end bound wins over the buffer: 0x96 0x01 cut at 2 is truncated.
    let mut pos = 1;
    assert!(super::reader::varint(&buf, &mut pos, 2).is_err());
}
