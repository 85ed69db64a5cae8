//! The `count` connector: counts the spans, span events, metrics, data points, log records
//! and profiles of the pipelines it exports for, and emits the counts as metrics into the
//! pipelines it receives for (contrib `connector/countconnector`, v0.159).
//!
//! Each configured metric counts the items one of whose OTTL `conditions` holds (all items
//! without conditions), one data point per distinct set of its `attributes`. Every batch in
//! gives one batch out: per input resource, a delta, monotonic integer `Sum` per metric,
//! stamped with the earliest and latest item timestamps of that resource.

mod config;
mod counter;
mod signals;
#[cfg(test)]
mod tests;

pub use config::{AttributeConfig, CountConnectorConfig, Counted, DefaultValue, MetricInfo};
pub use counter::SCOPE_NAME;

use std::sync::Arc;

use futures::future::BoxFuture;
use switchyard_core::component::{BuildError, Component, ConnectorFactory, FieldError, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, AnyRouter, ConsumeError, Consumer, DynConsumer, RequestContext};
use switchyard_ottl::Component as OttlComponent;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, SignalData, Traces};

use crate::ottl::{compile_condition, OttlErrorReporter};
use counter::MetricDef;
use signals::{Countable, Counting};

/// The Collector type string.
pub const TYPE: &str = "count";

/// Creates count connectors.
pub struct CountConnectorFactory;

impl ConnectorFactory for CountConnectorFactory {
    type Config = CountConnectorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    /// Every signal into metrics. Upstream lists its pairs as unmaintained now, development
    /// before; Switchyard has no unmaintained level, so development.
    fn stability(&self, _from: Signal, to: Signal) -> Option<Stability> {
        (to == Signal::Metrics).then_some(Stability::Development)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &CountConnectorConfig,
        from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let AnyRouter::Metrics(router) = next else {
            return Err(BuildError::new(&set, format!("count emits metrics, not {}", next.signal())));
        };
        let next = router.all().clone();
        let defs = |kind: Counted| compile(&set, cfg, kind);
        let counting = |first: Vec<MetricDef>, second: Vec<MetricDef>| Counting {
            first,
            second,
            reporter: OttlErrorReporter::new(&set.telemetry, &set.id),
        };
        let consumer = match from {
            Signal::Traces => AnyConsumer::Traces(consumer::<Traces>(
                counting(defs(Counted::Spans)?, defs(Counted::SpanEvents)?),
                next,
            )),
            Signal::Metrics => AnyConsumer::Metrics(consumer::<Metrics>(
                counting(defs(Counted::Metrics)?, defs(Counted::DataPoints)?),
                next,
            )),
            Signal::Logs => AnyConsumer::Logs(consumer::<Logs>(counting(defs(Counted::Logs)?, Vec::new()), next)),
            Signal::Profiles => {
                AnyConsumer::Profiles(consumer::<Profiles>(counting(defs(Counted::Profiles)?, Vec::new()), next))
            }
        };
        Ok((consumer, None))
    }
}

/// The metrics counting `kind`, their conditions compiled (the config was validated, so an
/// error here is unexpected but still reported, never a panic).
fn compile(set: &Settings, cfg: &CountConnectorConfig, kind: Counted) -> Result<Vec<MetricDef>, BuildError> {
    let fail = |e: Vec<FieldError>| {
        BuildError::new(
            set,
            e.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
        )
    };
    let mut defs = Vec::new();
    for (name, info) in cfg.metrics_for(kind) {
        let mut conditions = Vec::new();
        for (i, c) in info.conditions.iter().enumerate() {
            let field = format!("{}::{name}::conditions::{i}", kind.key());
            conditions.push(compile_condition(&field, c, kind.context(), OttlComponent::Count).map_err(fail)?);
        }
        let attributes =
            info.attributes.iter().map(|a| (a.key.clone(), a.default_value.as_ref().and_then(DefaultValue::value)));
        defs.push(MetricDef { name, description: info.description, attributes: attributes.collect(), conditions });
    }
    Ok(defs)
}

fn consumer<S: Countable>(counting: Counting, next: DynConsumer<Metrics>) -> DynConsumer<S> {
    Arc::new(CountConsumer { counting, next })
}

/// One connector instance: counts each batch of its input signal and hands the counts to
/// the metrics pipelines it feeds. It only reads the batch (see `signals` for when it copies).
struct CountConsumer {
    counting: Counting,
    next: DynConsumer<Metrics>,
}

impl<S: Countable> Consumer<S> for CountConsumer {
    /// Counts synchronously, then awaits the metrics pipelines; their error (backpressure, a
    /// refused export) is the caller's, as upstream returns `ConsumeMetrics`' error. A batch
    /// that counted nothing sends nothing.
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let resource_metrics = S::count(data, &self.counting);
            if resource_metrics.is_empty() {
                return Ok(());
            }
            self.next.consume(cx, Metrics::from_request(ExportMetricsServiceRequest { resource_metrics })).await
        })
    }
}
