//! The case file's `fixtures:` built as OTLP export requests, one resource and one scope
//! each, transcribing the upstream Go builders the file describes.

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::InstrumentationScope;
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::exponential_histogram_data_point::Buckets;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::number_data_point::Value as Number;
use switchyard_pdata::proto::metrics::v1::summary_data_point::ValueAtQuantile;
use switchyard_pdata::proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::span::{Event, Link};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::{hex, to_any, to_map, Y};

/// A fixture as the request of its signal.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Logs(ExportLogsServiceRequest),
    Traces(ExportTraceServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

/// Builds fixture `name` from the file's `fixtures:` map.
pub fn build(fixtures: &Y, name: &str) -> Request {
    let f = fixtures.get(name).unwrap_or_else(|| panic!("no fixture {name}"));
    if let Some(base) = f.s("same_as") {
        let mut req = build(fixtures, base);
        if let (Request::Logs(logs), Some(attrs)) = (&mut req, f.get("except_attributes")) {
            logs.resource_logs[0].scope_logs[0].log_records[0].attributes = to_map(attrs);
        }
        return req;
    }
    if f.get("log").is_some() {
        Request::Logs(logs(f))
    } else if f.get("event").is_some() {
        Request::Traces(span_event(f))
    } else if f.get("spans").is_some() {
        Request::Traces(traces(f))
    } else if f.get("metrics").is_some() {
        Request::Metrics(metrics(f))
    } else {
        panic!("fixture {name}: unknown shape")
    }
}

fn resource(f: &Y) -> (Option<Resource>, String) {
    let r = f.get("resource");
    let attributes = r.and_then(|r| r.get("attributes")).map(to_map).unwrap_or_default();
    let schema_url = r.and_then(|r| r.s("schema_url")).unwrap_or_default().to_string();
    (Some(Resource { attributes, ..Default::default() }), schema_url)
}

fn scope(f: &Y) -> (Option<InstrumentationScope>, String) {
    let s = f.get("scope");
    let get = |k: &str| s.and_then(|s| s.s(k)).unwrap_or_default().to_string();
    let attributes = s.and_then(|s| s.get("attributes")).map(to_map).unwrap_or_default();
    (
        Some(InstrumentationScope { name: get("name"), version: get("version"), attributes, ..Default::default() }),
        get("schema_url"),
    )
}

fn id(y: &Y, key: &str) -> Vec<u8> {
    // An all-digit span id such as `0102030405060708` reads as a YAML integer; its 16 hex
    // digits come back with the leading zeros.
    if let Some(i) = y.get(key).and_then(Y::int) {
        return hex(&format!("{i:016}"));
    }
    y.s(key).map(hex).unwrap_or_default()
}

fn u64_of(y: &Y, key: &str) -> u64 {
    y.i(key) as u64
}

fn logs(f: &Y) -> ExportLogsServiceRequest {
    let l = f.get("log").unwrap_or(&Y::Null);
    let record = LogRecord {
        body: l.get("body").map(to_any),
        time_unix_nano: u64_of(l, "time_unix_nano"),
        observed_time_unix_nano: u64_of(l, "observed_time_unix_nano"),
        dropped_attributes_count: l.i("dropped_attributes_count") as u32,
        flags: l.i("flags") as u32,
        severity_number: l.i("severity_number") as i32,
        trace_id: id(l, "trace_id"),
        span_id: id(l, "span_id"),
        attributes: l.get("attributes").map(to_map).unwrap_or_default(),
        ..Default::default()
    };
    let (resource, schema_url) = resource(f);
    let (scope, scope_url) = scope(f);
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource,
            schema_url,
            scope_logs: vec![ScopeLogs { scope, schema_url: scope_url, log_records: vec![record] }],
        }],
    }
}

fn span_of(s: &Y) -> Span {
    Span {
        name: s.s("name").unwrap_or_default().to_string(),
        trace_id: id(s, "trace_id"),
        span_id: id(s, "span_id"),
        parent_span_id: id(s, "parent_span_id"),
        trace_state: s.s("trace_state").unwrap_or_default().to_string(),
        kind: s.i("kind") as i32,
        start_time_unix_nano: u64_of(s, "start_time_unix_nano"),
        end_time_unix_nano: u64_of(s, "end_time_unix_nano"),
        attributes: s.get("attributes").map(to_map).unwrap_or_default(),
        dropped_attributes_count: s.i("dropped_attributes_count") as u32,
        dropped_events_count: s.i("dropped_events_count") as u32,
        dropped_links_count: s.i("dropped_links_count") as u32,
        events: s.get("events").map(|e| e.seq().iter().map(event_of).collect()).unwrap_or_default(),
        links: s
            .get("links")
            .map(|l| {
                l.seq()
                    .iter()
                    .map(|l| Link {
                        dropped_attributes_count: l.i("dropped_attributes_count") as u32,
                        ..Default::default()
                    })
                    .collect()
            })
            .unwrap_or_default(),
        status: s
            .get("status")
            .map(|st| Status { code: st.i("code") as i32, message: st.s("message").unwrap_or_default().to_string() }),
        ..Default::default()
    }
}

fn event_of(e: &Y) -> Event {
    Event {
        name: e.s("name").unwrap_or_default().to_string(),
        attributes: e.get("attributes").map(to_map).unwrap_or_default(),
        ..Default::default()
    }
}

fn traces_of(f: &Y, spans: Vec<Span>) -> ExportTraceServiceRequest {
    let (resource, schema_url) = resource(f);
    let (scope, scope_url) = scope(f);
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource,
            schema_url,
            scope_spans: vec![ScopeSpans { scope, schema_url: scope_url, spans }],
        }],
    }
}

fn traces(f: &Y) -> ExportTraceServiceRequest {
    let spans = f.get("spans").map(|s| s.seq().iter().map(span_of).collect()).unwrap_or_default();
    traces_of(f, spans)
}

fn span_event(f: &Y) -> ExportTraceServiceRequest {
    let mut span = span_of(f.get("span").unwrap_or(&Y::Null));
    span.events = vec![event_of(f.get("event").unwrap_or(&Y::Null))];
    traces_of(f, vec![span])
}

fn metrics(f: &Y) -> ExportMetricsServiceRequest {
    let metrics = f.get("metrics").map(|m| m.seq().iter().map(metric_of).collect()).unwrap_or_default();
    let (resource, schema_url) = resource(f);
    let (scope, scope_url) = scope(f);
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource,
            schema_url,
            scope_metrics: vec![ScopeMetrics { scope, schema_url: scope_url, metrics }],
        }],
    }
}

fn metric_of(m: &Y) -> Metric {
    let points = m.get("datapoints").map(Y::seq).unwrap_or_default();
    let attrs = |p: &Y| p.get("attributes").map(to_map).unwrap_or_default();
    let number = |p: &Y| NumberDataPoint {
        attributes: attrs(p),
        start_time_unix_nano: u64_of(p, "start_time_unix_nano"),
        time_unix_nano: u64_of(p, "time_unix_nano"),
        value: match (p.get("value_double"), p.get("value_int")) {
            (Some(d), _) => d.float().map(Number::AsDouble),
            (None, Some(i)) => i.int().map(Number::AsInt),
            (None, None) => None,
        },
        ..Default::default()
    };
    let data = if let Some(s) = m.get("sum") {
        Data::Sum(Sum {
            data_points: points.iter().map(number).collect(),
            aggregation_temporality: s.i("aggregation_temporality") as i32,
            is_monotonic: s.get("is_monotonic").and_then(Y::bool).unwrap_or(false),
        })
    } else if m.get("gauge").is_some() {
        Data::Gauge(Gauge { data_points: points.iter().map(number).collect() })
    } else if let Some(h) = m.get("histogram") {
        Data::Histogram(Histogram {
            aggregation_temporality: h.i("aggregation_temporality") as i32,
            data_points: points
                .iter()
                .map(|p| HistogramDataPoint {
                    attributes: attrs(p),
                    start_time_unix_nano: u64_of(p, "start_time_unix_nano"),
                    time_unix_nano: u64_of(p, "time_unix_nano"),
                    count: u64_of(p, "count"),
                    sum: p.get("sum").and_then(Y::float),
                    bucket_counts: p
                        .get("bucket_counts")
                        .map_or(vec![], |b| b.seq().iter().map(|x| x.int().unwrap_or(0) as u64).collect()),
                    explicit_bounds: p
                        .get("explicit_bounds")
                        .map_or(vec![], |b| b.seq().iter().filter_map(Y::float).collect()),
                    ..Default::default()
                })
                .collect(),
        })
    } else if let Some(h) = m.get("exponential_histogram") {
        let buckets = |p: &Y, k: &str| p.get(k).map(|b| Buckets { offset: b.i("offset") as i32, ..Default::default() });
        Data::ExponentialHistogram(ExponentialHistogram {
            aggregation_temporality: h.i("aggregation_temporality") as i32,
            data_points: points
                .iter()
                .map(|p| ExponentialHistogramDataPoint {
                    attributes: attrs(p),
                    start_time_unix_nano: u64_of(p, "start_time_unix_nano"),
                    time_unix_nano: u64_of(p, "time_unix_nano"),
                    count: u64_of(p, "count"),
                    scale: p.i("scale") as i32,
                    zero_count: u64_of(p, "zero_count"),
                    positive: buckets(p, "positive"),
                    negative: buckets(p, "negative"),
                    ..Default::default()
                })
                .collect(),
        })
    } else if m.get("summary").is_some() {
        Data::Summary(Summary {
            data_points: points
                .iter()
                .map(|p| SummaryDataPoint {
                    attributes: attrs(p),
                    start_time_unix_nano: u64_of(p, "start_time_unix_nano"),
                    time_unix_nano: u64_of(p, "time_unix_nano"),
                    count: u64_of(p, "count"),
                    sum: p.get("sum").and_then(Y::float).unwrap_or(0.0),
                    quantile_values: p
                        .get("quantile_values")
                        .map(Y::seq)
                        .unwrap_or_default()
                        .iter()
                        .map(|q| ValueAtQuantile {
                            quantile: q.get("quantile").and_then(Y::float).unwrap_or(0.0),
                            value: q.get("value").and_then(Y::float).unwrap_or(0.0),
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
        })
    } else {
        panic!("metric {:?}: unknown kind", m.s("name"))
    };
    Metric {
        name: m.s("name").unwrap_or_default().to_string(),
        description: m.s("description").unwrap_or_default().to_string(),
        unit: m.s("unit").unwrap_or_default().to_string(),
        data: Some(data),
        ..Default::default()
    }
}
