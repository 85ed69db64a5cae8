//! The `prometheus` exporter: a pull exporter. It keeps the latest value of every series
//! it receives (`store.rs`) and serves them on `endpoint` at `GET /metrics` for Prometheus
//! to scrape (`exposition.rs`), with the translation the remote-write exporter uses
//! (`exporters::prometheus_translate`).

mod config;
mod exposition;
mod store;

pub use config::PrometheusExporterConfig;

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use switchyard_core::component::{
    BuildError, Component, ComponentId, ExporterFactory, Host, Settings, Stability, StartError,
};
use switchyard_core::confignet::server::{self, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, RequestContext};
use switchyard_core::telemetry::{names as metric_names, Counter, ExporterObs, GuardObs, LogThrottle, Telemetry};
use switchyard_pdata::{Metrics, Signal, SignalData};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::exporters::prometheus_translate::Label;
use exposition::{Format, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use store::{Store, Translation};

/// The Collector type string.
pub const TYPE: &str = "prometheus";

/// Creates prometheus exporters (metrics only).
pub struct PrometheusExporterFactory;

impl ExporterFactory for PrometheusExporterFactory {
    type Config = PrometheusExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Metrics).then_some(Stability::Beta)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &PrometheusExporterConfig,
        _signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let e = Arc::new(PrometheusExporter::new(&set, cfg));
        Ok((AnyConsumer::Metrics(e.clone()), Box::new(crate::exporters::SharedComponent(e))))
    }
}

/// The exporter: the consumer side fills the store, the HTTP side reads it.
struct PrometheusExporter {
    id: ComponentId,
    cfg: PrometheusExporterConfig,
    telemetry: Telemetry,
    store: Arc<Store>,
    obs: ExporterObs,
    dropped_unsupported: Counter,
    dropped_misaligned: Counter,
    drop_log: LogThrottle,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl PrometheusExporter {
    fn new(set: &Settings, cfg: &PrometheusExporterConfig) -> Self {
        let tr = Translation {
            namespace: cfg.namespace.clone(),
            suffixes: cfg.suffixes(),
            const_labels: cfg
                .const_labels
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| Label::new(k, v))
                .collect(),
            resource_to_telemetry: cfg.resource_to_telemetry_conversion.enabled,
        };
        let id = set.id.to_string();
        let dropped = |reason: &str| {
            set.telemetry.metrics.counter(
                &format!("{}_metric_points", metric_names::EXPORTER_DROPPED),
                "Items the exporter dropped, by reason.",
                &[("exporter", id.as_str()), ("reason", reason)],
            )
        };
        PrometheusExporter {
            id: set.id.clone(),
            cfg: cfg.clone(),
            telemetry: set.telemetry.clone(),
            store: Arc::new(Store::new(tr, cfg.metric_expiration)),
            obs: ExporterObs::new(&set.telemetry, &set.id, Signal::Metrics),
            dropped_unsupported: dropped("unsupported_temporality"),
            dropped_misaligned: dropped("misaligned_delta"),
            drop_log: LogThrottle::default(),
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }
    }
}

impl Consumer<Metrics> for PrometheusExporter {
    fn consume<'a>(&'a self, _cx: &'a RequestContext, data: Metrics) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let items = data.item_count();
            let out = self.store.accumulate(data.request());
            let dropped = out.unsupported + out.misaligned;
            tracing::trace!(exporter = %self.id, stored = out.stored, dropped, "metrics accumulated");
            self.dropped_unsupported.add(out.unsupported as u64);
            self.dropped_misaligned.add(out.misaligned as u64);
            if let Some(why) = out.first_drop {
                if let Some(suppressed) = self.drop_log.allow() {
                    tracing::warn!(exporter = %self.id, dropped, suppressed, "{why}");
                }
            }
            // As the Collector: what cannot be served is dropped, never retried.
            self.obs.sent.add(items.saturating_sub(dropped) as u64);
            Ok(())
        })
    }
}

impl Component for PrometheusExporter {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let addr = self.cfg.listen_addr();
            let listener = switchyard_core::confignet::listener::bind(&addr)
                .await
                .map_err(|e| StartError::new(format!("exporter \"{}\": cannot listen on {addr}: {e}", self.id)))?;
            let tls = match &self.cfg.tls {
                Some(t) => Some(
                    ServerTls::new(
                        t,
                        vec![b"h2".to_vec(), b"http/1.1".to_vec()],
                        self.id.to_string(),
                        self.stop.clone(),
                    )
                    .map_err(|e| StartError::new(format!("exporter \"{}\": tls: {e}", self.id)))?,
                ),
                None => None,
            };
            tracing::info!(exporter = %self.id, endpoint = ?listener.local_addr().ok(), tls = tls.is_some(), "Serving Prometheus metrics at /metrics.");
            let scrape = Scrape {
                id: self.id.clone(),
                store: self.store.clone(),
                namespace: self.cfg.namespace.clone(),
                open_metrics: self.cfg.enable_open_metrics,
                timestamps: self.cfg.send_timestamps,
                conflict_log: Arc::new(LogThrottle::default()),
            };
            let app = Router::new().route("/metrics", get(move |headers: HeaderMap| scrape.clone().serve(headers)));
            let mut options = ServeOptions::default();
            if let Some(t) = self.cfg.read_header_timeout {
                options.read_header_timeout = t;
            }
            let serving = Serving {
                who: self.id.to_string(),
                listener,
                tls,
                options,
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

/// One scrape's handler state (cloned per request: reference counts only).
#[derive(Clone)]
struct Scrape {
    id: ComponentId,
    store: Arc<Store>,
    namespace: String,
    open_metrics: bool,
    timestamps: bool,
    conflict_log: Arc<LogThrottle>,
}

impl Scrape {
    async fn serve(self, headers: HeaderMap) -> axum::response::Response {
        let open_metrics = self.open_metrics
            && headers
                .get_all(header::ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.contains("application/openmetrics-text"));
        let f = Format { open_metrics, timestamps: self.timestamps };
        // The lock is held only to take the snapshot; formatting runs on a blocking thread
        // so a large exposition does not hold up the runtime.
        let store = self.store.clone();
        let namespace = self.namespace.clone();
        let written = tokio::task::spawn_blocking(move || {
            let series = store.collect();
            exposition::write(&series, &namespace, f)
        })
        .await;
        let (body, skipped) = match written {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(exporter = %self.id, "formatting the scrape failed: {e}");
                return (StatusCode::INTERNAL_SERVER_ERROR, "formatting the metrics failed\n").into_response();
            }
        };
        if let Some(family) = skipped.first {
            if let Some(suppressed) = self.conflict_log.allow() {
                tracing::warn!(exporter = %self.id, series = skipped.type_conflicts, suppressed, "metric family \"{family}\" has series of two types; the second type's series are not served");
            }
        }
        let ct = if open_metrics { OPENMETRICS_CONTENT_TYPE } else { TEXT_CONTENT_TYPE };
        (StatusCode::OK, [(header::CONTENT_TYPE, ct)], body).into_response()
    }
}

#[cfg(test)]
mod tests;
