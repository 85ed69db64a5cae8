//! The stateless processor scaffold: one function per signal, everything else done here.
//!
//! # Contract of a processing function
//!
//! It gets the batch's request for writing, obtained through
//! [`SignalData::make_mut`]: a batch nobody else holds is changed in place, a batch shared
//! with another pipeline is copied once, before the function runs, and the other holders
//! keep seeing the original. The function runs inline on the receiver's task, so it must
//! not block (no I/O, no locks held for long); it may remove every item, in which case the
//! batch is dropped here and the next consumer is not called (the Collector's
//! `ErrSkipProcessingData`), and it must not call the next consumer itself.
//!
//! "Empty" means no spans, data points, log records or profile samples
//! ([`SignalData::item_count`] is 0): envelopes without items are not worth a call downstream.

use futures::future::BoxFuture;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, SignalData, Traces};

use crate::component::{BuildError, Component, ComponentId, Settings};
use crate::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer, RequestContext};
use crate::telemetry::ProcessorObs;
use crate::with_any_consumer;

/// Why a processor could not process a batch. The batch is not passed on; the client gets
/// the error (retryable ones as gRPC UNAVAILABLE / HTTP 503, others as permanent failures).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// The batch can never be processed (an OTTL statement failed on it with
    /// `error_mode: propagate`): the client must not resend it.
    #[error("{message}")]
    Permanent {
        /// What went wrong.
        message: String,
    },
    /// A temporary failure (a lookup that timed out): the client may resend.
    #[error("{message}")]
    Retryable {
        /// What went wrong.
        message: String,
    },
    /// The processor has no function for this signal. The graph only wires a processor into
    /// pipelines whose signal its factory's `stability` accepts, so this means the two disagree.
    #[error("this processor does not support {signal}")]
    Unsupported {
        /// The signal it was handed.
        signal: Signal,
    },
}

impl ProcessError {
    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        ProcessError::Permanent { message: message.into() }
    }

    /// A retryable error.
    pub fn retryable(message: impl Into<String>) -> Self {
        ProcessError::Retryable { message: message.into() }
    }
}

/// A stateless processor: one function per signal it supports; the others keep their
/// default, which reports [`ProcessError::Unsupported`]. Wrap it with [`create_stateless`].
///
/// One instance serves one pipeline (the factory's `create` is called per pipeline) and is
/// called concurrently by every client of that pipeline, hence `&self`.
pub trait SignalProcessor: Send + Sync + 'static {
    /// Processes a batch of spans in place (see the module docs for the contract).
    fn process_traces(&self, _cx: &RequestContext, _req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        Err(ProcessError::Unsupported { signal: Signal::Traces })
    }
    /// Processes a batch of metric data points in place.
    fn process_metrics(
        &self,
        _cx: &RequestContext,
        _req: &mut ExportMetricsServiceRequest,
    ) -> Result<(), ProcessError> {
        Err(ProcessError::Unsupported { signal: Signal::Metrics })
    }
    /// Processes a batch of log records in place.
    fn process_logs(&self, _cx: &RequestContext, _req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        Err(ProcessError::Unsupported { signal: Signal::Logs })
    }
    /// Processes a batch of profiles in place.
    fn process_profiles(
        &self,
        _cx: &RequestContext,
        _req: &mut ExportProfilesServiceRequest,
    ) -> Result<(), ProcessError> {
        Err(ProcessError::Unsupported { signal: Signal::Profiles })
    }
}

/// Wraps `processor` in front of `next` (the pipeline's next consumer, of the signal the
/// graph is building): what a stateless processor factory's `create` returns, in one line:
///
/// ```ignore
/// fn create(&self, set: Settings, cfg: &Self::Config, next: AnyConsumer) -> Result<..., BuildError> {
///     create_stateless(&set, MyProcessor::new(cfg)?, next)
/// }
/// ```
///
/// The metrics are registered here, labelled with `set.id` and the signal. Never fails
/// today; the `Result` is the factory's, so the call can be its tail expression.
pub fn create_stateless<P: SignalProcessor>(
    set: &Settings,
    processor: P,
    next: AnyConsumer,
) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
    let consumer = with_any_consumer!(next, c => wrap(set, processor, c));
    Ok((consumer, None))
}

fn wrap<P: SignalProcessor, S: Dispatch>(set: &Settings, processor: P, next: DynConsumer<S>) -> AnyConsumer
where
    AnyConsumer: From<DynConsumer<S>>,
{
    let obs = ProcessorObs::new(&set.telemetry, &set.id, S::SIGNAL);
    let c: DynConsumer<S> = std::sync::Arc::new(Stateless { id: set.id.clone(), processor, next, obs });
    AnyConsumer::from(c)
}

/// Calls the processing function of the signal `Self` is.
trait Dispatch: SignalData {
    fn process<P: SignalProcessor>(p: &P, cx: &RequestContext, req: &mut Self::Request) -> Result<(), ProcessError>;
}

macro_rules! dispatch {
    ($($signal:ty => $method:ident),*) => {$(
        impl Dispatch for $signal {
            fn process<P: SignalProcessor>(p: &P, cx: &RequestContext, req: &mut Self::Request) -> Result<(), ProcessError> {
                p.$method(cx, req)
            }
        }
    )*};
}

dispatch!(Traces => process_traces, Metrics => process_metrics, Logs => process_logs, Profiles => process_profiles);

/// The consumer a stateless processor becomes.
struct Stateless<P, S: SignalData> {
    id: ComponentId,
    processor: P,
    next: DynConsumer<S>,
    obs: ProcessorObs,
}

impl<P: SignalProcessor, S: Dispatch> Consumer<S> for Stateless<P, S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, mut data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let incoming = data.item_count();
            if let Err(e) = S::process(&self.processor, cx, data.make_mut()) {
                self.obs.record(incoming, 0);
                let message = format!("processor \"{}\": {e}", self.id);
                return Err(match e {
                    ProcessError::Retryable { .. } => ConsumeError::retryable(message),
                    ProcessError::Permanent { .. } | ProcessError::Unsupported { .. } => {
                        ConsumeError::permanent(message)
                    }
                });
            }
            let outgoing = data.item_count();
            self.obs.record(incoming, outgoing);
            if outgoing == 0 {
                return Ok(());
            }
            self.next.consume(cx, data).await
        })
    }
}
