//! Factory traits: what a component author implements.
//!
//! Each component module provides a config struct (serde, `Default`, [`ComponentConfig`])
//! and a factory implementing the trait of its kind. The [`super::Registry`] erases the
//! config type so the graph can hold every factory in one map.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, Traces};

use super::{BoundContext, ComponentId, Extension, Host, Kind, MemoryBound, PipelineId, Stability};
use crate::config::suggestion;
use crate::consumer::{AnyConsumer, AnyRouter, DynConsumer};
use crate::telemetry::Telemetry;

/// A component's configuration: deserialized from the YAML body (null = `Default`), then validated.
pub trait ComponentConfig: DeserializeOwned + Default + fmt::Debug + Send + Sync + 'static {
    /// Field-level checks; every problem is reported, not just the first.
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// A problem with one field of a component config; the loader adds file, line and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The key path inside the component body, `::`-separated (`protocols::grpc::endpoint`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// A deserialized config whose type only its factory knows.
pub struct AnyConfig(pub Box<dyn Any + Send + Sync>);

impl AnyConfig {
    /// The config as its concrete type.
    pub fn downcast<T: 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

/// What every component gets when it is created.
#[derive(Clone)]
pub struct Settings {
    /// The component's id.
    pub id: ComponentId,
    /// Its kind.
    pub kind: Kind,
    /// Self-telemetry (metrics registry) of the process.
    pub telemetry: Telemetry,
}

/// A component could not be created from its (valid) config.
#[derive(Debug, thiserror::Error)]
#[error("{kind} \"{id}\": {message}")]
pub struct BuildError {
    /// `receiver`, `exporter`, ...
    pub kind: &'static str,
    /// The component.
    pub id: ComponentId,
    /// Why.
    pub message: String,
}

impl BuildError {
    /// A build error for the component in `set`.
    pub fn new(set: &Settings, message: impl Into<String>) -> Self {
        BuildError { kind: set.kind.word(), id: set.id.clone(), message: message.into() }
    }
}

/// A component failed to start (e.g. its port is taken).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartError {
    /// Why, with the component's id.
    pub message: String,
}

impl StartError {
    /// A start error.
    pub fn new(message: impl Into<String>) -> Self {
        StartError { message: message.into() }
    }
}

/// A running part of the graph. `start` binds ports and spawns tasks; `shutdown` stops
/// accepting, flushes what it holds and returns when done (the graph bounds it with a deadline).
pub trait Component: Send + Sync {
    /// Starts the component. Called once, extensions and exporters first, receivers last.
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>>;
    /// Stops it. Called once, in the reverse order; also called on components never started.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}

/// A component with nothing to start or stop (the `debug` and `nop` exporters, the `nop`
/// receiver): what a factory returns when the consumer alone does the work.
pub struct NoTasks;

impl Component for NoTasks {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Where a receiver sends each signal it takes in: `None` for signals no pipeline wants.
#[derive(Clone, Default)]
pub struct ReceiverOutputs {
    /// Consumer of spans.
    pub traces: Option<DynConsumer<Traces>>,
    /// Consumer of metric data points.
    pub metrics: Option<DynConsumer<Metrics>>,
    /// Consumer of log records.
    pub logs: Option<DynConsumer<Logs>>,
    /// Consumer of profiles.
    pub profiles: Option<DynConsumer<Profiles>>,
}

/// Creates receivers. One instance per receiver id serves every signal (one port for all).
pub trait ReceiverFactory: Send + Sync + 'static {
    /// The config struct.
    type Config: ComponentConfig;
    /// The Collector type string (`otlp`).
    fn component_type(&self) -> &'static str;
    /// Other accepted spellings of the type.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// Stability per signal; `None` = signal not supported.
    fn stability(&self, signal: Signal) -> Option<Stability>;
    /// The most memory an instance may hold with `cfg` (docs/memory.md); the default
    /// declares nothing, which `validate` lists as undeclared. Called by `validate` and
    /// `run` before anything is created; must not block.
    fn memory_bound(&self, _cfg: &Self::Config, _cx: &BoundContext) -> MemoryBound {
        MemoryBound::Undeclared
    }
    /// Creates the receiver; it must not bind ports before `start`.
    fn create(&self, set: Settings, cfg: &Self::Config, out: ReceiverOutputs)
        -> Result<Box<dyn Component>, BuildError>;
}

/// Where a pipeline's data leaves it: its exporters (and connectors used as exporters) by
/// component id, in config order, plus the processors placed after the one being created.
///
/// Given to every processor at creation; only a processor that picks exporters per batch
/// itself uses it (the legacy `routing` processor, which the Collector let reach exporters
/// through the host). Such a processor sends past the processors after it.
#[derive(Clone, Default)]
pub struct PipelineExporters {
    /// The pipeline being built.
    pub pipeline: Option<PipelineId>,
    /// The exporters' consumers, by id, in the order the pipeline lists them.
    pub exporters: Vec<(ComponentId, AnyConsumer)>,
    /// The processors after this one in the pipeline, in order.
    pub processors_after: Vec<ComponentId>,
}

impl PipelineExporters {
    /// The consumer of one exporter of the pipeline.
    pub fn get(&self, id: &ComponentId) -> Option<&AnyConsumer> {
        self.exporters.iter().find(|(e, _)| e == id).map(|(_, c)| c)
    }

    /// The ids of the pipeline's exporters, in config order.
    pub fn ids(&self) -> impl Iterator<Item = &ComponentId> {
        self.exporters.iter().map(|(id, _)| id)
    }
}

/// Creates processors: one instance per pipeline, wrapping the pipeline's next consumer.
pub trait ProcessorFactory: Send + Sync + 'static {
    /// The config struct.
    type Config: ComponentConfig;
    /// The Collector type string (`batch`).
    fn component_type(&self) -> &'static str;
    /// Other accepted spellings of the type.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// Stability per signal; `None` = signal not supported.
    fn stability(&self, signal: Signal) -> Option<Stability>;
    /// The most memory an instance may hold with `cfg` (docs/memory.md); the default
    /// declares nothing, which `validate` lists as undeclared. Called by `validate` and
    /// `run` before anything is created; must not block.
    fn memory_bound(&self, _cfg: &Self::Config, _cx: &BoundContext) -> MemoryBound {
        MemoryBound::Undeclared
    }
    /// Creates the processor in front of `next` (same signal); returns its consumer and,
    /// if it owns tasks, the component to start and stop.
    fn create(
        &self,
        set: Settings,
        cfg: &Self::Config,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError>;
    /// What the graph calls: [`Self::create`], unless the processor needs the pipeline's
    /// exporters by id (`exporters`), which only a routing processor does.
    fn create_in_pipeline(
        &self,
        set: Settings,
        cfg: &Self::Config,
        next: AnyConsumer,
        _exporters: &PipelineExporters,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        self.create(set, cfg, next)
    }
}

/// Creates exporters: one instance per (exporter id, signal), shared by every pipeline using it.
pub trait ExporterFactory: Send + Sync + 'static {
    /// The config struct.
    type Config: ComponentConfig;
    /// The Collector type string (`otlphttp`).
    fn component_type(&self) -> &'static str;
    /// Other accepted spellings of the type (`otlp_http`).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// Stability per signal; `None` = signal not supported.
    fn stability(&self, signal: Signal) -> Option<Stability>;
    /// The most memory an instance may hold with `cfg` (docs/memory.md); the default
    /// declares nothing, which `validate` lists as undeclared. Called by `validate` and
    /// `run` before anything is created; must not block.
    fn memory_bound(&self, _cfg: &Self::Config, _cx: &BoundContext) -> MemoryBound {
        MemoryBound::Undeclared
    }
    /// Creates the exporter for `signal`.
    fn create(
        &self,
        set: Settings,
        cfg: &Self::Config,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError>;
}

/// The pipelines a connector is wired to, as the service section lists them: what its
/// config is checked against (a `routing` table may only name pipelines it feeds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectorPipelines {
    /// Pipelines that list it as an exporter (it consumes their data), in config order.
    pub from: Vec<PipelineId>,
    /// Pipelines that list it as a receiver (it feeds them), in config order.
    pub to: Vec<PipelineId>,
    /// Every pipeline of the service section, to tell a typo from a pipeline not wired to it.
    pub defined: Vec<PipelineId>,
}

impl ConnectorPipelines {
    /// True if the connector feeds pipeline `id`.
    pub fn feeds(&self, id: &PipelineId) -> bool {
        self.to.contains(id)
    }

    /// The standard error for a config `field` naming a pipeline the connector does not
    /// feed (`None` if it does): either the pipeline does not exist (with a did-you-mean
    /// among the fed ones) or it does not list the connector as a receiver.
    pub fn check_fed(&self, field: impl Into<String>, id: &PipelineId) -> Option<FieldError> {
        if self.feeds(id) {
            return None;
        }
        let fed: Vec<String> = self.to.iter().map(ToString::to_string).collect();
        let fed_list = if fed.is_empty() { "none".to_string() } else { fed.join(", ") };
        let message = if self.defined.contains(id) {
            format!(
                "pipeline \"{id}\" is not fed by this connector: it must list the connector under receivers (fed: {fed_list})"
            )
        } else {
            let hint = suggestion(&id.to_string(), fed.iter().map(String::as_str));
            format!("pipeline \"{id}\" is not configured{hint} (fed by this connector: {fed_list})")
        };
        Some(FieldError::new(field, message))
    }
}

/// Creates connectors: one instance per (connector id, from-signal, to-signal).
pub trait ConnectorFactory: Send + Sync + 'static {
    /// The config struct.
    type Config: ComponentConfig;
    /// The Collector type string (`forward`).
    fn component_type(&self) -> &'static str;
    /// Other accepted spellings of the type (`span_metrics` for `spanmetrics`).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// Stability of the pair (exporter side `from`, receiver side `to`); `None` = unsupported.
    fn stability(&self, from: Signal, to: Signal) -> Option<Stability>;
    /// Checks the config against the pipelines the connector is wired to; called once per
    /// connector id while the graph is built (so by `validate` too), after [`ComponentConfig::validate`]
    /// passed. Each error's `field` is a key path in the connector's body
    /// (`table::0::pipelines::1`), so the user sees the file and line it is about.
    fn validate_pipelines(&self, _cfg: &Self::Config, _pipelines: &ConnectorPipelines) -> Vec<FieldError> {
        Vec::new()
    }
    /// The most memory an instance may hold with `cfg` (docs/memory.md); the default
    /// declares nothing, which `validate` lists as undeclared. Called by `validate` and
    /// `run` before anything is created; must not block.
    fn memory_bound(&self, _cfg: &Self::Config, _cx: &BoundContext) -> MemoryBound {
        MemoryBound::Undeclared
    }
    /// Creates the connector: consumes `from` data and emits into `next`, the router over
    /// the pipelines of `next.signal()` it feeds (by pipeline id, or all at once).
    fn create(
        &self,
        set: Settings,
        cfg: &Self::Config,
        from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError>;
}

/// Creates extensions.
pub trait ExtensionFactory: Send + Sync + 'static {
    /// The config struct.
    type Config: ComponentConfig;
    /// The Collector type string (`health_check`).
    fn component_type(&self) -> &'static str;
    /// Other accepted spellings of the type.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// Stability of the extension.
    fn stability(&self) -> Stability;
    /// Creates the extension.
    fn create(&self, set: Settings, cfg: &Self::Config) -> Result<Arc<dyn Extension>, BuildError>;
}
