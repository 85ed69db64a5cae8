//! `receivers: otlp:` configuration, with the Collector's fields and defaults.

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::Optional;

/// The OTLP receiver's config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpReceiverConfig {
    /// Which protocols to serve; a protocol key present (even empty) turns it on.
    pub protocols: Protocols,
}

/// `protocols:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocols {
    /// OTLP/gRPC.
    pub grpc: Optional<GrpcServerConfig>,
    /// OTLP/HTTP.
    pub http: Optional<HttpServerConfig>,
}

/// `protocols: grpc:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcServerConfig {
    /// `host:port` to listen on (default `localhost:4317`).
    pub endpoint: String,
    /// Only `tcp` is supported.
    pub transport: String,
    /// Largest request accepted, after decompression, in MiB (default 4).
    pub max_recv_msg_size_mib: Option<u64>,
    /// Concurrent HTTP/2 streams per connection (default: unlimited).
    pub max_concurrent_streams: Option<u32>,
    /// Pass request metadata (headers) downstream with the data.
    pub include_metadata: bool,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub keepalive: Option<IgnoredAny>,
    /// TLS (not supported yet: refused by validation).
    pub tls: Option<IgnoredAny>,
    /// Authentication (not supported yet: refused by validation).
    pub auth: Option<IgnoredAny>,
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        GrpcServerConfig {
            endpoint: "localhost:4317".into(),
            transport: "tcp".into(),
            max_recv_msg_size_mib: None,
            max_concurrent_streams: None,
            include_metadata: false,
            read_buffer_size: None,
            write_buffer_size: None,
            keepalive: None,
            tls: None,
            auth: None,
        }
    }
}

/// `protocols: http:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpServerConfig {
    /// `host:port` to listen on (default `localhost:4318`).
    pub endpoint: String,
    /// Path for traces (default `/v1/traces`).
    pub traces_url_path: String,
    /// Path for metrics (default `/v1/metrics`).
    pub metrics_url_path: String,
    /// Path for logs (default `/v1/logs`).
    pub logs_url_path: String,
    /// Largest body accepted, compressed and after decompression, in bytes (default 20 MiB).
    pub max_request_body_size: usize,
    /// Pass request headers downstream with the data.
    pub include_metadata: bool,
    /// Accepted `Content-Encoding` values (default: all supported).
    pub compression_algorithms: Option<Vec<String>>,
    /// Headers added to every response.
    pub response_headers: std::collections::BTreeMap<String, String>,
    /// Accepted for compatibility.
    pub cors: Option<IgnoredAny>,
    /// TLS (not supported yet: refused by validation).
    pub tls: Option<IgnoredAny>,
    /// Authentication (not supported yet: refused by validation).
    pub auth: Option<IgnoredAny>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            endpoint: "localhost:4318".into(),
            traces_url_path: "/v1/traces".into(),
            metrics_url_path: "/v1/metrics".into(),
            logs_url_path: "/v1/logs".into(),
            max_request_body_size: 20 * 1024 * 1024,
            include_metadata: false,
            compression_algorithms: None,
            response_headers: Default::default(),
            cors: None,
            tls: None,
            auth: None,
        }
    }
}

/// Checks `host:port`: a port is required.
pub(crate) fn check_endpoint(field: &str, endpoint: &str, errors: &mut Vec<FieldError>) {
    let ok = endpoint.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    if !ok {
        errors.push(FieldError::new(field, format!("endpoint \"{endpoint}\" must be host:port (e.g. 0.0.0.0:4317)")));
    }
}

impl ComponentConfig for OtlpReceiverConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.protocols.grpc.get().is_none() && self.protocols.http.get().is_none() {
            e.push(FieldError::new("protocols", "must specify at least one protocol (grpc or http)"));
        }
        if let Some(g) = self.protocols.grpc.get() {
            check_endpoint("protocols::grpc::endpoint", &g.endpoint, &mut e);
            if g.transport != "tcp" {
                e.push(FieldError::new("protocols::grpc::transport", "only \"tcp\" is supported"));
            }
            if g.tls.is_some() {
                e.push(FieldError::new(
                    "protocols::grpc::tls",
                    "server TLS is not supported yet; terminate TLS in front of the gateway for now",
                ));
            }
            if g.auth.is_some() {
                e.push(FieldError::new("protocols::grpc::auth", "receiver authentication is not supported yet"));
            }
        }
        if let Some(h) = self.protocols.http.get() {
            check_endpoint("protocols::http::endpoint", &h.endpoint, &mut e);
            if h.tls.is_some() {
                e.push(FieldError::new(
                    "protocols::http::tls",
                    "server TLS is not supported yet; terminate TLS in front of the gateway for now",
                ));
            }
            if h.auth.is_some() {
                e.push(FieldError::new("protocols::http::auth", "receiver authentication is not supported yet"));
            }
            if h.max_request_body_size == 0 {
                e.push(FieldError::new("protocols::http::max_request_body_size", "must be positive"));
            }
        }
        e
    }
}

/// Makes a configured URL path absolute, as the Collector does (`v1/traces` → `/v1/traces`).
pub(crate) fn absolute_path(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}
