//! What a user of the connector checks: the metric names, units, attributes and values the
//! Collector emits for known spans, every option's effect, and the config's defaults and
//! refusals at the right key.

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{Component, ComponentConfig, ConnectorFactory, Host, Kind, PipelineId};
use switchyard_core::consumer::{AnyConsumer, AnyRouter, DynConsumer, RequestContext, Router};
use switchyard_core::telemetry::names;
use switchyard_core::testing::{lifecycle_check, settings, SinkConsumer};
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::{metric::Data, number_data_point, Metric};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span, status, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::{Metrics, SignalData, Traces};

use super::*;

const MS: u64 = 1_000_000;
const T0: u64 = 1_700_000_000_000_000_000;
const ID: &str = "00000000-0000-4000-8000-000000000000";

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

fn cfg(yaml: &str) -> SpanMetricsConnectorConfig {
    let node = switchyard_core::config::parse("t.yaml", yaml).expect("yaml");
    let c: SpanMetricsConnectorConfig = switchyard_core::config::from_node(&node, "spanmetrics").expect("decodes");
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    c
}

fn errors(yaml: &str) -> Vec<(String, String)> {
    let node = switchyard_core::config::parse("t.yaml", yaml).expect("yaml");
    let c: SpanMetricsConnectorConfig = switchyard_core::config::from_node(&node, "spanmetrics").expect("decodes");
    c.validate().into_iter().map(|e| (e.field, e.message)).collect()
}

/// A span of `ms` milliseconds.
fn span(name: &str, kind: span::SpanKind, ms: u64, error: bool, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: name.into(),
        kind: kind as i32,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + ms * MS,
        attributes: attrs,
        status: error.then(|| Status { code: status::StatusCode::Error as i32, ..Default::default() }),
        ..Default::default()
    }
}

fn traces(resource: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: resource, ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: "lib".into(), version: "1.2".into(), ..Default::default() }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metric<'a>(req: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} in {req:#?}"))
}

fn attr(attrs: &[KeyValue], k: &str) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.key == k)
        .map(|a| switchyard_pdata::value::as_string(a.value.as_ref().expect("value")).into())
}

/// `(span.name, status.code, value)` of every point of a sum.
fn sums(m: &Metric) -> Vec<(String, String, i64)> {
    let Some(Data::Sum(s)) = &m.data else { panic!("{} is not a sum", m.name) };
    let mut out: Vec<_> = s
        .data_points
        .iter()
        .map(|p| {
            let Some(number_data_point::Value::AsInt(v)) = p.value else { panic!("int") };
            (
                attr(&p.attributes, "span.name").unwrap_or_default(),
                attr(&p.attributes, "status.code").unwrap_or_default(),
                v,
            )
        })
        .collect();
    out.sort();
    out
}

fn checkout_batch() -> ExportTraceServiceRequest {
    use span::SpanKind::{Client, Server};
    traces(
        vec![kv("service.name", "shop"), kv("host.name", "h1")],
        vec![
            span("GET /cart", Server, 5, false, vec![kv("http.method", "GET")]),
            span("GET /cart", Server, 50, false, vec![kv("http.method", "GET")]),
            span("GET /cart", Server, 700, true, vec![kv("http.method", "GET")]),
            span("call db", Client, 2, false, vec![]),
        ],
    )
}

#[test]
fn calls_and_durations_have_the_collectors_names_units_and_attributes() {
    let mut sm = SpanMetrics::new(&cfg("{}"), ID);
    sm.aggregate(&checkout_batch(), T0);
    let first = sm.flush(T0 + 1000, false).expect("metrics");
    // A new counter series opens with 0, so Prometheus sees its first increase.
    assert_eq!(
        sums(metric(&first, "traces.span.metrics.calls")),
        [
            ("GET /cart".into(), "STATUS_CODE_ERROR".into(), 0),
            ("GET /cart".into(), "STATUS_CODE_UNSET".into(), 0),
            ("call db".into(), "STATUS_CODE_UNSET".into(), 0)
        ]
    );
    let second = sm.flush(T0 + 2000, false).expect("metrics");
    let calls = metric(&second, "traces.span.metrics.calls");
    assert_eq!(calls.unit, "");
    assert_eq!(
        sums(calls),
        [
            ("GET /cart".into(), "STATUS_CODE_ERROR".into(), 1),
            ("GET /cart".into(), "STATUS_CODE_UNSET".into(), 2),
            ("call db".into(), "STATUS_CODE_UNSET".into(), 1)
        ]
    );
    let Some(Data::Sum(s)) = &calls.data else { panic!("sum") };
    assert!(s.is_monotonic);
    assert_eq!(s.aggregation_temporality, 2, "cumulative");
    let p = &s.data_points[0];
    assert_eq!(
        p.attributes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(),
        ["service.name", "span.name", "span.kind", "status.code", "collector.instance.id"]
    );
    assert_eq!(attr(&p.attributes, "span.kind").as_deref(), Some("SPAN_KIND_SERVER"));
    assert_eq!(attr(&p.attributes, "collector.instance.id").as_deref(), Some(ID));
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (T0, T0 + 2000));

    let duration = metric(&second, "traces.span.metrics.duration");
    assert_eq!(duration.unit, "ms");
    let Some(Data::Histogram(h)) = &duration.data else { panic!("explicit histogram") };
    let ok = h
        .data_points
        .iter()
        .find(|p| {
            attr(&p.attributes, "status.code").as_deref() == Some("STATUS_CODE_UNSET")
                && attr(&p.attributes, "span.name").as_deref() == Some("GET /cart")
        })
        .expect("GET /cart ok");
    assert_eq!(ok.explicit_bounds, config::DEFAULT_BUCKETS_MS);
    assert_eq!((ok.count, ok.sum), (2, Some(55.0)));
    // 5 ms in (4, 6], 50 ms in (10, 50].
    assert_eq!(ok.bucket_counts[2], 1);
    assert_eq!(ok.bucket_counts[5], 1);
    assert_eq!(ok.bucket_counts.iter().sum::<u64>(), 2);

    let r = &second.resource_metrics[0];
    assert_eq!(
        r.resource.as_ref().map(|r| r.attributes.clone()),
        Some(vec![kv("service.name", "shop"), kv("host.name", "h1")])
    );
    assert_eq!(r.scope_metrics[0].scope.as_ref().map(|s| s.name.as_str()), Some("spanmetricsconnector"));
}

#[test]
fn cumulative_totals_keep_growing_across_flushes() {
    let mut sm = SpanMetrics::new(&cfg("{}"), ID);
    sm.aggregate(&checkout_batch(), T0);
    sm.flush(T0 + 1, false);
    sm.aggregate(&checkout_batch(), T0 + 2);
    let m = sm.flush(T0 + 3, false).expect("metrics");
    assert_eq!(sums(metric(&m, "traces.span.metrics.calls"))[1].2, 4, "2 + 2 ok GET /cart spans");
    let Some(Data::Histogram(h)) = &metric(&m, "traces.span.metrics.duration").data else { panic!() };
    assert_eq!(h.data_points.iter().map(|p| p.count).sum::<u64>(), 8);
    assert!(h.data_points.iter().all(|p| p.start_time_unix_nano == T0), "start stays at the first span");
}

#[test]
fn delta_reports_each_period_and_starts_where_the_last_one_ended() {
    let mut sm = SpanMetrics::new(&cfg("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n"), ID);
    sm.aggregate(&checkout_batch(), T0);
    let m = sm.flush(T0 + 10, false).expect("metrics");
    let calls = metric(&m, "traces.span.metrics.calls");
    assert_eq!(sums(calls)[1].2, 2, "delta reports at once");
    let Some(Data::Sum(s)) = &calls.data else { panic!() };
    assert_eq!(s.aggregation_temporality, 1);
    assert!(sm.flush(T0 + 20, false).is_none(), "nothing new, nothing sent");
    sm.aggregate(&checkout_batch(), T0 + 25);
    let m = sm.flush(T0 + 30, false).expect("metrics");
    let Some(Data::Sum(s)) = &metric(&m, "traces.span.metrics.calls").data else { panic!() };
    assert_eq!(sums(metric(&m, "traces.span.metrics.calls"))[1].2, 2, "only the new period");
    assert!(s.data_points.iter().all(|p| p.start_time_unix_nano == T0 + 10), "start = previous flush");
    let Some(Data::Histogram(h)) = &metric(&m, "traces.span.metrics.duration").data else { panic!() };
    assert!(h.data_points.iter().all(|p| p.start_time_unix_nano == T0 + 10), "calls and duration share series keys");
}

#[test]
fn dimensions_come_from_the_span_then_the_resource_then_the_default() {
    let c = cfg("dimensions:\n  - name: http.method\n    default: GET\n  - name: host.name\n  - name: region\n  - name: absent\nexclude_dimensions: [status.code, collector.instance.id]\n");
    let mut sm = SpanMetrics::new(&c, ID);
    let req = traces(
        vec![kv("service.name", "shop"), kv("host.name", "h1"), kv("region", "eu")],
        vec![
            span("a", span::SpanKind::Server, 1, false, vec![kv("http.method", "POST"), kv("region", "us")]),
            span("a", span::SpanKind::Server, 1, true, vec![]),
        ],
    );
    sm.aggregate(&req, T0);
    sm.flush(T0, false);
    let m = sm.flush(T0 + 1, false).expect("metrics");
    let Some(Data::Sum(s)) = &metric(&m, "traces.span.metrics.calls").data else { panic!() };
    let got: Vec<Vec<(String, String)>> = s
        .data_points
        .iter()
        .map(|p| {
            p.attributes.iter().map(|a| (a.key.clone(), attr(&p.attributes, &a.key).unwrap_or_default())).collect()
        })
        .collect();
    let row = |m: &str, r: &str| {
        vec![
            ("service.name".to_string(), "shop".to_string()),
            ("span.name".into(), "a".into()),
            ("span.kind".into(), "SPAN_KIND_SERVER".into()),
            ("http.method".into(), m.into()),
            ("host.name".into(), "h1".into()),
            ("region".into(), r.into()),
        ]
    };
    assert_eq!(got, [row("POST", "us"), row("GET", "eu")], "no status.code (excluded), absent omitted");
}

#[test]
fn glob_dimensions_add_every_matching_attribute_in_name_order() {
    let c = cfg("dimensions:\n  - glob: \"http.*\"\n");
    let mut sm = SpanMetrics::new(&c, ID);
    let attrs = vec![kv("http.route", "/x"), kv("http.method", "GET"), kv("http.request.size", "9"), kv("db", "d")];
    sm.aggregate(
        &traces(
            vec![kv("service.name", "s"), kv("http.scheme", "https")],
            vec![span("a", span::SpanKind::Server, 1, false, attrs)],
        ),
        T0,
    );
    let m = sm.flush(T0, true).expect("metrics");
    let Some(Data::Sum(s)) = &metric(&m, "traces.span.metrics.calls").data else { panic!() };
    let keys: Vec<&str> = s.data_points[0].attributes.iter().map(|a| a.key.as_str()).skip(5).collect();
    assert_eq!(
        keys,
        ["http.method", "http.route", "http.scheme"],
        "`*` stops at the dot; resource attributes after the span's"
    );
}

#[test]
fn namespace_unit_and_bucket_options() {
    let c = cfg("namespace: \"\"\nhistogram:\n  unit: s\n  explicit:\n    buckets: [100ms, 1s]\n");
    let mut sm = SpanMetrics::new(&c, ID);
    sm.aggregate(&checkout_batch(), T0);
    let m = sm.flush(T0, true).expect("metrics");
    metric(&m, "calls");
    let d = metric(&m, "duration");
    assert_eq!(d.unit, "s");
    let Some(Data::Histogram(h)) = &d.data else { panic!() };
    assert_eq!(h.data_points[0].explicit_bounds, [0.1, 1.0]);
    let total: f64 = h.data_points.iter().filter_map(|p| p.sum).sum();
    assert!((total - 0.757).abs() < 1e-9, "{total}");

    let sm_default_s = SpanMetrics::new(&cfg("histogram:\n  unit: s\n"), ID);
    let mut sm = sm_default_s;
    sm.aggregate(&checkout_batch(), T0);
    let m = sm.flush(T0, true).expect("metrics");
    let Some(Data::Histogram(h)) = &metric(&m, "traces.span.metrics.duration").data else { panic!() };
    assert_eq!(h.data_points[0].explicit_bounds[0], 0.002, "default buckets in seconds");

    let mut sm = SpanMetrics::new(&cfg("histogram:\n  disable: true\n"), ID);
    sm.aggregate(&checkout_batch(), T0);
    let m = sm.flush(T0, true).expect("metrics");
    assert!(m.resource_metrics[0].scope_metrics[0].metrics.iter().all(|m| m.name != "traces.span.metrics.duration"));
}

#[test]
fn exponential_histograms_hold_every_duration() {
    let mut sm = SpanMetrics::new(&cfg("histogram:\n  exponential:\n    max_size: 10\n"), ID);
    sm.aggregate(&checkout_batch(), T0);
    let m = sm.flush(T0, true).expect("metrics");
    let Some(Data::ExponentialHistogram(h)) = &metric(&m, "traces.span.metrics.duration").data else {
        panic!("exponential")
    };
    let p = h.data_points.iter().find(|p| p.count == 2).expect("the two ok GET /cart spans");
    assert_eq!((p.min, p.max, p.sum), (Some(5.0), Some(50.0), Some(55.0)));
    assert!(p
        .positive
        .as_ref()
        .is_some_and(|b| b.bucket_counts.len() <= 10 && b.bucket_counts.iter().sum::<u64>() == 2));
}

#[test]
fn exemplars_carry_the_spans_and_are_cleared_after_each_flush() {
    let mut sm = SpanMetrics::new(&cfg("exemplars:\n  enabled: true\n  max_per_data_point: 1\n"), ID);
    sm.aggregate(&checkout_batch(), T0);
    let m = sm.flush(T0 + 5, false).expect("metrics");
    let Some(Data::Histogram(h)) = &metric(&m, "traces.span.metrics.duration").data else { panic!() };
    let e: Vec<_> = h.data_points.iter().flat_map(|p| &p.exemplars).collect();
    assert_eq!(e.len(), 3, "one per point (max_per_data_point: 1)");
    assert_eq!((e[0].trace_id.clone(), e[0].span_id.clone(), e[0].time_unix_nano), (vec![1; 16], vec![2; 8], T0 + 5));
    let m = sm.flush(T0 + 6, false).expect("metrics");
    let Some(Data::Histogram(h)) = &metric(&m, "traces.span.metrics.duration").data else { panic!() };
    assert!(h.data_points.iter().all(|p| p.exemplars.is_empty()));
}

#[test]
fn events_are_counted_by_their_attributes() {
    let c = cfg("events:\n  enabled: true\n  dimensions:\n    - name: exception.type\n");
    let mut sm = SpanMetrics::new(&c, ID);
    let mut s = span("a", span::SpanKind::Server, 1, true, vec![]);
    for t in ["Timeout", "Timeout", "Refused"] {
        s.events.push(span::Event {
            name: "exception".into(),
            attributes: vec![kv("exception.type", t)],
            ..Default::default()
        });
    }
    sm.aggregate(&traces(vec![kv("service.name", "s")], vec![s]), T0);
    let m = sm.flush(T0, true).expect("metrics");
    let Some(Data::Sum(e)) = &metric(&m, "traces.span.metrics.events").data else { panic!() };
    let mut got: Vec<(String, i64)> = e
        .data_points
        .iter()
        .map(|p| {
            let Some(number_data_point::Value::AsInt(v)) = p.value else { panic!() };
            (attr(&p.attributes, "exception.type").unwrap_or_default(), v)
        })
        .collect();
    got.sort();
    assert_eq!(got, [("Refused".into(), 1), ("Timeout".into(), 2)]);
    assert!(errors("events:\n  enabled: true\n")
        .iter()
        .any(|(f, m)| f == "events::dimensions" && m == "no dimensions configured for events"));
}

#[test]
fn past_the_cardinality_limit_spans_go_to_the_overflow_series() {
    let mut sm = SpanMetrics::new(&cfg("aggregation_cardinality_limit: 2\n"), ID);
    let spans = ["a", "b", "c", "d"].map(|n| span(n, span::SpanKind::Server, 1, false, vec![])).to_vec();
    sm.aggregate(&traces(vec![kv("service.name", "s")], spans), T0);
    let m = sm.flush(T0, true).expect("metrics");
    let Some(Data::Sum(s)) = &metric(&m, "traces.span.metrics.calls").data else { panic!() };
    assert_eq!(s.data_points.len(), 3);
    let overflow =
        s.data_points.iter().find(|p| p.attributes.iter().any(|a| a.key == "otel.metric.overflow")).expect("overflow");
    assert_eq!(overflow.value, Some(number_data_point::Value::AsInt(2)), "c and d");
}

#[test]
fn expiration_drops_quiet_resources_and_series() {
    let mut sm = SpanMetrics::new(&cfg("metrics_expiration: 10s\n"), ID);
    sm.aggregate(&checkout_batch(), T0);
    sm.flush(T0 + 1, false);
    assert!(sm.flush(T0 + 9_000 * MS, false).is_some(), "not yet expired");
    assert!(sm.flush(T0 + 11_000 * MS, false).is_some(), "sent once more, then dropped: no span for 10 s");
    assert_eq!(sm.series_count(), 0);
    assert!(sm.flush(T0 + 12_000 * MS, false).is_none());

    let mut sm = SpanMetrics::new(&cfg("series_expiration: 10s\n"), ID);
    sm.aggregate(&checkout_batch(), T0);
    let late = traces(
        vec![kv("service.name", "shop"), kv("host.name", "h1")],
        vec![span("late", span::SpanKind::Server, 1, false, vec![])],
    );
    sm.aggregate(&late, T0 + 8_000 * MS);
    sm.flush(T0 + 11_000 * MS, false);
    let m = sm.flush(T0 + 12_000 * MS, false).expect("the late series lives on");
    assert_eq!(
        sums(metric(&m, "traces.span.metrics.calls")).iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["late"]
    );
}

#[test]
fn resource_key_attributes_merge_restarted_processes_and_no_service_name_is_skipped() {
    let mut sm = SpanMetrics::new(&cfg("resource_metrics_key_attributes: [service.name]\n"), ID);
    for pid in ["1", "2"] {
        sm.aggregate(
            &traces(
                vec![kv("service.name", "s"), kv("process.pid", pid)],
                vec![span("a", span::SpanKind::Server, 1, false, vec![])],
            ),
            T0,
        );
    }
    sm.aggregate(&traces(vec![kv("host.name", "x")], vec![span("a", span::SpanKind::Server, 1, false, vec![])]), T0);
    let m = sm.flush(T0, true).expect("metrics");
    assert_eq!(m.resource_metrics.len(), 1, "one resource: pid does not split it; no service.name is skipped");
    assert_eq!(sums(metric(&m, "traces.span.metrics.calls")), [("a".into(), "STATUS_CODE_UNSET".into(), 2)]);
}

#[test]
fn least_recently_used_resources_beyond_the_cache_are_dropped_after_a_flush() {
    let mut sm = SpanMetrics::new(&cfg("resource_metrics_cache_size: 1\n"), ID);
    for svc in ["a", "b"] {
        sm.aggregate(
            &traces(vec![kv("service.name", svc)], vec![span("x", span::SpanKind::Server, 1, false, vec![])]),
            T0,
        );
    }
    assert_eq!(sm.flush(T0, false).expect("both are flushed once").resource_metrics.len(), 2);
    let m = sm.flush(T0 + 1, false).expect("metrics");
    assert_eq!(m.resource_metrics.len(), 1);
    assert_eq!(
        attr(&m.resource_metrics[0].resource.as_ref().expect("r").attributes, "service.name").as_deref(),
        Some("b")
    );
}

#[test]
fn a_span_with_a_sampling_threshold_counts_as_its_adjusted_count() {
    let c = cfg("enable_metrics_sampling_method: true\n");
    let mut sm = SpanMetrics::new(&c, ID);
    let mut sampled = span("a", span::SpanKind::Server, 1, false, vec![]);
    sampled.trace_state = "ot=th:c".into(); // threshold 0xc: probability 1/4
    let plain = span("a", span::SpanKind::Server, 1, false, vec![]);
    sm.aggregate(&traces(vec![kv("service.name", "s")], vec![sampled.clone(), sampled, plain]), T0);
    let m = sm.flush(T0, true).expect("metrics");
    let Some(Data::Sum(s)) = &metric(&m, "traces.span.metrics.calls").data else { panic!() };
    let mut got: Vec<(String, i64)> = s
        .data_points
        .iter()
        .map(|p| {
            let Some(number_data_point::Value::AsInt(v)) = p.value else { panic!() };
            (attr(&p.attributes, "sampling.method").unwrap_or_default(), v)
        })
        .collect();
    got.sort();
    assert_eq!(got, [("counted".into(), 1), ("extrapolated".into(), 8)]);
    let Some(Data::Histogram(h)) = &metric(&m, "traces.span.metrics.duration").data else { panic!() };
    assert_eq!(h.data_points.iter().map(|p| p.count).sum::<u64>(), 9);
}

#[test]
fn included_scopes_become_dimensions() {
    let mut sm = SpanMetrics::new(&cfg("include_instrumentation_scope: [lib]\n"), ID);
    sm.aggregate(&checkout_batch(), T0);
    let m = sm.flush(T0, true).expect("metrics");
    let Some(Data::Sum(s)) = &metric(&m, "traces.span.metrics.calls").data else { panic!() };
    let a = &s.data_points[0].attributes;
    assert_eq!(attr(a, "span.instrumentation.scope.name").as_deref(), Some("lib"));
    assert_eq!(attr(a, "span.instrumentation.scope.version").as_deref(), Some("1.2"));
}

#[test]
fn the_config_has_the_collectors_defaults_and_refusals() {
    let c = SpanMetricsConnectorConfig::default();
    assert_eq!(c.namespace, "traces.span.metrics");
    assert_eq!(c.metrics_flush_interval, Duration::from_secs(60));
    assert_eq!(c.histogram.unit, "ms");
    assert_eq!(c.aggregation_temporality, "AGGREGATION_TEMPORALITY_CUMULATIVE");
    assert_eq!((c.resource_metrics_cache_size, c.exemplars.max_per_data_point), (1000, 5));
    // The README's example loads as written.
    let full = cfg(r#"
histogram:
  explicit:
    buckets: [100us, 1ms, 2ms, 6ms, 10ms, 100ms, 250ms]
dimensions:
  - name: http.method
    default: GET
  - name: http.status_code
exemplars:
  enabled: true
exclude_dimensions: ['status.code']
dimensions_cache_size: 1000
aggregation_temporality: "AGGREGATION_TEMPORALITY_CUMULATIVE"
metrics_flush_interval: 15s
metrics_expiration: 5m
events:
  enabled: true
  dimensions:
    - name: exception.type
    - name: exception.message
resource_metrics_key_attributes:
  - service.name
  - telemetry.sdk.language
  - telemetry.sdk.name
"#);
    assert_eq!(full.metrics_flush_interval, Duration::from_secs(15));
    assert_eq!(full.histogram.explicit.get().map(|e| e.buckets.len()), Some(7));
    assert!(cfg("histogram:\n  exponential:\n").histogram.exponential.get().is_some(), "an empty block turns it on");

    let e = errors("dimensions:\n  - name: service.name\n  - name: a\n  - name: a\n  - name: b\n    glob: c\n  - glob: \"span.*\"\n  - {}\n");
    let fields: Vec<(&str, &str)> = e.iter().map(|(f, m)| (f.as_str(), m.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("dimensions::0", "duplicate dimension name \"service.name\""),
            ("dimensions::2", "duplicate dimension name \"a\""),
            ("dimensions::3", "dimension entry must set only one of `name` or `glob`, got both: name=\"b\" glob=\"c\""),
            ("dimensions::5", "dimension entry must set one of `name` or `glob`"),
            ("dimensions::4", "duplicate dimension name \"span.kind\" conflicting with glob \"span.*\""),
        ]
    );
    let e = errors("histogram:\n  unit: h\n  explicit:\n  exponential:\naggregation_cardinality_limit: -1\nmetrics_flush_interval: 0s\n");
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["histogram", "histogram::unit", "metrics_flush_interval", "aggregation_cardinality_limit"]);
    assert!(e[0].1.contains("use either `explicit` or `exponential`"), "{e:?}");
    let node = switchyard_core::config::parse("t.yaml", "dimension: []\n").expect("yaml");
    let err = switchyard_core::config::from_node::<SpanMetricsConnectorConfig>(&node, "spanmetrics")
        .expect_err("unknown key");
    assert!(err.to_string().contains("dimensions"), "{err}");
}

/// The connector as the graph creates it, feeding `sink`, and its settings.
fn connector(
    c: &SpanMetricsConnectorConfig,
    sink: Arc<SinkConsumer<Metrics>>,
) -> (DynConsumer<Traces>, Box<dyn Component>, switchyard_core::component::Settings) {
    let next: DynConsumer<Metrics> = sink;
    let router = AnyRouter::Metrics(Router::new([(PipelineId::parse("metrics").expect("id"), next)]));
    let set = settings(Kind::Connector, "spanmetrics");
    let (input, component) =
        SpanMetricsConnectorFactory.create(set.clone(), c, switchyard_pdata::Signal::Traces, router).expect("created");
    let AnyConsumer::Traces(input) = input else { panic!("a traces consumer") };
    (input, component.expect("a stateful component"), set)
}

#[tokio::test]
async fn the_connector_flushes_on_its_interval_and_at_shutdown() {
    let sink = SinkConsumer::<Metrics>::new();
    let c = cfg("metrics_flush_interval: 100ms\n");
    let (input, component, set) = connector(&c, sink.clone());
    component.start(&Host::default()).await.expect("start");
    input.consume(&RequestContext::default(), Traces::from_request(checkout_batch())).await.expect("accepted");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let held = set.telemetry.metrics.gauge(names::PROCESSOR_HELD_BYTES, "", &[("processor", "spanmetrics")]);
    assert!(held.get() > 1000, "the series are held, and the gauge says so: {}", held.get());
    let batches = sink.batches();
    assert!(batches.len() >= 2, "a flush every 100 ms: {}", batches.len());
    let last = batches.last().expect("a batch");
    assert_eq!(sums(metric(last.request(), "traces.span.metrics.calls"))[1].2, 2, "the count after the opening 0");
    input.consume(&RequestContext::default(), Traces::from_request(checkout_batch())).await.expect("accepted");
    component.shutdown().await;
    let last = sink.batches().last().cloned().expect("a batch");
    assert_eq!(
        sums(metric(last.request(), "traces.span.metrics.calls"))[1].2,
        4,
        "counted before shutdown, sent at it"
    );

    let (_, started, _) = connector(&c, SinkConsumer::new());
    let (_, never, _) = connector(&c, SinkConsumer::new());
    lifecycle_check(started.as_ref(), never.as_ref()).await;
}

#[test]
fn it_connects_traces_to_metrics_only() {
    let f = SpanMetricsConnectorFactory;
    use switchyard_pdata::Signal::{Logs, Metrics as M, Traces as T};
    assert!(f.stability(T, M).is_some());
    assert!(f.stability(T, T).is_none() && f.stability(Logs, M).is_none());
    assert_eq!(f.aliases(), ["span_metrics"]);
}
