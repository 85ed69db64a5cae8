//! The exporter helper: what every exporter gets around its "send one request" function.
//!
//! Layers, outermost first: the sending queue (bounded, `num_consumers` workers), retry on
//! failure (exponential backoff with jitter, honouring the server's throttle hint), and the
//! per-attempt timeout. An exporter only implements [`Sender`]. Fields and defaults are the
//! Collector's (`reference/exporterhelper.md`).

mod config;
mod queue;
mod retry;

pub use config::{QueueConfig, RetryConfig};
pub use queue::QueuedExporter;
pub use retry::Backoff;

use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_pdata::SignalData;

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
    /// One attempt.
    fn send(&self, data: &S) -> BoxFuture<'_, Result<(), ExportError>>;
}
