//! Walks, `retain` and grouping for traces: spans (OTTL `span` context), span events
//! (`spanevent`) and span links, each with its resource and scope.

use std::convert::Infallible;
use std::hash::Hash;

use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::trace::v1::span::{Event, Link};
use crate::proto::trace::v1::{ResourceSpans, Span};

use super::tree;
use super::{put_back, ResourceMut, ResourceRef, ScopeMut, ScopeRef};
use crate::proto::resource::v1::Resource;

/// A span with its resource and scope, all mutable: what a closure over spans receives.
#[derive(Debug)]
pub struct SpanContext<'a> {
    /// The enclosing resource.
    pub resource: ResourceMut<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeMut<'a>,
    /// The span.
    pub span: &'a mut Span,
}

/// A span event with its span, resource and scope. While the closure runs, the span's
/// `events` list is empty (the events are being walked); events the closure pushes onto
/// it are kept, after the walked ones.
#[derive(Debug)]
pub struct SpanEventContext<'a> {
    /// The enclosing resource.
    pub resource: ResourceMut<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeMut<'a>,
    /// The span the event belongs to (its `events` empty during the call).
    pub span: &'a mut Span,
    /// The event.
    pub event: &'a mut Event,
}

/// A span link with its span, resource and scope; as for events, the span's `links` list
/// is empty while the closure runs.
#[derive(Debug)]
pub struct SpanLinkContext<'a> {
    /// The enclosing resource.
    pub resource: ResourceMut<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeMut<'a>,
    /// The span the link belongs to (its `links` empty during the call).
    pub span: &'a mut Span,
    /// The link.
    pub link: &'a mut Link,
}

/// A span with its resource and scope, read-only.
#[derive(Clone, Copy, Debug)]
pub struct SpanRef<'a> {
    /// The enclosing resource.
    pub resource: ResourceRef<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeRef<'a>,
    /// The span.
    pub span: &'a Span,
}

/// Every span in order, with its resource and scope.
pub fn spans(req: &ExportTraceServiceRequest) -> impl Iterator<Item = SpanRef<'_>> {
    tree::items(&req.resource_spans).map(|(resource, scope, span)| SpanRef { resource, scope, span })
}

/// Calls `f` on every span in order.
pub fn for_each_span_mut(req: &mut ExportTraceServiceRequest, mut f: impl FnMut(SpanContext<'_>)) {
    let Ok(()) = try_for_each_span_mut(req, |cx| {
        f(cx);
        Ok::<(), Infallible>(())
    });
}

/// Calls `f` on every span in order, stopping at (and returning) its first error; spans
/// already visited keep their changes.
pub fn try_for_each_span_mut<E>(
    req: &mut ExportTraceServiceRequest,
    mut f: impl FnMut(SpanContext<'_>) -> Result<(), E>,
) -> Result<(), E> {
    tree::try_walk(&mut req.resource_spans, |resource, scope, span| f(SpanContext { resource, scope, span }))
}

/// Calls `f` on every span event in order (see [`SpanEventContext`] for the span's view).
pub fn for_each_span_event_mut(req: &mut ExportTraceServiceRequest, mut f: impl FnMut(SpanEventContext<'_>)) {
    let Ok(()) = try_for_each_span_event_mut(req, |cx| {
        f(cx);
        Ok::<(), Infallible>(())
    });
}

/// Calls `f` on every span event in order, stopping at its first error.
pub fn try_for_each_span_event_mut<E>(
    req: &mut ExportTraceServiceRequest,
    mut f: impl FnMut(SpanEventContext<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let walked = retain_children(req, events, |resource, scope, span, event| {
        f(SpanEventContext { resource, scope, span, event }).map(|()| true)
    });
    walked.map(drop)
}

/// Calls `f` on every span link in order (see [`SpanLinkContext`] for the span's view).
pub fn for_each_span_link_mut(req: &mut ExportTraceServiceRequest, mut f: impl FnMut(SpanLinkContext<'_>)) {
    let Ok(()) = try_for_each_span_link_mut(req, |cx| {
        f(cx);
        Ok::<(), Infallible>(())
    });
}

/// Calls `f` on every span link in order, stopping at its first error.
pub fn try_for_each_span_link_mut<E>(
    req: &mut ExportTraceServiceRequest,
    mut f: impl FnMut(SpanLinkContext<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let walked = retain_children(req, links, |resource, scope, span, link| {
        f(SpanLinkContext { resource, scope, span, link }).map(|()| true)
    });
    walked.map(drop)
}

/// Keeps the spans `keep` returns true for and prunes scopes and resources left empty.
/// Returns how many spans were removed.
pub fn retain_spans(req: &mut ExportTraceServiceRequest, mut keep: impl FnMut(SpanContext<'_>) -> bool) -> usize {
    tree::retain(&mut req.resource_spans, |resource, scope, span| keep(SpanContext { resource, scope, span }))
}

/// Keeps the span events `keep` returns true for (spans stay, even without events).
/// Returns how many events were removed.
pub fn retain_span_events(
    req: &mut ExportTraceServiceRequest,
    mut keep: impl FnMut(SpanEventContext<'_>) -> bool,
) -> usize {
    let Ok(removed) = retain_children(req, events, |resource, scope, span, event| {
        Ok::<bool, Infallible>(keep(SpanEventContext { resource, scope, span, event }))
    });
    removed
}

/// Keeps the span links `keep` returns true for (spans stay, even without links). Returns
/// how many links were removed.
pub fn retain_span_links(
    req: &mut ExportTraceServiceRequest,
    mut keep: impl FnMut(SpanLinkContext<'_>) -> bool,
) -> usize {
    let Ok(removed) = retain_children(req, links, |resource, scope, span, link| {
        Ok::<bool, Infallible>(keep(SpanLinkContext { resource, scope, span, link }))
    });
    removed
}

fn events(span: &mut Span) -> &mut Vec<Event> {
    &mut span.events
}

fn links(span: &mut Span) -> &mut Vec<Link> {
    &mut span.links
}

/// Keeps the children (events or links) of every span that `keep` accepts, lending each
/// with its span: the children are taken out of the span for the call and put back after,
/// also when `keep` fails. After the first error `keep` is no longer called and nothing
/// more is removed. Returns how many children were removed.
fn retain_children<C, E>(
    req: &mut ExportTraceServiceRequest,
    list: fn(&mut Span) -> &mut Vec<C>,
    mut keep: impl FnMut(ResourceMut<'_>, ScopeMut<'_>, &mut Span, &mut C) -> Result<bool, E>,
) -> Result<usize, E> {
    let mut removed = 0;
    tree::try_walk(&mut req.resource_spans, |mut resource, mut scope, span| {
        let mut children = std::mem::take(list(span));
        let before = children.len();
        let mut failed = None;
        children.retain_mut(|c| {
            failed.is_some()
                || keep(resource.reborrow(), scope.reborrow(), span, c).unwrap_or_else(|e| {
                    failed = Some(e);
                    true
                })
        });
        removed += before - children.len();
        put_back(list(span), children);
        failed.map_or(Ok(()), Err)
    })?;
    Ok(removed)
}

/// One request per trace id, in the order trace ids first appear; every span moves into
/// its group, with one copy of its resource and scope envelopes per group. Spans with an
/// empty or malformed id group by those bytes like any other. Used to route a trace to one
/// backend (load balancing, Kafka keys).
pub fn split_traces_by_trace_id(req: ExportTraceServiceRequest) -> Vec<(Vec<u8>, ExportTraceServiceRequest)> {
    tree::group_items(req.resource_spans, |span: &Span| span.trace_id.as_slice())
        .into_iter()
        .map(|(id, resource_spans)| (id, ExportTraceServiceRequest { resource_spans }))
        .collect()
}

/// One request per `key(resource)`, in the order keys first appear; each `ResourceSpans`
/// moves whole into its group (nothing is copied).
pub fn split_traces_by_resource<K: Hash + Eq>(
    req: ExportTraceServiceRequest,
    key: impl FnMut(&ResourceSpans) -> K,
) -> Vec<(K, ExportTraceServiceRequest)> {
    tree::group_resources(req.resource_spans, key)
        .into_iter()
        .map(|(k, resource_spans)| (k, ExportTraceServiceRequest { resource_spans }))
        .collect()
}

/// `n` requests: span `s` of resource `r` goes to request `key(r, s)` (an index below `n`).
/// Spans move; envelopes are copied once per request they end up in.
pub fn partition_spans(
    req: ExportTraceServiceRequest,
    n: usize,
    key: impl FnMut(Option<&Resource>, &Span) -> usize,
) -> Vec<ExportTraceServiceRequest> {
    tree::partition_items(req.resource_spans, n, key)
        .into_iter()
        .map(|resource_spans| ExportTraceServiceRequest { resource_spans })
        .collect()
}

/// `n` requests: each `ResourceSpans` moves whole into request `key(it)` (an index below `n`).
pub fn partition_traces_by_resource(
    req: ExportTraceServiceRequest,
    n: usize,
    key: impl FnMut(&ResourceSpans) -> usize,
) -> Vec<ExportTraceServiceRequest> {
    tree::partition_resources(req.resource_spans, n, key)
        .into_iter()
        .map(|resource_spans| ExportTraceServiceRequest { resource_spans })
        .collect()
}
