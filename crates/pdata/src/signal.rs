//! The four signals and the [`SignalData`] trait they share.

use std::fmt;
use std::sync::Arc;

use prost::Message;

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;

/// A telemetry signal, as named in pipeline ids (`traces/tempo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metric data points.
    Metrics,
    /// Log records.
    Logs,
    /// Profiles (OTLP development maturity).
    Profiles,
}

impl Signal {
    /// Every signal, in the order used for listings.
    pub const ALL: [Signal; 4] = [Signal::Traces, Signal::Metrics, Signal::Logs, Signal::Profiles];

    /// The name used in configuration (`traces`, `metrics`, `logs`, `profiles`).
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
            Signal::Profiles => "profiles",
        }
    }

    /// Parses a configuration name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|sig| sig.as_str() == s)
    }

    /// What one item of this signal is called in self-metric names (`spans`, `metric_points`, ...).
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "metric_points",
            Signal::Logs => "log_records",
            Signal::Profiles => "profile_samples",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every signal's data supports: counting, splitting, sharing and copy-on-write.
///
/// Cloning is cheap (a reference count); the request inside is shared until someone
/// calls [`SignalData::make_mut`].
pub trait SignalData: Clone + Send + Sync + fmt::Debug + 'static {
    /// The OTLP export request this signal wraps.
    type Request: Message + Default + Clone + PartialEq + fmt::Debug + Send + Sync + 'static;
    /// Which signal this is.
    const SIGNAL: Signal;

    /// Wraps a request.
    fn from_request(req: Self::Request) -> Self;
    /// The request, shared.
    fn request(&self) -> &Self::Request;
    /// The request for mutation; copies it first if another holder shares it.
    fn make_mut(&mut self) -> &mut Self::Request;
    /// The request by value; copies it only if another holder shares it.
    fn into_request(self) -> Self::Request;
    /// Spans, data points, log records or profile samples in this batch.
    fn item_count(&self) -> usize;
    /// Moves `other`'s items to the end of `self` (envelopes kept). Returns `other` untouched
    /// when the two cannot be merged (profiles with different dictionaries); never drops data.
    fn append(&mut self, other: Self) -> Result<(), Self>;
    /// Removes and returns the first `max_items` items (or all of them); used by batching.
    fn split_off_front(&mut self, max_items: usize) -> Self;
    /// Size of the protobuf encoding in bytes.
    fn encoded_len(&self) -> usize {
        self.request().encoded_len()
    }
}

macro_rules! signal_type {
    ($(#[$doc:meta])* $name:ident, $req:ty, $signal:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name(Arc<$req>);

        impl From<$req> for $name {
            fn from(req: $req) -> Self {
                $name(Arc::new(req))
            }
        }
    };
}

signal_type!(
    /// A batch of spans: an `ExportTraceServiceRequest` shared by reference.
    Traces,
    ExportTraceServiceRequest,
    Signal::Traces
);
signal_type!(
    /// A batch of metric data points: an `ExportMetricsServiceRequest` shared by reference.
    Metrics,
    ExportMetricsServiceRequest,
    Signal::Metrics
);
signal_type!(
    /// A batch of log records: an `ExportLogsServiceRequest` shared by reference.
    Logs,
    ExportLogsServiceRequest,
    Signal::Logs
);
signal_type!(
    /// A batch of profiles: an `ExportProfilesServiceRequest` shared by reference (pass-through).
    Profiles,
    ExportProfilesServiceRequest,
    Signal::Profiles
);

impl SignalData for Traces {
    type Request = ExportTraceServiceRequest;
    const SIGNAL: Signal = Signal::Traces;
    fn from_request(req: Self::Request) -> Self {
        req.into()
    }
    fn request(&self) -> &Self::Request {
        &self.0
    }
    fn make_mut(&mut self) -> &mut Self::Request {
        Arc::make_mut(&mut self.0)
    }
    fn into_request(self) -> Self::Request {
        Arc::unwrap_or_clone(self.0)
    }
    fn item_count(&self) -> usize {
        crate::split::count_spans(&self.0)
    }
    fn append(&mut self, other: Self) -> Result<(), Self> {
        let other = other.into_request();
        self.make_mut().resource_spans.extend(other.resource_spans);
        Ok(())
    }
    fn split_off_front(&mut self, max_items: usize) -> Self {
        crate::split::split_traces(self.make_mut(), max_items).into()
    }
}

impl SignalData for Metrics {
    type Request = ExportMetricsServiceRequest;
    const SIGNAL: Signal = Signal::Metrics;
    fn from_request(req: Self::Request) -> Self {
        req.into()
    }
    fn request(&self) -> &Self::Request {
        &self.0
    }
    fn make_mut(&mut self) -> &mut Self::Request {
        Arc::make_mut(&mut self.0)
    }
    fn into_request(self) -> Self::Request {
        Arc::unwrap_or_clone(self.0)
    }
    fn item_count(&self) -> usize {
        crate::split::count_points(&self.0)
    }
    fn append(&mut self, other: Self) -> Result<(), Self> {
        let other = other.into_request();
        self.make_mut().resource_metrics.extend(other.resource_metrics);
        Ok(())
    }
    fn split_off_front(&mut self, max_items: usize) -> Self {
        crate::split::split_metrics(self.make_mut(), max_items).into()
    }
}

impl SignalData for Logs {
    type Request = ExportLogsServiceRequest;
    const SIGNAL: Signal = Signal::Logs;
    fn from_request(req: Self::Request) -> Self {
        req.into()
    }
    fn request(&self) -> &Self::Request {
        &self.0
    }
    fn make_mut(&mut self) -> &mut Self::Request {
        Arc::make_mut(&mut self.0)
    }
    fn into_request(self) -> Self::Request {
        Arc::unwrap_or_clone(self.0)
    }
    fn item_count(&self) -> usize {
        crate::split::count_log_records(&self.0)
    }
    fn append(&mut self, other: Self) -> Result<(), Self> {
        let other = other.into_request();
        self.make_mut().resource_logs.extend(other.resource_logs);
        Ok(())
    }
    fn split_off_front(&mut self, max_items: usize) -> Self {
        crate::split::split_logs(self.make_mut(), max_items).into()
    }
}

impl SignalData for Profiles {
    type Request = ExportProfilesServiceRequest;
    const SIGNAL: Signal = Signal::Profiles;
    fn from_request(req: Self::Request) -> Self {
        req.into()
    }
    fn request(&self) -> &Self::Request {
        &self.0
    }
    fn make_mut(&mut self) -> &mut Self::Request {
        Arc::make_mut(&mut self.0)
    }
    fn into_request(self) -> Self::Request {
        Arc::unwrap_or_clone(self.0)
    }
    fn item_count(&self) -> usize {
        crate::split::count_profiles(&self.0)
    }
    /// Profiles share a dictionary per request: they merge only when the dictionaries are
    /// equal (or `self` is empty); otherwise `other` comes back. Batching passes profiles through.
    fn append(&mut self, other: Self) -> Result<(), Self> {
        if self.0.resource_profiles.is_empty() {
            *self = other;
            Ok(())
        } else if self.0.dictionary == other.0.dictionary {
            let other = other.into_request();
            self.make_mut().resource_profiles.extend(other.resource_profiles);
            Ok(())
        } else {
            Err(other)
        }
    }
    /// Profiles are not split (their dictionary is per request): the whole batch is taken.
    fn split_off_front(&mut self, _max_items: usize) -> Self {
        std::mem::take(self)
    }
}
