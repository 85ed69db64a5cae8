//! OTLP/HTTP: `POST /v1/{traces,metrics,logs}` (and profiles), protobuf or JSON, any of the
//! Collector's request compressions, answered in the request's encoding with the
//! Collector's status codes (reference/otlp-protocol.md §3, §7.4).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use http_body_util::{BodyExt, Limited};
use prost::Message;
use switchyard_core::component::{ComponentId, ReceiverOutputs, StartError};
use switchyard_core::confignet::auth::ServerAuth;
use switchyard_core::confignet::compression::{decompress, DecompressError};
use switchyard_core::confignet::server::{self, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::consumer::{ConsumeError, DynConsumer, RequestContext};
use switchyard_core::telemetry::{LogThrottle, ReceiverObs};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::config::{absolute_path, HttpServerConfig};
use super::deliver;
use crate::otlp_signal::{OtlpSignal, RpcStatus};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Proto,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Proto => PROTOBUF,
            Encoding::Json => JSON,
        }
    }
}

struct State {
    who: String,
    obs: ReceiverObs,
    auth: Option<ServerAuth>,
    auth_log: LogThrottle,
    max_json_depth: usize,
    admission: Arc<Semaphore>,
    /// Bytes of request bodies being received or processed, in KiB.
    bytes_in_flight: Arc<Semaphore>,
    max_body: usize,
    include_metadata: bool,
    compression: Option<Vec<String>>,
    response_headers: HeaderMap,
}

/// An error answer: HTTP status, gRPC code for the body, message, optional Retry-After.
struct Failure {
    status: StatusCode,
    code: i32,
    message: String,
    retry_after: Option<u64>,
}

impl Failure {
    fn new(status: StatusCode, code: i32, message: impl Into<String>) -> Self {
        Failure { status, code, message: message.into(), retry_after: None }
    }
}

const INVALID_ARGUMENT: i32 = 3;
const UNAUTHENTICATED: i32 = 16;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNIMPLEMENTED: i32 = 12;
const INTERNAL: i32 = 13;
const UNAVAILABLE: i32 = 14;

fn status_body(enc: Encoding, code: i32, message: &str) -> Vec<u8> {
    match enc {
        Encoding::Proto => RpcStatus { code, message: message.to_string(), details: Vec::new() }.encode_to_vec(),
        Encoding::Json => switchyard_pdata::json::encode_status(code, message),
    }
}

fn plain(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], text).into_response()
}

/// Media type of the request, parameters ignored.
fn request_encoding(headers: &HeaderMap) -> Option<Result<Encoding, String>> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    Some(match media.as_str() {
        PROTOBUF => Ok(Encoding::Proto),
        JSON => Ok(Encoding::Json),
        _ => Err(media),
    })
}

async fn handle<S: OtlpSignal>(state: Arc<State>, consumer: Option<DynConsumer<S>>, req: Request<Body>) -> Response {
    let mut response = respond::<S>(&state, consumer, req).await;
    response.headers_mut().extend(state.response_headers.clone());
    response
}

async fn respond<S: OtlpSignal>(state: &State, consumer: Option<DynConsumer<S>>, req: Request<Body>) -> Response {
    // Credentials first: an unauthenticated client learns nothing (not even which paths or
    // signals are served) and gets nothing read, decoded or stored.
    if let Some(auth) = &state.auth {
        if let Err(reason) = auth.authenticate(req.headers()) {
            state.obs.guard.req_unauthenticated.add(1);
            if let Some(n) = state.auth_log.allow() {
                tracing::warn!(receiver = %state.who, transport = "http", %reason, similar_since_last_report = n,
                    "Request refused: authentication failed.");
            }
            let enc = match request_encoding(req.headers()) {
                Some(Ok(enc)) => enc,
                _ => Encoding::Proto,
            };
            let f = Failure::new(StatusCode::UNAUTHORIZED, UNAUTHENTICATED, "missing or invalid credentials");
            return failure_response(enc, f);
        }
    }
    if req.method() != Method::POST {
        return plain(StatusCode::METHOD_NOT_ALLOWED, format!("405 method not allowed, supported: [{}]", Method::POST));
    }
    let enc = match request_encoding(req.headers()) {
        Some(Ok(enc)) => enc,
        Some(Err(_)) | None => {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("415 unsupported media type, supported: [{JSON}, {PROTOBUF}]"),
            )
        }
    };
    match process::<S>(state, consumer, req, enc).await {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, enc.content_type())], body).into_response(),
        Err(f) => failure_response(enc, f),
    }
}

/// An error answer: the status, a `google.rpc.Status` body in the request's encoding, and
/// `Retry-After` when the failure carries one.
fn failure_response(enc: Encoding, f: Failure) -> Response {
    let mut r =
        (f.status, [(header::CONTENT_TYPE, enc.content_type())], status_body(enc, f.code, &f.message)).into_response();
    if let Some(secs) = f.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

async fn process<S: OtlpSignal>(
    state: &State,
    consumer: Option<DynConsumer<S>>,
    req: Request<Body>,
    enc: Encoding,
) -> Result<Vec<u8>, Failure> {
    let Some(consumer) = consumer else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            UNIMPLEMENTED,
            format!("no {} pipeline uses this receiver", S::SIGNAL),
        ));
    };
    let (parts, body) = req.into_parts();
    // Admission by bytes: a body is only read if its size fits in what this receiver holds
    // at once; otherwise the client is told to come back (429 + Retry-After) before any of
    // it is in memory. Without Content-Length (chunked), 1 MiB is reserved.
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let reserve_kib =
        declared.unwrap_or(1 << 20).min(state.max_body).div_ceil(1024).clamp(1, BYTES_IN_FLIGHT_KIB) as u32;
    let _bytes = match state.bytes_in_flight.clone().try_acquire_many_owned(reserve_kib) {
        Ok(p) => p,
        Err(_) => {
            state.obs.admission_refused.add(1);
            return Err(Failure {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: RESOURCE_EXHAUSTED,
                message: format!(
                    "too many bytes in flight: this receiver holds at most {} MiB of requests at once; retry later",
                    BYTES_IN_FLIGHT_KIB / 1024
                ),
                retry_after: Some(1),
            });
        }
    };
    let too_large = |limit: usize, stage: &str| {
        state.obs.guard.req_too_large.add(1);
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            INVALID_ARGUMENT,
            format!("request body exceeds the limit of {limit} bytes{stage} (max_request_body_size)"),
        )
    };
    let raw = match Limited::new(body, state.max_body).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return Err(too_large(state.max_body, ""))
        }
        Err(e) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("failed to read request body: {e}"),
            ))
        }
    };
    // Admission: decompression, decoding and the pipeline wait for a free slot. The body is
    // read first (bounded by max_request_body_size), so a slow sender never holds a slot.
    let Ok(_admitted) = state.admission.acquire().await else {
        return Err(Failure::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE, "receiver is shutting down"));
    };
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if let (Some(allowed), false) = (&state.compression, encoding.is_empty()) {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&encoding)) {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("Content-Encoding \"{encoding}\" is not enabled (compression_algorithms)"),
            ));
        }
    }
    let body = if encoding.is_empty() || encoding == "identity" {
        raw.to_vec()
    } else {
        // Decompression is CPU work; bounded by max_body, so it is short enough to run inline.
        decompress(&encoding, &raw, state.max_body).map_err(|e| match e {
            DecompressError::TooLarge(limit) => too_large(limit, " after decompression"),
            other => {
                state.obs.guard.req_malformed.add(1);
                Failure::new(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, other.to_string())
            }
        })?
    };
    if enc == Encoding::Json && switchyard_pdata::json::nesting_exceeds(&body, state.max_json_depth) {
        state.obs.guard.req_json_depth.add(1);
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            INVALID_ARGUMENT,
            format!("JSON nested deeper than {} levels (max_json_depth)", state.max_json_depth),
        ));
    }
    let request = match enc {
        Encoding::Proto => S::Request::decode(body.as_slice()).map_err(|e| e.to_string()),
        Encoding::Json => S::decode_json(&body),
    }
    .map_err(|e| {
        state.obs.guard.req_malformed.add(1);
        Failure::new(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, format!("failed to decode {} request: {e}", S::SIGNAL))
    })?;
    let cx = if state.include_metadata {
        RequestContext { metadata: Some(Arc::new(parts.headers)) }
    } else {
        RequestContext::default()
    };
    match deliver(&consumer, &state.obs, &cx, S::from_request(request)).await {
        Ok(()) => Ok(match enc {
            Encoding::Proto => S::Response::default().encode_to_vec(),
            Encoding::Json => S::encode_json_response(&S::Response::default()),
        }),
        Err(ConsumeError::Retryable { message, retry_after }) => Err(Failure {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: UNAVAILABLE,
            message,
            retry_after: retry_after.map(|d| d.as_secs().max(1)),
        }),
        Err(ConsumeError::Throttled { message, retry_after }) => Err(Failure {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: RESOURCE_EXHAUSTED,
            message,
            retry_after: Some(retry_after.as_secs().max(1)),
        }),
        Err(ConsumeError::Permanent { message }) => {
            Err(Failure::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL, message))
        }
    }
}

fn route<S: OtlpSignal>(router: Router, path: &str, state: &Arc<State>, consumer: Option<DynConsumer<S>>) -> Router {
    let state = state.clone();
    router.route(&absolute_path(path), any(move |req: Request<Body>| handle::<S>(state.clone(), consumer.clone(), req)))
}

/// Request bytes a receiver's HTTP side holds at once (being read, decoded or in the
/// pipeline), in KiB: 64 MiB. The gRPC side is bounded by admission slots times
/// `max_recv_msg_size_mib`, with HTTP/2 flow control holding back the rest unread.
const BYTES_IN_FLIGHT_KIB: usize = 64 * 1024;

/// What `serve` needs besides the config.
pub(super) struct HttpDeps {
    pub(super) obs: ReceiverObs,
    pub(super) admission: Arc<Semaphore>,
    pub(super) tls: Option<ServerTls>,
    pub(super) auth: Option<ServerAuth>,
}

/// Binds the HTTP port and serves until `stop`; in-flight requests finish first.
pub(super) async fn serve(
    id: &ComponentId,
    cfg: &HttpServerConfig,
    out: &ReceiverOutputs,
    deps: HttpDeps,
    stop: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let mut response_headers = HeaderMap::new();
    for (k, v) in &cfg.response_headers {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) else {
            return Err(StartError::new(format!("receiver \"{id}\": invalid response header {k}")));
        };
        response_headers.insert(name, value);
    }
    let HttpDeps { obs, admission, tls, auth } = deps;
    let state = Arc::new(State {
        who: id.to_string(),
        obs: obs.clone(),
        auth,
        auth_log: LogThrottle::default(),
        max_json_depth: cfg.max_json_depth,
        admission,
        bytes_in_flight: Arc::new(Semaphore::new(BYTES_IN_FLIGHT_KIB)),
        max_body: cfg.max_request_body_size,
        include_metadata: cfg.include_metadata,
        compression: cfg.compression_algorithms.clone(),
        response_headers,
    });
    let mut router = Router::new();
    router = route(router, &cfg.traces_url_path, &state, out.traces.clone());
    router = route(router, &cfg.metrics_url_path, &state, out.metrics.clone());
    router = route(router, &cfg.logs_url_path, &state, out.logs.clone());
    router = route(router, <switchyard_pdata::Profiles as OtlpSignal>::HTTP_PATH, &state, out.profiles.clone());
    let listener = TcpListener::bind(&cfg.endpoint)
        .await
        .map_err(|e| StartError::new(format!("receiver \"{id}\": cannot listen on {} (http): {e}", cfg.endpoint)))?;
    tracing::info!(receiver = %id, endpoint = ?listener.local_addr().ok(), tls = tls.is_some(), "Starting HTTP server.");
    let options = ServeOptions {
        http2_only: false,
        max_connections: cfg.max_connections,
        read_header_timeout: cfg.read_header_timeout,
        ..ServeOptions::default()
    };
    let serving = Serving { who: id.to_string(), listener, tls, options, obs: obs.guard.clone() };
    Ok(tokio::spawn(server::serve(serving, router, stop)))
}
