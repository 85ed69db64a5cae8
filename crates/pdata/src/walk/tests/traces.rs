use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::trace::v1::span::{Event, Link};
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use crate::walk::*;
use crate::SignalData;

use super::{kv, resource, resource_name, scope};

fn span(name: &str, trace: u8) -> Span {
    Span { name: name.into(), trace_id: vec![trace; 16], ..Default::default() }
}

/// r0 {s0 [a(1), b(2)], s1 [c(1)], s2 []}, (no resource) {t0 [d(2), e(3)]}, r2 {}.
/// `a` has two events, `c` two links.
fn request() -> ExportTraceServiceRequest {
    let mut a = span("r0/s0/a", 1);
    a.events = vec![
        Event { name: "r0/s0/a#0".into(), ..Default::default() },
        Event { name: "r0/s0/a#1".into(), ..Default::default() },
    ];
    let mut c = span("r0/s1/c", 1);
    c.links = vec![
        Link { trace_state: "r0/s1/c#0".into(), ..Default::default() },
        Link { trace_state: "r0/s1/c#1".into(), ..Default::default() },
    ];
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: resource("r0"),
                schema_url: "u0".into(),
                scope_spans: vec![
                    ScopeSpans { scope: scope("s0"), spans: vec![a, span("r0/s0/b", 2)], schema_url: "v0".into() },
                    ScopeSpans { scope: scope("s1"), spans: vec![c], ..Default::default() },
                    ScopeSpans { scope: scope("s2"), spans: vec![], ..Default::default() },
                ],
            },
            ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    scope: scope("t0"),
                    spans: vec![span("-/t0/d", 2), span("-/t0/e", 3)],
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceSpans { resource: resource("r2"), ..Default::default() },
        ],
    }
}

fn names(req: &ExportTraceServiceRequest) -> Vec<String> {
    spans(req).map(|s| s.span.name.clone()).collect()
}

#[test]
fn span_walks_reach_every_span_with_its_resource_and_scope() {
    let mut req = request();
    let mut seen = Vec::new();
    for_each_span_mut(&mut req, |cx| {
        let prefix = format!("{}/{}/", resource_name(cx.resource.attributes()), cx.scope.get().map_or("", |s| &s.name));
        assert!(cx.span.name.starts_with(&prefix), "{} in {prefix}", cx.span.name);
        seen.push(cx.span.name.clone());
    });
    assert_eq!(seen, ["r0/s0/a", "r0/s0/b", "r0/s1/c", "-/t0/d", "-/t0/e"]);
    assert_eq!(names(&req), seen);
    let urls: Vec<_> = spans(&req).map(|s| (s.resource.schema_url(), s.scope.schema_url())).take(2).collect();
    assert_eq!(urls, [("u0", "v0"), ("u0", "v0")]);
}

#[test]
fn reading_an_absent_resource_leaves_the_request_unchanged_and_writing_creates_it() {
    let mut req = request();
    for_each_span_mut(&mut req, |cx| {
        assert_eq!(cx.resource.attributes().is_empty(), cx.span.name.starts_with('-'));
    });
    assert_eq!(req, request(), "a read-only pass must not create envelopes");

    for_each_span_mut(&mut req, |mut cx| {
        crate::attrs::insert(cx.resource.attributes_mut(), "seen", crate::value::int_value(1));
        cx.span.attributes.push(kv("k", "v"));
    });
    assert!(req.resource_spans[1].resource.is_some());
    for s in spans(&req) {
        assert_eq!(crate::attrs::get_int(s.resource.attributes(), "seen"), Some(1));
        assert_eq!(s.resource.attributes().len(), if s.span.name.starts_with('-') { 1 } else { 2 });
        assert_eq!(crate::attrs::get_str(&s.span.attributes, "k"), Some("v"));
    }
}

#[test]
fn try_walk_stops_at_the_first_error() {
    let mut req = request();
    let mut visited = 0;
    let r = try_for_each_span_mut(&mut req, |cx| {
        visited += 1;
        if cx.span.name == "r0/s1/c" {
            Err(cx.span.name.clone())
        } else {
            Ok(())
        }
    });
    assert_eq!(r, Err("r0/s1/c".to_string()));
    assert_eq!(visited, 3);
}

#[test]
fn event_and_link_walks_hand_out_the_enclosing_span() {
    let mut req = request();
    let mut seen = Vec::new();
    for_each_span_event_mut(&mut req, |cx| {
        assert!(cx.event.name.starts_with(&format!("{}#", cx.span.name)));
        assert!(cx.span.events.is_empty(), "events are out while walked");
        assert_eq!(resource_name(cx.resource.attributes()), "r0");
        seen.push(cx.event.name.clone());
        cx.event.name.push('!');
        if cx.event.name.ends_with("#1!") {
            cx.span.events.push(Event { name: "added".into(), ..Default::default() });
        }
    });
    assert_eq!(seen, ["r0/s0/a#0", "r0/s0/a#1"]);
    let a = &req.resource_spans[0].scope_spans[0].spans[0];
    let events: Vec<_> = a.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(events, ["r0/s0/a#0!", "r0/s0/a#1!", "added"], "walked events back in place, additions after");

    let mut links = Vec::new();
    let r = try_for_each_span_link_mut(&mut req, |cx| {
        assert!(cx.link.trace_state.starts_with(&cx.span.name));
        assert_eq!(cx.scope.get().map(|s| s.name.as_str()), Some("s1"));
        links.push(cx.link.trace_state.clone());
        Err(())
    });
    assert_eq!((r, links.len()), (Err(()), 1));
    assert_eq!(req.resource_spans[0].scope_spans[1].spans[0].links.len(), 2, "links restored after an error");
    let mut n = 0;
    for_each_span_link_mut(&mut req, |_| n += 1);
    assert_eq!(n, 2);
}

#[test]
fn retain_spans_prunes_scopes_and_resources_left_empty() {
    let mut req = request();
    assert_eq!(retain_spans(&mut req, |_| true), 0);
    // The already-empty scope s2 and resource r2 go, as in the filter processor.
    assert_eq!(req.resource_spans.len(), 2);
    assert_eq!(req.resource_spans[0].scope_spans.len(), 2);

    let mut req = request();
    let removed = retain_spans(&mut req, |cx| cx.span.name != "r0/s1/c" && cx.resource.get().is_some());
    assert_eq!(removed, 3);
    assert_eq!(names(&req), ["r0/s0/a", "r0/s0/b"]);
    assert_eq!(req.resource_spans.len(), 1);
    assert_eq!(req.resource_spans[0].scope_spans.len(), 1);
    assert_eq!(req.resource_spans[0].schema_url, "u0");

    let mut req = request();
    assert_eq!(retain_spans(&mut req, |_| false), 5);
    assert!(req.resource_spans.is_empty());
}

#[test]
fn retain_events_and_links_keeps_spans() {
    let mut req = request();
    assert_eq!(retain_span_events(&mut req, |cx| cx.event.name.ends_with("#1")), 1);
    assert_eq!(retain_span_links(&mut req, |_| false), 2);
    assert_eq!(names(&req).len(), 5);
    let a = &req.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(a.events.len(), 1);
    assert_eq!(a.events[0].name, "r0/s0/a#1");
}

#[test]
fn split_by_trace_id_moves_every_span_into_exactly_one_group() {
    let req = request();
    let groups = split_traces_by_trace_id(req.clone());
    let ids: Vec<u8> = groups.iter().map(|(id, _)| id[0]).collect();
    assert_eq!(ids, [1, 2, 3], "order of first appearance");
    let mut all = Vec::new();
    for (id, group) in &groups {
        for s in spans(group) {
            assert_eq!(&s.span.trace_id, id);
            // Envelopes are the span's own.
            let prefix =
                format!("{}/{}/", resource_name(s.resource.attributes()), s.scope.get().map_or("", |s| &s.name));
            assert!(s.span.name.starts_with(&prefix));
            all.push(s.span.name.clone());
        }
    }
    all.sort();
    let mut want = names(&req);
    want.sort();
    assert_eq!(all, want);

    // Trace 1 spans two scopes of one resource: one resource envelope, two scope envelopes.
    let t1 = &groups[0].1;
    assert_eq!(t1.resource_spans.len(), 1);
    assert_eq!(t1.resource_spans[0].scope_spans.len(), 2);
    assert_eq!(t1.resource_spans[0].scope_spans[0].schema_url, "v0");
    // Trace 2 spans two resources, one absent: kept absent.
    let t2 = &groups[1].1;
    assert_eq!(t2.resource_spans.len(), 2);
    assert!(t2.resource_spans[1].resource.is_none());
    let total: usize = groups.iter().map(|(_, g)| crate::Traces::from(g.clone()).item_count()).sum();
    assert_eq!(total, 5);
}

#[test]
fn split_by_resource_moves_resources_whole() {
    let groups = split_traces_by_resource(request(), |rs| rs.resource.is_some());
    let keys: Vec<bool> = groups.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, [true, false]);
    assert_eq!(groups[0].1.resource_spans.len(), 2, "r0 and the empty r2");
    assert_eq!(names(&groups[1].1), ["-/t0/d", "-/t0/e"]);
}
