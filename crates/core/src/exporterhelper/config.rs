//! `sending_queue` and `retry_on_failure`, with the Collector's defaults.

use std::time::Duration;

use serde::Deserialize;

use crate::component::FieldError;
use crate::config::Optional;

/// How the sending queue measures its size (`sending_queue.sizer`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sizer {
    /// One incoming request counts 1 (default).
    #[default]
    Requests,
    /// Spans, data points, log records or profile samples.
    Items,
    /// Serialized protobuf size (with a persistent queue: bytes on disk).
    Bytes,
}

impl Sizer {
    /// The unit's name, for metric help and messages.
    pub fn unit(self) -> &'static str {
        match self {
            Sizer::Requests => "requests",
            Sizer::Items => "items",
            Sizer::Bytes => "bytes",
        }
    }
}

/// `sending_queue.batch.partition`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueuePartitionConfig {
    /// One batcher per combination of these client-metadata values.
    pub metadata_keys: Vec<String>,
}

/// `sending_queue.batch`: merge queued requests before sending.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueueBatchConfig {
    /// Send what is there after this long even if `min_size` is not reached (default 200ms).
    #[serde(with = "humantime_serde")]
    pub flush_timeout: Duration,
    /// Send as soon as this much is gathered (default 8192, in the batch sizer's unit).
    pub min_size: u64,
    /// Split batches above this size; 0 = no limit (default).
    pub max_size: u64,
    /// `items` or `bytes`; inherits an explicit `sending_queue.sizer`, else `items`.
    pub sizer: Option<Sizer>,
    /// Not supported yet: refused by validation rather than ignored.
    pub partition: Option<QueuePartitionConfig>,
}

impl Default for QueueBatchConfig {
    fn default() -> Self {
        QueueBatchConfig {
            flush_timeout: Duration::from_millis(200),
            min_size: 8192,
            max_size: 0,
            sizer: None,
            partition: None,
        }
    }
}

/// `sending_queue`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Queue requests and send them from workers (default true). Off: `consume` sends
    /// synchronously and the client waits for the backend.
    pub enabled: bool,
    /// Workers sending concurrently (default 10).
    pub num_consumers: usize,
    /// Capacity in `sizer` units (default 1000).
    pub queue_size: u64,
    /// Unit of `queue_size` (default `requests`).
    pub sizer: Option<Sizer>,
    /// When full: wait for room (true) or refuse with a retryable error (false, default).
    pub block_on_overflow: bool,
    /// A storage extension id (`file_storage`, `file_storage/x`): the queue lives on disk.
    pub storage: Option<String>,
    /// The caller waits until the request is exported and gets its result (default false).
    pub wait_for_result: bool,
    /// Batching inside the queue (absent = off).
    pub batch: Optional<QueueBatchConfig>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            num_consumers: 10,
            queue_size: 1000,
            sizer: None,
            block_on_overflow: false,
            storage: None,
            wait_for_result: false,
            batch: Optional(None),
        }
    }
}

impl QueueConfig {
    /// The queue's unit.
    pub fn sizer(&self) -> Sizer {
        self.sizer.unwrap_or_default()
    }

    /// The in-queue batch's unit: its own, else an explicit queue sizer, else items.
    pub fn batch_sizer(&self) -> Sizer {
        self.batch.get().and_then(|b| b.sizer).or(self.sizer).unwrap_or(Sizer::Items)
    }

    /// Field checks, with paths under `sending_queue`.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !self.enabled {
            return e;
        }
        if self.num_consumers == 0 {
            e.push(FieldError::new("sending_queue::num_consumers", "must be positive"));
        }
        if self.queue_size == 0 {
            e.push(FieldError::new("sending_queue::queue_size", "must be positive"));
        }
        if self.wait_for_result && self.storage.is_some() {
            e.push(FieldError::new(
                "sending_queue::wait_for_result",
                "cannot be used with a persistent queue (`storage`): the data is acknowledged once it is on disk",
            ));
        }
        if let Some(b) = self.batch.get() {
            if b.flush_timeout.is_zero() {
                e.push(FieldError::new("sending_queue::batch::flush_timeout", "must be positive"));
            }
            if b.sizer == Some(Sizer::Requests) || (b.sizer.is_none() && self.sizer == Some(Sizer::Requests)) {
                e.push(FieldError::new(
                    "sending_queue::batch::sizer",
                    "batches are sized in `items` or `bytes`, not `requests`",
                ));
            }
            if b.max_size > 0 && b.max_size < b.min_size {
                e.push(FieldError::new("sending_queue::batch::max_size", "must be at least min_size (or 0)"));
            }
            if self.batch_sizer() == self.sizer() && b.min_size > self.queue_size {
                e.push(FieldError::new("sending_queue::batch::min_size", "must not exceed queue_size"));
            }
            if b.partition.is_some() {
                e.push(FieldError::new(
                    "sending_queue::batch::partition",
                    "partitioned batching is not supported yet; use the batch processor's metadata_keys",
                ));
            }
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

/// `RetryConfig`'s fields with nothing defaulted, for reading a section over another
/// component's defaults.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RetryPatch {
    enabled: Option<bool>,
    #[serde(with = "humantime_serde::option")]
    initial_interval: Option<Duration>,
    randomization_factor: Option<f64>,
    multiplier: Option<f64>,
    #[serde(with = "humantime_serde::option")]
    max_interval: Option<Duration>,
    #[serde(with = "humantime_serde::option")]
    max_elapsed_time: Option<Duration>,
}

impl RetryConfig {
    /// Reads a section of the Collector's `configretry.BackOffConfig` over `defaults`: the
    /// fields left out keep those defaults, as the Collector's unmarshalling over a
    /// component's default config does (`resourcedetection`'s `retry` starts at 1 s ×2 with
    /// no elapsed limit, exporters' `retry_on_failure` at 5 s ×1.5 for 300 s).
    pub fn deserialize_over<'de, D: serde::Deserializer<'de>>(
        defaults: RetryConfig,
        d: D,
    ) -> Result<RetryConfig, D::Error> {
        let p = RetryPatch::deserialize(d)?;
        Ok(RetryConfig {
            enabled: p.enabled.unwrap_or(defaults.enabled),
            initial_interval: p.initial_interval.unwrap_or(defaults.initial_interval),
            randomization_factor: p.randomization_factor.unwrap_or(defaults.randomization_factor),
            multiplier: p.multiplier.unwrap_or(defaults.multiplier),
            max_interval: p.max_interval.unwrap_or(defaults.max_interval),
            max_elapsed_time: p.max_elapsed_time.unwrap_or(defaults.max_elapsed_time),
        })
    }

    /// Field checks, with paths under `retry_on_failure`.
    pub fn validate(&self) -> Vec<FieldError> {
        self.validate_at("retry_on_failure")
    }

    /// Field checks, with paths under `prefix`.
    pub fn validate_at(&self, prefix: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(0.0..=1.0).contains(&self.randomization_factor) || !self.randomization_factor.is_finite() {
            e.push(FieldError::new(format!("{prefix}::randomization_factor"), "must be between 0 and 1"));
        }
        if !(self.multiplier >= 1.0 && self.multiplier.is_finite()) {
            e.push(FieldError::new(format!("{prefix}::multiplier"), "must be a number of at least 1"));
        }
        let max = self.max_elapsed_time;
        if !max.is_zero() && (max < self.initial_interval || max < self.max_interval) {
            e.push(FieldError::new(
                format!("{prefix}::max_elapsed_time"),
                "must be at least initial_interval and max_interval (or 0 to retry forever)",
            ));
        }
        e
    }
}
