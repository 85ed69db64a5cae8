//! The `forward` connector: passes data unchanged from one pipeline to others of the same
//! signal (to share a receiver's output between pipelines with different processors).

use serde::Deserialize;
use switchyard_core::component::{BuildError, Component, ComponentConfig, ConnectorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, AnyRouter};
use switchyard_pdata::Signal;

/// The Collector type string.
pub const TYPE: &str = "forward";

/// The forward connector has no settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardConnectorConfig {}

impl ComponentConfig for ForwardConnectorConfig {}

/// Creates forward connectors.
pub struct ForwardConnectorFactory;

impl ConnectorFactory for ForwardConnectorFactory {
    type Config = ForwardConnectorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, from: Signal, to: Signal) -> Option<Stability> {
        (from == to).then_some(Stability::Beta)
    }
    /// The connector is the fan-out to every pipeline it feeds: no copy, no task.
    fn create(
        &self,
        set: Settings,
        _cfg: &ForwardConnectorConfig,
        from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        if next.signal() != from {
            return Err(BuildError::new(&set, format!("forward connects {from} only to {from}")));
        }
        Ok((next.all(), None))
    }
}
