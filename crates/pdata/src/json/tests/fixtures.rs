//! Richly populated requests: every field of every message set, every AnyValue variant nested.

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::any_value::Value;
use crate::proto::common::v1::{AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList};
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::proto::metrics::v1::exponential_histogram_data_point::Buckets;
use crate::proto::metrics::v1::summary_data_point::ValueAtQuantile;
use crate::proto::metrics::v1::{
    exemplar, metric::Data, number_data_point, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint,
};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::span::{Event, Link};
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

pub(super) const TRACE_ID: [u8; 16] =
    [0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c];
pub(super) const SPAN_ID: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];
pub(super) const PARENT_ID: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73];

pub(super) fn any(value: Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

pub(super) fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(any(value)), key_strindex: 0 }
}

/// Attributes holding every AnyValue variant, nested in arrays and kvlists, plus edge cases.
pub(super) fn attributes() -> Vec<KeyValue> {
    let scalars = vec![
        any(Value::StringValue("quote \" backslash \\ newline \n tab \t ctrl \u{1} é 😀 </script>".to_owned())),
        any(Value::StringValue(String::new())),
        any(Value::BoolValue(true)),
        any(Value::BoolValue(false)),
        any(Value::IntValue(i64::MIN)),
        any(Value::IntValue(0)),
        any(Value::DoubleValue(-0.0)),
        any(Value::DoubleValue(0.0)),
        any(Value::DoubleValue(f64::NAN)),
        any(Value::DoubleValue(f64::INFINITY)),
        any(Value::DoubleValue(f64::NEG_INFINITY)),
        any(Value::DoubleValue(1e-300)),
        any(Value::DoubleValue(f64::MAX)),
        any(Value::BytesValue(vec![0xfb, 0xff, 0x00, 0x01])),
        any(Value::BytesValue(Vec::new())),
        any(Value::StringValueStrindex(7)),
        AnyValue { value: None },
    ];
    let kvlist = KeyValueList {
        values: vec![
            kv("inner.array", Value::ArrayValue(ArrayValue { values: scalars.clone() })),
            kv("inner.kvlist", Value::KvlistValue(KeyValueList { values: vec![kv("deep", Value::IntValue(1))] })),
            KeyValue { key: "no.value".to_owned(), value: None, key_strindex: 0 },
            KeyValue { key: String::new(), value: Some(any(Value::IntValue(2))), key_strindex: 3 },
        ],
    };
    vec![
        kv("string", Value::StringValue("value".to_owned())),
        kv("bool", Value::BoolValue(true)),
        kv("int", Value::IntValue(i64::MAX)),
        kv("double", Value::DoubleValue(637.704)),
        kv("bytes", Value::BytesValue(b"hello, world".to_vec())),
        kv("array", Value::ArrayValue(ArrayValue { values: scalars })),
        kv("empty.array", Value::ArrayValue(ArrayValue::default())),
        kv("kvlist", Value::KvlistValue(kvlist)),
        kv("empty.kvlist", Value::KvlistValue(KeyValueList::default())),
        KeyValue { key: "empty.value".to_owned(), value: Some(AnyValue::default()), key_strindex: 0 },
    ]
}

pub(super) fn resource() -> Resource {
    Resource {
        attributes: attributes(),
        dropped_attributes_count: 1,
        entity_refs: vec![
            EntityRef {
                schema_url: "https://opentelemetry.io/schemas/1.30.0".to_owned(),
                r#type: "service".to_owned(),
                id_keys: vec!["service.name".to_owned(), "service.namespace".to_owned()],
                description_keys: vec!["service.version".to_owned()],
            },
            EntityRef::default(),
        ],
    }
}

pub(super) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "my.library".to_owned(),
        version: "1.0.0".to_owned(),
        attributes: vec![kv("scope.attr", Value::StringValue("x".to_owned()))],
        dropped_attributes_count: 2,
    }
}

pub(super) fn traces() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        trace_state: "congo=t61rcWkgMzE".to_owned(),
        parent_span_id: PARENT_ID.to_vec(),
        flags: 0x301,
        name: "I'm a server span".to_owned(),
        kind: 2,
        start_time_unix_nano: 1_544_712_660_000_000_000,
        end_time_unix_nano: u64::MAX,
        attributes: attributes(),
        dropped_attributes_count: 3,
        events: vec![
            Event {
                time_unix_nano: 1_544_712_660_500_000_000,
                name: "exception".to_owned(),
                attributes: vec![kv("exception.message", Value::StringValue("boom".to_owned()))],
                dropped_attributes_count: 4,
            },
            Event::default(),
        ],
        dropped_events_count: 5,
        links: vec![
            Link {
                trace_id: TRACE_ID.to_vec(),
                span_id: PARENT_ID.to_vec(),
                trace_state: "rojo=00f067aa0ba902b7".to_owned(),
                attributes: vec![kv("link.attr", Value::BoolValue(false))],
                dropped_attributes_count: 6,
                flags: 0x100,
            },
            Link::default(),
        ],
        dropped_links_count: 7,
        status: Some(Status { message: "failed".to_owned(), code: 2 }),
    };
    let minimal = Span { status: Some(Status::default()), ..Span::default() };
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(resource()),
                scope_spans: vec![
                    ScopeSpans {
                        scope: Some(scope()),
                        spans: vec![span, minimal, Span::default()],
                        schema_url: "https://opentelemetry.io/schemas/1.4.0".to_owned(),
                    },
                    ScopeSpans::default(),
                ],
                schema_url: "https://opentelemetry.io/schemas/1.5.0".to_owned(),
            },
            ResourceSpans { resource: Some(Resource::default()), ..ResourceSpans::default() },
            ResourceSpans::default(),
        ],
    }
}

fn exemplars() -> Vec<Exemplar> {
    vec![
        Exemplar {
            filtered_attributes: vec![kv("user", Value::StringValue("alice".to_owned()))],
            time_unix_nano: 1_544_712_660_300_000_001,
            span_id: SPAN_ID.to_vec(),
            trace_id: TRACE_ID.to_vec(),
            value: Some(exemplar::Value::AsDouble(2.5)),
        },
        Exemplar { value: Some(exemplar::Value::AsInt(-3)), ..Exemplar::default() },
        Exemplar { value: Some(exemplar::Value::AsDouble(0.0)), ..Exemplar::default() },
        Exemplar::default(),
    ]
}

fn number_points() -> Vec<NumberDataPoint> {
    use number_data_point::Value as N;
    vec![
        NumberDataPoint {
            attributes: attributes(),
            start_time_unix_nano: 1_544_712_660_300_000_000,
            time_unix_nano: 1_544_712_660_300_000_000,
            exemplars: exemplars(),
            flags: 1,
            value: Some(N::AsDouble(5.5)),
        },
        NumberDataPoint { value: Some(N::AsInt(i64::MIN)), ..NumberDataPoint::default() },
        NumberDataPoint { value: Some(N::AsInt(0)), ..NumberDataPoint::default() },
        NumberDataPoint { value: Some(N::AsDouble(f64::NAN)), ..NumberDataPoint::default() },
        NumberDataPoint { value: Some(N::AsDouble(0.0)), ..NumberDataPoint::default() },
        NumberDataPoint::default(),
    ]
}

fn metric(name: &str, data: Data) -> Metric {
    Metric {
        name: name.to_owned(),
        description: format!("I'm a {name}"),
        unit: "{requests}".to_owned(),
        metadata: vec![kv("meta", Value::StringValue(name.to_owned()))],
        data: Some(data),
    }
}

pub(super) fn metrics() -> ExportMetricsServiceRequest {
    let histogram = HistogramDataPoint {
        attributes: attributes(),
        start_time_unix_nano: 1,
        time_unix_nano: 2,
        count: u64::MAX,
        sum: Some(0.0),
        bucket_counts: vec![0, 1, u64::MAX],
        explicit_bounds: vec![f64::NEG_INFINITY, -1.5, 0.0, 1e21],
        exemplars: exemplars(),
        flags: 1,
        min: Some(-2.0),
        max: Some(f64::INFINITY),
    };
    let exponential = ExponentialHistogramDataPoint {
        attributes: attributes(),
        start_time_unix_nano: 3,
        time_unix_nano: 4,
        count: 10,
        sum: Some(-12.25),
        scale: -3,
        zero_count: 2,
        positive: Some(Buckets { offset: -5, bucket_counts: vec![1, 0, 3] }),
        negative: Some(Buckets::default()),
        flags: 1,
        exemplars: exemplars(),
        min: Some(0.001),
        max: Some(f64::NAN),
        zero_threshold: 1e-9,
    };
    let summary = SummaryDataPoint {
        attributes: attributes(),
        start_time_unix_nano: 5,
        time_unix_nano: 6,
        count: 7,
        sum: f64::NAN,
        quantile_values: vec![
            ValueAtQuantile { quantile: 0.0, value: -1.0 },
            ValueAtQuantile { quantile: 0.99, value: f64::INFINITY },
            ValueAtQuantile { quantile: 1.0, value: 0.0 },
        ],
        flags: 1,
    };
    let metrics = vec![
        metric("gauge", Data::Gauge(Gauge { data_points: number_points() })),
        metric("sum", Data::Sum(Sum { data_points: number_points(), aggregation_temporality: 1, is_monotonic: true })),
        metric(
            "histogram",
            Data::Histogram(Histogram {
                data_points: vec![histogram, HistogramDataPoint::default()],
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "exponential",
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![exponential, ExponentialHistogramDataPoint::default()],
                aggregation_temporality: 1,
            }),
        ),
        metric("summary", Data::Summary(Summary { data_points: vec![summary, SummaryDataPoint::default()] })),
        metric("empty.sum", Data::Sum(Sum::default())),
        Metric::default(),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![
            ResourceMetrics {
                resource: Some(resource()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(scope()),
                    metrics,
                    schema_url: "https://opentelemetry.io/schemas/1.4.0".to_owned(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.5.0".to_owned(),
            },
            ResourceMetrics::default(),
        ],
    }
}

pub(super) fn logs() -> ExportLogsServiceRequest {
    let record = LogRecord {
        time_unix_nano: 1_544_712_660_300_000_000,
        observed_time_unix_nano: 1_544_712_660_300_000_001,
        severity_number: 17,
        severity_text: "Error".to_owned(),
        body: Some(any(Value::KvlistValue(KeyValueList { values: attributes() }))),
        attributes: attributes(),
        dropped_attributes_count: 1,
        flags: 1,
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        event_name: "browser.click".to_owned(),
    };
    let empty_body = LogRecord { body: Some(AnyValue::default()), ..LogRecord::default() };
    ExportLogsServiceRequest {
        resource_logs: vec![
            ResourceLogs {
                resource: Some(resource()),
                scope_logs: vec![ScopeLogs {
                    scope: Some(scope()),
                    log_records: vec![record, empty_body, LogRecord::default()],
                    schema_url: "https://opentelemetry.io/schemas/1.4.0".to_owned(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.5.0".to_owned(),
            },
            ResourceLogs::default(),
        ],
    }
}
