//! The fixtures of `filter-cases.yaml`, built as pdata (transcribed from its `fixtures:`
//! block, which transcribes the upstream Go builders).

use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::exponential_histogram_data_point::Buckets;
use switchyard_pdata::proto::metrics::v1::summary_data_point::ValueAtQuantile;
use switchyard_pdata::proto::metrics::v1::{
    metric, number_data_point, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::span::{Event, Link};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

pub(crate) fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }),
        ..Default::default()
    }
}

pub(crate) fn resource(attrs: &[(&str, &str)]) -> Option<Resource> {
    Some(Resource { attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(), ..Default::default() })
}

pub(crate) fn scope(name: &str, version: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope { name: name.into(), version: version.into(), ..Default::default() })
}

const START: u64 = 1_581_452_772_000_000_321;
const END: u64 = 1_581_452_773_000_000_789;

fn span_one() -> Span {
    Span {
        name: "operationA".into(),
        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
        parent_span_id: vec![8, 7, 6, 5, 4, 3, 2, 1],
        trace_id: (1..=16).collect(),
        start_time_unix_nano: START,
        end_time_unix_nano: END,
        dropped_attributes_count: 1,
        dropped_links_count: 1,
        dropped_events_count: 1,
        kind: 1,
        trace_state: "new".into(),
        attributes: vec![
            kv("http.method", "get"),
            kv("http.path", "/health"),
            kv("http.url", "http://localhost/health"),
            kv("flags", "A|B|C"),
            kv("total.string", "123456789"),
        ],
        status: Some(Status { code: 2, message: "status-cancelled".into() }),
        events: vec![Event { name: "eventA".into(), ..Default::default() }],
        ..Default::default()
    }
}

fn span_two() -> Span {
    Span {
        name: "operationB".into(),
        // Upstream leaves the ids unset: all-zero in Go's memory, absent on the wire.
        span_id: vec![0; 8],
        trace_id: vec![0; 16],
        start_time_unix_nano: START,
        end_time_unix_nano: END,
        attributes: vec![
            kv("http.method", "get"),
            kv("http.path", "/health"),
            kv("http.url", "http://localhost/health"),
            kv("flags", "C|D"),
            kv("total.string", "345678"),
        ],
        links: vec![
            Link { dropped_attributes_count: 4, ..Default::default() },
            Link { dropped_attributes_count: 4, ..Default::default() },
        ],
        dropped_links_count: 3,
        status: Some(Status { code: 1, message: "status-cancelled".into() }),
        events: vec![Event { name: "spanEventA".into(), ..Default::default() }],
        ..Default::default()
    }
}

/// `filter_traces`: one resource, scopes `scope1` and `scope2`, each with both spans.
pub(crate) fn filter_traces() -> ExportTraceServiceRequest {
    let scope_spans = ["scope1", "scope2"]
        .iter()
        .map(|name| ScopeSpans { scope: scope(name, ""), spans: vec![span_one(), span_two()], ..Default::default() })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(&[("host.name", "localhost")]),
            scope_spans,
            ..Default::default()
        }],
    }
}

fn attrs3() -> Vec<KeyValue> {
    vec![kv("attr1", "test1"), kv("attr2", "test2"), kv("attr3", "test3")]
}

fn number_point(value: f64, extra: &[(&str, &str)]) -> NumberDataPoint {
    let mut attributes = attrs3();
    attributes.extend(extra.iter().map(|(k, v)| kv(k, v)));
    NumberDataPoint {
        start_time_unix_nano: START,
        value: Some(number_data_point::Value::AsDouble(value)),
        attributes,
        ..Default::default()
    }
}

fn named(name: &str, data: metric::Data) -> Metric {
    Metric { name: name.into(), data: Some(data), ..Default::default() }
}

/// `filter_metrics`: one resource (with a schema URL), one scope, five metrics.
pub(crate) fn filter_metrics() -> ExportMetricsServiceRequest {
    let abc = [("flags", "A|B|C"), ("total.string", "123456789")];
    let cd = [("flags", "C|D"), ("total.string", "345678")];
    let hist_attrs = || {
        let mut a = attrs3();
        a.extend(cd.iter().map(|(k, v)| kv(k, v)));
        a
    };
    let metrics = vec![
        named(
            "operationA",
            metric::Data::Sum(Sum {
                data_points: vec![number_point(1.0, &abc), number_point(3.7, &abc)],
                ..Default::default()
            }),
        ),
        named(
            "operationB",
            metric::Data::Histogram(Histogram {
                data_points: vec![
                    HistogramDataPoint {
                        start_time_unix_nano: START,
                        count: 1,
                        sum: Some(5.0),
                        attributes: hist_attrs(),
                        ..Default::default()
                    },
                    HistogramDataPoint {
                        start_time_unix_nano: START,
                        count: 3,
                        attributes: hist_attrs(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        ),
        named(
            "operationC",
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![
                    ExponentialHistogramDataPoint {
                        start_time_unix_nano: START,
                        count: 1,
                        scale: 1,
                        zero_count: 1,
                        positive: Some(Buckets { offset: 1, ..Default::default() }),
                        negative: Some(Buckets { offset: 1, ..Default::default() }),
                        attributes: attrs3(),
                        ..Default::default()
                    },
                    ExponentialHistogramDataPoint {
                        start_time_unix_nano: START,
                        attributes: attrs3(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        ),
        named(
            "operationD",
            metric::Data::Summary(Summary {
                data_points: vec![
                    SummaryDataPoint {
                        start_time_unix_nano: START,
                        time_unix_nano: 1_615_584_433_000_000_322,
                        count: 1234,
                        sum: 12.34,
                        quantile_values: vec![
                            ValueAtQuantile { quantile: 0.99, value: 123.0 },
                            ValueAtQuantile { quantile: 0.95, value: 321.0 },
                        ],
                        attributes: attrs3(),
                        ..Default::default()
                    },
                    SummaryDataPoint { sum: 43.21, ..Default::default() },
                ],
            }),
        ),
        named("operationE", metric::Data::Gauge(Gauge { data_points: vec![number_point(2.0, &[])] })),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(&[("host.name", "localhost")]),
            scope_metrics: vec![ScopeMetrics { scope: scope("scope", ""), metrics, ..Default::default() }],
            schema_url: "test_schema_url".into(),
        }],
    }
}

/// One resource per `(service.name, span attributes)`, scope `otel` version `11`, one span `test!`.
fn legacy_traces(resources: &[(&str, &[(&str, &str)])]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: resources
            .iter()
            .map(|(service, attrs)| ResourceSpans {
                resource: resource(&[("service.name", service)]),
                scope_spans: vec![ScopeSpans {
                    scope: scope("otel", "11"),
                    spans: vec![Span {
                        name: "test!".into(),
                        attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

/// `legacy_redis_traces`.
pub(crate) fn legacy_redis_traces() -> ExportTraceServiceRequest {
    legacy_traces(&[("test_service", &[("db.type", "redis")])])
}

/// `legacy_name_traces`.
pub(crate) fn legacy_name_traces() -> ExportTraceServiceRequest {
    legacy_traces(&[("keep", &[]), ("dont_keep", &[]), ("keep", &[])])
}

fn gauge(name: &str) -> Metric {
    named(name, metric::Data::Gauge(Gauge { data_points: vec![number_point(1.0, &[])] }))
}

/// A resource's attributes and the names of its metrics.
pub(crate) type ResourceSpec = (Vec<(String, String)>, Vec<String>);

/// Resources with their attributes and metric names (one gauge point each).
pub(crate) fn metrics_by_resource(resources: &[ResourceSpec]) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: resources
            .iter()
            .map(|(attrs, names)| ResourceMetrics {
                resource: Some(Resource {
                    attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics: names.iter().map(|n| gauge(n)).collect(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}
