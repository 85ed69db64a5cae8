//! What a user of the connector checks: the edge metrics the Collector emits for known
//! pairs of spans, expiry into virtual nodes, the store limit, every option's effect and
//! the self-metrics, plus the config's defaults and refusals.

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{Component, ComponentConfig, ConnectorFactory, Host, Kind, PipelineId};
use switchyard_core::consumer::{AnyConsumer, AnyRouter, DynConsumer, RequestContext, Router};
use switchyard_core::telemetry::{names, Telemetry};
use switchyard_core::testing::{lifecycle_check, settings, SinkConsumer};
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, KeyValue};
use switchyard_pdata::proto::metrics::v1::{metric::Data, number_data_point, Metric};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span::SpanKind, status, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::value::as_string;
use switchyard_pdata::{Metrics, SignalData, Traces};

use super::*;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;
const T0: u64 = 1_700_000_000_000_000_000;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

fn cfg(yaml: &str) -> ServiceGraphConnectorConfig {
    let node = switchyard_core::config::parse("t.yaml", yaml).expect("yaml");
    let c: ServiceGraphConnectorConfig = switchyard_core::config::from_node(&node, "servicegraph").expect("decodes");
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    c
}

/// A span of trace `t`, id `id`, parent `parent` (0 = root), lasting `ms`.
fn span(t: u8, id: u8, parent: u8, kind: SpanKind, ms: u64, error: bool, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![t; 16],
        span_id: vec![id; 8],
        parent_span_id: if parent == 0 { Vec::new() } else { vec![parent; 8] },
        name: "op".into(),
        kind: kind as i32,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + ms * MS,
        attributes: attrs,
        status: error.then(|| Status { code: status::StatusCode::Error as i32, ..Default::default() }),
        ..Default::default()
    }
}

/// One request: spans grouped by service.
fn batch(by_service: Vec<(&str, Vec<Span>)>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .map(|(svc, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", svc), kv("region", "eu")],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            })
            .collect(),
    }
}

fn graph(c: &ServiceGraphConnectorConfig) -> (ServiceGraph, Telemetry) {
    let t = Telemetry::default();
    let counters = Counters {
        dropped_spans: t.metrics.counter(DROPPED_SPANS, "", &[]),
        expired_edges: t.metrics.counter(EXPIRED_EDGES, "", &[]),
        total_edges: t.metrics.counter(TOTAL_EDGES, "", &[]),
    };
    (ServiceGraph::new(c, counters, T0), t)
}

fn counter(t: &Telemetry, name: &str) -> u64 {
    t.metrics.counter(name, "", &[]).get()
}

fn metric<'a>(req: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a Metric> {
    req.resource_metrics.iter().flat_map(|r| &r.scope_metrics).flat_map(|s| &s.metrics).find(|m| m.name == name)
}

/// `client|server|connection_type|failed[|extra labels] = value` of every point of a sum.
fn edges(req: &ExportMetricsServiceRequest, name: &str) -> Vec<(String, i64)> {
    let Some(Metric { data: Some(Data::Sum(s)), .. }) = metric(req, name) else { return Vec::new() };
    let mut out: Vec<_> = s
        .data_points
        .iter()
        .map(|p| {
            let labels: Vec<String> =
                p.attributes.iter().map(|a| as_string(a.value.as_ref().expect("value")).into_owned()).collect();
            let Some(number_data_point::Value::AsInt(v)) = p.value else { panic!("int") };
            (labels.join("|"), v)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_client_and_its_server_make_one_edge_with_both_latencies() {
    let (mut g, t) = graph(&cfg("{}"));
    g.consume(
        &batch(vec![
            ("frontend", vec![span(1, 10, 0, SpanKind::Client, 120, false, vec![])]),
            ("backend", vec![span(1, 11, 10, SpanKind::Server, 100, false, vec![])]),
        ]),
        T0,
    );
    let m = g.flush(T0 + S).expect("metrics");
    assert_eq!(edges(&m, "traces_service_graph_request_total"), [("frontend|backend||false".into(), 1)]);
    assert!(metric(&m, "traces_service_graph_request_failed_total").is_none(), "nothing failed");
    let server = metric(&m, "traces_service_graph_request_server").expect("server latency");
    let client = metric(&m, "traces_service_graph_request_client").expect("client latency");
    assert_eq!((server.unit.as_str(), client.unit.as_str()), ("s", "s"));
    let Some(Data::Histogram(h)) = &server.data else { panic!("explicit") };
    assert_eq!(h.data_points[0].explicit_bounds, config::DEFAULT_BUCKETS_SECONDS);
    assert_eq!((h.data_points[0].count, h.data_points[0].sum), (1, Some(0.1)));
    assert_eq!(h.data_points[0].bucket_counts[6], 1, "0.1 s is in (0.05, 0.1]");
    let Some(Data::Histogram(h)) = &client.data else { panic!("explicit") };
    assert_eq!(h.data_points[0].sum, Some(0.12));
    assert_eq!((h.data_points[0].start_time_unix_nano, h.data_points[0].time_unix_nano), (T0, T0 + S));
    let Some(Data::Sum(s)) = &metric(&m, "traces_service_graph_request_total").expect("total").data else { panic!() };
    assert_eq!((s.is_monotonic, s.aggregation_temporality), (true, 2));
    assert_eq!(
        s.data_points[0].attributes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(),
        ["client", "server", "connection_type", "failed"]
    );
    assert_eq!(
        s.data_points[0].attributes[3].value.as_ref().and_then(|v| v.value.clone()),
        Some(Value::BoolValue(false)),
        "failed is a boolean, as upstream"
    );
    assert_eq!(
        m.resource_metrics[0].scope_metrics[0].scope.as_ref().map(|s| s.name.as_str()),
        Some("traces_service_graph")
    );
    assert_eq!((counter(&t, TOTAL_EDGES), counter(&t, EXPIRED_EDGES)), (1, 0));
    assert_eq!(g.pending_edges(), 0);
}

#[test]
fn halves_in_different_batches_pair_and_errors_fail_the_edge() {
    let (mut g, _) = graph(&cfg("{}"));
    for trace in 1..=4u8 {
        let server_error = trace == 4;
        g.consume(&batch(vec![("api", vec![span(trace, 20, 10, SpanKind::Server, 5, server_error, vec![])])]), T0);
        g.consume(&batch(vec![("web", vec![span(trace, 10, 0, SpanKind::Client, 7, false, vec![])])]), T0 + MS);
    }
    let m = g.flush(T0 + S).expect("metrics");
    assert_eq!(
        edges(&m, "traces_service_graph_request_total"),
        [("web|api||false".into(), 3), ("web|api||true".into(), 1)]
    );
    assert_eq!(edges(&m, "traces_service_graph_request_failed_total"), [("web|api||true".into(), 1)]);
}

#[test]
fn producers_and_consumers_are_messaging_edges_and_database_calls_complete_alone() {
    let (mut g, t) = graph(&cfg("{}"));
    g.consume(
        &batch(vec![
            (
                "orders",
                vec![
                    span(1, 10, 0, SpanKind::Producer, 1, false, vec![]),
                    span(
                        1,
                        12,
                        0,
                        SpanKind::Client,
                        3,
                        false,
                        vec![kv("db.name", "orders-db"), kv("db.system", "postgresql")],
                    ),
                ],
            ),
            ("billing", vec![span(1, 11, 10, SpanKind::Consumer, 2, false, vec![])]),
        ]),
        T0,
    );
    let m = g.flush(T0).expect("metrics");
    assert_eq!(
        edges(&m, "traces_service_graph_request_total"),
        [("orders|billing|messaging_system|false".into(), 1), ("orders|orders-db|database|false".into(), 1)]
    );
    assert_eq!(g.pending_edges(), 0);
    assert_eq!(counter(&t, TOTAL_EDGES), 2);
}

#[test]
fn an_unpaired_client_expires_into_a_virtual_server_named_by_its_peer() {
    let (mut g, t) = graph(&cfg("virtual_node_extra_label: true\n"));
    g.consume(
        &batch(vec![(
            "web",
            vec![
                span(1, 10, 0, SpanKind::Client, 4, false, vec![kv("peer.service", "payments")]),
                span(2, 10, 0, SpanKind::Client, 4, false, vec![]),
            ],
        )]),
        T0,
    );
    g.expire(T0 + S);
    assert!(g.flush(T0 + S).is_none(), "the store waits 2 s");
    g.expire(T0 + 3 * S);
    assert_eq!(counter(&t, EXPIRED_EDGES), 2);
    let m = g.flush(T0 + 3 * S).expect("metrics");
    assert_eq!(
        edges(&m, "traces_service_graph_request_total"),
        [("web|payments|virtual_node|false|server".into(), 1), ("web|unknown|virtual_node|false|server".into(), 1)]
    );
}

#[test]
fn a_root_server_span_without_client_comes_from_the_user() {
    let (mut g, _) = graph(&cfg("{}"));
    g.consume(&batch(vec![("gateway", vec![span(1, 10, 0, SpanKind::Server, 4, false, vec![])])]), T0);
    // A server span whose parent is not a client span is only counted as expired.
    g.consume(&batch(vec![("worker", vec![span(2, 11, 99, SpanKind::Server, 4, false, vec![])])]), T0);
    g.expire(T0 + 3 * S);
    let m = g.flush(T0 + 3 * S).expect("metrics");
    assert_eq!(edges(&m, "traces_service_graph_request_total"), [("user|gateway|virtual_node|false".into(), 1)]);
}

#[test]
fn without_peer_attributes_expired_edges_are_only_counted() {
    let (mut g, t) = graph(&cfg("virtual_node_peer_attributes: []\n"));
    g.consume(
        &batch(vec![("web", vec![span(1, 10, 0, SpanKind::Client, 4, false, vec![kv("peer.service", "p")])])]),
        T0,
    );
    g.expire(T0 + 3 * S);
    assert_eq!(counter(&t, EXPIRED_EDGES), 1);
    assert!(g.flush(T0 + 3 * S).is_none());
}

#[test]
fn a_full_store_drops_new_halves_and_counts_them() {
    let (mut g, t) = graph(&cfg("store:\n  max_items: 2\n  ttl: 1s\n"));
    let clients = (1..=5u8).map(|i| span(i, 10, 0, SpanKind::Client, 1, false, vec![])).collect();
    g.consume(&batch(vec![("web", clients)]), T0);
    assert_eq!((counter(&t, DROPPED_SPANS), counter(&t, TOTAL_EDGES), g.pending_edges()), (3, 2, 2));
    // Once the stored ones have expired, a new half makes room for itself.
    g.consume(&batch(vec![("web", vec![span(9, 10, 0, SpanKind::Client, 1, false, vec![])])]), T0 + 2 * S);
    assert_eq!((counter(&t, DROPPED_SPANS), counter(&t, EXPIRED_EDGES)), (3, 1));
}

#[test]
fn dimensions_label_each_side_from_resource_then_span() {
    let (mut g, _) = graph(&cfg("dimensions: [region, http.method]\n"));
    g.consume(
        &batch(vec![
            (
                "web",
                vec![span(
                    1,
                    10,
                    0,
                    SpanKind::Client,
                    1,
                    false,
                    vec![kv("http.method", "GET"), kv("region", "span-wins-not")],
                )],
            ),
            ("api", vec![span(1, 11, 10, SpanKind::Server, 1, false, vec![])]),
        ]),
        T0,
    );
    let m = g.flush(T0).expect("metrics");
    let Some(Data::Sum(s)) = &metric(&m, "traces_service_graph_request_total").expect("total").data else { panic!() };
    let labels: Vec<(String, String)> = s.data_points[0]
        .attributes
        .iter()
        .map(|a| (a.key.clone(), as_string(a.value.as_ref().expect("v")).into_owned()))
        .skip(4)
        .collect();
    assert_eq!(
        labels,
        [
            ("client_http.method".to_string(), "GET".to_string()),
            ("client_region".into(), "eu".into()),
            ("server_region".into(), "eu".into())
        ]
    );
}

#[test]
fn latency_buckets_exponential_histograms_and_timestamp_offset() {
    let (mut g, _) = graph(&cfg("latency_histogram_buckets: [10ms, 1s]\nmetrics_timestamp_offset: 1s\n"));
    g.consume(
        &batch(vec![
            ("web", vec![span(1, 10, 0, SpanKind::Client, 500, false, vec![])]),
            ("api", vec![span(1, 11, 10, SpanKind::Server, 5, false, vec![])]),
        ]),
        T0,
    );
    let m = g.flush(T0 + 10 * S).expect("metrics");
    let Some(Data::Histogram(h)) = &metric(&m, "traces_service_graph_request_client").expect("client").data else {
        panic!()
    };
    assert_eq!(h.data_points[0].explicit_bounds, [0.01, 1.0]);
    assert_eq!(h.data_points[0].bucket_counts, [0, 1, 0]);
    assert_eq!(h.data_points[0].time_unix_nano, T0 + 9 * S, "offset subtracted");

    let (mut g, _) = graph(&cfg("exponential_histogram_max_size: 20\n"));
    g.consume(
        &batch(vec![
            ("web", vec![span(1, 10, 0, SpanKind::Client, 500, false, vec![])]),
            ("api", vec![span(1, 11, 10, SpanKind::Server, 5, false, vec![])]),
        ]),
        T0,
    );
    let m = g.flush(T0).expect("metrics");
    let Some(Data::ExponentialHistogram(h)) = &metric(&m, "traces_service_graph_request_server").expect("server").data
    else {
        panic!("exponential")
    };
    assert_eq!((h.data_points[0].count, h.data_points[0].max), (1, Some(0.005)));
}

#[test]
fn series_not_updated_for_fifteen_minutes_are_dropped() {
    let (mut g, _) = graph(&cfg("{}"));
    g.consume(
        &batch(vec![
            ("web", vec![span(1, 10, 0, SpanKind::Client, 1, false, vec![])]),
            ("api", vec![span(1, 11, 10, SpanKind::Server, 1, false, vec![])]),
        ]),
        T0,
    );
    g.clean_series(T0 + 14 * 60 * S);
    assert!(g.flush(T0).is_some());
    g.clean_series(T0 + 16 * 60 * S);
    assert!(g.flush(T0).is_none());
}

#[test]
fn the_config_has_the_collectors_defaults_and_refusals() {
    let c = ServiceGraphConnectorConfig::default();
    assert_eq!((c.store.ttl, c.store.max_items), (Duration::from_secs(2), 1000));
    assert_eq!(c.metrics_flush_interval, Duration::from_secs(60));
    assert_eq!(c.peer_attributes(), ["peer.service", "db.name", "db.system"]);
    assert_eq!(c.database_name_attributes(), ["db.name"]);
    assert_eq!(cfg("database_name_attribute: db.namespace\n").database_name_attributes(), ["db.namespace"]);
    // The README's example, as written (bare integers are nanoseconds, as in Go).
    let c = cfg("latency_histogram_buckets: [1,2,3,4,5]\ndimensions:\n  - dimension-1\n  - dimension-2\nstore:\n  ttl: 1s\n  max_items: 10\n");
    assert_eq!(c.latency_histogram_buckets[4], Duration::from_nanos(5));
    let node = switchyard_core::config::parse(
        "t.yaml",
        "latency_histogram_buckets: [1s]\nexponential_histogram_max_size: 5\n",
    )
    .expect("yaml");
    let c: ServiceGraphConnectorConfig = switchyard_core::config::from_node(&node, "servicegraph").expect("decodes");
    let e = c.validate();
    assert_eq!(e[0].field, "latency_histogram_buckets");
    assert_eq!(e[0].message, "use either `latency_histogram_buckets` or `exponential_histogram_max_size`");
    let node = switchyard_core::config::parse("t.yaml", "store:\n  max_item: 5\n").expect("yaml");
    assert!(switchyard_core::config::from_node::<ServiceGraphConnectorConfig>(&node, "servicegraph").is_err());
}

/// The connector as the graph creates it, feeding `sink`, with its settings.
fn connector(
    c: &ServiceGraphConnectorConfig,
    sink: Arc<SinkConsumer<Metrics>>,
) -> (DynConsumer<Traces>, Box<dyn Component>, switchyard_core::component::Settings) {
    let next: DynConsumer<Metrics> = sink;
    let router = AnyRouter::Metrics(Router::new([(PipelineId::parse("metrics").expect("id"), next)]));
    let set = settings(Kind::Connector, "servicegraph");
    let (input, component) =
        ServiceGraphConnectorFactory.create(set.clone(), c, switchyard_pdata::Signal::Traces, router).expect("created");
    let AnyConsumer::Traces(input) = input else { panic!("a traces consumer") };
    (input, component.expect("a stateful component"), set)
}

#[tokio::test]
async fn the_connector_flushes_expires_and_reports_its_self_metrics() {
    let sink = SinkConsumer::<Metrics>::new();
    let c = cfg("metrics_flush_interval: 100ms\nstore:\n  ttl: 50ms\nstore_expiration_loop: 50ms\n");
    let (input, component, set) = connector(&c, sink.clone());
    component.start(&Host::default()).await.expect("start");
    let pair = batch(vec![
        ("web", vec![span(1, 10, 0, SpanKind::Client, 3, false, vec![])]),
        ("api", vec![span(1, 11, 10, SpanKind::Server, 2, true, vec![])]),
    ]);
    let lonely =
        batch(vec![("web", vec![span(2, 10, 0, SpanKind::Client, 3, false, vec![kv("peer.service", "mail")])])]);
    for b in [pair, lonely] {
        input.consume(&RequestContext::default(), Traces::from_request(b)).await.expect("accepted");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let held = set.telemetry.metrics.gauge(names::PROCESSOR_HELD_BYTES, "", &[("processor", "servicegraph")]);
    assert!(held.get() > 500, "the series are held, and the gauge says so: {}", held.get());
    component.shutdown().await;
    let last = sink.batches().last().cloned().expect("flushed");
    assert_eq!(
        edges(last.request(), "traces_service_graph_request_total"),
        [("web|api||true".into(), 1), ("web|mail|virtual_node|false".into(), 1)]
    );
    assert_eq!(edges(last.request(), "traces_service_graph_request_failed_total"), [("web|api||true".into(), 1)]);
    let text = set.telemetry.metrics.render(true);
    assert!(
        text.contains("otelcol_connector_servicegraph_expired_edges_total{connector=\"servicegraph\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("otelcol_connector_servicegraph_total_edges_total{connector=\"servicegraph\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("otelcol_connector_servicegraph_dropped_spans_total{connector=\"servicegraph\"} 0\n"),
        "{text}"
    );

    // flush interval 0: metrics after every batch.
    let sink = SinkConsumer::<Metrics>::new();
    let (input, component, _) = connector(&cfg("metrics_flush_interval: 0s\n"), sink.clone());
    component.start(&Host::default()).await.expect("start");
    let db = batch(vec![("web", vec![span(3, 10, 0, SpanKind::Client, 3, false, vec![kv("db.name", "pg")])])]);
    input.consume(&RequestContext::default(), Traces::from_request(db)).await.expect("accepted");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.batches().len(), 1, "one flush for one batch");
    component.shutdown().await;

    let (_, started, _) = connector(&c, SinkConsumer::new());
    let (_, never, _) = connector(&c, SinkConsumer::new());
    lifecycle_check(started.as_ref(), never.as_ref()).await;
}

#[test]
fn it_connects_traces_to_metrics_only() {
    use switchyard_pdata::Signal::{Logs, Metrics as M, Traces as T};
    let f = ServiceGraphConnectorFactory;
    assert!(f.stability(T, M).is_some());
    assert!(f.stability(T, T).is_none() && f.stability(Logs, M).is_none());
    assert_eq!(f.aliases(), ["service_graph"]);
}
