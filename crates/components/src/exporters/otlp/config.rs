//! `exporters: otlp:` (alias `otlp_grpc`) configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::confignet::auth::AuthConfig;
use switchyard_core::exporterhelper::{QueueConfig, RetryConfig};

use crate::exporters::{ClientTlsConfig, CompressionParams};

/// The OTLP/gRPC exporter's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpExporterConfig {
    /// `host:port`, optionally with `http://` or `https://` (required).
    pub endpoint: String,
    /// `gzip` (default), `zstd`, `deflate` or `none`.
    pub compression: String,
    /// Compression level.
    pub compression_params: CompressionParams,
    /// Headers (gRPC metadata) added to every request.
    pub headers: BTreeMap<String, String>,
    /// TLS; `insecure: true` for plaintext.
    pub tls: ClientTlsConfig,
    /// Per-attempt timeout (default 5s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The sending queue.
    pub sending_queue: QueueConfig,
    /// Retries.
    pub retry_on_failure: RetryConfig,
    /// Accepted for compatibility.
    pub balancer_name: Option<String>,
    /// Accepted for compatibility.
    pub keepalive: Option<IgnoredAny>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub wait_for_ready: bool,
    /// Accepted for compatibility.
    pub authority: Option<String>,
    /// Client authenticator extension (`bearertokenauth`, `basicauth`, `headers_setter`).
    pub auth: Option<AuthConfig>,
}

impl Default for OtlpExporterConfig {
    fn default() -> Self {
        OtlpExporterConfig {
            endpoint: String::new(),
            compression: "gzip".into(),
            compression_params: CompressionParams::default(),
            headers: BTreeMap::new(),
            tls: ClientTlsConfig::default(),
            timeout: Duration::from_secs(5),
            sending_queue: QueueConfig::default(),
            retry_on_failure: RetryConfig::default(),
            balancer_name: None,
            keepalive: None,
            write_buffer_size: None,
            read_buffer_size: None,
            wait_for_ready: false,
            authority: None,
            auth: None,
        }
    }
}

impl ComponentConfig for OtlpExporterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.endpoint.is_empty() {
            // The Collector's default config has no endpoint either; it is required to run.
        } else if self.uri().is_err() {
            e.push(FieldError::new("endpoint", format!("invalid endpoint \"{}\": expected host:port", self.endpoint)));
        }
        if !matches!(self.compression.as_str(), "gzip" | "zstd" | "deflate" | "none" | "") {
            e.push(FieldError::new(
                "compression",
                format!(
                    "unsupported compression \"{}\" for gRPC (supported: gzip, zstd, deflate, none)",
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

impl OtlpExporterConfig {
    /// The URI to dial: the scheme decides TLS only when `tls.insecure` is not set.
    pub fn uri(&self) -> Result<http::Uri, String> {
        let with_scheme = if self.endpoint.contains("://") {
            self.endpoint.clone()
        } else if self.use_tls() {
            format!("https://{}", self.endpoint)
        } else {
            format!("http://{}", self.endpoint)
        };
        let uri: http::Uri = with_scheme.parse().map_err(|e: http::uri::InvalidUri| e.to_string())?;
        if uri.host().is_none() {
            return Err("missing host".into());
        }
        Ok(uri)
    }

    /// Whether the connection uses TLS: always for `https://`, never for `http://`, otherwise
    /// unless `tls.insecure` (the Collector's default is TLS).
    pub fn use_tls(&self) -> bool {
        let plaintext = self.endpoint.starts_with("http://") || (self.tls.insecure && !self.tls.has_ca());
        self.endpoint.starts_with("https://") || !plaintext
    }
}
