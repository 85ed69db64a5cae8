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

mod build;
mod picture;
mod substitute;
mod svg;
#[cfg(test)]
mod tests;
mod view;

use std::sync::Arc;
use std::time::Duration;

pub use picture::Picture;
pub use substitute::{Inlets, Substitutes};
pub use svg::SvgNode;
pub use view::{PipelineView, ServiceView};

use crate::component::{Component, ComponentId, Extension, Host, StartError};
use crate::config::{Config, ConfigErrors};
use crate::telemetry::Telemetry;

/// A built graph, ready to start.
pub struct Graph {
    /// Extensions, in start order.
    extensions: Vec<(ComponentId, Arc<dyn Extension>)>,
    /// Pipeline components, in start order (exporters first, receivers last).
    components: Vec<(String, Box<dyn Component>)>,
    host: Host,
}

impl Graph {
    /// Creates every component of `cfg` and wires the pipelines. Binds no port: `validate`
    /// uses this too. Connector and cycle problems are reported here.
    pub fn build(cfg: &Config, telemetry: &Telemetry) -> Result<Graph, ConfigErrors> {
        build::build(cfg, telemetry)
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

    /// Starts extensions then components; on the first failure stops what started and
    /// returns the error.
    pub async fn start(&self) -> Result<(), StartError> {
        for (id, ext) in &self.extensions {
            ext.start(&self.host).await.map_err(|e| StartError::new(format!("extension \"{id}\": {}", e.message)))?;
        }
        for (i, (name, c)) in self.components.iter().enumerate() {
            if let Err(e) = c.start(&self.host).await {
                for (_, started) in self.components[..i].iter().rev() {
                    started.shutdown().await;
                }
                return Err(StartError::new(format!("{name}: {}", e.message)));
            }
        }
        self.host.set_ready(true);
        Ok(())
    }

    /// Stops receivers first, then processors (flushing batches), then exporters (draining
    /// queues), then extensions. Each component gets what is left of `deadline`.
    pub async fn shutdown(&self, deadline: Duration) {
        self.host.set_ready(false);
        let end = tokio::time::Instant::now() + deadline;
        for (name, c) in self.components.iter().rev() {
            if tokio::time::timeout_at(end, c.shutdown()).await.is_err() {
                tracing::warn!(component = %name, "Shutdown deadline reached before the component finished.");
            }
        }
        for (id, ext) in self.extensions.iter().rev() {
            if tokio::time::timeout(Duration::from_secs(2), ext.shutdown()).await.is_err() {
                tracing::warn!(extension = %id, "Extension did not stop in time.");
            }
        }
    }
}
