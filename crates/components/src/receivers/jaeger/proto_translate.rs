//! Jaeger protobuf `PostSpansRequest` → OTLP, as the Collector's `ProtoToTraces`: spans are
//! regrouped by process (a span's own process wins over the batch's), each process a
//! resource; spans grouped into scopes by `otel.scope.name`/`otel.scope.version`; the trace
//! state from `w3c.tracestate`.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue as OtlpKeyValue};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::span::{Event, Link};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan};
use switchyard_pdata::Traces;

use super::proto_model::{value_type, KeyValue, PostSpansRequest, Process, Span, Timestamp, CHILD_OF};
use super::translate::{
    name_event, put, ref_type_attr, resource_special_keys, span_flags, span_id, str_value, take_kind, take_status,
    trace_id, NO_SERVICE_NAME, SERVICE_NAME,
};

const TRACE_STATE: &str = "w3c.tracestate";
const SCOPE_NAME: &str = "otel.scope.name";
const SCOPE_VERSION: &str = "otel.scope.version";

/// An id of a length Jaeger does not accept (trace ids are 8 or 16 bytes, span ids 8).
#[derive(Debug, thiserror::Error)]
#[error("invalid length for {0}: {1} bytes")]
pub struct IdError(&'static str, usize);

struct Group {
    process: Option<Process>,
    spans: Vec<Span>,
}

/// Translates one request. Fails only on an id of a wrong length (the Collector's gogo
/// decoder refuses those too).
pub fn request_to_traces(req: PostSpansRequest) -> Result<Traces, IdError> {
    let batch = req.batch.unwrap_or_default();
    let mut groups = vec![Group { process: batch.process, spans: Vec::new() }];
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    index.entry(process_hash(groups[0].process.as_ref())).or_default().push(0);
    for mut span in batch.spans {
        let Some(p) = span.process.take() else {
            groups[0].spans.push(span);
            continue;
        };
        let candidates = index.entry(process_hash(Some(&p))).or_default();
        match candidates.iter().copied().find(|&i| groups[i].process.as_ref() == Some(&p)) {
            Some(i) => groups[i].spans.push(span),
            None => {
                candidates.push(groups.len());
                groups.push(Group { process: Some(p), spans: vec![span] });
            }
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        if g.process.is_none() && g.spans.is_empty() {
            continue;
        }
        let mut rs = ResourceSpans { resource: Some(resource(g.process)), ..Default::default() };
        rs.scope_spans = scopes(g.spans)?;
        out.push(rs);
    }
    Ok(ExportTraceServiceRequest { resource_spans: out }.into())
}

/// A hash of a process's contents (service name and tags in order) to find equal processes.
fn process_hash(p: Option<&Process>) -> u64 {
    let mut h = DefaultHasher::new();
    if let Some(p) = p {
        p.service_name.hash(&mut h);
        for t in &p.tags {
            (&t.key, t.v_type, &t.v_str, t.v_bool, t.v_int64, t.v_float64.to_bits(), &t.v_binary).hash(&mut h);
        }
    }
    h.finish()
}

fn resource(p: Option<Process>) -> Resource {
    let mut r = Resource::default();
    let Some(p) = p else { return r };
    if p.service_name == NO_SERVICE_NAME || (p.service_name.is_empty() && p.tags.is_empty()) {
        return r;
    }
    let a = &mut r.attributes;
    a.reserve(p.tags.len() + 1);
    if !p.service_name.is_empty() {
        a.push(OtlpKeyValue { key: SERVICE_NAME.into(), value: Some(str_value(p.service_name)), ..Default::default() });
    }
    tags_to_attributes(p.tags, a);
    resource_special_keys(a);
    r
}

/// Removes the first tag with `key` and returns its string value (`""` for another type).
fn take_tag(tags: &mut Vec<KeyValue>, key: &str) -> Option<String> {
    let i = tags.iter().position(|t| t.key == key)?;
    Some(tags.remove(i).v_str)
}

fn scopes(spans: Vec<Span>) -> Result<Vec<ScopeSpans>, IdError> {
    let mut out: Vec<ScopeSpans> = Vec::new();
    for mut s in spans {
        if s == Span::default() {
            continue;
        }
        let (mut name, mut version) = (String::new(), String::new());
        if let Some(n) = take_tag(&mut s.tags, SCOPE_NAME) {
            name = n;
            version = take_tag(&mut s.tags, SCOPE_VERSION).unwrap_or_default();
        }
        let span = span(s)?;
        let same = |ss: &&mut ScopeSpans| ss.scope.as_ref().is_some_and(|sc| sc.name == name && sc.version == version);
        match out.iter_mut().find(same) {
            Some(ss) => ss.spans.push(span),
            None => out.push(ScopeSpans {
                scope: Some(InstrumentationScope { name, version, ..Default::default() }),
                spans: vec![span],
                ..Default::default()
            }),
        }
    }
    Ok(out)
}

fn parse_trace_id(b: &[u8]) -> Result<(u64, u64), IdError> {
    match b.len() {
        0 => Ok((0, 0)),
        8 => Ok((0, be_u64(b))),
        16 => Ok((be_u64(&b[..8]), be_u64(&b[8..]))),
        n => Err(IdError("TraceID", n)),
    }
}

fn parse_span_id(b: &[u8]) -> Result<u64, IdError> {
    match b.len() {
        0 => Ok(0),
        8 => Ok(be_u64(b)),
        n => Err(IdError("SpanID", n)),
    }
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn nanos(t: Option<Timestamp>) -> i64 {
    t.map_or(0, |t| t.seconds.wrapping_mul(1_000_000_000).wrapping_add(t.nanos as i64))
}

fn span(s: Span) -> Result<OtlpSpan, IdError> {
    let (high, low) = parse_trace_id(&s.trace_id)?;
    let mut refs = Vec::with_capacity(s.references.len());
    for r in &s.references {
        refs.push((parse_trace_id(&r.trace_id)?, parse_span_id(&r.span_id)?, r.ref_type));
    }
    // The parent: the first CHILD_OF reference in the same trace, else the first FOLLOWS_FROM.
    let same_trace = refs.iter().filter(|(t, _, _)| *t == (high, low));
    let parent = same_trace
        .clone()
        .find(|r| r.2 == CHILD_OF)
        .or_else(|| same_trace.clone().find(|r| r.2 == 1))
        .map_or(0, |r| r.1);
    let start = nanos(s.start_time);
    let duration = s.duration.map_or(0, |d| d.seconds.wrapping_mul(1_000_000_000).wrapping_add(d.nanos as i64));
    let mut out = OtlpSpan {
        trace_id: trace_id(high, low),
        span_id: span_id(parse_span_id(&s.span_id)?),
        flags: span_flags(s.flags),
        name: s.operation_name,
        start_time_unix_nano: start as u64,
        end_time_unix_nano: start.wrapping_add(duration) as u64,
        ..Default::default()
    };
    if parent != 0 {
        out.parent_span_id = span_id(parent);
    }
    out.attributes.reserve(s.tags.len());
    tags_to_attributes(s.tags, &mut out.attributes);
    take_kind(&mut out);
    take_status(&mut out);
    if let Some(v) = attrs::get(&out.attributes, TRACE_STATE) {
        if let Some(Value::StringValue(ts)) = &v.value {
            out.trace_state = ts.clone();
        }
        attrs::remove(&mut out.attributes, TRACE_STATE);
    }
    out.events = s
        .logs
        .into_iter()
        .map(|log| {
            let mut e = Event { time_unix_nano: nanos(log.timestamp) as u64, ..Default::default() };
            if !log.fields.is_empty() {
                e.attributes.reserve(log.fields.len());
                tags_to_attributes(log.fields, &mut e.attributes);
                name_event(&mut e);
            }
            e
        })
        .collect();
    out.links = refs
        .into_iter()
        .filter(|&(_, id, ty)| !(id == parent && ty == CHILD_OF))
        .map(|((h, l), id, ty)| Link {
            trace_id: trace_id(h, l),
            span_id: span_id(id),
            attributes: vec![ref_type_attr(ty == CHILD_OF)],
            ..Default::default()
        })
        .collect();
    Ok(out)
}

/// Tags → attributes by type; an unknown type becomes a string saying so (Go's `%q` of the
/// enum's number).
fn tags_to_attributes(tags: Vec<KeyValue>, dest: &mut Vec<OtlpKeyValue>) {
    for t in tags {
        let v = match t.v_type {
            value_type::STRING => Value::StringValue(t.v_str),
            value_type::BOOL => Value::BoolValue(t.v_bool),
            value_type::INT64 => Value::IntValue(t.v_int64),
            value_type::FLOAT64 => Value::DoubleValue(t.v_float64),
            value_type::BINARY => Value::BytesValue(t.v_binary),
            other => Value::StringValue(format!("<Unknown Jaeger TagType \"{other}\">")),
        };
        put(dest, t.key, v);
    }
}
