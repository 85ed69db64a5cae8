//! Walking a request resource → scope → item, the shape of an OTTL context: every span,
//! span event, span link, log record, metric and data point is handed out together with
//! the resource and scope that enclose it (and, for events, links and points, the span or
//! metric), all mutable at once.
//!
//! # Why closures
//!
//! The mutable walks take a closure (`for_each_span_mut(&mut req, |cx| ...)`) rather than
//! returning an iterator: every span of a scope shares that scope's resource, so an
//! iterator of contexts holding `&mut Resource` would hand out the same mutable borrow
//! twice. A closure gets one context at a time, made of disjoint borrows of the request, and
//! the borrow checker is satisfied without `unsafe` or interior mutability. Each walk has a
//! `try_` form that stops at the closure's first error (OTTL's `error_mode: propagate`).
//! Read-only walks are plain iterators ([`spans`], [`log_records`], [`metrics`],
//! [`data_points`]), so `find`, `any` and `count` work as usual.
//!
//! # Envelopes
//!
//! A resource or scope may be absent from the protobuf (`None`). The contexts hold an
//! [`EnvelopeMut`] that reads an absent one as empty and creates it only when written
//! ([`EnvelopeMut::get_or_insert`], [`EnvelopeMut::attributes_mut`]), so a walk that only
//! reads leaves the request byte-for-byte unchanged.
//!
//! # Retain and grouping
//!
//! The `retain_*` functions drop items and then prune envelopes left empty: a scope without
//! items goes, then a resource without scopes, as the Collector's filter processor does
//! (envelopes that arrived empty go too). Grouping ([`split_traces_by_trace_id`],
//! `split_*_by_resource`) moves items into groups and copies only the envelopes, once per
//! group, in the order groups first appear.

mod envelopes;
mod logs;
mod metrics;
mod traces;
mod tree;

#[cfg(test)]
mod tests;

pub use envelopes::EnvelopeWalk;
pub use logs::{
    for_each_log_record_mut, log_records, partition_log_records, partition_logs_by_resource, retain_log_records,
    split_logs_by_resource, split_logs_by_trace_id, try_for_each_log_record_mut, LogContext, LogRecordRef,
};
pub use metrics::{
    data_points, for_each_data_point_mut, for_each_metric_mut, metrics, partition_data_points, partition_metrics,
    partition_metrics_by_resource, points_of, retain_data_points, retain_metrics, split_metrics_by_resource,
    try_for_each_data_point_mut, try_for_each_metric_appending, try_for_each_metric_mut,
    try_for_each_point_of_metric_mut, DataPointContext, DataPointMut, DataPointRef, DataPointView, MetricContext,
    MetricInfoMut, MetricKind, MetricRef,
};
pub use traces::{
    for_each_span_event_mut, for_each_span_link_mut, for_each_span_mut, partition_spans, partition_traces_by_resource,
    retain_span_events, retain_span_links, retain_spans, spans, split_traces_by_resource, split_traces_by_trace_id,
    try_for_each_span_event_mut, try_for_each_span_link_mut, try_for_each_span_mut, SpanContext, SpanEventContext,
    SpanLinkContext, SpanRef,
};

use crate::proto::common::v1::{InstrumentationScope, KeyValue};
use crate::proto::resource::v1::Resource;

/// The resource of the item being visited, mutable.
pub type ResourceMut<'a> = EnvelopeMut<'a, Resource>;
/// The instrumentation scope of the item being visited, mutable.
pub type ScopeMut<'a> = EnvelopeMut<'a, InstrumentationScope>;
/// The resource of the item being visited, read-only.
pub type ResourceRef<'a> = EnvelopeRef<'a, Resource>;
/// The instrumentation scope of the item being visited, read-only.
pub type ScopeRef<'a> = EnvelopeRef<'a, InstrumentationScope>;

/// A resource or scope that may be absent from the protobuf, with its schema URL. Reading
/// an absent one sees an empty one; writing creates it. Valid for one closure call.
#[derive(Debug)]
pub struct EnvelopeMut<'a, T> {
    inner: &'a mut Option<T>,
    schema_url: &'a mut String,
}

impl<'a, T: Default> EnvelopeMut<'a, T> {
    pub(crate) fn new(inner: &'a mut Option<T>, schema_url: &'a mut String) -> Self {
        EnvelopeMut { inner, schema_url }
    }

    /// The envelope, or `None` when the protobuf has none.
    pub fn get(&self) -> Option<&T> {
        self.inner.as_ref()
    }

    /// The envelope for writing, created empty first when absent.
    pub fn get_or_insert(&mut self) -> &mut T {
        self.inner.get_or_insert_with(T::default)
    }

    /// The schema URL of the `ResourceSpans`/`ScopeSpans` (or logs, metrics) level.
    pub fn schema_url(&self) -> &str {
        self.schema_url
    }

    /// The schema URL, for writing.
    pub fn schema_url_mut(&mut self) -> &mut String {
        self.schema_url
    }

    /// A shorter-lived copy of this handle, to pass on while keeping this one (a walk
    /// inside a closure, such as over a metric's points).
    pub fn reborrow(&mut self) -> EnvelopeMut<'_, T> {
        EnvelopeMut { inner: self.inner, schema_url: self.schema_url }
    }

    /// A read-only view.
    pub fn as_ref(&self) -> EnvelopeRef<'_, T> {
        EnvelopeRef { inner: self.inner.as_ref(), schema_url: self.schema_url }
    }
}

/// A resource or scope that may be absent, read-only, with its schema URL.
#[derive(Debug)]
pub struct EnvelopeRef<'a, T> {
    inner: Option<&'a T>,
    schema_url: &'a str,
}

impl<T> Clone for EnvelopeRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for EnvelopeRef<'_, T> {}

impl<'a, T> EnvelopeRef<'a, T> {
    pub(crate) fn new(inner: Option<&'a T>, schema_url: &'a str) -> Self {
        EnvelopeRef { inner, schema_url }
    }

    /// The envelope, or `None` when the protobuf has none.
    pub fn get(&self) -> Option<&'a T> {
        self.inner
    }

    /// The schema URL of the enclosing level.
    pub fn schema_url(&self) -> &'a str {
        self.schema_url
    }
}

macro_rules! envelope_attributes {
    ($ty:ty) => {
        impl EnvelopeMut<'_, $ty> {
            /// The attributes; none when the envelope is absent.
            pub fn attributes(&self) -> &[KeyValue] {
                self.inner.as_ref().map_or(&[], |e| e.attributes.as_slice())
            }

            /// The attributes for writing; creates the envelope when absent.
            pub fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
                &mut self.get_or_insert().attributes
            }
        }

        impl<'a> EnvelopeRef<'a, $ty> {
            /// The attributes; none when the envelope is absent.
            pub fn attributes(&self) -> &'a [KeyValue] {
                self.inner.map_or(&[], |e| e.attributes.as_slice())
            }
        }
    };
}

envelope_attributes!(Resource);
envelope_attributes!(InstrumentationScope);

/// Splices children a closure walked (taken out of their parent so that the parent could
/// be lent at the same time) back into place, after any the closure added meanwhile.
fn put_back<T>(slot: &mut Vec<T>, walked: Vec<T>) {
    let added = std::mem::replace(slot, walked);
    slot.extend(added);
}
