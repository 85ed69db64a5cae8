//! The `k8sattributes` processor (alias `k8s_attributes`; the Collector contrib
//! `k8sattributesprocessor`): finds the pod a resource came from (by the connection's IP or
//! resource attributes, per `pod_association`) and adds that pod's metadata (`k8s.pod.name`,
//! `k8s.namespace.name`, `k8s.deployment.name`, labels, annotations...) to the resource,
//! and the service attributes (`service.name` and the like) computed from the pod's
//! `resource.opentelemetry.io/` annotations, well-known labels, owners and containers in
//! upstream's order ([`rules::Rules::extract_pod`], [`cache::PodInfo::service_name`]).
//!
//! Pods are learned by a background watch of the API server into a compact cache
//! ([`cache`]); a request only reads the cache and never waits for the API.
//! Self-metrics: `switchyard_processor_k8sattributes_pods` and
//! `switchyard_processor_k8sattributes_cache_bytes` (label `processor`).

mod associate;
pub mod cache;
mod component;
pub mod config;
pub mod pod;
pub mod rules;
#[cfg(test)]
mod tests;
mod watch;

pub use config::{K8sAttributesConfig, DEFAULT_METADATA, METADATA_NAMES};

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use regex::Regex;
use switchyard_core::component::{BuildError, Component, ProcessorFactory, Settings, Stability};
use switchyard_core::consumer::{AnyConsumer, RequestContext};
use switchyard_core::processorhelper::{create_stateless, ProcessError, SignalProcessor};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::Signal;
use tokio_util::sync::CancellationToken;

use crate::k8s::ApiConfig;
use cache::{default_associations, Association, PodCache, Source};
use component::WatchCore;
pub(crate) use component::Watcher;
use pod::Converter;
use rules::Rules;
use watch::{Shared, WatchPlan};

/// The Collector type string.
pub const TYPE: &str = "k8sattributes";

/// Gauge: pods in the cache.
pub const PODS_GAUGE: &str = "switchyard_processor_k8sattributes_pods";
/// Gauge: approximate bytes the cache holds.
pub const BYTES_GAUGE: &str = "switchyard_processor_k8sattributes_cache_bytes";

/// How long a deleted pod still matches (upstream's `podDeleteGracePeriod`), so data sent
/// just before the pod went still gets its attributes.
pub const DELETE_GRACE: Duration = Duration::from_secs(120);

/// Creates k8sattributes processors.
pub struct K8sAttributesProcessorFactory;

impl ProcessorFactory for K8sAttributesProcessorFactory {
    type Config = K8sAttributesConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["k8s_attributes"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Traces | Signal::Metrics | Signal::Logs => Some(Stability::Beta),
            Signal::Profiles => Some(Stability::Alpha),
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &K8sAttributesConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let api = ApiConfig { auth_type: cfg.auth_type, context: cfg.context.clone(), kubeconfig: None };
        let (processor, watcher) = parts(&set, cfg, api, DELETE_GRACE)?;
        let (consumer, _) = create_stateless(&set, processor, next)?;
        Ok((consumer, watcher.map(|w| Box::new(w) as Box<dyn Component>)))
    }
}

/// The processor and the component running its watches (none in passthrough mode).
pub(crate) fn parts(
    set: &Settings,
    cfg: &K8sAttributesConfig,
    api: ApiConfig,
    grace: Duration,
) -> Result<(K8sAttributesProcessor, Option<Watcher>), BuildError> {
    let rules = Arc::new(Rules::compile(&cfg.extract));
    let associations: Vec<Association> = if cfg.pod_association.is_empty() {
        default_associations()
    } else {
        cfg.pod_association
            .iter()
            .map(|a| {
                a.sources
                    .iter()
                    .map(|s| match s.from.as_str() {
                        "connection" => Source::Connection,
                        _ => Source::Attr(s.name.as_str().into()),
                    })
                    .collect()
            })
            .collect()
    };
    if cfg.passthrough {
        let cache = Arc::new(PodCache::new(Vec::new(), grace));
        let processor = K8sAttributesProcessor { rules, associations, passthrough: true, cache };
        return Ok((processor, None));
    }
    // Instances with the same id and config (one per pipeline) share one cache and one set
    // of watches: a processor in traces, metrics and logs pipelines costs one cache, not three.
    let key = format!("{}\u{0}{cfg:?}\u{0}{api:?}\u{0}{grace:?}", set.id);
    let core = match component::lookup(&key) {
        Some(core) => core,
        None => {
            let exclude = cfg
                .exclude
                .pods
                .iter()
                .map(|p| Regex::new(&p.name))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| BuildError::new(set, format!("exclude::pods: {e}")))?;
            let node = if cfg.filter.node_from_env_var.is_empty() {
                cfg.filter.node.clone()
            } else {
                std::env::var(&cfg.filter.node_from_env_var).unwrap_or_default()
            };
            let keep_ids = rules.has("container.id")
                || cfg.pod_association.iter().flat_map(|a| &a.sources).any(|s| s.name == "container.id");
            let id = set.id.to_string();
            let labels = [("processor", id.as_str())];
            let m = &set.telemetry.metrics;
            let shared = Shared {
                cache: Arc::new(PodCache::new(associations.clone(), grace)),
                conv: Arc::new(Converter::new(rules.clone(), exclude, keep_ids)),
                synced: tokio::sync::watch::channel(0usize).0,
                pods_gauge: m.gauge(PODS_GAUGE, "Pods in the k8sattributes processor's cache.", &labels),
                bytes_gauge: m.gauge(
                    BYTES_GAUGE,
                    "Approximate bytes the k8sattributes processor's pod cache holds.",
                    &labels,
                ),
                stop: CancellationToken::new(),
            };
            let plan = WatchPlan::new(&cfg.filter, &node, &rules);
            let wait = cfg.wait_for_metadata.then_some(cfg.wait_for_metadata_timeout);
            component::register(key, WatchCore::new(id, api, plan, shared, wait))
        }
    };
    let processor = K8sAttributesProcessor { rules, associations, passthrough: false, cache: core.cache() };
    Ok((processor, Some(Watcher::new(core))))
}

/// One processor instance: reads the cache.
pub struct K8sAttributesProcessor {
    rules: Arc<Rules>,
    associations: Vec<Association>,
    passthrough: bool,
    cache: Arc<PodCache>,
}

impl K8sAttributesProcessor {
    fn resource(&self, conn: Option<&str>, res: &mut Option<Resource>) {
        match res {
            Some(r) => self.attributes(conn, &mut r.attributes),
            None => {
                // No resource: one is added only if something was found for it.
                let mut attributes = Vec::new();
                self.attributes(conn, &mut attributes);
                if !attributes.is_empty() {
                    *res = Some(Resource { attributes, ..Default::default() });
                }
            }
        }
    }

    fn attributes(&self, conn: Option<&str>, attrs: &mut Vec<KeyValue>) {
        let id = associate::identify(&self.associations, conn, attrs);
        if let (Some((_, true)), Some(ip)) = (&id, conn) {
            if self.passthrough || self.rules.has("k8s.pod.ip") {
                associate::set_attr(attrs, "k8s.pod.ip", ip);
            }
        }
        if !self.passthrough {
            associate::annotate(&self.cache, &self.rules, id.as_ref().map(|(k, _)| k.as_str()), attrs);
        }
    }

    /// The connection's IP as the Collector prints it (IPv4-mapped IPv6 as IPv4).
    fn conn(cx: &RequestContext) -> Option<String> {
        cx.client_addr.map(|a| a.ip().to_canonical().to_string())
    }
}

impl SignalProcessor for K8sAttributesProcessor {
    fn process_traces(&self, cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        let conn = Self::conn(cx);
        req.resource_spans.iter_mut().for_each(|r| self.resource(conn.as_deref(), &mut r.resource));
        Ok(())
    }
    fn process_metrics(&self, cx: &RequestContext, req: &mut ExportMetricsServiceRequest) -> Result<(), ProcessError> {
        let conn = Self::conn(cx);
        req.resource_metrics.iter_mut().for_each(|r| self.resource(conn.as_deref(), &mut r.resource));
        Ok(())
    }
    fn process_logs(&self, cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        let conn = Self::conn(cx);
        req.resource_logs.iter_mut().for_each(|r| self.resource(conn.as_deref(), &mut r.resource));
        Ok(())
    }
    fn process_profiles(
        &self,
        cx: &RequestContext,
        req: &mut ExportProfilesServiceRequest,
    ) -> Result<(), ProcessError> {
        let conn = Self::conn(cx);
        req.resource_profiles.iter_mut().for_each(|r| self.resource(conn.as_deref(), &mut r.resource));
        Ok(())
    }
}
