//! The `servicegraph` connector (contrib `connector/servicegraphconnector`, also spelled
//! `service_graph`): pairs each client span with the server span it called (and each
//! producer with its consumer) within a trace, and emits the edges between services as
//! `traces_service_graph_request_total`, `…_request_failed_total` and the latency
//! histograms `…_request_server` / `…_request_client` (seconds, so
//! `traces_service_graph_request_server_seconds` in Prometheus), labelled `client`,
//! `server`, `connection_type`, `failed` and the configured dimensions. A client span
//! naming a database (`db.name`) is an edge to that database on its own.
//!
//! Both halves of a request must reach the same gateway (load-balance by trace id in
//! front); a half waits in the store for `store.ttl`, then counts as an expired edge and,
//! as in the Collector, may complete with a virtual peer. The state lives on the task of
//! core's stateful skeleton; its tick drives the metrics flush, the store sweep and the
//! stale-series cleanup at their own intervals.

mod config;
mod graph;
mod store;
#[cfg(test)]
mod tests;

pub use config::{ServiceGraphConnectorConfig, StoreConfig};
pub use graph::{
    Counters, ServiceGraph, REQUEST_CLIENT, REQUEST_FAILED_TOTAL, REQUEST_SERVER, REQUEST_TOTAL, SCOPE_NAME,
};

use std::time::Duration;

use switchyard_core::component::{BuildError, Component, ConnectorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, AnyRouter, RequestContext};
use switchyard_core::processorhelper::{create_stateful, Output, StatefulProcessor, StatefulSettings};
use switchyard_pdata::{Metrics, Signal, SignalData, Traces};
use tokio::time::Instant;

use crate::connectors::metricagg::now_unix_nanos;

/// The Collector type string.
pub const TYPE: &str = "servicegraph";
/// The newer spelling (the Collector's `service_graph`).
pub const ALIASES: &[&str] = &["service_graph"];

/// Self-metric: spans dropped because the store was full (the Collector's name).
pub const DROPPED_SPANS: &str = "otelcol_connector_servicegraph_dropped_spans";
/// Self-metric: edges that expired before their other half arrived (unpaired).
pub const EXPIRED_EDGES: &str = "otelcol_connector_servicegraph_expired_edges";
/// Self-metric: edges created.
pub const TOTAL_EDGES: &str = "otelcol_connector_servicegraph_total_edges";

/// Creates servicegraph connectors.
pub struct ServiceGraphConnectorFactory;

impl ConnectorFactory for ServiceGraphConnectorFactory {
    type Config = ServiceGraphConnectorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        ALIASES
    }
    fn stability(&self, from: Signal, to: Signal) -> Option<Stability> {
        (from == Signal::Traces && to == Signal::Metrics).then_some(Stability::Alpha)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &ServiceGraphConnectorConfig,
        from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let next = crate::connectors::metricagg::spans_to_metrics(&set, TYPE, from, next)?;
        if cfg.metrics_flush_interval.is_zero() {
            tracing::warn!(connector = %set.id, "metrics_flush_interval is 0: metrics are flushed on every batch of spans.");
        }
        let id = set.id.to_string();
        let l = [("connector", id.as_str())];
        let m = &set.telemetry.metrics;
        let counters = Counters {
            dropped_spans: m.counter(DROPPED_SPANS, "Number of spans dropped when trying to add edges", &l),
            expired_edges: m.counter(
                EXPIRED_EDGES,
                "Number of edges that expired before finding its matching span",
                &l,
            ),
            total_edges: m.counter(TOTAL_EDGES, "Total number of unique edges", &l),
        };
        let loops = Loops::new(cfg);
        let opts = StatefulSettings { tick: Some(loops.tick()), ..StatefulSettings::default() };
        let now = now_unix_nanos();
        let graph = ServiceGraph::new(cfg, counters, now);
        let state = Connector { graph, loops, due: Due::starting(now, &loops), series_bytes: 0, series: 0 };
        let (input, component) = create_stateful(&set, state, opts, next);
        Ok((AnyConsumer::Traces(input), Some(component)))
    }
}

/// The three periodic jobs, in nanoseconds (flush 0 = after every batch).
#[derive(Clone, Copy, Debug)]
struct Loops {
    flush: u64,
    expire: u64,
    clean: u64,
}

impl Loops {
    fn new(cfg: &ServiceGraphConnectorConfig) -> Loops {
        let ns = |d: Duration, default: Duration| {
            let d = if d.is_zero() { default } else { d };
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
        };
        Loops {
            flush: u64::try_from(cfg.metrics_flush_interval.as_nanos()).unwrap_or(u64::MAX),
            expire: ns(cfg.store_expiration_loop, Duration::from_secs(2)),
            clean: ns(cfg.cache_loop, Duration::from_secs(60)),
        }
    }

    /// The skeleton's tick: the shortest job period.
    fn tick(&self) -> Duration {
        let mut t = self.expire.min(self.clean);
        if self.flush > 0 {
            t = t.min(self.flush);
        }
        Duration::from_nanos(t.max(1_000_000))
    }
}

/// When each job runs next (Unix nanoseconds).
struct Due {
    flush: u64,
    expire: u64,
    clean: u64,
}

impl Due {
    fn starting(now: u64, l: &Loops) -> Due {
        Due {
            flush: now.saturating_add(l.flush),
            expire: now.saturating_add(l.expire),
            clean: now.saturating_add(l.clean),
        }
    }
}

/// The state on the skeleton's task.
struct Connector {
    graph: ServiceGraph,
    loops: Loops,
    due: Due,
    /// Bytes of the series, measured (a walk over them) at each flush and whenever their
    /// number changed, not after every batch.
    series_bytes: usize,
    series: usize,
}

impl Connector {
    fn emit(&mut self, now: u64, out: &mut Output<Metrics>) {
        if let Some(req) = self.graph.flush(now) {
            out.send(RequestContext::default(), Metrics::from_request(req));
        }
        self.measure();
    }

    fn measure(&mut self) {
        self.series = self.graph.series_count();
        self.series_bytes = self.graph.series_bytes();
    }
}

impl StatefulProcessor for Connector {
    type In = Traces;
    type Out = Metrics;
    fn consume(&mut self, _cx: RequestContext, data: Traces, out: &mut Output<Metrics>) {
        let now = now_unix_nanos();
        self.graph.consume(data.request(), now);
        if self.loops.flush == 0 {
            self.emit(now, out);
        } else if self.graph.series_count() != self.series {
            self.measure();
        }
    }
    /// Runs whichever jobs are due; a job late by a tick runs once, then keeps its period.
    fn tick(&mut self, _now: Instant, out: &mut Output<Metrics>) {
        let now = now_unix_nanos();
        // Slack of 1 ms: ticks and the wall clock drift apart by microseconds.
        let due = |at: u64| now.saturating_add(1_000_000) >= at;
        if due(self.due.expire) {
            self.graph.expire(now);
            self.due.expire = now.saturating_add(self.loops.expire);
        }
        if self.loops.flush > 0 && due(self.due.flush) {
            self.emit(now, out);
            self.due.flush = now.saturating_add(self.loops.flush);
        }
        if due(self.due.clean) {
            self.graph.clean_series(now);
            self.due.clean = now.saturating_add(self.loops.clean);
            self.measure();
        }
    }
    /// Shutdown: what was counted is sent; halves still waiting are logged, not counted.
    fn flush(&mut self, out: &mut Output<Metrics>) {
        let pending = self.graph.pending_edges();
        if pending > 0 {
            tracing::info!(pending_edges = pending, "Service graph shutting down with unpaired spans still waiting.");
        }
        self.emit(now_unix_nanos(), out);
    }
    fn held_bytes(&self) -> usize {
        self.graph.store_bytes() + self.series_bytes
    }
}
