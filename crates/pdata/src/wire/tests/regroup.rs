//! Splitting by trace id from the bytes (`wire::regroup`): the cases the proptests in
//! `tests/wire.rs` do not generate (fields out of order, unknown fields, a batch that needs
//! no split).

use bytes::Bytes;
use prost::Message as _;

use super::fixtures::{cat, key, ld, varint};
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::wire::regroup::{split, Split, SPAN_TRACE_ID};
use crate::{SignalData, Traces};

/// A span field (ScopeSpans.spans) with this trace id and name.
fn span(id: u8, name: &str) -> Vec<u8> {
    ld(2, &cat(&[&ld(1, &[id; 16]), &ld(5, name.as_bytes())]))
}

#[test]
fn every_part_gets_the_envelope_fields_wherever_they_were() {
    // The resource's schema URL comes after its scopes and the scope carries an unknown
    // field (99) between its spans: each part keeps both, and the spans it owns.
    let scope = cat(&[&ld(1, &ld(1, b"lib")), &span(1, "a"), &key(99, 0), &varint(7), &span(2, "b"), &ld(3, b"s-url")]);
    let resource = cat(&[&ld(1, &ld(1, &ld(1, b"k"))), &ld(2, &scope), &ld(3, b"r-url")]);
    let request = ld(1, &resource);
    let Ok(Split::Parts(parts)) = split(&[&request], SPAN_TRACE_ID, 2, &mut |id| usize::from(id[0] == 2)) else {
        panic!("expected two parts");
    };
    for (part, name) in parts.iter().zip(["a", "b"]) {
        assert_eq!(part.items, 1);
        let req = ExportTraceServiceRequest::decode(&part.bytes[..]).unwrap();
        let rs = &req.resource_spans[0];
        assert_eq!(rs.schema_url, "r-url");
        assert_eq!(rs.resource.as_ref().unwrap().attributes[0].key, "k");
        let ss = &rs.scope_spans[0];
        assert_eq!((ss.schema_url.as_str(), ss.scope.as_ref().unwrap().name.as_str()), ("s-url", "lib"));
        assert_eq!(ss.spans.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), [name]);
        // The unknown field travelled with the scope's own fields.
        let unknown = cat(&[&key(99, 0), &varint(7)]);
        assert!(part.bytes.windows(unknown.len()).any(|w| w == unknown));
    }
}

#[test]
fn a_batch_whose_spans_share_one_owner_is_kept_as_it_is() {
    let request = ld(1, &ld(2, &cat(&[&span(3, "a"), &span(4, "b")])));
    assert_eq!(split(&[&request], SPAN_TRACE_ID, 4, &mut |_| 2).unwrap(), Split::Whole(2));
    // Through the batch: the same bytes, not a copy.
    let bytes = Bytes::from(request.clone());
    let batch = Traces::from_encoded(bytes.clone()).unwrap();
    let parts = batch.partition_by_trace_id(4, |_| 2);
    assert_eq!(parts.iter().map(|p| p.item_count()).collect::<Vec<_>>(), [0, 0, 2, 0]);
    assert_eq!(parts[2].to_bytes().as_ptr(), bytes.as_ptr());
}

#[test]
fn the_last_trace_id_of_a_span_counts_and_a_missing_one_is_empty() {
    // prost keeps the last occurrence of a bytes field.
    let twice = ld(2, &cat(&[&ld(1, &[1; 16]), &ld(1, &[9; 16])]));
    let none = ld(2, &ld(5, b"no id"));
    let request = ld(1, &ld(2, &cat(&[&twice, &none])));
    let mut seen = Vec::new();
    let out = split(&[&request], SPAN_TRACE_ID, 2, &mut |id| {
        seen.push(id.to_vec());
        id.len() % 2
    })
    .unwrap();
    assert_eq!(seen, [vec![9u8; 16], vec![]]);
    assert_eq!(out, Split::Whole(0));
}

#[test]
fn parts_split_across_chunks_and_indices_past_the_end_go_to_the_last_part() {
    let a = ld(1, &ld(2, &cat(&[&span(0, "a"), &span(1, "d")])));
    let b = ld(1, &ld(2, &cat(&[&span(7, "b"), &span(1, "c")])));
    let Ok(Split::Parts(parts)) = split(&[&a, &b], SPAN_TRACE_ID, 2, &mut |id| usize::from(id[0])) else {
        panic!("expected parts");
    };
    let names = |bytes: &[u8]| -> Vec<String> {
        let req = ExportTraceServiceRequest::decode(bytes).unwrap();
        req.resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).map(|s| s.name.clone()).collect()
    };
    assert_eq!((parts[0].items, parts[1].items), (1, 3));
    assert_eq!(names(&parts[0].bytes), ["a"]);
    assert_eq!(names(&parts[1].bytes), ["d", "b", "c"]);
    // Two resources (one per chunk) in part 1.
    assert_eq!(ExportTraceServiceRequest::decode(&parts[1].bytes[..]).unwrap().resource_spans.len(), 2);
}

#[test]
fn the_resource_skeleton_is_the_request_without_its_scopes_and_the_parts_are_the_chunks() {
    let scope = cat(&[&ld(1, &ld(1, b"lib")), &span(1, "a")]);
    let one = ld(1, &cat(&[&ld(1, &ld(1, &ld(1, b"k1"))), &ld(2, &scope), &ld(3, b"url-1"), &key(77, 0), &varint(1)]));
    let two = ld(1, &cat(&[&ld(2, &scope), &ld(1, &ld(1, &ld(1, b"k2")))]));
    let batch = Traces::from_encoded(Bytes::from(cat(&[&one, &two]))).unwrap();
    let (parts, skeleton) = batch.resource_skeleton().expect("one chunk per resource");
    let mut want = ExportTraceServiceRequest::decode(&cat(&[&one, &two])[..]).unwrap();
    want.resource_spans.iter_mut().for_each(|rs| rs.scope_spans.clear());
    assert_eq!(skeleton, want);
    assert_eq!(parts.iter().map(|p| p.to_bytes().to_vec()).collect::<Vec<_>>(), [one, two]);
    assert!(parts.iter().all(|p| p.is_encoded() && p.item_count() == 1));
    // A decoded batch has no skeleton: routing evaluates on the request.
    assert!(Traces::from_request(want).resource_skeleton().is_none());
}
