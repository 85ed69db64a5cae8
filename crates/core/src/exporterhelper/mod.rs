//! The exporter helper: what every exporter gets around its "send one request" function.
//!
//! Layers, outermost first: the sending queue (in memory, or on disk with a storage
//! extension; optionally batching), retry on failure (exponential backoff with jitter,
//! honouring the server's throttle hint), and the per-attempt timeout. An exporter only
//! implements [`Sender`]. Fields and defaults are the Collector's
//! (`reference/exporterhelper.md`); what is promised is in `docs/delivery-guarantees.md`.

mod batcher;
mod config;
mod exporter;
mod memory;
mod memory_queue;
mod persistent_queue;
mod request;
mod retry;

#[cfg(test)]
mod tests;

pub use config::{QueueBatchConfig, QueueConfig, QueuePartitionConfig, RetryConfig, Sizer};
pub use exporter::QueuedExporter;
pub use retry::Backoff;

use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_pdata::SignalData;

use crate::consumer::RequestContext;

/// Why one send attempt failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ExportError {
    /// Worth retrying (connection refused, 503, UNAVAILABLE...). `throttle` is the server's
    /// requested delay (Retry-After, RetryInfo), if any.
    #[error("{message}")]
    Retryable {
        /// What happened.
        message: String,
        /// Server-requested delay before the next attempt.
        throttle: Option<Duration>,
    },
    /// Never worth retrying (400, INVALID_ARGUMENT, bad data): the data is dropped and counted.
    #[error("{message}")]
    Permanent {
        /// What happened.
        message: String,
    },
}

impl ExportError {
    /// A retryable error without a throttle hint.
    pub fn retryable(message: impl Into<String>) -> Self {
        ExportError::Retryable { message: message.into(), throttle: None }
    }
    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        ExportError::Permanent { message: message.into() }
    }
}

/// Sends one request to the backend. Implemented by each exporter; the helper adds queueing,
/// retries and the timeout. `send` must not retry by itself.
pub trait Sender<S: SignalData>: Send + Sync + 'static {
    /// One attempt. `cx` carries the request's client metadata (kept across the queue, and
    /// across restarts with a persistent queue).
    fn send<'a>(&'a self, cx: &'a RequestContext, data: &'a S) -> BoxFuture<'a, Result<(), ExportError>>;

    /// One attempt that may deliver part of `data` (an exporter that fans a request out to
    /// several backends): on error it leaves in `data` only what is still to be sent, so the
    /// retry repeats nothing a backend already has. The helper calls this one; the default
    /// is all-or-nothing [`Sender::send`]. It must leave `data` whole if it is dropped
    /// mid-attempt.
    fn send_partial<'a>(&'a self, cx: &'a RequestContext, data: &'a mut S) -> BoxFuture<'a, Result<(), ExportError>> {
        self.send(cx, data)
    }

    /// The exporter's [`BodySender`] side, if its request is one body made from the whole
    /// batch. The helper then makes the body once and sends it on every attempt.
    fn body_sender(&self) -> Option<&dyn BodySender<S>> {
        None
    }

    /// Called once when the exporter starts, before any send: resolve what lives in the
    /// host (an auth extension). `Err` fails the start with that message.
    fn start(&self, _host: &crate::component::Host) -> Result<(), String> {
        Ok(())
    }
}

/// An exporter whose request is one body made from the whole batch (OTLP/gRPC, OTLP/HTTP).
///
/// The helper makes the body once per request, then lets the batch go: while the request is
/// in flight or waits for a retry only its body is held, which for gzip'd spans is about a
/// sixth of the batch. With the default ten consumers each sending a batch of 8,192 spans,
/// that is the difference between about 40 MB and 7 MB in flight.
pub trait BodySender<S: SignalData>: Send + Sync + 'static {
    /// The body. An error means the batch cannot be encoded: it is dropped as a permanent
    /// failure.
    fn encode_body(&self, data: &S) -> Result<bytes::Bytes, String>;

    /// One attempt with the body [`BodySender::encode_body`] made.
    fn send_body<'a>(&'a self, cx: &'a RequestContext, body: bytes::Bytes) -> BoxFuture<'a, Result<(), ExportError>>;

    /// Whether the body is made from the protobuf encoding. The sending queue then holds a
    /// changed (decoded) batch as that encoding, about a quarter of the tree's memory, and
    /// the body is compressed from it; the encoding is made once either way.
    fn reads_protobuf(&self) -> bool {
        true
    }
}

/// Why a request could not enter the sending queue.
#[derive(Debug)]
pub(crate) enum PushError {
    /// At capacity and not blocking; how full.
    Full(String),
    /// Larger than the whole queue.
    TooLarge(String),
    /// Shutting down.
    Closed,
    /// The persistent queue cannot write (disk full, permissions...).
    Storage(String),
}
