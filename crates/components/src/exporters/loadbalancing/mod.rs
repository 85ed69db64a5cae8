//! The `loadbalancing` exporter (alias `load_balancing`): sends every span of a trace (or
//! everything of a service, a resource, a metric) to the same backend of a tier of
//! gateways, found by a resolver (`static`, `dns`, `k8s`), over OTLP/gRPC.
//!
//! How it differs from the Collector's, on purpose:
//! - One queue and retry in front of the router (the top-level `sending_queue` and
//!   `retry_on_failure`, else those of `protocol.otlp`), not one per backend. A retry
//!   re-routes what failed over the ring as it is then, so when a backend leaves, its data
//!   goes to the new owner instead of being lost with its queue (contrib #35378), and when
//!   one of several backends fails, only its part is retried (no duplicates at the others).
//! - A ring with 4,096 points per backend on 64-bit positions (`ring.rs`), for an even
//!   spread (contrib #41200).
//! - `resolver.dns` keeps no DNS cache between resolutions, so a member removed from DNS
//!   leaves the ring within one `interval` whatever the records' TTL. It asks the system's
//!   name servers (`/etc/resolv.conf`); the environment variable `SWITCHYARD_DNS_SERVER=ip:port`
//!   replaces them with one server (UDP, then TCP), e.g. a test's DNS server on a free port.

mod config;
mod resolver;
mod ring;
mod routing;
mod sender;
#[cfg(test)]
mod tests;

pub use config::{
    DnsResolverConfig, K8sResolverConfig, LoadBalancingConfig, ProtocolConfig, ResolverConfig, RoutingKey,
    StaticResolverConfig,
};
pub use ring::Ring;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_core::component::{BuildError, Component, ExporterFactory, Host, Settings, Stability, StartError};
use switchyard_core::consumer::{AnyConsumer, DynConsumer};
use switchyard_core::exporterhelper::QueuedExporter;
use switchyard_core::telemetry::ExporterObs;
use switchyard_pdata::{Logs, Metrics, Signal, Traces};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use self::resolver::{Publisher, Resolver};
use self::routing::{Routed, Router};
use self::sender::{BackendFactory, LbSender, Membership};
use crate::exporters::otlp::grpc_sender;

/// The Collector type string (the deprecated spelling most configs use).
pub const TYPE: &str = "loadbalancing";

/// How long `start` waits for the first backend list before letting data queue.
const FIRST_RESOLUTION_WAIT: Duration = Duration::from_secs(5);

/// Creates load-balancing exporters.
pub struct LoadBalancingExporterFactory;

impl ExporterFactory for LoadBalancingExporterFactory {
    type Config = LoadBalancingConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["load_balancing"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        match signal {
            Signal::Traces | Signal::Logs => Some(Stability::Beta),
            Signal::Metrics => Some(Stability::Development),
            Signal::Profiles => None,
        }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &LoadBalancingConfig,
        signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let built = match signal {
            Signal::Traces => build::<Traces>(&set, cfg).map(|(c, k)| (AnyConsumer::from(c), k)),
            Signal::Logs => build::<Logs>(&set, cfg).map(|(c, k)| (AnyConsumer::from(c), k)),
            Signal::Metrics => build::<Metrics>(&set, cfg).map(|(c, k)| (AnyConsumer::from(c), k)),
            Signal::Profiles => Err("profiles cannot be load-balanced".to_string()),
        };
        built.map_err(|e| BuildError::new(&set, e))
    }
}

fn build<S: Routed>(set: &Settings, cfg: &LoadBalancingConfig) -> Result<(DynConsumer<S>, Box<dyn Component>), String> {
    let router = Router::new(S::SIGNAL, &cfg.routing_key, &cfg.routing_attributes)?;
    let resolver = resolver::from_config(&cfg.resolver)?;
    let template = cfg.protocol.otlp.clone();
    // Fail at build, not per backend later, on what every backend shares (TLS files, headers).
    let mut probe = template.clone();
    probe.endpoint = "placeholder:4317".into();
    grpc_sender::<S>(set.id.clone(), &probe).map_err(|e| format!("protocol::otlp: {e}"))?;

    let members = Arc::new(Membership::<S>::new(BackendFactory {
        set: set.clone(),
        template: template.clone(),
        host: OnceLock::new(),
    }));
    let sender = LbSender {
        id: set.id.clone(),
        members: members.clone(),
        router,
        timeout: cfg.timeout.unwrap_or(template.timeout),
    };
    let queue = cfg.sending_queue.clone().unwrap_or(template.sending_queue);
    let retry = cfg.retry_on_failure.clone().unwrap_or(template.retry_on_failure);
    let obs = ExporterObs::new(&set.telemetry, &set.id, S::SIGNAL);
    // No helper timeout around the whole attempt: each backend's send has its own.
    let queued = Arc::new(QueuedExporter::new(set.id.clone(), sender, queue, retry, Duration::ZERO, obs));
    let component = LoadBalancer {
        set: set.clone(),
        queued: queued.clone(),
        resolver,
        members,
        stop: CancellationToken::new(),
        tasks: Mutex::new(Vec::new()),
    };
    Ok((queued, Box::new(component)))
}

/// The exporter's lifecycle: the queue, the resolver and the task that rebuilds the ring.
struct LoadBalancer<S: Routed> {
    set: Settings,
    queued: Arc<QueuedExporter<S>>,
    resolver: Arc<dyn Resolver>,
    members: Arc<Membership<S>>,
    stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl<S: Routed> Component for LoadBalancer<S> {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            self.queued.start(host).await?;
            let (publisher, mut rx) = Publisher::new(&self.set, self.resolver.name());
            let mut tasks = self.tasks.lock().await;
            tasks.push(tokio::spawn(self.resolver.clone().run(publisher, self.stop.clone())));
            // The Collector resolves once before it starts; waiting a little here keeps the
            // first requests from a retry's backoff. Data that comes earlier queues.
            if tokio::time::timeout(FIRST_RESOLUTION_WAIT, rx.wait_for(|l| !l.is_empty())).await.is_err() {
                tracing::warn!(exporter = %self.set.id, "No load-balancing backend resolved yet; data queues until one is.");
            }
            let current = rx.borrow_and_update().clone();
            self.members.update(&current);
            let (members, stop) = (self.members.clone(), self.stop.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        changed = rx.changed() => if changed.is_err() { break },
                        _ = stop.cancelled() => break,
                    }
                    let list = rx.borrow_and_update().clone();
                    members.update(&list);
                }
            }));
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // The queue drains over the ring as it is; then the resolver stops.
            self.queued.shutdown().await;
            self.stop.cancel();
            for t in self.tasks.lock().await.drain(..) {
                let _ = t.await;
            }
        })
    }
}
