//! The `prometheusremotewrite` exporter (alias `prometheus_remote_write`): metrics to
//! Prometheus, Mimir, VictoriaMetrics, Thanos, Cortex by remote write 1.0 (protobuf +
//! snappy), with the Collector's OTLP → Prometheus translation.

mod config;
mod info_clock;
mod proto;
mod sender;
mod translate;

pub use config::PrometheusRemoteWriteExporterConfig;

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{BuildError, Component, ExporterFactory, Settings, Stability};
use switchyard_core::consumer::AnyConsumer;
use switchyard_core::exporterhelper::QueuedExporter;
use switchyard_core::telemetry::{names as metric_names, ExporterObs, LogThrottle};
use switchyard_pdata::{Metrics, Signal};

use crate::exporters::{header_map, http_client, HttpClientSettings, SharedComponent};
use proto::Label;
use sender::{DropCounters, RemoteWriteSender};

/// The Collector type string (legacy spelling, the one most configs use).
pub const TYPE: &str = "prometheusremotewrite";

/// Creates remote-write exporters (metrics only).
pub struct PrometheusRemoteWriteExporterFactory;

impl ExporterFactory for PrometheusRemoteWriteExporterFactory {
    type Config = PrometheusRemoteWriteExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["prometheus_remote_write"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Metrics).then_some(Stability::Beta)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &PrometheusRemoteWriteExporterConfig,
        _signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let sender = sender(&set, cfg).map_err(|e| BuildError::new(&set, e))?;
        let obs = ExporterObs::new(&set.telemetry, &set.id, Signal::Metrics);
        // The per-attempt timeout is the HTTP client's (`timeout`), as in the Collector.
        let q: Arc<QueuedExporter<Metrics>> = Arc::new(QueuedExporter::new(
            set.id.clone(),
            sender,
            cfg.queue(),
            cfg.retry_on_failure.clone(),
            Duration::ZERO,
            obs,
        ));
        Ok((AnyConsumer::Metrics(q.clone()), Box::new(SharedComponent(q))))
    }
}

fn sender(set: &Settings, cfg: &PrometheusRemoteWriteExporterConfig) -> Result<RemoteWriteSender, String> {
    let client = http_client(HttpClientSettings {
        timeout: cfg.timeout,
        max_idle_conns: cfg.max_idle_conns,
        idle_conn_timeout: cfg.idle_conn_timeout,
        tls: &cfg.tls,
        https: cfg.endpoint.starts_with("https://"),
        proxy_url: cfg.proxy_url.as_deref(),
    })?;
    let id = set.id.to_string();
    let dropped = |reason: &str| {
        set.telemetry.metrics.counter(
            &format!("{}_metric_points", metric_names::EXPORTER_DROPPED),
            "Items the exporter dropped, by reason.",
            &[("exporter", id.as_str()), ("reason", reason)],
        )
    };
    Ok(RemoteWriteSender {
        id: set.id.clone(),
        client,
        url: cfg.endpoint.clone(),
        headers: header_map(&cfg.headers)?,
        auth: crate::exporters::client::ExporterAuth::new(cfg.auth.clone()),
        settings: translate::Settings {
            namespace: cfg.namespace.clone(),
            add_suffixes: cfg.suffixes(),
            external_labels: cfg
                .external_labels
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| Label { name: k.clone(), value: v.clone() })
                .collect(),
            resource_to_telemetry: cfg.resource_to_telemetry_conversion.enabled,
            exclude_service_attributes: cfg.resource_to_telemetry_conversion.exclude_service_attributes,
            target_info: cfg.target_info.enabled,
            scope_info: !cfg.disable_scope_info,
            send_metadata: cfg.send_metadata,
        },
        max_bytes: cfg.max_batch_bytes(),
        parallelism: cfg.parallelism(),
        dropped: DropCounters {
            temporality: dropped("unsupported_temporality"),
            invalid: dropped("invalid_point"),
            native_histograms: dropped("native_histograms_unsupported"),
        },
        drop_log: LogThrottle::default(),
        native_histograms: std::sync::atomic::AtomicU8::new(sender::NATIVE_UNKNOWN),
        info_clock: info_clock::InfoClock::new(crate::exporters::prometheus_translate::target_info_name(
            &cfg.namespace,
        )),
    })
}
