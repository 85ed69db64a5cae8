//! The record a statement runs against: one item with its enclosing resource and scope
//! (and span or metric), built from the `pdata::walk` contexts, plus the statement group's
//! `cache` map. Reading and writing each field of each level lives here.

use std::borrow::Cow;

use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};
use switchyard_pdata::proto::logs::v1::LogRecord;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::Metric;
use switchyard_pdata::proto::trace::v1::span::Event;
use switchyard_pdata::proto::trace::v1::{Span, Status};
use switchyard_pdata::value::hex_id;
use switchyard_pdata::walk::{
    DataPointContext, DataPointMut, LogContext, MetricContext, MetricInfoMut, MetricKind, ResourceMut, ScopeMut,
    SpanContext, SpanEventContext,
};

use super::fields::Field;
use super::path::Root;
use super::value::Value;
use super::EvalError;
use crate::paths::Context;

/// The item itself, by context.
#[derive(Debug)]
pub(crate) enum Item<'a> {
    Resource,
    Scope,
    Span(&'a mut Span),
    SpanEvent { span: &'a mut Span, event: &'a mut Event, index: i64 },
    Log(&'a mut LogRecord),
    Metric(&'a mut Metric),
    DataPoint { metric: MetricInfoMut<'a>, point: DataPointMut<'a> },
}

/// What a statement or condition runs against.
#[derive(Debug)]
pub struct EvalContext<'a> {
    pub(crate) resource: ResourceMut<'a>,
    pub(crate) scope: Option<ScopeMut<'a>>,
    pub(crate) item: Item<'a>,
    pub(crate) cache: Vec<KeyValue>,
    /// Changes to the enclosing metric that must wait until the record's walk is over: a
    /// data point cannot change its metric's kind while the points are being walked, and
    /// new metrics (`copy_metric`, `convert_summary_*_to_sum`) go to the end of the scope.
    /// `StatementGroup::run_metrics` applies them, in order, after the metric (metric
    /// context) or after the metric's last point (datapoint context).
    pub(crate) deferred: Vec<MetricOp>,
}

/// A deferred change to the enclosing metric; a returned metric is appended to the scope.
pub(crate) struct MetricOp(pub(crate) Box<MetricOpFn>);

/// The change itself.
pub(crate) type MetricOpFn = dyn FnOnce(&mut Metric) -> Option<Metric> + Send;

impl std::fmt::Debug for MetricOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricOp")
    }
}

impl<'a> EvalContext<'a> {
    /// The `resource` context.
    pub fn resource(resource: ResourceMut<'a>) -> Self {
        EvalContext { resource, scope: None, item: Item::Resource, cache: Vec::new(), deferred: Vec::new() }
    }

    /// The `scope` context.
    pub fn scope(resource: ResourceMut<'a>, scope: ScopeMut<'a>) -> Self {
        EvalContext { resource, scope: Some(scope), item: Item::Scope, cache: Vec::new(), deferred: Vec::new() }
    }

    /// The `span` context.
    pub fn span(cx: SpanContext<'a>) -> Self {
        EvalContext {
            resource: cx.resource,
            scope: Some(cx.scope),
            item: Item::Span(cx.span),
            cache: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// The `spanevent` context; `index` is the event's position in its span (`event_index`).
    pub fn span_event(cx: SpanEventContext<'a>, index: i64) -> Self {
        EvalContext {
            resource: cx.resource,
            scope: Some(cx.scope),
            item: Item::SpanEvent { span: cx.span, event: cx.event, index },
            cache: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// The `log` context.
    pub fn log(cx: LogContext<'a>) -> Self {
        EvalContext {
            resource: cx.resource,
            scope: Some(cx.scope),
            item: Item::Log(cx.log),
            cache: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// The `metric` context.
    pub fn metric(cx: MetricContext<'a>) -> Self {
        EvalContext {
            resource: cx.resource,
            scope: Some(cx.scope),
            item: Item::Metric(cx.metric),
            cache: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// The `datapoint` context.
    pub fn data_point(cx: DataPointContext<'a>) -> Self {
        EvalContext {
            resource: cx.resource,
            scope: Some(cx.scope),
            item: Item::DataPoint { metric: cx.metric, point: cx.point },
            cache: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// Which context this is.
    pub fn context(&self) -> Context {
        match self.item {
            Item::Resource => Context::Resource,
            Item::Scope => Context::Scope,
            Item::Span(_) => Context::Span,
            Item::SpanEvent { .. } => Context::SpanEvent,
            Item::Log(_) => Context::Log,
            Item::Metric(_) => Context::Metric,
            Item::DataPoint { .. } => Context::DataPoint,
        }
    }

    /// The span (span and span event contexts).
    pub fn span_ref(&self) -> Option<&Span> {
        match &self.item {
            Item::Span(s) | Item::SpanEvent { span: s, .. } => Some(s),
            _ => None,
        }
    }

    /// The span, for writing.
    pub fn span_mut(&mut self) -> Option<&mut Span> {
        match &mut self.item {
            Item::Span(s) | Item::SpanEvent { span: s, .. } => Some(s),
            _ => None,
        }
    }

    /// The metric, read-only (metric context only).
    pub fn metric_ref(&self) -> Option<&Metric> {
        match &self.item {
            Item::Metric(m) => Some(m),
            _ => None,
        }
    }

    /// The metric (metric context only: in the data point context the metric is split).
    pub fn metric_mut(&mut self) -> Option<&mut Metric> {
        match &mut self.item {
            Item::Metric(m) => Some(m),
            _ => None,
        }
    }

    /// Queues a change to the enclosing metric (see [`EvalContext::deferred`]).
    pub(crate) fn defer(&mut self, op: impl FnOnce(&mut Metric) -> Option<Metric> + Send + 'static) {
        self.deferred.push(MetricOp(Box::new(op)));
    }

    fn missing(&self, level: Context) -> EvalError {
        EvalError::new(format!("the {} context has no {} to read", self.context().name(), level.name()))
    }

    fn scope_ref(&self) -> Result<&ScopeMut<'a>, EvalError> {
        self.scope.as_ref().ok_or_else(|| self.missing(Context::Scope))
    }

    /// Reads a field without keys.
    pub(crate) fn get_field(&self, level: Context, field: Field) -> Result<Value<'_>, EvalError> {
        use Field as F;
        let v = match (level, field) {
            (_, F::Cache) => Value::Map(Cow::Borrowed(&self.cache)),
            (Context::Resource, F::Attributes) => Value::Map(Cow::Borrowed(self.resource.attributes())),
            (Context::Resource, F::DroppedAttributesCount) => {
                Value::Int(self.resource.get().map_or(0, |r| r.dropped_attributes_count.into()))
            }
            (Context::Resource, F::SchemaUrl) => Value::str(self.resource.schema_url()),
            (Context::Scope, f) => {
                let scope = self.scope_ref()?;
                match f {
                    F::Attributes => Value::Map(Cow::Borrowed(scope.attributes())),
                    F::Name => Value::str(scope.get().map_or("", |s| s.name.as_str())),
                    F::Version => Value::str(scope.get().map_or("", |s| s.version.as_str())),
                    F::DroppedAttributesCount => {
                        Value::Int(scope.get().map_or(0, |s| s.dropped_attributes_count.into()))
                    }
                    F::SchemaUrl => Value::str(scope.schema_url()),
                    _ => return Err(unsupported(level, f)),
                }
            }
            (Context::Span, f) => span_get(self.span_ref().ok_or_else(|| self.missing(level))?, f)?,
            (Context::SpanEvent, f) => match &self.item {
                Item::SpanEvent { event, index, .. } => match f {
                    F::Name => Value::str(event.name.as_str()),
                    F::Attributes => Value::Map(Cow::Borrowed(&event.attributes)),
                    F::DroppedAttributesCount => Value::Int(event.dropped_attributes_count.into()),
                    F::TimeUnixNano => Value::Int(event.time_unix_nano as i64),
                    F::Time => Value::Time(event.time_unix_nano as i64),
                    F::EventIndex => Value::Int(*index),
                    _ => return Err(unsupported(level, f)),
                },
                _ => return Err(self.missing(level)),
            },
            (Context::Log, f) => match &self.item {
                Item::Log(log) => super::fields_log::get(log, f)?,
                _ => return Err(self.missing(level)),
            },
            (Context::Metric, f) => match &self.item {
                Item::Metric(m) => super::fields_metric::metric_get(m, f)?,
                Item::DataPoint { metric, .. } => super::fields_metric::info_get(metric, f)?,
                _ => return Err(self.missing(level)),
            },
            (Context::DataPoint, f) => match &self.item {
                Item::DataPoint { point, .. } => super::fields_metric::point_get(point, f)?,
                _ => return Err(self.missing(level)),
            },
            (l, f) => return Err(unsupported(l, f)),
        };
        Ok(v)
    }

    /// Writes a field without keys. Values of the wrong type are ignored, as upstream's
    /// setters do; `nil` is never written.
    pub(crate) fn set_field(&mut self, level: Context, field: Field, value: Value<'_>) -> Result<(), EvalError> {
        use Field as F;
        if value.is_nil() {
            return Ok(());
        }
        match (level, field) {
            (_, F::Cache | F::Attributes | F::Metadata) => {
                if let Value::Map(m) = value {
                    if let Root::Map(target) = self.value_root_mut(level, field)? {
                        *target = m.into_owned();
                    }
                }
            }
            (Context::Resource, F::DroppedAttributesCount) => {
                if let Value::Int(i) = value {
                    self.resource.get_or_insert().dropped_attributes_count = i as u32;
                }
            }
            (Context::Resource, F::SchemaUrl) => {
                if let Value::Str(s) = value {
                    *self.resource.schema_url_mut() = s.into_owned();
                }
            }
            (Context::Scope, f) => {
                let level_missing = self.missing(level);
                let scope = self.scope.as_mut().ok_or(level_missing)?;
                match (f, value) {
                    (F::Name, Value::Str(s)) => scope.get_or_insert().name = s.into_owned(),
                    (F::Version, Value::Str(s)) => scope.get_or_insert().version = s.into_owned(),
                    (F::DroppedAttributesCount, Value::Int(i)) => {
                        scope.get_or_insert().dropped_attributes_count = i as u32
                    }
                    (F::SchemaUrl, Value::Str(s)) => *scope.schema_url_mut() = s.into_owned(),
                    _ => {}
                }
            }
            (Context::Span, f) => {
                let missing = self.missing(level);
                span_set(self.span_mut().ok_or(missing)?, f, value)?;
            }
            (Context::SpanEvent, f) => {
                if let Item::SpanEvent { event, .. } = &mut self.item {
                    match (f, value) {
                        (F::Name, Value::Str(s)) => event.name = s.into_owned(),
                        (F::DroppedAttributesCount, Value::Int(i)) => event.dropped_attributes_count = i as u32,
                        (F::TimeUnixNano, Value::Int(i)) | (F::Time, Value::Time(i)) => event.time_unix_nano = i as u64,
                        _ => {}
                    }
                }
            }
            (Context::Log, f) => {
                if let Item::Log(log) = &mut self.item {
                    super::fields_log::set(log, f, value)?;
                }
            }
            (Context::Metric, f) => match &mut self.item {
                Item::Metric(m) => super::fields_metric::metric_set(m, f, value),
                Item::DataPoint { metric, .. } => super::fields_metric::info_set(metric, f, value),
                _ => {}
            },
            (Context::DataPoint, f) => {
                if let Item::DataPoint { point, .. } = &mut self.item {
                    super::fields_metric::point_set(point, f, value);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The map or value a keyed path starts from, for writing.
    pub(crate) fn value_root_mut(&mut self, level: Context, field: Field) -> Result<Root<'_>, EvalError> {
        let missing = self.missing(level);
        Ok(match (level, field) {
            (_, Field::Cache) => Root::Map(&mut self.cache),
            (Context::Resource, Field::Attributes) => Root::Map(self.resource.attributes_mut()),
            (Context::Scope, Field::Attributes) => Root::Map(self.scope.as_mut().ok_or(missing)?.attributes_mut()),
            (Context::Span, Field::Attributes) => Root::Map(&mut self.span_mut().ok_or(missing)?.attributes),
            (Context::SpanEvent, Field::Attributes) => match &mut self.item {
                Item::SpanEvent { event, .. } => Root::Map(&mut event.attributes),
                _ => return Err(missing),
            },
            (Context::Log, Field::Attributes) => match &mut self.item {
                Item::Log(log) => Root::Map(&mut log.attributes),
                _ => return Err(missing),
            },
            (Context::Log, Field::Body) => match &mut self.item {
                Item::Log(log) => Root::Any(log.body.get_or_insert_with(AnyValue::default)),
                _ => return Err(missing),
            },
            (Context::Metric, Field::Metadata) => match &mut self.item {
                Item::Metric(m) => Root::Map(&mut m.metadata),
                Item::DataPoint { metric, .. } => Root::Map(metric.metadata),
                _ => return Err(missing),
            },
            (Context::DataPoint, Field::Attributes) => match &mut self.item {
                Item::DataPoint { point, .. } => Root::Map(point.attributes_mut()),
                _ => return Err(missing),
            },
            (l, f) => return Err(EvalError::new(format!("the {} path {f:?} cannot be indexed", l.name()))),
        })
    }
}

pub(crate) fn unsupported(level: Context, field: Field) -> EvalError {
    EvalError::new(format!("the {} context has no field {field:?}", level.name()))
}

fn span_get(span: &Span, f: Field) -> Result<Value<'_>, EvalError> {
    use Field as F;
    let status = span.status.as_ref();
    Ok(match f {
        F::Attributes => Value::Map(Cow::Borrowed(&span.attributes)),
        F::DroppedAttributesCount => Value::Int(span.dropped_attributes_count.into()),
        F::Name => Value::str(span.name.as_str()),
        F::TraceId => id_value(&span.trace_id, &ZERO_ID),
        F::TraceIdString => Value::Str(Cow::Owned(hex_id(&span.trace_id))),
        F::SpanId => id_value(&span.span_id, &ZERO_ID[..8]),
        F::SpanIdString => Value::Str(Cow::Owned(hex_id(&span.span_id))),
        F::ParentSpanId => id_value(&span.parent_span_id, &ZERO_ID[..8]),
        F::ParentSpanIdString => Value::Str(Cow::Owned(hex_id(&span.parent_span_id))),
        F::TraceState => Value::str(span.trace_state.as_str()),
        F::Kind => Value::Int(span.kind.into()),
        F::KindString => Value::str(kind_string(span.kind)),
        F::KindDeprecatedString => Value::str(kind_deprecated_string(span.kind)),
        F::StartTimeUnixNano => Value::Int(span.start_time_unix_nano as i64),
        F::EndTimeUnixNano => Value::Int(span.end_time_unix_nano as i64),
        F::StartTime => Value::Time(span.start_time_unix_nano as i64),
        F::EndTime => Value::Time(span.end_time_unix_nano as i64),
        F::DroppedEventsCount => Value::Int(span.dropped_events_count.into()),
        F::DroppedLinksCount => Value::Int(span.dropped_links_count.into()),
        F::StatusCode => Value::Int(status.map_or(0, |s| s.code.into())),
        F::StatusMessage => Value::str(status.map_or("", |s| s.message.as_str())),
        other => return Err(unsupported(Context::Span, other)),
    })
}

fn span_set(span: &mut Span, f: Field, value: Value<'_>) -> Result<(), EvalError> {
    use Field as F;
    match (f, value) {
        (F::Name, Value::Str(s)) => span.name = s.into_owned(),
        (F::DroppedAttributesCount, Value::Int(i)) => span.dropped_attributes_count = i as u32,
        (F::DroppedEventsCount, Value::Int(i)) => span.dropped_events_count = i as u32,
        (F::DroppedLinksCount, Value::Int(i)) => span.dropped_links_count = i as u32,
        (F::TraceId, Value::Bytes(b)) if b.len() == 16 => span.trace_id = b.into_owned(),
        (F::SpanId, Value::Bytes(b)) if b.len() == 8 => span.span_id = b.into_owned(),
        (F::ParentSpanId, Value::Bytes(b)) if b.len() == 8 || b.is_empty() => span.parent_span_id = b.into_owned(),
        (F::TraceIdString, Value::Str(s)) => span.trace_id = parse_id(&s, 16)?,
        (F::SpanIdString, Value::Str(s)) => span.span_id = parse_id(&s, 8)?,
        (F::ParentSpanIdString, Value::Str(s)) => span.parent_span_id = parse_id(&s, 8)?,
        (F::TraceState, Value::Str(s)) => span.trace_state = s.into_owned(),
        (F::Kind, Value::Int(i)) => span.kind = i as i32,
        (F::KindString, Value::Str(s)) => {
            if let Some(k) = (0..=5).find(|k| kind_string(*k) == s) {
                span.kind = k;
            }
        }
        (F::KindDeprecatedString, Value::Str(s)) => {
            if let Some(k) = (0..=5).find(|k| kind_deprecated_string(*k) == s) {
                span.kind = k;
            }
        }
        (F::StartTimeUnixNano, Value::Int(i)) | (F::StartTime, Value::Time(i)) => span.start_time_unix_nano = i as u64,
        (F::EndTimeUnixNano, Value::Int(i)) | (F::EndTime, Value::Time(i)) => span.end_time_unix_nano = i as u64,
        (F::StatusCode, Value::Int(i)) => span.status.get_or_insert_with(Status::default).code = i as i32,
        (F::StatusMessage, Value::Str(s)) => span.status.get_or_insert_with(Status::default).message = s.into_owned(),
        _ => {}
    }
    Ok(())
}

/// Parses a hex id of `len` bytes (for `trace_id.string` and `span_id.string` setters).
/// An all-zero id, what pdata's `TraceID()`/`SpanID()` give for an unset id.
pub(crate) const ZERO_ID: [u8; 16] = [0; 16];

/// An id field as pdata reads it: an unset (empty) id is the all-zero id of its size, so
/// `parent_span_id == SpanID(0x0000000000000000)` holds for a root span, as upstream.
pub(crate) fn id_value<'a>(id: &'a [u8], zero: &'static [u8]) -> Value<'a> {
    Value::Bytes(Cow::Borrowed(if id.is_empty() { zero } else { id }))
}

pub(crate) fn parse_id(s: &str, len: usize) -> Result<Vec<u8>, EvalError> {
    match const_hex::decode(s) {
        Ok(b) if b.len() == len => Ok(b),
        _ => Err(EvalError::new(format!("id must be {} hex characters, got {s:?}", len * 2))),
    }
}

fn kind_string(kind: i32) -> &'static str {
    match kind {
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "Unspecified",
    }
}

fn kind_deprecated_string(kind: i32) -> &'static str {
    match kind {
        1 => "SPAN_KIND_INTERNAL",
        2 => "SPAN_KIND_SERVER",
        3 => "SPAN_KIND_CLIENT",
        4 => "SPAN_KIND_PRODUCER",
        5 => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    }
}

/// The `metric.type` enum value of a kind (METRIC_DATA_TYPE_*).
pub(crate) fn metric_type(kind: Option<MetricKind>) -> i64 {
    match kind {
        None => 0,
        Some(MetricKind::Gauge) => 1,
        Some(MetricKind::Sum) => 2,
        Some(MetricKind::Histogram) => 3,
        Some(MetricKind::ExponentialHistogram) => 4,
        Some(MetricKind::Summary) => 5,
    }
}

/// The aggregation temporality of a metric's data, when it has one.
pub(crate) fn temporality(data: &Option<Data>) -> i64 {
    match data {
        Some(Data::Sum(s)) => s.aggregation_temporality.into(),
        Some(Data::Histogram(h)) => h.aggregation_temporality.into(),
        Some(Data::ExponentialHistogram(h)) => h.aggregation_temporality.into(),
        _ => 0,
    }
}
