//! The agent's UDP ports: one reader puts each datagram on a bounded queue (`queue_size`;
//! when full the datagram is dropped and counted, as the Jaeger agent's buffered server
//! does), and `workers` tasks decode, translate and deliver.

use std::net::ToSocketAddrs;
use std::sync::Arc;

use bytes::Bytes;
use switchyard_core::component::StartError;
use switchyard_core::consumer::RequestContext;
use switchyard_core::telemetry::LogThrottle;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

use super::config::UdpConfig;
use super::thrift_model::{Batch, DecodeError};
use super::thrift_translate::batch_to_traces;
use super::Sink;

/// A UDP port's settings, whichever protocol it serves.
pub(super) struct UdpOptions {
    endpoint: String,
    queue_size: usize,
    max_packet_size: usize,
    workers: usize,
    socket_buffer_size: usize,
}

impl From<&UdpConfig> for UdpOptions {
    fn from(c: &UdpConfig) -> Self {
        UdpOptions {
            endpoint: c.endpoint.clone(),
            queue_size: c.queue_size,
            max_packet_size: c.max_packet_size,
            workers: c.workers,
            socket_buffer_size: c.socket_buffer_size,
        }
    }
}

type Decode = fn(&[u8]) -> Result<Batch, DecodeError>;

fn bind(o: &UdpOptions) -> std::io::Result<UdpSocket> {
    let addr = o
        .endpoint
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no address"))?;
    let socket = std::net::UdpSocket::bind(addr)?;
    if o.socket_buffer_size > 0 {
        socket2::SockRef::from(&socket).set_recv_buffer_size(o.socket_buffer_size)?;
    }
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

/// Binds the port and starts the reader and the workers; they stop on `stop` after the
/// queue is drained.
pub(super) fn serve(
    o: UdpOptions,
    transport: &'static str,
    decode: Decode,
    sink: Sink,
    stop: CancellationToken,
) -> Result<Vec<tokio::task::JoinHandle<()>>, StartError> {
    let socket = bind(&o).map_err(|e| {
        StartError::new(format!("receiver \"{}\": cannot listen on udp {} ({transport}): {e}", sink.who, o.endpoint))
    })?;
    tracing::info!(receiver = %sink.who, endpoint = ?socket.local_addr().ok(), transport, "Starting UDP server for Jaeger agent.");
    let (tx, rx) = mpsc::channel::<Bytes>(o.queue_size);
    let rx = Arc::new(Mutex::new(rx));
    let mut tasks = Vec::with_capacity(o.workers + 1);
    for _ in 0..o.workers {
        let (rx, sink) = (rx.clone(), sink.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                // The lock is held only while waiting for the next datagram.
                let Some(datagram) = rx.lock().await.recv().await else { break };
                handle(&sink, transport, decode, &datagram).await;
            }
        }));
    }
    let full_log = LogThrottle::default();
    let max = o.max_packet_size;
    tasks.push(tokio::spawn(async move {
        let mut buf = vec![0u8; max];
        loop {
            let n = tokio::select! {
                _ = stop.cancelled() => break,
                r = socket.recv_from(&mut buf) => match r {
                    Ok((n, _)) => n,
                    Err(e) => {
                        tracing::debug!(receiver = %sink.who, transport, error = %e, "UDP read failed.");
                        continue;
                    }
                },
            };
            if tx.try_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                sink.obs.admission_refused.add(1);
                if let Some(skipped) = full_log.allow() {
                    tracing::warn!(receiver = %sink.who, transport, queue_size = o.queue_size,
                        similar_since_last_report = skipped, "Jaeger datagram dropped: the queue is full.");
                }
            }
        }
        // Dropping the sender lets the workers finish what is queued, then stop.
    }));
    Ok(tasks)
}

async fn handle(sink: &Sink, transport: &'static str, decode: Decode, datagram: &[u8]) {
    let batch = match decode(datagram) {
        Ok(b) => b,
        Err(e) => return sink.malformed(transport, &e),
    };
    // A refusal has nowhere to go on a one-way datagram: it is counted and logged by deliver.
    let _ = sink.deliver(&RequestContext::default(), batch_to_traces(batch)).await;
}
