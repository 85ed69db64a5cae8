//! Jaeger Thrift `Batch` → OTLP, as the Collector's `ThriftToTraces`: one resource from the
//! process, one scope (unnamed: the Thrift path does not read `otel.scope.name`), times in
//! microseconds, the parent from `parentSpanId` or the references.

use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::span::{Event, Link};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::Traces;

use super::thrift_model::{Batch, Process, Span as JSpan, SpanRef, Tag, TagType, CHILD_OF};
use super::translate::{
    put, ref_type_attr, resource_special_keys, span_flags, span_id, str_value, take_kind, take_status, trace_id,
    SERVICE_NAME,
};

/// Translates one batch; spans that are entirely blank are skipped, as in the Collector.
pub fn batch_to_traces(batch: Batch) -> Traces {
    let Batch { process, spans } = batch;
    let mut rs = ResourceSpans { resource: Some(resource(process)), ..Default::default() };
    if !spans.is_empty() {
        let mut out = Vec::with_capacity(spans.len());
        for s in spans {
            if !is_blank(&s) {
                out.push(span(s));
            }
        }
        rs.scope_spans.push(ScopeSpans { spans: out, ..Default::default() });
    }
    ExportTraceServiceRequest { resource_spans: vec![rs] }.into()
}

fn resource(p: Process) -> Resource {
    let mut r = Resource::default();
    if p.service_name.is_empty() && p.tags.is_none() {
        return r;
    }
    let tags = p.tags.unwrap_or_default();
    let a = &mut r.attributes;
    a.reserve(tags.len() + 1);
    if !p.service_name.is_empty() {
        a.push(KeyValue { key: SERVICE_NAME.into(), value: Some(str_value(p.service_name)), ..Default::default() });
    }
    tags_to_attributes(tags, a);
    resource_special_keys(a);
    r
}

fn is_blank(s: &JSpan) -> bool {
    *s == JSpan::default()
}

/// The parent: `parentSpanId`, else the first CHILD_OF reference in the same trace, else the
/// first FOLLOWS_FROM one.
fn parent_id(s: &JSpan) -> i64 {
    if s.parent_span_id != 0 {
        return s.parent_span_id;
    }
    let same_trace = |r: &&SpanRef| r.trace_id_high == s.trace_id_high && r.trace_id_low == s.trace_id_low;
    let mut follows = None;
    for r in s.references.iter().filter(same_trace) {
        if r.ref_type == CHILD_OF {
            return r.span_id;
        }
        follows.get_or_insert(r.span_id);
    }
    follows.unwrap_or(0)
}

fn span(s: JSpan) -> Span {
    let parent = parent_id(&s);
    let mut out = Span {
        trace_id: trace_id(s.trace_id_high as u64, s.trace_id_low as u64),
        span_id: span_id(s.span_id as u64),
        flags: span_flags(s.flags as u32),
        start_time_unix_nano: (s.start_time as u64).wrapping_mul(1000),
        end_time_unix_nano: (s.start_time.wrapping_add(s.duration) as u64).wrapping_mul(1000),
        ..Default::default()
    };
    if parent != 0 {
        out.parent_span_id = span_id(parent as u64);
    }
    out.attributes.reserve(s.tags.len());
    tags_to_attributes(s.tags, &mut out.attributes);
    take_kind(&mut out);
    take_status(&mut out);
    out.name = s.operation_name;
    out.events = s
        .logs
        .into_iter()
        .map(|log| {
            let mut e = Event { time_unix_nano: (log.timestamp as u64).wrapping_mul(1000), ..Default::default() };
            if !log.fields.is_empty() {
                e.attributes.reserve(log.fields.len());
                tags_to_attributes(log.fields, &mut e.attributes);
                super::translate::name_event(&mut e);
            }
            e
        })
        .collect();
    out.links = links(&s.references, parent);
    out
}

/// Every reference but the CHILD_OF one to the parent becomes a link.
fn links(refs: &[SpanRef], parent: i64) -> Vec<Link> {
    let is_parent = |r: &SpanRef| r.span_id == parent && r.ref_type == CHILD_OF;
    refs.iter()
        .filter(|r| !is_parent(r))
        .map(|r| Link {
            trace_id: trace_id(r.trace_id_high as u64, r.trace_id_low as u64),
            span_id: span_id(r.span_id as u64),
            attributes: vec![ref_type_attr(r.ref_type == CHILD_OF)],
            ..Default::default()
        })
        .collect()
}

/// Tags → attributes by type; a tag of an unknown type becomes a string saying so.
pub(super) fn tags_to_attributes(tags: Vec<Tag>, dest: &mut Vec<KeyValue>) {
    for t in tags {
        let v = match t.v_type {
            TagType::String => Value::StringValue(t.v_str.unwrap_or_default()),
            TagType::Bool => Value::BoolValue(t.v_bool.unwrap_or_default()),
            TagType::Long => Value::IntValue(t.v_long.unwrap_or_default()),
            TagType::Double => Value::DoubleValue(t.v_double.unwrap_or_default()),
            TagType::Binary => Value::BytesValue(t.v_binary.unwrap_or_default()),
            // Go's `%q` of a Thrift enum outside its values ("<UNSET>").
            TagType::Unknown(_) => Value::StringValue("<Unknown Jaeger TagType \"<UNSET>\">".into()),
        };
        put(dest, t.key, v);
    }
}
