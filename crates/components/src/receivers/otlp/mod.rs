//! The `otlp` receiver: OTLP over gRPC (4317) and HTTP (4318), protobuf and JSON, for
//! traces, metrics, logs and profiles. One instance serves every signal on its ports.

mod config;
mod grpc;
mod grpc_service;
mod http;
#[cfg(test)]
mod memory_tests;
#[cfg(test)]
mod slow_tests;
#[cfg(test)]
mod tests;

pub use config::{GrpcServerConfig, HttpServerConfig, OtlpReceiverConfig};

use futures::future::BoxFuture;
use std::sync::Arc;
use switchyard_core::component::{
    component_label, BoundContext, BuildError, Component, Host, MemoryBound, MemoryPart, ReceiverFactory,
    ReceiverOutputs, Settings, Stability, StartError,
};
use switchyard_core::confignet::auth::{AuthConfig, ServerAuth};
use switchyard_core::confignet::body::BytesInFlight;
use switchyard_core::confignet::tls::{ServerTls, ServerTlsConfig};
use switchyard_core::consumer::{ConsumeError, DynConsumer, RequestContext};
use switchyard_core::telemetry::ReceiverObs;
use switchyard_pdata::{Signal, SignalData};

use tokio::sync::{Mutex, Semaphore};
use tokio_util::sync::CancellationToken;

/// The Collector type string.
pub const TYPE: &str = "otlp";

/// Creates OTLP receivers.
pub struct OtlpReceiverFactory;

impl ReceiverFactory for OtlpReceiverFactory {
    type Config = OtlpReceiverConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        Some(match signal {
            Signal::Profiles => Stability::Development,
            _ => Stability::Stable,
        })
    }
    fn memory_bound(&self, cfg: &OtlpReceiverConfig, _cx: &BoundContext) -> MemoryBound {
        memory_bound(cfg, max_requests_in_process())
    }
    fn create(
        &self,
        set: Settings,
        cfg: &OtlpReceiverConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        Ok(Box::new(OtlpReceiver {
            set,
            cfg: cfg.clone(),
            out,
            stop: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
        }))
    }
}

/// A running (or ready to run) OTLP receiver.
pub struct OtlpReceiver {
    set: Settings,
    cfg: OtlpReceiverConfig,
    out: ReceiverOutputs,
    stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Component for OtlpReceiver {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let mut tasks = self.tasks.lock().await;
            let admission = Arc::new(Semaphore::new(max_requests_in_process()));
            let in_flight = BytesInFlight::new(budget(&self.cfg).0 as usize);
            let used = in_flight.clone();
            let label = component_label(self.set.kind, &self.set.id);
            self.set.telemetry.metrics.gauge_fn_with(
                switchyard_core::telemetry::names::COMPONENT_MEMORY_USED,
                "Bytes a component holds now (queued, pending, buffered or in flight).",
                &[("component", label.as_str())],
                move || used.used_bytes() as f64,
            );
            if let Some(g) = self.cfg.protocols.grpc.get() {
                let deps = grpc::GrpcDeps {
                    obs: ReceiverObs::new(&self.set.telemetry, &self.set.id, "grpc"),
                    admission: admission.clone(),
                    in_flight: in_flight.clone(),
                    tls: self.tls(&g.tls, vec![b"h2".to_vec()])?,
                    auth: self.auth(host, &g.auth)?,
                };
                tasks.push(grpc::serve(&self.set.id, g, &self.out, deps, self.stop.clone()).await?);
            }
            if let Some(h) = self.cfg.protocols.http.get() {
                let deps = http::HttpDeps {
                    obs: ReceiverObs::new(&self.set.telemetry, &self.set.id, "http"),
                    admission,
                    in_flight,
                    tls: self.tls(&h.tls, vec![b"h2".to_vec(), b"http/1.1".to_vec()])?,
                    auth: self.auth(host, &h.auth)?,
                };
                tasks.push(http::serve(&self.set.id, h, &self.out, deps, self.stop.clone()).await?);
            }
            Ok(())
        })
    }

    /// Stops accepting connections and waits for in-flight requests to be answered.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            for t in self.tasks.lock().await.drain(..) {
                let _ = t.await;
            }
        })
    }
}

impl OtlpReceiver {
    fn tls(&self, cfg: &Option<ServerTlsConfig>, alpn: Vec<Vec<u8>>) -> Result<Option<ServerTls>, StartError> {
        let Some(cfg) = cfg else { return Ok(None) };
        ServerTls::new(cfg, alpn, self.set.id.to_string(), self.stop.clone())
            .map(Some)
            .map_err(|e| StartError::new(format!("receiver \"{}\": tls: {e}", self.set.id)))
    }

    fn auth(&self, host: &Host, cfg: &Option<AuthConfig>) -> Result<Option<ServerAuth>, StartError> {
        let Some(cfg) = cfg else { return Ok(None) };
        ServerAuth::resolve(host, &format!("receiver \"{}\"", self.set.id), cfg).map(Some)
    }
}

/// Request bytes one receiver holds at once, gRPC and HTTP together (being read, decoded
/// or in the pipeline): 64 MiB. Bodies are read before they take an admission slot, so
/// this is what bounds the memory of requests waiting for one.
const BYTES_IN_FLIGHT: usize = 64 << 20;

/// (bytes-in-flight budget, largest request): the budget is never smaller than the largest
/// request allowed, as one such request must always fit or it would be told to retry forever.
fn budget(cfg: &OtlpReceiverConfig) -> (u64, u64) {
    let http = cfg.protocols.http.get().map_or(0, |h| h.max_request_body_size as u64);
    let grpc = cfg.protocols.grpc.get().map_or(0, |g| g.max_recv_msg_size_mib.unwrap_or(4) * 1024 * 1024 + 5);
    let largest = http.max(grpc);
    ((BYTES_IN_FLIGHT as u64).max(largest), largest)
}

/// What one receiver may hold (docs/memory.md): the request bytes it has read, bounded by
/// the bytes-in-flight budget (refused with a retryable answer past it), plus, for the
/// `slots` requests admitted at once, each decompressed (gRPC, HTTP) or decoded from JSON:
/// at most the largest request allowed each, as decompression stops there.
fn memory_bound(cfg: &OtlpReceiverConfig, slots: usize) -> MemoryBound {
    let (budget, largest) = budget(cfg);
    MemoryBound::parts(vec![
        MemoryPart::new("request bytes read (bytes-in-flight budget, max of 64 MiB and the largest request)", budget),
        MemoryPart::new(
            format!("requests decompressed or decoded ({slots} admission slots x largest request)"),
            (slots as u64).saturating_mul(largest),
        ),
    ])
    .with_largest_request(largest)
}

/// Requests decoded or in the pipeline at once, per receiver (gRPC and HTTP together).
///
/// Admission control: more requests than the cores can work on only add memory (a decoded
/// request is about four times its wire size), so the rest wait undecoded, held back by
/// HTTP/2 flow control or unread on their connection. Measured on one core: 256 concurrent
/// client streams went from 174 MB peak RSS to (see the closing note) with this cap.
fn max_requests_in_process() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (8 * cores).max(16)
}

/// Hands one decoded request to the pipeline and counts the outcome. Empty requests are
/// answered without calling the pipeline, as the Collector does.
pub(crate) async fn deliver<S: SignalData>(
    consumer: &DynConsumer<S>,
    obs: &ReceiverObs,
    cx: &RequestContext,
    data: S,
) -> Result<(), ConsumeError> {
    let items = data.item_count();
    if items == 0 {
        return Ok(());
    }
    let result = consumer.consume(cx, data).await;
    obs.record(S::SIGNAL, items, result.is_ok());
    if let Err(e) = &result {
        tracing::debug!(signal = %S::SIGNAL, items, error = %e, "Pipeline refused data.");
    }
    result
}
