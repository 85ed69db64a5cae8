//! `jaeger.api_v2.CollectorService/PostSpans` on a tonic server (core confignet's accept
//! loop, TLS and limits). The service is written by hand over `tonic::server::Grpc` with the
//! prost codec, as tonic's generator would write it: one unary method.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::middleware::Next;
use switchyard_core::component::StartError;
use switchyard_core::confignet::auth::ServerAuth;
use switchyard_core::confignet::body::{read_body, BodyError, BytesInFlight};
use switchyard_core::confignet::server::{self, ClientAddr, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::consumer::{AuthData, ConsumeError, RequestContext};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tonic::codec::{CompressionEncoding, EnabledCompressionEncodings};
use tonic::codegen::{http as thttp, BoxFuture, Service, StdError};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::service::Routes;
use tonic::{Request, Response, Status};

use super::config::{body_read_timeout, GrpcConfig};
use super::proto_model::{PostSpansRequest, PostSpansResponse};
use super::proto_translate::request_to_traces;
use super::Sink;

const SERVICE: &str = "jaeger.api_v2.CollectorService";
const POST_SPANS: &str = "/jaeger.api_v2.CollectorService/PostSpans";
/// A gRPC message's length prefix: one flag byte and four length bytes.
const FRAME_HEADER: usize = 5;

/// The tonic service for `CollectorService`.
#[derive(Clone)]
struct CollectorService {
    sink: Arc<Sink>,
    max_message: usize,
}

impl NamedService for CollectorService {
    const NAME: &'static str = SERVICE;
}

struct PostSpans(Arc<Sink>);

impl UnaryService<PostSpansRequest> for PostSpans {
    type Response = PostSpansResponse;
    type Future = BoxFuture<Response<PostSpansResponse>, Status>;

    fn call(&mut self, req: Request<PostSpansRequest>) -> Self::Future {
        let sink = self.0.clone();
        Box::pin(async move { post_spans(&sink, req).await.map(|()| Response::new(PostSpansResponse {})) })
    }
}

async fn post_spans(sink: &Sink, req: Request<PostSpansRequest>) -> Result<(), Status> {
    let cx = RequestContext {
        metadata: None,
        client_addr: req.extensions().get::<ClientAddr>().map(|a| a.0),
        auth: req.extensions().get::<Arc<AuthData>>().cloned(),
    };
    let traces = request_to_traces(req.into_inner()).map_err(|e| {
        sink.malformed("grpc", &e);
        Status::invalid_argument(e.to_string())
    })?;
    sink.deliver(&cx, traces).await.map_err(|e| match e {
        ConsumeError::Retryable { message, .. } => Status::unavailable(message),
        ConsumeError::Throttled { message, .. } => Status::resource_exhausted(message),
        ConsumeError::Permanent { message } => Status::internal(message),
    })
}

impl<B> Service<thttp::Request<B>> for CollectorService
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = thttp::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: thttp::Request<B>) -> Self::Future {
        if req.uri().path() != POST_SPANS {
            return Box::pin(async { Ok(Status::unimplemented("unknown method").into_http()) });
        }
        let method = PostSpans(self.sink.clone());
        let mut accept = EnabledCompressionEncodings::default();
        for enc in [CompressionEncoding::Gzip, CompressionEncoding::Zstd, CompressionEncoding::Deflate] {
            accept.enable(enc);
        }
        let mut grpc = Grpc::new(tonic_prost::ProstCodec::<PostSpansResponse, PostSpansRequest>::default())
            .apply_compression_config(accept, EnabledCompressionEncodings::default())
            .apply_max_message_size_config(Some(self.max_message), None);
        Box::pin(async move { Ok(grpc.unary(method, req).await) })
    }
}

/// Checked before a call is decoded: credentials, the message read within its size and
/// time limits, then an admission slot.
struct Door {
    sink: Arc<Sink>,
    auth: Option<ServerAuth>,
    admission: Arc<Semaphore>,
    in_flight: BytesInFlight,
    max_body: usize,
    read_timeout: Option<Duration>,
}

async fn door(State(d): State<Arc<Door>>, req: axum::extract::Request, next: Next) -> axum::response::Response {
    let mut req = req;
    if let Some(auth) = &d.auth {
        match auth.authenticate(req.headers()) {
            Ok(data) => {
                req.extensions_mut().insert(Arc::new(data));
            }
            Err(reason) => {
                d.sink.obs.guard.req_unauthenticated.add(1);
                tracing::debug!(receiver = %d.sink.who, %reason, "gRPC call refused: authentication failed.");
                return Status::unauthenticated("missing or invalid credentials").into_http();
            }
        }
    }
    let (parts, body) = req.into_parts();
    let Some(mut reservation) = d.in_flight.reserve(0) else {
        d.sink.obs.admission_refused.add(1);
        return Status::resource_exhausted("too many bytes in flight; retry later").into_http();
    };
    let bytes = match read_body(body, d.max_body, d.read_timeout, &mut reservation, None).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(_)) => {
            d.sink.obs.guard.req_too_large.add(1);
            let limit = d.max_body - FRAME_HEADER;
            return Status::resource_exhausted(format!(
                "grpc: received message larger than max ({limit} bytes, max_recv_msg_size_mib)"
            ))
            .into_http();
        }
        Err(BodyError::InFlight(_)) => {
            d.sink.obs.admission_refused.add(1);
            return Status::resource_exhausted("too many bytes in flight; retry later").into_http();
        }
        Err(e @ BodyError::Timeout(_)) => {
            d.sink.obs.guard.req_read_timeout.add(1);
            return Status::deadline_exceeded(e.to_string()).into_http();
        }
        Err(e @ BodyError::Read(_)) => return Status::cancelled(e.to_string()).into_http(),
    };
    let Ok(_admitted) = d.admission.acquire().await else {
        return Status::unavailable("receiver is shutting down").into_http();
    };
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    let response = next.run(req).await;
    drop(reservation);
    // tonic answers a message that does not decode with INTERNAL "failed to decode".
    if response.headers().get("grpc-status").is_some_and(|c| c == "13")
        && response.headers().get("grpc-message").is_some_and(|m| m.as_bytes().starts_with(b"failed"))
    {
        d.sink.malformed("grpc", &"the request is not a jaeger.api_v2.PostSpansRequest");
    }
    response
}

/// What `serve` needs besides the config.
pub(super) struct Deps {
    pub(super) sink: Sink,
    pub(super) admission: Arc<Semaphore>,
    pub(super) tls: Option<ServerTls>,
    pub(super) auth: Option<ServerAuth>,
}

/// Binds the port and serves until `stop`; calls in flight are answered first.
pub(super) async fn serve(
    cfg: &GrpcConfig,
    deps: Deps,
    stop: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let Deps { sink, admission, tls, auth } = deps;
    let who = sink.who.clone();
    let listener = switchyard_core::confignet::listener::bind(&cfg.endpoint)
        .await
        .map_err(|e| StartError::new(format!("receiver \"{who}\": cannot listen on {} (grpc): {e}", cfg.endpoint)))?;
    let limit = cfg.max_recv_msg_size_mib.unwrap_or(4) as usize * 1024 * 1024;
    let obs = sink.obs.guard.clone();
    let sink = Arc::new(sink);
    let routes = Routes::default().add_service(CollectorService { sink: sink.clone(), max_message: limit });
    let door_state = Arc::new(Door {
        sink,
        auth,
        admission,
        in_flight: BytesInFlight::new((64 << 20).max(limit + FRAME_HEADER)),
        max_body: limit + FRAME_HEADER,
        read_timeout: body_read_timeout(cfg.read_timeout),
    });
    let router = routes.prepare().into_axum_router().layer(axum::middleware::from_fn_with_state(door_state, door));
    let options = ServeOptions {
        http2_only: true,
        max_connections: cfg.max_connections,
        read_header_timeout: cfg.read_header_timeout,
        max_concurrent_streams: cfg.max_concurrent_streams,
        ..ServeOptions::default()
    };
    tracing::info!(receiver = %who, endpoint = ?listener.local_addr().ok(), tls = tls.is_some(),
        "Starting gRPC server for Jaeger Collector.");
    let serving = Serving { who, listener, tls, options, obs };
    Ok(tokio::spawn(server::serve(serving, router, stop)))
}
