//! The four signals and the [`SignalData`] trait they share.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use prost::Message;

use crate::payload::{Payload, WireRequest};
use crate::wire::WireError;

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

/// What every signal's data supports: counting, splitting, sharing, copy-on-write and
/// staying encoded until someone needs the fields.
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
    /// A batch from an encoded export request, as received. Traces, metrics and logs keep the
    /// bytes (checked by the [`crate::wire`] walker, which refuses exactly what prost refuses)
    /// and decode on first need (the rules are in the `payload` module).
    fn from_encoded(bytes: Bytes) -> Result<Self, DecodeError>;
    /// Whether the batch is still the bytes it arrived as (nobody has changed it).
    fn is_encoded(&self) -> bool {
        false
    }
    /// Replaces a decoded batch by its protobuf encoding; nothing to do when it is encoded.
    /// The sending queue calls it for an exporter whose body is made from the protobuf: the
    /// bytes take about a quarter of the memory of the tree while the batch waits, and the
    /// compressor reads them instead of an encoding made for it.
    fn encode_in_place(&mut self) {}
    /// Appends the protobuf encoding: the received bytes when the batch is still encoded.
    fn encode_to(&self, buf: &mut Vec<u8>) {
        buf.reserve(self.request().encoded_len());
        // Encoding into a Vec cannot run out of room.
        let _ = self.request().encode(buf);
    }
    /// Writes the protobuf encoding to `w` (a compressor) without first joining the chunks.
    fn write_encoded<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(&self.request().encode_to_vec())
    }
    /// The protobuf encoding as one buffer, shared rather than copied when possible.
    fn to_bytes(&self) -> Bytes {
        Bytes::from(self.request().encode_to_vec())
    }
    /// For routing by resource without decoding the items: a batch still encoded as one
    /// batch per resource element (shared bytes) and the request of their envelopes (each
    /// resource without its children), in the same order. `None` when the batch is decoded
    /// (or cannot be cut so): evaluate on the request instead.
    fn resource_skeleton(&self) -> Option<(Vec<Self>, Self::Request)> {
        None
    }
}

/// Why bytes did not make a batch.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The wire walker refused them (traces, metrics, logs).
    #[error(transparent)]
    Wire(#[from] WireError),
    /// prost refused them (profiles, which are always decoded).
    #[error(transparent)]
    Prost(#[from] prost::DecodeError),
}

macro_rules! wire_signal {
    ($(#[$doc:meta])* $name:ident, $req:ty, $signal:expr, $field:ident, $count:path, $split:path) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name(Payload<$req>);

        impl From<$req> for $name {
            fn from(req: $req) -> Self {
                $name(Payload::decoded(req))
            }
        }

        impl WireRequest for $req {
            const SIGNAL: Signal = $signal;
            fn count(&self) -> usize {
                $count(self)
            }
            fn extend(&mut self, other: Self) {
                self.$field.extend(other.$field);
            }
            fn split_front(&mut self, n: usize) -> Self {
                $split(self, n)
            }
        }

        impl SignalData for $name {
            type Request = $req;
            const SIGNAL: Signal = $signal;
            fn from_request(req: Self::Request) -> Self {
                req.into()
            }
            fn from_encoded(bytes: Bytes) -> Result<Self, DecodeError> {
                Ok($name(Payload::from_bytes(bytes)?))
            }
            fn request(&self) -> &Self::Request {
                self.0.request()
            }
            fn make_mut(&mut self) -> &mut Self::Request {
                self.0.make_mut()
            }
            fn into_request(self) -> Self::Request {
                self.0.into_request()
            }
            fn item_count(&self) -> usize {
                self.0.item_count()
            }
            fn append(&mut self, other: Self) -> Result<(), Self> {
                self.0.append(other.0);
                Ok(())
            }
            fn split_off_front(&mut self, max_items: usize) -> Self {
                $name(self.0.split_off_front(max_items))
            }
            fn encoded_len(&self) -> usize {
                self.0.encoded_len()
            }
            fn is_encoded(&self) -> bool {
                self.0.is_encoded()
            }
            fn encode_in_place(&mut self) {
                self.0.encode_in_place()
            }
            fn encode_to(&self, buf: &mut Vec<u8>) {
                self.0.encode_to(buf)
            }
            fn write_encoded<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
                self.0.write_encoded(w)
            }
            fn to_bytes(&self) -> Bytes {
                self.0.to_bytes()
            }
            fn resource_skeleton(&self) -> Option<(Vec<Self>, Self::Request)> {
                self.0.resource_skeleton().map(|(parts, req)| (parts.into_iter().map($name).collect(), req))
            }
        }
    };
}

wire_signal!(
    /// A batch of spans: an `ExportTraceServiceRequest`, as received bytes or decoded, shared by reference.
    Traces,
    ExportTraceServiceRequest,
    Signal::Traces,
    resource_spans,
    crate::split::count_spans,
    crate::split::split_traces
);
wire_signal!(
    /// A batch of metric data points: an `ExportMetricsServiceRequest`, as received bytes or decoded.
    Metrics,
    ExportMetricsServiceRequest,
    Signal::Metrics,
    resource_metrics,
    crate::split::count_points,
    crate::split::split_metrics
);
wire_signal!(
    /// A batch of log records: an `ExportLogsServiceRequest`, as received bytes or decoded.
    Logs,
    ExportLogsServiceRequest,
    Signal::Logs,
    resource_logs,
    crate::split::count_log_records,
    crate::split::split_logs
);

impl Traces {
    /// `n` batches by `part(trace id)` of each span (an index below `n`; larger ones go to
    /// the last batch), for load balancing and sharding by trace. An encoded batch is split
    /// by reading the ids from its bytes, and its parts stay encoded (`wire::regroup`); a
    /// decoded one moves its spans (`walk::partition_spans`). Either way each part holds one
    /// copy of the resource and scope envelopes of its spans.
    pub fn partition_by_trace_id(self, n: usize, mut part: impl FnMut(&[u8]) -> usize) -> Vec<Traces> {
        if n <= 1 {
            return vec![self];
        }
        match self.0.partition_by_key(crate::wire::regroup::SPAN_TRACE_ID, n, &mut part) {
            Ok(parts) => parts.into_iter().map(Traces).collect(),
            Err(payload) => crate::walk::partition_spans(payload.into_request(), n, |_, s| part(&s.trace_id))
                .into_iter()
                .map(Traces::from_request)
                .collect(),
        }
    }
}

impl Logs {
    /// `n` batches by `part(trace id)` of each log record (empty for records outside a
    /// trace); as [`Traces::partition_by_trace_id`].
    pub fn partition_by_trace_id(self, n: usize, mut part: impl FnMut(&[u8]) -> usize) -> Vec<Logs> {
        if n <= 1 {
            return vec![self];
        }
        match self.0.partition_by_key(crate::wire::regroup::LOG_TRACE_ID, n, &mut part) {
            Ok(parts) => parts.into_iter().map(Logs).collect(),
            Err(payload) => crate::walk::partition_log_records(payload.into_request(), n, |_, l| part(&l.trace_id))
                .into_iter()
                .map(Logs::from_request)
                .collect(),
        }
    }
}

/// A batch of profiles: an `ExportProfilesServiceRequest` shared by reference (pass-through,
/// always decoded: profiles are rare and share a dictionary per request).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profiles(Arc<ExportProfilesServiceRequest>);

impl From<ExportProfilesServiceRequest> for Profiles {
    fn from(req: ExportProfilesServiceRequest) -> Self {
        Profiles(Arc::new(req))
    }
}

impl SignalData for Profiles {
    type Request = ExportProfilesServiceRequest;
    const SIGNAL: Signal = Signal::Profiles;
    fn from_request(req: Self::Request) -> Self {
        req.into()
    }
    fn from_encoded(bytes: Bytes) -> Result<Self, DecodeError> {
        Ok(ExportProfilesServiceRequest::decode(bytes)?.into())
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
