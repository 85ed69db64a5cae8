//! `ottl_condition`: OTTL conditions on spans (`span:`) and span events (`spanevent:`),
//! compiled with the project's OTTL crate the way `filter` compiles its conditions. Spans
//! are visited in order; for each, its span conditions, then its events' conditions; the
//! first true one samples the trace. The conditions of a list are OR-ed.
//!
//! `error_mode` (default `propagate`, as upstream for this policy): under `propagate` the
//! first failing condition makes the policy fail (the runtime counts it and ignores the
//! policy for that trace); `ignore` counts and logs it as false and goes on; `silent`
//! just goes on.

use std::sync::Arc;

use switchyard_core::component::FieldError;
use switchyard_ottl::eval::{CompiledCondition, EvalContext};
use switchyard_ottl::{Component, Context};
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::walk::{self, SpanEventContext};

use super::config::OttlConditionCfg;
use super::{Decision, PolicyError, TraceData};
use crate::ottl::{self, ErrorModeConfig, OttlErrorReporter};

/// A compiled `ottl_condition` policy.
pub(super) struct OttlCondition {
    span: Vec<CompiledCondition>,
    spanevent: Vec<CompiledCondition>,
    mode: ErrorModeConfig,
    /// `None` only when compiled to validate a config (never evaluated).
    reporter: Option<Arc<OttlErrorReporter>>,
}

impl std::fmt::Debug for OttlCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OttlCondition")
            .field("span", &self.span.len())
            .field("spanevent", &self.spanevent.len())
            .field("mode", &self.mode)
            .finish()
    }
}

/// Why the walk stopped early.
enum Stop {
    Matched,
    Failed(PolicyError),
}

impl OttlCondition {
    pub(super) fn compile(
        cfg: &OttlConditionCfg,
        path: &str,
        reporter: Option<Arc<OttlErrorReporter>>,
    ) -> Result<Self, Vec<FieldError>> {
        if cfg.span.is_empty() && cfg.spanevent.is_empty() {
            return Err(vec![FieldError::new(path, "expected at least one OTTL condition to filter on")]);
        }
        let mut errors = Vec::new();
        let mut list = |key: &str, texts: &[String], context: Context| {
            let mut out = Vec::new();
            for (i, text) in texts.iter().enumerate() {
                let field = format!("{path}::{key}::{i}");
                match ottl::compile_condition(&field, text, context, Component::TailSampling) {
                    Ok(c) => out.push(c),
                    Err(e) => errors.extend(e),
                }
            }
            out
        };
        let span = list("span", &cfg.span, Context::Span);
        let spanevent = list("spanevent", &cfg.spanevent, Context::SpanEvent);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(OttlCondition { span, spanevent, mode: cfg.error_mode.unwrap_or(ErrorModeConfig::Propagate), reporter })
    }

    /// Whether any of `conds` holds in `cx`, applying the error mode.
    fn any(&self, conds: &[CompiledCondition], cx: &EvalContext<'_>) -> Result<bool, PolicyError> {
        for c in conds {
            match c.eval(cx) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(e) => match self.mode {
                    ErrorModeConfig::Propagate => {
                        return Err(PolicyError::Ottl(format!("failed to eval condition: {}, {e}", c.text())))
                    }
                    ErrorModeConfig::Ignore => {
                        if let Some(r) = &self.reporter {
                            r.report(&e, c.text());
                        }
                    }
                    ErrorModeConfig::Silent => {}
                },
            }
        }
        Ok(false)
    }

    pub(super) fn evaluate(&self, trace: &mut TraceData) -> Result<Decision, PolicyError> {
        // The OTTL contexts borrow mutably (the same contexts serve statements); conditions
        // only read. The batches are lent to a request for the walk and put back after.
        let mut req = ExportTraceServiceRequest { resource_spans: std::mem::take(&mut trace.batches) };
        let walked = walk::try_for_each_span_mut(&mut req, |mut cx| {
            if !self.span.is_empty() {
                let ecx = EvalContext::span(walk::SpanContext {
                    resource: cx.resource.reborrow(),
                    scope: cx.scope.reborrow(),
                    span: &mut *cx.span,
                });
                if self.any(&self.span, &ecx).map_err(Stop::Failed)? {
                    return Err(Stop::Matched);
                }
            }
            if self.spanevent.is_empty() {
                return Ok(());
            }
            // Events are lent out of their span for the call, as pdata's event walk does.
            let mut events = std::mem::take(&mut cx.span.events);
            let mut result = Ok(());
            for (index, event) in events.iter_mut().enumerate() {
                let ecx = EvalContext::span_event(
                    SpanEventContext {
                        resource: cx.resource.reborrow(),
                        scope: cx.scope.reborrow(),
                        span: &mut *cx.span,
                        event,
                    },
                    index as i64,
                );
                match self.any(&self.spanevent, &ecx) {
                    Ok(false) => {}
                    Ok(true) => {
                        result = Err(Stop::Matched);
                        break;
                    }
                    Err(e) => {
                        result = Err(Stop::Failed(e));
                        break;
                    }
                }
            }
            let pushed = std::mem::replace(&mut cx.span.events, events);
            cx.span.events.extend(pushed);
            result
        });
        trace.batches = req.resource_spans;
        match walked {
            Ok(()) => Ok(Decision::NotSampled),
            Err(Stop::Matched) => Ok(Decision::Sampled),
            Err(Stop::Failed(e)) => Err(e),
        }
    }
}
