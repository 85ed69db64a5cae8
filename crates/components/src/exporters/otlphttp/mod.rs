//! The `otlphttp` exporter (alias `otlp_http`): OTLP over HTTP, protobuf or JSON.

mod config;
mod http;

pub use config::{BodyEncoding, OtlpHttpExporterConfig};

use std::sync::Arc;

use std::time::Duration;
use switchyard_core::component::{BuildError, Component, ExporterFactory, Settings, Stability};
use switchyard_core::for_signal;

use switchyard_core::consumer::{AnyConsumer, DynConsumer};
use switchyard_core::exporterhelper::QueuedExporter;
use switchyard_core::telemetry::ExporterObs;
use switchyard_pdata::Signal;

use crate::exporters::SharedComponent;
use crate::otlp_signal::OtlpSignal;

/// The Collector type string (legacy spelling).
pub const TYPE: &str = "otlphttp";

/// Creates OTLP/HTTP exporters.
pub struct OtlpHttpExporterFactory;

impl ExporterFactory for OtlpHttpExporterFactory {
    type Config = OtlpHttpExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["otlp_http"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        Some(match signal {
            Signal::Profiles => Stability::Development,
            _ => Stability::Stable,
        })
    }
    fn memory_bound(
        &self,
        cfg: &Self::Config,
        cx: &switchyard_core::component::BoundContext,
    ) -> switchyard_core::component::MemoryBound {
        cfg.sending_queue.memory_bound(cx)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &OtlpHttpExporterConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let client = http::client(cfg).map_err(|e| BuildError::new(&set, e))?;
        let (consumer, component) = for_signal!(signal, S => {
            let (consumer, component) = build::<S>(&set, cfg, client).map_err(|e| BuildError::new(&set, e))?;
            (AnyConsumer::from(consumer), component)
        });
        Ok((consumer, component))
    }
}

/// One signal's exporter: an HTTP sender behind the exporter helper (whose per-attempt
/// timeout is off: `timeout` is the HTTP client's, as in the Collector).
fn build<S: OtlpSignal>(
    set: &Settings,
    cfg: &OtlpHttpExporterConfig,
    client: reqwest::Client,
) -> Result<(DynConsumer<S>, Box<dyn Component>), String> {
    let url = cfg.url_for::<S>().ok_or_else(|| format!("endpoint or {}_endpoint is required", S::SIGNAL))?;
    let sender = http::HttpSender::<S>::new(set.id.clone(), client, url, cfg)?;
    let obs = ExporterObs::new(&set.telemetry, &set.id, S::SIGNAL);
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

/// A sender outside any pipeline (for `switchyard gen`): one attempt per call, no queue,
/// no retry, so the caller sees every refusal.
pub fn standalone_sender<S: OtlpSignal>(
    cfg: &OtlpHttpExporterConfig,
) -> Result<Box<dyn switchyard_core::exporterhelper::Sender<S>>, String> {
    let client = http::client(cfg)?;
    let url = cfg.url_for::<S>().ok_or("endpoint is required")?;
    let id = switchyard_core::component::ComponentId::new(TYPE);
    Ok(Box::new(http::HttpSender::<S>::new(id, client, url, cfg)?))
}
