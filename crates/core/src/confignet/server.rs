//! The accept loop every receiver's HTTP and gRPC port (and the health endpoint) runs: connection limit, TLS
//! handshake with a deadline, a deadline for the first bytes (slowloris), HTTP/1 header
//! and HTTP/2 stream limits, keep-alive pings, connection age, graceful shutdown, and a
//! lingering close (`linger.rs`) so that an early answer is read rather than reset.
//! Each connection closed early is counted by reason (`GuardObs`) and logged, throttled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tower::ServiceExt;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::linger::Lingering;
use super::tls::ServerTls;
use crate::telemetry::{GuardObs, LogThrottle};

/// How a port serves connections.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// HTTP/2 only (gRPC) rather than HTTP/1.1 and HTTP/2.
    pub http2_only: bool,
    /// Connections held at once; more are closed at accept.
    pub max_connections: usize,
    /// Time for the TLS handshake, then for the first request's headers (HTTP/1) or first
    /// bytes (plaintext), before the connection is closed.
    pub read_header_timeout: Duration,
    /// Concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: Option<u32>,
    /// HTTP/2 PING interval on an idle connection (gRPC `keepalive.server_parameters.time`).
    pub keepalive_time: Option<Duration>,
    /// How long a PING may go unanswered before the connection is closed.
    pub keepalive_timeout: Option<Duration>,
    /// A connection is asked to close (GOAWAY / `Connection: close`) after this long.
    pub max_connection_age: Option<Duration>,
    /// After `max_connection_age`, in-flight requests get this long to finish.
    pub max_connection_age_grace: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            http2_only: false,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            max_concurrent_streams: None,
            keepalive_time: None,
            keepalive_timeout: None,
            max_connection_age: None,
            max_connection_age_grace: None,
        }
    }
}

/// Default connection limit per port: far above what a gateway tier sees from its
/// clients, low enough that idle sockets cannot exhaust file descriptors or memory.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default deadline for a handshake and a request's headers (the Collector's `read_header_timeout`).
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest HTTP/2 header block accepted (HPACK-decoded); the HTTP/1 read buffer (which bounds
/// a request head) is four times this. Credentials and metadata fit, a header flood does not.
const MAX_HEADER_BYTES: u32 = 64 * 1024;

/// At shutdown, how long requests in flight on a connection get to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// After closing a connection that never sent a request, how long before it is dropped.
const NO_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// What a receiver hands to [`serve`].
pub struct Serving {
    /// Component id, for logs.
    pub who: String,
    /// The bound port.
    pub listener: TcpListener,
    /// TLS, when configured.
    pub tls: Option<ServerTls>,
    /// Limits.
    pub options: ServeOptions,
    /// Counters.
    pub obs: GuardObs,
}

fn builder(o: &ServeOptions) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(o.read_header_timeout)
        .max_buf_size(MAX_HEADER_BYTES as usize * 4);
    {
        let mut h2 = b.http2();
        h2.timer(TokioTimer::new()).max_header_list_size(MAX_HEADER_BYTES);
        if let Some(n) = o.max_concurrent_streams {
            h2.max_concurrent_streams(n);
        }
        if o.http2_only {
            // gRPC: flow-control windows that start at the spec's 64 KiB and grow with the
            // measured bandwidth-delay product, as grpc-go's server (the Collector's) does.
            // hyper's fixed default is 1 MiB per connection: bytes a client may push ahead of
            // what the gateway has read, 16 MiB over the load harness's 16 connections.
            h2.adaptive_window(true);
        }
        if let Some(t) = o.keepalive_time {
            h2.keep_alive_interval(t);
        }
        if let Some(t) = o.keepalive_timeout {
            h2.keep_alive_timeout(t);
        }
    }
    if o.http2_only {
        b = b.http2_only();
    }
    b
}

/// The peer's address, set on every request's extensions (the Collector's `client.Info.Addr`).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// Serves `router` on the port until `stop`; then stops accepting, asks every connection
/// to finish (in-flight requests are answered) and returns when all are closed.
pub async fn serve(s: Serving, router: axum::Router, stop: CancellationToken) {
    let Serving { who, listener, tls, options, obs } = s;
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let builder = Arc::new(builder(&options));
    let tracker = TaskTracker::new();
    let log = Arc::new(Logs::default());
    loop {
        // Stop first: connections still in the backlog then stay there for whoever owns
        // the socket next (a reload hands it to the new receiver, `listener.rs`).
        let (tcp, peer) = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(receiver = %who, error = %e, "Accepting a connection failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            obs.conn_max_connections.add(1);
            if let Some(n) = log.limit.allow() {
                tracing::warn!(receiver = %who, %peer, max_connections = options.max_connections, similar_since_last_report = n,
                    "Connection refused: the receiver holds max_connections already.");
            }
            drop(tcp);
            continue;
        };
        let conn = Conn {
            who: who.clone(),
            tls: tls.clone(),
            options: options.clone(),
            obs: obs.clone(),
            builder: builder.clone(),
            router: router.clone(),
            stop: stop.clone(),
            log: log.clone(),
        };
        tracker.spawn(async move {
            let _slot = slot;
            conn.obs.open_connections.add(1);
            conn.run(tcp, peer).await;
            conn.obs.open_connections.add(-1);
        });
    }
    tracker.close();
    tracker.wait().await;
}

#[derive(Default)]
struct Logs {
    limit: LogThrottle,
    tls: LogThrottle,
    timeout: LogThrottle,
}

struct Conn {
    who: String,
    tls: Option<ServerTls>,
    options: ServeOptions,
    obs: GuardObs,
    builder: Arc<auto::Builder<TokioExecutor>>,
    router: axum::Router,
    stop: CancellationToken,
    log: Arc<Logs>,
}

impl Conn {
    async fn run(&self, tcp: TcpStream, peer: std::net::SocketAddr) {
        let _ = tcp.set_nodelay(true);
        let deadline = self.options.read_header_timeout;
        match &self.tls {
            Some(tls) => match self.until_stop(tokio::time::timeout(deadline, tls.acceptor().accept(tcp))).await {
                None => {}
                Some(r) => match r {
                    Ok(Ok(stream)) => self.http(TokioIo::new(Lingering::new(stream, self.stop.clone())), peer).await,
                    Ok(Err(e)) => {
                        self.obs.conn_tls_handshake.add(1);
                        if let Some(n) = self.log.tls.allow() {
                            tracing::warn!(receiver = %self.who, %peer, error = %e, similar_since_last_report = n,
                            "TLS handshake failed; connection closed.");
                        }
                    }
                    Err(_) => self.timed_out(peer, "TLS handshake"),
                },
            },
            None => {
                // An idle socket that never sends a byte holds a slot; it gets the same
                // deadline as slow headers.
                let mut first = [0u8; 1];
                match self.until_stop(tokio::time::timeout(deadline, tcp.peek(&mut first))).await {
                    Some(Ok(Ok(n))) if n > 0 => {
                        self.http(TokioIo::new(Lingering::new(tcp, self.stop.clone())), peer).await
                    }
                    Some(Err(_)) => self.timed_out(peer, "first bytes"),
                    _ => {}
                }
            }
        }
    }

    /// `None` when the receiver stops first: a connection not yet serving is just dropped.
    /// A connection whose bytes are already there is served (its request is answered).
    async fn until_stop<T>(&self, f: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            biased;
            r = f => Some(r),
            _ = self.stop.cancelled() => None,
        }
    }

    fn timed_out(&self, peer: std::net::SocketAddr, what: &str) {
        self.obs.conn_timeout.add(1);
        if let Some(n) = self.log.timeout.allow() {
            tracing::info!(receiver = %self.who, %peer, waited_for = what, timeout = ?self.options.read_header_timeout,
                similar_since_last_report = n, "Connection closed: read_header_timeout passed.");
        }
    }

    async fn http<I>(&self, io: TokioIo<I>, peer: std::net::SocketAddr)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        // Set by the first request: a connection that never gets one (a stalled HTTP/2
        // preface, a quiet TLS client) is closed after read_header_timeout.
        let seen = Arc::new(AtomicBool::new(false));
        let (router, flag) = (self.router.clone(), seen.clone());
        let service = tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
            flag.store(true, Ordering::Relaxed);
            req.extensions_mut().insert(ClientAddr(peer));
            router.clone().oneshot(req)
        });
        let conn = self.builder.serve_connection(io, TowerToHyperService::new(service));
        tokio::pin!(conn);
        let age = async {
            match self.options.max_connection_age {
                Some(a) => tokio::time::sleep(a).await,
                None => std::future::pending().await,
            }
        };
        let idle_start = async {
            tokio::time::sleep(self.options.read_header_timeout).await;
            if seen.load(Ordering::Relaxed) {
                std::future::pending::<()>().await;
            }
        };
        // The connection first: a request already sent is read before a stop closes it.
        let grace = tokio::select! {
            biased;
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(receiver = %self.who, error = %e, "Connection ended with an error.");
                }
                return;
            }
            _ = self.stop.cancelled() => SHUTDOWN_GRACE,
            _ = age => self.options.max_connection_age_grace.unwrap_or(SHUTDOWN_GRACE),
            _ = idle_start => {
                self.timed_out(peer, "a first request");
                NO_REQUEST_GRACE
            }
        };
        // GOAWAY / Connection: close; requests in flight get `grace` to finish, then the
        // connection is dropped (a peer that never acknowledges cannot hold it, or shutdown).
        conn.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(grace, conn).await;
    }
}
