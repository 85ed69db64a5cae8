//! OTLP/gRPC: the four Export services on one tonic server, behind the door that checks
//! credentials, reads the message within its limits and takes an admission slot.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::middleware::Next;
use prost::Message;
use switchyard_core::component::{ComponentId, ReceiverOutputs, StartError};
use switchyard_core::confignet::auth::ServerAuth;
use switchyard_core::confignet::body::{read_body, BodyError, BytesInFlight};
use switchyard_core::confignet::server::{self, ServeOptions, Serving};
use switchyard_core::confignet::tls::ServerTls;
use switchyard_core::consumer::ConsumeError;
use switchyard_core::telemetry::LogThrottle;
use switchyard_core::telemetry::ReceiverObs;
use switchyard_pdata::{Logs, Metrics, Profiles, Traces};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::{Code, Status};

use crate::otlp_signal::{ProtoAny, ProtoDuration, RetryInfo, RpcStatus, RETRY_INFO_TYPE};

use super::config::GrpcServerConfig;
use super::grpc_service::{CallSettings, ExportService};

/// Pipeline errors as the Collector's receiver reports them; a retry hint travels as
/// `google.rpc.RetryInfo` in the status details (what OTLP clients honour).
pub(super) fn to_status(e: ConsumeError) -> Status {
    match e {
        ConsumeError::Retryable { message, retry_after: None } => Status::unavailable(message),
        ConsumeError::Retryable { message, retry_after: Some(d) } => with_retry_info(Code::Unavailable, message, d),
        ConsumeError::Throttled { message, retry_after } => {
            with_retry_info(Code::ResourceExhausted, message, retry_after)
        }
        ConsumeError::Permanent { message } => Status::internal(message),
    }
}

fn with_retry_info(code: Code, message: String, delay: Duration) -> Status {
    let info = RetryInfo {
        retry_delay: Some(ProtoDuration { seconds: delay.as_secs() as i64, nanos: delay.subsec_nanos() as i32 }),
    };
    let details = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![ProtoAny { type_url: RETRY_INFO_TYPE.into(), value: info.encode_to_vec() }],
    };
    Status::with_details(code, message, details.encode_to_vec().into())
}

/// Checked before a call is decoded: credentials, then the request message is read
/// (bounded in size, time and bytes in flight), then an admission slot is taken. Reading
/// first means a client that trickles its message holds no slot, only the bytes it sent.
struct Door {
    who: String,
    auth: Option<ServerAuth>,
    admission: Arc<Semaphore>,
    in_flight: BytesInFlight,
    /// Largest request body: the message limit plus the 5-byte gRPC frame header. As in
    /// grpc-go, a message whose wire size exceeds the limit is refused without decompressing it.
    max_body: usize,
    read_timeout: Option<Duration>,
    obs: ReceiverObs,
    log: LogThrottle,
    timeout_log: LogThrottle,
}

async fn door(State(d): State<Arc<Door>>, req: axum::extract::Request, next: Next) -> axum::response::Response {
    let mut req = req;
    if let Some(auth) = &d.auth {
        match auth.authenticate(req.headers()) {
            Ok(data) => {
                req.extensions_mut().insert(Arc::new(data));
            }
            Err(reason) => {
                d.obs.guard.req_unauthenticated.add(1);
                if let Some(n) = d.log.allow() {
                    tracing::warn!(receiver = %d.who, transport = "grpc", %reason, similar_since_last_report = n,
                    "Request refused: authentication failed.");
                }
                return Status::unauthenticated("missing or invalid credentials").into_http();
            }
        }
    }
    let (parts, body) = req.into_parts();
    let over_budget = |d: &Door| {
        d.obs.admission_refused.add(1);
        let message = BodyError::InFlight(d.in_flight.limit_bytes() >> 20).to_string();
        with_retry_info(Code::ResourceExhausted, message, Duration::from_secs(1)).into_http()
    };
    let Some(mut reservation) = d.in_flight.reserve(0) else { return over_budget(&d) };
    let bytes = match read_body(body, d.max_body, d.read_timeout, &mut reservation, None).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(_)) => {
            d.obs.guard.req_too_large.add(1);
            let limit = d.max_body - GRPC_FRAME_HEADER;
            return Status::resource_exhausted(format!(
                "grpc: received message larger than max ({limit} bytes, max_recv_msg_size_mib)"
            ))
            .into_http();
        }
        Err(BodyError::InFlight(_)) => return over_budget(&d),
        Err(e @ BodyError::Timeout(_)) => {
            d.obs.guard.req_read_timeout.add(1);
            if let Some(n) = d.timeout_log.allow() {
                tracing::info!(receiver = %d.who, transport = "grpc", error = %e, similar_since_last_report = n,
                    "Request refused: its message arrived too slowly.");
            }
            return Status::deadline_exceeded(e.to_string()).into_http();
        }
        Err(e @ BodyError::Read(_)) => return Status::cancelled(e.to_string()).into_http(),
    };
    // One semaphore shared with the HTTP side: a request is decoded only once admitted.
    let Ok(_admitted) = d.admission.acquire().await else {
        return Status::unavailable("receiver is shutting down").into_http();
    };
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    let mut response = next.run(req).await;
    drop(reservation);
    count_refusal(&d.obs, &mut response);
    response
}

/// A gRPC message's length-prefix: one flag byte and four length bytes.
const GRPC_FRAME_HEADER: usize = 5;

/// Counts what tonic refused before our handler ran (it answers trailers-only, so the
/// status is in the headers): a message over `max_recv_msg_size_mib`, which tonic reports as
/// OUT_OF_RANGE and grpc-go (the Collector) as RESOURCE_EXHAUSTED, which we answer too; and a
/// message that does not decode.
fn count_refusal(obs: &ReceiverObs, response: &mut axum::response::Response) {
    let headers = response.headers_mut();
    let Some(code) = headers.get("grpc-status") else { return };
    if code == "11" {
        obs.guard.req_too_large.add(1);
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    } else if code == "13"
        && headers.get("grpc-message").is_some_and(|m| {
            // grpc-message is percent-encoded.
            let m = m.as_bytes();
            m.starts_with(b"failed to decode") || m.starts_with(b"failed%20to%20decode")
        })
    {
        obs.guard.req_malformed.add(1);
    }
}

/// What `serve` needs besides the config.
pub(super) struct GrpcDeps {
    pub(super) obs: ReceiverObs,
    pub(super) admission: Arc<Semaphore>,
    pub(super) in_flight: BytesInFlight,
    pub(super) tls: Option<ServerTls>,
    pub(super) auth: Option<ServerAuth>,
}

/// Binds the gRPC port and serves until `stop`; in-flight calls finish first.
pub(super) async fn serve(
    id: &ComponentId,
    cfg: &GrpcServerConfig,
    out: &ReceiverOutputs,
    deps: GrpcDeps,
    stop: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let listener = switchyard_core::confignet::listener::bind(&cfg.endpoint)
        .await
        .map_err(|e| StartError::new(format!("receiver \"{id}\": cannot listen on {} (grpc): {e}", cfg.endpoint)))?;
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    let limit = cfg.max_recv_msg_size_mib.unwrap_or(4) as usize * 1024 * 1024;
    let GrpcDeps { obs, admission, in_flight, tls, auth } = deps;
    let settings =
        Arc::new(CallSettings { obs: obs.clone(), include_metadata: cfg.include_metadata, max_message: limit });
    let mut routes = Routes::default();
    if let Some(c) = &out.traces {
        routes = routes.add_service(ExportService::<Traces>::new(c.clone(), settings.clone()));
    }
    if let Some(c) = &out.metrics {
        routes = routes.add_service(ExportService::<Metrics>::new(c.clone(), settings.clone()));
    }
    if let Some(c) = &out.logs {
        routes = routes.add_service(ExportService::<Logs>::new(c.clone(), settings.clone()));
    }
    if let Some(c) = &out.profiles {
        routes = routes.add_service(ExportService::<Profiles>::new(c.clone(), settings));
    }
    let door_state = Arc::new(Door {
        who: id.to_string(),
        auth,
        admission,
        in_flight,
        max_body: limit + GRPC_FRAME_HEADER,
        read_timeout: cfg.body_read_timeout(),
        obs: obs.clone(),
        log: LogThrottle::default(),
        timeout_log: LogThrottle::default(),
    });
    let router = routes.prepare().into_axum_router().layer(axum::middleware::from_fn_with_state(door_state, door));
    let params = cfg.keepalive.as_ref().and_then(|k| k.server_parameters.clone()).unwrap_or_default();
    let options = ServeOptions {
        http2_only: true,
        max_connections: cfg.max_connections,
        read_header_timeout: cfg.read_header_timeout,
        max_concurrent_streams: cfg.max_concurrent_streams,
        keepalive_time: params.time,
        keepalive_timeout: params.timeout,
        max_connection_age: params.max_connection_age,
        max_connection_age_grace: params.max_connection_age_grace,
    };
    tracing::info!(receiver = %id, endpoint = ?addr, tls = tls.is_some(), "Starting GRPC server.");
    let serving = Serving { who: id.to_string(), listener, tls, options, obs: obs.guard.clone() };
    Ok(tokio::spawn(server::serve(serving, router, stop)))
}
