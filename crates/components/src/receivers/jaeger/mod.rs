//! The `jaeger` receiver: Jaeger spans over gRPC (`PostSpans`, 14250), Thrift over HTTP
//! (`POST /api/traces`, 14268) and the agent's UDP ports (compact 6831, binary 6832),
//! translated to OTLP as the Collector's `pkg/translator/jaeger` does. Traces only.

mod config;
mod grpc;
mod http;
pub mod proto_model;
pub mod proto_translate;
pub mod thrift_encode;
pub mod thrift_model;
pub mod thrift_translate;
mod translate;
mod udp;

#[cfg(test)]
mod tests;

pub use config::JaegerReceiverConfig;

use std::sync::Arc;

use futures::future::BoxFuture;
use switchyard_core::component::{
    BuildError, Component, Host, ReceiverFactory, ReceiverOutputs, Settings, Stability, StartError,
};
use switchyard_core::confignet::auth::{AuthConfig, ServerAuth};
use switchyard_core::confignet::tls::{ServerTls, ServerTlsConfig};
use switchyard_core::consumer::{ConsumeError, DynConsumer, RequestContext};
use switchyard_core::telemetry::{LogThrottle, ReceiverObs};
use switchyard_pdata::{Signal, SignalData, Traces};
use tokio::sync::{Mutex, Semaphore};
use tokio_util::sync::CancellationToken;

/// The Collector type string.
pub const TYPE: &str = "jaeger";

/// Creates Jaeger receivers.
pub struct JaegerReceiverFactory;

impl ReceiverFactory for JaegerReceiverFactory {
    type Config = JaegerReceiverConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Traces).then_some(Stability::Beta)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &JaegerReceiverConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        Ok(Box::new(JaegerReceiver {
            set,
            cfg: cfg.clone(),
            out,
            stop: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
        }))
    }
}

/// A running (or ready to run) Jaeger receiver.
pub struct JaegerReceiver {
    set: Settings,
    cfg: JaegerReceiverConfig,
    out: ReceiverOutputs,
    stop: CancellationToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// What every transport needs: where spans go, how they are counted and logged.
#[derive(Clone)]
pub(crate) struct Sink {
    pub(crate) who: String,
    pub(crate) consumer: DynConsumer<Traces>,
    pub(crate) obs: ReceiverObs,
    /// Bad input is logged at most once per interval, with a count of the rest.
    pub(crate) bad_input_log: Arc<LogThrottle>,
}

impl Sink {
    fn new(set: &Settings, consumer: &DynConsumer<Traces>, transport: &str) -> Self {
        Sink {
            who: set.id.to_string(),
            consumer: consumer.clone(),
            obs: ReceiverObs::new(&set.telemetry, &set.id, transport),
            bad_input_log: Arc::new(LogThrottle::default()),
        }
    }

    /// Hands translated spans to the pipeline and counts the outcome; empty batches are
    /// answered without calling it.
    pub(crate) async fn deliver(&self, cx: &RequestContext, data: Traces) -> Result<(), ConsumeError> {
        let items = data.item_count();
        if items == 0 {
            return Ok(());
        }
        let result = self.consumer.consume(cx, data).await;
        self.obs.record(Signal::Traces, items, result.is_ok());
        if let Err(e) = &result {
            tracing::debug!(receiver = %self.who, items, error = %e, "Pipeline refused spans.");
        }
        result
    }

    /// Counts and logs (throttled) input that could not be decoded.
    pub(crate) fn malformed(&self, transport: &str, error: &dyn std::fmt::Display) {
        self.obs.guard.req_malformed.add(1);
        if let Some(n) = self.bad_input_log.allow() {
            tracing::warn!(receiver = %self.who, transport, %error, similar_since_last_report = n,
                "Jaeger input refused: it could not be decoded.");
        }
    }
}

impl Component for JaegerReceiver {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let Some(consumer) = &self.out.traces else {
                return Err(StartError::new(format!("receiver \"{}\": no traces pipeline", self.set.id)));
            };
            let mut tasks = self.tasks.lock().await;
            let admission = Arc::new(Semaphore::new(max_requests_in_process()));
            let p = &self.cfg.protocols;
            if let Some(g) = p.grpc.get() {
                let deps = grpc::Deps {
                    sink: Sink::new(&self.set, consumer, "grpc"),
                    admission: admission.clone(),
                    tls: self.tls(&g.tls, vec![b"h2".to_vec()])?,
                    auth: self.auth(host, &g.auth)?,
                };
                tasks.push(grpc::serve(g, deps, self.stop.clone()).await?);
            }
            if let Some(h) = p.thrift_http.get() {
                let deps = http::Deps {
                    sink: Sink::new(&self.set, consumer, "collector_http"),
                    admission,
                    tls: self.tls(&h.tls, vec![b"h2".to_vec(), b"http/1.1".to_vec()])?,
                    auth: self.auth(host, &h.auth)?,
                };
                tasks.push(http::serve(h, deps, self.stop.clone()).await?);
            }
            if let Some(u) = p.thrift_compact.get() {
                let sink = Sink::new(&self.set, consumer, "udp_thrift_compact");
                let opts = udp::UdpOptions::from(u);
                let decode = thrift_model::decode_compact_emit_batch;
                tasks.extend(udp::serve(opts, "udp_thrift_compact", decode, sink, self.stop.clone())?);
            }
            if let Some(u) = p.thrift_binary.get() {
                let sink = Sink::new(&self.set, consumer, "udp_thrift_binary");
                let opts = udp::UdpOptions::from(u);
                let decode = thrift_model::decode_binary_emit_batch;
                tasks.extend(udp::serve(opts, "udp_thrift_binary", decode, sink, self.stop.clone())?);
            }
            Ok(())
        })
    }

    /// Stops accepting, lets requests in flight finish and drains the UDP queues.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            for t in self.tasks.lock().await.drain(..) {
                let _ = t.await;
            }
        })
    }
}

impl JaegerReceiver {
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

/// Requests decoded or in the pipeline at once (gRPC and HTTP together): more than the
/// cores can work on only add memory, so the rest wait undecoded.
fn max_requests_in_process() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (8 * cores).max(16)
}
