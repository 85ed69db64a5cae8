//! `exporters: otlphttp:` (alias `otlp_http`) configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::confignet::auth::AuthConfig;
use switchyard_core::exporterhelper::{QueueConfig, RetryConfig};
use switchyard_pdata::Signal;

use crate::exporters::{ClientTlsConfig, CompressionParams};
use crate::otlp_signal::OtlpSignal;

/// Body encoding.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    /// `application/x-protobuf` (default).
    #[default]
    Proto,
    /// `application/json` (OTLP/JSON).
    Json,
}

/// The OTLP/HTTP exporter's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpHttpExporterConfig {
    /// Base URL; `/v1/traces` etc. are appended.
    pub endpoint: String,
    /// Traces URL, used as is (overrides `endpoint`).
    pub traces_endpoint: Option<String>,
    /// Metrics URL, used as is.
    pub metrics_endpoint: Option<String>,
    /// Logs URL, used as is.
    pub logs_endpoint: Option<String>,
    /// Profiles URL, used as is.
    pub profiles_endpoint: Option<String>,
    /// `proto` (default) or `json`.
    pub encoding: BodyEncoding,
    /// `gzip` (default), `zstd`, `deflate`, `zlib`, `snappy`, `none`.
    pub compression: String,
    /// Compression level.
    pub compression_params: CompressionParams,
    /// Headers added to every request.
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

impl Default for OtlpHttpExporterConfig {
    fn default() -> Self {
        OtlpHttpExporterConfig {
            endpoint: String::new(),
            traces_endpoint: None,
            metrics_endpoint: None,
            logs_endpoint: None,
            profiles_endpoint: None,
            encoding: BodyEncoding::Proto,
            compression: "gzip".into(),
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

impl ComponentConfig for OtlpHttpExporterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let urls = [
            ("endpoint", Some(&self.endpoint).filter(|s| !s.is_empty())),
            ("traces_endpoint", self.traces_endpoint.as_ref()),
            ("metrics_endpoint", self.metrics_endpoint.as_ref()),
            ("logs_endpoint", self.logs_endpoint.as_ref()),
            ("profiles_endpoint", self.profiles_endpoint.as_ref()),
        ];
        for (field, url) in urls {
            if let Some(url) = url {
                if !(url.starts_with("http://") || url.starts_with("https://")) || url.parse::<http::Uri>().is_err() {
                    e.push(FieldError::new(
                        field,
                        format!("invalid URL \"{url}\": expected http://host:port[/path] or https://..."),
                    ));
                }
            }
        }
        if !matches!(self.compression.as_str(), "gzip" | "zstd" | "deflate" | "zlib" | "snappy" | "none" | "") {
            e.push(FieldError::new(
                "compression",
                format!(
                    "unsupported compression \"{}\" (supported: gzip, zstd, deflate, zlib, snappy, none)",
                    self.compression
                ),
            ));
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

impl OtlpHttpExporterConfig {
    /// The URL for a signal: its own endpoint verbatim, else `endpoint` + `/v1/<signal>`.
    pub fn url_for<S: OtlpSignal>(&self) -> Option<String> {
        let specific = match S::SIGNAL {
            Signal::Traces => &self.traces_endpoint,
            Signal::Metrics => &self.metrics_endpoint,
            Signal::Logs => &self.logs_endpoint,
            Signal::Profiles => &self.profiles_endpoint,
        };
        if let Some(url) = specific {
            return Some(url.clone());
        }
        if self.endpoint.is_empty() {
            return None;
        }
        Some(format!("{}{}", self.endpoint.trim_end_matches('/'), S::HTTP_PATH))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_pdata::{Logs, Traces};

    #[test]
    fn urls_are_built_as_the_collector_builds_them() {
        let cfg = OtlpHttpExporterConfig {
            endpoint: "http://tempo:4318/".into(),
            logs_endpoint: Some("http://loki:3100/otlp/v1/logs".into()),
            ..Default::default()
        };
        assert_eq!(cfg.url_for::<Traces>().as_deref(), Some("http://tempo:4318/v1/traces"));
        assert_eq!(cfg.url_for::<Logs>().as_deref(), Some("http://loki:3100/otlp/v1/logs"));
    }
}
