//! `processors: batch:` configuration, with the Collector's defaults.

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};

/// The batch processor's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchProcessorConfig {
    /// Items that trigger a send (default 8192; a trigger, not a cap).
    pub send_batch_size: u32,
    /// Largest batch sent; larger ones are split (default 0 = no cap).
    pub send_batch_max_size: u32,
    /// Send whatever is pending after this long (default 200ms; 0 = send immediately).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// One batch per distinct combination of these client-metadata values.
    pub metadata_keys: Vec<String>,
    /// Most combinations of metadata values (default 1000; 0 = unlimited).
    pub metadata_cardinality_limit: u32,
}

impl Default for BatchProcessorConfig {
    fn default() -> Self {
        BatchProcessorConfig {
            send_batch_size: 8192,
            send_batch_max_size: 0,
            timeout: Duration::from_millis(200),
            metadata_keys: Vec::new(),
            metadata_cardinality_limit: 1000,
        }
    }
}

impl ComponentConfig for BatchProcessorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.send_batch_max_size > 0 && self.send_batch_max_size < self.send_batch_size {
            e.push(FieldError::new("send_batch_max_size", "must be greater or equal to send_batch_size"));
        }
        let mut seen: Vec<String> = Vec::new();
        for (i, k) in self.metadata_keys.iter().enumerate() {
            let lower = k.to_ascii_lowercase();
            if seen.contains(&lower) {
                e.push(FieldError::new(
                    format!("metadata_keys::{i}"),
                    format!("duplicate entry in metadata_keys: \"{k}\" (case-insensitive)"),
                ));
            }
            seen.push(lower);
        }
        e
    }
}
