//! Spans: randomness from the trace id (hashed, or its last 56 bits) or an arriving `rv`,
//! the `sampling.priority` attribute override, and the tracestate written back on kept
//! spans (`ot=rv:…;th:…` in `hash_seed` mode, `ot=th:…` in the consistent modes).

use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::trace::v1::Span;
use switchyard_pdata::walk::retain_spans;

use super::otep::{randomness_from_hash, Randomness, Threshold};
use super::sampler::{decide, Carrier, Notes, Outcome, Policy, Rnd, SampleError, Sampler};
use super::tracestate::TraceState;
use super::Tally;

impl Carrier for TraceState<'_> {
    fn threshold(&self) -> Option<Threshold> {
        TraceState::threshold(self)
    }
    fn clear_threshold(&mut self) {
        TraceState::clear_threshold(self)
    }
    fn update_threshold(&mut self, t: Threshold) -> Result<(), &'static str> {
        TraceState::update_threshold(self, t)
    }
}

/// The span's `sampling.priority` (OpenTracing): 0 drops, > 0 keeps, anything else defers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanPriority {
    /// Let the sampler decide.
    Defer,
    /// Keep the span.
    Must,
    /// Drop the span.
    MustNot,
}

/// Reads `sampling.priority` as upstream: int, double, or a string parsed as a float.
pub fn span_priority(span: &Span) -> SpanPriority {
    let Some(v) = attrs::get(&span.attributes, "sampling.priority") else { return SpanPriority::Defer };
    let n = match &v.value {
        Some(Value::IntValue(i)) => *i as f64,
        Some(Value::DoubleValue(d)) => *d,
        Some(Value::StringValue(s)) => match s.parse::<f64>() {
            Ok(f) => f,
            Err(_) => return SpanPriority::Defer,
        },
        _ => return SpanPriority::Defer,
    };
    if n == 0.0 {
        SpanPriority::MustNot
    } else if n > 0.0 {
        SpanPriority::Must
    } else {
        SpanPriority::Defer
    }
}

/// The trace id as 16 bytes, `None` when empty or all zeros (invalid per W3C).
pub fn trace_id(bytes: &[u8]) -> Option<[u8; 16]> {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    (id != [0u8; 16]).then_some(id)
}

/// Randomness and carrier for a span, per mode (upstream's `randomnessFromSpan`).
fn randomness<'a>(sampler: &Sampler, span: &'a Span) -> (Rnd, Option<TraceState<'a>>, Option<SampleError>) {
    let parsed = TraceState::parse(&span.trace_state);
    match *sampler {
        Sampler::Never => {
            // A stand-in value: only the priority can keep the span.
            let rnd = Rnd { value: Randomness::ALL_PROBABILITIES, policy: Policy::SamplingPriority };
            match parsed {
                Ok(ts) => (rnd, Some(ts), None),
                Err(e) => (rnd, None, Some(SampleError::TraceState(e))),
            }
        }
        Sampler::HashSeed { seed, .. } => {
            let rnd = match trace_id(&span.trace_id) {
                Some(id) => Rnd { value: randomness_from_hash(&id, seed), policy: Policy::TraceIdHash },
                None => Rnd::MISSING,
            };
            match parsed {
                Err(e) => (rnd, None, Some(SampleError::TraceState(e))),
                Ok(ts) if ts.randomness().is_some() => (rnd, None, Some(SampleError::RandomnessInUse)),
                Ok(ts) if ts.threshold().is_some() => (rnd, None, Some(SampleError::ThresholdInUse)),
                Ok(mut ts) => {
                    // Upstream records the randomness it used, even the stand-in for none.
                    ts.set_randomness(rnd.value);
                    (rnd, Some(ts), None)
                }
            }
        }
        Sampler::Equalizing { .. } | Sampler::Proportional { .. } => match parsed {
            Err(e) => (Rnd::MISSING, None, Some(SampleError::TraceState(e))),
            Ok(ts) => {
                let rnd = match (ts.randomness(), trace_id(&span.trace_id)) {
                    (Some(r), _) => Rnd { value: r, policy: Policy::SamplingRandomness },
                    (None, Some(id)) => Rnd { value: Randomness::from_trace_id(&id), policy: Policy::TraceIdW3c },
                    (None, None) => Rnd::MISSING,
                };
                (rnd, Some(ts), None)
            }
        },
    }
}

/// Decides one span and, when kept, writes its tracestate through `scratch` (swapped in, so
/// the old string's buffer is reused for the next span).
pub fn sample_span(
    sampler: &Sampler,
    fail_closed: bool,
    span: &mut Span,
    scratch: &mut String,
    notes: &mut Notes,
) -> Outcome {
    let priority = span_priority(span);
    let (rnd, mut carrier, error) = randomness(sampler, span);
    let outcome = decide(
        sampler,
        fail_closed,
        rnd,
        carrier.as_mut(),
        error,
        |rnd, th| match priority {
            SpanPriority::Defer => (rnd, th),
            SpanPriority::Must => (Rnd { policy: Policy::SamplingPriority, ..rnd }, Threshold::ALWAYS),
            SpanPriority::MustNot => (Rnd { policy: Policy::SamplingPriority, ..rnd }, Threshold::NEVER),
        },
        notes,
    );
    if outcome.write {
        if let Some(ts) = &carrier {
            ts.write(scratch);
        }
        if *scratch != span.trace_state {
            std::mem::swap(&mut span.trace_state, scratch);
        }
    }
    outcome
}

/// Samples every span of `req`, pruning emptied scopes and resources; counts into `tally`.
pub fn sample_traces(
    sampler: &Sampler,
    fail_closed: bool,
    req: &mut ExportTraceServiceRequest,
    tally: &mut Tally,
    mut log: impl FnMut(&Notes),
) {
    let mut scratch = String::new();
    retain_spans(req, |cx| {
        let mut notes = Notes::default();
        let outcome = sample_span(sampler, fail_closed, cx.span, &mut scratch, &mut notes);
        if notes.error.is_some() || notes.update_refused.is_some() {
            log(&notes);
        }
        tally.count(outcome);
        outcome.sampled
    });
}
