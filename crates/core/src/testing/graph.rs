//! A harness for building whole pipeline graphs from YAML in unit tests, without ports or
//! backends: a `source` receiver whose outputs the test pushes data into, and a `sink`
//! exporter that records every batch per (id, signal). Components under test (a processor,
//! a connector) are added to the same [`Registry`] and used from the YAML as in production.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::BoxFuture;
use serde::Deserialize;
use switchyard_pdata::{Signal, SignalData};

use super::SinkConsumer;
use crate::component::{
    BuildError, Component, ComponentConfig, ComponentId, ExporterFactory, Host, ReceiverFactory, ReceiverOutputs,
    Registry, Settings, Stability, StartError,
};
use crate::config::{parse, parse_config, ConfigErrors};
use crate::consumer::{AnyConsumer, DynConsumer};
use crate::graph::Graph;
use crate::telemetry::Telemetry;

/// Type of the test receiver (`receivers: source:`).
pub const SOURCE_TYPE: &str = "source";
/// Type of the recording test exporter (`exporters: sink:`).
pub const SINK_TYPE: &str = "sink";

#[derive(Default)]
struct State {
    sources: HashMap<ComponentId, ReceiverOutputs>,
    /// `Arc<SinkConsumer<S>>` by (exporter id, signal).
    sinks: HashMap<(ComponentId, Signal), Arc<dyn Any + Send + Sync>>,
    /// `start receiver source`, `stop exporter sink/a traces`, ... in call order.
    lifecycle: Vec<String>,
}

/// Shared record of the test components a graph created. Clone it into the factories
/// ([`GraphHarness::registry`] does) and read it after [`GraphHarness::build`].
#[derive(Clone, Default)]
pub struct GraphHarness {
    state: Arc<Mutex<State>>,
}

impl GraphHarness {
    /// A fresh harness.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry holding the `source` receiver and `sink` exporter of this harness; add
    /// the components under test to it.
    pub fn registry(&self) -> Registry {
        let mut r = Registry::new();
        // An empty registry cannot hold these types yet: adding them cannot collide.
        let _ = r.receiver(SourceReceiverFactory(self.clone()));
        let _ = r.exporter(SinkExporterFactory(self.clone()));
        r
    }

    /// Parses `yaml` (as file `test.yaml`), decodes it with `registry` and builds the graph,
    /// exactly as `validate` does; every config error comes back with its location.
    pub fn build(&self, registry: &Registry, yaml: &str) -> Result<Graph, ConfigErrors> {
        let root = parse("test.yaml", yaml)?;
        let cfg = parse_config(&root, registry)?;
        Graph::build(&cfg, &Telemetry::default())
    }

    /// Where receiver `id` sends data: push batches into its outputs to drive the graph.
    /// Empty outputs if no pipeline uses it (or it was not built).
    pub fn source(&self, id: &str) -> ReceiverOutputs {
        ComponentId::parse(id).ok().and_then(|id| self.lock().sources.get(&id).cloned()).unwrap_or_default()
    }

    /// What exporter `id` received for signal `S`; `None` if no pipeline of that signal uses it.
    pub fn sink<S: SignalData>(&self, id: &str) -> Option<Arc<SinkConsumer<S>>> {
        let id = ComponentId::parse(id).ok()?;
        let any = self.lock().sinks.get(&(id, S::SIGNAL)).cloned()?;
        any.downcast::<SinkConsumer<S>>().ok()
    }

    /// Every start and shutdown of the test components since the last call, in order
    /// (`start receiver source`, `stop exporter sink/a traces`).
    pub fn take_lifecycle(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().lifecycle)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The test components take no settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestComponentConfig {}

impl ComponentConfig for TestComponentConfig {}

/// Does nothing but record its starts and stops in the harness.
struct Recorded {
    harness: GraphHarness,
    what: String,
}

impl Component for Recorded {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        self.harness.lock().lifecycle.push(format!("start {}", self.what));
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.harness.lock().lifecycle.push(format!("stop {}", self.what));
        Box::pin(async {})
    }
}

struct SourceReceiverFactory(GraphHarness);

impl ReceiverFactory for SourceReceiverFactory {
    type Config = TestComponentConfig;
    fn component_type(&self) -> &'static str {
        SOURCE_TYPE
    }
    fn stability(&self, _signal: Signal) -> Option<Stability> {
        Some(Stability::Development)
    }
    fn create(
        &self,
        set: Settings,
        _cfg: &TestComponentConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        let what = format!("receiver {}", set.id);
        self.0.lock().sources.insert(set.id, out);
        Ok(Box::new(Recorded { harness: self.0.clone(), what }))
    }
}

struct SinkExporterFactory(GraphHarness);

impl ExporterFactory for SinkExporterFactory {
    type Config = TestComponentConfig;
    fn component_type(&self) -> &'static str {
        SINK_TYPE
    }
    fn stability(&self, _signal: Signal) -> Option<Stability> {
        Some(Stability::Development)
    }
    fn create(
        &self,
        set: Settings,
        _cfg: &TestComponentConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let mut state = self.0.lock();
        let consumer = crate::any_consumer_for!(signal, S => {
            let sink = SinkConsumer::<S>::new();
            state.sinks.insert((set.id.clone(), signal), sink.clone());
            sink as DynConsumer<S>
        });
        drop(state);
        let what = format!("exporter {} {}", set.id, signal.as_str());
        Ok((consumer, Box::new(Recorded { harness: self.0.clone(), what })))
    }
}
