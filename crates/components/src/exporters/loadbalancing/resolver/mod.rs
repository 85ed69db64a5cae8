//! Where the backend list comes from. A resolver publishes the current list on a `watch`
//! channel whenever it changes; the exporter rebuilds its ring from it. Each list is
//! sorted and free of duplicates, so that two gateways seeing the same backends build the
//! same ring (as the Collector's resolvers do).

mod dns;
mod k8s;
mod static_hosts;

pub use dns::DnsResolver;
pub use k8s::{parse_service, K8sResolver};
pub use static_hosts::StaticResolver;

use std::sync::Arc;

use futures::future::BoxFuture;
use switchyard_core::component::Settings;
use switchyard_core::telemetry::{Counter, Gauge};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The backends, `host:port` each, sorted and deduplicated.
pub type Backends = Arc<Vec<String>>;

/// Sorts and deduplicates `endpoints` into a [`Backends`].
pub fn backends(mut endpoints: Vec<String>) -> Backends {
    endpoints.sort();
    endpoints.dedup();
    Arc::new(endpoints)
}

/// A source of backends.
pub trait Resolver: Send + Sync + 'static {
    /// The `resolver` label of `otelcol_loadbalancer_num_resolutions` (`static`, `dns`, `k8s`).
    fn name(&self) -> &'static str;

    /// Runs until `stop`: resolves (the first time at once), and publishes each new list
    /// with [`ResolverObs::publish`], which only sends it when it differs from the last.
    /// A failed resolution keeps the last list (a DNS outage must not empty the ring) and
    /// is counted.
    fn run(self: Arc<Self>, out: Publisher, stop: CancellationToken) -> BoxFuture<'static, ()>;
}

/// What a resolver reports to: the channel the exporter watches and the resolver metrics.
pub struct Publisher {
    tx: watch::Sender<Backends>,
    resolutions_ok: Counter,
    resolutions_failed: Counter,
    updates: Counter,
    num_backends: Gauge,
}

impl Publisher {
    /// A publisher for `resolver` (its metric label), starting from an empty list.
    pub fn new(set: &Settings, resolver: &'static str) -> (Publisher, watch::Receiver<Backends>) {
        let m = &set.telemetry.metrics;
        let (tx, rx) = watch::channel(Arc::new(Vec::new()));
        let resolutions = |ok: &str| {
            m.counter(
                "otelcol_loadbalancer_num_resolutions",
                "Number of times the resolver has triggered new resolutions.",
                &[("resolver", resolver), ("success", ok)],
            )
        };
        let p = Publisher {
            tx,
            resolutions_ok: resolutions("true"),
            resolutions_failed: resolutions("false"),
            updates: m.counter(
                "otelcol_loadbalancer_num_backend_updates",
                "Number of times the list of backends was updated.",
                &[("resolver", resolver)],
            ),
            num_backends: m.gauge(
                "otelcol_loadbalancer_num_backends",
                "Current number of backends in use.",
                &[("resolver", resolver)],
            ),
        };
        (p, rx)
    }

    /// A successful resolution: counted, and published if the list changed.
    pub fn publish(&self, list: Backends) {
        self.resolutions_ok.add(1);
        let changed = self.tx.send_if_modified(|cur| {
            if **cur == *list {
                false
            } else {
                *cur = list.clone();
                true
            }
        });
        if changed {
            self.updates.add(1);
            self.num_backends.set(list.len() as i64);
            tracing::info!(backends = ?list, "Load-balancing backends changed.");
        }
    }

    /// A failed resolution: counted and logged; the last list stays.
    pub fn failed(&self, resolver: &str, error: &str) {
        self.resolutions_failed.add(1);
        tracing::warn!(resolver, error, "Resolving the load-balancing backends failed; keeping the last list.");
    }
}

/// The resolver `cfg` configures (validation made sure there is exactly one).
pub fn from_config(cfg: &super::config::ResolverConfig) -> Result<Arc<dyn Resolver>, String> {
    if let Some(s) = &cfg.static_hosts {
        return Ok(Arc::new(StaticResolver::new(s)));
    }
    if let Some(d) = &cfg.dns {
        return Ok(Arc::new(DnsResolver::new(d).map_err(|e| format!("resolver::dns: {e}"))?));
    }
    if let Some(k) = &cfg.k8s {
        return Ok(Arc::new(K8sResolver::new(k)?));
    }
    Err("no resolver configured: set one of `static`, `dns` or `k8s`".into())
}
