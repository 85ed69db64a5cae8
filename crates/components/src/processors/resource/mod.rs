//! The `resource` processor (the Collector contrib `resourceprocessor`): runs the shared
//! attribute actions ([`crate::attraction`]) on the resource attributes of every batch,
//! for traces, metrics, logs and profiles. No `include`/`exclude`: every resource is
//! processed; a batch item without a resource gets one when an action adds an attribute.

#[cfg(test)]
mod tests;

use std::convert::Infallible;

use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, FieldError, ProcessorFactory, Settings, Stability,
};
use switchyard_core::consumer::{AnyConsumer, RequestContext};
use switchyard_core::processorhelper::{create_stateless, ProcessError, SignalProcessor};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::walk::EnvelopeWalk;
use switchyard_pdata::Signal;

use crate::attraction::{ActionKeyValue, AttrProc, ContextValues};

/// The Collector type string.
pub const TYPE: &str = "resource";

/// `processors: resource:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceProcessorConfig {
    /// The actions, applied in order to the resource attributes. Required.
    pub attributes: Vec<ActionKeyValue>,
}

impl ComponentConfig for ResourceProcessorConfig {
    fn validate(&self) -> Vec<FieldError> {
        match ResourceProcessor::new(self) {
            Ok(_) => Vec::new(),
            Err(e) => e,
        }
    }
}

/// Creates resource processors.
pub struct ResourceProcessorFactory;

impl ProcessorFactory for ResourceProcessorFactory {
    type Config = ResourceProcessorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Traces | Signal::Metrics | Signal::Logs => Some(Stability::Beta),
            Signal::Profiles => Some(Stability::Development),
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &ResourceProcessorConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let processor = ResourceProcessor::new(cfg).map_err(|errors| {
            let text: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            BuildError::new(&set, text.join("; "))
        })?;
        create_stateless(&set, processor, next)
    }
}

/// One resource processor instance.
#[derive(Debug)]
pub struct ResourceProcessor {
    actions: AttrProc,
}

impl ResourceProcessor {
    /// Compiles `cfg`; an empty `attributes` list is refused, as upstream.
    pub fn new(cfg: &ResourceProcessorConfig) -> Result<Self, Vec<FieldError>> {
        if cfg.attributes.is_empty() {
            return Err(vec![FieldError::new("attributes", "missing required field \"attributes\"")]);
        }
        Ok(ResourceProcessor { actions: AttrProc::new("attributes", &cfg.attributes)? })
    }

    fn envelopes<R: EnvelopeWalk>(&self, cx: &RequestContext, req: &mut R) {
        let cv = self.actions.context(cx);
        let Ok(()) = req.try_for_each_resource_mut(|mut r| {
            self.actions.apply(&cv, r.attributes_mut());
            Ok::<(), Infallible>(())
        });
    }

    fn apply(&self, cv: &ContextValues, attrs: &mut Vec<switchyard_pdata::proto::common::v1::KeyValue>) {
        self.actions.apply(cv, attrs);
    }
}

impl SignalProcessor for ResourceProcessor {
    fn process_traces(&self, cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        self.envelopes(cx, req);
        Ok(())
    }

    fn process_metrics(&self, cx: &RequestContext, req: &mut ExportMetricsServiceRequest) -> Result<(), ProcessError> {
        self.envelopes(cx, req);
        Ok(())
    }

    fn process_logs(&self, cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        self.envelopes(cx, req);
        Ok(())
    }

    /// Profiles have no envelope walk in pdata; their resources are a plain list.
    fn process_profiles(
        &self,
        cx: &RequestContext,
        req: &mut ExportProfilesServiceRequest,
    ) -> Result<(), ProcessError> {
        let cv = self.actions.context(cx);
        for rp in &mut req.resource_profiles {
            self.apply(&cv, &mut rp.resource.get_or_insert_with(Default::default).attributes);
        }
        Ok(())
    }
}
