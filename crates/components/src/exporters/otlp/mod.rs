//! The `otlp` exporter (alias `otlp_grpc`): OTLP over gRPC with the exporter helper's queue
//! and retries.

mod config;
pub(crate) mod grpc;

pub use config::OtlpExporterConfig;

use std::sync::Arc;

use switchyard_core::component::{BuildError, Component, ExporterFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, DynConsumer};
use switchyard_core::for_signal;
use tonic::transport::Channel;

use crate::exporters::SharedComponent;
use crate::otlp_signal::OtlpSignal;
use switchyard_core::exporterhelper::QueuedExporter;
use switchyard_core::telemetry::ExporterObs;
use switchyard_pdata::Signal;

/// The Collector type string (legacy spelling, the one most configs use).
pub const TYPE: &str = "otlp";

/// Creates OTLP/gRPC exporters.
pub struct OtlpExporterFactory;

impl ExporterFactory for OtlpExporterFactory {
    type Config = OtlpExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["otlp_grpc"]
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
        cfg: &OtlpExporterConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        if cfg.endpoint.is_empty() {
            return Err(BuildError::new(&set, "endpoint is required (host:port of the OTLP/gRPC server)"));
        }
        let channel = grpc::channel(cfg).map_err(|e| BuildError::new(&set, e))?;
        let (consumer, component) = for_signal!(signal, S => {
            let (consumer, component) = build::<S>(&set, cfg, channel).map_err(|e| BuildError::new(&set, e))?;
            (AnyConsumer::from(consumer), component)
        });
        Ok((consumer, component))
    }
}

/// One signal's exporter: a gRPC sender behind the exporter helper.
fn build<S: OtlpSignal>(
    set: &Settings,
    cfg: &OtlpExporterConfig,
    channel: Channel,
) -> Result<(DynConsumer<S>, Box<dyn Component>), String> {
    let sender = grpc::GrpcSender::<S>::new(set.id.clone(), channel, cfg)?;
    let obs = ExporterObs::new(&set.telemetry, &set.id, S::SIGNAL);
    let q = Arc::new(QueuedExporter::new(
        set.id.clone(),
        sender,
        cfg.sending_queue.clone(),
        cfg.retry_on_failure.clone(),
        cfg.timeout,
        obs,
    ));
    Ok((q.clone(), Box::new(SharedComponent(q))))
}

/// A sender outside any pipeline (for `switchyard gen`): one attempt per call, no queue,
/// no retry, so the caller sees every refusal.
pub fn standalone_sender<S: OtlpSignal>(
    cfg: &OtlpExporterConfig,
) -> Result<Box<dyn switchyard_core::exporterhelper::Sender<S>>, String> {
    let channel = grpc::channel(cfg)?;
    let id = switchyard_core::component::ComponentId::new(TYPE);
    Ok(Box::new(grpc::GrpcSender::<S>::new(id, channel, cfg)?))
}

/// A sender for one endpoint from `cfg` (connects on first use), for exporters that build
/// OTLP senders of their own (`loadbalancing`, one per backend).
pub(crate) fn grpc_sender<S: OtlpSignal>(
    id: switchyard_core::component::ComponentId,
    cfg: &OtlpExporterConfig,
) -> Result<grpc::GrpcSender<S>, String> {
    let channel = grpc::channel(cfg)?;
    grpc::GrpcSender::<S>::new(id, channel, cfg)
}
