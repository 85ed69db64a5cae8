//! Hand encoding helpers and sample requests (built with the proto types, encoded by prost)
//! for the walker's tests.

use prost::Message as _;

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::{
    any_value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::proto::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint,
};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use crate::Signal;

pub(crate) fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

pub(crate) fn key(number: u32, wire_type: u8) -> Vec<u8> {
    varint(u64::from(number) << 3 | u64::from(wire_type))
}

/// A length-delimited field.
pub(crate) fn ld(number: u32, payload: &[u8]) -> Vec<u8> {
    cat(&[&key(number, 2), &varint(payload.len() as u64), payload])
}

pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) })
}

fn kv(k: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue { key: k.into(), value, ..Default::default() }
}

fn attrs() -> Vec<KeyValue> {
    vec![
        kv("http.method", s("GET")),
        kv("n", Some(AnyValue { value: Some(any_value::Value::IntValue(-3)) })),
        kv("f", Some(AnyValue { value: Some(any_value::Value::DoubleValue(1.5)) })),
        kv("b", Some(AnyValue { value: Some(any_value::Value::BoolValue(true)) })),
        kv("raw", Some(AnyValue { value: Some(any_value::Value::BytesValue(vec![0xff, 0])) })),
        kv(
            "list",
            Some(AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![s("a").unwrap_or_default(), AnyValue::default()],
                })),
            }),
        ),
        kv(
            "map",
            Some(AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList { values: vec![kv("inner", s("é"))] })),
            }),
        ),
        kv("empty", None),
    ]
}

fn resource(i: u32) -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv("service.name", s(&format!("svc{i}")))],
        dropped_attributes_count: i,
        entity_refs: vec![EntityRef {
            schema_url: "u".into(),
            r#type: "service".into(),
            id_keys: vec!["service.name".into()],
            description_keys: vec![],
        }],
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "lib".into(),
        version: "1".into(),
        attributes: attrs(),
        dropped_attributes_count: 1,
    })
}

pub(crate) fn traces() -> ExportTraceServiceRequest {
    let span = |i: u64| Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        trace_state: "k=v".into(),
        parent_span_id: vec![3; 8],
        flags: 0x101,
        name: format!("span{i}"),
        kind: 2,
        start_time_unix_nano: i,
        end_time_unix_nano: i + 10,
        attributes: attrs(),
        dropped_attributes_count: 1,
        events: vec![span::Event {
            time_unix_nano: i,
            name: "ev".into(),
            attributes: attrs(),
            dropped_attributes_count: 2,
        }],
        dropped_events_count: 3,
        links: vec![span::Link {
            trace_id: vec![4; 16],
            span_id: vec![5; 8],
            trace_state: String::new(),
            attributes: attrs(),
            dropped_attributes_count: 0,
            flags: 1,
        }],
        dropped_links_count: 4,
        status: Some(Status { message: "ok".into(), code: 1 }),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: resource(1),
                scope_spans: vec![
                    ScopeSpans { scope: scope(), spans: vec![span(1), span(2)], schema_url: "s".into() },
                    ScopeSpans { scope: None, spans: vec![], schema_url: String::new() },
                    ScopeSpans { scope: None, spans: vec![span(3)], schema_url: String::new() },
                ],
                schema_url: "r".into(),
            },
            ResourceSpans { resource: None, scope_spans: vec![], schema_url: String::new() },
            ResourceSpans {
                resource: resource(2),
                scope_spans: vec![ScopeSpans { scope: scope(), spans: vec![span(4)], schema_url: String::new() }],
                schema_url: String::new(),
            },
        ],
    }
}

fn exemplars() -> Vec<Exemplar> {
    vec![
        Exemplar {
            filtered_attributes: attrs(),
            time_unix_nano: 5,
            span_id: vec![1; 8],
            trace_id: vec![2; 16],
            value: Some(exemplar::Value::AsDouble(0.5)),
        },
        Exemplar { value: Some(exemplar::Value::AsInt(-7)), ..Default::default() },
    ]
}

fn number_points(n: usize) -> Vec<NumberDataPoint> {
    (0..n)
        .map(|i| NumberDataPoint {
            attributes: attrs(),
            start_time_unix_nano: 1,
            time_unix_nano: 2,
            exemplars: exemplars(),
            flags: 1,
            value: Some(if i % 2 == 0 {
                number_data_point::Value::AsInt(i as i64)
            } else {
                number_data_point::Value::AsDouble(i as f64)
            }),
        })
        .collect()
}

pub(crate) fn metrics() -> ExportMetricsServiceRequest {
    let metric = |name: &str, data: Option<Data>| Metric {
        name: name.into(),
        description: "d".into(),
        unit: "1".into(),
        metadata: attrs(),
        data,
    };
    let histogram_point = HistogramDataPoint {
        attributes: attrs(),
        start_time_unix_nano: 1,
        time_unix_nano: 2,
        count: 6,
        sum: Some(3.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![0.5, 1.0],
        exemplars: exemplars(),
        flags: 0,
        min: Some(0.1),
        max: Some(9.0),
    };
    let exp_point = ExponentialHistogramDataPoint {
        attributes: attrs(),
        count: 4,
        sum: Some(1.0),
        scale: -3,
        zero_count: 1,
        positive: Some(Buckets { offset: -2, bucket_counts: vec![1, 300, 0] }),
        negative: Some(Buckets { offset: 5, bucket_counts: vec![] }),
        exemplars: exemplars(),
        min: None,
        max: Some(2.0),
        zero_threshold: 0.001,
        ..Default::default()
    };
    let summary_point = SummaryDataPoint {
        attributes: attrs(),
        count: 3,
        sum: 2.0,
        quantile_values: vec![
            ValueAtQuantile { quantile: 0.5, value: 1.0 },
            ValueAtQuantile { quantile: 1.0, value: 2.0 },
        ],
        flags: 1,
        ..Default::default()
    };
    let metrics = vec![
        metric("gauge", Some(Data::Gauge(Gauge { data_points: number_points(3) }))),
        metric(
            "sum",
            Some(Data::Sum(Sum { data_points: number_points(2), aggregation_temporality: 2, is_monotonic: true })),
        ),
        metric(
            "histogram",
            Some(Data::Histogram(Histogram {
                data_points: vec![histogram_point.clone(), histogram_point],
                aggregation_temporality: 1,
            })),
        ),
        metric(
            "exp",
            Some(Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![exp_point],
                aggregation_temporality: 1,
            })),
        ),
        metric("summary", Some(Data::Summary(Summary { data_points: vec![summary_point.clone(), summary_point] }))),
        metric("nothing", None),
        metric("empty gauge", Some(Data::Gauge(Gauge::default()))),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![
            ResourceMetrics {
                resource: resource(1),
                scope_metrics: vec![ScopeMetrics { scope: scope(), metrics: metrics.clone(), schema_url: "s".into() }],
                schema_url: "r".into(),
            },
            ResourceMetrics {
                resource: resource(2),
                scope_metrics: vec![
                    ScopeMetrics { scope: None, metrics: vec![], schema_url: String::new() },
                    ScopeMetrics { scope: None, metrics: metrics[..2].to_vec(), schema_url: String::new() },
                ],
                schema_url: String::new(),
            },
        ],
    }
}

pub(crate) fn logs() -> ExportLogsServiceRequest {
    let record = |i: u64| LogRecord {
        time_unix_nano: i,
        observed_time_unix_nano: i + 1,
        severity_number: 9,
        severity_text: "INFO".into(),
        body: Some(AnyValue { value: Some(any_value::Value::KvlistValue(KeyValueList { values: attrs() })) }),
        attributes: attrs(),
        dropped_attributes_count: 1,
        flags: 1,
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        event_name: "e".into(),
    };
    ExportLogsServiceRequest {
        resource_logs: vec![
            ResourceLogs {
                resource: resource(1),
                scope_logs: vec![ScopeLogs {
                    scope: scope(),
                    log_records: vec![record(1), record(2)],
                    schema_url: "s".into(),
                }],
                schema_url: String::new(),
            },
            ResourceLogs {
                resource: None,
                scope_logs: vec![ScopeLogs {
                    scope: None,
                    log_records: vec![LogRecord::default()],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            },
        ],
    }
}

/// One encoded sample request per walkable signal.
pub(crate) fn samples() -> Vec<(Signal, Vec<u8>)> {
    vec![
        (Signal::Traces, traces().encode_to_vec()),
        (Signal::Metrics, metrics().encode_to_vec()),
        (Signal::Logs, logs().encode_to_vec()),
    ]
}
