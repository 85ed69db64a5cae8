//! The service graph: spans paired into edges through the [`Store`], completed edges
//! aggregated into series keyed by (client, server, connection type, failed, dimensions),
//! and the series flushed as the Collector's four metrics. Expired edges are counted and,
//! as the Collector's (default-on) `virtualNode` gate does, completed with a virtual peer:
//! `user` for a root server span, the client span's peer attribute (or `unknown`) for a
//! client span whose server never reported.
//!
//! Times are passed in (Unix nanoseconds), so the logic is tested without a clock.

use switchyard_core::telemetry::Counter;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::{ResourceMetrics, ScopeMetrics};
use switchyard_pdata::proto::trace::v1::{span::SpanKind, status::StatusCode, Span};
use switchyard_pdata::value::{as_string, str_value};

use super::config::{ServiceGraphConnectorConfig, DEFAULT_BUCKETS_SECONDS};
use super::store::{ConnectionType, Edge, Key, Store, Upserted};
use crate::connectors::metricagg::config::in_unit;
use crate::connectors::metricagg::{
    histogram_metric, histogram_point, key_part, number_point, sum_metric, Histogram, HistogramPoints, HistogramSpec,
    Series, SeriesMap, Temporality,
};

/// The scope of the emitted metrics.
pub const SCOPE_NAME: &str = "traces_service_graph";
/// Requests between two nodes.
pub const REQUEST_TOTAL: &str = "traces_service_graph_request_total";
/// Failed requests between two nodes.
pub const REQUEST_FAILED_TOTAL: &str = "traces_service_graph_request_failed_total";
/// Request duration seen by the server (unit `s`: `…_server_seconds` in Prometheus).
pub const REQUEST_SERVER: &str = "traces_service_graph_request_server";
/// Request duration seen by the client (unit `s`: `…_client_seconds` in Prometheus).
pub const REQUEST_CLIENT: &str = "traces_service_graph_request_client";
/// A series not updated for this long is dropped (the Collector's fixed 15 minutes).
const STALE_SERIES_NANOS: u64 = 15 * 60 * 1_000_000_000;

/// The connector's self-metrics.
#[derive(Clone, Default)]
pub struct Counters {
    /// Spans that could not wait in a full store.
    pub dropped_spans: Counter,
    /// Edges that expired before their other half arrived.
    pub expired_edges: Counter,
    /// Edges created.
    pub total_edges: Counter,
}

/// One series: counts and both latency histograms.
#[derive(Clone, Debug)]
pub struct EdgeSeries {
    total: u64,
    failed: u64,
    server: Histogram,
    client: Histogram,
}

/// The connector's state.
pub struct ServiceGraph {
    dimensions: Vec<String>,
    peer_attributes: Vec<String>,
    database_attributes: Vec<String>,
    extra_label: bool,
    spec: HistogramSpec,
    timestamp_offset: u64,
    start: u64,
    store: Store,
    series: SeriesMap<EdgeSeries>,
    counters: Counters,
    key: String,
}

impl ServiceGraph {
    /// State for `cfg`, started at `now`.
    pub fn new(cfg: &ServiceGraphConnectorConfig, counters: Counters, now: u64) -> Self {
        let spec = if cfg.latency_histogram_buckets.is_empty() && cfg.exponential_histogram_max_size > 0 {
            HistogramSpec::Exponential { max_size: usize::try_from(cfg.exponential_histogram_max_size).unwrap_or(160) }
        } else if cfg.latency_histogram_buckets.is_empty() {
            HistogramSpec::Explicit(DEFAULT_BUCKETS_SECONDS.into())
        } else {
            HistogramSpec::Explicit(cfg.latency_histogram_buckets.iter().map(|d| in_unit(*d, true)).collect())
        };
        ServiceGraph {
            dimensions: cfg.dimensions.clone(),
            peer_attributes: cfg.peer_attributes(),
            database_attributes: cfg.database_name_attributes(),
            extra_label: cfg.virtual_node_extra_label,
            spec,
            timestamp_offset: nanos(cfg.metrics_timestamp_offset),
            start: now,
            store: Store::new(nanos(cfg.store.ttl), usize::try_from(cfg.store.max_items).unwrap_or(1).max(1)),
            series: SeriesMap::new(0),
            counters,
            key: String::new(),
        }
    }

    /// Pairs the client/server (producer/consumer) spans of `req` seen at `now`; spans of
    /// a resource without `service.name` are skipped, as in the Collector.
    pub fn consume(&mut self, req: &ExportTraceServiceRequest, now: u64) {
        let mut completed = Vec::new();
        let mut expired = Vec::new();
        for rs in &req.resource_spans {
            let resource = rs.resource.as_ref().map_or(&[][..], |r| r.attributes.as_slice());
            let Some(service) = attrs::get(resource, "service.name") else { continue };
            let service = match &service.value {
                Some(any_value::Value::StringValue(s)) => s.as_str(),
                _ => "",
            };
            for span in rs.scope_spans.iter().flat_map(|ss| &ss.spans) {
                let outcome = match SpanKind::try_from(span.kind) {
                    Ok(SpanKind::Client) => {
                        self.client_side(span, service, resource, ConnectionType::Unknown, now, &mut expired)
                    }
                    Ok(SpanKind::Producer) => {
                        self.client_side(span, service, resource, ConnectionType::MessagingSystem, now, &mut expired)
                    }
                    Ok(SpanKind::Server) => {
                        self.server_side(span, service, resource, ConnectionType::Unknown, now, &mut expired)
                    }
                    Ok(SpanKind::Consumer) => {
                        self.server_side(span, service, resource, ConnectionType::MessagingSystem, now, &mut expired)
                    }
                    _ => continue,
                };
                match outcome {
                    Upserted::Full => self.counters.dropped_spans.add(1),
                    Upserted::Waiting { new } => {
                        if new {
                            self.counters.total_edges.add(1);
                        }
                    }
                    Upserted::Complete { edge, new } => {
                        if new {
                            self.counters.total_edges.add(1);
                        }
                        completed.push(edge);
                    }
                }
            }
        }
        for edge in completed {
            self.aggregate(&edge, now);
        }
        for edge in expired {
            self.on_expire(edge, now);
        }
    }

    fn client_side(
        &mut self,
        span: &Span,
        service: &str,
        resource: &[KeyValue],
        connection_type: ConnectionType,
        now: u64,
        expired: &mut Vec<Edge>,
    ) -> Upserted {
        let key = Key::new(&span.trace_id, &span.span_id);
        let (dims, peers, dbs) = (&self.dimensions, &self.peer_attributes, &self.database_attributes);
        self.store.upsert(key, now, expired, |e| {
            e.connection_type = connection_type;
            e.client = service.to_string();
            e.client_latency = seconds(span);
            e.failed |= failed(span);
            upsert_dimensions(e, "client", dims, resource, &span.attributes);
            if let Some(found) = peers
                .iter()
                .find_map(|p| attrs::get(&span.attributes, p).map(|v| (p.clone(), as_string(v).into_owned())))
            {
                e.peer = Some(found);
            }
            // A database call has only this span: the server is the database it names.
            let db = dbs.iter().find_map(|a| attrs::get(resource, a).or_else(|| attrs::get(&span.attributes, a)));
            if let Some(db) = db {
                e.connection_type = ConnectionType::Database;
                e.server = as_string(db).into_owned();
                e.server_latency = seconds(span);
            }
        })
    }

    fn server_side(
        &mut self,
        span: &Span,
        service: &str,
        resource: &[KeyValue],
        connection_type: ConnectionType,
        now: u64,
        expired: &mut Vec<Edge>,
    ) -> Upserted {
        let key = Key::new(&span.trace_id, &span.parent_span_id);
        let dims = &self.dimensions;
        self.store.upsert(key, now, expired, |e| {
            e.connection_type = connection_type;
            e.server = service.to_string();
            e.server_latency = seconds(span);
            e.failed |= failed(span);
            upsert_dimensions(e, "server", dims, resource, &span.attributes);
        })
    }

    /// An edge whose other half never came: counted, then completed with a virtual peer
    /// when peer attributes are configured.
    fn on_expire(&mut self, mut e: Edge, now: u64) {
        self.counters.expired_edges.add(1);
        if self.peer_attributes.is_empty() {
            return;
        }
        e.connection_type = ConnectionType::VirtualNode;
        if e.client.is_empty() && e.key.span_id_is_empty() {
            e.client = "user".into();
            if self.extra_label {
                e.virtual_node = "client";
            }
            self.aggregate(&e, now);
        }
        if e.server.is_empty() {
            e.server = e.peer.as_ref().map_or_else(|| "unknown".to_string(), |(_, value)| value.clone());
            if self.extra_label {
                e.virtual_node = "server";
            }
            self.aggregate(&e, now);
        }
    }

    /// Counts a complete edge into its series.
    fn aggregate(&mut self, e: &Edge, now: u64) {
        let key = &mut self.key;
        key.clear();
        key_part(key, &e.client);
        key_part(key, &e.server);
        key_part(key, e.connection_type.as_str());
        key_part(key, if e.failed { "true" } else { "false" });
        for dim in &self.dimensions {
            for side in ["client", "server"] {
                let name = format!("{side}_{dim}");
                if let Some((_, v)) = e.dimensions.iter().find(|(k, _)| *k == name) {
                    key_part(key, &format!("{name}_{v}"));
                }
            }
        }
        let extra = self.extra_label;
        let spec = &self.spec;
        let (series, _) = self.series.entry(
            key,
            now,
            || edge_attributes(e, extra),
            || EdgeSeries { total: 0, failed: 0, server: spec.new_histogram(), client: spec.new_histogram() },
        );
        // The Collector overwrites a series' attributes with the latest edge's.
        series.attributes = edge_attributes(e, extra);
        series.value.total += 1;
        if e.failed {
            series.value.failed += 1;
        }
        series.value.server.observe(e.server_latency, 1);
        series.value.client.observe(e.client_latency, 1);
    }

    /// Sweeps the store: expired edges are counted and possibly become virtual-node edges.
    pub fn expire(&mut self, now: u64) {
        for e in self.store.expire(now) {
            self.on_expire(e, now);
        }
    }

    /// Drops series not updated for 15 minutes.
    pub fn clean_series(&mut self, now: u64) {
        self.series.expire(now.saturating_sub(STALE_SERIES_NANOS));
    }

    /// The metrics of every series as of `now` (cumulative since the start); `None`
    /// when there is none.
    pub fn flush(&self, now: u64) -> Option<ExportMetricsServiceRequest> {
        if self.series.is_empty() {
            return None;
        }
        let time = now.saturating_sub(self.timestamp_offset);
        let start = self.start;
        let count = |s: &Series<EdgeSeries>, v: u64| number_point(s.attributes.clone(), start, time, v, Vec::new());
        let total = self.series.iter().map(|(_, s)| count(s, s.value.total)).collect();
        let failed: Vec<_> =
            self.series.iter().filter(|(_, s)| s.value.failed > 0).map(|(_, s)| count(s, s.value.failed)).collect();
        let histogram = |side: fn(&EdgeSeries) -> &Histogram| {
            let mut points = HistogramPoints::default();
            for (_, s) in self.series.iter() {
                points.push(histogram_point(side(&s.value), s.attributes.clone(), start, time, Vec::new()));
            }
            points
        };
        let mut metrics = vec![sum_metric(REQUEST_TOTAL.into(), "", Temporality::Cumulative, total)];
        if !failed.is_empty() {
            metrics.push(sum_metric(REQUEST_FAILED_TOTAL.into(), "", Temporality::Cumulative, failed));
        }
        metrics.push(histogram_metric(REQUEST_SERVER.into(), "s", Temporality::Cumulative, histogram(|v| &v.server)));
        metrics.push(histogram_metric(REQUEST_CLIENT.into(), "s", Temporality::Cumulative, histogram(|v| &v.client)));
        Some(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Default::default()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope { name: SCOPE_NAME.into(), ..Default::default() }),
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    }

    /// Edges waiting in the store.
    pub fn pending_edges(&self) -> usize {
        self.store.len()
    }

    /// Series held.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Approximate bytes of the store: constant time.
    pub fn store_bytes(&self) -> usize {
        self.store.len() * 256
    }

    /// Approximate bytes of the series: a walk over them.
    pub fn series_bytes(&self) -> usize {
        self.series.approx_bytes(|v| v.server.heap_bytes() + v.client.heap_bytes())
    }
}

/// `client`, `server`, `connection_type`, `failed`, the dimensions (by name), and
/// `virtual_node` when the extra label is on.
fn edge_attributes(e: &Edge, extra_label: bool) -> Vec<KeyValue> {
    let kv = |k: &str, v: AnyValue| KeyValue { key: k.into(), value: Some(v), ..Default::default() };
    let mut out = vec![
        kv("client", str_value(e.client.clone())),
        kv("server", str_value(e.server.clone())),
        kv("connection_type", str_value(e.connection_type.as_str())),
        kv("failed", AnyValue { value: Some(any_value::Value::BoolValue(e.failed)) }),
    ];
    let mut dims: Vec<&(String, String)> = e.dimensions.iter().collect();
    dims.sort();
    out.extend(dims.into_iter().map(|(k, v)| kv(k, str_value(v.clone()))));
    if extra_label {
        out.push(kv("virtual_node", str_value(e.virtual_node)));
    }
    out
}

/// Sets `<side>_<dim>` from the resource, else the span (the Collector's lookup order).
fn upsert_dimensions(e: &mut Edge, side: &str, dims: &[String], resource: &[KeyValue], span: &[KeyValue]) {
    for dim in dims {
        if let Some(v) = attrs::get(resource, dim).or_else(|| attrs::get(span, dim)) {
            e.set_dimension(format!("{side}_{dim}"), as_string(v).into_owned());
        }
    }
}

fn failed(span: &Span) -> bool {
    span.status.as_ref().is_some_and(|s| s.code == StatusCode::Error as i32)
}

fn seconds(span: &Span) -> f64 {
    span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano) as f64 / 1e9
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
