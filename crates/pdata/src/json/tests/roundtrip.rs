//! Property tests: random requests survive protobuf and OTLP/JSON round trips unchanged
//! (compared through their protobuf encoding, so doubles compare bit for bit). They run in
//! CI with the default 256 cases per property; `PROPTEST_CASES` raises it.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use prost::Message;

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::{any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList};
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::proto::metrics::v1::{
    exemplar, metric, number_data_point, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};

/// Any double but NaN (NaN payloads are not kept by "NaN" in JSON; NaN itself is tested
/// in the fixtures), including infinities, -0.0 and subnormals.
fn double() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("NaN", |d| !d.is_nan())
}

fn text() -> impl Strategy<Value = String> {
    // Any Unicode, including quotes, backslashes and control characters.
    ".{0,12}"
}

fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(Vec::new()), vec(any::<u8>(), len)]
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        text().prop_map(any_value::Value::StringValue),
        any::<bool>().prop_map(any_value::Value::BoolValue),
        any::<i64>().prop_map(any_value::Value::IntValue),
        double().prop_map(any_value::Value::DoubleValue),
        vec(any::<u8>(), 0..8).prop_map(any_value::Value::BytesValue),
    ]
    .prop_map(|v| AnyValue { value: Some(v) });
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4)
                .prop_map(|values| AnyValue { value: Some(any_value::Value::ArrayValue(ArrayValue { values })) }),
            vec((text(), inner), 0..4).prop_map(|kvs| AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList {
                    values: kvs
                        .into_iter()
                        .map(|(key, v)| KeyValue { key, value: Some(v), ..Default::default() })
                        .collect(),
                }))
            }),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec((text(), option::of(any_value())), 0..4)
        .prop_map(|kvs| kvs.into_iter().map(|(key, value)| KeyValue { key, value, ..Default::default() }).collect())
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    option::of((attributes(), any::<u32>()).prop_map(|(attributes, dropped_attributes_count)| Resource {
        attributes,
        dropped_attributes_count,
        ..Default::default()
    }))
}

fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    option::of((text(), text(), attributes()).prop_map(|(name, version, attributes)| InstrumentationScope {
        name,
        version,
        attributes,
        dropped_attributes_count: 0,
    }))
}

fn span() -> impl Strategy<Value = Span> {
    (
        (id(16), id(8), id(8), text(), text(), 0..6i32, any::<u64>(), any::<u64>()),
        (attributes(), any::<u32>(), vec((text(), any::<u64>(), attributes()), 0..3)),
        (vec((id(16), id(8), text(), attributes(), any::<u32>()), 0..3), option::of((text(), 0..3i32)), any::<u32>()),
    )
        .prop_map(
            |(
                (trace_id, span_id, parent_span_id, trace_state, name, kind, start, end),
                (attributes, dropped, events),
                (links, status, flags),
            )| Span {
                trace_id,
                span_id,
                parent_span_id,
                trace_state,
                name,
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes,
                dropped_attributes_count: dropped,
                events: events
                    .into_iter()
                    .map(|(name, time_unix_nano, attributes)| span::Event {
                        name,
                        time_unix_nano,
                        attributes,
                        dropped_attributes_count: 0,
                    })
                    .collect(),
                links: links
                    .into_iter()
                    .map(|(trace_id, span_id, trace_state, attributes, flags)| span::Link {
                        trace_id,
                        span_id,
                        trace_state,
                        attributes,
                        dropped_attributes_count: 0,
                        flags,
                    })
                    .collect(),
                status: status.map(|(message, code)| Status { message, code }),
                flags,
                ..Default::default()
            },
        )
}

fn traces() -> impl Strategy<Value = ExportTraceServiceRequest> {
    vec((resource(), vec((scope(), vec(span(), 0..4), text()), 0..3), text()), 0..3).prop_map(|rs| {
        ExportTraceServiceRequest {
            resource_spans: rs
                .into_iter()
                .map(|(resource, scopes, schema_url)| ResourceSpans {
                    resource,
                    scope_spans: scopes
                        .into_iter()
                        .map(|(scope, spans, schema_url)| ScopeSpans { scope, spans, schema_url })
                        .collect(),
                    schema_url,
                })
                .collect(),
        }
    })
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        (any::<u64>(), any::<u64>(), 0..25i32, text(), option::of(any_value())),
        (attributes(), any::<u32>(), any::<u32>(), id(16), id(8), text()),
    )
        .prop_map(
            |(
                (time, observed, severity_number, severity_text, body),
                (attributes, dropped, flags, trace_id, span_id, event_name),
            )| LogRecord {
                time_unix_nano: time,
                observed_time_unix_nano: observed,
                severity_number,
                severity_text,
                body,
                attributes,
                dropped_attributes_count: dropped,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

fn logs() -> impl Strategy<Value = ExportLogsServiceRequest> {
    vec((resource(), vec((scope(), vec(log_record(), 0..4), text()), 0..3), text()), 0..3).prop_map(|rl| {
        ExportLogsServiceRequest {
            resource_logs: rl
                .into_iter()
                .map(|(resource, scopes, schema_url)| ResourceLogs {
                    resource,
                    scope_logs: scopes
                        .into_iter()
                        .map(|(scope, log_records, schema_url)| ScopeLogs { scope, log_records, schema_url })
                        .collect(),
                    schema_url,
                })
                .collect(),
        }
    })
}

fn exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    vec(
        (
            attributes(),
            any::<u64>(),
            id(8),
            id(16),
            prop_oneof![double().prop_map(exemplar::Value::AsDouble), any::<i64>().prop_map(exemplar::Value::AsInt)],
        ),
        0..2,
    )
    .prop_map(|es| {
        es.into_iter()
            .map(|(filtered_attributes, time_unix_nano, span_id, trace_id, v)| Exemplar {
                filtered_attributes,
                time_unix_nano,
                span_id,
                trace_id,
                value: Some(v),
            })
            .collect()
    })
}

fn number_point() -> impl Strategy<Value = NumberDataPoint> {
    (
        attributes(),
        any::<u64>(),
        any::<u64>(),
        option::of(prop_oneof![
            double().prop_map(number_data_point::Value::AsDouble),
            any::<i64>().prop_map(number_data_point::Value::AsInt)
        ]),
        exemplars(),
        0..2u32,
    )
        .prop_map(|(attributes, start, time, value, exemplars, flags)| NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            value,
            exemplars,
            flags,
        })
}

fn histogram_point() -> impl Strategy<Value = HistogramDataPoint> {
    (
        attributes(),
        any::<u64>(),
        vec(any::<u64>(), 0..5),
        vec(double(), 0..4),
        option::of(double()),
        option::of(double()),
        option::of(double()),
    )
        .prop_map(|(attributes, count, bucket_counts, explicit_bounds, sum, min, max)| HistogramDataPoint {
            attributes,
            count,
            bucket_counts,
            explicit_bounds,
            sum,
            min,
            max,
            ..Default::default()
        })
}

fn metric() -> impl Strategy<Value = Metric> {
    let data =
        prop_oneof![
            vec(number_point(), 0..3).prop_map(|data_points| metric::Data::Gauge(Gauge { data_points })),
            (vec(number_point(), 0..3), 0..3i32, any::<bool>()).prop_map(|(data_points, t, m)| metric::Data::Sum(
                Sum { data_points, aggregation_temporality: t, is_monotonic: m }
            )),
            (vec(histogram_point(), 0..3), 0..3i32).prop_map(|(data_points, t)| metric::Data::Histogram(Histogram {
                data_points,
                aggregation_temporality: t
            })),
        ];
    (text(), text(), text(), option::of(data), attributes())
        .prop_map(|(name, description, unit, data, metadata)| Metric { name, description, unit, data, metadata })
}

fn metrics() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    vec((resource(), vec((scope(), vec(metric(), 0..4), text()), 0..3), text()), 0..3).prop_map(|rm| {
        ExportMetricsServiceRequest {
            resource_metrics: rm
                .into_iter()
                .map(|(resource, scopes, schema_url)| ResourceMetrics {
                    resource,
                    scope_metrics: scopes
                        .into_iter()
                        .map(|(scope, metrics, schema_url)| ScopeMetrics { scope, metrics, schema_url })
                        .collect(),
                    schema_url,
                })
                .collect(),
        }
    })
}

fn same<T: Message>(a: &T, b: &T) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.encode_to_vec(), b.encode_to_vec());
    Ok(())
}

proptest! {
    #[test]
    fn traces_survive_protobuf_and_json(req in traces()) {
        let wire = req.encode_to_vec();
        same(&ExportTraceServiceRequest::decode(wire.as_slice()).map_err(|e| TestCaseError::fail(e.to_string()))?, &req)?;
        let json = crate::json::encode_traces(&req);
        let back = crate::json::decode_traces(&json).map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&json))))?;
        same(&back, &req)?;
    }

    #[test]
    fn logs_survive_protobuf_and_json(req in logs()) {
        let wire = req.encode_to_vec();
        same(&ExportLogsServiceRequest::decode(wire.as_slice()).map_err(|e| TestCaseError::fail(e.to_string()))?, &req)?;
        let json = crate::json::encode_logs(&req);
        let back = crate::json::decode_logs(&json).map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&json))))?;
        same(&back, &req)?;
    }

    #[test]
    fn metrics_survive_protobuf_and_json(req in metrics()) {
        let wire = req.encode_to_vec();
        same(&ExportMetricsServiceRequest::decode(wire.as_slice()).map_err(|e| TestCaseError::fail(e.to_string()))?, &req)?;
        let json = crate::json::encode_metrics(&req);
        let back = crate::json::decode_metrics(&json).map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&json))))?;
        same(&back, &req)?;
    }
}
