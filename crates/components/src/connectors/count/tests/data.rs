//! Test batches: small, hand-built requests whose counts are obvious.

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use switchyard_pdata::proto::profiles::v1development::{
    KeyValueAndUnit, Profile, ProfilesDictionary, ResourceProfiles, ScopeProfiles,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::span::Event;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::value::{bool_value, double_value, int_value, str_value};
use switchyard_pdata::{Logs, Metrics, Profiles, SignalData, Traces};

pub fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue { key: key.into(), value: Some(value), ..Default::default() }
}

fn s(key: &str, v: &str) -> KeyValue {
    kv(key, str_value(v))
}

fn resource(attrs: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource { attributes: attrs, ..Default::default() })
}

fn scope(attrs: Vec<KeyValue>) -> Option<InstrumentationScope> {
    Some(InstrumentationScope { name: "lib".into(), attributes: attrs, ..Default::default() })
}

fn span(name: &str, start: u64, end: u64, attributes: Vec<KeyValue>) -> Span {
    Span { name: name.into(), start_time_unix_nano: start, end_time_unix_nano: end, attributes, ..Default::default() }
}

fn rs(res: Vec<KeyValue>, scopes: Vec<(Vec<KeyValue>, Vec<Span>)>) -> ResourceSpans {
    ResourceSpans {
        resource: resource(res),
        scope_spans: scopes
            .into_iter()
            .map(|(attrs, spans)| ScopeSpans { scope: scope(attrs), spans, ..Default::default() })
            .collect(),
        ..Default::default()
    }
}

/// `checkout` (3 spans from t=1000 to 9000, the first with events `exception` at 1500 and
/// `retry` at 2500) and `cart` (1 span).
pub fn two_services() -> Traces {
    let mut first = span("get", 1_000, 2_000, vec![]);
    first.events = vec![
        Event { name: "exception".into(), time_unix_nano: 1_500, ..Default::default() },
        Event { name: "retry".into(), time_unix_nano: 2_500, ..Default::default() },
    ];
    let checkout = vec![first, span("put", 3_000, 9_000, vec![]), span("get", 4_000, 5_000, vec![])];
    Traces::from_request(ExportTraceServiceRequest {
        resource_spans: vec![
            rs(vec![s("service.name", "checkout"), s("deployment.environment", "prod")], vec![(vec![], checkout)]),
            rs(vec![s("service.name", "cart")], vec![(vec![], vec![span("get", 10, 20, vec![])])]),
        ],
    })
}

/// Service `web`, one span per (name, http.route); an empty route = no attribute.
pub fn routes(spans: &[(&str, &str)]) -> Traces {
    let spans = spans
        .iter()
        .map(|(name, route)| {
            let attrs = if route.is_empty() { vec![] } else { vec![s("http.route", route)] };
            span(name, 1, 2, attrs)
        })
        .collect();
    Traces::from_request(ExportTraceServiceRequest {
        resource_spans: vec![rs(vec![s("service.name", "web")], vec![(vec![], spans)])],
    })
}

/// `env` on the span, on its scope, on its resource, or nowhere; `code` an int, a double
/// or absent; `flag` a boolean on one span.
pub fn layered() -> Traces {
    let a = span("a", 1, 2, vec![s("env", "span"), kv("code", int_value(200)), kv("flag", bool_value(true))]);
    let b = span("b", 1, 2, vec![]);
    let c = span("c", 1, 2, vec![]);
    let e = span("e", 1, 2, vec![kv("code", double_value(1.5))]);
    let f = span("f", 1, 2, vec![]);
    Traces::from_request(ExportTraceServiceRequest {
        resource_spans: vec![
            rs(
                vec![s("service.name", "layers"), s("env", "resource")],
                vec![(vec![s("env", "scope")], vec![a, b]), (vec![], vec![c])],
            ),
            rs(vec![s("service.name", "otherres")], vec![(vec![s("env", "scope")], vec![e]), (vec![], vec![f])]),
        ],
    })
}

fn severity_number(text: &str) -> i32 {
    match text {
        "INFO" => 9,
        "WARN" => 13,
        "ERROR" => 17,
        "FATAL" => 21,
        _ => 0,
    }
}

/// Service `logsvc`, one record per severity text, at t = 100, 101, ...
pub fn logs(severities: &[&str]) -> Logs {
    let log_records = severities
        .iter()
        .zip(100..)
        .map(|(sev, t)| LogRecord {
            time_unix_nano: t,
            severity_text: sev.to_string(),
            severity_number: severity_number(sev),
            ..Default::default()
        })
        .collect();
    Logs::from_request(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(vec![s("service.name", "logsvc")]),
            scope_logs: vec![ScopeLogs { log_records, ..Default::default() }],
            ..Default::default()
        }],
    })
}

/// One resource per (tenant, namespace, records), as a Kubernetes log agent sends them.
pub fn tenant_logs(resources: &[(&str, &str, usize)]) -> Logs {
    Logs::from_request(ExportLogsServiceRequest {
        resource_logs: resources
            .iter()
            .map(|(tenant, ns, n)| ResourceLogs {
                resource: resource(vec![s("tenant", tenant), s("k8s.namespace.name", ns)]),
                scope_logs: vec![ScopeLogs { log_records: vec![LogRecord::default(); *n], ..Default::default() }],
                ..Default::default()
            })
            .collect(),
    })
}

fn metric(name: &str, data: Option<Data>) -> Metric {
    Metric { name: name.into(), data, ..Default::default() }
}

/// Service `metricsvc`: a gauge `cpu` with points for hosts h1 and h2, a sum, a histogram,
/// an exponential histogram and a summary with one point each (host h1), and a metric
/// without data: 6 metrics, 6 points.
pub fn every_metric_kind() -> Metrics {
    let n = |host: &str| NumberDataPoint { attributes: vec![s("host", host)], time_unix_nano: 5, ..Default::default() };
    let h1 = || vec![s("host", "h1")];
    let metrics = vec![
        metric("cpu", Some(Data::Gauge(Gauge { data_points: vec![n("h1"), n("h2")] }))),
        metric("requests", Some(Data::Sum(Sum { data_points: vec![n("h1")], ..Default::default() }))),
        metric(
            "latency",
            Some(Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint { attributes: h1(), ..Default::default() }],
                ..Default::default()
            })),
        ),
        metric(
            "size",
            Some(Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint { attributes: h1(), ..Default::default() }],
                ..Default::default()
            })),
        ),
        metric(
            "quantiles",
            Some(Data::Summary(Summary {
                data_points: vec![SummaryDataPoint { attributes: h1(), ..Default::default() }],
            })),
        ),
        metric("nothing", None),
    ];
    Metrics::from_request(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(vec![s("service.name", "metricsvc")]),
            scope_metrics: vec![ScopeMetrics { metrics, ..Default::default() }],
            ..Default::default()
        }],
    })
}

/// Service `profiled`: three profiles, `thread.name` = worker by a string-table value, by a
/// plain value, and absent.
pub fn profiles() -> Profiles {
    let dictionary = ProfilesDictionary {
        string_table: vec!["".into(), "thread.name".into(), "worker".into()],
        attribute_table: vec![
            KeyValueAndUnit {
                key_strindex: 1,
                value: Some(AnyValue { value: Some(any_value::Value::StringValueStrindex(2)) }),
                ..Default::default()
            },
            KeyValueAndUnit { key_strindex: 1, value: Some(str_value("worker")), ..Default::default() },
        ],
        ..Default::default()
    };
    let profile = |indices: Vec<i32>| Profile { attribute_indices: indices, time_unix_nano: 7, ..Default::default() };
    Profiles::from_request(ExportProfilesServiceRequest {
        resource_profiles: vec![ResourceProfiles {
            resource: resource(vec![s("service.name", "profiled")]),
            scope_profiles: vec![ScopeProfiles {
                profiles: vec![profile(vec![0]), profile(vec![1]), profile(vec![])],
                ..Default::default()
            }],
            ..Default::default()
        }],
        dictionary: Some(dictionary),
    })
}
