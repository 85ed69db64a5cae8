//! `exporters: prometheusremotewrite:` (alias `prometheus_remote_write`) configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::confignet::auth::AuthConfig;
use switchyard_core::exporterhelper::{QueueConfig, RetryConfig};

use crate::exporters::ClientTlsConfig;

/// The Collector's default: 3 MB of series per request.
pub const DEFAULT_MAX_BATCH_SIZE_BYTES: i64 = 3_000_000;

/// `remote_write_queue:` (the exporter has no `sending_queue`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteWriteQueueConfig {
    /// Queue batches in memory (default true).
    pub enabled: bool,
    /// Batches queued (default 10000).
    pub queue_size: i64,
    /// Requests of one batch sent at once (default 5).
    pub num_consumers: i64,
}

impl Default for RemoteWriteQueueConfig {
    fn default() -> Self {
        RemoteWriteQueueConfig { enabled: true, queue_size: 10_000, num_consumers: 5 }
    }
}

/// `resource_to_telemetry_conversion:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceToTelemetryConfig {
    /// Copy every resource attribute onto every series.
    pub enabled: bool,
    /// Leave out service.name/namespace/instance.id (they are job and instance already).
    pub exclude_service_attributes: bool,
}

/// `target_info:` / `export_created_metric:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnabledConfig {
    /// On or off.
    pub enabled: bool,
}

impl Default for EnabledConfig {
    fn default() -> Self {
        EnabledConfig { enabled: true }
    }
}

/// `wal:` — the Collector's own write-ahead log. Not supported (see the docs).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalConfig {
    /// Setting it enables the WAL.
    pub directory: String,
    /// Accepted for compatibility.
    pub buffer_size: Option<u64>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub truncate_frequency: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub lag_record_frequency: Option<Duration>,
}

/// The remote-write exporter's config (the Collector's fields and defaults).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusRemoteWriteExporterConfig {
    /// Remote-write URL, e.g. `http://prometheus:9090/api/v1/write`, `https://mimir/api/v1/push`.
    pub endpoint: String,
    /// Headers on every request (`X-Scope-OrgID` for Mimir tenants).
    pub headers: BTreeMap<String, String>,
    /// Only `snappy` (remote write's own) or empty.
    pub compression: String,
    /// Per request (default 5s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// TLS for https URLs.
    pub tls: ClientTlsConfig,
    /// Client authenticator extension.
    pub auth: Option<AuthConfig>,
    /// Proxy URL.
    pub proxy_url: Option<String>,
    /// Idle connections kept (default 100).
    pub max_idle_conns: Option<usize>,
    /// How long idle connections are kept (default 90s).
    #[serde(with = "humantime_serde")]
    pub idle_conn_timeout: Option<Duration>,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub max_idle_conns_per_host: Option<usize>,
    /// Accepted for compatibility.
    pub max_conns_per_host: Option<usize>,
    /// Accepted for compatibility.
    pub disable_keep_alives: bool,
    /// Accepted for compatibility.
    pub force_attempt_http2: Option<bool>,
    /// Retries (initial interval 50ms, as the Collector).
    pub retry_on_failure: RetryConfig,
    /// The in-memory queue.
    pub remote_write_queue: RemoteWriteQueueConfig,
    /// Prefix of every metric name.
    pub namespace: String,
    /// Labels added to every series (attributes win on a clash).
    pub external_labels: BTreeMap<String, String>,
    /// Every resource attribute as a label.
    pub resource_to_telemetry_conversion: ResourceToTelemetryConfig,
    /// `target_info` series per resource (default on).
    pub target_info: EnabledConfig,
    /// No `otel_scope_*` labels.
    pub disable_scope_info: bool,
    /// Unit and `_total`/`_ratio` suffixes (default on).
    pub add_metric_suffixes: bool,
    /// The newer spelling of `add_metric_suffixes`.
    pub translation_strategy: Option<String>,
    /// Send type, help and unit of each metric family.
    pub send_metadata: bool,
    /// Largest request before snappy (default 3000000).
    pub max_batch_size_bytes: i64,
    /// Requests of one batch in flight (default: `remote_write_queue.num_consumers`).
    pub max_batch_request_parallelism: Option<usize>,
    /// Only `prometheus.WriteRequest` (remote write 1.0).
    pub protobuf_message: Option<String>,
    /// `<name>_created` series: accepted, not emitted.
    pub export_created_metric: Option<EnabledConfig>,
    /// Not supported: the queue is in memory (see the docs for a persistent alternative).
    pub wal: Option<WalConfig>,
}

impl Default for PrometheusRemoteWriteExporterConfig {
    fn default() -> Self {
        PrometheusRemoteWriteExporterConfig {
            endpoint: String::new(),
            headers: BTreeMap::new(),
            compression: String::new(),
            timeout: Duration::from_secs(5),
            tls: ClientTlsConfig::default(),
            auth: None,
            proxy_url: None,
            max_idle_conns: None,
            idle_conn_timeout: None,
            read_buffer_size: None,
            write_buffer_size: None,
            max_idle_conns_per_host: None,
            max_conns_per_host: None,
            disable_keep_alives: false,
            force_attempt_http2: None,
            retry_on_failure: RetryConfig { initial_interval: Duration::from_millis(50), ..RetryConfig::default() },
            remote_write_queue: RemoteWriteQueueConfig::default(),
            namespace: String::new(),
            external_labels: BTreeMap::new(),
            resource_to_telemetry_conversion: ResourceToTelemetryConfig::default(),
            target_info: EnabledConfig::default(),
            disable_scope_info: false,
            add_metric_suffixes: true,
            translation_strategy: None,
            send_metadata: false,
            max_batch_size_bytes: DEFAULT_MAX_BATCH_SIZE_BYTES,
            max_batch_request_parallelism: None,
            protobuf_message: None,
            export_created_metric: None,
            wal: None,
        }
    }
}

impl PrometheusRemoteWriteExporterConfig {
    /// Whether names get unit and type suffixes (`translation_strategy` wins).
    pub fn suffixes(&self) -> bool {
        match self.translation_strategy.as_deref() {
            Some("UnderscoreEscapingWithoutSuffixes") => false,
            Some(_) => true,
            None => self.add_metric_suffixes,
        }
    }

    /// The sending queue the exporter helper runs: one consumer, so batches (and the
    /// samples of every series) reach the server in order.
    pub fn queue(&self) -> QueueConfig {
        QueueConfig {
            enabled: self.remote_write_queue.enabled,
            num_consumers: 1,
            queue_size: self.remote_write_queue.queue_size.max(1) as u64,
            ..QueueConfig::default()
        }
    }

    /// Requests of one batch in flight.
    pub fn parallelism(&self) -> usize {
        self.max_batch_request_parallelism.unwrap_or(self.remote_write_queue.num_consumers.max(1) as usize).max(1)
    }

    /// The request size limit (0 means the default, as in the Collector).
    pub fn max_batch_bytes(&self) -> usize {
        if self.max_batch_size_bytes <= 0 {
            DEFAULT_MAX_BATCH_SIZE_BYTES as usize
        } else {
            self.max_batch_size_bytes as usize
        }
    }
}

impl ComponentConfig for PrometheusRemoteWriteExporterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.endpoint.is_empty() {
            e.push(FieldError::new("endpoint", "endpoint is required (e.g. http://prometheus:9090/api/v1/write)"));
        } else if !(self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://"))
            || self.endpoint.parse::<http::Uri>().is_err()
        {
            e.push(FieldError::new(
                "endpoint",
                format!("invalid URL \"{}\": expected http://host:port/path or https://...", self.endpoint),
            ));
        }
        if !matches!(self.compression.as_str(), "" | "snappy") {
            e.push(FieldError::new(
                "compression",
                format!("remote write is always snappy-compressed; \"{}\" is not supported", self.compression),
            ));
        }
        let q = &self.remote_write_queue;
        if q.queue_size < 0 {
            e.push(FieldError::new("remote_write_queue::queue_size", "remote write queue size can't be negative"));
        } else if q.enabled && q.queue_size == 0 {
            e.push(FieldError::new(
                "remote_write_queue::queue_size",
                "a 0 size queue will drop all the data (disable the queue instead)",
            ));
        }
        if q.num_consumers < 0 {
            e.push(FieldError::new(
                "remote_write_queue::num_consumers",
                "remote write consumer number can't be negative",
            ));
        }
        if self.max_batch_size_bytes < 0 {
            e.push(FieldError::new("max_batch_size_bytes", "max_batch_size_bytes can't be negative"));
        }
        if let Some(s) = &self.translation_strategy {
            match s.as_str() {
                "UnderscoreEscapingWithSuffixes" | "UnderscoreEscapingWithoutSuffixes" => {}
                "NoUTF8EscapingWithSuffixes" | "NoTranslation" => e.push(FieldError::new(
                    "translation_strategy",
                    format!("\"{s}\" needs remote write 2.0, which this exporter does not send"),
                )),
                _ => e.push(FieldError::new(
                    "translation_strategy",
                    format!("unknown translation strategy \"{s}\" (UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes)"),
                )),
            }
        }
        if let Some(m) = &self.protobuf_message {
            if m != "prometheus.WriteRequest" {
                e.push(FieldError::new(
                    "protobuf_message",
                    format!("only remote write 1.0 (prometheus.WriteRequest) is supported, not \"{m}\""),
                ));
            }
        }
        if self.wal.as_ref().is_some_and(|w| !w.directory.is_empty()) {
            e.push(FieldError::new(
                "wal::directory",
                "the remote-write WAL is not supported; the queue is in memory (remove `wal`)",
            ));
        }
        for k in self.external_labels.keys() {
            if k.is_empty()
                || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || k.starts_with(|c: char| c.is_ascii_digit())
            {
                e.push(FieldError::new(format!("external_labels::{k}"), format!("invalid label name \"{k}\"")));
            }
        }
        if let Err(msg) = crate::exporters::header_map(&self.headers) {
            e.push(FieldError::new("headers", msg));
        }
        if let Some(a) = &self.auth {
            e.extend(a.validate("auth"));
        }
        e.extend(self.tls.validate("tls"));
        e.extend(self.retry_on_failure.validate());
        e
    }
}
