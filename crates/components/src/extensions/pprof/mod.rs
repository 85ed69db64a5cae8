//! The `pprof` extension (contrib `extension/pprofextension`): CPU profiles of the gateway
//! in pprof's format, so `go tool pprof http://host:1777/debug/pprof/profile?seconds=30`
//! works against Switchyard as against the Collector.
//!
//! Profiles come from the `pprof` crate (tikv/pprof-rs): a `SIGPROF` timer samples the
//! stacks of every thread at [`FREQUENCY_HZ`], and the report is encoded as a gzipped
//! `perftools.profiles.Profile`, as Go's `runtime/pprof` writes it. Only one CPU profile can
//! run at a time in a process (the timer is process-wide), as in Go: a second request, or a
//! request while `save_to_file` is profiling the whole run, gets a 500 saying so.
//!
//! Not built: the heap profile (jemalloc's profiler needs jemalloc built with profiling
//! and a different dump format; `/debug/pprof/heap` answers 501 saying so) and Go's runtime
//! profiles (goroutine, block, mutex, threadcreate, trace: 501). `block_profile_fraction`
//! and `mutex_profile_fraction` are Go runtime rates: accepted, and a warning names them
//! when set.

#[cfg(test)]
mod tests;

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, ComponentId, Extension, ExtensionFactory, FieldError, Host, Settings,
    Stability, StartError,
};
use switchyard_core::confignet::compression::gzip;
use switchyard_core::confignet::server::{self, ServeOptions, Serving};
use switchyard_core::telemetry::{GuardObs, Telemetry};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// The Collector type string.
pub const TYPE: &str = "pprof";

/// Samples per second, Go's `runtime/pprof` rate.
pub const FREQUENCY_HZ: i32 = 100;

/// Longest profile one request may ask for.
const MAX_SECONDS: u64 = 600;

/// Libraries whose frames are not unwound from the signal handler (unwinding through them
/// can deadlock), as pprof-rs recommends.
const BLOCKLIST: &[&str] = &["libc", "libgcc", "pthread", "vdso"];

/// The extension's config: the contrib extension's fields.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PprofConfig {
    /// `host:port` (default `localhost:1777`).
    pub endpoint: String,
    /// Go's block profile rate: accepted, no equivalent (a warning names it when set).
    pub block_profile_fraction: i64,
    /// Go's mutex profile fraction: accepted, no equivalent (a warning names it when set).
    pub mutex_profile_fraction: i64,
    /// A file to write a CPU profile of the whole run to, at shutdown.
    pub save_to_file: String,
    /// `confignet.TCPAddrConfig`'s dialer: meaningless for a listener; accepted.
    pub dialer: Option<IgnoredAny>,
}

impl Default for PprofConfig {
    fn default() -> Self {
        PprofConfig {
            endpoint: "localhost:1777".into(),
            block_profile_fraction: 0,
            mutex_profile_fraction: 0,
            save_to_file: String::new(),
            dialer: None,
        }
    }
}

impl ComponentConfig for PprofConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.endpoint.trim().is_empty() {
            e.push(FieldError::new("endpoint", "must not be empty"));
        }
        e
    }
}

/// Creates pprof extensions.
pub struct PprofExtensionFactory;

impl ExtensionFactory for PprofExtensionFactory {
    type Config = PprofConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self) -> Stability {
        Stability::Beta
    }
    fn create(&self, set: Settings, cfg: &PprofConfig) -> Result<Arc<dyn Extension>, BuildError> {
        Ok(Arc::new(Pprof {
            telemetry: set.telemetry,
            id: set.id,
            cfg: cfg.clone(),
            stop: CancellationToken::new(),
            task: Mutex::new(None),
            whole_run: std::sync::Mutex::new(None),
        }))
    }
}

/// Only one pprof extension may run per process (the profiling timer is process-wide), as
/// upstream enforces.
static RUNNING: AtomicBool = AtomicBool::new(false);

struct Pprof {
    telemetry: Telemetry,
    id: ComponentId,
    cfg: PprofConfig,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The `save_to_file` profiler thread: told to finish by dropping the sender.
    whole_run: std::sync::Mutex<Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
}

/// Why a profile could not be taken.
#[derive(Debug, thiserror::Error)]
enum ProfileError {
    #[error(
        "could not enable CPU profiling: {0} (one CPU profile at a time: another request or save_to_file is profiling)"
    )]
    Busy(String),
    #[error("could not build the profile: {0}")]
    Report(String),
}

/// Samples the process until `until` returns true, then encodes the gzipped pprof profile.
fn cpu_profile(mut until: impl FnMut() -> bool) -> Result<Vec<u8>, ProfileError> {
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY_HZ)
        .blocklist(BLOCKLIST)
        .build()
        .map_err(|e| ProfileError::Busy(e.to_string()))?;
    while !until() {}
    let report = guard.report().build().map_err(|e| ProfileError::Report(e.to_string()))?;
    let profile = report.pprof().map_err(|e| ProfileError::Report(e.to_string()))?;
    Ok(gzip(&pprof::protos::Message::encode_to_vec(&profile), 6))
}

/// The `seconds` parameter of a query string, if present.
fn seconds_param(uri: &Uri) -> Option<&str> {
    uri.query()?.split('&').find_map(|kv| kv.strip_prefix("seconds="))
}

fn text(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg.into()).into_response()
}

async fn profile(State(stop): State<CancellationToken>, uri: Uri) -> Response {
    // Go's default is 30 s; a value that is not a positive integer is a bad request.
    let secs = match seconds_param(&uri).map(str::parse::<u64>) {
        None => 30,
        Some(Ok(s)) if (1..=MAX_SECONDS).contains(&s) => s,
        _ => return text(StatusCode::BAD_REQUEST, format!("seconds must be an integer from 1 to {MAX_SECONDS}")),
    };
    let end = Instant::now() + Duration::from_secs(secs);
    let done = tokio::task::spawn_blocking(move || {
        cpu_profile(|| {
            std::thread::sleep(Duration::from_millis(50));
            Instant::now() >= end || stop.is_cancelled()
        })
    })
    .await;
    match done {
        Ok(Ok(body)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"profile\""),
            ],
            body,
        )
            .into_response(),
        Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("profiler task failed: {e}")),
    }
}

const INDEX: &str = "<!DOCTYPE html><html><head><title>/debug/pprof/</title></head><body><h1>/debug/pprof/</h1>\
<p><a href=\"profile?seconds=30\">profile</a>: CPU profile (pprof format, gzipped); <code>?seconds=N</code>, default 30.</p>\
<p>heap, allocs, goroutine, block, mutex, threadcreate, trace: not available in Switchyard (501).</p></body></html>";

async fn other(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "heap" | "allocs" => text(
            StatusCode::NOT_IMPLEMENTED,
            "heap profiles are not built in Switchyard: its allocator (jemalloc) is not built with profiling. \
             Use the CPU profile at /debug/pprof/profile, and otelcol_process_memory_rss for memory.",
        ),
        "goroutine" | "block" | "mutex" | "threadcreate" | "trace" | "cmdline" | "symbol" => {
            text(StatusCode::NOT_IMPLEMENTED, format!("{name} is a Go runtime profile; Switchyard is not a Go program"))
        }
        _ => text(StatusCode::NOT_FOUND, format!("unknown profile {name:?}")),
    }
}

fn router(stop: CancellationToken) -> Router {
    Router::new()
        .route("/debug/pprof/", get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX) }))
        .route("/debug/pprof/profile", get(profile))
        .route("/debug/pprof/{name}", get(other))
        .with_state(stop)
}

impl Pprof {
    /// Starts the whole-run profile written to `save_to_file` at shutdown.
    fn start_whole_run(&self) -> Result<(), StartError> {
        let path = std::path::PathBuf::from(&self.cfg.save_to_file);
        // Fail at start, as upstream does, when the file cannot be created.
        std::fs::File::create(&path)
            .map_err(|e| StartError::new(format!("save_to_file: cannot create {}: {e}", path.display())))?;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let who = self.id.to_string();
        let thread = std::thread::Builder::new()
            .name("pprof-save".into())
            .spawn(move || {
                let mut signalled = false;
                let result = cpu_profile(|| {
                    if !signalled {
                        signalled = true;
                        let _ = started_tx.send(Ok(()));
                    }
                    // Returns when the sender is dropped (shutdown).
                    matches!(rx.recv_timeout(Duration::from_millis(200)), Err(std::sync::mpsc::RecvTimeoutError::Disconnected))
                });
                match result.map(|body| std::fs::write(&path, body)) {
                    Ok(Ok(())) => tracing::info!(extension = %who, file = %path.display(), "CPU profile of the run saved."),
                    Ok(Err(e)) => tracing::error!(extension = %who, file = %path.display(), error = %e, "Cannot write the CPU profile."),
                    Err(e) => {
                        let _ = started_tx.send(Err(e.to_string()));
                        tracing::error!(extension = %who, error = %e, "CPU profile of the run failed.");
                    }
                }
            })
            .map_err(|e| StartError::new(format!("cannot start the profiler thread: {e}")))?;
        match started_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(StartError::new(format!("save_to_file: {e}"))),
            Err(_) => return Err(StartError::new("save_to_file: the profiler thread ended")),
        }
        *self.whole_run.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((tx, thread));
        Ok(())
    }
}

impl Component for Pprof {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            if RUNNING.swap(true, Ordering::AcqRel) {
                return Err(StartError::new("only a single pprof extension instance can be running per process"));
            }
            let listener = match switchyard_core::confignet::listener::bind(&self.cfg.endpoint).await {
                Ok(l) => l,
                Err(e) => {
                    RUNNING.store(false, Ordering::Release);
                    return Err(StartError::new(format!("cannot listen on {}: {e}", self.cfg.endpoint)));
                }
            };
            let go_only: Vec<&str> = [
                ("block_profile_fraction", self.cfg.block_profile_fraction),
                ("mutex_profile_fraction", self.cfg.mutex_profile_fraction),
            ]
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .map(|(k, _)| k)
            .collect();
            if !go_only.is_empty() {
                tracing::warn!(extension = %self.id, fields = %go_only.join(", "),
                    "Go runtime profiling rates have no equivalent in Switchyard and are ignored.");
            }
            if !self.cfg.save_to_file.is_empty() {
                if let Err(e) = self.start_whole_run() {
                    RUNNING.store(false, Ordering::Release);
                    return Err(e);
                }
            }
            tracing::info!(extension = %self.id, endpoint = ?listener.local_addr().ok(), "pprof endpoint started.");
            let serving = Serving {
                who: self.id.to_string(),
                listener,
                tls: None,
                options: ServeOptions::default(),
                obs: GuardObs::new(&self.telemetry, &[("receiver", &self.id.to_string()), ("transport", "http")]),
            };
            *self.task.lock().await =
                Some(tokio::spawn(server::serve(serving, router(self.stop.clone()), self.stop.clone())));
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            let whole_run = self.whole_run.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some((tx, thread)) = whole_run {
                drop(tx);
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
            let had_task = self.task.lock().await.take();
            if let Some(t) = had_task {
                let _ = t.await;
                RUNNING.store(false, Ordering::Release);
            }
        })
    }
}

impl Extension for Pprof {
    fn as_any(&self) -> &dyn Any {
        self
    }
}
