//! `sending_queue` and `retry_on_failure`, with the Collector's defaults.

use std::time::Duration;

use serde::Deserialize;

use crate::component::FieldError;

/// `sending_queue`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Queue requests and send them from workers (default true). Off: `consume` sends
    /// synchronously and the client waits for the backend.
    pub enabled: bool,
    /// Workers sending concurrently (default 10).
    pub num_consumers: usize,
    /// Capacity in requests (default 1000).
    pub queue_size: usize,
    /// When full: wait for room (true) or refuse with a retryable error (false, default).
    pub block_on_overflow: bool,
    /// Accepted for compatibility; only `requests` is implemented so far.
    pub sizer: Option<String>,
    /// Accepted for compatibility; persistent storage comes with the delivery-guarantees work.
    pub storage: Option<String>,
    /// Accepted for compatibility.
    pub wait_for_result: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            num_consumers: 10,
            queue_size: 1000,
            block_on_overflow: false,
            sizer: None,
            storage: None,
            wait_for_result: false,
        }
    }
}

impl QueueConfig {
    /// Field checks, with paths under `sending_queue`.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.enabled && self.num_consumers == 0 {
            e.push(FieldError::new("sending_queue::num_consumers", "must be positive"));
        }
        if self.enabled && self.queue_size == 0 {
            e.push(FieldError::new("sending_queue::queue_size", "must be positive"));
        }
        if let Some(s) = &self.sizer {
            if s != "requests" {
                e.push(FieldError::new(
                    "sending_queue::sizer",
                    format!("sizer \"{s}\" is not supported yet (supported: requests)"),
                ));
            }
        }
        if self.storage.is_some() {
            e.push(FieldError::new("sending_queue::storage", "persistent queues are not supported yet"));
        }
        e
    }
}

/// `retry_on_failure`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retry retryable failures (default true).
    pub enabled: bool,
    /// First backoff (default 5s).
    #[serde(with = "humantime_serde")]
    pub initial_interval: Duration,
    /// Jitter: each interval is multiplied by a random factor in [1-r, 1+r] (default 0.5).
    pub randomization_factor: f64,
    /// Backoff growth (default 1.5).
    pub multiplier: f64,
    /// Longest backoff (default 30s).
    #[serde(with = "humantime_serde")]
    pub max_interval: Duration,
    /// Give up after this long; 0 = never (default 300s).
    #[serde(with = "humantime_serde")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            randomization_factor: 0.5,
            multiplier: 1.5,
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

impl RetryConfig {
    /// Field checks, with paths under `retry_on_failure`.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(0.0..=1.0).contains(&self.randomization_factor) || !self.randomization_factor.is_finite() {
            e.push(FieldError::new("retry_on_failure::randomization_factor", "must be between 0 and 1"));
        }
        if !(self.multiplier >= 1.0 && self.multiplier.is_finite()) {
            e.push(FieldError::new("retry_on_failure::multiplier", "must be a number of at least 1"));
        }
        e
    }
}
