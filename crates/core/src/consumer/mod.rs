//! Consumers: how data moves along a pipeline. A receiver awaits `consume` on the first
//! processor, which awaits the next, down to the exporters' queues; errors and backpressure
//! come back the same way while the client still waits for its answer.

mod fanout;
mod router;

pub use fanout::Fanout;
pub use router::{AnyRouter, Router, RouterError};

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, SignalData, Traces};

/// Request-scoped information that travels with the data, as the Collector's `client.Info`:
/// the client's headers when the receiver has `include_metadata: true` (for batching by
/// `metadata_keys`, routing, `from_context`), its address, and what an auth extension
/// established about it. A batch that merges requests keeps only the metadata it was keyed on.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// Incoming request headers (gRPC metadata), if the receiver keeps them.
    pub metadata: Option<Arc<http::HeaderMap>>,
    /// The peer's address (`client.address`, `k8sattributes`' `connection` association).
    pub client_addr: Option<std::net::SocketAddr>,
    /// Set by the receiver's server authenticator when the request passed it (`auth.<attr>`).
    pub auth: Option<Arc<AuthData>>,
}

/// What a server authenticator learned about a client (the Collector's `client.AuthData`):
/// named string attributes such as basicauth's `username` and `raw`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthData {
    attrs: Vec<(String, String)>,
}

impl AuthData {
    /// Builds from `(name, value)` pairs.
    pub fn new(attrs: Vec<(String, String)>) -> AuthData {
        AuthData { attrs }
    }

    /// The value of one attribute, if the authenticator set it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Names of every attribute set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attrs.iter().map(|(k, _)| k.as_str())
    }
}

impl RequestContext {
    /// Values of one metadata key (case-insensitive), empty if absent or not kept.
    pub fn metadata_values(&self, key: &str) -> Vec<&str> {
        self.metadata
            .as_ref()
            .map(|m| m.get_all(key).iter().filter_map(|v| v.to_str().ok()).collect())
            .unwrap_or_default()
    }

    /// Only the metadata: what survives when requests of several clients are merged.
    pub fn with_metadata(metadata: Option<Arc<http::HeaderMap>>) -> RequestContext {
        RequestContext { metadata, ..RequestContext::default() }
    }
}

/// Why data was not accepted downstream. Receivers turn it into the protocol's status:
/// retryable → gRPC UNAVAILABLE / HTTP 503 (429 for `Throttled`), permanent → INTERNAL / 500.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Temporary: the client should retry (queue full, backend down and not queued...).
    #[error("{message}")]
    Retryable {
        /// What happened.
        message: String,
        /// When the client should retry, if known (becomes Retry-After / RetryInfo).
        retry_after: Option<Duration>,
    },
    /// Over capacity: RESOURCE_EXHAUSTED / HTTP 429, with the retry delay.
    #[error("{message}")]
    Throttled {
        /// What happened.
        message: String,
        /// When the client should retry.
        retry_after: Duration,
    },
    /// The data can never be accepted.
    #[error("{message}")]
    Permanent {
        /// What happened.
        message: String,
    },
}

impl ConsumeError {
    /// A retryable error without a retry hint.
    pub fn retryable(message: impl Into<String>) -> Self {
        ConsumeError::Retryable { message: message.into(), retry_after: None }
    }

    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        ConsumeError::Permanent { message: message.into() }
    }

    /// True unless permanent.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, ConsumeError::Permanent { .. })
    }

    /// The errors of several consumers of one batch as one (`None` if there are none), as
    /// the Collector's fan-out joins them: permanent if any is permanent (retrying would
    /// never satisfy that consumer), else throttled if any is, else retryable; the longest
    /// retry hint wins; the messages are joined with `; `. A single error is returned as it is.
    pub fn join(errors: Vec<ConsumeError>) -> Option<ConsumeError> {
        if errors.len() <= 1 {
            return errors.into_iter().next();
        }
        let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        let retry_after = errors
            .iter()
            .filter_map(|e| match e {
                ConsumeError::Retryable { retry_after, .. } => *retry_after,
                ConsumeError::Throttled { retry_after, .. } => Some(*retry_after),
                ConsumeError::Permanent { .. } => None,
            })
            .max();
        Some(if errors.iter().any(|e| matches!(e, ConsumeError::Permanent { .. })) {
            ConsumeError::Permanent { message }
        } else if errors.iter().any(|e| matches!(e, ConsumeError::Throttled { .. })) {
            ConsumeError::Throttled { message, retry_after: retry_after.unwrap_or_default() }
        } else {
            ConsumeError::Retryable { message, retry_after }
        })
    }
}

/// Something that takes batches of one signal.
///
/// `consume` returns once the data is safely handed on (queued by every exporter, or
/// refused); it may wait (backpressure). The data is shared: a consumer that changes it
/// calls [`SignalData::make_mut`], which copies only if someone else holds it, so no
/// consumer has to declare that it mutates (see [`Fanout`] for why the Collector's
/// `MutatesData` capability has no equivalent here).
pub trait Consumer<S: SignalData>: Send + Sync {
    /// Takes one batch.
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>>;
}

/// A shared consumer of one signal.
pub type DynConsumer<S> = Arc<dyn Consumer<S>>;

/// A consumer of any one signal: what factories take and return, so wiring code is written once.
#[derive(Clone)]
pub enum AnyConsumer {
    /// Spans.
    Traces(DynConsumer<Traces>),
    /// Metric data points.
    Metrics(DynConsumer<Metrics>),
    /// Log records.
    Logs(DynConsumer<Logs>),
    /// Profiles.
    Profiles(DynConsumer<Profiles>),
}

impl AnyConsumer {
    /// The signal it consumes.
    pub fn signal(&self) -> Signal {
        match self {
            AnyConsumer::Traces(_) => Signal::Traces,
            AnyConsumer::Metrics(_) => Signal::Metrics,
            AnyConsumer::Logs(_) => Signal::Logs,
            AnyConsumer::Profiles(_) => Signal::Profiles,
        }
    }
}

/// Builds an [`AnyConsumer`] for `signal` from a generic expression over the signal type `S`:
/// `any_consumer_for!(signal, S => Arc::new(Exporter::<S>::new()))`.
#[macro_export]
macro_rules! any_consumer_for {
    ($signal:expr, $S:ident => $body:expr) => {
        match $signal {
            switchyard_pdata::Signal::Traces => {
                type $S = switchyard_pdata::Traces;
                $crate::consumer::AnyConsumer::Traces($body)
            }
            switchyard_pdata::Signal::Metrics => {
                type $S = switchyard_pdata::Metrics;
                $crate::consumer::AnyConsumer::Metrics($body)
            }
            switchyard_pdata::Signal::Logs => {
                type $S = switchyard_pdata::Logs;
                $crate::consumer::AnyConsumer::Logs($body)
            }
            switchyard_pdata::Signal::Profiles => {
                type $S = switchyard_pdata::Profiles;
                $crate::consumer::AnyConsumer::Profiles($body)
            }
        }
    };
}

/// Runs a generic expression on whichever consumer an [`AnyConsumer`] holds; every arm must
/// give the same type: `with_any_consumer!(next, c => build(c))`.
#[macro_export]
macro_rules! with_any_consumer {
    ($any:expr, $c:ident => $body:expr) => {
        match $any {
            $crate::consumer::AnyConsumer::Traces($c) => $body,
            $crate::consumer::AnyConsumer::Metrics($c) => $body,
            $crate::consumer::AnyConsumer::Logs($c) => $body,
            $crate::consumer::AnyConsumer::Profiles($c) => $body,
        }
    };
}

/// Runs a generic expression with `$S` bound to the data type of `signal`; every arm must
/// give the same type: `for_signal!(signal, S => build::<S>())`.
#[macro_export]
macro_rules! for_signal {
    ($signal:expr, $S:ident => $body:expr) => {
        match $signal {
            switchyard_pdata::Signal::Traces => {
                type $S = switchyard_pdata::Traces;
                $body
            }
            switchyard_pdata::Signal::Metrics => {
                type $S = switchyard_pdata::Metrics;
                $body
            }
            switchyard_pdata::Signal::Logs => {
                type $S = switchyard_pdata::Logs;
                $body
            }
            switchyard_pdata::Signal::Profiles => {
                type $S = switchyard_pdata::Profiles;
                $body
            }
        }
    };
}

macro_rules! from_dyn {
    ($($variant:ident),*) => {$(
        impl From<DynConsumer<$variant>> for AnyConsumer {
            fn from(c: DynConsumer<$variant>) -> Self {
                AnyConsumer::$variant(c)
            }
        }
    )*};
}

from_dyn!(Traces, Metrics, Logs, Profiles);
