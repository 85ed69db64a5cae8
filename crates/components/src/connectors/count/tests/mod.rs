//! Count connector tests through whole graphs built from YAML (`GraphHarness`): what the
//! metrics pipeline receives for given spans, events, metrics, points, logs and profiles.

mod config;
mod data;

use switchyard_core::config::ConfigErrors;
use switchyard_core::consumer::RequestContext;
use switchyard_core::testing::GraphHarness;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::{number_data_point, AggregationTemporality};
use switchyard_pdata::value::as_string;
use switchyard_pdata::{attrs, Metrics, SignalData, Traces};

use super::{CountConnectorFactory, SCOPE_NAME};
use data::*;

pub(super) fn build(h: &GraphHarness, yaml: &str) -> Result<switchyard_core::graph::Graph, ConfigErrors> {
    let mut r = h.registry();
    r.connector(CountConnectorFactory).unwrap();
    h.build(&r, yaml)
}

/// Every input signal into the connector, its counts into `sink/metrics`; the traces also go
/// to `sink/traces` (to see what other exporters of the same batch get).
pub(super) fn graph(connector: &str) -> String {
    format!(
        "
receivers: {{source: }}
exporters: {{sink/metrics: , sink/traces: }}
connectors:
  count:
{connector}
service:
  pipelines:
    traces/in: {{receivers: [source], exporters: [count, sink/traces]}}
    metrics/in: {{receivers: [source], exporters: [count]}}
    logs/in: {{receivers: [source], exporters: [count]}}
    profiles/in: {{receivers: [source], exporters: [count]}}
    metrics/out: {{receivers: [count], exporters: [sink/metrics]}}
"
    )
}

/// One emitted data point, flattened: `service.name` of its resource, metric name, its
/// attributes as `k=v` (with `:int`/`:double` for those types), value.
#[derive(Debug, PartialEq)]
pub(super) struct Point {
    pub service: String,
    pub metric: String,
    pub attrs: String,
    pub value: i64,
}

pub(super) fn pt(service: &str, metric: &str, attrs: &str, value: i64) -> Point {
    Point { service: service.into(), metric: metric.into(), attrs: attrs.into(), value }
}

/// What the metrics pipeline received, in order; checks on the way that every metric is the
/// upstream shape (delta monotonic integer sum, the connector's scope).
pub(super) fn received(h: &GraphHarness) -> Vec<Point> {
    let mut out = Vec::new();
    for batch in h.sink::<Metrics>("sink/metrics").map(|s| s.batches()).unwrap_or_default() {
        for rm in &batch.request().resource_metrics {
            let res = rm.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or_default();
            let service = attrs::get_str(res, "service.name").unwrap_or("").to_string();
            assert_eq!(rm.scope_metrics.len(), 1);
            let sm = &rm.scope_metrics[0];
            assert_eq!(sm.scope.as_ref().map(|s| s.name.as_str()), Some(SCOPE_NAME));
            for m in &sm.metrics {
                let Some(Data::Sum(sum)) = &m.data else { panic!("{} is not a sum", m.name) };
                assert!(sum.is_monotonic, "{}", m.name);
                assert_eq!(sum.aggregation_temporality, AggregationTemporality::Delta as i32, "{}", m.name);
                for p in &sum.data_points {
                    let attrs: Vec<String> = p
                        .attributes
                        .iter()
                        .map(|kv| {
                            let v = kv.value.clone().unwrap_or_default();
                            let ty = match v.value {
                                Some(switchyard_pdata::proto::common::v1::any_value::Value::IntValue(_)) => ":int",
                                Some(switchyard_pdata::proto::common::v1::any_value::Value::DoubleValue(_)) => {
                                    ":double"
                                }
                                _ => "",
                            };
                            format!("{}={}{ty}", kv.key, as_string(&v))
                        })
                        .collect();
                    let Some(number_data_point::Value::AsInt(value)) = p.value else { panic!("not an int") };
                    out.push(Point { service: service.clone(), metric: m.name.clone(), attrs: attrs.join(","), value });
                }
            }
        }
    }
    out
}

async fn send_traces(h: &GraphHarness, t: Traces) {
    h.source("source").traces.unwrap().consume(&RequestContext::default(), t).await.unwrap();
}

#[tokio::test]
async fn the_default_config_counts_every_kind_per_resource() {
    let h = GraphHarness::new();
    let _g = build(&h, &graph("")).expect("valid");
    send_traces(&h, two_services()).await;
    let src = h.source("source");
    src.logs.unwrap().consume(&RequestContext::default(), logs(&["INFO", "WARN", "ERROR"])).await.unwrap();
    src.metrics.unwrap().consume(&RequestContext::default(), every_metric_kind()).await.unwrap();
    assert_eq!(
        received(&h),
        [
            pt("checkout", "trace.span.count", "", 3),
            pt("checkout", "trace.span.event.count", "", 2),
            pt("cart", "trace.span.count", "", 1),
            pt("logsvc", "log.record.count", "", 3),
            pt("metricsvc", "metric.count", "", 6),
            pt("metricsvc", "metric.datapoint.count", "", 6),
        ]
    );
    // Upstream's descriptions; resource attributes copied; start/end = earliest/latest item time.
    let batches = h.sink::<Metrics>("sink/metrics").unwrap().batches();
    let rm = &batches[0].request().resource_metrics[0];
    let m = &rm.scope_metrics[0].metrics;
    assert_eq!(m[0].description, "The number of spans observed.");
    assert_eq!(m[1].description, "The number of span events observed.");
    let res = &rm.resource.as_ref().unwrap().attributes;
    assert_eq!(attrs::get_str(res, "deployment.environment"), Some("prod"));
    let Some(Data::Sum(spans)) = &m[0].data else { unreachable!() };
    assert_eq!((spans.data_points[0].start_time_unix_nano, spans.data_points[0].time_unix_nano), (1_000, 9_000));
    let Some(Data::Sum(events)) = &m[1].data else { unreachable!() };
    assert_eq!((events.data_points[0].start_time_unix_nano, events.data_points[0].time_unix_nano), (1_500, 2_500));
    let descriptions: Vec<_> = batches[1..]
        .iter()
        .flat_map(|b| b.request().resource_metrics[0].scope_metrics[0].metrics.clone())
        .map(|m| m.description)
        .collect();
    assert_eq!(
        descriptions,
        [
            "The number of log records observed.",
            "The number of metrics observed.",
            "The number of data points observed."
        ]
    );
}

#[tokio::test]
async fn writing_a_section_replaces_only_its_default_metric() {
    let h = GraphHarness::new();
    let _g = build(&h, &graph("    spans: {}")).expect("valid");
    send_traces(&h, two_services()).await;
    assert_eq!(received(&h), [pt("checkout", "trace.span.event.count", "", 2)]);
}

#[tokio::test]
async fn conditions_are_ored_and_attributes_split_the_count() {
    let h = GraphHarness::new();
    let cfg = r#"    spans:
      slow.or.a:
        description: Spans on /a, or slow ones.
        conditions:
          - attributes["http.route"] == "/a"
          - name == "slow"
      by.route:
        attributes:
          - key: http.route
            default_value: none"#;
    let _g = build(&h, &graph(cfg)).expect("valid");
    send_traces(&h, routes(&[("get", "/a"), ("slow", "/b"), ("get", "/b"), ("get", ""), ("get", "/a")])).await;
    assert_eq!(
        received(&h),
        [
            pt("web", "slow.or.a", "", 3),
            pt("web", "by.route", "http.route=/a", 2),
            pt("web", "by.route", "http.route=/b", 2),
            pt("web", "by.route", "http.route=none", 1),
        ]
    );
}

#[tokio::test]
async fn attributes_come_from_the_item_then_its_scope_then_its_resource() {
    let h = GraphHarness::new();
    let cfg = r#"    spans:
      by.env.and.code:
        attributes:
          - key: env
          - key: code
            default_value: 0
      by.flag:
        attributes: [{key: flag}]"#;
    let _g = build(&h, &graph(cfg)).expect("valid");
    send_traces(&h, layered()).await;
    assert_eq!(
        received(&h),
        [
            // span env=span, code 200 (int kept); scope env; resource env with the int default;
            // the span without any env is not counted.
            pt("layers", "by.env.and.code", "env=span,code=200:int", 1),
            pt("layers", "by.env.and.code", "env=scope,code=0:int", 1),
            pt("layers", "by.env.and.code", "env=resource,code=0:int", 1),
            // A boolean is counted under its text.
            pt("layers", "by.flag", "flag=true", 1),
            pt("otherres", "by.env.and.code", "env=scope,code=1.5:double", 1),
        ]
    );
}

#[tokio::test]
async fn each_kind_of_condition_runs_in_its_own_context() {
    let h = GraphHarness::new();
    let cfg = r#"    spanevents:
      exceptions:
        conditions: ['name == "exception"']
    metrics:
      sums:
        conditions: ["type == METRIC_DATA_TYPE_SUM"]
    datapoints:
      h1.points:
        conditions: ['attributes["host"] == "h1" and metric.name == "cpu"']
    logs:
      warn.or.worse:
        conditions: ["severity_number >= SEVERITY_NUMBER_WARN"]
        attributes: [{key: severity, default_value: unknown}]"#;
    let _g = build(&h, &graph(cfg)).expect("valid");
    send_traces(&h, two_services()).await;
    let src = h.source("source");
    src.logs.unwrap().consume(&RequestContext::default(), logs(&["INFO", "WARN", "ERROR", "FATAL"])).await.unwrap();
    src.metrics.unwrap().consume(&RequestContext::default(), every_metric_kind()).await.unwrap();
    assert_eq!(
        received(&h),
        [
            pt("checkout", "trace.span.count", "", 3),
            pt("checkout", "exceptions", "", 1),
            pt("cart", "trace.span.count", "", 1),
            pt("logsvc", "warn.or.worse", "severity=unknown", 3),
            pt("metricsvc", "sums", "", 1),
            pt("metricsvc", "h1.points", "", 1),
        ]
    );
}

#[tokio::test]
async fn the_batch_other_exporters_get_is_left_as_it_was() {
    let h = GraphHarness::new();
    let cfg = r#"    spans:
      named.get:
        conditions: ['name == "get"']"#;
    let _g = build(&h, &graph(cfg)).expect("valid");
    let input = routes(&[("get", "/a"), ("put", "/b")]);
    send_traces(&h, input.clone()).await;
    assert_eq!(received(&h), [pt("web", "named.get", "", 1)]);
    let other = h.sink::<Traces>("sink/traces").unwrap().batches();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].request(), input.request(), "the traces pipeline's other exporter sees the batch unchanged");
}

#[tokio::test]
async fn a_batch_that_counts_nothing_sends_nothing() {
    let h = GraphHarness::new();
    let cfg = r#"    spans:
      never:
        conditions: ['name == "no such span"']
    spanevents: {}"#;
    let _g = build(&h, &graph(cfg)).expect("valid");
    send_traces(&h, two_services()).await;
    assert!(h.sink::<Metrics>("sink/metrics").unwrap().batches().is_empty());
}

#[tokio::test]
async fn logs_and_data_points_are_counted_by_resource_attribute() {
    // The kube-logging telemetry-controller counts logs by tenant and k8s resource attributes.
    let h = GraphHarness::new();
    let cfg = r#"    logs:
      tenant_log_count:
        attributes: [{key: tenant}, {key: k8s.namespace.name}]
        description: The number of logs from each tenant pipeline."#;
    let _g = build(&h, &graph(cfg)).expect("valid");
    let batch = tenant_logs(&[("acme", "shop", 2), ("globex", "shop", 1), ("acme", "admin", 1)]);
    h.source("source").logs.unwrap().consume(&RequestContext::default(), batch).await.unwrap();
    assert_eq!(
        received(&h),
        [
            pt("", "tenant_log_count", "tenant=acme,k8s.namespace.name=shop", 2),
            pt("", "tenant_log_count", "tenant=globex,k8s.namespace.name=shop", 1),
            pt("", "tenant_log_count", "tenant=acme,k8s.namespace.name=admin", 1),
        ]
    );
}

#[tokio::test]
async fn profiles_are_counted_with_their_dictionary_attributes() {
    let h = GraphHarness::new();
    let cfg = r#"    profiles:
      by.thread:
        attributes: [{key: thread.name, default_value: main}]"#;
    let _g = build(&h, &graph(cfg)).expect("valid");
    h.source("source").profiles.unwrap().consume(&RequestContext::default(), profiles()).await.unwrap();
    assert_eq!(
        received(&h),
        [pt("profiled", "by.thread", "thread.name=worker", 2), pt("profiled", "by.thread", "thread.name=main", 1)]
    );
}

#[tokio::test]
async fn logs_without_timestamps_are_stamped_with_the_time_of_counting() {
    let h = GraphHarness::new();
    let _g = build(&h, &graph("")).expect("valid");
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut batch = logs(&["INFO"]);
    batch.make_mut().resource_logs[0].scope_logs[0].log_records[0].time_unix_nano = 0;
    h.source("source").logs.unwrap().consume(&RequestContext::default(), batch).await.unwrap();
    let b = h.sink::<Metrics>("sink/metrics").unwrap().batches();
    let Some(Data::Sum(s)) = &b[0].request().resource_metrics[0].scope_metrics[0].metrics[0].data else { panic!() };
    let p = &s.data_points[0];
    assert!(p.time_unix_nano >= before && p.start_time_unix_nano == p.time_unix_nano, "{p:?}");
}

#[tokio::test]
async fn a_failing_condition_is_no_match_and_is_counted_as_an_ottl_error() {
    use switchyard_core::component::{ConnectorFactory, Kind};
    use switchyard_core::consumer::{AnyConsumer, AnyRouter, DynConsumer, Router};
    use switchyard_core::testing::SinkConsumer;
    let node = switchyard_core::config::parse(
        "t.yaml",
        r#"
spans:
  a.or.b:
    conditions:
      - attributes["http.route"] * 2 > 1
      - name == "slow""#,
    )
    .unwrap();
    let cfg: super::CountConnectorConfig = switchyard_core::config::from_node(&node, "count").unwrap();
    let sink = SinkConsumer::<Metrics>::new();
    let id = switchyard_core::component::PipelineId::parse("metrics").unwrap();
    let router = AnyRouter::Metrics(Router::new([(id, sink.clone() as DynConsumer<Metrics>)]));
    let mut set = switchyard_core::testing::settings(Kind::Connector, "count");
    set.telemetry = switchyard_core::telemetry::Telemetry::new();
    let (c, _) = CountConnectorFactory.create(set.clone(), &cfg, switchyard_pdata::Signal::Traces, router).unwrap();
    let AnyConsumer::Traces(c) = c else { panic!("a traces consumer") };
    c.consume(&RequestContext::default(), routes(&[("slow", "/a"), ("get", "/b")])).await.expect("ignored, not failed");
    let h_points: Vec<i64> = sink
        .batches()
        .iter()
        .flat_map(|b| b.request().resource_metrics.clone())
        .flat_map(|rm| rm.scope_metrics[0].metrics.clone())
        .filter_map(|m| match m.data {
            Some(Data::Sum(s)) => s.data_points.first().and_then(|p| match p.value {
                Some(number_data_point::Value::AsInt(v)) => Some(v),
                _ => None,
            }),
            _ => None,
        })
        .collect();
    assert_eq!(h_points, [1], "the second condition still counted the slow span");
    let rendered = set.telemetry.metrics.render(false);
    assert!(rendered.contains(r#"switchyard_processor_ottl_errors{component="count"} 2"#), "{rendered}");
}
