//! The `debug` exporter: writes what arrives to the log, at three verbosities. For trying
//! a pipeline out, not for production traffic (it runs inline, without a queue, as the
//! Collector's does by default).

use std::fmt::Write as _;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;
use switchyard_core::any_consumer_for;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, ComponentId, ExporterFactory, NoTasks, Settings, Stability,
};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, RequestContext};
use switchyard_core::telemetry::ExporterObs;
use switchyard_pdata::{Signal, SignalData};

/// The Collector type string.
pub const TYPE: &str = "debug";

/// How much to write.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// One line per batch with counts (default).
    #[default]
    Basic,
    /// One line per item.
    Normal,
    /// Everything in the batch.
    Detailed,
}

/// The debug exporter's config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DebugExporterConfig {
    /// `basic`, `normal` or `detailed`.
    pub verbosity: Verbosity,
    /// Accepted for compatibility (no sampling of output).
    pub sampling_initial: Option<u32>,
    /// Accepted for compatibility.
    pub sampling_thereafter: Option<u32>,
    /// Accepted for compatibility: output always goes to the process log.
    pub use_internal_logger: Option<bool>,
    /// The removed `logging` exporter's level field, accepted (and ignored) so its old
    /// configs still load; `verbosity` says how much is written.
    pub loglevel: Option<String>,
}

impl ComponentConfig for DebugExporterConfig {}

/// Creates debug exporters.
pub struct DebugExporterFactory;

impl ExporterFactory for DebugExporterFactory {
    type Config = DebugExporterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    /// `logging`: the exporter the Collector replaced with `debug` and removed in v0.111.0;
    /// loading it warns (see the config loader's list of removed types).
    fn aliases(&self) -> &'static [&'static str] {
        &["logging"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        Some(match signal {
            Signal::Profiles => Stability::Development,
            _ => Stability::Alpha,
        })
    }
    /// Holds nothing: it writes (or drops) the caller's request before returning.
    fn memory_bound(
        &self,
        _cfg: &Self::Config,
        _cx: &switchyard_core::component::BoundContext,
    ) -> switchyard_core::component::MemoryBound {
        switchyard_core::component::MemoryBound::nothing()
    }
    fn create(
        &self,
        set: Settings,
        cfg: &DebugExporterConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let obs = ExporterObs::new(&set.telemetry, &set.id, signal);
        let consumer = any_consumer_for!(signal, S => Arc::new(DebugExporter { id: set.id.clone(), verbosity: cfg.verbosity, obs: obs.clone() }) as Arc<dyn Consumer<S>>);
        Ok((consumer, Box::new(NoTasks)))
    }
}

struct DebugExporter {
    id: ComponentId,
    verbosity: Verbosity,
    obs: ExporterObs,
}

impl<S: SignalData> Consumer<S> for DebugExporter {
    fn consume<'a>(&'a self, _cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let items = data.item_count();
            match self.verbosity {
                Verbosity::Basic => {
                    tracing::info!(exporter = %self.id, data_type = %S::SIGNAL, items, "Received {}.", S::SIGNAL)
                }
                Verbosity::Normal | Verbosity::Detailed => {
                    let text = describe(&data, self.verbosity == Verbosity::Detailed);
                    tracing::info!(exporter = %self.id, data_type = %S::SIGNAL, items, "Received {}:\n{text}", S::SIGNAL)
                }
            }
            self.obs.sent.add(items as u64);
            Ok(())
        })
    }
}

/// Normal: the request in compact debug form, one item per line where possible; detailed:
/// the whole request pretty-printed.
fn describe<S: SignalData>(data: &S, detailed: bool) -> String {
    let mut out = String::new();
    if detailed {
        let _ = write!(out, "{:#?}", data.request());
    } else {
        let _ = write!(out, "{:?}", data.request());
    }
    out
}
