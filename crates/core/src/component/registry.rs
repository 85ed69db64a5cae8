//! The registry: every factory, by kind and type string, with their config types erased.
//!
//! Filled by one plain function (`switchyard_components::registry()`), never by macros or
//! the linker, so the list of what ships is one readable file.

use std::collections::BTreeMap;
use std::sync::Arc;

use switchyard_pdata::Signal;

use super::factory::*;
use super::{BoundContext, Extension, Kind, MemoryBound, Stability};
use crate::config::{from_node, ConfigError, Location, Node};
use crate::consumer::{AnyConsumer, AnyRouter};

/// A factory of any kind, config type erased. The graph calls the `create_*` of its kind.
pub trait ErasedFactory: Send + Sync {
    /// The kind this factory makes.
    fn kind(&self) -> Kind;
    /// The canonical type string.
    fn component_type(&self) -> &'static str;
    /// Other spellings accepted in configs.
    fn aliases(&self) -> &'static [&'static str];
    /// Stability per signal (receivers, processors, exporters; extensions answer for every signal).
    fn stability(&self, signal: Signal) -> Option<Stability>;
    /// Stability of a connector signal pair; `None` for other kinds.
    fn connector_stability(&self, _from: Signal, _to: Signal) -> Option<Stability> {
        None
    }
    /// Deserializes and validates a config body (`None` = null body = defaults).
    fn parse_config(&self, node: Option<&Node>, path: &str) -> Result<AnyConfig, Vec<ConfigError>>;
    /// The memory bound the factory declares for `cfg` (undeclared for extensions).
    fn memory_bound(&self, _cfg: &AnyConfig, _cx: &BoundContext) -> MemoryBound {
        MemoryBound::Undeclared
    }
    /// Receivers only.
    fn create_receiver(
        &self,
        set: Settings,
        _cfg: &AnyConfig,
        _out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        Err(BuildError::new(&set, "not a receiver"))
    }
    /// Processors only.
    fn create_processor(
        &self,
        set: Settings,
        _cfg: &AnyConfig,
        _next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        Err(BuildError::new(&set, "not a processor"))
    }
    /// Processors only: what the graph calls, with the pipeline's exporters by id.
    fn create_processor_in_pipeline(
        &self,
        set: Settings,
        cfg: &AnyConfig,
        next: AnyConsumer,
        _exporters: &PipelineExporters,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        self.create_processor(set, cfg, next)
    }
    /// Exporters only.
    fn create_exporter(
        &self,
        set: Settings,
        _cfg: &AnyConfig,
        _signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        Err(BuildError::new(&set, "not an exporter"))
    }
    /// Connectors only: checks the config against the pipelines it is wired to.
    fn validate_connector(&self, _cfg: &AnyConfig, _pipelines: &ConnectorPipelines) -> Vec<FieldError> {
        Vec::new()
    }
    /// Connectors only.
    fn create_connector(
        &self,
        set: Settings,
        _cfg: &AnyConfig,
        _from: Signal,
        _next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        Err(BuildError::new(&set, "not a connector"))
    }
    /// Extensions only.
    fn create_extension(&self, set: Settings, _cfg: &AnyConfig) -> Result<Arc<dyn Extension>, BuildError> {
        Err(BuildError::new(&set, "not an extension"))
    }
}

fn parse_typed<C: ComponentConfig>(node: Option<&Node>, path: &str) -> Result<AnyConfig, Vec<ConfigError>> {
    let cfg: C = match node {
        Some(n) => from_node(n, path).map_err(|e| vec![e])?,
        None => C::default(),
    };
    let errors: Vec<ConfigError> = cfg.validate().into_iter().map(|fe| locate(fe, node, None, path)).collect();
    if errors.is_empty() {
        Ok(AnyConfig(Box::new(cfg)))
    } else {
        Err(errors)
    }
}

/// A field error of the component at `path` (`connectors::routing`) as a config error,
/// placed at the field when it is written in the body, else at the body, else at `key`
/// (the component's key, for a null body).
pub(crate) fn locate(fe: FieldError, body: Option<&Node>, key: Option<&Location>, path: &str) -> ConfigError {
    let parts: Vec<&str> = fe.field.split("::").filter(|p| !p.is_empty()).collect();
    let loc = body.and_then(|n| n.find(&parts).or(Some(n))).map(|n| n.loc.clone()).or_else(|| key.cloned());
    let full = if fe.field.is_empty() { path.to_string() } else { format!("{path}::{}", fe.field) };
    ConfigError { loc, path: full, message: fe.message }
}

fn typed<'a, C: 'static>(cfg: &'a AnyConfig, set: &Settings) -> Result<&'a C, BuildError> {
    cfg.downcast::<C>().ok_or_else(|| BuildError::new(set, "internal error: config of another type"))
}

struct Receiver<F>(F);
struct Processor<F>(F);
struct Exporter<F>(F);
struct Connector<F>(F);
struct Ext<F>(F);

impl<F: ReceiverFactory> ErasedFactory for Receiver<F> {
    fn memory_bound(&self, cfg: &AnyConfig, cx: &BoundContext) -> MemoryBound {
        cfg.downcast::<F::Config>().map_or(MemoryBound::Undeclared, |c| self.0.memory_bound(c, cx))
    }
    fn kind(&self) -> Kind {
        Kind::Receiver
    }
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        self.0.stability(signal)
    }
    fn parse_config(&self, node: Option<&Node>, path: &str) -> Result<AnyConfig, Vec<ConfigError>> {
        parse_typed::<F::Config>(node, path)
    }
    fn create_receiver(
        &self,
        set: Settings,
        cfg: &AnyConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        let cfg = typed::<F::Config>(cfg, &set)?;
        self.0.create(set, cfg, out)
    }
}

impl<F: ProcessorFactory> ErasedFactory for Processor<F> {
    fn memory_bound(&self, cfg: &AnyConfig, cx: &BoundContext) -> MemoryBound {
        cfg.downcast::<F::Config>().map_or(MemoryBound::Undeclared, |c| self.0.memory_bound(c, cx))
    }
    fn kind(&self) -> Kind {
        Kind::Processor
    }
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        self.0.stability(signal)
    }
    fn parse_config(&self, node: Option<&Node>, path: &str) -> Result<AnyConfig, Vec<ConfigError>> {
        parse_typed::<F::Config>(node, path)
    }
    fn create_processor(
        &self,
        set: Settings,
        cfg: &AnyConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let cfg = typed::<F::Config>(cfg, &set)?;
        self.0.create(set, cfg, next)
    }
    fn create_processor_in_pipeline(
        &self,
        set: Settings,
        cfg: &AnyConfig,
        next: AnyConsumer,
        exporters: &PipelineExporters,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let cfg = typed::<F::Config>(cfg, &set)?;
        self.0.create_in_pipeline(set, cfg, next, exporters)
    }
}

impl<F: ExporterFactory> ErasedFactory for Exporter<F> {
    fn memory_bound(&self, cfg: &AnyConfig, cx: &BoundContext) -> MemoryBound {
        cfg.downcast::<F::Config>().map_or(MemoryBound::Undeclared, |c| self.0.memory_bound(c, cx))
    }
    fn kind(&self) -> Kind {
        Kind::Exporter
    }
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        self.0.stability(signal)
    }
    fn parse_config(&self, node: Option<&Node>, path: &str) -> Result<AnyConfig, Vec<ConfigError>> {
        parse_typed::<F::Config>(node, path)
    }
    fn create_exporter(
        &self,
        set: Settings,
        cfg: &AnyConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let cfg = typed::<F::Config>(cfg, &set)?;
        self.0.create(set, cfg, signal)
    }
}

impl<F: ConnectorFactory> ErasedFactory for Connector<F> {
    fn memory_bound(&self, cfg: &AnyConfig, cx: &BoundContext) -> MemoryBound {
        cfg.downcast::<F::Config>().map_or(MemoryBound::Undeclared, |c| self.0.memory_bound(c, cx))
    }
    fn kind(&self) -> Kind {
        Kind::Connector
    }
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        Signal::ALL.into_iter().find_map(|to| self.0.stability(signal, to))
    }
    fn connector_stability(&self, from: Signal, to: Signal) -> Option<Stability> {
        self.0.stability(from, to)
    }
    fn parse_config(&self, node: Option<&Node>, path: &str) -> Result<AnyConfig, Vec<ConfigError>> {
        parse_typed::<F::Config>(node, path)
    }
    fn validate_connector(&self, cfg: &AnyConfig, pipelines: &ConnectorPipelines) -> Vec<FieldError> {
        match cfg.downcast::<F::Config>() {
            Some(cfg) => self.0.validate_pipelines(cfg, pipelines),
            None => vec![FieldError::new("", "internal error: config of another type")],
        }
    }
    fn create_connector(
        &self,
        set: Settings,
        cfg: &AnyConfig,
        from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let cfg = typed::<F::Config>(cfg, &set)?;
        self.0.create(set, cfg, from, next)
    }
}

impl<F: ExtensionFactory> ErasedFactory for Ext<F> {
    fn kind(&self) -> Kind {
        Kind::Extension
    }
    fn component_type(&self) -> &'static str {
        self.0.component_type()
    }
    fn aliases(&self) -> &'static [&'static str] {
        self.0.aliases()
    }
    fn stability(&self, _signal: Signal) -> Option<Stability> {
        Some(self.0.stability())
    }
    fn parse_config(&self, node: Option<&Node>, path: &str) -> Result<AnyConfig, Vec<ConfigError>> {
        parse_typed::<F::Config>(node, path)
    }
    fn create_extension(&self, set: Settings, cfg: &AnyConfig) -> Result<Arc<dyn Extension>, BuildError> {
        let cfg = typed::<F::Config>(cfg, &set)?;
        self.0.create(set, cfg)
    }
}

/// Two factories claim the same type string (or alias) for one kind.
#[derive(Debug, thiserror::Error)]
#[error("duplicate {kind} type \"{ty}\" in the registry")]
pub struct RegistryError {
    /// The kind.
    pub kind: &'static str,
    /// The type string.
    pub ty: String,
}

/// Every factory, by kind and type string (aliases included).
#[derive(Default)]
pub struct Registry {
    factories: BTreeMap<(Kind, &'static str), Arc<dyn ErasedFactory>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, f: Arc<dyn ErasedFactory>) -> Result<(), RegistryError> {
        for ty in std::iter::once(f.component_type()).chain(f.aliases().iter().copied()) {
            if self.factories.insert((f.kind(), ty), f.clone()).is_some() {
                return Err(RegistryError { kind: f.kind().word(), ty: ty.to_string() });
            }
        }
        Ok(())
    }

    /// Adds a receiver factory.
    pub fn receiver(&mut self, f: impl ReceiverFactory) -> Result<(), RegistryError> {
        self.add(Arc::new(Receiver(f)))
    }
    /// Adds a processor factory.
    pub fn processor(&mut self, f: impl ProcessorFactory) -> Result<(), RegistryError> {
        self.add(Arc::new(Processor(f)))
    }
    /// Adds an exporter factory.
    pub fn exporter(&mut self, f: impl ExporterFactory) -> Result<(), RegistryError> {
        self.add(Arc::new(Exporter(f)))
    }
    /// Adds a connector factory.
    pub fn connector(&mut self, f: impl ConnectorFactory) -> Result<(), RegistryError> {
        self.add(Arc::new(Connector(f)))
    }
    /// Adds an extension factory.
    pub fn extension(&mut self, f: impl ExtensionFactory) -> Result<(), RegistryError> {
        self.add(Arc::new(Ext(f)))
    }

    /// The factory for a type (canonical or alias).
    pub fn get(&self, kind: Kind, ty: &str) -> Option<&Arc<dyn ErasedFactory>> {
        self.factories.iter().find(|((k, t), _)| *k == kind && *t == ty).map(|(_, f)| f)
    }

    /// Every type string (aliases included) of a kind, sorted.
    pub fn types(&self, kind: Kind) -> Vec<&'static str> {
        self.factories.keys().filter(|(k, _)| *k == kind).map(|(_, t)| *t).collect()
    }

    /// The canonical factories of a kind, sorted by type.
    pub fn factories(&self, kind: Kind) -> Vec<&Arc<dyn ErasedFactory>> {
        self.factories.iter().filter(|((k, t), f)| *k == kind && f.component_type() == *t).map(|(_, f)| f).collect()
    }
}
