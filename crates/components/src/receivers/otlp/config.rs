//! `receivers: otlp:` configuration, with the Collector's fields and defaults.

use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::Optional;
use switchyard_core::confignet::auth::AuthConfig;
use switchyard_core::confignet::body::DEFAULT_READ_TIMEOUT;
use switchyard_core::confignet::server::{DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_HEADER_TIMEOUT};
use switchyard_core::confignet::tls::ServerTlsConfig;

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
    /// Concurrent HTTP/2 streams per connection (default 200: the HTTP/2 stack's; unlimited in the Collector).
    pub max_concurrent_streams: Option<u32>,
    /// Pass request metadata (headers) downstream with the data.
    pub include_metadata: bool,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<u64>,
    /// HTTP/2 keep-alive and connection age.
    pub keepalive: Option<KeepaliveConfig>,
    /// Server TLS; mutual TLS with `client_ca_file`.
    pub tls: Option<ServerTlsConfig>,
    /// Authenticator extension checking every call.
    pub auth: Option<AuthConfig>,
    /// Connections held at once; more are closed at accept (Switchyard; default 4096).
    pub max_connections: usize,
    /// Deadline for the TLS handshake and the first bytes of a connection (Switchyard; default 1m).
    #[serde(with = "humantime_serde")]
    pub read_header_timeout: Duration,
    /// Deadline for a call's whole request message once its headers are in (Switchyard;
    /// default 30s; `0s`: none). The message is read before the call takes an admission slot.
    #[serde(with = "humantime_serde")]
    pub read_timeout: Option<Duration>,
}

/// `keepalive:` of the gRPC server.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepaliveConfig {
    /// `server_parameters:`.
    pub server_parameters: Option<KeepaliveServerParameters>,
    /// `enforcement_policy:` (accepted; PING floods are bounded by the HTTP/2 stack).
    pub enforcement_policy: Option<IgnoredAny>,
}

/// `keepalive: server_parameters:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepaliveServerParameters {
    /// Accepted for compatibility (idle connections are cheap and bounded by `max_connections`).
    #[serde(with = "humantime_serde")]
    pub max_connection_idle: Option<Duration>,
    /// A connection is sent GOAWAY after this long.
    #[serde(with = "humantime_serde")]
    pub max_connection_age: Option<Duration>,
    /// Time in-flight calls get after `max_connection_age`.
    #[serde(with = "humantime_serde")]
    pub max_connection_age_grace: Option<Duration>,
    /// PING an idle connection this often.
    #[serde(with = "humantime_serde")]
    pub time: Option<Duration>,
    /// Close the connection when a PING is not answered in this time.
    #[serde(with = "humantime_serde")]
    pub timeout: Option<Duration>,
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
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            read_timeout: None,
        }
    }
}

impl GrpcServerConfig {
    /// The deadline for reading a request message: `read_timeout`, its default, or none for `0s`.
    pub fn body_read_timeout(&self) -> Option<Duration> {
        effective_read_timeout(self.read_timeout)
    }
}

impl HttpServerConfig {
    /// The deadline for reading a request body: `read_timeout`, its default, or none for `0s`.
    pub fn body_read_timeout(&self) -> Option<Duration> {
        effective_read_timeout(self.read_timeout)
    }
}

fn effective_read_timeout(configured: Option<Duration>) -> Option<Duration> {
    match configured {
        None => Some(DEFAULT_READ_TIMEOUT),
        Some(d) if d.is_zero() => None,
        Some(d) => Some(d),
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
    /// Server TLS; mutual TLS with `client_ca_file`.
    pub tls: Option<ServerTlsConfig>,
    /// Authenticator extension checking every request.
    pub auth: Option<AuthConfig>,
    /// Deadline for the TLS handshake, the first bytes and each request's headers (default 1m).
    #[serde(with = "humantime_serde")]
    pub read_header_timeout: Duration,
    /// Deadline for a request's whole body once its headers are in (default 30s; `0s`: none,
    /// as in the Collector, whose default is none).
    #[serde(with = "humantime_serde")]
    pub read_timeout: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Option<Duration>,
    /// Connections held at once; more are closed at accept (Switchyard; default 4096).
    pub max_connections: usize,
    /// Deepest JSON nesting accepted in an OTLP/JSON body (Switchyard; default 64).
    pub max_json_depth: usize,
}

/// Default `max_json_depth`: the deepest legitimate OTLP/JSON is about 10 levels plus the
/// nesting of attribute values; 64 leaves room and stops stack-depth attacks early.
pub const DEFAULT_MAX_JSON_DEPTH: usize = 64;

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
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            read_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_json_depth: DEFAULT_MAX_JSON_DEPTH,
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
            check_guards("protocols::grpc", &g.tls, &g.auth, g.max_connections, g.read_header_timeout, &mut e);
        }
        if let Some(h) = self.protocols.http.get() {
            check_endpoint("protocols::http::endpoint", &h.endpoint, &mut e);
            check_guards("protocols::http", &h.tls, &h.auth, h.max_connections, h.read_header_timeout, &mut e);
            if h.max_json_depth == 0 {
                e.push(FieldError::new("protocols::http::max_json_depth", "must be positive"));
            }
            if h.max_request_body_size == 0 {
                e.push(FieldError::new("protocols::http::max_request_body_size", "must be positive"));
            }
        }
        e
    }
}

fn check_guards(
    prefix: &str,
    tls: &Option<ServerTlsConfig>,
    auth: &Option<AuthConfig>,
    max_connections: usize,
    read_header_timeout: Duration,
    e: &mut Vec<FieldError>,
) {
    if let Some(t) = tls {
        e.extend(t.validate(&format!("{prefix}::tls")));
    }
    if let Some(a) = auth {
        e.extend(a.validate(&format!("{prefix}::auth")));
    }
    if max_connections == 0 {
        e.push(FieldError::new(format!("{prefix}::max_connections"), "must be positive"));
    }
    if read_header_timeout.is_zero() {
        e.push(FieldError::new(format!("{prefix}::read_header_timeout"), "must be positive"));
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
