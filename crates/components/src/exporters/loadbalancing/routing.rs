//! Which backend each item goes to: the routing key of every span, log record or metric,
//! hashed onto the ring, and the request split into one part per backend. Trace ids of a
//! batch still encoded are read from its bytes and the parts are written as bytes
//! (`Traces::partition_by_trace_id`), so forwarding by trace id decodes nothing; other keys
//! move items into their part (`pdata::walk::partition_*`), copying only the envelopes.
//! Keys read from the resource alone (`service`, `resource`) move whole resources; on a batch
//! still encoded they read the resource envelopes alone and each part keeps the received
//! bytes of its resources. Consecutive spans of one trace reuse the last lookup. `streamID`
//! routes each data point, cutting a metric whose points belong to streams on different
//! backends into one copy of its envelope per backend.

use std::hash::Hasher;

use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs};
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::{Metric, ResourceMetrics};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, Span};
use switchyard_pdata::value::as_string;
use switchyard_pdata::{walk, Logs, Metrics, Signal, SignalData, Traces};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::config::RoutingKey;
use super::ring::Ring;
use crate::otlp_signal::OtlpSignal;

/// The routing key and, for `attributes`, which ones.
#[derive(Clone, Debug)]
pub struct Router {
    pub key: RoutingKey,
    pub attributes: Vec<String>,
}

impl Router {
    /// The router for `signal` from `routing_key` (empty = the signal's default) and
    /// `routing_attributes`, or why that key cannot route this signal.
    pub fn new(signal: Signal, routing_key: &str, attributes: &[String]) -> Result<Router, String> {
        let key = match RoutingKey::parse(routing_key) {
            Some(k) => k,
            None if routing_key.is_empty() => match signal {
                Signal::Metrics => RoutingKey::Service,
                _ => RoutingKey::TraceId,
            },
            None => return Err(format!("unknown routing_key \"{routing_key}\"")),
        };
        let ok = match key {
            RoutingKey::Service => true,
            RoutingKey::TraceId => matches!(signal, Signal::Traces | Signal::Logs),
            RoutingKey::Attributes => matches!(signal, Signal::Traces | Signal::Logs),
            RoutingKey::Resource | RoutingKey::Metric | RoutingKey::StreamId => signal == Signal::Metrics,
        };
        if !ok {
            return Err(format!("routing_key \"{routing_key}\" cannot route {signal}"));
        }
        Ok(Router { key, attributes: attributes.to_vec() })
    }
}

/// The backend of one item, given its resource.
type ItemKey<'a, I> = Box<dyn FnMut(Option<&Resource>, &I) -> usize + 'a>;

/// A signal the load balancer can split.
pub trait Routed: OtlpSignal {
    /// One part per backend of `ring` (empty parts included, in backend order).
    fn partition(self, router: &Router, ring: &Ring) -> Vec<Self>;
}

/// The owner of the last trace id seen: the spans of one trace usually come together.
struct Memo {
    id: [u8; 16],
    owner: usize,
}

impl Memo {
    fn new() -> Memo {
        Memo { id: [0xff; 16], owner: 0 }
    }

    fn trace(&mut self, ring: &Ring, id: &[u8]) -> usize {
        if id != self.id {
            self.owner = ring.owner(id).unwrap_or(0);
            self.id = [0xff; 16];
            if let Some(dst) = self.id.get_mut(..id.len()) {
                dst.copy_from_slice(id);
            }
        }
        self.owner
    }
}

fn resource_attrs(r: Option<&Resource>) -> &[KeyValue] {
    r.map_or(&[][..], |r| r.attributes.as_slice())
}

/// `service.name`, as the Collector reads it (missing = empty).
fn service_hash(r: Option<&Resource>) -> u64 {
    xxh3_64(attrs::get(resource_attrs(r), "service.name").map(as_string).unwrap_or_default().as_bytes())
}

/// Every resource attribute, in sorted order, so equal resources hash equal.
fn resource_hash(r: Option<&Resource>) -> u64 {
    let mut h = Xxh3::new();
    write_attrs(&mut h, resource_attrs(r));
    h.finish()
}

/// `kvs` in key order, so the same set hashes the same whatever order it came in.
fn write_attrs(h: &mut Xxh3, kvs: &[KeyValue]) {
    let mut sorted: Vec<&KeyValue> = kvs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for kv in sorted {
        h.write(kv.key.as_bytes());
        h.write(&[0]);
        h.write(kv.value.as_ref().map(as_string).unwrap_or_default().as_bytes());
        h.write(&[0]);
    }
    h.write(&[1]);
}

/// What the points of one metric share of their stream identity, as the Collector's
/// `identity.Stream` has it: the resource's attributes, the scope's name, version and
/// attributes, and the metric's name, unit, type, temporality and monotonicity.
fn metric_stream_hash(r: Option<&Resource>, s: Option<&InstrumentationScope>, m: &Metric) -> u64 {
    let mut h = Xxh3::new();
    write_attrs(&mut h, resource_attrs(r));
    if let Some(s) = s {
        h.write(s.name.as_bytes());
        h.write(&[0]);
        h.write(s.version.as_bytes());
        h.write(&[0]);
        write_attrs(&mut h, &s.attributes);
    }
    h.write(m.name.as_bytes());
    h.write(&[0]);
    h.write(m.unit.as_bytes());
    h.write(&[0]);
    let (kind, temporality, monotonic) = match &m.data {
        None => (0, 0, false),
        Some(Data::Gauge(_)) => (1, 0, false),
        Some(Data::Sum(s)) => (2, s.aggregation_temporality, s.is_monotonic),
        Some(Data::Histogram(x)) => (3, x.aggregation_temporality, false),
        Some(Data::ExponentialHistogram(x)) => (4, x.aggregation_temporality, false),
        Some(Data::Summary(_)) => (5, 0, false),
    };
    h.write_u8(kind);
    h.write_i32(temporality);
    h.write_u8(u8::from(monotonic));
    h.finish()
}

/// A data point's stream: its metric's share and its own attributes.
fn stream_hash(metric: u64, point: &[KeyValue]) -> u64 {
    let mut h = Xxh3::new();
    h.write_u64(metric);
    write_attrs(&mut h, point);
    h.finish()
}

/// `routing_attributes`: `name=value|` for each, looked up on the item, then its resource,
/// then the pseudo attributes; a missing one contributes `name=|`.
fn attributes_hash(
    names: &[String],
    item: &[KeyValue],
    r: Option<&Resource>,
    pseudo: impl Fn(&str) -> Option<String>,
) -> u64 {
    let mut h = Xxh3::new();
    for n in names {
        h.write(n.as_bytes());
        h.write(b"=");
        if let Some(v) = attrs::get(item, n).or_else(|| attrs::get(resource_attrs(r), n)) {
            h.write(as_string(v).as_bytes());
        } else if let Some(v) = pseudo(n) {
            h.write(v.as_bytes());
        }
        h.write(b"|");
    }
    h.finish()
}

/// `n` parts by `owner` of each resource, for a batch still encoded: only the resource
/// envelopes are decoded (`SignalData::resource_skeleton`) and every part is the received
/// bytes of its resources, in order. `None` when the batch is decoded: partition the tree.
fn by_envelopes<S: SignalData>(
    data: &S,
    n: usize,
    resource: impl Fn(&S::Request, usize) -> Option<&Resource>,
    owner: impl Fn(Option<&Resource>) -> usize,
) -> Option<Vec<S>> {
    let (parts, skeleton) = data.resource_skeleton()?;
    let mut out: Vec<Option<S>> = (0..n).map(|_| None).collect();
    for (i, part) in parts.into_iter().enumerate() {
        let slot = &mut out[owner(resource(&skeleton, i)).min(n - 1)];
        match slot {
            // Appending encoded batches concatenates their chunks: never refused.
            Some(batch) => {
                let _ = batch.append(part);
            }
            None => *slot = Some(part),
        }
    }
    Some(out.into_iter().map(|p| p.unwrap_or_else(|| S::from_request(Default::default()))).collect())
}

fn metrics_resource(q: &ExportMetricsServiceRequest, i: usize) -> Option<&Resource> {
    q.resource_metrics[i].resource.as_ref()
}

impl Routed for Traces {
    fn partition(self, router: &Router, ring: &Ring) -> Vec<Self> {
        let n = ring.len();
        if n <= 1 {
            return vec![self];
        }
        let key: ItemKey<'_, Span> = match router.key {
            RoutingKey::TraceId => {
                // Read from the bytes when the batch is still encoded: nothing is decoded
                // and every part is forwarded as bytes.
                let mut memo = Memo::new();
                return self.partition_by_trace_id(n, |id| memo.trace(ring, id));
            }
            RoutingKey::Attributes => Box::new(|r, s| {
                let h = attributes_hash(&router.attributes, &s.attributes, r, |n| match n {
                    "span.name" => Some(s.name.clone()),
                    "span.kind" => Some(span_kind(s.kind).to_string()),
                    _ => None,
                });
                ring.owner_of_hash(h).unwrap_or(0)
            }),
            _ => {
                let owner = |r: Option<&Resource>| ring.owner_of_hash(service_hash(r)).unwrap_or(0);
                if let Some(parts) = by_envelopes(&self, n, |q, i| q.resource_spans[i].resource.as_ref(), owner) {
                    return parts;
                }
                let by = |r: &ResourceSpans| owner(r.resource.as_ref());
                return walk::partition_traces_by_resource(self.into_request(), n, by)
                    .into_iter()
                    .map(Traces::from_request)
                    .collect();
            }
        };
        walk::partition_spans(self.into_request(), n, key).into_iter().map(Traces::from_request).collect()
    }
}

/// `span.kind` as the Collector prints it.
fn span_kind(k: i32) -> &'static str {
    match k {
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "Unspecified",
    }
}

impl Routed for Logs {
    fn partition(self, router: &Router, ring: &Ring) -> Vec<Self> {
        let n = ring.len();
        if n <= 1 {
            return vec![self];
        }
        let key: ItemKey<'_, LogRecord> = match router.key {
            RoutingKey::TraceId => {
                let mut memo = Memo::new();
                // Records outside a trace have no trace id: they spread by their own position.
                let mut untraced =
                    std::hash::BuildHasher::build_hasher(&std::collections::hash_map::RandomState::new()).finish();
                return self.partition_by_trace_id(n, |id| {
                    if id.is_empty() {
                        untraced = untraced.wrapping_add(0x9E37_79B9_7F4A_7C15);
                        ring.owner_of_hash(xxh3_64(&untraced.to_le_bytes())).unwrap_or(0)
                    } else {
                        memo.trace(ring, id)
                    }
                });
            }
            RoutingKey::Attributes => Box::new(|r, l| {
                let h = attributes_hash(&router.attributes, &l.attributes, r, |n| match n {
                    "log.severity" => Some(l.severity_text.clone()),
                    "log.body" => l.body.as_ref().map(|b| as_string(b).into_owned()),
                    _ => None,
                });
                ring.owner_of_hash(h).unwrap_or(0)
            }),
            _ => {
                let owner = |r: Option<&Resource>| ring.owner_of_hash(service_hash(r)).unwrap_or(0);
                if let Some(parts) = by_envelopes(&self, n, |q, i| q.resource_logs[i].resource.as_ref(), owner) {
                    return parts;
                }
                let by = |r: &ResourceLogs| owner(r.resource.as_ref());
                return walk::partition_logs_by_resource(self.into_request(), n, by)
                    .into_iter()
                    .map(Logs::from_request)
                    .collect();
            }
        };
        walk::partition_log_records(self.into_request(), n, key).into_iter().map(Logs::from_request).collect()
    }
}

impl Routed for Metrics {
    fn partition(self, router: &Router, ring: &Ring) -> Vec<Self> {
        let n = ring.len();
        if n <= 1 {
            return vec![self];
        }
        let envelopes = match router.key {
            RoutingKey::Metric | RoutingKey::StreamId => None,
            RoutingKey::Resource => {
                by_envelopes(&self, n, metrics_resource, |r| ring.owner_of_hash(resource_hash(r)).unwrap_or(0))
            }
            _ => by_envelopes(&self, n, metrics_resource, |r| ring.owner_of_hash(service_hash(r)).unwrap_or(0)),
        };
        if let Some(parts) = envelopes {
            return parts;
        }
        let req = self.into_request();
        let parts = match router.key {
            RoutingKey::Metric => {
                walk::partition_metrics(req, n, |_, m: &Metric| ring.owner(m.name.as_bytes()).unwrap_or(0))
            }
            RoutingKey::StreamId => walk::partition_data_points(req, n, metric_stream_hash, |&m, p| {
                ring.owner_of_hash(stream_hash(m, p.attributes())).unwrap_or(0)
            }),
            RoutingKey::Resource => walk::partition_metrics_by_resource(req, n, |r: &ResourceMetrics| {
                ring.owner_of_hash(resource_hash(r.resource.as_ref())).unwrap_or(0)
            }),
            _ => walk::partition_metrics_by_resource(req, n, |r: &ResourceMetrics| {
                ring.owner_of_hash(service_hash(r.resource.as_ref())).unwrap_or(0)
            }),
        };
        parts.into_iter().map(Metrics::from_request).collect()
    }
}
