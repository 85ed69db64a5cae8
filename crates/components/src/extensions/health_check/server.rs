//! The health HTTP server both `health_check` and `healthcheckv2` run: one port, one or
//! more paths, each answering from the pipelines' state (`Host::is_ready`) in the body
//! format its extension promises.

use std::any::Any;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Instant, SystemTime};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use switchyard_core::component::{Component, ComponentId, Extension, Host, StartError};
use switchyard_core::confignet::server::{self, ServeOptions, Serving};
use switchyard_core::confignet::tls::{ServerTls, ServerTlsConfig};
use switchyard_core::telemetry::{GuardObs, Telemetry};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::ResponseBody;

/// How a path answers.
#[derive(Clone, Debug)]
pub enum Responder {
    /// The original extension's: `{"status":"Server available","upSince":..,"uptime":..}`
    /// (or the custom bodies), 200 while the pipelines run, 503 otherwise.
    Legacy(Option<ResponseBody>),
    /// healthcheckv2's status: `{"start_time":..,"healthy":..,"status":"StatusOK",
    /// "status_time":..}`, 200 while the pipelines run, 503 while starting or stopping.
    Status,
}

/// The server's settings.
pub struct HealthServerConfig {
    /// `host:port` (`:port` means every interface).
    pub endpoint: String,
    /// Server TLS.
    pub tls: Option<ServerTlsConfig>,
    /// Paths and how each answers.
    pub routes: Vec<(String, Responder)>,
}

/// A health extension: the server plus its lifecycle.
pub struct HealthServer {
    telemetry: Telemetry,
    id: ComponentId,
    cfg: HealthServerConfig,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl HealthServer {
    /// A server, not yet listening.
    pub fn new(telemetry: Telemetry, id: ComponentId, cfg: HealthServerConfig) -> HealthServer {
        HealthServer { telemetry, id, cfg, stop: CancellationToken::new(), task: Mutex::new(None) }
    }
}

/// What the v2 status reports: the last state seen and since when.
struct Seen {
    ready: Option<bool>,
    ever_ready: bool,
    since: SystemTime,
}

/// The state every route reads.
struct State {
    host: Host,
    start: SystemTime,
    started: Instant,
    seen: StdMutex<Seen>,
}

impl State {
    /// Ready or not, and the v2 status word and since when it holds.
    fn status(&self) -> (bool, &'static str, SystemTime) {
        let ready = self.host.is_ready();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.ready != Some(ready) {
            seen.since = SystemTime::now();
        }
        seen.ready = Some(ready);
        seen.ever_ready |= ready;
        // Not ready before the pipelines first ran: starting; after: stopping.
        let word = match (ready, seen.ever_ready) {
            (true, _) => "StatusOK",
            (false, true) => "StatusStopping",
            (false, false) => "StatusStarting",
        };
        (ready, word, seen.since)
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_nanos(t).to_string()
}

fn respond(state: &State, responder: &Responder) -> Response {
    let (ready, word, since) = state.status();
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    match responder {
        Responder::Legacy(bodies) => {
            let custom = bodies.as_ref().and_then(|b| if ready { b.healthy.clone() } else { b.unhealthy.clone() });
            let body = custom.unwrap_or_else(|| {
                let text = if ready { "Server available" } else { "Server not available" };
                serde_json::json!({
                    "status": text,
                    "upSince": humantime::format_rfc3339_seconds(state.start).to_string(),
                    "uptime": format!("{:?}", state.started.elapsed()),
                })
                .to_string()
            });
            (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Responder::Status => {
            let body = serde_json::json!({
                "start_time": rfc3339(state.start),
                "healthy": ready,
                "status": word,
                "status_time": rfc3339(since),
            });
            (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
        }
    }
}

impl Component for HealthServer {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let e = self.cfg.endpoint.trim();
            let addr = if e.starts_with(':') { format!("0.0.0.0{e}") } else { e.to_string() };
            let listener = switchyard_core::confignet::listener::bind(&addr)
                .await
                .map_err(|err| StartError::new(format!("cannot listen on {addr}: {err}")))?;
            let state = Arc::new(State {
                host: host.clone(),
                start: SystemTime::now(),
                started: Instant::now(),
                seen: StdMutex::new(Seen { ready: None, ever_ready: false, since: SystemTime::now() }),
            });
            let mut app = Router::new();
            for (path, responder) in &self.cfg.routes {
                let (state, responder) = (state.clone(), responder.clone());
                app = app.route(path, get(move || async move { respond(&state, &responder) }));
            }
            let tls = match &self.cfg.tls {
                Some(t) => Some(
                    ServerTls::new(t, vec![b"http/1.1".to_vec()], self.id.to_string(), self.stop.clone())
                        .map_err(|e| StartError::new(format!("extension \"{}\": tls: {e}", self.id)))?,
                ),
                None => None,
            };
            let paths: Vec<&str> = self.cfg.routes.iter().map(|(p, _)| p.as_str()).collect();
            tracing::info!(extension = %self.id, endpoint = ?listener.local_addr().ok(), ?paths, tls = tls.is_some(), "Health check endpoint started.");
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

impl Extension for HealthServer {
    fn as_any(&self) -> &dyn Any {
        self
    }
}
