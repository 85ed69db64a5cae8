//! The `tail_sampling` policy engine: the `policies:` config, compiled into evaluators
//! with the Collector's (contrib ≈ v0.159) semantics, and the rule that combines their
//! decisions into one per trace. The runtime that buffers traces calls
//! [`Policies::evaluate`] once per trace, when its `decision_wait` is over.
//!
//! # Combining decisions
//!
//! `drop` policies are evaluated first (as upstream orders them), then the others in
//! config order. Evaluation stops at the first `Dropped`, and with
//! `sample_on_first_match` at the first `Sampled`. A policy that fails (an OTTL
//! condition under `error_mode: propagate`) is recorded as `Error` and ignored. Then:
//! any `Dropped` → `Dropped`; else any (legacy) `InvertNotSampled` → `NotSampled`; else
//! any `Sampled` → `Sampled`; else an `InvertSampled` with no `NotSampled` → `Sampled`;
//! else `NotSampled`. The policies here no longer produce the legacy inverted decisions
//! (upstream's `disableinvertdecisions` gate became the only behaviour), but the rule
//! still honours them, as upstream's does.

mod attribute;
mod build;
pub mod config;
mod evaluator;
mod limiting;
mod ottl;
mod probabilistic;
mod span;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use switchyard_pdata::proto::trace::v1::ResourceSpans;
use tokio::time::Instant;

pub use build::validate;
pub use config::PolicyCfg;

use build::{compile_all, BuildCtx};
use config::DROP;
use evaluator::Evaluator;

use crate::ottl::OttlErrorReporter;

/// The spans of one trace as the runtime buffered them: resource and scope envelopes
/// holding only this trace's spans.
#[derive(Clone, Debug)]
pub struct TraceData {
    /// The batches, in arrival order.
    pub batches: Vec<ResourceSpans>,
    /// How many spans they hold.
    pub span_count: u64,
    /// Encoded size of the spans held (what `bytes_limiting` charges).
    pub bytes: u64,
    /// When the first span arrived (tokio's clock, so paused-time tests work).
    pub first_arrival: Instant,
}

/// A policy's (or the final) sampling decision, as upstream's `samplingpolicy.Decision`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not decided (a policy not evaluated).
    Unspecified,
    /// Not evaluated yet.
    Pending,
    /// Keep the trace.
    Sampled,
    /// Do not keep it (unless another policy samples it).
    NotSampled,
    /// Drop it, whatever the other policies say.
    Dropped,
    /// The policy failed.
    Error,
    /// Legacy `invert_match` result: keep, unless another policy said `NotSampled`.
    InvertSampled,
    /// Legacy `invert_match` result: do not keep, even if another policy samples.
    InvertNotSampled,
}

/// Why one policy could not decide.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// An OTTL condition failed under `error_mode: propagate`.
    #[error("{0}")]
    Ottl(String),
}

/// The final decision from the decisions the policies made, in evaluation order (see the
/// module docs): `Dropped`, `Sampled` or `NotSampled`.
pub fn final_decision(decisions: impl IntoIterator<Item = Decision>) -> Decision {
    let (mut dropped, mut invert_not, mut sampled, mut invert_sampled, mut not_sampled) =
        (false, false, false, false, false);
    for d in decisions {
        match d {
            Decision::Dropped => dropped = true,
            Decision::InvertNotSampled => invert_not = true,
            Decision::Sampled => sampled = true,
            Decision::InvertSampled => invert_sampled = true,
            Decision::NotSampled => not_sampled = true,
            Decision::Unspecified | Decision::Pending | Decision::Error => {}
        }
    }
    if dropped {
        Decision::Dropped
    } else if invert_not {
        Decision::NotSampled
    } else if sampled || (invert_sampled && !not_sampled) {
        Decision::Sampled
    } else {
        Decision::NotSampled
    }
}

/// The compiled `policies:` of one shard. Stateful policies (`rate_limiting`,
/// `bytes_limiting`, `composite`) keep their state here, so a shard owns its `Policies`.
pub struct Policies {
    names: Vec<String>,
    evaluators: Vec<Evaluator>,
    /// Indexes into `evaluators` in evaluation order: `drop` policies first.
    order: Vec<usize>,
    sample_on_first_match: bool,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies").field("names", &self.names).finish_non_exhaustive()
    }
}

impl Policies {
    /// Compiles `cfgs`. `share` (0 < share <= 1) scales every rate (`rate_limiting`'s
    /// `spans_per_second` and `burst_capacity`, `bytes_limiting`'s `bytes_per_second` and
    /// `burst_capacity`, `composite`'s budgets) because the runtime runs one `Policies`
    /// per shard; a positive rate stays at least 1. `errors` counts and logs the OTTL
    /// errors `error_mode: ignore` skips. The error lists every config problem (the same
    /// ones [`validate`] reports).
    pub fn build(
        cfgs: &[PolicyCfg],
        sample_on_first_match: bool,
        share: f64,
        errors: Arc<OttlErrorReporter>,
    ) -> Result<Policies, String> {
        if !(share > 0.0 && share <= 1.0) {
            return Err(format!("the rate share must be in (0, 1], got {share}"));
        }
        let cx = BuildCtx { share, reporter: Some(errors) };
        let evaluators = compile_all(cfgs, &cx).map_err(|errs| {
            errs.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        })?;
        let is_drop = |i: &usize| cfgs[*i].policy_type == DROP;
        let (mut order, rest): (Vec<usize>, Vec<usize>) = (0..cfgs.len()).partition(is_drop);
        order.extend(rest);
        Ok(Policies { names: cfgs.iter().map(|c| c.name.clone()).collect(), evaluators, order, sample_on_first_match })
    }

    /// Policy names in config order (the runtime labels per-policy metrics with them).
    pub fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// Evaluates the policies over one trace (all of them, or up to the first `Dropped`,
    /// or with `sample_on_first_match` the first `Sampled`). Fills `per_policy` (resized to
    /// [`Policies::names`]' length, in config order; `Unspecified` for policies not
    /// evaluated, `Error` for those that failed) and returns the final decision:
    /// `Sampled`, `NotSampled` or `Dropped`. `now` drives the rate limits and the
    /// composite's seconds. The trace is lent mutably because OTTL conditions walk it
    /// with the (mutable) OTTL contexts; it is left as it was.
    pub fn evaluate(
        &mut self,
        trace_id: &[u8; 16],
        trace: &mut TraceData,
        now: Instant,
        per_policy: &mut Vec<Decision>,
    ) -> Decision {
        per_policy.clear();
        per_policy.resize(self.evaluators.len(), Decision::Unspecified);
        for &i in &self.order {
            let decision = match self.evaluators[i].evaluate(trace_id, trace, now) {
                Ok(d) => d,
                Err(e) => {
                    tracing::debug!(policy = %self.names[i], error = %e, "Sampling policy error.");
                    Decision::Error
                }
            };
            per_policy[i] = decision;
            if decision == Decision::Dropped || (self.sample_on_first_match && decision == Decision::Sampled) {
                break;
            }
        }
        final_decision(self.order.iter().map(|&i| per_policy[i]))
    }

    /// The name of the policy a `Sampled` final decision is credited to (upstream's
    /// `tailsampling.policy` attribute): the first, in evaluation order, that returned
    /// `Sampled`, else the first `InvertSampled`.
    pub fn sampled_by(&self, per_policy: &[Decision]) -> Option<&str> {
        let first = |want: Decision| self.order.iter().find(|&&i| per_policy.get(i) == Some(&want));
        first(Decision::Sampled).or_else(|| first(Decision::InvertSampled)).map(|&i| self.names[i].as_str())
    }
}
