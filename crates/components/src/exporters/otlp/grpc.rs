//! The gRPC client: one lazily connected channel per exporter, requests encoded straight
//! from the shared batch (no copy of the request), errors classified per the OTLP spec.

use std::marker::PhantomData;
use std::time::Duration;

use futures::future::BoxFuture;
use prost::Message;
use switchyard_core::component::ComponentId;
use switchyard_core::exporterhelper::{ExportError, Sender};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

use super::OtlpExporterConfig;
use crate::otlp_signal::{OtlpSignal, RetryInfo, RpcStatus, RETRY_INFO_TYPE};

/// A channel that connects on first use (so `validate` and start never block on the backend).
pub(super) fn channel(cfg: &OtlpExporterConfig) -> Result<Channel, String> {
    let uri = cfg.uri()?;
    let mut ep = Endpoint::from(uri).tcp_nodelay(true).connect_timeout(Duration::from_secs(5));
    if cfg.use_tls() {
        ep = ep.tls_config(ClientTlsConfig::new().with_native_roots()).map_err(|e| format!("TLS setup failed: {e}"))?;
    }
    Ok(ep.connect_lazy())
}

/// Sends one signal's batches as unary Export calls.
pub(super) struct GrpcSender<S: OtlpSignal> {
    id: ComponentId,
    client: tonic::client::Grpc<Channel>,
    headers: MetadataMap,
    _signal: PhantomData<S>,
}

impl<S: OtlpSignal> GrpcSender<S> {
    pub(super) fn new(id: ComponentId, channel: Channel, cfg: &OtlpExporterConfig) -> Result<Self, String> {
        let mut client = tonic::client::Grpc::new(channel)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd);
        client = match cfg.compression.as_str() {
            "gzip" => client.send_compressed(CompressionEncoding::Gzip),
            "zstd" => client.send_compressed(CompressionEncoding::Zstd),
            "deflate" => client.send_compressed(CompressionEncoding::Deflate),
            _ => client,
        };
        let mut headers = MetadataMap::new();
        for (k, v) in &cfg.headers {
            let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
                .map_err(|_| format!("invalid header name \"{k}\""))?;
            let value = MetadataValue::try_from(v.as_str()).map_err(|_| format!("invalid value for header \"{k}\""))?;
            headers.insert(key, value);
        }
        Ok(GrpcSender { id, client, headers, _signal: PhantomData })
    }
}

impl<S: OtlpSignal> Sender<S> for GrpcSender<S> {
    fn send(&self, data: &S) -> BoxFuture<'_, Result<(), ExportError>> {
        let data = data.clone();
        Box::pin(async move {
            let mut client = self.client.clone();
            client.ready().await.map_err(|e| ExportError::retryable(format!("connection not ready: {e}")))?;
            let mut req = tonic::Request::new(data);
            *req.metadata_mut() = self.headers.clone();
            let path = http::uri::PathAndQuery::from_static(S::GRPC_PATH);
            let resp = client.unary(req, path, SharedCodec::<S>(PhantomData)).await.map_err(classify)?;
            if let Some((rejected, msg)) = S::rejected(resp.get_ref()) {
                tracing::warn!(exporter = %self.id, rejected, message = msg, "Partial success response.");
            }
            Ok(())
        })
    }
}

/// OTLP status classification (reference/otlp-protocol.md §7.2).
fn classify(status: Status) -> ExportError {
    let throttle = retry_delay(&status);
    let message = format!("rpc error: code = {:?} desc = {}", status.code(), status.message());
    let retryable = match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => true,
        Code::ResourceExhausted => throttle.is_some(),
        _ => false,
    };
    if retryable {
        ExportError::Retryable { message, throttle }
    } else {
        ExportError::Permanent { message }
    }
}

/// The server's `google.rpc.RetryInfo` delay, if it sent one.
fn retry_delay(status: &Status) -> Option<Duration> {
    let details = RpcStatus::decode(status.details()).ok()?;
    let info = details.details.iter().find(|d| d.type_url == RETRY_INFO_TYPE)?;
    let delay = RetryInfo::decode(info.value.as_slice()).ok()?.retry_delay?;
    Some(Duration::new(delay.seconds.max(0) as u64, delay.nanos.max(0) as u32))
}

/// Encodes the shared request in place and decodes the response.
struct SharedCodec<S>(PhantomData<S>);

impl<S: OtlpSignal> Codec for SharedCodec<S> {
    type Encode = S;
    type Decode = S::Response;
    type Encoder = SharedEncoder<S>;
    type Decoder = ResponseDecoder<S::Response>;
    fn encoder(&mut self) -> Self::Encoder {
        SharedEncoder(PhantomData)
    }
    fn decoder(&mut self) -> Self::Decoder {
        ResponseDecoder(PhantomData)
    }
}

struct SharedEncoder<S>(PhantomData<S>);

impl<S: OtlpSignal> Encoder for SharedEncoder<S> {
    type Item = S;
    type Error = Status;
    fn encode(&mut self, item: S, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.request().encode(dst).map_err(|e| Status::internal(e.to_string()))
    }
}

struct ResponseDecoder<R>(PhantomData<R>);

impl<R: Message + Default> Decoder for ResponseDecoder<R> {
    type Item = R;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<R>, Status> {
        R::decode(src).map(Some).map_err(|e| Status::internal(e.to_string()))
    }
}
