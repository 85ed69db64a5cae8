//! The `zpages` extension: the Collector's in-process debug pages (`/debug/servicez`,
//! `/debug/pipelinez`, `/debug/extensionz`, `/debug/featurez`, `/debug/tracez`) and
//! Switchyard's status page (`/` and `/debug/statusz`): the pipeline graph drawn as SVG
//! with live items per second on every component, queue fill per exporter, and the loaded
//! config with secrets redacted, and the last warnings and errors the gateway logged.
//! Everything is server-rendered HTML without scripts or external assets; the status page
//! reloads itself every few seconds. `/debug/tap` streams a sample of the data passing any
//! component as newline-delimited OTLP/JSON (`switchyard tap`).

mod pages;
mod stats;
mod tap;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, ComponentId, Extension, ExtensionFactory, FieldError, Host, Settings,
    Stability, StartError,
};
use switchyard_core::confignet::server::{self, ServeOptions, Serving};
use switchyard_core::confignet::tls::{ServerTls, ServerTlsConfig};
use switchyard_core::graph::ServiceView;
use switchyard_core::telemetry::{GuardObs, RecentEvents, Telemetry};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use stats::Sampler;

/// The Collector type string.
pub const TYPE: &str = "zpages";

/// How often the rates are re-sampled (and the status page reloads).
const TICK: Duration = Duration::from_secs(1);

/// `expvar:` (the Collector serves Go's expvar at `/debug/expvar` when enabled).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpvarConfig {
    /// Serve `/debug/expvar` (our self-metrics as JSON).
    pub enabled: bool,
}

/// The zpages extension's config: the Collector's (an HTTP server config, `expvar`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZPagesConfig {
    /// `host:port` (default `localhost:55679`).
    pub endpoint: String,
    /// Server TLS.
    pub tls: Option<ServerTlsConfig>,
    /// `/debug/expvar`.
    pub expvar: ExpvarConfig,
}

impl Default for ZPagesConfig {
    fn default() -> Self {
        ZPagesConfig { endpoint: "localhost:55679".into(), tls: None, expvar: ExpvarConfig::default() }
    }
}

impl ComponentConfig for ZPagesConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.endpoint.trim().is_empty() {
            e.push(FieldError::new("endpoint", "must not be empty"));
        }
        if let Some(t) = &self.tls {
            e.extend(t.validate("tls"));
        }
        e
    }
}

/// Creates zpages extensions.
pub struct ZPagesExtensionFactory;

impl ExtensionFactory for ZPagesExtensionFactory {
    type Config = ZPagesConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self) -> Stability {
        Stability::Beta
    }
    fn create(&self, set: Settings, cfg: &ZPagesConfig) -> Result<Arc<dyn Extension>, BuildError> {
        Ok(Arc::new(ZPages {
            telemetry: set.telemetry,
            id: set.id,
            cfg: cfg.clone(),
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }))
    }
}

struct ZPages {
    telemetry: Telemetry,
    id: ComponentId,
    cfg: ZPagesConfig,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// What every handler reads.
pub(crate) struct Shared {
    host: Host,
    sampler: Sampler,
    expvar: bool,
    /// The last warnings and errors logged.
    recent: Arc<RecentEvents>,
    /// Ends the tap streams when the extension stops.
    stop: CancellationToken,
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The routes, on their own so tests can serve them without a listener.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut r = Router::new()
        .route("/", get(|State(s): State<Arc<Shared>>| async move { html(pages::status(&s)) }))
        .route("/debug/statusz", get(|State(s): State<Arc<Shared>>| async move { html(pages::status(&s)) }))
        .route(
            "/debug/statusz.json",
            get(|State(s): State<Arc<Shared>>| async move {
                ([(header::CONTENT_TYPE, "application/json")], pages::status_json(&s)).into_response()
            }),
        )
        .route("/debug/servicez", get(|State(s): State<Arc<Shared>>| async move { html(pages::servicez(&s)) }))
        .route("/debug/pipelinez", get(|State(s): State<Arc<Shared>>| async move { html(pages::pipelinez(&s)) }))
        .route("/debug/extensionz", get(|State(s): State<Arc<Shared>>| async move { html(pages::extensionz(&s)) }))
        .route("/debug/featurez", get(|| async { html(pages::featurez()) }))
        .route("/debug/tracez", get(|| async { html(pages::tracez()) }))
        .route("/debug/tap", get(tap::tap));
    if shared.expvar {
        r = r.route(
            "/debug/expvar",
            get(|State(s): State<Arc<Shared>>| async move {
                ([(header::CONTENT_TYPE, "application/json")], pages::expvar(&s)).into_response()
            }),
        );
    }
    r.fallback(|| async { (StatusCode::NOT_FOUND, html(pages::not_found())) }).with_state(shared)
}

impl Shared {
    pub(crate) fn new(host: Host, telemetry: Telemetry, expvar: bool) -> Shared {
        // The view's registry is the one components count into (it survives reloads); a
        // host without a view (component tests) falls back to the extension's own.
        let t = host.service().map_or(telemetry, |v| v.telemetry.clone());
        Shared { host, recent: t.recent.clone(), sampler: Sampler::new(t), expvar, stop: CancellationToken::new() }
    }

    /// The service as currently configured: read per request, since a reload replaces it
    /// while this extension keeps running.
    pub(crate) fn view(&self) -> Option<Arc<ServiceView>> {
        self.host.service()
    }
}

impl Component for ZPages {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let listener = switchyard_core::confignet::listener::bind(&self.cfg.endpoint)
                .await
                .map_err(|e| StartError::new(format!("cannot listen on {}: {e}", self.cfg.endpoint)))?;
            let mut shared = Shared::new(host.clone(), self.telemetry.clone(), self.cfg.expvar.enabled);
            shared.stop = self.stop.clone();
            let shared = Arc::new(shared);
            if shared.view().is_none() {
                tracing::warn!(extension = %self.id, "No service view: the pages show no pipelines.");
            }
            let tls = match &self.cfg.tls {
                Some(t) => Some(
                    ServerTls::new(t, vec![b"http/1.1".to_vec()], self.id.to_string(), self.stop.clone())
                        .map_err(|e| StartError::new(format!("extension \"{}\": tls: {e}", self.id)))?,
                ),
                None => None,
            };
            let sampler = shared.clone();
            let stop = self.stop.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(TICK);
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tick.tick() => sampler.sampler.tick(),
                    }
                }
            });
            tracing::info!(extension = %self.id, endpoint = ?listener.local_addr().ok(), tls = tls.is_some(), "zPages endpoint started.");
            let serving = Serving {
                who: self.id.to_string(),
                listener,
                tls,
                options: ServeOptions::default(),
                obs: GuardObs::new(&self.telemetry, &[("receiver", &self.id.to_string()), ("transport", "http")]),
            };
            *self.task.lock().await = Some(tokio::spawn(server::serve(serving, router(shared), self.stop.clone())));
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

impl Extension for ZPages {
    fn as_any(&self) -> &dyn Any {
        self
    }
}
