//! `receivers: zipkin:` configuration, with the Collector's fields and defaults.
//!
//! The Collector takes its HTTP server settings (`confighttp.ServerConfig`) either at the top
//! level (the long-standing form, deprecated in v0.128.0) or under `protocols: http:`; when
//! `protocols: http:` is present it wins. Both forms are accepted here. The top-level fields
//! are repeated rather than `#[serde(flatten)]`ed: `deny_unknown_fields` (what gives users
//! "unknown field, did you mean") does not work through `flatten`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::Optional;
use switchyard_core::confignet::auth::AuthConfig;
use switchyard_core::confignet::body::DEFAULT_READ_TIMEOUT;
use switchyard_core::confignet::server::{DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_HEADER_TIMEOUT};
use switchyard_core::confignet::tls::ServerTlsConfig;

/// The Collector's default (`localhost:9411`, Zipkin's port).
pub const DEFAULT_ENDPOINT: &str = "localhost:9411";
/// confighttp's default `max_request_body_size`: 20 MiB.
pub const DEFAULT_MAX_REQUEST_BODY_SIZE: usize = 20 * 1024 * 1024;

/// The zipkin receiver's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZipkinReceiverConfig {
    /// `protocols: http:` (the current form); when present, the top-level server fields are ignored.
    pub protocols: Protocols,
    /// Turn string tags that look like integers, floats or booleans into typed attributes.
    pub parse_string_tags: bool,
    /// `host:port` to listen on (default `localhost:9411`); deprecated form of `protocols::http::endpoint`.
    pub endpoint: String,
    /// Largest body accepted, compressed and after decompression, in bytes (default 20 MiB).
    pub max_request_body_size: usize,
    /// Pass request headers downstream with the data.
    pub include_metadata: bool,
    /// Accepted `Content-Encoding` values (default: all supported).
    pub compression_algorithms: Option<Vec<String>>,
    /// Headers added to every response.
    pub response_headers: BTreeMap<String, String>,
    /// Accepted for compatibility.
    pub cors: Option<IgnoredAny>,
    /// Server TLS; mutual TLS with `client_ca_file`.
    pub tls: Option<ServerTlsConfig>,
    /// Authenticator extension checking every request.
    pub auth: Option<AuthConfig>,
    /// Deadline for the TLS handshake, the first bytes and each request's headers (default 1m).
    #[serde(with = "humantime_serde")]
    pub read_header_timeout: Duration,
    /// Deadline for a request's whole body (default 30s; `0s`: none, the Collector's default).
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
}

/// `protocols:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocols {
    /// The HTTP server; a key present (even empty) turns it on.
    pub http: Optional<ZipkinHttpConfig>,
}

/// `protocols: http:` — the Collector's `confighttp.ServerConfig` fields this receiver uses.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZipkinHttpConfig {
    /// `host:port` to listen on (default `localhost:9411`).
    pub endpoint: String,
    /// Largest body accepted, compressed and after decompression, in bytes (default 20 MiB).
    pub max_request_body_size: usize,
    /// Pass request headers downstream with the data.
    pub include_metadata: bool,
    /// Accepted `Content-Encoding` values (default: all supported).
    pub compression_algorithms: Option<Vec<String>>,
    /// Headers added to every response.
    pub response_headers: BTreeMap<String, String>,
    /// Accepted for compatibility.
    pub cors: Option<IgnoredAny>,
    /// Server TLS; mutual TLS with `client_ca_file`.
    pub tls: Option<ServerTlsConfig>,
    /// Authenticator extension checking every request.
    pub auth: Option<AuthConfig>,
    /// Deadline for the TLS handshake, the first bytes and each request's headers (default 1m).
    #[serde(with = "humantime_serde")]
    pub read_header_timeout: Duration,
    /// Deadline for a request's whole body (default 30s; `0s`: none, the Collector's default).
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
}

impl Default for ZipkinHttpConfig {
    fn default() -> Self {
        ZipkinHttpConfig {
            endpoint: DEFAULT_ENDPOINT.into(),
            max_request_body_size: DEFAULT_MAX_REQUEST_BODY_SIZE,
            include_metadata: false,
            compression_algorithms: None,
            response_headers: BTreeMap::new(),
            cors: None,
            tls: None,
            auth: None,
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            read_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl Default for ZipkinReceiverConfig {
    fn default() -> Self {
        let h = ZipkinHttpConfig::default();
        ZipkinReceiverConfig {
            protocols: Protocols::default(),
            parse_string_tags: false,
            endpoint: h.endpoint,
            max_request_body_size: h.max_request_body_size,
            include_metadata: h.include_metadata,
            compression_algorithms: h.compression_algorithms,
            response_headers: h.response_headers,
            cors: h.cors,
            tls: h.tls,
            auth: h.auth,
            read_header_timeout: h.read_header_timeout,
            read_timeout: h.read_timeout,
            write_timeout: h.write_timeout,
            idle_timeout: h.idle_timeout,
            max_connections: h.max_connections,
        }
    }
}

impl ZipkinReceiverConfig {
    /// The server settings in effect: `protocols: http:` when present, else the top-level fields.
    pub fn http(&self) -> ZipkinHttpConfig {
        if let Some(h) = self.protocols.http.get() {
            return h.clone();
        }
        ZipkinHttpConfig {
            endpoint: self.endpoint.clone(),
            max_request_body_size: self.max_request_body_size,
            include_metadata: self.include_metadata,
            compression_algorithms: self.compression_algorithms.clone(),
            response_headers: self.response_headers.clone(),
            cors: None,
            tls: self.tls.clone(),
            auth: self.auth.clone(),
            read_header_timeout: self.read_header_timeout,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
        }
    }

    /// Where the effective server settings live, for error messages.
    fn prefix(&self) -> &'static str {
        if self.protocols.http.get().is_some() {
            "protocols::http::"
        } else {
            ""
        }
    }
}

impl ZipkinHttpConfig {
    /// The deadline for reading a request body: `read_timeout`, its default, or none for `0s`.
    pub fn body_read_timeout(&self) -> Option<Duration> {
        match self.read_timeout {
            None => Some(DEFAULT_READ_TIMEOUT),
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
        }
    }
}

impl ComponentConfig for ZipkinReceiverConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let p = self.prefix();
        let h = self.http();
        let port_ok = h.endpoint.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok());
        if h.endpoint.is_empty() && p.is_empty() {
            e.push(FieldError::new(
                "protocols",
                "must specify at least one protocol when using protocols configuration",
            ));
        } else if !port_ok {
            e.push(FieldError::new(
                format!("{p}endpoint"),
                format!("endpoint \"{}\" must be host:port (e.g. 0.0.0.0:9411)", h.endpoint),
            ));
        }
        if let Some(t) = &h.tls {
            e.extend(t.validate(&format!("{p}tls")));
        }
        if let Some(a) = &h.auth {
            e.extend(a.validate(&format!("{p}auth")));
        }
        if h.max_connections == 0 {
            e.push(FieldError::new(format!("{p}max_connections"), "must be positive"));
        }
        if h.read_header_timeout.is_zero() {
            e.push(FieldError::new(format!("{p}read_header_timeout"), "must be positive"));
        }
        if h.max_request_body_size == 0 {
            e.push(FieldError::new(format!("{p}max_request_body_size"), "must be positive"));
        }
        e
    }
}
