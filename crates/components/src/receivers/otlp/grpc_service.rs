//! The OTLP Export services as one generic tonic service whose codec turns the request
//! message into a batch that keeps its bytes ([`SignalData::from_encoded`]).
//!
//! tonic's generated servers decode every request into a prost tree, which forwarding never
//! reads: here the message is walked (validated and counted, no allocation per item) and the
//! tree is built only if a processor needs it. The message is copied once out of tonic's
//! read buffer (see [`BatchDecoder`]). The rest (framing, compression, size limit, status
//! codes) is tonic's, as with the generated servers.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Buf;
use futures::future::BoxFuture;
use prost::Message;
use switchyard_core::confignet::server::ClientAddr;
use switchyard_core::consumer::{AuthData, DynConsumer, RequestContext};
use switchyard_core::telemetry::ReceiverObs;
use tonic::body::Body;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};

use super::deliver;
use super::grpc::to_status;
use crate::otlp_signal::OtlpSignal;

/// Request messages become batches that keep their bytes; responses are encoded with prost.
struct OtlpCodec<S>(PhantomData<S>);

impl<S: OtlpSignal> Codec for OtlpCodec<S> {
    type Encode = S::Response;
    type Decode = S;
    type Encoder = ResponseEncoder<S::Response>;
    type Decoder = BatchDecoder<S>;

    fn encoder(&mut self) -> Self::Encoder {
        ResponseEncoder(PhantomData)
    }
    fn decoder(&mut self) -> Self::Decoder {
        BatchDecoder(PhantomData)
    }
}

struct ResponseEncoder<R>(PhantomData<R>);

impl<R: Message> Encoder for ResponseEncoder<R> {
    type Item = R;
    type Error = Status;
    fn encode(&mut self, item: R, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(buf).map_err(|e| Status::internal(e.to_string()))
    }
}

/// Copies the message into an allocation of its own size. Splitting tonic's buffer instead
/// would save a memcpy (about 3 µs per 50 KB request) but the batch would then pin that
/// buffer's whole allocation, sized for the first DATA frame plus the message and grown by
/// doubling (twice the message for a 52 KB request), until the batch is exported: at gRPC
/// max load with 256 requests in flight, peak RSS was 70–82 MB split and 56 MB copied, and
/// throughput 3–8% higher copied (issue 16, `bench/results/grpc-copy-20261204.txt`).
struct BatchDecoder<S>(PhantomData<S>);

impl<S: OtlpSignal> Decoder for BatchDecoder<S> {
    type Item = S;
    type Error = Status;
    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<S>, Status> {
        let mut message = Vec::with_capacity(buf.remaining());
        while buf.has_remaining() {
            let chunk = buf.chunk();
            let n = chunk.len();
            message.extend_from_slice(chunk);
            buf.advance(n);
        }
        let bytes = bytes::Bytes::from(message);
        // The words tonic's prost codec uses, so clients and our refusal counter see the same.
        S::from_encoded(bytes)
            .map(Some)
            .map_err(|e| Status::internal(format!("failed to decode Protobuf message: {e}")))
    }
}

/// What every Export call needs besides its consumer.
#[derive(Clone)]
pub(super) struct CallSettings {
    pub(super) obs: ReceiverObs,
    pub(super) include_metadata: bool,
    /// `max_recv_msg_size_mib`, in bytes.
    pub(super) max_message: usize,
}

/// One signal's Export service.
pub(super) struct ExportService<S: OtlpSignal> {
    consumer: DynConsumer<S>,
    settings: Arc<CallSettings>,
}

impl<S: OtlpSignal> Clone for ExportService<S> {
    fn clone(&self) -> Self {
        ExportService { consumer: Arc::clone(&self.consumer), settings: Arc::clone(&self.settings) }
    }
}

impl<S: OtlpSignal> ExportService<S> {
    pub(super) fn new(consumer: DynConsumer<S>, settings: Arc<CallSettings>) -> Self {
        ExportService { consumer, settings }
    }

    async fn export(self, req: Request<S>) -> Result<Response<S::Response>, Status> {
        let mut cx = if self.settings.include_metadata {
            RequestContext::with_metadata(Some(Arc::new(req.metadata().clone().into_headers())))
        } else {
            RequestContext::default()
        };
        cx.client_addr = req.extensions().get::<ClientAddr>().map(|a| a.0);
        cx.auth = req.extensions().get::<Arc<AuthData>>().cloned();
        deliver(&self.consumer, &self.settings.obs, &cx, req.into_inner()).await.map_err(to_status)?;
        Ok(Response::new(S::Response::default()))
    }
}

impl<S: OtlpSignal> NamedService for ExportService<S> {
    const NAME: &'static str = S::GRPC_SERVICE;
}

/// The unary handler tonic calls once the message is read and turned into a batch.
struct Export<S: OtlpSignal>(ExportService<S>);

impl<S: OtlpSignal> UnaryService<S> for Export<S> {
    type Response = S::Response;
    type Future = BoxFuture<'static, Result<Response<S::Response>, Status>>;
    fn call(&mut self, req: Request<S>) -> Self::Future {
        Box::pin(self.0.clone().export(req))
    }
}

impl<S: OtlpSignal> tonic::codegen::Service<http::Request<Body>> for ExportService<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let svc = self.clone();
        Box::pin(async move {
            if req.uri().path() != S::GRPC_PATH {
                return Ok(Status::unimplemented(format!("unknown method {}", req.uri().path())).into_http());
            }
            let mut grpc = Grpc::new(OtlpCodec::<S>(PhantomData))
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .accept_compressed(CompressionEncoding::Deflate)
                .max_decoding_message_size(svc.settings.max_message);
            Ok(grpc.unary(Export(svc), req).await)
        })
    }
}
