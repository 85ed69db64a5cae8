//! Self-telemetry: the process's own metrics under the Collector's names, so existing
//! dashboards work, and the Prometheus endpoint that serves them.

pub mod counts;
mod local;
mod log_throttle;
mod metrics;
pub mod names;
mod obs;
mod process;
mod recent;
mod server;

pub use local::{LocalCounter, LocalHistogram};
pub use log_throttle::LogThrottle;
pub use metrics::{Counter, Gauge, Histogram, MetricsRegistry, Sample};
pub use obs::{DropReason, ExporterObs, GuardObs, ProcessorObs, ReceiverObs};
pub use process::{cgroup_memory_limit, cpu_seconds, rss_bytes, total_memory_bytes};
pub use recent::{RecentEvent, RecentEvents, RECENT_EVENTS_CAPACITY};
pub use server::{serve_metrics, MetricsServer};

use std::sync::{Arc, OnceLock};

/// Handle to the process's metrics, cloned into every component's settings.
#[derive(Clone, Default)]
pub struct Telemetry {
    /// The registry all components register into.
    pub metrics: Arc<MetricsRegistry>,
    /// The last warnings and errors logged (fed by the binary's log layer).
    pub recent: Arc<RecentEvents>,
}

impl Telemetry {
    /// A fresh registry with the process metrics registered.
    pub fn new() -> Self {
        let t = Telemetry { metrics: Arc::new(MetricsRegistry::default()), recent: Arc::new(RecentEvents::default()) };
        process::register(&t.metrics);
        t
    }
}

/// This process's instance id: a random UUID (version 4) drawn once per process, as the
/// Collector draws its `service.instance.id`. Components that label data with the
/// gateway's identity (`spanmetrics`' `collector.instance.id`) all read this one value.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut b: [u8; 16] = rand::random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_instance_id_is_one_uuid_v4_per_process() {
        let id = super::instance_id();
        assert_eq!(id, super::instance_id());
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
        assert!(parts[2].starts_with('4'), "version 4: {id}");
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "RFC 4122 variant: {id}");
    }
}
