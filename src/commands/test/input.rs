//! Turns an input's compact YAML (resource, spans, metrics, log records) or its raw
//! OTLP/JSON into the export request a receiver would have produced, and its headers into
//! the request context.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use serde_json::Value as Json;
use switchyard_core::consumer::RequestContext;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span, status, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::{json, Logs, Metrics, Signal, SignalData, Traces};

use super::spec::{Input, LogSpec, MetricKindSpec, MetricSpec, ScopeSpec, SpanKindSpec, SpanSpec, StatusCodeSpec};

/// Telemetry of one input, ready to push.
pub enum Data {
    /// Spans.
    Traces(Traces),
    /// Data points.
    Metrics(Metrics),
    /// Log records.
    Logs(Logs),
}

impl Data {
    /// Its signal.
    pub fn signal(&self) -> Signal {
        match self {
            Data::Traces(_) => Signal::Traces,
            Data::Metrics(_) => Signal::Metrics,
            Data::Logs(_) => Signal::Logs,
        }
    }

    /// Items in it.
    pub fn item_count(&self) -> usize {
        match self {
            Data::Traces(d) => d.item_count(),
            Data::Metrics(d) => d.item_count(),
            Data::Logs(d) => d.item_count(),
        }
    }
}

/// A problem in an input, at a key path below the input's node (`["spans", "0", "trace_id"]`).
pub struct InputError {
    /// Where, below the input.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

fn err(path: &[&str], message: impl Into<String>) -> InputError {
    InputError { path: path.iter().map(|s| s.to_string()).collect(), message: message.into() }
}

/// Builds the request of input number `index` of its case (`index` seeds the default trace
/// id, so the spans of one input form one trace and those of different inputs do not).
pub fn build(input: &Input, index: usize) -> Result<Data, InputError> {
    let given = [
        ("spans", !input.spans.is_empty()),
        ("metrics", !input.metrics.is_empty()),
        ("logs", !input.logs.is_empty()),
        ("otlp_json", input.otlp_json.is_some()),
    ];
    let set: Vec<&str> = given.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect();
    if set.len() != 1 {
        return Err(err(
            &[],
            format!(
                "an input needs exactly one of spans, metrics, logs or otlp_json{}",
                if set.is_empty() { String::new() } else { format!(" (found {})", set.join(", ")) }
            ),
        ));
    }
    if let Some(text) = &input.otlp_json {
        return otlp_json(text);
    }
    let resource = Some(Resource { attributes: key_values(&input.resource, "resource")?, ..Default::default() });
    let scope = scope(input.scope.as_ref())?;
    let now = now_nanos();
    if !input.spans.is_empty() {
        let mut spans = Vec::new();
        for (i, s) in input.spans.iter().enumerate() {
            spans.push(build_span(s, index, i, now).map_err(|mut e| {
                e.path.splice(0..0, ["spans".to_string(), i.to_string()]);
                e
            })?);
        }
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource,
                scope_spans: vec![ScopeSpans { scope, spans, ..Default::default() }],
                ..Default::default()
            }],
        };
        return Ok(Data::Traces(Traces::from_request(req)));
    }
    if !input.metrics.is_empty() {
        let mut metrics = Vec::new();
        for (i, m) in input.metrics.iter().enumerate() {
            metrics.push(build_metric(m, now).map_err(|mut e| {
                e.path.splice(0..0, ["metrics".to_string(), i.to_string()]);
                e
            })?);
        }
        let req = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource,
                scope_metrics: vec![ScopeMetrics { scope, metrics, ..Default::default() }],
                ..Default::default()
            }],
        };
        return Ok(Data::Metrics(Metrics::from_request(req)));
    }
    let mut logs = Vec::new();
    for (i, l) in input.logs.iter().enumerate() {
        logs.push(build_log(l, now).map_err(|mut e| {
            e.path.splice(0..0, ["logs".to_string(), i.to_string()]);
            e
        })?);
    }
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource,
            scope_logs: vec![ScopeLogs { scope, log_records: logs, ..Default::default() }],
            ..Default::default()
        }],
    };
    Ok(Data::Logs(Logs::from_request(req)))
}

/// The request context: the headers as gRPC metadata (keys lower-cased, as HTTP/2 sends them).
pub fn context(headers: &IndexMap<String, String>) -> Result<RequestContext, InputError> {
    if headers.is_empty() {
        return Ok(RequestContext::default());
    }
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        let name = http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|e| err(&["headers", k.as_str()], format!("invalid header name: {e}")))?;
        let value = http::HeaderValue::from_str(v)
            .map_err(|e| err(&["headers", k.as_str()], format!("invalid header value: {e}")))?;
        map.append(name, value);
    }
    Ok(RequestContext::with_metadata(Some(Arc::new(map))))
}

fn otlp_json(text: &str) -> Result<Data, InputError> {
    let field = &["otlp_json"];
    let parsed: Json = serde_json::from_str(text).map_err(|e| err(field, format!("invalid JSON: {e}")))?;
    let has = |k: &str| parsed.get(k).is_some();
    let bytes = text.as_bytes();
    let bad = |e: json::JsonError| err(field, format!("invalid OTLP/JSON: {e}"));
    if has("resourceSpans") || has("resource_spans") {
        Ok(Data::Traces(Traces::from_request(json::decode_traces(bytes).map_err(bad)?)))
    } else if has("resourceMetrics") || has("resource_metrics") {
        Ok(Data::Metrics(Metrics::from_request(json::decode_metrics(bytes).map_err(bad)?)))
    } else if has("resourceLogs") || has("resource_logs") {
        Ok(Data::Logs(Logs::from_request(json::decode_logs(bytes).map_err(bad)?)))
    } else {
        Err(err(field, "an OTLP/JSON export request needs resourceSpans, resourceMetrics or resourceLogs"))
    }
}

fn scope(spec: Option<&ScopeSpec>) -> Result<Option<InstrumentationScope>, InputError> {
    let Some(s) = spec else { return Ok(None) };
    Ok(Some(InstrumentationScope {
        name: s.name.clone(),
        version: s.version.clone(),
        attributes: key_values(&s.attributes, "scope")?,
        ..Default::default()
    }))
}

fn build_span(s: &SpanSpec, input: usize, i: usize, now: u64) -> Result<Span, InputError> {
    let duration = s.duration.unwrap_or(Duration::from_millis(1));
    let default_trace: Vec<u8> = {
        let mut id = vec![0x5a; 16];
        id[8..].copy_from_slice(&(input as u64 + 1).to_be_bytes());
        id
    };
    let default_span = (((input as u64 + 1) << 32) | (i as u64 + 1)).to_be_bytes().to_vec();
    let kind = match s.kind {
        SpanKindSpec::Internal => span::SpanKind::Internal,
        SpanKindSpec::Server => span::SpanKind::Server,
        SpanKindSpec::Client => span::SpanKind::Client,
        SpanKindSpec::Producer => span::SpanKind::Producer,
        SpanKindSpec::Consumer => span::SpanKind::Consumer,
    };
    Ok(Span {
        trace_id: hex_or(s.trace_id.as_deref(), 16, "trace_id")?.unwrap_or(default_trace),
        span_id: hex_or(s.span_id.as_deref(), 8, "span_id")?.unwrap_or(default_span),
        parent_span_id: hex_or(s.parent_span_id.as_deref(), 8, "parent_span_id")?.unwrap_or_default(),
        name: s.name.clone(),
        kind: kind as i32,
        start_time_unix_nano: now.saturating_sub(duration.as_nanos() as u64),
        end_time_unix_nano: now,
        attributes: key_values(&s.attributes, "attributes")?,
        status: s.status.as_ref().map(|st| Status {
            code: match st.code {
                StatusCodeSpec::Unset => status::StatusCode::Unset,
                StatusCodeSpec::Ok => status::StatusCode::Ok,
                StatusCodeSpec::Error => status::StatusCode::Error,
            } as i32,
            message: st.message.clone(),
        }),
        ..Default::default()
    })
}

fn build_metric(m: &MetricSpec, now: u64) -> Result<Metric, InputError> {
    let start = now.saturating_sub(1_000_000_000);
    let point = |value: &Json, attrs: &IndexMap<String, Json>, path: &[&str]| -> Result<NumberDataPoint, InputError> {
        let value = match value {
            Json::Number(n) if n.is_i64() => number_data_point::Value::AsInt(n.as_i64().unwrap_or_default()),
            Json::Number(n) => number_data_point::Value::AsDouble(n.as_f64().unwrap_or_default()),
            other => return Err(err(path, format!("a data point value must be a number, found {other}"))),
        };
        Ok(NumberDataPoint {
            attributes: key_values(attrs, "attributes").map_err(|mut e| {
                e.path.splice(0..0, path[..path.len() - 1].iter().map(|s| s.to_string()));
                e
            })?,
            start_time_unix_nano: start,
            time_unix_nano: now,
            value: Some(value),
            ..Default::default()
        })
    };
    let mut points = Vec::new();
    if m.points.is_empty() {
        let value = m.value.as_ref().ok_or_else(|| err(&[], "a metric needs a value (or points)"))?;
        points.push(point(value, &m.attributes, &["value"])?);
    } else {
        if m.value.is_some() || !m.attributes.is_empty() {
            return Err(err(&["points"], "write either value and attributes, or points"));
        }
        for (i, p) in m.points.iter().enumerate() {
            let idx = i.to_string();
            points.push(point(&p.value, &p.attributes, &["points", idx.as_str(), "value"])?);
        }
    }
    let data = match m.kind {
        MetricKindSpec::Gauge => metric::Data::Gauge(Gauge { data_points: points }),
        MetricKindSpec::Sum => metric::Data::Sum(Sum {
            data_points: points,
            // AGGREGATION_TEMPORALITY_CUMULATIVE, what SDKs send by default.
            aggregation_temporality: 2,
            is_monotonic: m.monotonic,
        }),
    };
    Ok(Metric {
        name: m.name.clone(),
        description: m.description.clone(),
        unit: m.unit.clone(),
        data: Some(data),
        ..Default::default()
    })
}

fn build_log(l: &LogSpec, now: u64) -> Result<LogRecord, InputError> {
    let (number, text) = match l.severity.as_deref() {
        None => (0, String::new()),
        Some(s) => {
            let n = match s.to_ascii_uppercase().as_str() {
                "TRACE" => 1,
                "DEBUG" => 5,
                "INFO" => 9,
                "WARN" => 13,
                "ERROR" => 17,
                "FATAL" => 21,
                _ => {
                    return Err(err(
                        &["severity"],
                        format!("unknown severity \"{s}\" (valid: TRACE, DEBUG, INFO, WARN, ERROR, FATAL)"),
                    ))
                }
            };
            (n, s.to_string())
        }
    };
    let body = match &l.body {
        Json::Null => None,
        v => Some(any_value_of(v).map_err(|m| err(&["body"], m))?),
    };
    Ok(LogRecord {
        time_unix_nano: now,
        observed_time_unix_nano: now,
        severity_number: number,
        severity_text: text,
        body,
        attributes: key_values(&l.attributes, "attributes")?,
        trace_id: hex_or(l.trace_id.as_deref(), 16, "trace_id")?.unwrap_or_default(),
        span_id: hex_or(l.span_id.as_deref(), 8, "span_id")?.unwrap_or_default(),
        ..Default::default()
    })
}

fn hex_or(text: Option<&str>, bytes: usize, field: &str) -> Result<Option<Vec<u8>>, InputError> {
    let Some(t) = text else { return Ok(None) };
    match const_hex::decode(t) {
        Ok(id) if id.len() == bytes => Ok(Some(id)),
        _ => Err(err(&[field], format!("\"{t}\" is not {} hex digits", bytes * 2))),
    }
}

/// Attributes from YAML: a plain scalar is typed as YAML reads it (`5` an int, `5.0` a
/// double, `true` a bool), a quoted one is a string, a list an array, a map a kvlist.
fn key_values(map: &IndexMap<String, Json>, field: &str) -> Result<Vec<KeyValue>, InputError> {
    map.iter()
        .map(|(k, v)| {
            Ok(KeyValue {
                key: k.clone(),
                value: Some(any_value_of(v).map_err(|m| err(&[field, k.as_str()], m))?),
                ..Default::default()
            })
        })
        .collect()
}

/// The OTLP value of a YAML value (`null` is an empty value).
pub fn any_value_of(v: &Json) -> Result<AnyValue, String> {
    let value = match v {
        Json::Null => None,
        Json::Bool(b) => Some(any_value::Value::BoolValue(*b)),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Some(any_value::Value::IntValue(i)),
            (None, _) if n.is_u64() => return Err(format!("{n} does not fit a 64-bit signed integer")),
            (None, Some(f)) => Some(any_value::Value::DoubleValue(f)),
            (None, None) => return Err(format!("{n} is not a number OTLP can hold")),
        },
        Json::String(s) => Some(any_value::Value::StringValue(s.clone())),
        Json::Array(items) => Some(any_value::Value::ArrayValue(ArrayValue {
            values: items.iter().map(any_value_of).collect::<Result<_, _>>()?,
        })),
        Json::Object(map) => Some(any_value::Value::KvlistValue(KeyValueList {
            values: map
                .iter()
                .map(|(k, v)| Ok(KeyValue { key: k.clone(), value: Some(any_value_of(v)?), ..Default::default() }))
                .collect::<Result<_, String>>()?,
        })),
    };
    Ok(AnyValue { value })
}

fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}
