//! `connectors: servicegraph:` configuration with the Collector's keys and defaults
//! (contrib v0.159: `store.ttl` 2s, `store.max_items` 1000, flush every 60 s, latency in
//! seconds with the classic buckets, virtual nodes from `peer.service`, `db.name`,
//! `db.system`).

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};

use crate::connectors::metricagg::config::{deserialize_duration, deserialize_durations};

/// The default latency buckets, in seconds.
pub const DEFAULT_BUCKETS_SECONDS: [f64; 16] =
    [0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.4, 2.0, 5.0, 10.0, 15.0];
/// The attributes a client span's virtual peer is named after, first found wins.
pub const DEFAULT_PEER_ATTRIBUTES: [&str; 3] = ["peer.service", "db.name", "db.system"];
/// The attributes naming a database a client span calls.
pub const DEFAULT_DATABASE_NAME_ATTRIBUTES: [&str; 1] = ["db.name"];

/// The connector's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceGraphConnectorConfig {
    /// Deprecated by the Collector (the pipeline decides the exporter); accepted and ignored.
    pub metrics_exporter: String,
    /// Latency bucket bounds as durations (none: the default buckets).
    #[serde(deserialize_with = "deserialize_durations")]
    pub latency_histogram_buckets: Vec<Duration>,
    /// Exponential latency histograms with this many buckets per sign (0: explicit buckets).
    pub exponential_histogram_max_size: i32,
    /// Span or resource attributes added as `client_<name>` / `server_<name>` labels.
    pub dimensions: Vec<String>,
    /// The store of half-seen requests.
    pub store: StoreConfig,
    /// How often series not updated for 15 minutes are dropped.
    #[serde(deserialize_with = "deserialize_duration")]
    pub cache_loop: Duration,
    /// How often expired store entries are swept.
    #[serde(deserialize_with = "deserialize_duration")]
    pub store_expiration_loop: Duration,
    /// Attributes naming a client span's peer when its server never shows up (in
    /// priority order); unset: `peer.service`, `db.name`, `db.system`; empty: no virtual nodes.
    pub virtual_node_peer_attributes: Option<Vec<String>>,
    /// Add a `virtual_node` label saying which side (`client`/`server`) was made up.
    pub virtual_node_extra_label: bool,
    /// How often metrics are emitted; 0 emits after every batch (unset: 60 s).
    #[serde(deserialize_with = "deserialize_duration")]
    pub metrics_flush_interval: Duration,
    /// Subtracted from the emitted points' timestamps.
    #[serde(deserialize_with = "deserialize_duration")]
    pub metrics_timestamp_offset: Duration,
    /// Deprecated (v0.124) single form of `database_name_attributes`; used when that is unset.
    pub database_name_attribute: String,
    /// Attributes naming the database of a client span, first found wins (default `db.name`).
    pub database_name_attributes: Vec<String>,
}

impl Default for ServiceGraphConnectorConfig {
    fn default() -> Self {
        ServiceGraphConnectorConfig {
            metrics_exporter: String::new(),
            latency_histogram_buckets: Vec::new(),
            exponential_histogram_max_size: 0,
            dimensions: Vec::new(),
            store: StoreConfig::default(),
            cache_loop: Duration::from_secs(60),
            store_expiration_loop: Duration::from_secs(2),
            virtual_node_peer_attributes: None,
            virtual_node_extra_label: false,
            metrics_flush_interval: Duration::from_secs(60),
            metrics_timestamp_offset: Duration::ZERO,
            database_name_attribute: String::new(),
            database_name_attributes: Vec::new(),
        }
    }
}

/// `store`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Half-seen requests kept; a new one finding the store full is dropped (and counted).
    pub max_items: i64,
    /// How long a half-seen request waits for its other half.
    #[serde(deserialize_with = "deserialize_duration")]
    pub ttl: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { max_items: 1000, ttl: Duration::from_secs(2) }
    }
}

impl ServiceGraphConnectorConfig {
    /// The peer attributes, defaults applied.
    pub fn peer_attributes(&self) -> Vec<String> {
        match &self.virtual_node_peer_attributes {
            Some(v) => v.clone(),
            None => DEFAULT_PEER_ATTRIBUTES.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The database name attributes, the deprecated single one and the default applied.
    pub fn database_name_attributes(&self) -> Vec<String> {
        if !self.database_name_attributes.is_empty() {
            self.database_name_attributes.clone()
        } else if !self.database_name_attribute.is_empty() {
            vec![self.database_name_attribute.clone()]
        } else {
            DEFAULT_DATABASE_NAME_ATTRIBUTES.iter().map(|s| s.to_string()).collect()
        }
    }
}

impl ComponentConfig for ServiceGraphConnectorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.latency_histogram_buckets.is_empty() && self.exponential_histogram_max_size < 0 {
            e.push(FieldError::new(
                "exponential_histogram_max_size",
                "`exponential_histogram_max_size` can not be negative",
            ));
        }
        if !self.latency_histogram_buckets.is_empty() && self.exponential_histogram_max_size > 0 {
            e.push(FieldError::new(
                "latency_histogram_buckets",
                "use either `latency_histogram_buckets` or `exponential_histogram_max_size`",
            ));
        }
        if self.latency_histogram_buckets.windows(2).any(|w| w[0] >= w[1]) {
            e.push(FieldError::new("latency_histogram_buckets", "buckets must be in increasing order"));
        }
        if self.store.max_items <= 0 {
            e.push(FieldError::new("store::max_items", "max_items must be positive"));
        }
        e
    }
}
