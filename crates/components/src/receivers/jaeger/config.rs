//! `receivers: jaeger:` configuration, with the Collector's fields and defaults
//! (contrib `receiver/jaegerreceiver/config.go`).

use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::Optional;
use switchyard_core::confignet::auth::AuthConfig;
use switchyard_core::confignet::body::DEFAULT_READ_TIMEOUT;
use switchyard_core::confignet::server::{DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_HEADER_TIMEOUT};
use switchyard_core::confignet::tls::ServerTlsConfig;

/// The Jaeger receiver's config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JaegerReceiverConfig {
    /// Which protocols to serve; a protocol key present (even empty) turns it on.
    pub protocols: Protocols,
    /// Removed from the Collector (v0.61): its presence is an error, as with the Collector's
    /// default `receiver.jaeger.DisableRemoteSampling` gate.
    pub remote_sampling: Option<IgnoredAny>,
}

/// `protocols:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocols {
    /// `jaeger.api_v2.CollectorService/PostSpans` over gRPC (default `localhost:14250`).
    pub grpc: Optional<GrpcConfig>,
    /// Thrift binary `Batch` bodies at `POST /api/traces` (default `localhost:14268`).
    pub thrift_http: Optional<ThriftHttpConfig>,
    /// Agent `emitBatch` datagrams in the Thrift compact protocol (default UDP `localhost:6831`).
    #[serde(deserialize_with = "compact_port")]
    pub thrift_compact: Optional<UdpConfig>,
    /// Agent `emitBatch` datagrams in the Thrift binary protocol (default UDP `localhost:6832`).
    #[serde(deserialize_with = "binary_port")]
    pub thrift_binary: Optional<UdpConfig>,
}

/// The two UDP protocols share one config type but not their default port: an endpoint left
/// out gets the protocol's (serde cannot derive a struct generic over the port).
fn udp_with_port<'de, D: serde::Deserializer<'de>>(d: D, port: u16) -> Result<Optional<UdpConfig>, D::Error> {
    let mut o = Optional::<UdpConfig>::deserialize(d)?;
    if let Some(u) = o.0.as_mut() {
        if u.endpoint.is_empty() {
            u.endpoint = format!("localhost:{port}");
        }
    }
    Ok(o)
}

fn compact_port<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Optional<UdpConfig>, D::Error> {
    udp_with_port(d, COMPACT_PORT)
}

fn binary_port<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Optional<UdpConfig>, D::Error> {
    udp_with_port(d, BINARY_PORT)
}

const COMPACT_PORT: u16 = 6831;
const BINARY_PORT: u16 = 6832;

/// `protocols: grpc:` (the Collector's `configgrpc.ServerConfig`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    /// `host:port` to listen on (default `localhost:14250`).
    pub endpoint: String,
    /// Only `tcp` is supported.
    pub transport: String,
    /// Largest request accepted, after decompression, in MiB (default 4).
    pub max_recv_msg_size_mib: Option<u64>,
    /// Concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: Option<u32>,
    /// Accepted for compatibility (request metadata is not passed downstream by this receiver).
    pub include_metadata: bool,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<u64>,
    /// Accepted for compatibility.
    pub keepalive: Option<IgnoredAny>,
    /// Server TLS; mutual TLS with `client_ca_file`.
    pub tls: Option<ServerTlsConfig>,
    /// Authenticator extension checking every call.
    pub auth: Option<AuthConfig>,
    /// Connections held at once (Switchyard; default 4096).
    pub max_connections: usize,
    /// Deadline for the TLS handshake and the first bytes of a connection (Switchyard; default 1m).
    #[serde(with = "humantime_serde")]
    pub read_header_timeout: Duration,
    /// Deadline for a call's request message (Switchyard; default 30s; `0s`: none).
    #[serde(with = "humantime_serde")]
    pub read_timeout: Option<Duration>,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "localhost:14250".into(),
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

/// `protocols: thrift_http:` (the Collector's `confighttp.ServerConfig`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThriftHttpConfig {
    /// `host:port` to listen on (default `localhost:14268`).
    pub endpoint: String,
    /// Largest body accepted, in bytes (default 20 MiB).
    pub max_request_body_size: usize,
    /// Accepted for compatibility.
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
    /// Deadline for a request's whole body (default 30s; `0s`: none).
    #[serde(with = "humantime_serde")]
    pub read_timeout: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Option<Duration>,
    /// Accepted for compatibility.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Option<Duration>,
    /// Connections held at once (Switchyard; default 4096).
    pub max_connections: usize,
}

impl Default for ThriftHttpConfig {
    fn default() -> Self {
        ThriftHttpConfig {
            endpoint: "localhost:14268".into(),
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
        }
    }
}

/// `protocols: thrift_compact:` / `thrift_binary:` (the Collector's `ProtocolUDP`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UdpConfig {
    /// `host:port` to listen on (the protocol's default port when left out).
    pub endpoint: String,
    /// Datagrams waiting for a worker; more are dropped and counted (default 1000).
    pub queue_size: usize,
    /// Largest datagram read; a longer one is truncated and fails to decode (default 65000).
    pub max_packet_size: usize,
    /// Tasks decoding datagrams (default 10).
    pub workers: usize,
    /// The socket's receive buffer (SO_RCVBUF) in bytes; 0 leaves the system's (default 0).
    pub socket_buffer_size: usize,
}

impl Default for UdpConfig {
    fn default() -> Self {
        UdpConfig {
            endpoint: String::new(),
            queue_size: 1_000,
            max_packet_size: 65_000,
            workers: 10,
            socket_buffer_size: 0,
        }
    }
}

/// `read_timeout`, its default, or none for `0s`.
pub(super) fn body_read_timeout(configured: Option<Duration>) -> Option<Duration> {
    match configured {
        None => Some(DEFAULT_READ_TIMEOUT),
        Some(d) if d.is_zero() => None,
        Some(d) => Some(d),
    }
}

/// The Collector's `checkPortFromEndpoint`: `host:port` with a port in 1..=65535.
fn check_port(endpoint: &str) -> Result<(), String> {
    let Some((_, port)) = endpoint.rsplit_once(':') else {
        return Err(format!("endpoint is not formatted correctly: address {endpoint}: missing port in address"));
    };
    let port: i64 = port.parse().map_err(|_| format!("endpoint port is not a number: \"{port}\""))?;
    if !(1..=65535).contains(&port) {
        return Err("port number must be between 1 and 65535".into());
    }
    Ok(())
}

impl ComponentConfig for JaegerReceiverConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let p = &self.protocols;
        if p.grpc.get().is_none()
            && p.thrift_http.get().is_none()
            && p.thrift_compact.get().is_none()
            && p.thrift_binary.get().is_none()
        {
            e.push(FieldError::new("protocols", "must specify at least one protocol when using the Jaeger receiver"));
        }
        let mut port = |field: &str, what: &str, endpoint: &str| {
            if let Err(m) = check_port(endpoint) {
                e.push(FieldError::new(field, format!("invalid port number for the {what} endpoint: {m}")));
            }
        };
        if let Some(g) = p.grpc.get() {
            port("protocols::grpc::endpoint", "gRPC", &g.endpoint);
        }
        if let Some(h) = p.thrift_http.get() {
            port("protocols::thrift_http::endpoint", "Thrift HTTP", &h.endpoint);
        }
        if let Some(u) = p.thrift_binary.get() {
            port("protocols::thrift_binary::endpoint", "Thrift UDP Binary", &u.endpoint);
        }
        if let Some(u) = p.thrift_compact.get() {
            port("protocols::thrift_compact::endpoint", "Thrift UDP Compact", &u.endpoint);
        }
        if let Some(g) = p.grpc.get() {
            if g.transport != "tcp" {
                e.push(FieldError::new("protocols::grpc::transport", "only \"tcp\" is supported"));
            }
            guards("protocols::grpc", &g.tls, &g.auth, g.max_connections, g.read_header_timeout, &mut e);
        }
        if let Some(h) = p.thrift_http.get() {
            guards("protocols::thrift_http", &h.tls, &h.auth, h.max_connections, h.read_header_timeout, &mut e);
            if h.max_request_body_size == 0 {
                e.push(FieldError::new("protocols::thrift_http::max_request_body_size", "must be positive"));
            }
        }
        for (name, sizes) in [
            ("thrift_compact", p.thrift_compact.get().map(|u| (u.queue_size, u.max_packet_size, u.workers))),
            ("thrift_binary", p.thrift_binary.get().map(|u| (u.queue_size, u.max_packet_size, u.workers))),
        ] {
            let Some((queue, packet, workers)) = sizes else { continue };
            for (field, v) in [("queue_size", queue), ("max_packet_size", packet), ("workers", workers)] {
                if v == 0 {
                    e.push(FieldError::new(format!("protocols::{name}::{field}"), "must be positive"));
                }
            }
        }
        if self.remote_sampling.is_some() {
            e.push(FieldError::new(
                "remote_sampling",
                "remote sampling config detected in the Jaeger receiver; use the `jaegerremotesampling` extension instead",
            ));
        }
        e
    }
}

fn guards(
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
