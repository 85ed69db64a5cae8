//! The `nop` receiver: takes nothing in. Configs use it to keep a pipeline valid whose data
//! comes only from a connector or is not wanted yet, as with the Collector's.

use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, NoTasks, ReceiverFactory, ReceiverOutputs, Settings, Stability,
};
use switchyard_pdata::Signal;

/// The Collector type string.
pub const TYPE: &str = "nop";

/// The nop receiver has no settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NopReceiverConfig {}

impl ComponentConfig for NopReceiverConfig {}

/// Creates nop receivers.
pub struct NopReceiverFactory;

impl ReceiverFactory for NopReceiverFactory {
    type Config = NopReceiverConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, _signal: Signal) -> Option<Stability> {
        Some(Stability::Beta)
    }
    fn create(
        &self,
        _set: Settings,
        _cfg: &NopReceiverConfig,
        _out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        Ok(Box::new(NoTasks))
    }
}
