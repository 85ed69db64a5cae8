//! The HTTP side: any path (as in the Collector, a path containing `api/v1/spans` is v1,
//! everything else v2), `POST` only, answered `202 Accepted`; a body that does not decode
//! gets `400` with the reason, is counted (refused spans when their number is known, and a
//! malformed request) and logged, throttled.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use switchyard_core::component::{ReceiverOutputs, Settings, StartError};
use switchyard_core::confignet::auth::ServerAuth;
use switchyard_core::confignet::body::{read_body, BodyError, BytesInFlight};
use switchyard_core::confignet::compression::{decompress, DecompressError};
use switchyard_core::confignet::server::{self, ClientAddr, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::consumer::{AuthData, ConsumeError, DynConsumer, RequestContext};
use switchyard_core::telemetry::{GuardObs, LogThrottle, ReceiverObs};
use switchyard_pdata::{Signal, SignalData, Traces};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::config::ZipkinHttpConfig;
use super::{decode, Format};

/// Request bytes held at once (being read, decoded or in the pipeline): 64 MiB, and never
/// less than one largest request.
const BYTES_IN_FLIGHT: usize = 64 << 20;

/// What `serve` needs besides the config.
pub(super) struct Deps {
    pub(super) tls: Option<ServerTls>,
    pub(super) auth: Option<ServerAuth>,
    pub(super) parse_string_tags: bool,
}

/// Counters per format (the Collector's transports).
struct Obs {
    v1_json: ReceiverObs,
    v1_thrift: ReceiverObs,
    v2_json: ReceiverObs,
    v2_proto: ReceiverObs,
}

impl Obs {
    fn of(&self, f: Format) -> &ReceiverObs {
        match f {
            Format::V1Json => &self.v1_json,
            Format::V1Thrift => &self.v1_thrift,
            Format::V2Json => &self.v2_json,
            Format::V2Proto => &self.v2_proto,
        }
    }
}

struct State {
    who: String,
    obs: Obs,
    consumer: Option<DynConsumer<Traces>>,
    auth: Option<ServerAuth>,
    parse_string_tags: bool,
    admission: Semaphore,
    in_flight: BytesInFlight,
    max_body: usize,
    read_timeout: Option<Duration>,
    include_metadata: bool,
    compression: Option<Vec<String>>,
    response_headers: HeaderMap,
    auth_log: LogThrottle,
    bad_log: LogThrottle,
}

fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

fn media_type(headers: &HeaderMap) -> String {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The decoder for a request, as the Collector picks it.
fn format_of(path: &str, headers: &HeaderMap) -> Format {
    let media = media_type(headers);
    if path.contains("api/v1/spans") {
        if media == "application/x-thrift" {
            Format::V1Thrift
        } else {
            Format::V1Json
        }
    } else if media == "application/x-protobuf" {
        Format::V2Proto
    } else {
        Format::V2Json
    }
}

async fn handle(state: Arc<State>, req: Request<Body>) -> Response {
    let mut r = respond(&state, req).await;
    r.headers_mut().extend(state.response_headers.clone());
    r
}

async fn respond(state: &State, mut req: Request<Body>) -> Response {
    let format = format_of(req.uri().path(), req.headers());
    let obs = state.obs.of(format);
    if let Some(auth) = &state.auth {
        match auth.authenticate(req.headers()) {
            Ok(data) => {
                req.extensions_mut().insert(Arc::new(data));
            }
            Err(reason) => {
                obs.guard.req_unauthenticated.add(1);
                if let Some(n) = state.auth_log.allow() {
                    tracing::warn!(receiver = %state.who, %reason, similar_since_last_report = n,
                        "Request refused: authentication failed.");
                }
                return text(StatusCode::UNAUTHORIZED, "missing or invalid credentials");
            }
        }
    }
    if req.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed, supported: [POST]");
    }
    if format == Format::V1Thrift {
        obs.guard.req_malformed.add(1);
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Zipkin v1 Thrift (application/x-thrift) is not supported by this receiver; send Zipkin v1 JSON or v2 JSON/protobuf",
        );
    }
    let Some(consumer) = state.consumer.clone() else {
        return text(StatusCode::NOT_FOUND, "no traces pipeline uses this receiver");
    };
    let (parts, body) = req.into_parts();
    let body = match read(state, obs, &parts.headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(_admitted) = state.admission.acquire().await else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "receiver is shutting down");
    };
    let request = match decode(format, &body, state.parse_string_tags) {
        Ok(r) => r,
        Err(e) => {
            obs.guard.req_malformed.add(1);
            obs.record(Signal::Traces, e.spans(), false);
            if let Some(n) = state.bad_log.allow() {
                tracing::warn!(receiver = %state.who, transport = format.transport(), error = %e,
                    refused_spans = e.spans(), similar_since_last_report = n, "Request refused: cannot decode Zipkin spans.");
            }
            return text(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let mut cx = if state.include_metadata {
        RequestContext::with_metadata(Some(Arc::new(parts.headers)))
    } else {
        RequestContext::default()
    };
    cx.client_addr = parts.extensions.get::<ClientAddr>().map(|a| a.0);
    cx.auth = parts.extensions.get::<Arc<AuthData>>().cloned();
    let data = Traces::from_request(request);
    let items = data.item_count();
    if items == 0 {
        return StatusCode::ACCEPTED.into_response();
    }
    let result = consumer.consume(&cx, data).await;
    obs.record(Signal::Traces, items, result.is_ok());
    match result {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        // The Collector's answers: a permanent error is the client's, anything else ours.
        Err(ConsumeError::Permanent { message }) => {
            tracing::debug!(receiver = %state.who, error = %message, "Pipeline refused spans.");
            text(StatusCode::BAD_REQUEST, "\"Bad Request\"")
        }
        Err(e) => {
            tracing::debug!(receiver = %state.who, error = %e, "Pipeline refused spans.");
            text(StatusCode::INTERNAL_SERVER_ERROR, "\"Internal Server Error\"")
        }
    }
}

/// Reads and decompresses the body within the size, time and in-flight limits.
async fn read(state: &State, obs: &ReceiverObs, headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Response> {
    let too_large = |stage: &str| {
        obs.guard.req_too_large.add(1);
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds the limit of {} bytes{stage} (max_request_body_size)", state.max_body),
        )
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > state.max_body) {
        return Err(too_large(""));
    }
    let busy = || {
        obs.admission_refused.add(1);
        let mut r =
            text(StatusCode::TOO_MANY_REQUESTS, BodyError::InFlight(state.in_flight.limit_bytes() >> 20).to_string());
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
        r
    };
    let Some(mut reservation) = state.in_flight.reserve(declared.unwrap_or(0)) else {
        return Err(busy());
    };
    let raw = match read_body(body, state.max_body, state.read_timeout, &mut reservation, declared).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(_)) => return Err(too_large("")),
        Err(BodyError::InFlight(_)) => return Err(busy()),
        Err(e @ BodyError::Timeout(_)) => {
            obs.guard.req_read_timeout.add(1);
            return Err(text(StatusCode::REQUEST_TIMEOUT, e.to_string()));
        }
        Err(e @ BodyError::Read(_)) => return Err(text(StatusCode::BAD_REQUEST, e.to_string())),
    };
    let encoding =
        headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    if encoding.is_empty() || encoding == "identity" {
        return Ok(raw.to_vec());
    }
    if let Some(allowed) = &state.compression {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&encoding)) {
            obs.guard.req_malformed.add(1);
            return Err(text(
                StatusCode::BAD_REQUEST,
                format!("Content-Encoding \"{encoding}\" is not enabled (compression_algorithms)"),
            ));
        }
    }
    decompress(&encoding, &raw, state.max_body).map_err(|e| match e {
        DecompressError::TooLarge(_) => too_large(" after decompression"),
        other => {
            obs.guard.req_malformed.add(1);
            text(StatusCode::BAD_REQUEST, other.to_string())
        }
    })
}

/// Binds the port and serves until `stop`; in-flight requests finish first.
pub(super) async fn serve(
    set: &Settings,
    cfg: &ZipkinHttpConfig,
    out: &ReceiverOutputs,
    deps: Deps,
    stop: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let id = &set.id;
    let mut response_headers = HeaderMap::new();
    for (k, v) in &cfg.response_headers {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) else {
            return Err(StartError::new(format!("receiver \"{id}\": invalid response header {k}")));
        };
        response_headers.insert(name, value);
    }
    let obs = |f: Format| ReceiverObs::new(&set.telemetry, id, f.transport());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let state = Arc::new(State {
        who: id.to_string(),
        obs: Obs {
            v1_json: obs(Format::V1Json),
            v1_thrift: obs(Format::V1Thrift),
            v2_json: obs(Format::V2Json),
            v2_proto: obs(Format::V2Proto),
        },
        consumer: out.traces.clone(),
        auth: deps.auth,
        parse_string_tags: deps.parse_string_tags,
        admission: Semaphore::new((8 * cores).max(16)),
        in_flight: BytesInFlight::new(BYTES_IN_FLIGHT.max(cfg.max_request_body_size)),
        max_body: cfg.max_request_body_size,
        read_timeout: cfg.body_read_timeout(),
        include_metadata: cfg.include_metadata,
        compression: cfg.compression_algorithms.clone(),
        response_headers,
        auth_log: LogThrottle::default(),
        bad_log: LogThrottle::default(),
    });
    let router = Router::new().fallback(move |req: Request<Body>| handle(state.clone(), req));
    let listener = switchyard_core::confignet::listener::bind(&cfg.endpoint)
        .await
        .map_err(|e| StartError::new(format!("receiver \"{id}\": cannot listen on {}: {e}", cfg.endpoint)))?;
    tracing::info!(receiver = %id, endpoint = ?listener.local_addr().ok(), tls = deps.tls.is_some(), "Starting HTTP server.");
    let options = ServeOptions {
        http2_only: false,
        max_connections: cfg.max_connections,
        read_header_timeout: cfg.read_header_timeout,
        ..ServeOptions::default()
    };
    let id_s = id.to_string();
    let guard = GuardObs::new(&set.telemetry, &[("receiver", id_s.as_str()), ("transport", "http")]);
    let serving = Serving { who: id_s, listener, tls: deps.tls, options, obs: guard };
    Ok(tokio::spawn(server::serve(serving, router, stop)))
}
