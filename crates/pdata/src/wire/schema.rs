//! Static descriptors of every message reachable from the three OTLP export requests.
//!
//! They list exactly the fields that the generated code of `opentelemetry-proto` 0.33.1
//! knows (its `#[prost(...)]` attributes): a field missing here would be skipped as unknown
//! while prost checks it, and a field present here but not in the generated code would be
//! checked while prost skips it; either way the walker and the decoder would disagree. Fields
//! a newer `.proto` added but the generated code lacks are therefore left out on purpose.
//! The tests in `tests.rs` probe every field number of every message against prost.
//!
//! The statics refer to each other (AnyValue → ArrayValue → AnyValue), which is why they are
//! `static` items rather than `const`.

/// How a field's payload is encoded and checked.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Type {
    /// int32, int64, uint32, uint64, sint32, sint64, bool, enum: any varint is accepted.
    Varint,
    /// fixed32, sfixed32, float.
    Fixed32,
    /// fixed64, sfixed64, double.
    Fixed64,
    /// Length-delimited, any bytes.
    Bytes,
    /// Length-delimited, valid UTF-8.
    String,
    /// Length-delimited, a nested message walked with its own descriptor.
    Message(&'static Message),
}

/// How a field's occurrences contribute to the item count of the message holding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Count {
    /// Adds the nested message's own items (0 for messages that hold no items).
    Nested,
    /// Each occurrence is one item (a span, a log record, a data point).
    Item,
}

/// One field known to the generated code.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    /// The field number.
    pub number: u32,
    /// The field's name in the `.proto`: read by tests and `Debug` output only.
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: &'static str,
    pub ty: Type,
    /// Repeated: numeric repeated fields accept the packed and the unpacked form (prost's
    /// `merge_repeated` does, whatever the `packed` attribute says).
    pub repeated: bool,
    /// The oneof this field is a member of: a later member replaces an earlier, different
    /// one (prost drops the old value), so the items under the replaced member stop counting.
    pub oneof: Option<&'static str>,
    pub count: Count,
}

/// Field numbers above this are unknown in every OTLP message (the largest is 16).
const MAX_NUMBER: usize = 16;

/// A message: its name and its fields.
#[derive(Debug)]
pub(crate) struct Message {
    /// The message's name in the `.proto`: read by tests and `Debug` output only.
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: &'static str,
    pub fields: &'static [Field],
    /// `index[n]` is 1 + the position of field `n` in `fields`, or 0: one load per lookup
    /// instead of a scan (the walk looks a field up for every key it reads).
    index: [u8; MAX_NUMBER + 1],
}

impl Message {
    /// Builds a descriptor; fails to compile if a number repeats or exceeds `MAX_NUMBER`.
    const fn new(name: &'static str, fields: &'static [Field]) -> Message {
        let mut index = [0u8; MAX_NUMBER + 1];
        let mut i = 0;
        while i < fields.len() {
            let n = fields[i].number as usize;
            assert!(n >= 1 && n <= MAX_NUMBER && index[n] == 0, "bad or repeated field number");
            index[n] = (i + 1) as u8;
            i += 1;
        }
        Message { name, fields, index }
    }

    /// The descriptor of field `number`, or `None` for an unknown field.
    #[inline]
    pub(crate) fn field(&self, number: u32) -> Option<&'static Field> {
        let slot = *self.index.get(number as usize)?;
        self.fields.get(usize::from(slot).checked_sub(1)?)
    }
}

const fn f(number: u32, name: &'static str, ty: Type) -> Field {
    Field { number, name, ty, repeated: false, oneof: None, count: Count::Nested }
}
const fn rep(number: u32, name: &'static str, ty: Type) -> Field {
    Field { number, name, ty, repeated: true, oneof: None, count: Count::Nested }
}
const fn items(number: u32, name: &'static str, m: &'static Message) -> Field {
    Field { number, name, ty: Type::Message(m), repeated: true, oneof: None, count: Count::Item }
}
const fn oneof(group: &'static str, number: u32, name: &'static str, ty: Type) -> Field {
    Field { number, name, ty, repeated: false, oneof: Some(group), count: Count::Nested }
}
const fn msg(m: &'static Message) -> Type {
    Type::Message(m)
}

use Type::{Bytes, Fixed32, Fixed64, String, Varint};

// ---- collector requests ----------------------------------------------------------------

pub(crate) static EXPORT_TRACE_SERVICE_REQUEST: Message =
    Message::new("ExportTraceServiceRequest", &[rep(1, "resource_spans", msg(&RESOURCE_SPANS))]);
pub(crate) static EXPORT_METRICS_SERVICE_REQUEST: Message =
    Message::new("ExportMetricsServiceRequest", &[rep(1, "resource_metrics", msg(&RESOURCE_METRICS))]);
pub(crate) static EXPORT_LOGS_SERVICE_REQUEST: Message =
    Message::new("ExportLogsServiceRequest", &[rep(1, "resource_logs", msg(&RESOURCE_LOGS))]);

// ---- common / resource -----------------------------------------------------------------

pub(crate) static ANY_VALUE: Message = Message::new(
    "AnyValue",
    &[
        oneof("value", 1, "string_value", String),
        oneof("value", 2, "bool_value", Varint),
        oneof("value", 3, "int_value", Varint),
        oneof("value", 4, "double_value", Fixed64),
        oneof("value", 5, "array_value", msg(&ARRAY_VALUE)),
        oneof("value", 6, "kvlist_value", msg(&KEY_VALUE_LIST)),
        oneof("value", 7, "bytes_value", Bytes),
        oneof("value", 8, "string_value_strindex", Varint),
    ],
);
pub(crate) static ARRAY_VALUE: Message = Message::new("ArrayValue", &[rep(1, "values", msg(&ANY_VALUE))]);
pub(crate) static KEY_VALUE_LIST: Message = Message::new("KeyValueList", &[rep(1, "values", msg(&KEY_VALUE))]);
pub(crate) static KEY_VALUE: Message =
    Message::new("KeyValue", &[f(1, "key", String), f(2, "value", msg(&ANY_VALUE)), f(3, "key_strindex", Varint)]);
pub(crate) static INSTRUMENTATION_SCOPE: Message = Message::new(
    "InstrumentationScope",
    &[
        f(1, "name", String),
        f(2, "version", String),
        rep(3, "attributes", msg(&KEY_VALUE)),
        f(4, "dropped_attributes_count", Varint),
    ],
);
pub(crate) static ENTITY_REF: Message = Message::new(
    "EntityRef",
    &[f(1, "schema_url", String), f(2, "type", String), rep(3, "id_keys", String), rep(4, "description_keys", String)],
);
pub(crate) static RESOURCE: Message = Message::new(
    "Resource",
    &[
        rep(1, "attributes", msg(&KEY_VALUE)),
        f(2, "dropped_attributes_count", Varint),
        rep(3, "entity_refs", msg(&ENTITY_REF)),
    ],
);

// ---- traces ----------------------------------------------------------------------------

pub(crate) static RESOURCE_SPANS: Message = Message::new(
    "ResourceSpans",
    &[f(1, "resource", msg(&RESOURCE)), rep(2, "scope_spans", msg(&SCOPE_SPANS)), f(3, "schema_url", String)],
);
pub(crate) static SCOPE_SPANS: Message = Message::new(
    "ScopeSpans",
    &[f(1, "scope", msg(&INSTRUMENTATION_SCOPE)), items(2, "spans", &SPAN), f(3, "schema_url", String)],
);
pub(crate) static SPAN: Message = Message::new(
    "Span",
    &[
        f(1, "trace_id", Bytes),
        f(2, "span_id", Bytes),
        f(3, "trace_state", String),
        f(4, "parent_span_id", Bytes),
        f(5, "name", String),
        f(6, "kind", Varint),
        f(7, "start_time_unix_nano", Fixed64),
        f(8, "end_time_unix_nano", Fixed64),
        rep(9, "attributes", msg(&KEY_VALUE)),
        f(10, "dropped_attributes_count", Varint),
        rep(11, "events", msg(&SPAN_EVENT)),
        f(12, "dropped_events_count", Varint),
        rep(13, "links", msg(&SPAN_LINK)),
        f(14, "dropped_links_count", Varint),
        f(15, "status", msg(&STATUS)),
        f(16, "flags", Fixed32),
    ],
);
pub(crate) static SPAN_EVENT: Message = Message::new(
    "Span.Event",
    &[
        f(1, "time_unix_nano", Fixed64),
        f(2, "name", String),
        rep(3, "attributes", msg(&KEY_VALUE)),
        f(4, "dropped_attributes_count", Varint),
    ],
);
pub(crate) static SPAN_LINK: Message = Message::new(
    "Span.Link",
    &[
        f(1, "trace_id", Bytes),
        f(2, "span_id", Bytes),
        f(3, "trace_state", String),
        rep(4, "attributes", msg(&KEY_VALUE)),
        f(5, "dropped_attributes_count", Varint),
        f(6, "flags", Fixed32),
    ],
);
pub(crate) static STATUS: Message = Message::new("Status", &[f(2, "message", String), f(3, "code", Varint)]);

// ---- logs ------------------------------------------------------------------------------

pub(crate) static RESOURCE_LOGS: Message = Message::new(
    "ResourceLogs",
    &[f(1, "resource", msg(&RESOURCE)), rep(2, "scope_logs", msg(&SCOPE_LOGS)), f(3, "schema_url", String)],
);
pub(crate) static SCOPE_LOGS: Message = Message::new(
    "ScopeLogs",
    &[f(1, "scope", msg(&INSTRUMENTATION_SCOPE)), items(2, "log_records", &LOG_RECORD), f(3, "schema_url", String)],
);
pub(crate) static LOG_RECORD: Message = Message::new(
    "LogRecord",
    &[
        f(1, "time_unix_nano", Fixed64),
        f(2, "severity_number", Varint),
        f(3, "severity_text", String),
        f(5, "body", msg(&ANY_VALUE)),
        rep(6, "attributes", msg(&KEY_VALUE)),
        f(7, "dropped_attributes_count", Varint),
        f(8, "flags", Fixed32),
        f(9, "trace_id", Bytes),
        f(10, "span_id", Bytes),
        f(11, "observed_time_unix_nano", Fixed64),
        f(12, "event_name", String),
    ],
);

// ---- metrics ---------------------------------------------------------------------------

pub(crate) static RESOURCE_METRICS: Message = Message::new(
    "ResourceMetrics",
    &[f(1, "resource", msg(&RESOURCE)), rep(2, "scope_metrics", msg(&SCOPE_METRICS)), f(3, "schema_url", String)],
);
pub(crate) static SCOPE_METRICS: Message = Message::new(
    "ScopeMetrics",
    &[f(1, "scope", msg(&INSTRUMENTATION_SCOPE)), rep(2, "metrics", msg(&METRIC)), f(3, "schema_url", String)],
);
/// A metric's items are the data points of its `data` member; when a different member
/// follows, prost replaces the first (and `count_points` sees only the last), when the same
/// member repeats, prost merges the two (their points add up).
pub(crate) static METRIC: Message = Message::new(
    "Metric",
    &[
        f(1, "name", String),
        f(2, "description", String),
        f(3, "unit", String),
        oneof("data", 5, "gauge", msg(&GAUGE)),
        oneof("data", 7, "sum", msg(&SUM)),
        oneof("data", 9, "histogram", msg(&HISTOGRAM)),
        oneof("data", 10, "exponential_histogram", msg(&EXPONENTIAL_HISTOGRAM)),
        oneof("data", 11, "summary", msg(&SUMMARY)),
        rep(12, "metadata", msg(&KEY_VALUE)),
    ],
);
pub(crate) static GAUGE: Message = Message::new("Gauge", &[items(1, "data_points", &NUMBER_DATA_POINT)]);
pub(crate) static SUM: Message = Message::new(
    "Sum",
    &[
        items(1, "data_points", &NUMBER_DATA_POINT),
        f(2, "aggregation_temporality", Varint),
        f(3, "is_monotonic", Varint),
    ],
);
pub(crate) static HISTOGRAM: Message = Message::new(
    "Histogram",
    &[items(1, "data_points", &HISTOGRAM_DATA_POINT), f(2, "aggregation_temporality", Varint)],
);
pub(crate) static EXPONENTIAL_HISTOGRAM: Message = Message::new(
    "ExponentialHistogram",
    &[items(1, "data_points", &EXPONENTIAL_HISTOGRAM_DATA_POINT), f(2, "aggregation_temporality", Varint)],
);
pub(crate) static SUMMARY: Message = Message::new("Summary", &[items(1, "data_points", &SUMMARY_DATA_POINT)]);
pub(crate) static NUMBER_DATA_POINT: Message = Message::new(
    "NumberDataPoint",
    &[
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        oneof("value", 4, "as_double", Fixed64),
        rep(5, "exemplars", msg(&EXEMPLAR)),
        oneof("value", 6, "as_int", Fixed64),
        rep(7, "attributes", msg(&KEY_VALUE)),
        f(8, "flags", Varint),
    ],
);
pub(crate) static HISTOGRAM_DATA_POINT: Message = Message::new(
    "HistogramDataPoint",
    &[
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        f(4, "count", Fixed64),
        f(5, "sum", Fixed64),
        rep(6, "bucket_counts", Fixed64),
        rep(7, "explicit_bounds", Fixed64),
        rep(8, "exemplars", msg(&EXEMPLAR)),
        rep(9, "attributes", msg(&KEY_VALUE)),
        f(10, "flags", Varint),
        f(11, "min", Fixed64),
        f(12, "max", Fixed64),
    ],
);
pub(crate) static EXPONENTIAL_HISTOGRAM_DATA_POINT: Message = Message::new(
    "ExponentialHistogramDataPoint",
    &[
        rep(1, "attributes", msg(&KEY_VALUE)),
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        f(4, "count", Fixed64),
        f(5, "sum", Fixed64),
        f(6, "scale", Varint),
        f(7, "zero_count", Fixed64),
        f(8, "positive", msg(&BUCKETS)),
        f(9, "negative", msg(&BUCKETS)),
        f(10, "flags", Varint),
        rep(11, "exemplars", msg(&EXEMPLAR)),
        f(12, "min", Fixed64),
        f(13, "max", Fixed64),
        f(14, "zero_threshold", Fixed64),
    ],
);
pub(crate) static BUCKETS: Message =
    Message::new("ExponentialHistogramDataPoint.Buckets", &[f(1, "offset", Varint), rep(2, "bucket_counts", Varint)]);
pub(crate) static SUMMARY_DATA_POINT: Message = Message::new(
    "SummaryDataPoint",
    &[
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        f(4, "count", Fixed64),
        f(5, "sum", Fixed64),
        rep(6, "quantile_values", msg(&VALUE_AT_QUANTILE)),
        rep(7, "attributes", msg(&KEY_VALUE)),
        f(8, "flags", Varint),
    ],
);
pub(crate) static VALUE_AT_QUANTILE: Message =
    Message::new("SummaryDataPoint.ValueAtQuantile", &[f(1, "quantile", Fixed64), f(2, "value", Fixed64)]);
pub(crate) static EXEMPLAR: Message = Message::new(
    "Exemplar",
    &[
        f(2, "time_unix_nano", Fixed64),
        oneof("value", 3, "as_double", Fixed64),
        f(4, "span_id", Bytes),
        f(5, "trace_id", Bytes),
        oneof("value", 6, "as_int", Fixed64),
        rep(7, "filtered_attributes", msg(&KEY_VALUE)),
    ],
);

/// Every message descriptor, for tests that probe each one against prost.
#[cfg(test)]
pub(crate) static ALL: &[&Message] = &[
    &EXPORT_TRACE_SERVICE_REQUEST,
    &EXPORT_METRICS_SERVICE_REQUEST,
    &EXPORT_LOGS_SERVICE_REQUEST,
    &ANY_VALUE,
    &ARRAY_VALUE,
    &KEY_VALUE_LIST,
    &KEY_VALUE,
    &INSTRUMENTATION_SCOPE,
    &ENTITY_REF,
    &RESOURCE,
    &RESOURCE_SPANS,
    &SCOPE_SPANS,
    &SPAN,
    &SPAN_EVENT,
    &SPAN_LINK,
    &STATUS,
    &RESOURCE_LOGS,
    &SCOPE_LOGS,
    &LOG_RECORD,
    &RESOURCE_METRICS,
    &SCOPE_METRICS,
    &METRIC,
    &GAUGE,
    &SUM,
    &HISTOGRAM,
    &EXPONENTIAL_HISTOGRAM,
    &SUMMARY,
    &NUMBER_DATA_POINT,
    &HISTOGRAM_DATA_POINT,
    &EXPONENTIAL_HISTOGRAM_DATA_POINT,
    &BUCKETS,
    &SUMMARY_DATA_POINT,
    &VALUE_AT_QUANTILE,
    &EXEMPLAR,
];
