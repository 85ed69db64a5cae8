//! OTLP/HTTP: `POST /v1/{traces,metrics,logs}` (and profiles), protobuf or JSON, any of the
//! Collector's request compressions, answered in the request's encoding with the
//! Collector's status codes (reference/otlp-protocol.md §3, §7.4).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use prost::Message;
use switchyard_core::component::{ComponentId, ReceiverOutputs, StartError};
use switchyard_core::confignet::auth::ServerAuth;
use switchyard_core::confignet::body::{read_body, BodyError, BytesInFlight};
use switchyard_core::confignet::compression::{decompress, DecompressError};
use switchyard_core::confignet::server::{self, ClientAddr, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::consumer::{AuthData, ConsumeError, DynConsumer, RequestContext};
use switchyard_core::telemetry::{LogThrottle, ReceiverObs};
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
    /// Bytes of request bodies being received or processed (shared with the gRPC port).
    in_flight: BytesInFlight,
    max_body: usize,
    /// Deadline for a whole body once the headers are in; `None`: no deadline.
    read_timeout: Option<Duration>,
    timeout_log: LogThrottle,
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
    /// Answered before the body was read whole.
    unread: bool,
}

impl Failure {
    fn new(status: StatusCode, code: i32, message: impl Into<String>) -> Self {
        Failure { status, code, message: message.into(), retry_after: None, unread: false }
    }

    fn unread(mut self) -> Self {
        self.unread = true;
        self
    }
}

/// Marks an answer given before the request body was read whole: on HTTP/1 the
/// connection cannot carry another request, so the answer says `Connection: close` (a
/// client that pooled it would send its next request into a closing connection). The
/// rest of the body is drained by the connection's lingering close.
#[derive(Clone, Copy)]
struct BodyUnread;

const INVALID_ARGUMENT: i32 = 3;
const DEADLINE_EXCEEDED: i32 = 4;
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
    let http1 = req.version() <= http::Version::HTTP_11;
    let mut response = respond::<S>(&state, consumer, req).await;
    if http1 && response.extensions().get::<BodyUnread>().is_some() {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response.headers_mut().extend(state.response_headers.clone());
    response
}

async fn respond<S: OtlpSignal>(state: &State, consumer: Option<DynConsumer<S>>, mut req: Request<Body>) -> Response {
    // Credentials first: an unauthenticated client learns nothing (not even which paths or
    // signals are served) and gets nothing read, decoded or stored.
    let auth_data = match &state.auth {
        None => None,
        Some(auth) => match auth.authenticate(req.headers()) {
            Ok(data) => Some(Arc::new(data)),
            Err(reason) => {
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
                return failure_response(enc, f.unread());
            }
        },
    };
    if let Some(data) = auth_data {
        req.extensions_mut().insert(data);
    }
    if req.method() != Method::POST {
        return plain(StatusCode::METHOD_NOT_ALLOWED, format!("405 method not allowed, supported: [{}]", Method::POST));
    }
    let enc = match request_encoding(req.headers()) {
        Some(Ok(enc)) => enc,
        Some(Err(_)) | None => {
            let mut r = plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("415 unsupported media type, supported: [{JSON}, {PROTOBUF}]"),
            );
            r.extensions_mut().insert(BodyUnread);
            return r;
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
    if f.unread {
        r.extensions_mut().insert(BodyUnread);
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
    let too_large = |limit: usize, stage: &str| {
        state.obs.guard.req_too_large.add(1);
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            INVALID_ARGUMENT,
            format!("request body exceeds the limit of {limit} bytes{stage} (max_request_body_size)"),
        )
    };
    // A declared length over the limit is refused before anything is read; the rest of
    // the body is drained by the connection's lingering close, so the client reads the 413.
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > state.max_body) {
        return Err(too_large(state.max_body, "").unread());
    }
    // Admission by bytes: a declared length is reserved before reading, so a body that
    // cannot fit is refused (429 + Retry-After) before any of it is in memory; a body of
    // unknown length (chunked) reserves what arrives, as it arrives.
    let over_budget = |state: &State| {
        state.obs.admission_refused.add(1);
        Failure {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: RESOURCE_EXHAUSTED,
            message: BodyError::InFlight(state.in_flight.limit_bytes() >> 20).to_string(),
            retry_after: Some(1),
            unread: true,
        }
    };
    let Some(mut reservation) = state.in_flight.reserve(declared.unwrap_or(0)) else {
        return Err(over_budget(state));
    };
    let raw = match read_body(body, state.max_body, state.read_timeout, &mut reservation, declared).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(limit)) => return Err(too_large(limit, "").unread()),
        Err(BodyError::InFlight(_)) => return Err(over_budget(state)),
        Err(e @ BodyError::Timeout(_)) => {
            state.obs.guard.req_read_timeout.add(1);
            if let Some(n) = state.timeout_log.allow() {
                tracing::info!(receiver = %state.who, transport = "http", error = %e, similar_since_last_report = n,
                    "Request refused: its body arrived too slowly.");
            }
            return Err(Failure::new(StatusCode::REQUEST_TIMEOUT, DEADLINE_EXCEEDED, e.to_string()).unread());
        }
        Err(e @ BodyError::Read(_)) => {
            return Err(Failure::new(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, e.to_string()).unread())
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
        raw
    } else {
        // Decompression is CPU work; bounded by max_body, so it is short enough to run inline.
        decompress(&encoding, &raw, state.max_body)
            .map_err(|e| match e {
                DecompressError::TooLarge(limit) => too_large(limit, " after decompression"),
                other => {
                    state.obs.guard.req_malformed.add(1);
                    Failure::new(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, other.to_string())
                }
            })
            .map(Bytes::from)?
    };
    if enc == Encoding::Json && switchyard_pdata::json::nesting_exceeds(&body, state.max_json_depth) {
        state.obs.guard.req_json_depth.add(1);
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            INVALID_ARGUMENT,
            format!("JSON nested deeper than {} levels (max_json_depth)", state.max_json_depth),
        ));
    }
    // Protobuf stays the bytes it arrived as (walked, not decoded) until a processor needs it.
    let data = match enc {
        Encoding::Proto => S::from_encoded(body).map_err(|e| e.to_string()),
        Encoding::Json => S::decode_json(&body).map(S::from_request),
    }
    .map_err(|e| {
        state.obs.guard.req_malformed.add(1);
        Failure::new(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, format!("failed to decode {} request: {e}", S::SIGNAL))
    })?;
    let client_addr = parts.extensions.get::<ClientAddr>().map(|a| a.0);
    let auth = parts.extensions.get::<Arc<AuthData>>().cloned();
    let mut cx = if state.include_metadata {
        RequestContext::with_metadata(Some(Arc::new(parts.headers)))
    } else {
        RequestContext::default()
    };
    cx.client_addr = client_addr;
    cx.auth = auth;
    match deliver(&consumer, &state.obs, &cx, data).await {
        Ok(()) => Ok(match enc {
            Encoding::Proto => S::Response::default().encode_to_vec(),
            Encoding::Json => S::encode_json_response(&S::Response::default()),
        }),
        Err(ConsumeError::Retryable { message, retry_after }) => Err(Failure {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: UNAVAILABLE,
            message,
            retry_after: retry_after.map(|d| d.as_secs().max(1)),
            unread: false,
        }),
        Err(ConsumeError::Throttled { message, retry_after }) => Err(Failure {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: RESOURCE_EXHAUSTED,
            message,
            retry_after: Some(retry_after.as_secs().max(1)),
            unread: false,
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

/// What `serve` needs besides the config.
pub(super) struct HttpDeps {
    pub(super) obs: ReceiverObs,
    pub(super) admission: Arc<Semaphore>,
    pub(super) in_flight: BytesInFlight,
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
    let HttpDeps { obs, admission, in_flight, tls, auth } = deps;
    let state = Arc::new(State {
        who: id.to_string(),
        obs: obs.clone(),
        auth,
        auth_log: LogThrottle::default(),
        max_json_depth: cfg.max_json_depth,
        admission,
        in_flight,
        max_body: cfg.max_request_body_size,
        read_timeout: cfg.body_read_timeout(),
        timeout_log: LogThrottle::default(),
        include_metadata: cfg.include_metadata,
        compression: cfg.compression_algorithms.clone(),
        response_headers,
    });
    let mut router = Router::new();
    router = route(router, &cfg.traces_url_path, &state, out.traces.clone());
    router = route(router, &cfg.metrics_url_path, &state, out.metrics.clone());
    router = route(router, &cfg.logs_url_path, &state, out.logs.clone());
    router = route(router, <switchyard_pdata::Profiles as OtlpSignal>::HTTP_PATH, &state, out.profiles.clone());
    let listener = switchyard_core::confignet::listener::bind(&cfg.endpoint)
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
