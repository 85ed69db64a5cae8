//! Log records: randomness from the trace id, the `from_attribute` record attribute
//! (hashed), or an arriving `sampling.randomness`; the `sampling_priority` attribute as a
//! percentage; `sampling.randomness` / `sampling.threshold` attributes written on kept
//! records, as upstream.

use std::borrow::Cow;

use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::logs::v1::LogRecord;
use switchyard_pdata::value::{as_string, str_value};
use switchyard_pdata::walk::retain_log_records;

use super::otep::{randomness_from_hash, Randomness, Threshold};
use super::sampler::{decide, Carrier, Notes, Outcome, Policy, Rnd, SampleError, Sampler};
use super::traces::trace_id;
use super::Tally;

/// Attribute carrying the record's threshold.
pub const THRESHOLD_ATTR: &str = "sampling.threshold";
/// Attribute carrying the record's randomness.
pub const RANDOMNESS_ATTR: &str = "sampling.randomness";

/// The log-specific settings.
#[derive(Clone, Debug, Default)]
pub struct LogSettings {
    /// `attribute_source: traceID`.
    pub use_trace_id: bool,
    /// `from_attribute` ("" = none).
    pub from_attribute: String,
    /// `sampling_priority` ("" = none).
    pub priority_attribute: String,
    /// `sampling_precision`, for priority thresholds.
    pub precision: usize,
}

/// A record's sampling attributes, parsed; changes are applied to the record afterwards.
#[derive(Clone, Copy, Debug, Default)]
struct RecordState {
    threshold: Option<Threshold>,
    randomness: Option<Randomness>,
    /// `sampling.randomness` to add.
    new_randomness: Option<Randomness>,
    /// `sampling.threshold` was cleared or updated.
    threshold_changed: bool,
}

impl Carrier for RecordState {
    fn threshold(&self) -> Option<Threshold> {
        self.threshold
    }
    fn clear_threshold(&mut self) {
        self.threshold = None;
        self.threshold_changed = true;
    }
    fn update_threshold(&mut self, t: Threshold) -> Result<(), &'static str> {
        if matches!(self.threshold, Some(existing) if t < existing) {
            return Err("cannot raise existing sampling probability");
        }
        self.threshold = Some(t);
        self.threshold_changed = true;
        Ok(())
    }
}

fn parse_state(attributes: &[KeyValue]) -> (RecordState, Option<SampleError>) {
    let mut state = RecordState::default();
    let mut error = None;
    if let Some(s) = attrs::get_str(attributes, THRESHOLD_ATTR).filter(|s| !s.is_empty()) {
        match Threshold::parse(s) {
            Ok(t) => state.threshold = Some(t),
            Err(e) => error = Some(SampleError::Attribute(e)),
        }
    }
    if let Some(s) = attrs::get_str(attributes, RANDOMNESS_ATTR).filter(|s| !s.is_empty()) {
        match Randomness::parse(s) {
            Ok(r) => state.randomness = Some(r),
            Err(e) => error = error.or(Some(SampleError::Attribute(e))),
        }
    }
    (state, error)
}

/// The bytes hashed for an attribute: raw bytes for a bytes value, else its `AsString`.
fn attribute_bytes<'a>(attributes: &'a [KeyValue], key: &str) -> Option<Cow<'a, [u8]>> {
    let v = attrs::get(attributes, key)?;
    Some(match &v.value {
        Some(Value::BytesValue(b)) => Cow::Borrowed(b.as_slice()),
        _ => match as_string(v) {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        },
    })
}

/// Randomness and carrier for a record, per mode (upstream's `randomnessFromLogRecord`).
fn randomness(
    sampler: &Sampler,
    set: &LogSettings,
    log: &LogRecord,
) -> (Rnd, Option<RecordState>, Option<SampleError>) {
    let (state, error) = parse_state(&log.attributes);
    match *sampler {
        Sampler::Never => {
            // Upstream keeps the carrier even when its attributes did not parse.
            (Rnd { value: Randomness::ALL_PROBABILITIES, policy: Policy::SamplingPriority }, Some(state), error)
        }
        Sampler::HashSeed { seed, .. } => {
            let mut rnd = Rnd::MISSING;
            if set.use_trace_id {
                if let Some(id) = trace_id(&log.trace_id) {
                    rnd = Rnd { value: randomness_from_hash(&id, seed), policy: Policy::TraceIdHash };
                }
            }
            if rnd.is_missing() && !set.from_attribute.is_empty() {
                if let Some(bytes) = attribute_bytes(&log.attributes, &set.from_attribute).filter(|b| !b.is_empty()) {
                    rnd = Rnd { value: randomness_from_hash(&bytes, seed), policy: Policy::Attribute };
                }
            }
            if error.is_some() {
                (rnd, None, error)
            } else if state.randomness.is_some() {
                (rnd, None, Some(SampleError::RandomnessInUse))
            } else if state.threshold.is_some() {
                (rnd, None, Some(SampleError::ThresholdInUse))
            } else {
                let mut state = state;
                if !rnd.is_missing() {
                    state.randomness = Some(rnd.value);
                    state.new_randomness = Some(rnd.value);
                }
                (rnd, Some(state), None)
            }
        }
        Sampler::Equalizing { .. } | Sampler::Proportional { .. } => {
            if error.is_some() {
                return (Rnd::MISSING, None, error);
            }
            let rnd = match (state.randomness, trace_id(&log.trace_id)) {
                (Some(r), _) => Rnd { value: r, policy: Policy::SamplingRandomness },
                (None, Some(id)) => Rnd { value: Randomness::from_trace_id(&id), policy: Policy::TraceIdW3c },
                (None, None) => Rnd::MISSING,
            };
            (rnd, Some(state), None)
        }
    }
}

/// The record's priority threshold: its `sampling_priority` attribute (int or double) as a
/// percentage; 0 or out of range means no priority.
fn priority_threshold(set: &LogSettings, log: &LogRecord) -> Option<Threshold> {
    if set.priority_attribute.is_empty() {
        return None;
    }
    let min_prob = match attrs::get(&log.attributes, &set.priority_attribute)?.value {
        Some(Value::DoubleValue(d)) => d / 100.0,
        Some(Value::IntValue(i)) => i as f64 / 100.0,
        _ => 0.0,
    };
    if min_prob == 0.0 {
        return None;
    }
    Threshold::from_probability(min_prob, set.precision).ok()
}

/// Decides one record and, when kept, writes its sampling attributes.
pub fn sample_log(
    sampler: &Sampler,
    fail_closed: bool,
    set: &LogSettings,
    log: &mut LogRecord,
    notes: &mut Notes,
) -> Outcome {
    let priority = priority_threshold(set, log);
    let (rnd, mut carrier, error) = randomness(sampler, set, log);
    let outcome = decide(
        sampler,
        fail_closed,
        rnd,
        carrier.as_mut(),
        error,
        |rnd, th| match priority {
            Some(p) => (Rnd { policy: Policy::SamplingPriority, ..rnd }, p),
            None => (rnd, th),
        },
        notes,
    );
    if outcome.write {
        if let Some(state) = carrier {
            if let Some(r) = state.new_randomness {
                attrs::upsert(&mut log.attributes, RANDOMNESS_ATTR, str_value(r.rvalue()));
            }
            if state.threshold_changed {
                match state.threshold {
                    Some(t) => {
                        attrs::upsert(&mut log.attributes, THRESHOLD_ATTR, str_value(t.tvalue()));
                    }
                    None => {
                        attrs::remove(&mut log.attributes, THRESHOLD_ATTR);
                    }
                }
            }
        }
    }
    outcome
}

/// Samples every record of `req`, pruning emptied scopes and resources; counts into `tally`.
pub fn sample_logs(
    sampler: &Sampler,
    fail_closed: bool,
    set: &LogSettings,
    req: &mut ExportLogsServiceRequest,
    tally: &mut Tally,
    mut log: impl FnMut(&Notes),
) {
    retain_log_records(req, |cx| {
        let mut notes = Notes::default();
        let outcome = sample_log(sampler, fail_closed, set, cx.log, &mut notes);
        if notes.error.is_some() || notes.update_refused.is_some() {
            log(&notes);
        }
        tally.count(outcome);
        outcome.sampled
    });
}
