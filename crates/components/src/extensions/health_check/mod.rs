//! The `health_check` extension: an HTTP endpoint answering 200 while the pipelines run
//! and 503 before start and during shutdown, as the Collector's does.

use std::any::Any;
use std::sync::Arc;
use std::time::SystemTime;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, ComponentId, Extension, ExtensionFactory, FieldError, Host, Settings,
    Stability, StartError,
};
use switchyard_core::confignet::server::{self, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::telemetry::{GuardObs, Telemetry};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

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
        Ok(Arc::new(HealthCheck {
            telemetry: set.telemetry,
            id: set.id,
            cfg: cfg.clone(),
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }))
    }
}

struct HealthCheck {
    telemetry: Telemetry,
    id: ComponentId,
    cfg: HealthCheckConfig,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Component for HealthCheck {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind(&self.cfg.endpoint)
                .await
                .map_err(|e| StartError::new(format!("cannot listen on {}: {e}", self.cfg.endpoint)))?;
            let host = host.clone();
            let up_since = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let started = std::time::Instant::now();
            let bodies = self.cfg.response_body.clone();
            let app = Router::new().route(
                &self.cfg.path,
                get(move || {
                    let ready = host.is_ready();
                    let (status, text) = if ready { (StatusCode::OK, "Server available") } else { (StatusCode::SERVICE_UNAVAILABLE, "Server not available") };
                    let custom = bodies.as_ref().and_then(|b| if ready { b.healthy.clone() } else { b.unhealthy.clone() });
                    let body = custom.unwrap_or_else(|| {
                        serde_json::json!({"status": text, "upSince": up_since, "uptime": format!("{:?}", started.elapsed())}).to_string()
                    });
                    async move { (status, [(header::CONTENT_TYPE, "application/json")], body).into_response() }
                }),
            );
            let tls = match &self.cfg.tls {
                Some(t) => Some(
                    ServerTls::new(t, vec![b"http/1.1".to_vec()], self.id.to_string(), self.stop.clone())
                        .map_err(|e| StartError::new(format!("extension \"{}\": tls: {e}", self.id)))?,
                ),
                None => None,
            };
            tracing::info!(extension = %self.id, endpoint = ?listener.local_addr().ok(), tls = tls.is_some(), "Health check endpoint started.");
            let serving = Serving {
                who: self.id.to_string(),
                listener,
                tls,
                options: ServeOptions::default(),
                obs: GuardObs::new(&self.telemetry, &[("receiver", &self.id.to_string()), ("transport", "http")]),
            };
            *self.task.lock().await = Some(tokio::spawn(server::serve(serving, app, self.stop.clone())));
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            if let Some(t) = self.task.lock().await.take() {
                let _ = t.await;
            }
        })
    }
}

impl Extension for HealthCheck {
    fn as_any(&self) -> &dyn Any {
        self
    }
}
