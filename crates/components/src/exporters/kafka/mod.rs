//! The `kafka` exporter: each batch becomes one or more Kafka messages (OTLP protobuf or
//! JSON, or raw log bodies), produced with librdkafka behind the sending queue and retries.
//! A batch is done when the broker acknowledged every message (per `required_acks`).

mod config;
mod marshal;
mod producer;
#[cfg(test)]
mod tests;

pub use config::{
    ExportEncoding, ExporterSignalConfig, KafkaExporterConfig, ProducerConfig, RecordPartitionerConfig, RequiredAcks,
    StickyKeyConfig,
};
pub use marshal::{KafkaData, Marshaled, Record};
pub use producer::{producer_config, SIGNAL_HEADER};

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{BuildError, Component, ComponentId, ExporterFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, DynConsumer};
use switchyard_core::exporterhelper::{QueuedExporter, Sender};
use switchyard_core::for_signal;
use switchyard_core::telemetry::ExporterObs;
use switchyard_pdata::Signal;

use crate::exporters::SharedComponent;
use producer::KafkaSender;

/// The Collector type string.
pub const TYPE: &str = "kafka";

/// Creates Kafka exporters.
pub struct KafkaExporterFactory;

impl ExporterFactory for KafkaExporterFactory {
    type Config = KafkaExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        Some(match signal {
            Signal::Profiles => Stability::Development,
            _ => Stability::Beta,
        })
    }
    fn create(
        &self,
        set: Settings,
        cfg: &KafkaExporterConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        for d in cfg.deprecations() {
            tracing::warn!(exporter = %set.id, "{d}");
        }
        let (consumer, component) = for_signal!(signal, S => {
            let (consumer, component) = build::<S>(&set, cfg).map_err(|e| BuildError::new(&set, e))?;
            (AnyConsumer::from(consumer), component)
        });
        Ok((consumer, component))
    }
}

/// One signal's exporter: a producer behind the exporter helper. The helper's per-attempt
/// timeout is off: `timeout` is librdkafka's `message.timeout.ms`, so an attempt ends with
/// every message delivered or failed, none left in flight.
fn build<S: KafkaData>(
    set: &Settings,
    cfg: &KafkaExporterConfig,
) -> Result<(DynConsumer<S>, Box<dyn Component>), String> {
    let sender = KafkaSender::<S>::new(set.id.clone(), cfg)?;
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

/// A sender outside any pipeline (tests, `switchyard gen`): one attempt per call (all
/// messages of the batch produced and acknowledged), no queue, no retry.
pub fn standalone_sender<S: KafkaData>(cfg: &KafkaExporterConfig) -> Result<Box<dyn Sender<S>>, String> {
    Ok(Box::new(KafkaSender::<S>::new(ComponentId::new(TYPE), cfg)?))
}
