//! The `filter` processor (the Collector contrib `filterprocessor`): drops spans, span
//! events, metrics, data points, log records, or whole resources and scopes, chosen by
//! OTTL conditions (an item matching any condition is dropped) or by the legacy
//! `include`/`exclude` match properties. What is left empty is pruned; a batch left with
//! nothing is not forwarded.
//!
//! Counts what it drops in `otelcol_processor_filter_{spans,logs,datapoints}_filtered`
//! (label `filter` = the processor id, as upstream).

mod config;
mod plan;
mod process;
#[cfg(test)]
mod tests;

pub use config::{ConditionGroup, ConditionsEntry, FilterProcessorConfig, LogFilters, MetricFilters, TraceFilters};

use switchyard_core::component::{BuildError, Component, FieldError, ProcessorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, RequestContext};
use switchyard_core::processorhelper::{create_stateless, ProcessError, SignalProcessor};
use switchyard_core::telemetry::{names, Counter};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::Signal;

use crate::ottl::OttlErrorReporter;
use plan::Plans;
use process::{count_data_points, count_log_records, count_spans, Evaluator};

/// The Collector type string.
pub const TYPE: &str = "filter";

/// Creates filter processors.
pub struct FilterProcessorFactory;

impl ProcessorFactory for FilterProcessorFactory {
    type Config = FilterProcessorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Traces | Signal::Metrics | Signal::Logs => Some(Stability::Alpha),
            Signal::Profiles => None,
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &FilterProcessorConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let processor = FilterProcessor::new(&set, cfg).map_err(|errors| {
            let text: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            BuildError::new(&set, text.join("; "))
        })?;
        create_stateless(&set, processor, next)
    }
}

/// One filter processor instance.
pub struct FilterProcessor {
    plans: Plans,
    reporter: OttlErrorReporter,
    spans_filtered: Counter,
    logs_filtered: Counter,
    points_filtered: Counter,
}

impl FilterProcessor {
    /// Compiles `cfg` and registers the self-metrics of `set.id`.
    pub fn new(set: &Settings, cfg: &FilterProcessorConfig) -> Result<Self, Vec<FieldError>> {
        let plans = Plans::compile(cfg)?;
        let id = set.id.to_string();
        let labels = [("filter", id.as_str())];
        let m = &set.telemetry.metrics;
        Ok(FilterProcessor {
            plans,
            reporter: OttlErrorReporter::new(&set.telemetry, &set.id),
            spans_filtered: m.counter(
                names::PROCESSOR_FILTER_SPANS_FILTERED,
                "Number of spans dropped by the filter processor",
                &labels,
            ),
            logs_filtered: m.counter(
                names::PROCESSOR_FILTER_LOGS_FILTERED,
                "Number of logs dropped by the filter processor",
                &labels,
            ),
            points_filtered: m.counter(
                names::PROCESSOR_FILTER_DATAPOINTS_FILTERED,
                "Number of metric data points dropped by the filter processor",
                &labels,
            ),
        })
    }
}

impl SignalProcessor for FilterProcessor {
    fn process_traces(&self, _cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        if !self.plans.filters_traces() {
            return Ok(());
        }
        let before = count_spans(req);
        let mut ev = Evaluator::new(&self.reporter);
        self.plans.filter_traces(req, &mut ev);
        self.spans_filtered.add(before.saturating_sub(count_spans(req)) as u64);
        ev.finish().map_err(ProcessError::permanent)
    }

    fn process_metrics(&self, _cx: &RequestContext, req: &mut ExportMetricsServiceRequest) -> Result<(), ProcessError> {
        if !self.plans.filters_metrics() {
            return Ok(());
        }
        let before = count_data_points(req);
        let mut ev = Evaluator::new(&self.reporter);
        self.plans.filter_metrics(req, &mut ev);
        self.points_filtered.add(before.saturating_sub(count_data_points(req)) as u64);
        ev.finish().map_err(ProcessError::permanent)
    }

    fn process_logs(&self, _cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        if !self.plans.filters_logs() {
            return Ok(());
        }
        let before = count_log_records(req);
        let mut ev = Evaluator::new(&self.reporter);
        self.plans.filter_logs(req, &mut ev);
        self.logs_filtered.add(before.saturating_sub(count_log_records(req)) as u64);
        ev.finish().map_err(ProcessError::permanent)
    }
}
