//! What the running service looks like, for extensions that show it to operators (the
//! `zpages` status page): the graph, the pipelines' members, the redacted config and the
//! telemetry registry the components count into. Built once with the graph; read-only.

use std::sync::Arc;
use std::time::SystemTime;

use super::Picture;
use crate::component::Kind;
use crate::config::{redacted_config, Config};
use crate::tap::Taps;
use crate::telemetry::Telemetry;

/// One pipeline's members, by id, in config order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineView {
    /// The pipeline id (`traces/tempo`).
    pub name: String,
    /// Receivers and connectors feeding it.
    pub receivers: Vec<String>,
    /// Processors, in order.
    pub processors: Vec<String>,
    /// Exporters and connectors it feeds.
    pub exporters: Vec<String>,
}

/// The service as built from one config.
pub struct ServiceView {
    /// The pipeline graph (draw it with [`Picture::to_svg`] and friends).
    pub picture: Picture,
    /// Every pipeline, in config order.
    pub pipelines: Vec<PipelineView>,
    /// Extension ids, in start order.
    pub extensions: Vec<String>,
    /// Connector ids used in pipelines.
    pub connectors: Vec<String>,
    /// The config as YAML with secrets redacted.
    pub config_yaml: String,
    /// The registry every component counts into.
    pub telemetry: Telemetry,
    /// When the graph was built (the service's start, near enough).
    pub started: SystemTime,
    /// The tap point of every wired consumer (`/debug/tap`, `switchyard tap`).
    pub taps: Arc<Taps>,
}

impl ServiceView {
    /// The view of `cfg`, counting into `telemetry`.
    pub fn of(cfg: &Config, telemetry: &Telemetry) -> ServiceView {
        let ids = |refs: &[crate::config::Ref]| refs.iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
        let pipelines = cfg
            .service
            .pipelines
            .values()
            .map(|p| PipelineView {
                name: p.id.to_string(),
                receivers: ids(&p.receivers),
                processors: ids(&p.processors),
                exporters: ids(&p.exporters),
            })
            .collect::<Vec<_>>();
        let mut connectors = Vec::new();
        for p in cfg.service.pipelines.values() {
            for r in p.receivers.iter().chain(&p.exporters) {
                let id = r.id.to_string();
                if cfg.get(Kind::Connector, &r.id).is_some() && !connectors.contains(&id) {
                    connectors.push(id);
                }
            }
        }
        ServiceView {
            picture: Picture::of(cfg),
            pipelines,
            extensions: ids(&cfg.service.extensions),
            connectors,
            config_yaml: redacted_config(cfg),
            telemetry: telemetry.clone(),
            started: SystemTime::now(),
            taps: Arc::new(Taps::default()),
        }
    }

    /// True when `id` is a connector of this service.
    pub fn is_connector(&self, id: &str) -> bool {
        self.connectors.iter().any(|c| c == id)
    }
}
