//! The sampling modes and the per-item decision shared by spans and log records
//! (upstream's `makeSampler`, `decide`, `consistencyCheck` and `commonShouldSampleLogic`).

use std::fmt;

use super::config::Mode;
use super::otep::{hash_seed_threshold, OtepError, Randomness, Threshold, MIN_SAMPLING_PROBABILITY};
use super::tracestate::TraceStateError;

/// Where an item's randomness came from: the `policy` label of the self-metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The legacy FNV hash of the trace id (`hash_seed` mode).
    TraceIdHash,
    /// The trace id's last 56 bits (consistent modes).
    TraceIdW3c,
    /// An arriving `rv` (tracestate or `sampling.randomness`).
    SamplingRandomness,
    /// A priority attribute decided, or the percentage is 0.
    SamplingPriority,
    /// No randomness was found.
    MissingRandomness,
    /// The hash of the log record attribute named by `from_attribute`.
    Attribute,
}

impl Policy {
    /// Every policy, in counter-index order.
    pub const ALL: [Policy; 6] = [
        Policy::TraceIdHash,
        Policy::TraceIdW3c,
        Policy::SamplingRandomness,
        Policy::SamplingPriority,
        Policy::MissingRandomness,
        Policy::Attribute,
    ];

    /// The position in [`Policy::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label value (the attribute policy is named after the attribute).
    pub fn label(self, attribute: &str) -> &str {
        match self {
            Policy::TraceIdHash => "trace_id_hash",
            Policy::TraceIdW3c => "trace_id_w3c",
            Policy::SamplingRandomness => "sampling_randomness",
            Policy::SamplingPriority => "sampling_priority",
            Policy::MissingRandomness => "missing_randomness",
            Policy::Attribute => attribute,
        }
    }
}

/// An item's randomness and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rnd {
    /// The value compared with the threshold.
    pub value: Randomness,
    /// Its source.
    pub policy: Policy,
}

impl Rnd {
    /// No randomness: sampled at every probability if a failure lets the item through.
    pub const MISSING: Rnd = Rnd { value: Randomness::ALL_PROBABILITIES, policy: Policy::MissingRandomness };

    /// Whether no randomness was found.
    pub fn is_missing(self) -> bool {
        self.policy == Policy::MissingRandomness
    }
}

/// What makes an item fail open or closed (upstream's texts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleError {
    /// A threshold the randomness contradicts.
    Inconsistent,
    /// No trace id, `rv` or attribute to draw randomness from.
    MissingRandomness,
    /// `hash_seed` mode met an arriving `rv`.
    RandomnessInUse,
    /// `hash_seed` mode met an arriving `th`.
    ThresholdInUse,
    /// The tracestate could not be parsed.
    TraceState(TraceStateError),
    /// `sampling.threshold` / `sampling.randomness` could not be parsed.
    Attribute(OtepError),
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleError::Inconsistent => {
                f.write_str("inconsistent arriving threshold: item should not have been sampled")
            }
            SampleError::MissingRandomness => f.write_str("missing randomness"),
            SampleError::RandomnessInUse => {
                f.write_str("item has sampling randomness, equalizing or proportional mode recommended")
            }
            SampleError::ThresholdInUse => {
                f.write_str("item has sampling threshold, equalizing or proportional mode recommended")
            }
            SampleError::TraceState(e) => e.fmt(f),
            SampleError::Attribute(e) => e.fmt(f),
        }
    }
}

/// The sampling state an item carries (tracestate `ot` or log attributes).
pub trait Carrier {
    /// The arriving (or updated) threshold.
    fn threshold(&self) -> Option<Threshold>;
    /// Removes the threshold.
    fn clear_threshold(&mut self);
    /// Lowers the probability to `t`; `Err` (nothing changed) if it would raise it.
    fn update_threshold(&mut self, t: Threshold) -> Result<(), &'static str>;
}

/// A configured mode, ready to decide.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Percentage 0 (or rounding to 0 buckets): nothing is sampled but by priority.
    Never,
    /// The legacy FNV hash with a seed, limited to 14 bits.
    HashSeed {
        /// The FNV seed.
        seed: u32,
        /// The rejection threshold (14 significant bits).
        threshold: Threshold,
    },
    /// Absolute threshold: lowers arriving probabilities to the configured one.
    Equalizing {
        /// The configured threshold.
        threshold: Threshold,
    },
    /// Multiplies the arriving probability by the configured ratio.
    Proportional {
        /// The ratio in [2^-56, 1].
        ratio: f64,
        /// Hex digits of the written threshold.
        precision: usize,
    },
}

impl Sampler {
    /// Upstream's `makeSampler`: percentages above 100 mean 100, tiny ones are raised to
    /// the smallest expressible probability, and an unset mode is `hash_seed`.
    pub fn new(pct: f32, mode: Mode, seed: u32, precision: usize) -> Sampler {
        let pct = if pct > 100.0 { 100.0 } else { pct };
        if pct == 0.0 {
            return Sampler::Never;
        }
        let ratio = (f64::from(pct) / 100.0).max(MIN_SAMPLING_PROBABILITY);
        match mode {
            Mode::Equalizing => Sampler::Equalizing {
                threshold: Threshold::from_probability(ratio, precision).unwrap_or(Threshold::ALWAYS),
            },
            Mode::Proportional => Sampler::Proportional { ratio, precision },
            Mode::HashSeed => match hash_seed_threshold(pct) {
                Some(threshold) => Sampler::HashSeed { seed, threshold },
                None => Sampler::Never,
            },
        }
    }

    /// The threshold for an item whose carrier says `arriving`.
    pub fn decide(&self, arriving: Option<Threshold>) -> Threshold {
        match *self {
            Sampler::Never => Threshold::NEVER,
            Sampler::HashSeed { threshold, .. } => threshold,
            Sampler::Equalizing { threshold } => match arriving {
                Some(t) if threshold < t => t,
                _ => threshold,
            },
            Sampler::Proportional { ratio, precision } => {
                let incoming = arriving.map_or(1.0, Threshold::probability);
                Threshold::from_probability(incoming * ratio, precision).unwrap_or(Threshold::NEVER)
            }
        }
    }
}

/// The outcome for one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Kept.
    pub sampled: bool,
    /// The metric's `policy`.
    pub policy: Policy,
    /// The carrier changed and must be written back.
    pub write: bool,
}

/// What the caller logs (at debug): the error that made the item fail open/closed, and a
/// refused threshold update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// The failure, if any.
    pub error: Option<SampleError>,
    /// `cannot raise existing sampling probability`, if an update was refused.
    pub update_refused: Option<&'static str>,
}

/// Decides one item: the consistency check, fail open/closed, the mode's threshold, the
/// priority override (`priority` maps (randomness, threshold) to the final pair), and the
/// threshold update of a sampled item's carrier.
pub fn decide<C: Carrier>(
    sampler: &Sampler,
    fail_closed: bool,
    rnd: Rnd,
    mut carrier: Option<&mut C>,
    error: Option<SampleError>,
    priority: impl FnOnce(Rnd, Threshold) -> (Rnd, Threshold),
    notes: &mut Notes,
) -> Outcome {
    let error = error.or_else(|| consistency_check(rnd, carrier.as_deref_mut()));
    let threshold = match error {
        Some(_) if fail_closed => Threshold::NEVER,
        Some(_) => Threshold::ALWAYS,
        None => sampler.decide(carrier.as_deref().and_then(Carrier::threshold)),
    };
    notes.error = error;
    let (rnd, threshold) = priority(rnd, threshold);
    let sampled = threshold.should_sample(rnd.value);
    let mut write = false;
    if sampled {
        if let Some(c) = carrier {
            if let Err(e) = c.update_threshold(threshold) {
                notes.update_refused = Some(e);
            }
            write = true;
        }
    }
    Outcome { sampled, policy: rnd.policy, write }
}

fn consistency_check<C: Carrier>(rnd: Rnd, carrier: Option<&mut C>) -> Option<SampleError> {
    if rnd.is_missing() {
        return Some(SampleError::MissingRandomness);
    }
    let c = carrier?;
    match c.threshold() {
        Some(t) if !t.should_sample(rnd.value) => {
            c.clear_threshold();
            Some(SampleError::Inconsistent)
        }
        _ => None,
    }
}
