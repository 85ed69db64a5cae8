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
    /// Switchyard: encoded bytes the batcher holds at most, pending and being sent, all
    /// metadata combinations together. Past half of it a batch is sent early; at it,
    /// producers wait for room (as they do at twice `send_batch_size` items). Default
    /// (`None`): 4 KiB per item of that item room, 64 MiB for the default config, which
    /// only batches of items averaging over 4 KiB reach (docs/memory.md).
    pub max_held_bytes: Option<u64>,
}

/// Bytes per item the default `max_held_bytes` allows: a generous span or log record.
pub const DEFAULT_BYTES_PER_ITEM: u64 = 4096;

impl Default for BatchProcessorConfig {
    fn default() -> Self {
        BatchProcessorConfig {
            send_batch_size: 8192,
            send_batch_max_size: 0,
            timeout: Duration::from_millis(200),
            metadata_keys: Vec::new(),
            metadata_cardinality_limit: 1000,
            max_held_bytes: None,
        }
    }
}

impl BatchProcessorConfig {
    /// Items held before producers wait: twice the larger of the two sizes.
    pub fn item_room(&self) -> u64 {
        2 * u64::from(self.send_batch_size.max(self.send_batch_max_size)).max(1)
    }

    /// The byte cap: `max_held_bytes`, else [`DEFAULT_BYTES_PER_ITEM`] per item of room.
    pub fn max_held_bytes(&self) -> u64 {
        self.max_held_bytes.unwrap_or(self.item_room() * DEFAULT_BYTES_PER_ITEM)
    }
}

impl ComponentConfig for BatchProcessorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.send_batch_max_size > 0 && self.send_batch_max_size < self.send_batch_size {
            e.push(FieldError::new("send_batch_max_size", "must be greater or equal to send_batch_size"));
        }
        if self.max_held_bytes == Some(0) {
            e.push(FieldError::new("max_held_bytes", "must be positive"));
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
