//! The `healthcheckv2` extension: the contrib health check's v2 configuration, mapped
//! onto our health server (`extensions::health_check::server`). With `use_v2: false` it is
//! the original extension (`endpoint`, `path`, `response_body`); with `use_v2: true` it
//! serves `http.status.path` (default `/status`) on `http.endpoint` with the v2 JSON body.
//! What is not built is refused at validation: the gRPC health service (`grpc:`) and the
//! effective-config endpoint (`http.config.enabled`). `component_health` is accepted; the
//! status reflects whether the pipelines run, not per-component errors (a warning says so).

use std::sync::Arc;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, ComponentConfig, Extension, ExtensionFactory, FieldError, Settings, Stability,
};
use switchyard_core::config::Optional;
use switchyard_core::confignet::tls::ServerTlsConfig;

use super::health_check::{HealthServer, HealthServerConfig, Responder, ResponseBody};

/// The Collector type string.
pub const TYPE: &str = "healthcheckv2";

/// `http: status:` (default on, `/status`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusPath {
    /// Serve it.
    pub enabled: bool,
    /// URL path.
    pub path: String,
}

impl Default for StatusPath {
    fn default() -> Self {
        StatusPath { enabled: true, path: "/status".into() }
    }
}

/// `http: config:` (default off, `/config`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigPath {
    /// Serve the effective configuration (not supported).
    pub enabled: bool,
    /// URL path.
    pub path: String,
}

impl Default for ConfigPath {
    fn default() -> Self {
        ConfigPath { enabled: false, path: "/config".into() }
    }
}

/// `http:` (v2).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port` (default `localhost:13133`).
    pub endpoint: String,
    /// Server TLS.
    pub tls: Option<ServerTlsConfig>,
    /// The status path.
    pub status: StatusPath,
    /// The config path.
    pub config: ConfigPath,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "localhost:13133".into(),
            tls: None,
            status: StatusPath::default(),
            config: ConfigPath::default(),
        }
    }
}

/// `grpc:` (v2): parsed so the error can be precise; the service is not built.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    /// `host:port` (default `localhost:13132`).
    pub endpoint: String,
    /// `tcp`.
    pub transport: Option<String>,
    /// Server TLS.
    pub tls: Option<IgnoredAny>,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig { endpoint: "localhost:13132".into(), transport: None, tls: None }
    }
}

/// `component_health:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComponentHealthConfig {
    /// Report permanent component errors as unhealthy.
    pub include_permanent_errors: bool,
    /// Report recoverable component errors as unhealthy after `recovery_duration`.
    pub include_recoverable_errors: bool,
    /// How long a recoverable error may last.
    #[serde(with = "humantime_serde")]
    pub recovery_duration: Option<Duration>,
}

/// The healthcheckv2 extension's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthCheckV2Config {
    /// Serve the v2 `http`/`grpc` services rather than the original endpoint.
    pub use_v2: bool,
    /// v1: `host:port` (default `localhost:13133`).
    pub endpoint: String,
    /// v1: URL path (default `/`).
    pub path: String,
    /// v1: custom bodies.
    pub response_body: Option<ResponseBody>,
    /// v1: accepted and ignored, as in the Collector.
    pub check_collector_pipeline: Option<IgnoredAny>,
    /// v1: server TLS.
    pub tls: Option<ServerTlsConfig>,
    /// v2 HTTP service (present, even empty, turns it on).
    pub http: Optional<HttpConfig>,
    /// v2 gRPC health service (not supported).
    pub grpc: Optional<GrpcConfig>,
    /// v2 component health options.
    pub component_health: Option<ComponentHealthConfig>,
}

impl Default for HealthCheckV2Config {
    fn default() -> Self {
        HealthCheckV2Config {
            use_v2: false,
            endpoint: "localhost:13133".into(),
            path: "/".into(),
            response_body: None,
            check_collector_pipeline: None,
            tls: None,
            http: Optional::default(),
            grpc: Optional::default(),
            component_health: None,
        }
    }
}

impl ComponentConfig for HealthCheckV2Config {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !self.use_v2 {
            if self.endpoint.is_empty() {
                e.push(FieldError::new("endpoint", "http endpoint required"));
            }
            if !self.path.starts_with('/') {
                e.push(FieldError::new("path", "path must start with /"));
            }
            if let Some(t) = &self.tls {
                e.extend(t.validate("tls"));
            }
            return e;
        }
        let (http, grpc) = (self.http.get(), self.grpc.get());
        if http.is_none() && grpc.is_none() {
            e.push(FieldError::new("use_v2", "must specify at least one protocol (http or grpc)"));
        }
        if let Some(h) = http {
            if h.endpoint.is_empty() {
                e.push(FieldError::new("http::endpoint", "http endpoint required"));
            }
            if h.status.enabled && !h.status.path.starts_with('/') {
                e.push(FieldError::new("http::status::path", "path must start with /"));
            }
            if h.config.enabled {
                e.push(FieldError::new(
                    "http::config::enabled",
                    "serving the effective configuration is not supported; remove http.config",
                ));
            }
            if let Some(t) = &h.tls {
                e.extend(t.validate("http::tls"));
            }
        }
        if grpc.is_some() {
            e.push(FieldError::new(
                "grpc",
                "the gRPC health service (grpc.health.v1) is not supported; use http (status path /status)",
            ));
        }
        e
    }
}

/// Creates healthcheckv2 extensions.
pub struct HealthCheckV2ExtensionFactory;

impl ExtensionFactory for HealthCheckV2ExtensionFactory {
    type Config = HealthCheckV2Config;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self) -> Stability {
        Stability::Development
    }
    fn create(&self, set: Settings, cfg: &HealthCheckV2Config) -> Result<Arc<dyn Extension>, BuildError> {
        Ok(Arc::new(HealthServer::new(set.telemetry.clone(), set.id.clone(), server_config(&set, cfg))))
    }
}

/// The health server a config asks for.
fn server_config(set: &Settings, cfg: &HealthCheckV2Config) -> HealthServerConfig {
    if !cfg.use_v2 {
        return HealthServerConfig {
            endpoint: cfg.endpoint.clone(),
            tls: cfg.tls.clone(),
            routes: vec![(cfg.path.clone(), Responder::Legacy(cfg.response_body.clone()))],
        };
    }
    if cfg.component_health.as_ref().is_some_and(|c| c.include_permanent_errors || c.include_recoverable_errors) {
        tracing::warn!(extension = %set.id, "component_health: component errors are not tracked; the status is healthy while the pipelines run");
    }
    let http = cfg.http.get().cloned().unwrap_or_default();
    let routes = if http.status.enabled { vec![(http.status.path.clone(), Responder::Status)] } else { Vec::new() };
    HealthServerConfig { endpoint: http.endpoint, tls: http.tls, routes }
}

#[cfg(test)]
mod tests;
