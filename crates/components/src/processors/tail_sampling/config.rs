//! `processors: tail_sampling:` configuration: the Collector's fields and defaults, plus
//! Switchyard's byte budget for the buffer.

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};

use super::policy::{self, PolicyCfg};

/// The tail sampling processor's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TailSamplingConfig {
    /// Evaluated in order for every trace (required, at least one).
    pub policies: Vec<PolicyCfg>,
    /// Time from a trace's first span to its decision (default 30s).
    #[serde(with = "humantime_serde")]
    pub decision_wait: Duration,
    /// Traces held at once (default 50000); a new trace past it has the oldest decided early.
    pub num_traces: u64,
    /// A sizing hint (default 0), used to pre-size the buffer.
    pub expected_new_traces_per_sec: u64,
    /// Trace ids remembered after their decision, so late spans follow it.
    pub decision_cache: DecisionCacheConfig,
    /// Stop at the first policy that samples.
    pub sample_on_first_match: bool,
    /// At shutdown, drop the traces still waiting (counted) instead of deciding them early.
    pub drop_pending_traces_on_shutdown: bool,
    /// The Collector waits for room when the buffer is full; Switchyard decides the oldest
    /// trace early instead, which never blocks the pipeline. Accepted for compatibility.
    pub block_on_overflow: bool,
    /// Traces larger than this (encoded bytes) are dropped before a decision (0 = no limit).
    pub maximum_trace_size_bytes: u64,
    /// `trace-complete` (the default). `span-ingest` is refused: not built.
    pub sampling_strategy: String,
    /// A shorter wait once the root span has arrived.
    #[serde(with = "humantime_serde")]
    pub decision_wait_after_root_received: Option<Duration>,
    /// Switchyard: bytes of spans the buffer may hold (default 512 MiB); past it the oldest
    /// traces are decided early, so memory is bounded even when traces are large.
    pub max_buffered_bytes: u64,
}

/// `decision_cache:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionCacheConfig {
    /// Trace ids decided "keep" remembered (0 = off: late spans follow the decision only
    /// while it is among the last `num_traces` decisions, as in the Collector).
    pub sampled_cache_size: u64,
    /// Trace ids decided "drop" remembered (0 = off).
    pub non_sampled_cache_size: u64,
}

/// The default `max_buffered_bytes`.
pub const DEFAULT_MAX_BUFFERED_BYTES: u64 = 512 << 20;

impl Default for TailSamplingConfig {
    fn default() -> Self {
        TailSamplingConfig {
            policies: Vec::new(),
            decision_wait: Duration::from_secs(30),
            num_traces: 50_000,
            expected_new_traces_per_sec: 0,
            decision_cache: DecisionCacheConfig::default(),
            sample_on_first_match: false,
            drop_pending_traces_on_shutdown: false,
            block_on_overflow: false,
            maximum_trace_size_bytes: 0,
            sampling_strategy: TRACE_COMPLETE.to_string(),
            decision_wait_after_root_received: None,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
        }
    }
}

const TRACE_COMPLETE: &str = "trace-complete";
const SPAN_INGEST: &str = "span-ingest";

impl ComponentConfig for TailSamplingConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        e.extend(policy::validate(&self.policies));
        if self.decision_wait.is_zero() {
            e.push(FieldError::new("decision_wait", "must be greater than 0"));
        }
        if self.num_traces == 0 {
            e.push(FieldError::new("num_traces", "must be greater than 0"));
        }
        if self.max_buffered_bytes == 0 {
            e.push(FieldError::new("max_buffered_bytes", "must be greater than 0"));
        }
        if let Some(w) = self.decision_wait_after_root_received {
            if w.is_zero() {
                e.push(FieldError::new("decision_wait_after_root_received", "must be greater than 0 when set"));
            }
        }
        match self.sampling_strategy.as_str() {
            TRACE_COMPLETE => {}
            SPAN_INGEST => e.push(FieldError::new(
                "sampling_strategy",
                "\"span-ingest\" is not supported by Switchyard yet; use \"trace-complete\"",
            )),
            other => e.push(FieldError::new(
                "sampling_strategy",
                format!(
                    "unknown sampling_strategy \"{other}\"{}",
                    switchyard_core::config::suggestion(other, [TRACE_COMPLETE, SPAN_INGEST])
                ),
            )),
        }
        e
    }
}
