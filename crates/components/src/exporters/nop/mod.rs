//! The `nop` exporter: takes every signal and discards it. Configs use it to end a pipeline
//! whose only job is a side effect (a connector, a `count`, a test of a receiver), as with
//! the Collector's. What it discards is counted as sent, so the pipeline's numbers add up.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;
use switchyard_core::any_consumer_for;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, ExporterFactory, NoTasks, Settings, Stability,
};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, RequestContext};
use switchyard_core::telemetry::ExporterObs;
use switchyard_pdata::{Signal, SignalData};

/// The Collector type string.
pub const TYPE: &str = "nop";

/// The nop exporter has no settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NopExporterConfig {}

impl ComponentConfig for NopExporterConfig {}

/// Creates nop exporters.
pub struct NopExporterFactory;

impl ExporterFactory for NopExporterFactory {
    type Config = NopExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, _signal: Signal) -> Option<Stability> {
        Some(Stability::Beta)
    }
    /// Holds nothing: it writes (or drops) the caller's request before returning.
    fn memory_bound(
        &self,
        _cfg: &Self::Config,
        _cx: &switchyard_core::component::BoundContext,
    ) -> switchyard_core::component::MemoryBound {
        switchyard_core::component::MemoryBound::nothing()
    }
    fn create(
        &self,
        set: Settings,
        _cfg: &NopExporterConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let obs = ExporterObs::new(&set.telemetry, &set.id, signal);
        let consumer = any_consumer_for!(signal, S => Arc::new(Nop { obs: obs.clone() }) as Arc<dyn Consumer<S>>);
        Ok((consumer, Box::new(NoTasks)))
    }
}

struct Nop {
    obs: ExporterObs,
}

impl<S: SignalData> Consumer<S> for Nop {
    fn consume<'a>(&'a self, _cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        self.obs.sent.add(data.item_count() as u64);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use switchyard_core::component::{ComponentId, Kind};
    use switchyard_core::config::{parse, parse_config};
    use switchyard_core::telemetry::Telemetry;
    use switchyard_pdata::Logs;

    #[tokio::test]
    async fn discards_what_arrives_and_counts_it_sent() {
        let t = Telemetry::default();
        let id = ComponentId::new(TYPE);
        let set = Settings { id: id.clone(), kind: Kind::Exporter, telemetry: t.clone() };
        let (consumer, _) = NopExporterFactory.create(set, &NopExporterConfig {}, Signal::Logs).expect("created");
        let AnyConsumer::Logs(c) = consumer else { panic!("a logs consumer") };
        let records = vec![LogRecord::default(); 3];
        let scope_logs = vec![ScopeLogs { log_records: records, ..Default::default() }];
        let req = ExportLogsServiceRequest { resource_logs: vec![ResourceLogs { scope_logs, ..Default::default() }] };
        c.consume(&RequestContext::default(), Logs::from_request(req)).await.expect("accepted");
        assert_eq!(ExporterObs::new(&t, &id, Signal::Logs).sent.get(), 3);
    }

    #[test]
    fn ends_pipelines_of_every_signal_and_takes_no_settings() {
        let registry = crate::registry().expect("registry");
        let ok = "receivers: {nop: }\nexporters: {nop: }\nservice: {pipelines: {\
                  traces: {receivers: [nop], exporters: [nop]}, metrics: {receivers: [nop], exporters: [nop]},\
                  logs: {receivers: [nop], exporters: [nop]}}}\n";
        parse_config(&parse("nop.yaml", ok).expect("yaml"), &registry).expect("valid");
        let bad = "receivers: {nop: }\nexporters: {nop: {verbosity: basic}}\n\
                   service: {pipelines: {logs: {receivers: [nop], exporters: [nop]}}}\n";
        let Err(err) = parse_config(&parse("nop.yaml", bad).expect("yaml"), &registry) else {
            panic!("the nop exporter takes no fields")
        };
        assert!(err.to_string().contains("verbosity"), "{err}");
    }
}
