//! Encoder tests: exact output, omitted defaults, 64-bit integers as strings, responses.

use super::fixtures::{any, kv, SPAN_ID, TRACE_ID};
use super::text;
use crate::json::{
    decode_logs_response, decode_metrics_response, encode_logs, encode_logs_response, encode_metrics,
    encode_metrics_response, encode_status, encode_trace_response, encode_traces,
};
use crate::proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use crate::proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use crate::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use crate::proto::common::v1::any_value::Value;
use crate::proto::common::v1::AnyValue;
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::proto::metrics::v1::{
    metric::Data, number_data_point, Gauge, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

fn logs_with_body(body: AnyValue) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord { body: Some(body), ..LogRecord::default() }],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

/// The JSON of a log body, as the encoder writes it.
fn body_json(body: AnyValue) -> String {
    let json = encode_logs(&logs_with_body(body));
    let json = text(&json);
    let inner = json
        .strip_prefix(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"#)
        .and_then(|rest| rest.strip_suffix("}]}]}]}"))
        .unwrap_or_else(|| panic!("unexpected envelope: {json}"));
    inner.to_owned()
}

#[test]
fn encodes_a_small_request_exactly() {
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Value::StringValue("checkout".to_owned()))],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: TRACE_ID.to_vec(),
                    span_id: SPAN_ID.to_vec(),
                    name: "GET /".to_owned(),
                    kind: 2,
                    start_time_unix_nano: 1_544_712_660_000_000_000,
                    end_time_unix_nano: 1_544_712_661_000_000_000,
                    attributes: vec![kv("http.status_code", Value::IntValue(200))],
                    status: Some(Status { code: 1, message: String::new() }),
                    ..Span::default()
                }],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    };
    let expected = concat!(
        r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"#,
        r#""scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","#,
        r#""name":"GET /","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","#,
        r#""attributes":[{"key":"http.status_code","value":{"intValue":"200"}}],"status":{"code":1}}]}]}]}"#,
    );
    assert_eq!(text(&encode_traces(&req)), expected);
}

#[test]
fn omits_defaults_but_keeps_present_messages() {
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource::default()),
            scope_spans: vec![ScopeSpans { spans: vec![Span::default()], ..ScopeSpans::default() }],
            ..ResourceSpans::default()
        }],
    };
    assert_eq!(text(&encode_traces(&req)), r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{}]}]}]}"#);
}

#[test]
fn always_writes_the_oneof_member_that_is_set() {
    assert_eq!(body_json(any(Value::IntValue(0))), r#"{"intValue":"0"}"#);
    assert_eq!(body_json(any(Value::StringValue(String::new()))), r#"{"stringValue":""}"#);
    assert_eq!(body_json(any(Value::BoolValue(false))), r#"{"boolValue":false}"#);
    assert_eq!(body_json(any(Value::DoubleValue(0.0))), r#"{"doubleValue":0}"#);
    assert_eq!(body_json(any(Value::BytesValue(Vec::new()))), r#"{"bytesValue":""}"#);
    assert_eq!(body_json(AnyValue::default()), "{}");

    let gauge = |value| Metric {
        data: Some(Data::Gauge(Gauge { data_points: vec![NumberDataPoint { value, ..NumberDataPoint::default() }] })),
        ..Metric::default()
    };
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    gauge(Some(number_data_point::Value::AsDouble(0.0))),
                    gauge(Some(number_data_point::Value::AsInt(0))),
                    gauge(None),
                ],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    };
    assert_eq!(
        text(&encode_metrics(&req)),
        concat!(
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":["#,
            r#"{"gauge":{"dataPoints":[{"asDouble":0}]}},{"gauge":{"dataPoints":[{"asInt":"0"}]}},"#,
            r#"{"gauge":{"dataPoints":[{}]}}]}]}]}"#
        )
    );
}

#[test]
fn writes_numbers_the_otlp_json_way() {
    assert_eq!(body_json(any(Value::IntValue(i64::MIN))), r#"{"intValue":"-9223372036854775808"}"#);
    assert_eq!(body_json(any(Value::DoubleValue(3.0))), r#"{"doubleValue":3}"#);
    assert_eq!(body_json(any(Value::DoubleValue(-1.5))), r#"{"doubleValue":-1.5}"#);
    assert_eq!(body_json(any(Value::DoubleValue(-0.0))), r#"{"doubleValue":-0.0}"#);
    assert_eq!(body_json(any(Value::DoubleValue(f64::NAN))), r#"{"doubleValue":"NaN"}"#);
    assert_eq!(body_json(any(Value::DoubleValue(f64::INFINITY))), r#"{"doubleValue":"Infinity"}"#);
    assert_eq!(body_json(any(Value::DoubleValue(f64::NEG_INFINITY))), r#"{"doubleValue":"-Infinity"}"#);
    for d in [1e21, 1e-7, 123_456_789.0, 0.1, f64::MAX, f64::MIN_POSITIVE, 5e-324] {
        let json = body_json(any(Value::DoubleValue(d)));
        let number = json.strip_prefix(r#"{"doubleValue":"#).and_then(|j| j.strip_suffix('}')).expect("a number");
        assert_eq!(number.parse::<f64>(), Ok(d), "{json}");
        assert!(!number.ends_with(".0"), "{json}");
    }
    assert_eq!(body_json(any(Value::BytesValue(vec![0xfb, 0xff]))), r#"{"bytesValue":"+/8="}"#);
    assert_eq!(
        body_json(any(Value::StringValue("a\"b\\c\n\u{1}é".to_owned()))),
        r#"{"stringValue":"a\"b\\c\n\u0001é"}"#
    );

    let point = HistogramDataPoint {
        count: 3,
        sum: Some(0.0),
        bucket_counts: vec![1, 0, 2],
        explicit_bounds: vec![0.5, 1.0],
        ..HistogramDataPoint::default()
    };
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "latency".to_owned(),
                    data: Some(Data::Histogram(crate::proto::metrics::v1::Histogram {
                        data_points: vec![point],
                        aggregation_temporality: 2,
                    })),
                    ..Metric::default()
                }],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    };
    assert_eq!(
        text(&encode_metrics(&req)),
        concat!(
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"latency","histogram":{"dataPoints":["#,
            r#"{"count":"3","sum":0,"bucketCounts":["1","0","2"],"explicitBounds":[0.5,1]}],"#,
            r#""aggregationTemporality":2}}]}]}]}"#
        )
    );
}

#[test]
fn encodes_and_decodes_responses() {
    assert_eq!(text(&encode_trace_response(&ExportTraceServiceResponse::default())), "{}");
    let r = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess { rejected_spans: 3, error_message: "too big".to_owned() }),
    };
    assert_eq!(
        text(&encode_trace_response(&r)),
        r#"{"partialSuccess":{"rejectedSpans":"3","errorMessage":"too big"}}"#
    );

    let r = ExportMetricsServiceResponse {
        partial_success: Some(ExportMetricsPartialSuccess { rejected_data_points: 5, error_message: String::new() }),
    };
    let json = encode_metrics_response(&r);
    assert_eq!(text(&json), r#"{"partialSuccess":{"rejectedDataPoints":"5"}}"#);
    assert_eq!(decode_metrics_response(&json), Ok(r));

    let r = ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: 0,
            error_message: "warning".to_owned(),
        }),
    };
    let json = encode_logs_response(&r);
    assert_eq!(text(&json), r#"{"partialSuccess":{"errorMessage":"warning"}}"#);
    assert_eq!(decode_logs_response(&json), Ok(r));
    assert!(decode_logs_response(b"[]").is_err());
}

#[test]
fn encodes_status_bodies() {
    assert_eq!(text(&encode_status(3, "bad \"input\"")), r#"{"code":3,"message":"bad \"input\""}"#);
    assert_eq!(text(&encode_status(14, "")), r#"{"code":14}"#);
}
