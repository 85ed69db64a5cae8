//! Self-telemetry: the process's own metrics under the Collector's names, so existing
//! dashboards work, and the Prometheus endpoint that serves them.

mod log_throttle;
mod metrics;
pub mod names;
mod obs;
mod process;
mod server;

pub use log_throttle::LogThrottle;
pub use metrics::{Counter, Gauge, Histogram, MetricsRegistry};
pub use obs::{DropReason, ExporterObs, GuardObs, ProcessorObs, ReceiverObs};
pub use process::{cpu_seconds, rss_bytes, total_memory_bytes};
pub use server::{serve_metrics, MetricsServer};

use std::sync::Arc;

/// Handle to the process's metrics, cloned into every component's settings.
#[derive(Clone, Default)]
pub struct Telemetry {
    /// The registry all components register into.
    pub metrics: Arc<MetricsRegistry>,
}

impl Telemetry {
    /// A fresh registry with the process metrics registered.
    pub fn new() -> Self {
        let t = Telemetry { metrics: Arc::new(MetricsRegistry::default()) };
        process::register(&t.metrics);
        t
    }
}
