//! The `attributes` processor (the Collector contrib `attributesprocessor`): runs the
//! shared attribute actions ([`crate::attraction`]) on span attributes, log record
//! attributes and metric data point attributes, for the items selected by the legacy
//! `include`/`exclude` match properties ([`crate::filterconfig`]). Items are changed in
//! place; nothing is dropped.

mod config;
#[cfg(test)]
mod tests;

pub use config::AttributesProcessorConfig;

use switchyard_core::component::{BuildError, Component, FieldError, ProcessorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, RequestContext};
use switchyard_core::processorhelper::{create_stateless, ProcessError, SignalProcessor};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::metrics::v1::{metric::Data, Metric};
use switchyard_pdata::walk;
use switchyard_pdata::Signal;

use crate::attraction::AttrProc;
use crate::filterconfig::logs::LogSkip;
use crate::filterconfig::metrics::MetricSkip;
use crate::filterconfig::spans::SpanSkip;

/// The Collector type string.
pub const TYPE: &str = "attributes";

/// Creates attributes processors.
pub struct AttributesProcessorFactory;

impl ProcessorFactory for AttributesProcessorFactory {
    type Config = AttributesProcessorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Traces | Signal::Metrics | Signal::Logs => Some(Stability::Beta),
            Signal::Profiles => None,
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &AttributesProcessorConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let processor = AttributesProcessor::new(cfg, next.signal()).map_err(|errors| {
            let text: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            BuildError::new(&set, text.join("; "))
        })?;
        create_stateless(&set, processor, next)
    }
}

/// Which items of its signal one instance processes.
#[derive(Debug)]
enum Skip {
    None,
    Spans(SpanSkip),
    Logs(LogSkip),
    Metrics(MetricSkip),
}

/// One attributes processor instance (one per pipeline, so one signal).
#[derive(Debug)]
pub struct AttributesProcessor {
    actions: AttrProc,
    skip: Skip,
}

impl AttributesProcessor {
    /// Compiles `cfg` for `signal`, with that signal's `include`/`exclude` rules
    /// (`ValidateForSpans`, `ValidateForLogs`; metrics look at `metric_names` only).
    pub fn new(cfg: &AttributesProcessorConfig, signal: Signal) -> Result<Self, Vec<FieldError>> {
        if cfg.actions.is_empty() {
            return Err(vec![FieldError::new("actions", "missing required field \"actions\"")]);
        }
        let actions = AttrProc::new("actions", &cfg.actions)?;
        let (include, exclude) = (cfg.include.as_ref(), cfg.exclude.as_ref());
        let skip = match signal {
            Signal::Traces => SpanSkip::new("", include, exclude)?.map_or(Skip::None, Skip::Spans),
            Signal::Logs => LogSkip::new("", include, exclude)?.map_or(Skip::None, Skip::Logs),
            Signal::Metrics => MetricSkip::names_only("", include, exclude)?.map_or(Skip::None, Skip::Metrics),
            Signal::Profiles => Skip::None,
        };
        Ok(AttributesProcessor { actions, skip })
    }
}

impl SignalProcessor for AttributesProcessor {
    fn process_traces(&self, cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        let cv = self.actions.context(cx);
        walk::for_each_span_mut(req, |s| {
            if let Skip::Spans(skip) = &self.skip {
                if skip.skip(s.resource.attributes(), s.scope.get(), s.span) {
                    return;
                }
            }
            self.actions.apply(&cv, &mut s.span.attributes);
        });
        Ok(())
    }

    fn process_logs(&self, cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        let cv = self.actions.context(cx);
        walk::for_each_log_record_mut(req, |l| {
            if let Skip::Logs(skip) = &self.skip {
                if skip.skip(l.resource.attributes(), l.scope.get(), l.log) {
                    return;
                }
            }
            self.actions.apply(&cv, &mut l.log.attributes);
        });
        Ok(())
    }

    fn process_metrics(&self, cx: &RequestContext, req: &mut ExportMetricsServiceRequest) -> Result<(), ProcessError> {
        let cv = self.actions.context(cx);
        walk::for_each_metric_mut(req, |m| {
            if let Skip::Metrics(skip) = &self.skip {
                if skip.skip_metric(&m.metric.name) {
                    return;
                }
            }
            for_each_point_attributes(m.metric, |attrs| self.actions.apply(&cv, attrs));
        });
        Ok(())
    }
}

/// Calls `f` on the attributes of every data point of `metric`.
fn for_each_point_attributes(metric: &mut Metric, mut f: impl FnMut(&mut Vec<KeyValue>)) {
    match &mut metric.data {
        Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::ExponentialHistogram(e)) => e.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        Some(Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| f(&mut p.attributes)),
        None => {}
    }
}
