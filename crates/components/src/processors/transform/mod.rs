//! The `transform` processor: OTTL statements that change traces, metrics and logs in
//! place (contrib processor/transformprocessor).
//!
//! Statements are compiled once when the pipeline is built (config validation already
//! compiled them, so a bad statement never gets this far); per request each group walks its
//! context's items in order. Errors at run time follow `error_mode`: `ignore` skips the
//! statement for that item and reports it (throttled log, `switchyard_processor_ottl_errors`),
//! `propagate` fails the request with the statement in the message.

mod config;
#[cfg(test)]
mod tests;

pub use config::{GroupConfig, StatementsItem, TransformProcessorConfig};

use switchyard_core::component::{BuildError, Component, ProcessorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, RequestContext};
use switchyard_core::processorhelper::{create_stateless, ProcessError, SignalProcessor};
use switchyard_ottl::eval::StatementGroup;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::Signal;

use crate::ottl::OttlErrorReporter;

/// The Collector type string.
pub const TYPE: &str = "transform";

/// Creates transform processors.
pub struct TransformProcessorFactory;

impl ProcessorFactory for TransformProcessorFactory {
    type Config = TransformProcessorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Profiles => None,
            _ => Some(Stability::Beta),
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &TransformProcessorConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let compile = |signal| {
            cfg.compile(signal).map_err(|errors| {
                let messages: Vec<String> = errors.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
                BuildError::new(&set, messages.join("; "))
            })
        };
        let processor = TransformProcessor {
            traces: compile(switchyard_ottl::Signal::Traces)?,
            metrics: compile(switchyard_ottl::Signal::Metrics)?,
            logs: compile(switchyard_ottl::Signal::Logs)?,
            errors: OttlErrorReporter::new(&set.telemetry, &set.id),
        };
        create_stateless(&set, processor, next)
    }
}

/// The compiled statement groups of each signal.
pub struct TransformProcessor {
    traces: Vec<StatementGroup>,
    metrics: Vec<StatementGroup>,
    logs: Vec<StatementGroup>,
    errors: OttlErrorReporter,
}

impl SignalProcessor for TransformProcessor {
    fn process_traces(&self, _cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        for g in &self.traces {
            g.run_traces(req, &mut |e, t| self.errors.report(e, t))
                .map_err(|e| ProcessError::permanent(e.to_string()))?;
        }
        Ok(())
    }

    fn process_metrics(&self, _cx: &RequestContext, req: &mut ExportMetricsServiceRequest) -> Result<(), ProcessError> {
        for g in &self.metrics {
            g.run_metrics(req, &mut |e, t| self.errors.report(e, t))
                .map_err(|e| ProcessError::permanent(e.to_string()))?;
        }
        Ok(())
    }

    fn process_logs(&self, _cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        for g in &self.logs {
            g.run_logs(req, &mut |e, t| self.errors.report(e, t))
                .map_err(|e| ProcessError::permanent(e.to_string()))?;
        }
        Ok(())
    }
}
