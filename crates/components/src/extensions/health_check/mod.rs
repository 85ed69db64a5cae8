//! The `health_check` extension: an HTTP endpoint answering 200 while the pipelines run
//! and 503 before start and during shutdown, as the Collector's does.

pub mod server;

use std::sync::Arc;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, ComponentConfig, Extension, ExtensionFactory, FieldError, Settings, Stability,
};

pub use server::{HealthServer, HealthServerConfig, Responder};

/// The Collector type string.
pub const TYPE: &str = "health_check";

/// Custom response bodies.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseBody {
    /// Body when healthy.
    pub healthy: Option<String>,
    /// Body when not.
    pub unhealthy: Option<String>,
}

/// The health_check extension's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// `host:port` (default `localhost:13133`).
    pub endpoint: String,
    /// URL path (default `/`).
    pub path: String,
    /// Custom bodies instead of the JSON status.
    pub response_body: Option<ResponseBody>,
    /// Accepted for compatibility (deprecated in the Collector).
    pub check_collector_pipeline: Option<IgnoredAny>,
    /// Server TLS on the health endpoint.
    pub tls: Option<switchyard_core::confignet::tls::ServerTlsConfig>,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        HealthCheckConfig {
            endpoint: "localhost:13133".into(),
            path: "/".into(),
            response_body: None,
            check_collector_pipeline: None,
            tls: None,
        }
    }
}

impl ComponentConfig for HealthCheckConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !self.path.starts_with('/') {
            e.push(FieldError::new("path", "must start with \"/\""));
        }
        if let Some(t) = &self.tls {
            e.extend(t.validate("tls"));
        }
        e
    }
}

/// Creates health_check extensions.
pub struct HealthCheckExtensionFactory;

impl ExtensionFactory for HealthCheckExtensionFactory {
    type Config = HealthCheckConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["healthcheck"]
    }
    fn stability(&self) -> Stability {
        Stability::Beta
    }
    fn create(&self, set: Settings, cfg: &HealthCheckConfig) -> Result<Arc<dyn Extension>, BuildError> {
        let server = HealthServerConfig {
            endpoint: cfg.endpoint.clone(),
            tls: cfg.tls.clone(),
            routes: vec![(cfg.path.clone(), Responder::Legacy(cfg.response_body.clone()))],
        };
        Ok(Arc::new(HealthServer::new(set.telemetry, set.id, server)))
    }
}

#[cfg(test)]
pub(crate) mod tests;
