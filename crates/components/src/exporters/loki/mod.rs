//! The `loki` exporter: logs to Grafana Loki's push API (`/loki/api/v1/push`), as the
//! Collector's contrib `lokiexporter` did before its removal (v0.131): stream labels from
//! `loki.*` hint attributes and default labels, a JSON, logfmt or raw line per record, a
//! request per tenant (`loki.tenant`), protobuf + snappy on the wire (or JSON).
//!
//! Loki 3.x also takes OTLP natively (`otlphttp` to `http://loki:3100/otlp`); see
//! `docs/components/exporters/loki.md`.

mod config;
mod convert;
mod http;
mod line;
mod push;

#[cfg(test)]
mod tests;

pub use config::{LokiExporterConfig, PushFormat};

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{BuildError, Component, ExporterFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, DynConsumer};
use switchyard_core::exporterhelper::QueuedExporter;
use switchyard_core::telemetry::ExporterObs;
use switchyard_pdata::{Logs, Signal};

use crate::exporters::SharedComponent;

/// The Collector type string.
pub const TYPE: &str = "loki";

/// Creates Loki exporters (logs only).
pub struct LokiExporterFactory;

impl ExporterFactory for LokiExporterFactory {
    type Config = LokiExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        // As the Collector last published it (deprecated, then removed in favour of Loki's
        // native OTLP endpoint).
        (signal == Signal::Logs).then_some(Stability::Deprecated)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &LokiExporterConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        if signal != Signal::Logs {
            return Err(BuildError::new(&set, format!("the loki exporter does not support {signal}")));
        }
        let (consumer, component) = build(&set, cfg).map_err(|e| BuildError::new(&set, e))?;
        Ok((AnyConsumer::from(consumer), component))
    }
}

/// The exporter: the Loki sender behind the exporter helper (whose per-attempt timeout is
/// off: `timeout` is the HTTP client's, as in the Collector).
fn build(set: &Settings, cfg: &LokiExporterConfig) -> Result<(DynConsumer<Logs>, Box<dyn Component>), String> {
    if cfg.endpoint.is_empty() {
        return Err("endpoint is required".into());
    }
    let client = http::client(cfg)?;
    let sender = http::LokiSender::new(set.id.clone(), &set.telemetry, client, cfg)?;
    let obs = ExporterObs::new(&set.telemetry, &set.id, Signal::Logs);
    let q = Arc::new(QueuedExporter::new(
        set.id.clone(),
        sender,
        cfg.sending_queue.clone(),
        cfg.retry_on_failure.clone(),
        Duration::ZERO,
        obs,
    ));
    Ok((q.clone(), Box::new(SharedComponent(q))))
}
