//! The `resourcedetection` processor (alias `resource_detection`; the Collector contrib
//! `resourcedetectionprocessor`): detects the resource the gateway runs in (environment,
//! host, Docker, EC2, ECS, EKS, Lambda, Heroku, GCP, Azure, the Kubernetes node) and merges
//! it into every resource passing through.
//!
//! Detection runs in `start`, every detector at once, each bounded by `timeout`, so the
//! start waits for it as the Collector's does but always finishes: a detector that fails
//! or times out is logged and contributes nothing (with `fail_on_missing_metadata`, a
//! detector whose platform or metadata service is missing fails the start instead). It
//! runs again every `refresh_interval`. The pipelines using one processor share one
//! detection. The merged result sits in an `ArcSwap`; the hot path loads it and loops
//! over its few attributes per resource.

mod attrs;
mod config;
mod detect;
pub mod detectors;
mod runner;
#[cfg(test)]
mod tests;

pub use config::ResourceDetectionConfig;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use switchyard_core::component::{BuildError, Component, ProcessorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, RequestContext};
use switchyard_core::processorhelper::{create_stateless, ProcessError, SignalProcessor};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::Signal;

use detect::{Detection, Merged};
use detectors::{DetectCx, Detector, EnvLookup};
pub use runner::DetectionRunner;
use runner::Shared;

/// The Collector type string.
pub const TYPE: &str = "resourcedetection";

/// Creates resourcedetection processors.
pub struct ResourceDetectionProcessorFactory;

impl ProcessorFactory for ResourceDetectionProcessorFactory {
    type Config = ResourceDetectionConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["resource_detection"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Profiles => None,
            _ => Some(Stability::Beta),
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &ResourceDetectionConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let (processor, component) = build_shared(&set, cfg).map_err(|e| BuildError::new(&set, e))?;
        let (consumer, _) = create_stateless(&set, processor, next)?;
        Ok((consumer, Some(Box::new(component))))
    }
}

/// Builds the processor and the component that runs its detection, reading the
/// environment through `env` (tests pass their own). Not shared with other pipelines.
pub fn build(
    set: &Settings,
    cfg: &ResourceDetectionConfig,
    env: EnvLookup,
) -> Result<(ResourceDetectionProcessor, DetectionRunner), String> {
    let shared = Arc::new(Shared::new(detection(set, cfg, env)?, cfg.refresh_interval));
    Ok(parts(shared, cfg))
}

/// As [`build`], with the process environment, sharing one detection between every
/// pipeline that uses this processor id with this config: detected once, refreshed by
/// one task (the Collector's factory keeps one resource provider per processor id).
fn build_shared(
    set: &Settings,
    cfg: &ResourceDetectionConfig,
) -> Result<(ResourceDetectionProcessor, DetectionRunner), String> {
    let key = format!("{}\u{0}{cfg:?}", set.id);
    let mut registry = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    registry.retain(|_, w| w.strong_count() > 0);
    if let Some(shared) = registry.get(&key).and_then(std::sync::Weak::upgrade) {
        return Ok(parts(shared, cfg));
    }
    let shared = Arc::new(Shared::new(detection(set, cfg, detectors::process_env())?, cfg.refresh_interval));
    registry.insert(key, Arc::downgrade(&shared));
    Ok(parts(shared, cfg))
}

/// Live detections by processor id and config.
static SHARED: std::sync::LazyLock<Mutex<HashMap<String, std::sync::Weak<Shared>>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashMap::new()));

fn detection(set: &Settings, cfg: &ResourceDetectionConfig, env: EnvLookup) -> Result<Detection, String> {
    let detectors = cfg.detectors.iter().map(|name| Detector::build(name, cfg, &env)).collect::<Result<Vec<_>, _>>()?;
    let cx = DetectCx::new(cfg.timeout, env)?;
    let fail_on_missing = cfg.fail_on_missing_metadata || cfg.ec2.fail_on_missing_metadata;
    Ok(Detection::new(set.id.clone(), detectors, cx, cfg.timeout, cfg.retry.clone(), fail_on_missing))
}

fn parts(shared: Arc<Shared>, cfg: &ResourceDetectionConfig) -> (ResourceDetectionProcessor, DetectionRunner) {
    let processor = ResourceDetectionProcessor { shared: shared.clone(), override_existing: cfg.override_existing };
    (processor, DetectionRunner::new(shared))
}

/// The hot path: merges the detected resource into each resource of a batch.
pub struct ResourceDetectionProcessor {
    shared: Arc<Shared>,
    override_existing: bool,
}

impl ResourceDetectionProcessor {
    /// Merges into one resource envelope: `override` replaces, otherwise only missing keys
    /// are added; the schema URL is set when the envelope has none.
    fn apply(&self, merged: &Merged, resource: &mut Option<Resource>, schema_url: &mut String) {
        if schema_url.is_empty() && !merged.schema_url.is_empty() {
            schema_url.clone_from(&merged.schema_url);
        }
        if merged.attrs.is_empty() {
            return;
        }
        let attrs = &mut resource.get_or_insert_with(Resource::default).attributes;
        for kv in &merged.attrs {
            merge_one(attrs, kv, self.override_existing);
        }
    }
}

fn merge_one(attrs: &mut Vec<KeyValue>, kv: &KeyValue, override_existing: bool) {
    match attrs.iter_mut().find(|a| a.key == kv.key) {
        Some(existing) => {
            if override_existing {
                existing.value.clone_from(&kv.value);
            }
        }
        None => attrs.push(kv.clone()),
    }
}

impl SignalProcessor for ResourceDetectionProcessor {
    fn process_traces(&self, _cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        let merged = self.shared.detection.published.load();
        for rs in &mut req.resource_spans {
            self.apply(&merged, &mut rs.resource, &mut rs.schema_url);
        }
        Ok(())
    }

    fn process_metrics(&self, _cx: &RequestContext, req: &mut ExportMetricsServiceRequest) -> Result<(), ProcessError> {
        let merged = self.shared.detection.published.load();
        for rm in &mut req.resource_metrics {
            self.apply(&merged, &mut rm.resource, &mut rm.schema_url);
        }
        Ok(())
    }

    fn process_logs(&self, _cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        let merged = self.shared.detection.published.load();
        for rl in &mut req.resource_logs {
            self.apply(&merged, &mut rl.resource, &mut rl.schema_url);
        }
        Ok(())
    }
}
