//! The `kafka` receiver: consumes OTLP (protobuf or JSON) or log bodies from Kafka topics in
//! a consumer group, at least once: an offset is committed only after the pipeline accepted
//! the message (see `consumer.rs`). One librdkafka consumer per signal a pipeline takes from
//! this receiver, all in `group_id`, each subscribed to that signal's topics.

mod config;
mod consumer;
mod decode;
#[cfg(test)]
mod tests;

pub use config::{
    AutoCommitConfig, ErrorBackoffConfig, HeaderExtractionConfig, KafkaReceiverConfig, MessageMarkingConfig,
    PartitionProcessingConfig, ReceiveEncoding, ReceiverSignalConfig,
};
pub use consumer::{BLOCKED_PARTITIONS, PAUSED, SKIPPED_MESSAGES};
pub use decode::{json_to_any, ReceiveSignal, HEADER_ATTRIBUTE_PREFIX};

use std::sync::Arc;

use futures::future::BoxFuture;
use rdkafka::consumer::Consumer;
use switchyard_core::component::{
    BuildError, Component, Host, ReceiverFactory, ReceiverOutputs, Settings, Stability, StartError,
};
use switchyard_core::consumer::DynConsumer;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, Traces};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use consumer::{KafkaConsumer, ReceiverContext, Worker, WorkerObs, WorkerOptions};

/// The Collector type string.
pub const TYPE: &str = "kafka";

/// Creates Kafka receivers.
pub struct KafkaReceiverFactory;

impl ReceiverFactory for KafkaReceiverFactory {
    type Config = KafkaReceiverConfig;
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
        cfg: &KafkaReceiverConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        for d in cfg.deprecations() {
            tracing::warn!(receiver = %set.id, "{d}");
        }
        let used = [
            (Signal::Traces, out.traces.is_some()),
            (Signal::Metrics, out.metrics.is_some()),
            (Signal::Logs, out.logs.is_some()),
            (Signal::Profiles, out.profiles.is_some()),
        ];
        for (signal, _) in used.iter().filter(|(_, u)| *u) {
            cfg.encoding_for(*signal).map_err(|e| BuildError::new(&set, format!("{signal}::encoding: {e}")))?;
        }
        Ok(Box::new(KafkaReceiver {
            set,
            cfg: cfg.clone(),
            out,
            stop: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
        }))
    }
}

/// A running (or ready to run) Kafka receiver.
pub struct KafkaReceiver {
    set: Settings,
    cfg: KafkaReceiverConfig,
    out: ReceiverOutputs,
    stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl KafkaReceiver {
    /// Creates and subscribes one signal's consumer and starts its task.
    fn spawn<S: ReceiveSignal>(
        &self,
        out: DynConsumer<S>,
        several: bool,
    ) -> Result<tokio::task::JoinHandle<()>, StartError> {
        let id = self.set.id.to_string();
        let signal = S::SIGNAL;
        let err = |m: String| StartError::new(format!("receiver \"{id}\": {signal}: {m}"));
        let opts = WorkerOptions::new(&id, &self.cfg, signal).map_err(err)?;
        let suffix = several.then(|| signal.as_str());
        let ctx = ReceiverContext::new(&id, signal, !self.cfg.autocommit.enable);
        let consumer: KafkaConsumer = self
            .cfg
            .consumer_config(suffix)
            .create_with_context(ctx)
            .map_err(|e| err(format!("cannot create the Kafka consumer: {e}")))?;
        let topics = opts.topics.clone();
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(|e| err(format!("cannot subscribe to {topics:?}: {e}")))?;
        tracing::info!(receiver = %id, %signal, ?topics, group = %self.cfg.group_id, "Kafka consumer subscribed.");
        let obs = WorkerObs::new(&self.set.telemetry, &self.set.id, signal);
        let worker = Worker::new(Arc::new(consumer), out, opts, obs, self.stop.clone());
        Ok(tokio::spawn(worker.run()))
    }
}

impl Component for KafkaReceiver {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let mut tasks = self.tasks.lock().await;
            let o = &self.out;
            let several = [o.traces.is_some(), o.metrics.is_some(), o.logs.is_some(), o.profiles.is_some()]
                .iter()
                .filter(|u| **u)
                .count()
                > 1;
            if let Some(c) = &o.traces {
                tasks.push(self.spawn::<Traces>(c.clone(), several)?);
            }
            if let Some(c) = &o.metrics {
                tasks.push(self.spawn::<Metrics>(c.clone(), several)?);
            }
            if let Some(c) = &o.logs {
                tasks.push(self.spawn::<Logs>(c.clone(), several)?);
            }
            if let Some(c) = &o.profiles {
                tasks.push(self.spawn::<Profiles>(c.clone(), several)?);
            }
            Ok(())
        })
    }

    /// Stops consuming, lets a message being handed over finish (up to 5 s), commits the
    /// stored offsets and leaves the group.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            for t in self.tasks.lock().await.drain(..) {
                let _ = t.await;
            }
        })
    }
}
