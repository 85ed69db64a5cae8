//! From a batch to Kafka messages, as the Collector builds them: the topic (from client
//! metadata, a resource attribute, or the signal's topic), the message key (from client
//! metadata, the trace id, or a hash of the resource attributes) with one message per
//! (topic, key) group, the value (`otlp_proto`, `otlp_json`, or for logs `raw`), and groups
//! too large for `producer.max_message_bytes` split in two until they fit.

use std::hash::Hash;

use prost::Message;
use sha1::{Digest, Sha1};
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::ExportError;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::value::{hex_id_if_set, write_json_value, JsonEscape};
use switchyard_pdata::walk;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, Traces};

use super::config::{ExportEncoding, KafkaExporterConfig};
use crate::otlp_signal::OtlpSignal;

/// One message to produce.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Topic.
    pub topic: String,
    /// Message key; `None` lets the partitioner choose.
    pub key: Option<Vec<u8>>,
    /// Message value.
    pub value: Vec<u8>,
}

/// The messages of one batch, and the items that cannot be sent because a single one is
/// larger than `max_message_bytes`.
#[derive(Debug, Default)]
pub struct Marshaled {
    /// Messages, in order.
    pub records: Vec<Record>,
    /// Items left out (each alone over the limit).
    pub dropped_items: usize,
    /// The largest encoded size of what was left out.
    pub dropped_largest: usize,
}

/// What the exporter does with each signal's batches, from the config.
#[derive(Clone, Debug)]
pub struct Plan {
    signal: Signal,
    topic: String,
    encoding: ExportEncoding,
    topic_from_metadata_key: String,
    message_key_from_metadata_key: String,
    topic_from_attribute: String,
    partition_by_trace_id: bool,
    partition_by_resource: bool,
    max_message_bytes: usize,
}

impl Plan {
    /// The plan for `signal`; `Err` if the encoding does not suit it.
    pub fn new(cfg: &KafkaExporterConfig, signal: Signal) -> Result<Plan, String> {
        let s = cfg.signal(signal);
        let (by_trace, by_resource) = match signal {
            Signal::Traces => (cfg.partition_traces_by_id, false),
            Signal::Metrics => (false, cfg.partition_metrics_by_resource_attributes),
            Signal::Logs => (cfg.partition_logs_by_trace_id, cfg.partition_logs_by_resource_attributes),
            Signal::Profiles => (false, false),
        };
        let encoding = cfg.encoding_for(signal).map_err(|e| format!("{signal}::encoding: {e}"))?;
        Ok(Plan {
            signal,
            topic: cfg.topic_for(signal),
            encoding,
            topic_from_metadata_key: s.topic_from_metadata_key.clone(),
            message_key_from_metadata_key: s.message_key_from_metadata_key.clone(),
            topic_from_attribute: cfg.topic_from_attribute.clone(),
            partition_by_trace_id: by_trace,
            partition_by_resource: by_resource,
            max_message_bytes: cfg.producer.max_message_bytes.min(usize::MAX as u64) as usize,
        })
    }

    /// `producer.max_message_bytes`.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// The messages for one batch. `header_bytes`: the size of the headers every message
    /// carries, counted against `max_message_bytes` with the key and the value.
    pub fn marshal<S: KafkaData>(
        &self,
        cx: &RequestContext,
        data: &S,
        header_bytes: usize,
    ) -> Result<Marshaled, ExportError> {
        debug_assert_eq!(S::SIGNAL, self.signal);
        let mut out = Marshaled::default();
        for (topic, group) in self.topic_groups(cx, data) {
            for (key, part) in self.key_groups(cx, group) {
                match self.encoding {
                    ExportEncoding::Raw => self.raw(&topic, &key, &part, header_bytes, &mut out),
                    _ => self.encode_limited(&topic, &key, part, header_bytes, &mut out)?,
                }
            }
        }
        Ok(out)
    }

    /// Topic priority: `<signal>.topic_from_metadata_key`, `topic_from_attribute` (one group
    /// per value), then the signal's topic.
    fn topic_groups<S: KafkaData>(&self, cx: &RequestContext, data: &S) -> Vec<(String, S)> {
        if let Some(t) = metadata_value(cx, &self.topic_from_metadata_key) {
            return vec![(t.to_string(), data.clone())];
        }
        if self.topic_from_attribute.is_empty() {
            return vec![(self.topic.clone(), data.clone())];
        }
        let attr = self.topic_from_attribute.as_str();
        // Grouping moves items, so it takes a copy of the shared batch (as many bytes as
        // the per-resource clones it replaced).
        let groups = S::group_by_resource(data.clone().into_request(), |attrs| {
            attrs::get_str(attrs, attr).filter(|s| !s.is_empty()).map(str::to_string)
        });
        if groups.len() == 1 {
            let topic = groups.into_iter().next().and_then(|(k, _)| k).unwrap_or_else(|| self.topic.clone());
            return vec![(topic, data.clone())];
        }
        groups.into_iter().map(|(k, r)| (k.unwrap_or_else(|| self.topic.clone()), S::from_request(r))).collect()
    }

    /// Key priority: `<signal>.message_key_from_metadata_key`, then the partition flag.
    fn key_groups<S: KafkaData>(&self, cx: &RequestContext, data: S) -> Vec<(Option<Vec<u8>>, S)> {
        if !self.message_key_from_metadata_key.is_empty() {
            let key = metadata_value(cx, &self.message_key_from_metadata_key).map(|k| k.as_bytes().to_vec());
            return vec![(key, data)];
        }
        if self.partition_by_trace_id {
            let groups = S::group_by_trace_id(data.into_request());
            return groups.into_iter().map(|(id, r)| (trace_id_key(&id), S::from_request(r))).collect();
        }
        if self.partition_by_resource {
            let groups = S::group_by_resource(data.into_request(), resource_hash);
            return groups.into_iter().map(|(h, r)| (Some(h.to_vec()), S::from_request(r))).collect();
        }
        vec![(None, data)]
    }

    /// Encodes a group; a group over the limit is split in two (by items) until each part
    /// fits. A single item over the limit is left out and counted.
    fn encode_limited<S: KafkaData>(
        &self,
        topic: &str,
        key: &Option<Vec<u8>>,
        data: S,
        header_bytes: usize,
        out: &mut Marshaled,
    ) -> Result<(), ExportError> {
        let limit = self.max_message_bytes.saturating_sub(header_bytes + key.as_ref().map_or(0, Vec::len));
        let (value, size) = match self.encoding {
            ExportEncoding::OtlpJson => {
                let v = S::encode_json(data.request()).map_err(ExportError::permanent)?;
                let n = v.len();
                ((n <= limit).then_some(v), n)
            }
            _ => {
                let n = data.encoded_len();
                // The received bytes when nobody changed the batch.
                let encode = || {
                    let mut v = Vec::with_capacity(n);
                    data.encode_to(&mut v);
                    v
                };
                ((n <= limit).then(encode), n)
            }
        };
        if let Some(value) = value {
            out.records.push(Record { topic: topic.to_string(), key: key.clone(), value });
            return Ok(());
        }
        let items = data.item_count();
        if items > 1 && S::SIGNAL != Signal::Profiles {
            let mut rest = data;
            let front = rest.split_off_front(items / 2);
            self.encode_limited(topic, key, front, header_bytes, out)?;
            return self.encode_limited(topic, key, rest, header_bytes, out);
        }
        out.dropped_items += items;
        out.dropped_largest = out.dropped_largest.max(size);
        Ok(())
    }

    /// `raw` (logs): one message per record with a non-empty body.
    fn raw<S: KafkaData>(
        &self,
        topic: &str,
        key: &Option<Vec<u8>>,
        data: &S,
        header_bytes: usize,
        out: &mut Marshaled,
    ) {
        let limit = self.max_message_bytes.saturating_sub(header_bytes + key.as_ref().map_or(0, Vec::len));
        for body in S::bodies(data.request()) {
            let value = raw_body(body);
            if value.is_empty() {
                continue;
            }
            if value.len() > limit {
                out.dropped_items += 1;
                out.dropped_largest = out.dropped_largest.max(value.len());
                continue;
            }
            out.records.push(Record { topic: topic.to_string(), key: key.clone(), value });
        }
    }
}

fn metadata_value<'a>(cx: &'a RequestContext, key: &str) -> Option<&'a str> {
    if key.is_empty() {
        return None;
    }
    cx.metadata_values(key).into_iter().find(|v| !v.is_empty())
}

/// The key of a trace: its id in lowercase hex (32 characters); none for an unset id.
pub fn trace_id_key(id: &[u8]) -> Option<Vec<u8>> {
    hex_id_if_set(id).map(String::into_bytes)
}

/// 16 bytes identifying a resource's attributes, whatever their order: SHA-1 over the
/// attributes sorted by key. Equal attribute sets give equal keys (so the same partition);
/// the bytes differ from the Collector's (xxhash), so the partition may too.
pub fn resource_hash(attrs: &[KeyValue]) -> [u8; 16] {
    let mut sorted: Vec<&KeyValue> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut h = Sha1::new();
    for kv in sorted {
        h.update((kv.key.len() as u64).to_le_bytes());
        h.update(kv.key.as_bytes());
        let v = kv.value.as_ref().map(Message::encode_to_vec).unwrap_or_default();
        h.update((v.len() as u64).to_le_bytes());
        h.update(&v);
    }
    let digest = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// A `raw` message value: bytes as they are; any other body as Go's `json.Marshal` of
/// its `AsRaw()` (a string body becomes a JSON string, quotes included, as in the
/// Collector); an empty body gives nothing.
pub fn raw_body(body: Option<&AnyValue>) -> Vec<u8> {
    match body.and_then(|b| b.value.as_ref().map(|v| (b, v))) {
        None => Vec::new(),
        Some((_, any_value::Value::BytesValue(b))) => b.clone(),
        Some((body, _)) => {
            let mut out = String::new();
            write_json_value(&mut out, body, JsonEscape::Html);
            out.into_bytes()
        }
    }
}

/// What partitioning needs from each signal's request. Grouping takes the request by value
/// and moves items into the groups (pdata's `walk::split_*`), copying only envelopes.
pub trait KafkaData: OtlpSignal {
    /// The request split by resource, one group per `key(resource attributes)`, in the
    /// order keys first appear.
    fn group_by_resource<K: Eq + Hash>(
        req: Self::Request,
        key: impl FnMut(&[KeyValue]) -> K,
    ) -> Vec<(K, Self::Request)>;

    /// The request split per trace id (spans, or log records), envelopes kept. Signals
    /// without trace ids give one group with an empty id (no key).
    fn group_by_trace_id(req: Self::Request) -> Vec<(Vec<u8>, Self::Request)> {
        vec![(Vec::new(), req)]
    }

    /// Log record bodies (logs only).
    fn bodies(_req: &Self::Request) -> Vec<Option<&AnyValue>> {
        Vec::new()
    }
}

fn attrs_of(r: &Option<Resource>) -> &[KeyValue] {
    r.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[])
}

impl KafkaData for Traces {
    fn group_by_resource<K: Eq + Hash>(
        req: Self::Request,
        mut key: impl FnMut(&[KeyValue]) -> K,
    ) -> Vec<(K, Self::Request)> {
        walk::split_traces_by_resource(req, |r| key(attrs_of(&r.resource)))
    }

    fn group_by_trace_id(req: Self::Request) -> Vec<(Vec<u8>, Self::Request)> {
        walk::split_traces_by_trace_id(req)
    }
}

impl KafkaData for Metrics {
    fn group_by_resource<K: Eq + Hash>(
        req: Self::Request,
        mut key: impl FnMut(&[KeyValue]) -> K,
    ) -> Vec<(K, Self::Request)> {
        walk::split_metrics_by_resource(req, |r| key(attrs_of(&r.resource)))
    }
}

impl KafkaData for Logs {
    fn group_by_resource<K: Eq + Hash>(
        req: Self::Request,
        mut key: impl FnMut(&[KeyValue]) -> K,
    ) -> Vec<(K, Self::Request)> {
        walk::split_logs_by_resource(req, |r| key(attrs_of(&r.resource)))
    }

    fn group_by_trace_id(req: Self::Request) -> Vec<(Vec<u8>, Self::Request)> {
        walk::split_logs_by_trace_id(req)
    }

    fn bodies(req: &Self::Request) -> Vec<Option<&AnyValue>> {
        walk::log_records(req).map(|l| l.log.body.as_ref()).collect()
    }
}

impl KafkaData for Profiles {
    /// Profiles share one dictionary per request: not split; the first resource decides.
    fn group_by_resource<K: Eq + Hash>(
        req: ExportProfilesServiceRequest,
        mut key: impl FnMut(&[KeyValue]) -> K,
    ) -> Vec<(K, ExportProfilesServiceRequest)> {
        let k = key(req.resource_profiles.first().map(|r| attrs_of(&r.resource)).unwrap_or(&[]));
        vec![(k, req)]
    }
}
