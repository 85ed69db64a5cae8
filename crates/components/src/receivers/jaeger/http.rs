//! `thrift_http`: `POST /api/traces` with a Thrift binary `Batch` body, answered as the
//! Collector's `HandleThriftHTTPBatch` answers: 202 when delivered, 400 for a body or media
//! type it cannot read, 500 when the pipeline refuses.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use switchyard_core::component::StartError;
use switchyard_core::confignet::auth::ServerAuth;
use switchyard_core::confignet::body::{read_body, BodyError, BytesInFlight};
use switchyard_core::confignet::compression::{decompress, DecompressError};
use switchyard_core::confignet::server::{self, ClientAddr, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::consumer::RequestContext;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::config::{body_read_timeout, ThriftHttpConfig};
use super::thrift_model::decode_binary_batch;
use super::thrift_translate::batch_to_traces;
use super::Sink;

const PATH: &str = "/api/traces";
const TRANSPORT: &str = "collector_http";
/// The media types the Collector accepts.
const ACCEPTED: [&str; 2] = ["application/x-thrift", "application/vnd.apache.thrift.binary"];

struct State {
    sink: Sink,
    auth: Option<ServerAuth>,
    admission: Arc<Semaphore>,
    in_flight: BytesInFlight,
    max_body: usize,
    read_timeout: Option<Duration>,
    compression: Option<Vec<String>>,
    response_headers: HeaderMap,
}

/// A plain-text answer, as Go's `http.Error` writes it.
fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn handle(state: Arc<State>, req: Request<Body>) -> Response {
    let mut r = respond(&state, req).await;
    r.headers_mut().extend(state.response_headers.clone());
    r
}

async fn respond(state: &State, req: Request<Body>) -> Response {
    let auth = match &state.auth {
        None => None,
        Some(a) => match a.authenticate(req.headers()) {
            Ok(data) => Some(Arc::new(data)),
            Err(reason) => {
                state.sink.obs.guard.req_unauthenticated.add(1);
                tracing::debug!(receiver = %state.sink.who, %reason, "Request refused: authentication failed.");
                return text(StatusCode::UNAUTHORIZED, "missing or invalid credentials");
            }
        },
    };
    let (parts, body) = req.into_parts();
    let media = match parts.headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("")) {
        None | Some("") => return text(StatusCode::BAD_REQUEST, "Cannot parse content type: mime: no media type"),
        Some(ct) => ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase(),
    };
    if !ACCEPTED.contains(&media.as_str()) {
        return text(StatusCode::BAD_REQUEST, format!("Unsupported content type: {media}"));
    }
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let too_large = || {
        state.sink.obs.guard.req_too_large.add(1);
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds the limit of {} bytes (max_request_body_size)", state.max_body),
        )
    };
    if declared.is_some_and(|n| n > state.max_body) {
        return too_large();
    }
    let Some(mut reservation) = state.in_flight.reserve(declared.unwrap_or(0)) else {
        state.sink.obs.admission_refused.add(1);
        return text(StatusCode::TOO_MANY_REQUESTS, "too many bytes in flight; retry later");
    };
    let raw = match read_body(body, state.max_body, state.read_timeout, &mut reservation, declared).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(_)) => return too_large(),
        Err(BodyError::InFlight(_)) => {
            state.sink.obs.admission_refused.add(1);
            return text(StatusCode::TOO_MANY_REQUESTS, "too many bytes in flight; retry later");
        }
        Err(e @ BodyError::Timeout(_)) => {
            state.sink.obs.guard.req_read_timeout.add(1);
            return text(StatusCode::REQUEST_TIMEOUT, e.to_string());
        }
        Err(e @ BodyError::Read(_)) => {
            return text(StatusCode::INTERNAL_SERVER_ERROR, format!("Unable to process request body: {e}"))
        }
    };
    let Ok(_admitted) = state.admission.acquire().await else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "receiver is shutting down");
    };
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let decompressed;
    let body: &[u8] = if encoding.is_empty() || encoding == "identity" {
        &raw
    } else {
        if state.compression.as_ref().is_some_and(|allowed| !allowed.iter().any(|a| a.eq_ignore_ascii_case(&encoding)))
        {
            return text(StatusCode::BAD_REQUEST, format!("unsupported Content-Encoding: {encoding}"));
        }
        decompressed = match decompress(&encoding, &raw, state.max_body) {
            Ok(b) => b,
            Err(DecompressError::TooLarge(_)) => return too_large(),
            Err(e) => {
                state.sink.malformed(TRANSPORT, &e);
                return text(StatusCode::BAD_REQUEST, e.to_string());
            }
        };
        &decompressed
    };
    let batch = match decode_binary_batch(body) {
        Ok(b) => b,
        Err(e) => {
            state.sink.malformed(TRANSPORT, &e);
            return text(StatusCode::BAD_REQUEST, format!("Unable to process request body: {e}"));
        }
    };
    let cx = RequestContext { metadata: None, client_addr: parts.extensions.get::<ClientAddr>().map(|a| a.0), auth };
    match state.sink.deliver(&cx, batch_to_traces(batch)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("Cannot submit Jaeger batch: {e}")),
    }
}

/// What `serve` needs besides the config.
pub(super) struct Deps {
    pub(super) sink: Sink,
    pub(super) admission: Arc<Semaphore>,
    pub(super) tls: Option<ServerTls>,
    pub(super) auth: Option<ServerAuth>,
}

/// Binds the port and serves until `stop`; requests in flight are answered first.
pub(super) async fn serve(
    cfg: &ThriftHttpConfig,
    deps: Deps,
    stop: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let Deps { sink, admission, tls, auth } = deps;
    let who = sink.who.clone();
    let mut response_headers = HeaderMap::new();
    for (k, v) in &cfg.response_headers {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) else {
            return Err(StartError::new(format!("receiver \"{who}\": invalid response header {k}")));
        };
        response_headers.insert(name, value);
    }
    let obs = sink.obs.guard.clone();
    let state = Arc::new(State {
        sink,
        auth,
        admission,
        in_flight: BytesInFlight::new((64 << 20).max(cfg.max_request_body_size)),
        max_body: cfg.max_request_body_size,
        read_timeout: body_read_timeout(cfg.read_timeout),
        compression: cfg.compression_algorithms.clone(),
        response_headers,
    });
    let router = Router::new().route(PATH, post(move |req: Request<Body>| handle(state.clone(), req)));
    let listener = switchyard_core::confignet::listener::bind(&cfg.endpoint).await.map_err(|e| {
        StartError::new(format!("receiver \"{who}\": cannot listen on {} (thrift_http): {e}", cfg.endpoint))
    })?;
    tracing::info!(receiver = %who, endpoint = ?listener.local_addr().ok(), tls = tls.is_some(),
        "Starting HTTP server for Jaeger Collector.");
    let options = ServeOptions {
        http2_only: false,
        max_connections: cfg.max_connections,
        read_header_timeout: cfg.read_header_timeout,
        ..ServeOptions::default()
    };
    let serving = Serving { who, listener, tls, options, obs };
    Ok(tokio::spawn(server::serve(serving, router, stop)))
}
