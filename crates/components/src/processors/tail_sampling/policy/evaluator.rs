//! A compiled policy of any type, and the combining policies (`and`, `drop`, `not`,
//! `composite`) that run sub-policies.

use tokio::time::Instant;

use super::attribute::{BooleanAttribute, NumericAttribute, StringAttribute};
use super::limiting::{Budgets, TokenBucket};
use super::ottl::OttlCondition;
use super::probabilistic::Probabilistic;
use super::span::{self, Latency, SpanCount, StatusCode, TraceStateFilter};
use super::{Decision, PolicyError, TraceData};

/// One compiled policy.
#[derive(Debug)]
pub(super) enum Evaluator {
    AlwaysSample,
    Latency(Latency),
    NumericAttribute(NumericAttribute),
    Probabilistic(Probabilistic),
    StatusCode(StatusCode),
    StringAttribute(StringAttribute),
    /// A bucket of spans.
    RateLimiting(TokenBucket),
    /// A bucket of encoded bytes.
    BytesLimiting(TokenBucket),
    SpanCount(SpanCount),
    BooleanAttribute(BooleanAttribute),
    TraceState(TraceStateFilter),
    TraceFlags,
    OttlCondition(OttlCondition),
    And(Vec<Evaluator>),
    Drop(Vec<Evaluator>),
    Not(Box<Evaluator>),
    Composite(Composite),
}

/// A `composite`: sub-policies in declaration order, each with a per-second budget.
#[derive(Debug)]
pub(super) struct Composite {
    pub(super) subs: Vec<Evaluator>,
    pub(super) budgets: Budgets,
}

/// Whether a sub-policy's decision is a match inside `and`, `drop` and `composite`
/// (a legacy `InvertSampled` counts as one).
fn sampled(d: Decision) -> bool {
    matches!(d, Decision::Sampled | Decision::InvertSampled)
}

impl Evaluator {
    /// Decides one trace. An error means this policy could not decide (an OTTL condition
    /// failed under `error_mode: propagate`, here or in a sub-policy).
    pub(super) fn evaluate(
        &mut self,
        trace_id: &[u8; 16],
        trace: &mut TraceData,
        now: Instant,
    ) -> Result<Decision, PolicyError> {
        let batches = &trace.batches;
        Ok(match self {
            Evaluator::AlwaysSample => Decision::Sampled,
            Evaluator::Latency(p) => p.evaluate(batches),
            Evaluator::NumericAttribute(p) => p.evaluate(batches),
            Evaluator::Probabilistic(p) => p.evaluate(trace_id),
            Evaluator::StatusCode(p) => p.evaluate(batches),
            Evaluator::StringAttribute(p) => p.evaluate(batches),
            Evaluator::RateLimiting(b) => allowed(b.allow(now, trace.span_count)),
            Evaluator::BytesLimiting(b) => allowed(b.allow(now, trace.bytes)),
            Evaluator::SpanCount(p) => p.evaluate(trace.span_count),
            Evaluator::BooleanAttribute(p) => p.evaluate(batches),
            Evaluator::TraceState(p) => p.evaluate(batches),
            Evaluator::TraceFlags => span::trace_flags(batches),
            Evaluator::OttlCondition(p) => p.evaluate(trace)?,
            Evaluator::And(subs) => all_sampled(subs, trace_id, trace, now, Decision::Sampled)?,
            Evaluator::Drop(subs) => all_sampled(subs, trace_id, trace, now, Decision::Dropped)?,
            Evaluator::Not(sub) => match sub.evaluate(trace_id, trace, now)? {
                Decision::Sampled => Decision::NotSampled,
                Decision::NotSampled => Decision::Sampled,
                other => other,
            },
            Evaluator::Composite(c) => {
                c.budgets.tick(now);
                let mut decision = Decision::NotSampled;
                for (i, sub) in c.subs.iter_mut().enumerate() {
                    if sampled(sub.evaluate(trace_id, trace, now)?) {
                        // The first sub-policy that samples decides, within its budget.
                        decision = c.budgets.take(i, trace.span_count);
                        break;
                    }
                }
                decision
            }
        })
    }
}

fn allowed(ok: bool) -> Decision {
    if ok {
        Decision::Sampled
    } else {
        Decision::NotSampled
    }
}

/// `and` and `drop`: `all` when no sub-policy says `NotSampled` (or the legacy
/// `InvertNotSampled`), else `NotSampled` at the first that does (later ones are not
/// evaluated).
fn all_sampled(
    subs: &mut [Evaluator],
    trace_id: &[u8; 16],
    trace: &mut TraceData,
    now: Instant,
    all: Decision,
) -> Result<Decision, PolicyError> {
    for sub in subs {
        if matches!(sub.evaluate(trace_id, trace, now)?, Decision::NotSampled | Decision::InvertNotSampled) {
            return Ok(Decision::NotSampled);
        }
    }
    Ok(all)
}
