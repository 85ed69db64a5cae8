//! Running a group of statements over a whole request, as the transform processor does:
//! for every item of the group's context, the group's `conditions` are OR-ed, and when one
//! holds (or there are none) each statement runs in order, each seeing the changes of the
//! ones before it.

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::walk::{self, EnvelopeWalk};

use super::{CompiledCondition, CompiledStatement, EvalContext, EvalError};
use crate::paths::Context;

/// What to do when a statement or condition fails at run time (`error_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorMode {
    /// Report the error, skip the statement (or count the condition as false), go on.
    #[default]
    Ignore,
    /// Skip without reporting.
    Silent,
    /// Stop and fail the whole request.
    Propagate,
}

impl ErrorMode {
    /// Parses the config value.
    pub fn from_name(name: &str) -> Option<ErrorMode> {
        match name {
            "ignore" => Some(ErrorMode::Ignore),
            "silent" => Some(ErrorMode::Silent),
            "propagate" => Some(ErrorMode::Propagate),
            _ => None,
        }
    }
}

/// Statements that run together in one context.
#[derive(Debug)]
pub struct StatementGroup {
    /// The context every statement runs in.
    pub context: Context,
    /// OR-ed conditions gating every statement; none means always.
    pub conditions: Vec<CompiledCondition>,
    /// The statements, in order.
    pub statements: Vec<CompiledStatement>,
    /// What a run-time error does.
    pub error_mode: ErrorMode,
}

/// Receives every error `ignore` mode skips, with the statement or condition text.
pub type OnError<'e> = &'e mut dyn FnMut(&EvalError, &str);

impl StatementGroup {
    /// Runs on one record.
    pub fn run(&self, cx: &mut EvalContext<'_>, on_error: OnError<'_>) -> Result<(), EvalError> {
        if !self.conditions.is_empty() {
            let mut any = false;
            for c in &self.conditions {
                match c.eval(cx) {
                    Ok(true) => {
                        any = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => self.fail(e, c.text(), on_error)?,
                }
            }
            if !any {
                return Ok(());
            }
        }
        for s in &self.statements {
            if let Err(e) = s.execute(cx) {
                self.fail(e, s.text(), on_error)?;
            }
        }
        Ok(())
    }

    fn fail(&self, e: EvalError, text: &str, on_error: OnError<'_>) -> Result<(), EvalError> {
        match self.error_mode {
            ErrorMode::Propagate => Err(EvalError::new(format!("failed to execute statement: {text}, {e}"))),
            ErrorMode::Ignore => {
                on_error(&e, text);
                Ok(())
            }
            ErrorMode::Silent => Ok(()),
        }
    }

    /// Runs over every record of the group's context in a traces request.
    pub fn run_traces(&self, req: &mut ExportTraceServiceRequest, on_error: OnError<'_>) -> Result<(), EvalError> {
        match self.context {
            Context::Resource => req.try_for_each_resource_mut(|r| self.run(&mut EvalContext::resource(r), on_error)),
            Context::Scope => req.try_for_each_scope_mut(|r, s| self.run(&mut EvalContext::scope(r, s), on_error)),
            Context::Span => walk::try_for_each_span_mut(req, |cx| self.run(&mut EvalContext::span(cx), on_error)),
            Context::SpanEvent => {
                let mut last: (*const (), i64) = (std::ptr::null(), 0);
                walk::try_for_each_span_event_mut(req, |cx| {
                    let span = (cx.span as *const _) as *const ();
                    last = if last.0 == span { (span, last.1 + 1) } else { (span, 0) };
                    self.run(&mut EvalContext::span_event(cx, last.1), on_error)
                })
            }
            other => Err(wrong_signal(other, "traces")),
        }
    }

    /// Runs over every record of the group's context in a logs request.
    pub fn run_logs(&self, req: &mut ExportLogsServiceRequest, on_error: OnError<'_>) -> Result<(), EvalError> {
        match self.context {
            Context::Resource => req.try_for_each_resource_mut(|r| self.run(&mut EvalContext::resource(r), on_error)),
            Context::Scope => req.try_for_each_scope_mut(|r, s| self.run(&mut EvalContext::scope(r, s), on_error)),
            Context::Log => walk::try_for_each_log_record_mut(req, |cx| self.run(&mut EvalContext::log(cx), on_error)),
            other => Err(wrong_signal(other, "logs")),
        }
    }

    /// Runs over every record of the group's context in a metrics request.
    pub fn run_metrics(&self, req: &mut ExportMetricsServiceRequest, on_error: OnError<'_>) -> Result<(), EvalError> {
        match self.context {
            Context::Resource => req.try_for_each_resource_mut(|r| self.run(&mut EvalContext::resource(r), on_error)),
            Context::Scope => req.try_for_each_scope_mut(|r, s| self.run(&mut EvalContext::scope(r, s), on_error)),
            // Metric editors may change the metric's kind or add metrics to its scope; the
            // walk appends those at the end of the scope right after the metric and visits
            // them in turn, as the Collector's loop over the growing metric slice does.
            Context::Metric => walk::try_for_each_metric_appending(req, |cx, added| {
                let mut ecx = EvalContext::metric(cx);
                let result = self.run(&mut ecx, on_error);
                let ops = std::mem::take(&mut ecx.deferred);
                if let Some(metric) = ecx.metric_mut() {
                    added.extend(ops.into_iter().filter_map(|op| (op.0)(metric)));
                }
                result
            }),
            // A point cannot change its metric while the metric's points are walked: what
            // the points ask for is applied to the metric after its last point.
            Context::DataPoint => walk::try_for_each_metric_appending(req, |mut cx, added| {
                let mut ops = Vec::new();
                let result = walk::try_for_each_point_of_metric_mut(
                    cx.resource.reborrow(),
                    cx.scope.reborrow(),
                    cx.metric,
                    |p| {
                        let mut ecx = EvalContext::data_point(p);
                        let r = self.run(&mut ecx, on_error);
                        ops.append(&mut ecx.deferred);
                        r
                    },
                );
                added.extend(ops.into_iter().filter_map(|op| (op.0)(cx.metric)));
                result
            }),
            other => Err(wrong_signal(other, "metrics")),
        }
    }
}

fn wrong_signal(context: Context, signal: &str) -> EvalError {
    EvalError::new(format!("the {} context does not exist for {signal}", context.name()))
}
