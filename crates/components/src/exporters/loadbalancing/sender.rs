//! The load balancer's sender: behind the exporter helper's queue and retries, one attempt
//! splits the request over the current ring and sends every part to its backend at once.
//! Parts that fail stay in the request and nothing else does, so the retry re-splits only
//! them over the ring as it is then: a backend that left hands its data to the new owner,
//! and the backends that took their part never see it twice.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use futures::future::{join_all, BoxFuture};
use switchyard_core::component::{ComponentId, Host, Settings};
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::{ExportError, Sender};
use switchyard_core::telemetry::{Counter, Histogram};
use switchyard_pdata::SignalData;

use super::resolver::Backends;
use super::ring::Ring;
use super::routing::{Routed, Router};
use crate::exporters::otlp::grpc::GrpcSender;
use crate::exporters::otlp::{grpc_sender, OtlpExporterConfig};

/// Latency buckets (ms) of `otelcol_loadbalancer_backend_latency`.
const LATENCY_MS: &[f64] = &[5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0];

/// One backend: its OTLP sender and its metrics.
pub struct Backend<S: Routed> {
    pub endpoint: String,
    sender: GrpcSender<S>,
    ok: Counter,
    failed: Counter,
    latency: Histogram,
}

impl<S: Routed> Backend<S> {
    async fn send(&self, cx: &RequestContext, data: &S, timeout: Duration) -> Result<(), ExportError> {
        let started = Instant::now();
        let r = match tokio::time::timeout(timeout, self.sender.send(cx, data)).await {
            Ok(r) => r,
            Err(_) => Err(ExportError::retryable(format!("request to {} timed out after {timeout:?}", self.endpoint))),
        };
        self.latency.observe(started.elapsed().as_secs_f64() * 1000.0);
        match &r {
            Ok(()) => self.ok.add(1),
            Err(_) => self.failed.add(1),
        }
        r
    }
}

/// The ring and the backends it indexes (same order).
pub struct Members<S: Routed> {
    pub ring: Ring,
    pub backends: Vec<Arc<Backend<S>>>,
}

/// Builds backends from the `protocol.otlp` template.
pub struct BackendFactory {
    pub set: Settings,
    pub template: OtlpExporterConfig,
    pub host: OnceLock<Host>,
}

impl BackendFactory {
    fn build<S: Routed>(&self, endpoint: &str) -> Result<Backend<S>, String> {
        let mut cfg = self.template.clone();
        cfg.endpoint = endpoint.to_string();
        let sender = grpc_sender::<S>(self.set.id.clone(), &cfg)?;
        if let Some(host) = self.host.get() {
            switchyard_core::exporterhelper::Sender::start(&sender, host)?;
        }
        let m = &self.set.telemetry.metrics;
        let outcome = |ok: &str| {
            m.counter(
                "otelcol_loadbalancer_backend_outcome",
                "Number of successes and failures for each endpoint.",
                &[("endpoint", endpoint), ("success", ok)],
            )
        };
        Ok(Backend {
            endpoint: endpoint.to_string(),
            sender,
            ok: outcome("true"),
            failed: outcome("false"),
            latency: m.histogram(
                "otelcol_loadbalancer_backend_latency",
                "Response latency in ms for the backends.",
                LATENCY_MS,
                &[("endpoint", endpoint)],
            ),
        })
    }
}

/// The ring the sender reads, swapped whole when the backends change.
pub struct Membership<S: Routed> {
    current: ArcSwap<Members<S>>,
    factory: BackendFactory,
}

impl<S: Routed> Membership<S> {
    pub fn new(factory: BackendFactory) -> Membership<S> {
        Membership { current: ArcSwap::from_pointee(Members { ring: Ring::new(&[]), backends: Vec::new() }), factory }
    }

    /// Where `start` leaves the host for backends built later (their auth extension).
    pub fn set_host(&self, host: &Host) {
        let _ = self.factory.host.set(host.clone());
    }

    /// Rebuilds the ring for `list`, keeping the backends (and their connections) that stay.
    /// A backend that cannot be built (bad TLS files) is left out and logged.
    pub fn update(&self, list: &Backends) {
        let old = self.current.load_full();
        let mut keep: HashMap<&str, &Arc<Backend<S>>> = old.backends.iter().map(|b| (b.endpoint.as_str(), b)).collect();
        let mut endpoints = Vec::with_capacity(list.len());
        let mut backends = Vec::with_capacity(list.len());
        for ep in list.iter() {
            let b = match keep.remove(ep.as_str()) {
                Some(b) => b.clone(),
                None => match self.factory.build::<S>(ep) {
                    Ok(b) => Arc::new(b),
                    Err(e) => {
                        tracing::error!(exporter = %self.factory.set.id, endpoint = %ep, error = %e,
                            "Cannot create the exporter for a load-balancing backend; leaving it out.");
                        continue;
                    }
                },
            };
            endpoints.push(ep.clone());
            backends.push(b);
        }
        self.current.store(Arc::new(Members { ring: Ring::new(&endpoints), backends }));
    }

    pub fn load(&self) -> Arc<Members<S>> {
        self.current.load_full()
    }
}

/// The [`Sender`] the exporter helper drives.
pub struct LbSender<S: Routed> {
    pub id: ComponentId,
    pub members: Arc<Membership<S>>,
    pub router: Router,
    /// Per attempt on one backend.
    pub timeout: Duration,
}

/// Puts the parts not delivered back into the request, also when the attempt is dropped
/// half-way (the helper's timeout): nothing taken out of the request is ever lost.
struct Restore<'a, S: SignalData> {
    target: &'a mut S,
    pending: Vec<Option<S>>,
}

impl<S: SignalData> Drop for Restore<'_, S> {
    fn drop(&mut self) {
        for part in self.pending.iter_mut().filter_map(Option::take) {
            if let Err(back) = self.target.append(part) {
                // Only profiles can refuse a merge, and they are never load-balanced.
                tracing::error!(items = back.item_count(), "Could not put a failed part back for retry.");
            }
        }
    }
}

impl<S: Routed> Sender<S> for LbSender<S> {
    fn send<'a>(&'a self, cx: &'a RequestContext, data: &'a S) -> BoxFuture<'a, Result<(), ExportError>> {
        // Only reached when someone calls the all-or-nothing path directly.
        Box::pin(async move {
            let mut copy = data.clone();
            self.send_partial(cx, &mut copy).await
        })
    }

    fn send_partial<'a>(&'a self, cx: &'a RequestContext, data: &'a mut S) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let members = self.members.load();
            if members.ring.is_empty() {
                return Err(ExportError::retryable(format!(
                    "exporter \"{}\": no backend resolved yet (or every backend is gone)",
                    self.id
                )));
            }
            let whole = std::mem::replace(data, S::from_request(Default::default()));
            let parts = whole.partition(&self.router, &members.ring);
            let mut guard = Restore { target: data, pending: parts.into_iter().map(Some).collect() };
            let sends = guard.pending.iter().enumerate().filter_map(|(i, p)| {
                let p = p.as_ref().filter(|p| p.item_count() > 0)?.clone();
                let backend = members.backends.get(i)?.clone();
                let timeout = self.timeout;
                Some(async move { (i, backend.send(cx, &p, timeout).await) })
            });
            let results = join_all(sends.collect::<Vec<_>>()).await;
            let (mut retryable, mut permanent, mut failed) = (None, None, 0usize);
            for (i, r) in results {
                match r {
                    Ok(()) => guard.pending[i] = None,
                    Err(e) => {
                        failed += 1;
                        tracing::debug!(exporter = %self.id, endpoint = %members.backends[i].endpoint, error = %e,
                            "A load-balancing backend failed its part.");
                        match e {
                            ExportError::Retryable { .. } => retryable.get_or_insert(e),
                            ExportError::Permanent { .. } => permanent.get_or_insert(e),
                        };
                    }
                }
            }
            // Empty parts: nothing to send, nothing to keep.
            for p in guard.pending.iter_mut() {
                if p.as_ref().is_some_and(|p| p.item_count() == 0) {
                    *p = None;
                }
            }
            drop(guard);
            // A part refused permanently stays in the request: while other parts are being
            // retried it rides along, and once it is all that is left the helper drops and
            // counts it, as for any exporter.
            match (retryable, permanent) {
                (None, None) => Ok(()),
                (Some(ExportError::Retryable { message, throttle }), _) => Err(ExportError::Retryable {
                    message: format!("{failed} of {} backends failed, the first: {message}", members.backends.len()),
                    throttle,
                }),
                (_, Some(e)) | (Some(e), None) => Err(e),
            }
        })
    }

    fn start(&self, host: &Host) -> Result<(), String> {
        self.members.set_host(host);
        Ok(())
    }
}
