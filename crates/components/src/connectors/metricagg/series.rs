//! Series: one aggregate (a count, a histogram) per distinct attribute set, in the order
//! the sets were first seen, with what the Collector's span-derived metrics keep beside the
//! number: the start time (first observation), the last time it was updated (for
//! `series_expiration` / stale-series cleanup), the exemplars of the current flush period,
//! and whether it was ever reported (a new counter is reported as 0 first).
//!
//! A [`SeriesMap`] enforces `aggregation_cardinality_limit` as the Collector does: once the
//! map holds the limit, a new attribute set goes to one overflow series whose only attribute
//! is `otel.metric.overflow = true` (the OpenTelemetry SDK's overflow convention).

use std::mem::size_of;

use indexmap::IndexMap;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};

/// The attribute of the overflow series (and its key in the map).
pub const OVERFLOW_KEY: &str = "otel.metric.overflow";

/// Appends one part of a series key: parts are separated by NUL, which attribute values
/// almost never contain (the Collector joins its keys the same way).
pub fn key_part(buf: &mut String, part: &str) {
    if !buf.is_empty() {
        buf.push('\0');
    }
    buf.push_str(part);
}

/// An exemplar waiting for the next flush: the span it came from and the value it recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// The span's trace id.
    pub trace_id: Vec<u8>,
    /// The span's id.
    pub span_id: Vec<u8>,
    /// The value recorded (a duration in the histogram's unit).
    pub value: f64,
}

/// One series: its attributes and aggregate, plus the bookkeeping the flush needs.
#[derive(Clone, Debug)]
pub struct Series<V> {
    /// The data point attributes, in the order they are emitted.
    pub attributes: Vec<KeyValue>,
    /// The aggregate.
    pub value: V,
    /// When the series was created (Unix nanoseconds): the cumulative start time.
    pub start_unix_nano: u64,
    /// When it was last updated (Unix nanoseconds).
    pub last_seen_unix_nano: u64,
    /// Exemplars recorded since the last flush.
    pub exemplars: Vec<Exemplar>,
    /// Whether a flush has reported it yet.
    pub reported: bool,
}

impl<V> Series<V> {
    /// Records an exemplar unless the series already holds `max` of them this period.
    pub fn add_exemplar(&mut self, max: Option<usize>, trace_id: &[u8], span_id: &[u8], value: f64) {
        if max.is_some_and(|m| self.exemplars.len() >= m) {
            return;
        }
        self.exemplars.push(Exemplar { trace_id: trace_id.to_vec(), span_id: span_id.to_vec(), value });
    }
}

/// Series by key, in first-seen order, with a cardinality limit (0 = none).
#[derive(Clone, Debug)]
pub struct SeriesMap<V> {
    series: IndexMap<Box<str>, Series<V>>,
    cardinality_limit: usize,
    /// Approximate heap bytes of the keys and attributes (the values' own size is added by
    /// [`SeriesMap::approx_bytes`]).
    bytes: usize,
}

impl<V> SeriesMap<V> {
    /// An empty map; `cardinality_limit` 0 means unlimited.
    pub fn new(cardinality_limit: usize) -> Self {
        SeriesMap { series: IndexMap::new(), cardinality_limit, bytes: 0 }
    }

    /// The series for `key`, created with `attributes()` and `init()` if new; returns it and
    /// whether the limit sent the data to the overflow series instead (the Collector then
    /// records no exemplar). `now` becomes its last-seen time (and start time if new).
    pub fn entry(
        &mut self,
        key: &str,
        now: u64,
        attributes: impl FnOnce() -> Vec<KeyValue>,
        init: impl FnOnce() -> V,
    ) -> (&mut Series<V>, bool) {
        if let Some(i) = self.series.get_index_of(key) {
            return (self.touch(i, now), false);
        }
        let overflow = self.cardinality_limit > 0 && self.series.len() >= self.cardinality_limit;
        let key = if overflow { OVERFLOW_KEY } else { key };
        if let Some(i) = self.series.get_index_of(key) {
            return (self.touch(i, now), overflow);
        }
        let attributes = if overflow { vec![overflow_attribute()] } else { attributes() };
        self.bytes += key.len() + attributes.iter().map(attribute_bytes).sum::<usize>();
        let series = Series {
            attributes,
            value: init(),
            start_unix_nano: now,
            last_seen_unix_nano: now,
            exemplars: Vec::new(),
            reported: false,
        };
        let (i, _) = self.series.insert_full(key.into(), series);
        (&mut self.series[i], overflow)
    }

    fn touch(&mut self, i: usize, now: u64) -> &mut Series<V> {
        let s = &mut self.series[i];
        s.last_seen_unix_nano = s.last_seen_unix_nano.max(now);
        s
    }

    /// The series, in first-seen order, with their keys.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Series<V>)> {
        self.series.iter().map(|(k, s)| (k.as_ref(), s))
    }

    /// The series, mutable (to mark them reported).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Series<V>)> {
        self.series.iter_mut().map(|(k, s)| (k.as_ref(), s))
    }

    /// How many series there are.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Drops every series (delta temporality after a flush).
    pub fn clear(&mut self) {
        self.series.clear();
        self.bytes = 0;
    }

    /// Drops the exemplars of every series (they belong to one flush period).
    pub fn clear_exemplars(&mut self) {
        for s in self.series.values_mut() {
            s.exemplars.clear();
        }
    }

    /// Drops the series last updated at or before `cutoff` (Unix nanoseconds); returns how many.
    pub fn expire(&mut self, cutoff: u64) -> usize {
        let before = self.series.len();
        let mut freed = 0;
        self.series.retain(|k, s| {
            let keep = s.last_seen_unix_nano > cutoff;
            if !keep {
                freed += k.len() + s.attributes.iter().map(attribute_bytes).sum::<usize>();
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
        before - self.series.len()
    }

    /// Approximate bytes held: keys, attributes and the series themselves, with
    /// `value_heap` the heap bytes of one value beyond its inline size.
    pub fn approx_bytes(&self, value_heap: impl Fn(&V) -> usize) -> usize {
        self.bytes
            + self.series.len() * (size_of::<Series<V>>() + 16)
            + self.series.values().map(|s| value_heap(&s.value) + s.exemplars.len() * 48).sum::<usize>()
    }
}

fn overflow_attribute() -> KeyValue {
    KeyValue {
        key: OVERFLOW_KEY.into(),
        value: Some(AnyValue { value: Some(any_value::Value::BoolValue(true)) }),
        ..Default::default()
    }
}

/// Rough heap size of one attribute (key, string value, and the value's enum).
fn attribute_bytes(kv: &KeyValue) -> usize {
    let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.len(),
        Some(any_value::Value::BytesValue(b)) => b.len(),
        Some(any_value::Value::ArrayValue(_) | any_value::Value::KvlistValue(_)) => 64,
        _ => 0,
    };
    kv.key.len() + value + size_of::<KeyValue>() + size_of::<AnyValue>()
}
