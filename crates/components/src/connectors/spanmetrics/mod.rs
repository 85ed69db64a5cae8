//! The `spanmetrics` connector (contrib `connector/spanmetricsconnector`, also spelled
//! `span_metrics`): Request, Error and Duration metrics from spans. Every span counts in
//! `traces.span.metrics.calls` and its duration goes into `traces.span.metrics.duration`
//! (explicit or exponential buckets, `ms` or `s`), per service, span name, kind, status code
//! and the configured dimensions; span events can be counted in `…events`. Metrics are
//! emitted every `metrics_flush_interval`, cumulative by default, one OTLP resource per
//! span resource, with the names, units and attributes the Collector emits, so the same
//! PromQL works after `prometheusremotewrite` (`traces_span_metrics_calls_total`,
//! `traces_span_metrics_duration_milliseconds_bucket`).
//!
//! The state lives on the task of core's stateful skeleton: spans are aggregated as they
//! arrive (the batch is accepted once queued) and the tick is the flush interval. A flush
//! also happens at shutdown, so what was counted is sent.

mod adjusted;
mod aggregator;
mod config;
mod dimensions;
#[cfg(test)]
mod tests;

pub use aggregator::SpanMetrics;
pub use config::{Dimension, SpanMetricsConnectorConfig, DEFAULT_NAMESPACE};

use switchyard_core::component::{BuildError, Component, ConnectorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, AnyRouter, RequestContext};
use switchyard_core::processorhelper::{create_stateful, Output, StatefulProcessor, StatefulSettings};
use switchyard_pdata::{Metrics, Signal, SignalData, Traces};
use tokio::time::Instant;

use crate::connectors::metricagg::now_unix_nanos;

/// The Collector type string.
pub const TYPE: &str = "spanmetrics";
/// The newer spelling (the Collector's `span_metrics`, with `spanmetrics` deprecated).
pub const ALIASES: &[&str] = &["span_metrics"];

/// Creates spanmetrics connectors.
pub struct SpanMetricsConnectorFactory;

impl ConnectorFactory for SpanMetricsConnectorFactory {
    type Config = SpanMetricsConnectorConfig;
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
        cfg: &SpanMetricsConnectorConfig,
        from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let next = crate::connectors::metricagg::spans_to_metrics(&set, TYPE, from, next)?;
        if cfg.dimensions_cache_size != 0 {
            tracing::warn!(
                connector = %set.id,
                "dimensions_cache_size is deprecated and ignored, please use aggregation_cardinality_limit instead."
            );
        }
        let state = SpanMetrics::new(cfg, switchyard_core::telemetry::instance_id());
        let opts = StatefulSettings { tick: Some(cfg.metrics_flush_interval), ..StatefulSettings::default() };
        let state = Connector { state, held: 0, series: 0 };
        let (input, component) = create_stateful(&set, state, opts, next);
        Ok((AnyConsumer::Traces(input), Some(component)))
    }
}

/// The state on the skeleton's task: aggregate on every batch, flush on every tick.
struct Connector {
    state: SpanMetrics,
    /// Bytes held, measured (a walk over every series) at each flush and whenever the
    /// number of series changed, not after every batch.
    held: usize,
    series: usize,
}

impl Connector {
    fn emit(&mut self, out: &mut Output<Metrics>, last: bool) {
        if let Some(req) = self.state.flush(now_unix_nanos(), last) {
            out.send(RequestContext::default(), Metrics::from_request(req));
        }
        self.measure();
    }

    fn measure(&mut self) {
        self.series = self.state.series_count();
        self.held = self.state.held_bytes();
    }
}

impl StatefulProcessor for Connector {
    type In = Traces;
    type Out = Metrics;
    fn consume(&mut self, _cx: RequestContext, data: Traces, _out: &mut Output<Metrics>) {
        self.state.aggregate(data.request(), now_unix_nanos());
        if self.state.series_count() != self.series {
            self.measure();
        }
    }
    fn tick(&mut self, _now: Instant, out: &mut Output<Metrics>) {
        self.emit(out, false);
    }
    fn flush(&mut self, out: &mut Output<Metrics>) {
        self.emit(out, true);
    }
    fn held_bytes(&self) -> usize {
        self.held
    }
}
