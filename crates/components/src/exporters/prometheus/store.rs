//! The series the exporter serves: the latest point of every series, as the Collector's
//! `accumulator.go` keeps them. Cumulative points replace older ones (a point older than
//! the one held is ignored); monotonic delta sums and delta histograms are added up when
//! each point starts where the last ended; a point flagged "no recorded value" removes its
//! series; non-monotonic delta sums and unspecified temporality are dropped (counted).
//!
//! Points are translated (names, labels) outside the lock; the lock is held only to merge
//! them and, on a scrape, to take a snapshot (reference-counted series) that is then
//! formatted without it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric::Data, number_data_point, AggregationTemporality, Exemplar as OtlpExemplar, Metric,
};
use switchyard_pdata::attrs::value_of;
use switchyard_pdata::value::{as_string, hex_id};

use crate::exporters::prometheus_translate::{
    attribute_labels, identity_labels, is_service_attribute, metric_name, promoted_labels, scope_labels, series_labels,
    Label, NameKind,
};

/// `DataPointFlags.FLAG_NO_RECORDED_VALUE`.
const NO_RECORDED_VALUE: u32 = 1;
/// The metadata key the prometheus receiver sets to the original metric type.
const PROMETHEUS_TYPE_KEY: &str = "prometheus.type";

/// The Prometheus type of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Monotonic sum.
    Counter,
    /// Gauge, non-monotonic sum.
    Gauge,
    /// Explicit-bucket or exponential histogram.
    Histogram,
    /// Summary.
    Summary,
    /// A gauge scraped from an untyped Prometheus metric.
    Untyped,
}

/// A series' value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Gauge or counter.
    Number(f64),
    /// Bucket counts per bound (not cumulative; one more count than bounds). An
    /// exponential histogram has no bounds here: only `+Inf`, sum and count are served.
    Histogram {
        /// Observations.
        count: u64,
        /// Their sum.
        sum: f64,
        /// Upper bounds.
        bounds: Vec<f64>,
        /// Per-bucket counts.
        counts: Vec<u64>,
    },
    /// Quantiles, sum and count.
    Summary {
        /// Observations.
        count: u64,
        /// Their sum.
        sum: f64,
        /// `(quantile, value)`.
        quantiles: Vec<(f64, f64)>,
    },
}

/// An exemplar: `trace_id`/`span_id` labels, value, time.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Labels, sorted.
    pub labels: Vec<Label>,
    /// Measured value.
    pub value: f64,
    /// Unix nanoseconds.
    pub time_ns: u64,
}

/// A resource that has both `job` and `instance`: it gets a `target_info` series.
#[derive(Debug, PartialEq)]
pub struct Target {
    /// `job` and `instance` (what target_info is deduplicated by).
    pub key: (String, String),
    /// The resource's other attributes plus `job` and `instance`, sorted.
    pub labels: Vec<Label>,
}

/// One series as served.
#[derive(Clone, Debug)]
pub struct Series {
    /// Family name (`__name__`, or the base of `_bucket`/`_sum`/`_count`).
    pub name: String,
    /// Family type.
    pub kind: Kind,
    /// Family help (the metric's description).
    pub help: String,
    /// Labels without `__name__`, sorted.
    pub labels: Vec<Label>,
    /// The latest (or accumulated) value.
    pub value: Value,
    /// Start of the accumulation, Unix nanoseconds.
    pub start_ns: u64,
    /// Time of the value, Unix nanoseconds.
    pub time_ns: u64,
    /// The latest point's exemplars (counters and histograms).
    pub exemplars: Vec<Exemplar>,
    /// Its resource's target, if it has one.
    pub target: Option<Arc<Target>>,
    /// When it was last updated (for `metric_expiration`).
    pub updated: Instant,
}

/// How names and labels are made (from the config).
#[derive(Clone, Debug, Default)]
pub struct Translation {
    /// Metric name prefix.
    pub namespace: String,
    /// Unit and type suffixes.
    pub suffixes: bool,
    /// `const_labels`.
    pub const_labels: Vec<Label>,
    /// `resource_to_telemetry_conversion.enabled`.
    pub resource_to_telemetry: bool,
}

/// What one request did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Points stored.
    pub stored: usize,
    /// Points dropped: delta non-monotonic sums, unspecified temporality, nameless metrics.
    pub unsupported: usize,
    /// Delta points that neither continue nor follow the series held (the Collector's "misaligned").
    pub misaligned: usize,
    /// The first reason for a drop, for the log.
    pub first_drop: Option<String>,
}

/// A point's update to the store. Nearly every update is a `Put`: boxing it to shrink the
/// rare `Remove` would cost an allocation per point.
#[allow(clippy::large_enum_variant)]
enum Update {
    Put { series: Series, delta: bool },
    Remove,
}

type Key = (String, Vec<Label>);

/// The series store.
pub struct Store {
    tr: Translation,
    expiration: Duration,
    series: Mutex<BTreeMap<Key, Arc<Series>>>,
}

impl Store {
    /// An empty store.
    pub fn new(tr: Translation, expiration: Duration) -> Store {
        Store { tr, expiration, series: Mutex::new(BTreeMap::new()) }
    }

    /// Merges a request's points.
    pub fn accumulate(&self, req: &ExportMetricsServiceRequest) -> Outcome {
        let mut out = Outcome::default();
        let updates = self.translate(req, &mut out);
        if updates.is_empty() {
            return out;
        }
        let mut map = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, u) in updates {
            match u {
                Update::Remove => {
                    map.remove(&key);
                }
                Update::Put { series, delta } => match merge(map.get(&key).map(Arc::as_ref), series, delta) {
                    Merge::Store(s) => {
                        map.insert(key, Arc::new(s));
                        out.stored += 1;
                    }
                    Merge::Older => {}
                    Merge::Misaligned(name) => {
                        out.misaligned += 1;
                        out.first_drop.get_or_insert_with(|| {
                            format!("delta point of \"{name}\" starts before the end of the series held; dropped")
                        });
                    }
                },
            }
        }
        out
    }

    /// The live series in name and label order; expired ones are removed.
    pub fn collect(&self) -> Vec<Arc<Series>> {
        let now = Instant::now();
        let mut map = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let mut live = Vec::with_capacity(map.len());
        map.retain(|_, s| {
            let keep = now.duration_since(s.updated) <= self.expiration;
            if keep {
                live.push(s.clone());
            }
            keep
        });
        live
    }

    /// Series held, expired ones included.
    #[cfg(test)]
    pub fn series_count(&self) -> usize {
        self.series.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn translate(&self, req: &ExportMetricsServiceRequest, out: &mut Outcome) -> Vec<(Key, Update)> {
        let now = Instant::now();
        let mut updates = Vec::new();
        for rm in &req.resource_metrics {
            let attrs: &[KeyValue] = rm.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]);
            let identity = identity_labels(attrs);
            let target = target(attrs, &identity);
            let promoted = if self.tr.resource_to_telemetry { promoted_labels(attrs, false) } else { Vec::new() };
            for sm in &rm.scope_metrics {
                let mut fixed = identity.clone();
                fixed.extend(scope_labels(sm.scope.as_ref(), &sm.schema_url));
                let cx = PointCx { tr: &self.tr, promoted: &promoted, fixed: &fixed, target: &target, now };
                for m in &sm.metrics {
                    cx.metric(m, &mut updates, out);
                }
            }
        }
        updates
    }
}

/// `target_info` labels for a resource with `job` and `instance` (else none, as in the Collector).
fn target(attrs: &[KeyValue], identity: &[Label]) -> Option<Arc<Target>> {
    let job = identity.iter().find(|l| l.name == "job")?.value.clone();
    let instance = identity.iter().find(|l| l.name == "instance")?.value.clone();
    let others: Vec<KeyValue> = attrs.iter().filter(|kv| !is_service_attribute(&kv.key)).cloned().collect();
    let labels = series_labels(&others, &[], identity, &[]);
    Some(Arc::new(Target { key: (job, instance), labels }))
}

struct PointCx<'a> {
    tr: &'a Translation,
    promoted: &'a [Label],
    fixed: &'a [Label],
    target: &'a Option<Arc<Target>>,
    now: Instant,
}

impl PointCx<'_> {
    fn series(
        &self,
        name: &str,
        kind: Kind,
        m: &Metric,
        attrs: &[KeyValue],
        value: Value,
        times: (u64, u64),
    ) -> Series {
        Series {
            name: name.to_string(),
            kind,
            help: m.description.clone(),
            labels: series_labels(attrs, self.promoted, self.fixed, &self.tr.const_labels),
            value,
            start_ns: times.0,
            time_ns: times.1,
            exemplars: Vec::new(),
            target: self.target.clone(),
            updated: self.now,
        }
    }

    fn push(updates: &mut Vec<(Key, Update)>, flags: u32, s: Series, delta: bool) {
        let key = (s.name.clone(), s.labels.clone());
        if flags & NO_RECORDED_VALUE != 0 {
            updates.push((key, Update::Remove));
        } else {
            updates.push((key, Update::Put { series: s, delta }));
        }
    }

    fn metric(&self, m: &Metric, updates: &mut Vec<(Key, Update)>, out: &mut Outcome) {
        let Some(data) = &m.data else { return };
        let refuse = |out: &mut Outcome, n: usize, why: &str| {
            out.unsupported += n;
            out.first_drop.get_or_insert_with(|| format!("metric \"{}\": {why}; dropped", m.name));
        };
        if m.name.is_empty() {
            return refuse(out, points(data), "no name");
        }
        let name = |kind| metric_name(&m.name, &m.unit, kind, self.tr.suffixes, &self.tr.namespace);
        let cumulative = AggregationTemporality::Cumulative as i32;
        let delta = AggregationTemporality::Delta as i32;
        match data {
            Data::Gauge(g) => {
                let untyped =
                    m.metadata.iter().any(|kv| kv.key == PROMETHEUS_TYPE_KEY && as_string(value_of(kv)) == "unknown");
                let kind = if untyped { Kind::Untyped } else { Kind::Gauge };
                let n = name(NameKind::Gauge);
                for p in &g.data_points {
                    let s = self.series(
                        &n,
                        kind,
                        m,
                        &p.attributes,
                        number(&p.value),
                        (p.start_time_unix_nano, p.time_unix_nano),
                    );
                    Self::push(updates, p.flags, s, false);
                }
            }
            Data::Sum(sum) => {
                let t = sum.aggregation_temporality;
                if t != cumulative && t != delta {
                    return refuse(out, sum.data_points.len(), "unspecified aggregation temporality");
                }
                if t == delta && !sum.is_monotonic {
                    return refuse(out, sum.data_points.len(), "a non-monotonic delta sum cannot be made cumulative");
                }
                let (kind, nk) =
                    if sum.is_monotonic { (Kind::Counter, NameKind::Counter) } else { (Kind::Gauge, NameKind::Other) };
                let n = name(nk);
                for p in &sum.data_points {
                    let mut s = self.series(
                        &n,
                        kind,
                        m,
                        &p.attributes,
                        number(&p.value),
                        (p.start_time_unix_nano, p.time_unix_nano),
                    );
                    if kind == Kind::Counter {
                        s.exemplars = exemplars(&p.exemplars);
                    }
                    Self::push(updates, p.flags, s, t == delta);
                }
            }
            Data::Histogram(h) => {
                let t = h.aggregation_temporality;
                if t != cumulative && t != delta {
                    return refuse(out, h.data_points.len(), "unspecified aggregation temporality");
                }
                let n = name(NameKind::Other);
                for p in &h.data_points {
                    let v = Value::Histogram {
                        count: p.count,
                        sum: p.sum.unwrap_or(0.0),
                        bounds: p.explicit_bounds.clone(),
                        counts: p.bucket_counts.clone(),
                    };
                    let mut s = self.series(
                        &n,
                        Kind::Histogram,
                        m,
                        &p.attributes,
                        v,
                        (p.start_time_unix_nano, p.time_unix_nano),
                    );
                    s.exemplars = exemplars(&p.exemplars);
                    Self::push(updates, p.flags, s, t == delta);
                }
            }
            Data::ExponentialHistogram(h) => {
                let t = h.aggregation_temporality;
                if t != cumulative && t != delta {
                    return refuse(out, h.data_points.len(), "unspecified aggregation temporality");
                }
                let n = name(NameKind::Other);
                for p in &h.data_points {
                    let v = Value::Histogram {
                        count: p.count,
                        sum: p.sum.unwrap_or(0.0),
                        bounds: Vec::new(),
                        counts: Vec::new(),
                    };
                    let s = self.series(
                        &n,
                        Kind::Histogram,
                        m,
                        &p.attributes,
                        v,
                        (p.start_time_unix_nano, p.time_unix_nano),
                    );
                    Self::push(updates, p.flags, s, t == delta);
                }
            }
            Data::Summary(sm) => {
                let n = name(NameKind::Other);
                for p in &sm.data_points {
                    let v = Value::Summary {
                        count: p.count,
                        sum: p.sum,
                        quantiles: p.quantile_values.iter().map(|q| (q.quantile, q.value)).collect(),
                    };
                    let s =
                        self.series(&n, Kind::Summary, m, &p.attributes, v, (p.start_time_unix_nano, p.time_unix_nano));
                    Self::push(updates, p.flags, s, false);
                }
            }
        }
    }
}

fn points(data: &Data) -> usize {
    match data {
        Data::Gauge(g) => g.data_points.len(),
        Data::Sum(s) => s.data_points.len(),
        Data::Histogram(h) => h.data_points.len(),
        Data::ExponentialHistogram(h) => h.data_points.len(),
        Data::Summary(s) => s.data_points.len(),
    }
}

fn number(v: &Option<number_data_point::Value>) -> Value {
    Value::Number(match v {
        Some(number_data_point::Value::AsDouble(d)) => *d,
        Some(number_data_point::Value::AsInt(i)) => *i as f64,
        None => 0.0,
    })
}

fn exemplars(list: &[OtlpExemplar]) -> Vec<Exemplar> {
    list.iter()
        .map(|e| {
            let mut labels = attribute_labels(&e.filtered_attributes, 2);
            if !e.trace_id.is_empty() {
                labels.retain(|l| l.name != "trace_id");
                labels.push(Label::new("trace_id", hex_id(&e.trace_id)));
            }
            if !e.span_id.is_empty() {
                labels.retain(|l| l.name != "span_id");
                labels.push(Label::new("span_id", hex_id(&e.span_id)));
            }
            labels.retain(|l| !l.value.is_empty() && !l.name.is_empty());
            labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            let value = match e.value {
                Some(exemplar::Value::AsDouble(d)) => d,
                Some(exemplar::Value::AsInt(i)) => i as f64,
                None => 0.0,
            };
            Exemplar { labels, value, time_ns: e.time_unix_nano }
        })
        .collect()
}

enum Merge {
    Store(Series),
    Older,
    Misaligned(String),
}

/// The Collector's rules for a new point against the series held.
fn merge(held: Option<&Series>, mut new: Series, delta: bool) -> Merge {
    let Some(old) = held else { return Merge::Store(new) };
    if !delta {
        return if new.time_ns < old.time_ns { Merge::Older } else { Merge::Store(new) };
    }
    match (&mut new.value, &old.value) {
        (Value::Number(v), Value::Number(o)) => {
            if new.time_ns < old.time_ns {
                return Merge::Older;
            }
            // A delta continuing the series is added to it; one that does not restarts it.
            if new.start_ns == old.time_ns {
                *v += o;
                new.start_ns = old.start_ns;
            }
            Merge::Store(new)
        }
        (
            Value::Histogram { count, sum, bounds, counts },
            Value::Histogram { count: oc, sum: os, bounds: ob, counts: ocs },
        ) => {
            if new.start_ns != old.time_ns {
                // Starting after the held point: a reset; before it: overlapping writers.
                return if new.start_ns > old.time_ns { Merge::Store(new) } else { Merge::Misaligned(new.name) };
            }
            // Bounds that changed: the newer point alone (as the Collector).
            if bounds == ob && counts.len() == ocs.len() {
                *count += oc;
                *sum += os;
                for (c, o) in counts.iter_mut().zip(ocs) {
                    *c += o;
                }
            }
            new.start_ns = old.start_ns;
            Merge::Store(new)
        }
        // The kind changed under the same name and labels: the newer point wins.
        _ => Merge::Store(new),
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
pub(crate) mod tests;
