//! Properties over random request shapes: grouping keeps every span exactly once with its
//! own envelopes, and `retain` keeps exactly the accepted spans, in order, with no empty
//! envelope left.

use proptest::prelude::*;

use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::walk::{for_each_span_mut, retain_spans, spans, split_traces_by_trace_id};
use crate::SignalData;

/// `shape[r][s]` = the trace ids (0..4) of the spans in scope `s` of resource `r`.
fn request(shape: &[Vec<Vec<u8>>]) -> ExportTraceServiceRequest {
    let counts: Vec<Vec<usize>> = shape.iter().map(|scopes| scopes.iter().map(Vec::len).collect()).collect();
    let mut req = crate::split::tests::traces(&counts).into_request();
    let mut ids = shape.iter().flatten().flatten();
    for_each_span_mut(&mut req, |cx| cx.span.trace_id = vec![ids.next().copied().unwrap_or(0); 16]);
    req
}

/// Every span as `resource.scope|span`, so an envelope mix-up shows.
fn flat(req: &ExportTraceServiceRequest) -> Vec<String> {
    spans(req)
        .map(|s| {
            let r = s.resource.get().map_or(u32::MAX, |r| r.dropped_attributes_count);
            let sc = s.scope.get().map_or("", |s| s.name.as_str());
            format!("{r}.{sc}|{}", s.span.name)
        })
        .collect()
}

fn shapes() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    prop::collection::vec(prop::collection::vec(prop::collection::vec(0u8..4, 0..5), 0..4), 0..4)
}

proptest! {
    #[test]
    fn grouping_keeps_every_span_once_with_its_envelopes(shape in shapes()) {
        let req = request(&shape);
        let mut want = flat(&req);
        let groups = split_traces_by_trace_id(req);
        let mut got = Vec::new();
        let mut ids = Vec::new();
        for (id, group) in &groups {
            prop_assert!(!ids.contains(id), "one group per id");
            ids.push(id.clone());
            prop_assert!(spans(group).all(|s| &s.span.trace_id == id));
            prop_assert!(group.resource_spans.iter().all(|r| !r.scope_spans.is_empty()
                && r.scope_spans.iter().all(|s| !s.spans.is_empty())), "no empty envelope");
            got.extend(flat(group));
        }
        // Within a group spans keep their relative order; across groups the set is the same.
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn retain_keeps_exactly_the_accepted_spans_and_prunes(shape in shapes(), keep_id in 0u8..4) {
        let mut req = request(&shape);
        let want: Vec<String> = flat(&req).into_iter().zip(spans(&req).map(|s| s.span.trace_id[0]))
            .filter(|(_, id)| *id == keep_id).map(|(f, _)| f).collect();
        let before = spans(&req).count();
        let removed = retain_spans(&mut req, |cx| cx.span.trace_id[0] == keep_id);
        prop_assert_eq!(removed, before - want.len());
        prop_assert_eq!(flat(&req), want);
        prop_assert!(req.resource_spans.iter().all(|r| !r.scope_spans.is_empty()
            && r.scope_spans.iter().all(|s| !s.spans.is_empty())));
    }
}
