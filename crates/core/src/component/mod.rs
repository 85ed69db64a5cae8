//! The component model: ids, kinds, stability, factories, the registry and the host.

mod factory;
mod host;
mod id;
mod memory;
mod registry;

pub use factory::{
    AnyConfig, BuildError, Component, ComponentConfig, ConnectorFactory, ConnectorPipelines, ExporterFactory,
    ExtensionFactory, FieldError, NoTasks, PipelineExporters, ProcessorFactory, ReceiverFactory, ReceiverOutputs,
    Settings, StartError,
};
pub use host::{Extension, Host};
pub use id::{ComponentId, PipelineId};
pub use memory::{component_label, BoundContext, HumanBytes, MemoryBound, MemoryPart, MemoryUse, DECODED_EXPANSION};
pub(crate) use registry::locate;
pub use registry::{ErasedFactory, Registry, RegistryError};

use std::fmt;

/// The five kinds of component in a Collector config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Takes data in.
    Receiver,
    /// Transforms data inside a pipeline.
    Processor,
    /// Sends data out.
    Exporter,
    /// Joins pipelines: an exporter of one, a receiver of another.
    Connector,
    /// Serves the process (health, auth, storage), outside pipelines.
    Extension,
}

impl Kind {
    /// The config section name (`receivers`, ...).
    pub fn section(self) -> &'static str {
        match self {
            Kind::Receiver => "receivers",
            Kind::Processor => "processors",
            Kind::Exporter => "exporters",
            Kind::Connector => "connectors",
            Kind::Extension => "extensions",
        }
    }

    /// The singular word for messages (`receiver`, ...).
    pub fn word(self) -> &'static str {
        match self {
            Kind::Receiver => "receiver",
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
            Kind::Connector => "connector",
            Kind::Extension => "extension",
        }
    }
}

/// A component's maturity for one signal, as the Collector publishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stability {
    /// Not ready for use.
    Development,
    /// Usable, may change.
    Alpha,
    /// Stable config, tested.
    Beta,
    /// Production ready.
    Stable,
    /// Will be removed.
    Deprecated,
}

impl fmt::Display for Stability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stability::Development => "development",
            Stability::Alpha => "alpha",
            Stability::Beta => "beta",
            Stability::Stable => "stable",
            Stability::Deprecated => "deprecated",
        })
    }
}
