//! `exporters: loki:` configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::confignet::auth::AuthConfig;
use switchyard_core::exporterhelper::{QueueConfig, RetryConfig};

use crate::exporters::{ClientTlsConfig, CompressionParams};

/// Wire encoding of the push request.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PushFormat {
    /// `logproto.PushRequest`, snappy block-compressed, `application/x-protobuf` (default;
    /// what the Collector's exporter sent).
    #[default]
    Protobuf,
    /// Loki's JSON push body, `application/json`.
    Json,
}

/// The default labels `default_labels_enabled` can switch off.
pub const DEFAULT_LABELS: [&str; 4] = ["exporter", "job", "instance", "level"];

/// The Loki exporter's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LokiExporterConfig {
    /// Full push URL, e.g. `http://loki:3100/loki/api/v1/push` (used as is).
    pub endpoint: String,
    /// Default labels to add: `exporter`, `job`, `instance`, `level`; a missing key or `true`
    /// adds the label.
    pub default_labels_enabled: BTreeMap<String, bool>,
    /// `protobuf` (default) or `json` (Switchyard's own).
    pub format: PushFormat,
    /// `""`/`none` (default) or `gzip` (on top of the body's own encoding).
    pub compression: String,
    /// gzip level.
    pub compression_params: CompressionParams,
    /// Headers added to every request (`X-Scope-OrgID` for a static tenant).
    pub headers: BTreeMap<String, String>,
    /// Whole-request timeout (default 30s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// TLS settings for https URLs.
    pub tls: ClientTlsConfig,
    /// The sending queue.
    pub sending_queue: QueueConfig,
    /// Retries.
    pub retry_on_failure: RetryConfig,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<u64>,
    /// Idle connections kept (default 100).
    pub max_idle_conns: Option<usize>,
    /// Accepted for compatibility.
    pub max_idle_conns_per_host: Option<usize>,
    /// Accepted for compatibility.
    pub max_conns_per_host: Option<usize>,
    /// How long idle connections are kept (default 90s).
    #[serde(with = "humantime_serde")]
    pub idle_conn_timeout: Option<Duration>,
    /// Accepted for compatibility.
    pub disable_keep_alives: bool,
    /// Accepted for compatibility.
    pub force_attempt_http2: Option<bool>,
    /// Proxy URL.
    pub proxy_url: Option<String>,
    /// Client authenticator extension (`bearertokenauth`, `basicauth`, `headers_setter`).
    pub auth: Option<AuthConfig>,
}

impl Default for LokiExporterConfig {
    fn default() -> Self {
        LokiExporterConfig {
            endpoint: String::new(),
            default_labels_enabled: BTreeMap::new(),
            format: PushFormat::Protobuf,
            compression: String::new(),
            compression_params: CompressionParams::default(),
            headers: BTreeMap::new(),
            timeout: Duration::from_secs(30),
            tls: ClientTlsConfig::default(),
            sending_queue: QueueConfig::default(),
            retry_on_failure: RetryConfig::default(),
            read_buffer_size: None,
            write_buffer_size: None,
            max_idle_conns: None,
            max_idle_conns_per_host: None,
            max_conns_per_host: None,
            idle_conn_timeout: None,
            disable_keep_alives: false,
            force_attempt_http2: None,
            proxy_url: None,
            auth: None,
        }
    }
}

impl ComponentConfig for LokiExporterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let url = &self.endpoint;
        if url.is_empty() {
            e.push(FieldError::new(
                "endpoint",
                "the Loki push URL is required, e.g. http://loki:3100/loki/api/v1/push",
            ));
        } else if !(url.starts_with("http://") || url.starts_with("https://")) || url.parse::<http::Uri>().is_err() {
            e.push(FieldError::new(
                "endpoint",
                format!("invalid URL \"{url}\": expected http://host:port/loki/api/v1/push or https://..."),
            ));
        }
        for key in self.default_labels_enabled.keys() {
            if !DEFAULT_LABELS.contains(&key.as_str()) {
                e.push(FieldError::new(
                    format!("default_labels_enabled::{key}"),
                    format!("unknown default label \"{key}\" (known: exporter, job, instance, level)"),
                ));
            }
        }
        if !matches!(self.compression.as_str(), "" | "none" | "gzip") {
            e.push(FieldError::new(
                "compression",
                format!(
                    "unsupported compression \"{}\" (supported: none, gzip; the protobuf body is always snappy-compressed)",
                    self.compression
                ),
            ));
        }
        if let Some(level) = self.compression_params.level {
            if !(1..=9).contains(&level) {
                e.push(FieldError::new("compression_params::level", "gzip level must be 1 to 9"));
            }
        }
        for (k, v) in &self.headers {
            if http::HeaderName::try_from(k.as_str()).is_err() {
                e.push(FieldError::new(format!("headers::{k}"), format!("invalid header name \"{k}\"")));
            } else if http::HeaderValue::try_from(v.as_str()).is_err() {
                e.push(FieldError::new(format!("headers::{k}"), format!("invalid value for header \"{k}\"")));
            }
        }
        if let Some(p) = &self.proxy_url {
            if p.parse::<http::Uri>().is_err() {
                e.push(FieldError::new("proxy_url", format!("invalid URL \"{p}\"")));
            }
        }
        if let Some(a) = &self.auth {
            e.extend(a.validate("auth"));
        }
        e.extend(self.tls.validate("tls"));
        e.extend(self.sending_queue.validate());
        e.extend(self.retry_on_failure.validate());
        e
    }
}

/// Which default labels are on (resolved from `default_labels_enabled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DefaultLabels {
    /// `exporter="OTLP"`.
    pub exporter: bool,
    /// `job` from `service.namespace` / `service.name`.
    pub job: bool,
    /// `instance` from `service.instance.id`.
    pub instance: bool,
    /// `level` from the severity number (or a `level` attribute).
    pub level: bool,
}

impl Default for DefaultLabels {
    fn default() -> Self {
        DefaultLabels { exporter: true, job: true, instance: true, level: true }
    }
}

impl LokiExporterConfig {
    /// The default labels as flags: a key that is absent or `true` enables its label.
    pub(crate) fn default_labels(&self) -> DefaultLabels {
        let on = |k: &str| self.default_labels_enabled.get(k).copied().unwrap_or(true);
        DefaultLabels { exporter: on("exporter"), job: on("job"), instance: on("instance"), level: on("level") }
    }
}
