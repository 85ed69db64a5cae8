//! The `zipkin` receiver: Zipkin spans over HTTP — v1 JSON on `/api/v1/spans`, v2 JSON and
//! protobuf on `/api/v2/spans` — translated to OTLP traces as the Collector's receiver
//! (contrib `receiver/zipkinreceiver`, `pkg/translator/zipkin`) does.

mod config;
mod http;
mod model;
#[cfg(test)]
mod tests;
mod translate;
mod v1;

pub use config::{Protocols, ZipkinHttpConfig, ZipkinReceiverConfig, DEFAULT_ENDPOINT};
pub use model::{
    decode_json, decode_proto, DecodeError, Endpoint, Kind, ProtoAnnotation, ProtoEndpoint, ProtoListOfSpans,
    ProtoSpan, ZipkinSpan,
};
pub use translate::{to_otlp, START_TIME_ABSENT};
pub use v1::to_otlp as v1_to_otlp;

use futures::future::BoxFuture;
use switchyard_core::component::{
    BuildError, Component, Host, ReceiverFactory, ReceiverOutputs, Settings, Stability, StartError,
};
use switchyard_core::confignet::auth::ServerAuth;
use switchyard_core::confignet::tls::ServerTls;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::Signal;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// The Collector type string.
pub const TYPE: &str = "zipkin";

/// Which decoder a request goes to: the Collector's transports (its `transport` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `POST /api/v1/spans`, JSON.
    V1Json,
    /// `POST /api/v1/spans`, `Content-Type: application/x-thrift` (refused: not built).
    V1Thrift,
    /// `POST /api/v2/spans` (or any other path), JSON.
    V2Json,
    /// `POST /api/v2/spans`, `Content-Type: application/x-protobuf`.
    V2Proto,
}

impl Format {
    /// The Collector's `transport` label for this format.
    pub fn transport(self) -> &'static str {
        match self {
            Format::V1Json => "http_v1_json",
            Format::V1Thrift => "http_v1_thrift",
            Format::V2Json => "http_v2_json",
            Format::V2Proto => "http_v2_proto",
        }
    }
}

/// Decodes and translates one request body (already decompressed).
pub fn decode(format: Format, body: &[u8], parse_string_tags: bool) -> Result<ExportTraceServiceRequest, DecodeError> {
    let spans = match format {
        Format::V1Json => return v1::to_otlp(body, parse_string_tags),
        Format::V1Thrift => {
            return Err(DecodeError::Syntax("Zipkin v1 Thrift is not supported; send v1 JSON or v2".into()))
        }
        Format::V2Json => decode_json(body)?,
        Format::V2Proto => decode_proto(body)?,
    };
    let n = spans.len();
    to_otlp(spans, parse_string_tags).map_err(|message| DecodeError::Span { index: 0, spans: n, message })
}

/// Creates zipkin receivers.
pub struct ZipkinReceiverFactory;

impl ReceiverFactory for ZipkinReceiverFactory {
    type Config = ZipkinReceiverConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Traces).then_some(Stability::Beta)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &ZipkinReceiverConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        Ok(Box::new(ZipkinReceiver {
            set,
            cfg: cfg.clone(),
            out,
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }))
    }
}

/// A running (or ready to run) zipkin receiver.
pub struct ZipkinReceiver {
    set: Settings,
    cfg: ZipkinReceiverConfig,
    out: ReceiverOutputs,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Component for ZipkinReceiver {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let h = self.cfg.http();
            if self.cfg.protocols.http.get().is_some() && self.cfg.endpoint != DEFAULT_ENDPOINT {
                tracing::warn!(receiver = %self.set.id,
                    "Both the deprecated top-level endpoint and protocols.http are set; using protocols.http.");
            }
            let who = format!("receiver \"{}\"", self.set.id);
            let tls = match &h.tls {
                None => None,
                Some(t) => Some(
                    ServerTls::new(
                        t,
                        vec![b"h2".to_vec(), b"http/1.1".to_vec()],
                        self.set.id.to_string(),
                        self.stop.clone(),
                    )
                    .map_err(|e| StartError::new(format!("{who}: tls: {e}")))?,
                ),
            };
            let auth = match &h.auth {
                None => None,
                Some(a) => Some(ServerAuth::resolve(host, &who, a)?),
            };
            let deps = http::Deps { tls, auth, parse_string_tags: self.cfg.parse_string_tags };
            let task = http::serve(&self.set, &h, &self.out, deps, self.stop.clone()).await?;
            *self.task.lock().await = Some(task);
            Ok(())
        })
    }

    /// Stops accepting connections and waits for in-flight requests to be answered.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            if let Some(t) = self.task.lock().await.take() {
                let _ = t.await;
            }
        })
    }
}
