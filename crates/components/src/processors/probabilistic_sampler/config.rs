//! `processors: probabilistic_sampler:` configuration, with the Collector's field names,
//! defaults (`fail_closed: true`, `sampling_precision: 4`, `attribute_source: traceID`)
//! and checks (error texts as upstream's `Config.Validate` and mode unmarshalling).

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::suggestion;

use super::otep::{MIN_SAMPLING_PROBABILITY, NUM_HEX_DIGITS};

/// The modes upstream accepts (an empty string means unset).
pub const MODES: [&str; 3] = ["hash_seed", "equalizing", "proportional"];

/// The processor's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbabilisticSamplerConfig {
    /// Percentage of items kept (float32 as upstream); 0 keeps none, >= 100 keeps all.
    pub sampling_percentage: f32,
    /// FNV seed of the `hash_seed` mode; every gateway of a tier must use the same one.
    pub hash_seed: u32,
    /// `hash_seed`, `equalizing` or `proportional`; unset means `hash_seed`.
    pub mode: String,
    /// Drop items whose randomness is missing or whose sampling state is invalid (default
    /// true); false lets them through.
    pub fail_closed: bool,
    /// Hex digits of the threshold written (`th`), 1..=14 (default 4).
    pub sampling_precision: i64,
    /// Logs: `traceID` (default) or `record`.
    pub attribute_source: String,
    /// Logs: record attribute hashed for randomness when there is no trace id or the
    /// source is `record`.
    pub from_attribute: String,
    /// Logs: record attribute holding a percentage that replaces `sampling_percentage`.
    pub sampling_priority: String,
}

impl Default for ProbabilisticSamplerConfig {
    fn default() -> Self {
        ProbabilisticSamplerConfig {
            sampling_percentage: 0.0,
            hash_seed: 0,
            mode: String::new(),
            fail_closed: true,
            sampling_precision: 4,
            attribute_source: "traceID".to_string(),
            from_attribute: String::new(),
            sampling_priority: String::new(),
        }
    }
}

/// A parsed `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The legacy FNV hash.
    HashSeed,
    /// OTEP 235, absolute threshold.
    Equalizing,
    /// OTEP 235, relative threshold.
    Proportional,
}

impl Mode {
    /// The mode for a config string: unset is `hash_seed` (upstream's default mode, whether
    /// or not `hash_seed` is set); `None` for an unknown one.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "" | "hash_seed" => Some(Mode::HashSeed),
            "equalizing" => Some(Mode::Equalizing),
            "proportional" => Some(Mode::Proportional),
            _ => None,
        }
    }
}

impl ComponentConfig for ProbabilisticSamplerConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let pct = self.sampling_percentage;
        let ratio = f64::from(pct) / 100.0;
        if !pct.is_finite() {
            let shown = if pct.is_nan() { "NaN".to_string() } else { format!("{:+}", pct).replace("inf", "Inf") };
            e.push(FieldError::new("sampling_percentage", format!("sampling rate is invalid: {shown}%")));
        } else if ratio < 0.0 {
            e.push(FieldError::new("sampling_percentage", format!("sampling rate is negative: {pct:.6}%")));
        } else if ratio > 0.0 && ratio < MIN_SAMPLING_PROBABILITY {
            e.push(FieldError::new("sampling_percentage", format!("sampling rate is too small: {pct:e}%")));
        }
        if Mode::parse(&self.mode).is_none() {
            e.push(FieldError::new(
                "mode",
                format!("unsupported sampler mode {:?}{}", self.mode, suggestion(&self.mode, MODES)),
            ));
        }
        if !matches!(self.attribute_source.as_str(), "" | "traceID" | "record") {
            e.push(FieldError::new(
                "attribute_source",
                format!(
                    "invalid attribute source: {}. Expected: traceID or record{}",
                    self.attribute_source,
                    suggestion(&self.attribute_source, ["traceID", "record"])
                ),
            ));
        }
        if self.sampling_precision == 0 {
            e.push(FieldError::new("sampling_precision", "invalid sampling precision: 0"));
        } else if self.sampling_precision < 0 {
            e.push(FieldError::new(
                "sampling_precision",
                format!("invalid sampling precision: {} (must be 1 to 14)", self.sampling_precision),
            ));
        } else if self.sampling_precision > NUM_HEX_DIGITS as i64 {
            e.push(FieldError::new(
                "sampling_precision",
                format!("sampling precision is too great, should be <= 14: {}", self.sampling_precision),
            ));
        }
        e
    }
}

impl ProbabilisticSamplerConfig {
    /// The mode (`hash_seed` when unset or, on an unvalidated config, unknown).
    pub fn mode(&self) -> Mode {
        Mode::parse(&self.mode).unwrap_or(Mode::HashSeed)
    }

    /// Precision in hex digits; 0 (refused by validation, used by upstream's tests) means
    /// full precision, as upstream's sampler treats it.
    pub fn precision(&self) -> usize {
        match self.sampling_precision {
            p if p <= 0 => NUM_HEX_DIGITS,
            p => (p as usize).min(NUM_HEX_DIGITS),
        }
    }

    /// Whether log records draw randomness from the trace id (`attribute_source: traceID`).
    pub fn logs_use_trace_id(&self) -> bool {
        self.attribute_source == "traceID"
    }
}
