//! The pipeline graph: components created from a [`Config`] and wired together, then
//! started and stopped in order.
//!
//! Shape (the Collector's): a receiver is one instance per id, feeding a fan-out to the
//! first processor of every pipeline that lists it; each pipeline has its own processor
//! instances, in order; a pipeline ends in a fan-out to its exporters, and an exporter is
//! one instance per (id, signal) shared by all pipelines that list it. A connector is the
//! exporter of one pipeline and the receiver of others; it emits into a router over the
//! pipelines it feeds, by pipeline id ([`crate::consumer::Router`]). Data moves by direct
//! calls; the first buffer is each exporter's queue.
//!
//! Start order: extensions, exporters, processors and connectors (downstream first),
//! receivers. Shutdown is the reverse, so receivers stop taking data before batches are
//! flushed into exporters that are still running.
//!
//! A configuration reload builds the next graph from the running one ([`Graph::build_next`]):
//! unchanged exporters (same body, same extensions) and unchanged extensions are shared
//! rather than rebuilt, so their queues, connections and ports carry on. [`Graph::retire`]
//! then stops everything of the old graph the new one does not share (receivers first, so
//! batches flush into exporters still running), and [`Graph::start`] starts what is new.

mod build;
mod memory;
mod picture;
mod reuse;
mod substitute;
mod svg;
#[cfg(test)]
mod tests;
mod view;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use memory::{memory_report, MemoryLimit, MemoryReport, MemoryRow};
pub use picture::Picture;
pub use reuse::ReloadChanges;
pub use substitute::{Inlets, Substitutes};
pub use svg::SvgNode;
pub use view::{PipelineView, ServiceView};

use crate::component::{Component, ComponentId, Extension, Host, StartError};
use crate::config::{Config, ConfigErrors};
use crate::telemetry::Telemetry;

/// One pipeline component and whether it runs. Shared (`Arc`) with the next graph when a
/// reload keeps it, so neither graph starts or stops it twice.
pub(crate) struct Unit {
    name: String,
    component: Box<dyn Component>,
    running: AtomicBool,
}

impl Unit {
    fn new(name: String, component: Box<dyn Component>) -> Arc<Unit> {
        Arc::new(Unit { name, component, running: AtomicBool::new(false) })
    }
}

/// Extensions by id, in start order.
type Extensions = Vec<(ComponentId, Arc<dyn Extension>)>;

/// A built graph, ready to start.
pub struct Graph {
    /// Extensions, in start order.
    extensions: Extensions,
    /// Whether `extensions` run; the same flag in the next graph when it keeps them.
    extensions_running: Arc<AtomicBool>,
    /// Pipeline components, in start order (exporters first, receivers last).
    components: Vec<Arc<Unit>>,
    host: Host,
    /// Published on the host when this graph starts.
    view: Arc<ServiceView>,
    /// What the next configuration may keep.
    reusable: reuse::Reusable,
}

impl Graph {
    /// Creates every component of `cfg` and wires the pipelines. Binds no port: `validate`
    /// uses this too. Connector and cycle problems are reported here.
    pub fn build(cfg: &Config, telemetry: &Telemetry) -> Result<Graph, ConfigErrors> {
        build::build(cfg, telemetry, None)
    }

    /// Builds the graph of `cfg` to replace this running one: unchanged extensions (the
    /// whole `service::extensions` list with the same bodies) and, when those are kept,
    /// unchanged exporters (same id, signal and body) are shared, not rebuilt. Nothing is
    /// started or stopped; on error this graph is untouched and keeps running.
    pub fn build_next(&self, cfg: &Config, telemetry: &Telemetry) -> Result<Graph, ConfigErrors> {
        build::build(cfg, telemetry, Some(self))
    }

    /// Builds `cfg` for a config unit test: receivers, exporters and extensions are not
    /// created; `substitutes` supplies the exporters, and the returned [`Inlets`] say where
    /// to push data. Start, then [`Graph::shutdown`] to flush stateful processors.
    pub fn build_substituted(
        cfg: &Config,
        telemetry: &Telemetry,
        substitutes: &Substitutes<'_>,
    ) -> Result<(Graph, Inlets), ConfigErrors> {
        build::build_substituted(cfg, telemetry, substitutes)
    }

    /// The host handed to components (extensions, readiness).
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// What replacing this graph by `next` keeps, starts and stops.
    pub fn changes(&self, next: &Graph) -> ReloadChanges {
        reuse::changes(self, next)
    }

    /// Starts extensions then components, skipping those already running (shared with the
    /// graph this one replaces), and publishes this graph's service view. On the first
    /// failure stops what this call started and returns the error.
    pub async fn start(&self) -> Result<(), StartError> {
        self.host.set_service(self.view.clone());
        if !self.extensions_running.load(Ordering::Acquire) {
            for (i, (id, ext)) in self.extensions.iter().enumerate() {
                if let Err(e) = ext.start(&self.host).await {
                    for (_, started) in self.extensions[..i].iter().rev() {
                        started.shutdown().await;
                    }
                    return Err(StartError::new(format!("extension \"{id}\": {}", e.message)));
                }
            }
            self.extensions_running.store(true, Ordering::Release);
        }
        let mut started: Vec<&Arc<Unit>> = Vec::new();
        for unit in &self.components {
            if unit.running.load(Ordering::Acquire) {
                continue;
            }
            if let Err(e) = unit.component.start(&self.host).await {
                for s in started.iter().rev() {
                    s.component.shutdown().await;
                    s.running.store(false, Ordering::Release);
                }
                return Err(StartError::new(format!("{}: {}", unit.name, e.message)));
            }
            unit.running.store(true, Ordering::Release);
            started.push(unit);
        }
        self.host.set_ready(true);
        Ok(())
    }

    /// Stops receivers first, then processors (flushing batches), then exporters (draining
    /// queues), then extensions. Each component gets what is left of `deadline`.
    pub async fn shutdown(&self, deadline: Duration) {
        self.stop(deadline, None).await;
    }

    /// Stops, in shutdown order, every component and extension of this graph that `next`
    /// does not share; what it shares keeps running. Receivers stop first, so data they
    /// accepted flows on into exporters that are still up.
    pub async fn retire(&self, next: &Graph, deadline: Duration) {
        self.stop(deadline, Some(next)).await;
    }

    async fn stop(&self, deadline: Duration, keep: Option<&Graph>) {
        self.host.set_ready(false);
        let end = tokio::time::Instant::now() + deadline;
        for unit in self.components.iter().rev() {
            if keep.is_some_and(|k| k.components.iter().any(|u| Arc::ptr_eq(u, unit))) {
                continue;
            }
            if tokio::time::timeout_at(end, unit.component.shutdown()).await.is_err() {
                tracing::warn!(component = %unit.name, "Shutdown deadline reached before the component finished.");
            }
            unit.running.store(false, Ordering::Release);
        }
        if keep.is_some_and(|k| Arc::ptr_eq(&k.extensions_running, &self.extensions_running)) {
            return;
        }
        for (id, ext) in self.extensions.iter().rev() {
            if tokio::time::timeout(Duration::from_secs(2), ext.shutdown()).await.is_err() {
                tracing::warn!(extension = %id, "Extension did not stop in time.");
            }
        }
        self.extensions_running.store(false, Ordering::Release);
    }
}
