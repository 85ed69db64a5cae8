//! Decoder tests: the opentelemetry-proto examples, leniency, and errors with their paths.

use super::fixtures::{PARENT_ID, SPAN_ID, TRACE_ID};
use crate::json::{decode_logs, decode_metrics, decode_trace_response, decode_traces, JsonError};
use crate::proto::common::v1::any_value::Value;
use crate::proto::common::v1::AnyValue;
use crate::proto::metrics::v1::{exemplar, metric::Data, number_data_point};

fn string_value(v: &Option<AnyValue>) -> Option<&str> {
    match v.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s),
        _ => None,
    }
}

fn traces_err(body: &str) -> JsonError {
    decode_traces(body.as_bytes()).expect_err("must be rejected")
}

/// A traces body with one span made of `span_fields`.
fn one_span(span_fields: &str) -> String {
    format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{span_fields}}}]}}]}}]}}"#)
}

// ---- the examples of opentelemetry-proto (examples/*.json) ----

#[test]
fn spec_trace_example() {
    let body = r#"{
      "resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
        "scopeSpans": [{
          "scope": {
            "name": "my.library", "version": "1.0.0",
            "attributes": [{"key": "my.scope.attribute", "value": {"stringValue": "some scope attribute"}}]
          },
          "spans": [{
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "EEE19B7EC3C1B174",
            "parentSpanId": "EEE19B7EC3C1B173",
            "name": "I'm a server span",
            "startTimeUnixNano": 1544712660000000000,
            "endTimeUnixNano": 1544712661000000000,
            "kind": 2,
            "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}]
          }]
        }]
      }]
    }"#;
    let req = decode_traces(body.as_bytes()).expect("decodes");
    let rs = &req.resource_spans[0];
    let attr = &rs.resource.as_ref().expect("resource").attributes[0];
    assert_eq!(attr.key, "service.name");
    assert_eq!(string_value(&attr.value), Some("my.service"));
    let scope = rs.scope_spans[0].scope.as_ref().expect("scope");
    assert_eq!((scope.name.as_str(), scope.version.as_str()), ("my.library", "1.0.0"));
    assert_eq!(string_value(&scope.attributes[0].value), Some("some scope attribute"));
    let span = &rs.scope_spans[0].spans[0];
    assert_eq!(span.trace_id, TRACE_ID);
    assert_eq!(span.span_id, SPAN_ID);
    assert_eq!(span.parent_span_id, PARENT_ID);
    assert_eq!(span.name, "I'm a server span");
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
    assert_eq!(span.kind, 2);
    assert_eq!(span.attributes[0].key, "my.span.attr");
}

#[test]
fn spec_metrics_example() {
    let body = r#"{
      "resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
        "scopeMetrics": [{
          "scope": {"name": "my.library", "version": "1.0.0"},
          "metrics": [
            {
              "name": "my.counter", "unit": "1", "description": "I'm a Counter",
              "sum": {
                "aggregationTemporality": 1, "isMonotonic": true,
                "dataPoints": [{
                  "asDouble": 5,
                  "startTimeUnixNano": 1544712660300000000, "timeUnixNano": 1544712660300000000,
                  "attributes": [{"key": "my.counter.attr", "value": {"stringValue": "some value"}}]
                }]
              }
            },
            {
              "name": "my.gauge", "unit": "1", "description": "I'm a Gauge",
              "gauge": {"dataPoints": [{"asDouble": 10, "timeUnixNano": 1544712660300000000}]}
            },
            {
              "name": "my.histogram", "unit": "1", "description": "I'm a Histogram",
              "histogram": {
                "aggregationTemporality": 1,
                "dataPoints": [{
                  "startTimeUnixNano": 1544712660300000000, "timeUnixNano": 1544712660300000000,
                  "count": 3, "sum": 3, "bucketCounts": [1,1,1], "explicitBounds": [1], "min": 1, "max": 1
                }]
              }
            }
          ]
        }]
      }]
    }"#;
    let req = decode_metrics(body.as_bytes()).expect("decodes");
    let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(metrics.len(), 3);
    let Some(Data::Sum(sum)) = &metrics[0].data else { panic!("not a sum: {:?}", metrics[0]) };
    assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (1, true));
    assert_eq!(sum.data_points[0].value, Some(number_data_point::Value::AsDouble(5.0)));
    assert_eq!(sum.data_points[0].start_time_unix_nano, 1_544_712_660_300_000_000);
    let Some(Data::Gauge(gauge)) = &metrics[1].data else { panic!("not a gauge: {:?}", metrics[1]) };
    assert_eq!(gauge.data_points[0].value, Some(number_data_point::Value::AsDouble(10.0)));
    let Some(Data::Histogram(histogram)) = &metrics[2].data else { panic!("not a histogram") };
    let point = &histogram.data_points[0];
    assert_eq!((point.count, point.sum, point.min, point.max), (3, Some(3.0), Some(1.0), Some(1.0)));
    assert_eq!(point.bucket_counts, [1, 1, 1]);
    assert_eq!(point.explicit_bounds, [1.0]);
}

#[test]
fn spec_logs_example() {
    let body = r#"{
      "resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
        "scopeLogs": [{
          "scope": {"name": "my.library", "version": "1.0.0"},
          "logRecords": [{
            "timeUnixNano": 1544712660300000000, "observedTimeUnixNano": 1544712660300000000,
            "severityText": "Information",
            "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
            "body": {"stringValue": "Example log record"},
            "attributes": [
              {"key": "string.attribute", "value": {"stringValue": "some string"}},
              {"key": "boolean.attribute", "value": {"boolValue": true}},
              {"key": "int.attribute", "value": {"intValue": 10}},
              {"key": "double.attribute", "value": {"doubleValue": 637.704}},
              {"key": "array.attribute", "value": {"arrayValue": {"values": [{"stringValue": "many"}, {"stringValue": "values"}]}}},
              {"key": "map.attribute", "value": {"kvlistValue": {"values": [{"key": "some.map.key", "value": {"stringValue": "some value"}}]}}}
            ]
          }]
        }]
      }]
    }"#;
    let req = decode_logs(body.as_bytes()).expect("decodes");
    let record = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(record.observed_time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(record.severity_text, "Information");
    assert_eq!((record.trace_id.as_slice(), record.span_id.as_slice()), (&TRACE_ID[..], &SPAN_ID[..]));
    assert_eq!(string_value(&record.body), Some("Example log record"));
    let values: Vec<_> = record.attributes.iter().map(|kv| kv.value.clone().and_then(|v| v.value)).collect();
    assert_eq!(values[1], Some(Value::BoolValue(true)));
    assert_eq!(values[2], Some(Value::IntValue(10)));
    assert_eq!(values[3], Some(Value::DoubleValue(637.704)));
    let Some(Value::ArrayValue(array)) = &values[4] else { panic!("not an array: {:?}", values[4]) };
    assert_eq!(array.values.len(), 2);
    let Some(Value::KvlistValue(kvlist)) = &values[5] else { panic!("not a kvlist: {:?}", values[5]) };
    assert_eq!(kvlist.values[0].key, "some.map.key");
}

// ---- leniency ----

#[test]
fn accepts_snake_case_keys_and_upper_case_ids() {
    let body = r#"{"resource_spans":[{"schema_url":"s","scope_spans":[{"spans":[{
        "trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"eee19b7ec3c1b174",
        "parent_span_id":"EEE19b7ec3c1B173","start_time_unix_nano":"1","end_time_unix_nano":2,
        "dropped_attributes_count":"3","events":[{"time_unix_nano":"4"}],
        "links":[{"trace_id":"5b8efff798038103d269b633813fc60c","span_id":"EEE19B7EC3C1B174"}]
    }]}]}]}"#;
    let req = decode_traces(body.as_bytes()).expect("decodes");
    assert_eq!(req.resource_spans[0].schema_url, "s");
    let span = &req.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!((span.trace_id.as_slice(), span.span_id.as_slice()), (&TRACE_ID[..], &SPAN_ID[..]));
    assert_eq!(span.parent_span_id, PARENT_ID);
    assert_eq!((span.start_time_unix_nano, span.end_time_unix_nano), (1, 2));
    assert_eq!(span.dropped_attributes_count, 3);
    assert_eq!(span.events[0].time_unix_nano, 4);
    assert_eq!((span.links[0].trace_id.as_slice(), span.links[0].span_id.as_slice()), (&TRACE_ID[..], &SPAN_ID[..]));
}

#[test]
fn accepts_integers_as_numbers_or_strings_and_enums_as_names() {
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
        {"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","dataPoints":[
            {"asInt":"-9223372036854775808","timeUnixNano":18446744073709551615,"flags":"1"},
            {"asInt":42,"startTimeUnixNano":"18446744073709551615","timeUnixNano":1e3}]}},
        {"histogram":{"aggregationTemporality":"1","dataPoints":[{"count":"3","bucketCounts":["1",2,"0"]}]}},
        {"exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[
            {"scale":"-2","positive":{"offset":"-3","bucketCounts":[1,"2"]},"zeroCount":5}]}}
    ]}]}]}"#;
    let req = decode_metrics(body.as_bytes()).expect("decodes");
    let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Sum(sum)) = &metrics[0].data else { panic!("not a sum") };
    assert_eq!(sum.aggregation_temporality, 2);
    let (p0, p1) = (&sum.data_points[0], &sum.data_points[1]);
    assert_eq!(p0.value, Some(number_data_point::Value::AsInt(i64::MIN)));
    assert_eq!((p0.time_unix_nano, p0.flags), (u64::MAX, 1));
    assert_eq!(p1.value, Some(number_data_point::Value::AsInt(42)));
    assert_eq!((p1.start_time_unix_nano, p1.time_unix_nano), (u64::MAX, 1000));
    let Some(Data::Histogram(h)) = &metrics[1].data else { panic!("not a histogram") };
    assert_eq!(h.aggregation_temporality, 1);
    assert_eq!((h.data_points[0].count, h.data_points[0].bucket_counts.as_slice()), (3, &[1, 2, 0][..]));
    let Some(Data::ExponentialHistogram(e)) = &metrics[2].data else { panic!("not an exponential histogram") };
    let point = &e.data_points[0];
    assert_eq!((point.scale, point.zero_count), (-2, 5));
    let positive = point.positive.as_ref().expect("positive buckets");
    assert_eq!((positive.offset, positive.bucket_counts.as_slice()), (-3, &[1, 2][..]));

    let spans = decode_traces(
        one_span(r#""kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR"},"flags":"256""#).as_bytes(),
    )
    .expect("decodes");
    let span = &spans.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!((span.kind, span.flags), (2, 256));
    assert_eq!(span.status.as_ref().map(|s| s.code), Some(2));

    let logs = decode_logs(
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"severityNumber":"SEVERITY_NUMBER_INFO"},{"severityNumber":"17"},{"severityNumber":21}]}]}]}"#,
    )
    .expect("decodes");
    let severities: Vec<i32> =
        logs.resource_logs[0].scope_logs[0].log_records.iter().map(|r| r.severity_number).collect();
    assert_eq!(severities, [9, 17, 21]);
}

#[test]
fn accepts_special_doubles() {
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[
        {"asDouble":"NaN"},{"asDouble":"Infinity"},{"asDouble":"-Infinity"},{"asDouble":"2.5"},{"asDouble":-1e-3}
    ]}}]}]}]}"#;
    let req = decode_metrics(body.as_bytes()).expect("decodes");
    let Some(Data::Gauge(gauge)) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!("not a gauge")
    };
    let values: Vec<f64> = gauge
        .data_points
        .iter()
        .map(|p| match p.value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            other => panic!("not a double: {other:?}"),
        })
        .collect();
    assert!(values[0].is_nan());
    assert_eq!(&values[1..], [f64::INFINITY, f64::NEG_INFINITY, 2.5, -1e-3]);
}

#[test]
fn null_means_default_and_unknown_keys_are_ignored() {
    let body = r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":{"name":null},"spans":[{
        "traceId":null,"spanId":"","name":null,"kind":null,"attributes":null,"events":null,"status":null,
        "startTimeUnixNano":null,"unknownScalar":1,"unknownObject":{"a":[1,{"b":null}]},
        "links":[{"traceId":"","attributes":[{"key":"k","value":{"stringValue":"v","futureField":{"x":1}}}]}]
    }],"somethingNew":[]}]}],"extra":true}"#;
    let req = decode_traces(body.as_bytes()).expect("decodes");
    let rs = &req.resource_spans[0];
    assert_eq!(rs.resource, None);
    assert_eq!(rs.scope_spans[0].scope.as_ref().map(|s| s.name.as_str()), Some(""));
    let span = &rs.scope_spans[0].spans[0];
    assert!(span.trace_id.is_empty() && span.span_id.is_empty() && span.name.is_empty());
    assert_eq!((span.kind, span.start_time_unix_nano, span.status.clone()), (0, 0, None));
    assert!(span.attributes.is_empty() && span.events.is_empty());
    assert_eq!(string_value(&span.links[0].attributes[0].value), Some("v"));

    // AnyValue: `{}`, null, and a null oneof member all mean "no value".
    let logs = decode_logs(
        br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"body":{}},{"body":null},{"body":{"stringValue":null}},{"body":{"unknownValue":"x"}}]}]}]}"#,
    )
    .expect("decodes");
    let bodies: Vec<_> = logs.resource_logs[0].scope_logs[0].log_records.iter().map(|r| r.body.clone()).collect();
    let empty = Some(AnyValue::default());
    assert_eq!(bodies, [empty.clone(), None, empty.clone(), empty]);
}

#[test]
fn accepts_both_base64_alphabets_with_or_without_padding() {
    for encoded in ["+/8A", "-_8A", "+/8=", "-_8", "+/8"] {
        let body = format!(
            r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{{"bytesValue":"{encoded}"}}}}]}}]}}]}}"#
        );
        let logs = decode_logs(body.as_bytes()).unwrap_or_else(|e| panic!("{encoded}: {e}"));
        let value = logs.resource_logs[0].scope_logs[0].log_records[0].body.clone().and_then(|b| b.value);
        let expected: &[u8] =
            if encoded.len() == 4 && !encoded.ends_with('=') { &[0xfb, 0xff, 0x00] } else { &[0xfb, 0xff] };
        assert_eq!(value, Some(Value::BytesValue(expected.to_vec())), "{encoded}");
    }
}

#[test]
fn decodes_exemplar_ids_and_responses() {
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"exemplars":[
        {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","asInt":"7","filteredAttributes":[]}
    ]}]}}]}]}]}"#;
    let req = decode_metrics(body.as_bytes()).expect("decodes");
    let Some(Data::Gauge(gauge)) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!("not a gauge")
    };
    let exemplar = &gauge.data_points[0].exemplars[0];
    assert_eq!((exemplar.trace_id.as_slice(), exemplar.span_id.as_slice()), (&TRACE_ID[..], &SPAN_ID[..]));
    assert_eq!(exemplar.value, Some(exemplar::Value::AsInt(7)));

    let response = decode_trace_response(br#"{"partial_success":{"rejected_spans":3,"errorMessage":"slow down"}}"#)
        .expect("decodes");
    let partial = response.partial_success.expect("partial success");
    assert_eq!((partial.rejected_spans, partial.error_message.as_str()), (3, "slow down"));
    assert_eq!(decode_trace_response(b"{}").expect("decodes").partial_success, None);
}

// ---- errors ----

#[test]
fn rejects_bad_trace_ids_with_their_path() {
    let err = traces_err(r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{},{},{},{"traceId":"abc123"}]}]}]}"#);
    assert_eq!(
        err.to_string(),
        "resourceSpans[0].scopeSpans[0].spans[3].traceId: invalid trace id: expected 32 hex characters, got 6"
    );
    assert_eq!(err.path(), "resourceSpans[0].scopeSpans[0].spans[3].traceId");

    // snake_case input is reported with the canonical key.
    let err = traces_err(r#"{"resource_spans":[{"scope_spans":[{"spans":[{"links":[{"trace_id":"0x"}]}]}]}]}"#);
    assert_eq!(err.path(), "resourceSpans[0].scopeSpans[0].spans[0].links[0].traceId");

    // `0x` prefixes are not hex ids, even when the length is right.
    let err = traces_err(&one_span(r#""traceId":"0x8efff798038103d269b633813fc60c""#));
    assert!(err.to_string().contains("is not hexadecimal"), "{err}");

    let err = traces_err(&one_span(r#""traceId":12"#));
    assert!(err.to_string().ends_with("traceId: invalid trace id: expected a hex string, got 12"), "{err}");
}

#[test]
fn rejects_non_hex_span_ids_everywhere() {
    let err = traces_err(&one_span(r#""spanId":"eee19b7ec3c1b17z""#));
    assert_eq!(
        err.to_string(),
        r#"resourceSpans[0].scopeSpans[0].spans[0].spanId: invalid span id: "eee19b7ec3c1b17z" is not hexadecimal"#
    );
    let err = traces_err(&one_span(r#""parentSpanId":"eee19b7ec3c1b17""#));
    assert!(err.to_string().ends_with("parentSpanId: invalid span id: expected 16 hex characters, got 15"), "{err}");

    let err = decode_logs(br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"zz"}]}]}]}"#)
        .expect_err("must be rejected");
    assert_eq!(err.path(), "resourceLogs[0].scopeLogs[0].logRecords[0].spanId");

    let err = decode_metrics(
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"summary":{}},{"histogram":{"dataPoints":[{"exemplars":[{"spanId":"x"}]}]}}]}]}]}"#,
    )
    .expect_err("must be rejected");
    assert_eq!(err.path(), "resourceMetrics[0].scopeMetrics[0].metrics[1].histogram.dataPoints[0].exemplars[0].spanId");
}

#[test]
fn rejects_unknown_enum_names() {
    let err = traces_err(&one_span(r#""kind":"SPAN_KIND_SERVERLESS""#));
    assert_eq!(
        err.to_string(),
        r#"resourceSpans[0].scopeSpans[0].spans[0].kind: unknown span kind "SPAN_KIND_SERVERLESS""#
    );
    let err = traces_err(&one_span(r#""status":{"code":"ERROR"}"#));
    assert_eq!(err.path(), "resourceSpans[0].scopeSpans[0].spans[0].status.code");
    let err = decode_logs(br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"INFO"}]}]}]}"#)
        .expect_err("must be rejected");
    assert!(err.to_string().contains(r#"unknown severity number "INFO""#), "{err}");
    let err = decode_metrics(
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":"DELTA"}}]}]}]}"#,
    )
    .expect_err("must be rejected");
    assert_eq!(err.path(), "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality");
}

#[test]
fn rejects_values_of_the_wrong_type_or_range() {
    let cases = [
        (r#""name":5"#, "spans[0].name: expected a string, got 5"),
        (
            r#""startTimeUnixNano":"12x""#,
            r#"spans[0].startTimeUnixNano: expected an unsigned 64-bit integer, got "12x""#,
        ),
        (r#""startTimeUnixNano":-1"#, "spans[0].startTimeUnixNano: expected an unsigned 64-bit integer, got -1"),
        (r#""endTimeUnixNano":1.5"#, "spans[0].endTimeUnixNano: expected an unsigned 64-bit integer, got 1.5"),
        (
            r#""droppedAttributesCount":4294967296"#,
            "droppedAttributesCount: expected an unsigned 32-bit integer, got 4294967296",
        ),
        (r#""attributes":{}"#, "spans[0].attributes: expected an array, got an object"),
        (
            r#""attributes":[{"value":{"intValue":true}}]"#,
            "attributes[0].value.intValue: expected a 64-bit integer, got true",
        ),
        (
            r#""attributes":[{"value":{"doubleValue":"fast"}}]"#,
            r#"attributes[0].value.doubleValue: expected a double, got "fast""#,
        ),
        (r#""attributes":[{"value":{"bytesValue":"!!"}}]"#, "attributes[0].value.bytesValue: invalid base64"),
        (
            r#""attributes":[{"value":{"arrayValue":{"values":[{"kvlistValue":{"values":[{"value":{"boolValue":1}}]}}]}}}]"#,
            "attributes[0].value.arrayValue.values[0].kvlistValue.values[0].value.boolValue: expected a boolean, got 1",
        ),
        (r#""status":[]"#, "spans[0].status: expected an object, got an array"),
    ];
    for (fields, expected) in cases {
        let err = traces_err(&one_span(fields));
        assert!(err.to_string().contains(expected), "{fields}: {err}");
    }
}

#[test]
fn rejects_non_object_bodies_and_invalid_json() {
    for body in ["[]", "null", "\"traces\"", "42"] {
        let err = traces_err(body);
        assert!(err.to_string().starts_with("the body must be a JSON object, got "), "{body}: {err}");
        assert_eq!(err.path(), "");
    }
    let err = traces_err("{\"resourceSpans\": [\n  {\"scopeSpans\": [}]}");
    assert!(err.to_string().starts_with("invalid JSON: "), "{err}");
    assert!(err.to_string().contains("line 2 column 19"), "{err}");
    assert!(traces_err("").to_string().contains("EOF"));
    assert!(traces_err("{} {}").to_string().contains("trailing characters"));
}

#[test]
fn rejects_deep_nesting_without_overflowing_the_stack() {
    let depth = 10_000;
    let body = format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{}{}}}]}}]}}]}}"#,
        r#"{"arrayValue":{"values":["#.repeat(depth),
        "]}}".repeat(depth)
    );
    let err = decode_logs(body.as_bytes()).expect_err("must be rejected");
    assert!(err.to_string().contains("recursion limit exceeded"), "{err}");

    // Just under serde_json's limit of 128 levels decodes fine (and encodes back).
    let depth = 38;
    let body = format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{}{{"intValue":"1"}}{}}}]}}]}}]}}"#,
        r#"{"arrayValue":{"values":["#.repeat(depth),
        "]}}".repeat(depth)
    );
    let req = decode_logs(body.as_bytes()).expect("decodes");
    assert_eq!(crate::json::encode_logs(&req), body.as_bytes());
}

#[test]
fn decodes_doubles_correctly_rounded() {
    // Without `float_roundtrip`, serde_json's fast float parser is off by one ULP on these.
    for text in ["0.009856906946328695", "15872.014900697417", "1.0715660391465826e-75"] {
        let body =
            format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{{"doubleValue":{text}}}}}]}}]}}]}}"#);
        let logs = decode_logs(body.as_bytes()).expect("decodes");
        let value = logs.resource_logs[0].scope_logs[0].log_records[0].body.clone().and_then(|b| b.value);
        let expected: f64 = text.parse().expect("a double");
        assert_eq!(value, Some(Value::DoubleValue(expected)), "{text}");
    }
}
