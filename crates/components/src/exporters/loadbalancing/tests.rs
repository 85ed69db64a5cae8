//! Routing and config checks; the exporter end to end (real gateways, a failing backend,
//! `routing_key: service` into `spanmetrics`) is in tests/e2e_loadbalancing.rs.

use std::collections::{BTreeMap, BTreeSet};

use switchyard_core::component::ComponentConfig;
use switchyard_core::config;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::{
    number_data_point, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::value::{as_string, str_value};
use switchyard_pdata::{attrs, walk, Metrics, Signal, SignalData, Traces};

use super::routing::{Routed, Router};
use super::{LoadBalancingConfig, Ring};

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: Some(str_value(v)), ..Default::default() }
}

fn ring(n: usize) -> Ring {
    Ring::new(&(0..n).map(|i| format!("10.1.0.{i}:4317")).collect::<Vec<_>>())
}

/// `traces` traces of `spans` spans, interleaved, under two resources of `services`.
fn traces(traces: u8, spans: u8, services: [&str; 2], tenant: impl Fn(u8) -> String) -> Traces {
    let resource_spans = services
        .iter()
        .enumerate()
        .map(|(r, svc)| ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", svc)], ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .flat_map(|s| {
                        let tenant = &tenant;
                        (0..traces).map(move |t| Span {
                            trace_id: vec![t + 1; 16],
                            span_id: vec![r as u8, s, t, 0, 0, 0, 0, 1],
                            name: format!("op{s}"),
                            attributes: vec![kv("tenant", &tenant(t))],
                            ..Default::default()
                        })
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Traces::from_request(ExportTraceServiceRequest { resource_spans })
}

fn router(signal: Signal, key: &str, attrs: &[&str]) -> Router {
    Router::new(signal, key, &attrs.iter().map(|a| a.to_string()).collect::<Vec<_>>()).expect("valid key")
}

#[test]
fn by_trace_id_every_trace_goes_whole_to_its_owner() {
    let decoded = traces(30, 4, ["a", "b"], |_| "x".into());
    // As received: the ids are read from the bytes and the parts stay bytes.
    let encoded = Traces::from_encoded(decoded.to_bytes()).expect("walks");
    for (data, stays_encoded) in [(decoded, false), (encoded, true)] {
        let parts = by_trace_id_every_trace_goes_whole(data);
        assert!(parts.iter().all(|p| p.is_encoded() == stays_encoded));
    }
}

fn by_trace_id_every_trace_goes_whole(data: Traces) -> Vec<Traces> {
    let ring = ring(3);
    let total = data.item_count();
    let parts = data.partition(&router(Signal::Traces, "traceID", &[]), &ring);
    assert_eq!(parts.len(), 3, "one part per backend");
    assert_eq!(parts.iter().map(SignalData::item_count).sum::<usize>(), total, "nothing lost or copied");
    let mut seen: BTreeMap<Vec<u8>, BTreeSet<usize>> = BTreeMap::new();
    for (b, p) in parts.iter().enumerate() {
        for s in walk::spans(p.request()) {
            assert_eq!(ring.owner(&s.span.trace_id), Some(b), "on its ring owner");
            seen.entry(s.span.trace_id.clone()).or_default().insert(b);
            assert!(attrs::get(s.resource.attributes(), "service.name").is_some(), "resource kept");
        }
    }
    assert_eq!(seen.len(), 30);
    assert!(seen.values().all(|b| b.len() == 1));
    assert!(parts.iter().all(|p| p.item_count() > 0), "30 traces reach all 3 backends");
    parts
}

#[test]
fn by_service_each_resource_moves_whole() {
    let ring = ring(4);
    let decoded = traces(10, 2, ["checkout", "payments"], |_| "x".into());
    // As received: the service names are read from the resource envelopes alone and every
    // part is the received bytes of its resources.
    let encoded = Traces::from_encoded(decoded.to_bytes()).expect("walks");
    for (data, stays_encoded) in [(decoded, false), (encoded, true)] {
        let parts = data.partition(&router(Signal::Traces, "service", &[]), &ring);
        assert_eq!(parts.len(), 4, "one part per backend");
        let sent = parts.iter().filter(|p| p.item_count() > 0);
        assert!(sent.clone().all(|p| p.is_encoded() == stays_encoded), "encoded={stays_encoded}");
        assert_eq!(sent.count(), 2, "two services on two backends");
        let mut resources = 0;
        for (b, p) in parts.iter().enumerate() {
            for rs in &p.request().resource_spans {
                let svc =
                    attrs::get(&rs.resource.as_ref().expect("resource").attributes, "service.name").map(as_string);
                let svc = svc.expect("service.name").into_owned();
                assert_eq!(ring.owner(svc.as_bytes()), Some(b), "{svc} on its owner");
                assert_eq!(rs.scope_spans[0].spans.len(), 20, "all of {svc}'s spans together");
                resources += 1;
            }
        }
        assert_eq!(resources, 2, "encoded={stays_encoded}");
    }
}

#[test]
fn metrics_by_service_or_resource_route_encoded_batches_as_decoded_ones() {
    let ring = ring(3);
    let point = NumberDataPoint { value: Some(number_data_point::Value::AsInt(1)), ..Default::default() };
    let resource_metrics = (0..12)
        .map(|i| ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", &format!("svc{i}")), kv("host.name", &format!("h{}", i % 5))],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: format!("m{i}"),
                    data: Some(Data::Sum(Sum { data_points: vec![point.clone()], ..Default::default() })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    let req = ExportMetricsServiceRequest { resource_metrics };
    let names = |parts: &[Metrics]| -> Vec<Vec<String>> {
        parts.iter().map(|p| walk::metrics(p.request()).map(|m| m.metric.name.clone()).collect()).collect()
    };
    for key in ["service", "resource"] {
        let router = router(Signal::Metrics, key, &[]);
        let decoded = Metrics::from_request(req.clone()).partition(&router, &ring);
        let bytes = Metrics::from_request(req.clone()).to_bytes();
        let encoded = Metrics::from_encoded(bytes).expect("walks").partition(&router, &ring);
        let sent = encoded.iter().filter(|p| p.item_count() > 0);
        assert!(sent.clone().all(SignalData::is_encoded), "{key}: the parts are the received bytes");
        assert_eq!(names(&encoded), names(&decoded), "{key}: each resource on the same backend");
        assert_eq!(names(&encoded).concat().len(), 12, "{key}: nothing lost or copied");
        assert!(names(&encoded).iter().filter(|n| !n.is_empty()).count() > 1, "{key}: resources spread");
    }
}

#[test]
fn by_attributes_the_values_make_the_key() {
    let ring = ring(5);
    let data = traces(20, 3, ["a", "a"], |t| format!("tenant-{}", t % 4));
    let parts = data.partition(&router(Signal::Traces, "attributes", &["tenant", "span.name"]), &ring);
    let mut owner: BTreeMap<(String, String), BTreeSet<usize>> = BTreeMap::new();
    for (b, p) in parts.iter().enumerate() {
        for s in walk::spans(p.request()) {
            let tenant = attrs::get(&s.span.attributes, "tenant").map(as_string).unwrap_or_default().into_owned();
            owner.entry((tenant, s.span.name.clone())).or_default().insert(b);
        }
    }
    assert_eq!(owner.len(), 12, "4 tenants × 3 span names");
    assert!(owner.values().all(|b| b.len() == 1), "each tenant and name on one backend: {owner:?}");
    let used: BTreeSet<usize> = owner.values().flatten().copied().collect();
    assert!(used.len() > 1, "different keys spread: {owner:?}");
}

#[test]
fn metrics_by_metric_name_keep_each_metric_together() {
    let ring = ring(3);
    let metric = |name: &str| Metric { name: name.into(), ..Default::default() };
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: vec![kv("service.name", "api")], ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                metrics: (0..12).map(|i| metric(&format!("m{}", i % 6))).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let parts = Metrics::from_request(req).partition(&router(Signal::Metrics, "metric", &[]), &ring);
    let mut total = 0;
    for (b, p) in parts.iter().enumerate() {
        for rm in &p.request().resource_metrics {
            for m in &rm.scope_metrics[0].metrics {
                assert_eq!(ring.owner(m.name.as_bytes()), Some(b));
                total += 1;
            }
        }
    }
    assert_eq!(total, 12);
}

/// A request of one sum metric under two services, `routes` points each with attributes
/// `route` and `code` (in the order `flip` says), points in `order`.
fn sums(routes: &[usize], flip: bool) -> Metrics {
    let point = |r: usize| {
        let mut a = vec![kv("route", &format!("/r{r}")), kv("code", "200")];
        if flip {
            a.reverse();
        }
        NumberDataPoint { attributes: a, value: Some(number_data_point::Value::AsInt(r as i64)), ..Default::default() }
    };
    let resource_metrics = ["api", "web"]
        .iter()
        .map(|svc| ResourceMetrics {
            resource: Some(Resource { attributes: vec![kv("service.name", svc)], ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "http.server.requests".into(),
                    unit: "{request}".into(),
                    data: Some(Data::Sum(Sum {
                        data_points: routes.iter().map(|&r| point(r)).collect(),
                        aggregation_temporality: 2,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Metrics::from_request(ExportMetricsServiceRequest { resource_metrics })
}

/// The backend of each stream (service, route) in `parts`; panics if one is on two.
fn stream_owners(parts: &[Metrics]) -> BTreeMap<(String, String), usize> {
    let mut owner = BTreeMap::new();
    for (b, p) in parts.iter().enumerate() {
        for m in walk::metrics(p.request()) {
            assert_eq!((m.metric.name.as_str(), m.metric.unit.as_str()), ("http.server.requests", "{request}"));
            let Some(Data::Sum(sum)) = &m.metric.data else { panic!("the sum keeps its type") };
            assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (2, true));
            let svc = attrs::get(m.resource.attributes(), "service.name").map(as_string).unwrap_or_default();
            for p in &sum.data_points {
                let route = attrs::get(&p.attributes, "route").map(as_string).unwrap_or_default();
                let prev = owner.insert((svc.to_string(), route.to_string()), b);
                assert!(prev.is_none_or(|x| x == b), "one stream on two backends");
            }
        }
    }
    owner
}

#[test]
fn metrics_by_stream_keep_each_stream_on_one_backend() {
    let ring = ring(3);
    let router = router(Signal::Metrics, "streamID", &[]);
    let routes: Vec<usize> = (0..20).collect();
    let first = stream_owners(&sums(&routes, false).partition(&router, &ring));
    assert_eq!(first.len(), 40, "2 services × 20 routes, no point lost");
    let used: BTreeSet<usize> = first.values().copied().collect();
    assert_eq!(used.len(), 3, "one metric's streams spread over every backend: {first:?}");
    // The next request: other order of points and of attributes, a subset of routes.
    let later: Vec<usize> = (0..20).rev().step_by(3).collect();
    let again = stream_owners(&sums(&later, true).partition(&router, &ring));
    assert_eq!(again.len(), 14);
    for (stream, b) in &again {
        assert_eq!(first.get(stream), Some(b), "stream {stream:?} moved between requests");
    }
    // The same route of two services is two streams: not always on the same backend.
    assert!((0..20).any(|r| first[&("api".into(), format!("/r{r}"))] != first[&("web".into(), format!("/r{r}"))]));
}

#[test]
fn routing_keys_are_checked_against_the_signal() {
    assert!(Router::new(Signal::Metrics, "traceID", &[]).is_err(), "metrics have no trace id");
    assert!(Router::new(Signal::Traces, "metric", &[]).is_err());
    assert!(Router::new(Signal::Metrics, "streamID", &[]).is_ok());
    assert!(Router::new(Signal::Traces, "streamID", &[]).unwrap_err().contains("cannot route traces"));
    assert!(Router::new(Signal::Logs, "service", &[]).is_ok());
    assert_eq!(Router::new(Signal::Metrics, "", &[]).map(|r| r.key).ok(), Some(super::RoutingKey::Service));
    assert_eq!(Router::new(Signal::Traces, "", &[]).map(|r| r.key).ok(), Some(super::RoutingKey::TraceId));
}

fn errors(yaml: &str) -> Vec<String> {
    let node = config::parse("t.yaml", yaml).expect("yaml");
    let cfg: LoadBalancingConfig = config::from_node(&node, "loadbalancing").expect("decodes");
    cfg.validate().into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect()
}

#[test]
fn config_mistakes_name_the_field() {
    assert_eq!(errors("resolver: {static: {hostnames: [a:4317]}}"), Vec::<String>::new());
    assert!(errors("routing_key: traceID").iter().any(|e| e.starts_with("resolver: no resolver")));
    assert!(errors("resolver: {static: {hostnames: [a:1]}, dns: {hostname: x}}")
        .iter()
        .any(|e| e.contains("exactly one")));
    assert!(errors("resolver: {aws_cloud_map: {namespace: n, service_name: s}}")
        .iter()
        .any(|e| e.starts_with("resolver::aws_cloud_map: the AWS Cloud Map resolver is not supported")));
    assert!(errors("resolver: {static: {hostnames: [a:1]}}\nrouting_key: traceid")
        .iter()
        .any(|e| e.contains("unknown routing key \"traceid\"") && e.contains("traceID")));
    assert!(errors("resolver: {dns: {hostname: x, port: 0}}").iter().any(|e| e.starts_with("resolver::dns::port")));
    assert!(errors("resolver: {static: {hostnames: [a:1]}}\nprotocol: {otlp: {compression: lz4}}")
        .iter()
        .any(|e| e.starts_with("protocol::otlp::compression")));
    let node = config::parse("t.yaml", "resolver: {static: {hostname: [a]}}").expect("yaml");
    assert!(config::from_node::<LoadBalancingConfig>(&node, "loadbalancing").is_err(), "unknown field refused");
}
