//! OTLP metrics → remote-write series (`reference/backends.md` §1.3).
//!
//! Each data point becomes one or more samples; points with the same labels (the same
//! series) are merged, their samples put in timestamp order. Labels: the point's attributes
//! (sanitized; two keys that sanitize alike are joined with `;`), `job`/`instance` from the
//! resource, `otel_scope_*`, external labels, then `__name__` and `le`/`quantile`.

use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point, AggregationTemporality,
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, SummaryDataPoint,
};
use switchyard_pdata::attrs::value_of;
use switchyard_pdata::value::{as_string, hex_id};

use super::proto::{
    BucketSpan, Exemplar, Histogram, HistogramCount, HistogramZeroCount, Label, MetricMetadata, MetricType, Sample,
    TimeSeries,
};
use crate::exporters::prometheus_translate::{
    add_absent, float_label, identity_labels, is_service_attribute, label_name, metric_name, promoted_labels,
    scope_labels, series_labels, target_info_name, NameKind,
};

/// Prometheus's staleness marker: a NaN with these exact bits ends a series.
pub const STALE_NAN: f64 = f64::from_bits(0x7ff0_0000_0000_0002);
/// `DataPointFlags.FLAG_NO_RECORDED_VALUE`.
const NO_RECORDED_VALUE: u32 = 1;
/// The zero bucket width used when a point says 0 (as the Collector).
const DEFAULT_ZERO_THRESHOLD: f64 = 1e-128;

/// How to translate (from the exporter's config).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Metric name prefix.
    pub namespace: String,
    /// Unit and type suffixes.
    pub add_suffixes: bool,
    /// Added to every series unless an attribute sets them.
    pub external_labels: Vec<Label>,
    /// Every resource attribute as a label.
    pub resource_to_telemetry: bool,
    /// ...except the service ones.
    pub exclude_service_attributes: bool,
    /// Emit `target_info`.
    pub target_info: bool,
    /// `otel_scope_*` labels.
    pub scope_info: bool,
    /// Collect metric metadata.
    pub send_metadata: bool,
}

/// Points the translation could not send, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Delta (or unspecified) temporality: Prometheus needs cumulative values.
    pub temporality: u64,
    /// Unusable points: no metric name, exponential histogram without sum or scale below -4.
    pub invalid: u64,
}

/// The result of one translation.
#[derive(Debug, Default)]
pub struct Translated {
    /// Series, each with samples in timestamp order.
    pub series: Vec<TimeSeries>,
    /// One entry per metric family (`send_metadata`).
    pub metadata: Vec<MetricMetadata>,
    /// What was dropped.
    pub dropped: Dropped,
    /// The first reason for a drop, for the log.
    pub first_drop: Option<String>,
}

#[derive(Default)]
struct Acc {
    samples: Vec<Sample>,
    exemplars: Vec<Exemplar>,
    histograms: Vec<Histogram>,
}

struct Builder<'a> {
    set: &'a Settings,
    series: HashMap<Vec<Label>, Acc>,
    metadata: HashMap<String, MetricMetadata>,
    out: Translated,
}

/// Labels that apply to every point of a scope.
struct Common {
    /// Resource attributes promoted by `resource_to_telemetry_conversion` (attributes win).
    promoted: Vec<Label>,
    /// `job`, `instance`, `otel_scope_*` (these win over attributes).
    fixed: Vec<Label>,
}

/// Translates one request.
pub fn translate(req: &ExportMetricsServiceRequest, set: &Settings) -> Translated {
    let mut b = Builder { set, series: HashMap::new(), metadata: HashMap::new(), out: Translated::default() };
    for rm in &req.resource_metrics {
        let attrs: &[KeyValue] = rm.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or(&[]);
        let identity = identity_labels(attrs);
        let promoted =
            if set.resource_to_telemetry { promoted_labels(attrs, set.exclude_service_attributes) } else { Vec::new() };
        let mut latest_ms = None::<i64>;
        for sm in &rm.scope_metrics {
            let mut fixed = identity.clone();
            if set.scope_info {
                fixed.extend(scope_labels(sm.scope.as_ref(), &sm.schema_url));
            }
            let common = Common { promoted: promoted.clone(), fixed };
            for m in &sm.metrics {
                if let Some(ts) = b.metric(m, &common) {
                    latest_ms = Some(latest_ms.map_or(ts, |l| l.max(ts)));
                }
            }
        }
        if let (true, Some(ts)) = (set.target_info, latest_ms) {
            b.target_info(attrs, &identity, ts);
        }
    }
    b.finish()
}

fn ms(ns: u64) -> i64 {
    (ns / 1_000_000) as i64
}

fn stale(flags: u32) -> bool {
    flags & NO_RECORDED_VALUE != 0
}

impl Builder<'_> {
    /// The labels every series of one point shares: attributes, resource, scope, external;
    /// sorted by name, empty values left out.
    fn point_labels(&self, attrs: &[KeyValue], common: &Common) -> Vec<Label> {
        series_labels(attrs, &common.promoted, &common.fixed, &self.set.external_labels)
    }

    /// One series' labels: the point's, plus `__name__` and `le`/`quantile` (which win).
    fn named(base: &[Label], name: &str, extra: Option<(&str, String)>) -> Vec<Label> {
        let mut labels = Vec::with_capacity(base.len() + 2);
        labels.extend_from_slice(base);
        let mut put = |k: &str, v: String| match labels.binary_search_by(|l| l.name.as_str().cmp(k)) {
            Ok(i) => labels[i].value = v,
            Err(i) => labels.insert(i, Label { name: k.to_string(), value: v }),
        };
        put("__name__", name.to_string());
        if let Some((k, v)) = extra {
            put(k, v);
        }
        labels
    }

    /// The labels of a series with only a name (no `le`/`quantile`).
    fn labels(&self, attrs: &[KeyValue], common: &Common, name: &str, extra: Option<(&str, String)>) -> Vec<Label> {
        Self::named(&self.point_labels(attrs, common), name, extra)
    }

    fn series(&mut self, labels: Vec<Label>) -> &mut Acc {
        self.series.entry(labels).or_default()
    }

    fn sample(&mut self, labels: Vec<Label>, value: f64, timestamp: i64) {
        self.series(labels).samples.push(Sample { value, timestamp });
    }

    fn drop_points(&mut self, n: usize, temporality: bool, why: impl FnOnce() -> String) {
        if n == 0 {
            return;
        }
        if temporality {
            self.out.dropped.temporality += n as u64;
        } else {
            self.out.dropped.invalid += n as u64;
        }
        if self.out.first_drop.is_none() {
            self.out.first_drop = Some(why());
        }
    }

    fn meta(&mut self, family: &str, ty: MetricType, help: &str, unit: &str) {
        if self.set.send_metadata && !self.metadata.contains_key(family) {
            self.metadata.insert(
                family.to_string(),
                MetricMetadata {
                    r#type: ty as i32,
                    metric_family_name: family.to_string(),
                    help: help.to_string(),
                    unit: unit.to_string(),
                },
            );
        }
    }

    /// Translates one metric; returns its latest point timestamp (for `target_info`).
    fn metric(&mut self, m: &opentelemetry_proto::tonic::metrics::v1::Metric, common: &Common) -> Option<i64> {
        let Some(data) = &m.data else { return None };
        // Points, and the temporality of the kinds that have one.
        let (points, temporality) = match data {
            Data::Gauge(g) => (g.data_points.len(), None),
            Data::Sum(s) => (s.data_points.len(), Some(s.aggregation_temporality)),
            Data::Histogram(h) => (h.data_points.len(), Some(h.aggregation_temporality)),
            Data::ExponentialHistogram(h) => (h.data_points.len(), Some(h.aggregation_temporality)),
            Data::Summary(s) => (s.data_points.len(), None),
        };
        if m.name.is_empty() {
            self.drop_points(points, false, || "a metric without a name".into());
            return None;
        }
        if let Some(t) = temporality.filter(|t| *t != AggregationTemporality::Cumulative as i32) {
            self.drop_points(points, true, || temporality_reason(&m.name, t));
            return None;
        }
        let (suffixes, ns) = (self.set.add_suffixes, self.set.namespace.clone());
        let name_of = |kind| metric_name(&m.name, &m.unit, kind, suffixes, &ns);
        let mut latest = None::<i64>;
        let mut seen = |ts: i64| latest = Some(latest.map_or(ts, |l: i64| l.max(ts)));
        match data {
            Data::Gauge(g) => {
                let name = name_of(NameKind::Gauge);
                self.meta(&name, MetricType::Gauge, &m.description, &m.unit);
                for p in &g.data_points {
                    seen(ms(p.time_unix_nano));
                    self.number(p, common, &name);
                }
            }
            Data::Sum(s) => {
                let (kind, ty) = if s.is_monotonic {
                    (NameKind::Counter, MetricType::Counter)
                } else {
                    (NameKind::Other, MetricType::Gauge)
                };
                let name = name_of(kind);
                self.meta(&name, ty, &m.description, &m.unit);
                for p in &s.data_points {
                    seen(ms(p.time_unix_nano));
                    self.number(p, common, &name);
                }
            }
            Data::Histogram(h) => {
                let name = name_of(NameKind::Other);
                self.meta(&name, MetricType::Histogram, &m.description, &m.unit);
                for p in &h.data_points {
                    seen(ms(p.time_unix_nano));
                    self.histogram(p, common, &name);
                }
            }
            Data::ExponentialHistogram(h) => {
                let name = name_of(NameKind::Other);
                self.meta(&name, MetricType::Histogram, &m.description, &m.unit);
                for p in &h.data_points {
                    match native_histogram(p) {
                        Some(hist) => {
                            seen(hist.timestamp);
                            let labels = self.labels(&p.attributes, common, &name, None);
                            let exemplars = exemplars(&p.exemplars);
                            let acc = self.series(labels);
                            acc.histograms.push(hist);
                            acc.exemplars.extend(exemplars);
                        }
                        None => self.drop_points(1, false, || {
                            format!(
                                "exponential histogram \"{}\": no sum, scale {} below -4, or a bucket offset out of range",
                                m.name, p.scale
                            )
                        }),
                    }
                }
            }
            Data::Summary(s) => {
                let name = name_of(NameKind::Other);
                self.meta(&name, MetricType::Summary, &m.description, &m.unit);
                for p in &s.data_points {
                    seen(ms(p.time_unix_nano));
                    self.summary(p, common, &name);
                }
            }
        }
        latest
    }

    fn number(&mut self, p: &NumberDataPoint, common: &Common, name: &str) {
        let value = if stale(p.flags) {
            STALE_NAN
        } else {
            match p.value {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => 0.0,
            }
        };
        let labels = self.labels(&p.attributes, common, name, None);
        let ex = exemplars(&p.exemplars);
        let acc = self.series(labels);
        acc.samples.push(Sample { value, timestamp: ms(p.time_unix_nano) });
        acc.exemplars.extend(ex);
    }

    fn histogram(&mut self, p: &HistogramDataPoint, common: &Common, name: &str) {
        let ts = ms(p.time_unix_nano);
        let is_stale = stale(p.flags);
        let v = |x: f64| if is_stale { STALE_NAN } else { x };
        let base = self.point_labels(&p.attributes, common);
        if let Some(sum) = p.sum {
            let labels = Self::named(&base, &format!("{name}_sum"), None);
            self.sample(labels, v(sum), ts);
        }
        let labels = Self::named(&base, &format!("{name}_count"), None);
        self.sample(labels, v(p.count as f64), ts);
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0u64;
        let mut exemplars_left: Vec<Exemplar> = exemplars(&p.exemplars);
        let mut take_exemplars = |upper: f64| {
            let (mine, rest): (Vec<_>, Vec<_>) = exemplars_left.drain(..).partition(|e: &Exemplar| e.value <= upper);
            exemplars_left = rest;
            mine
        };
        for (i, bound) in p.explicit_bounds.iter().enumerate() {
            cumulative += p.bucket_counts.get(i).copied().unwrap_or(0);
            let labels = Self::named(&base, &bucket, Some(("le", float_label(*bound))));
            let ex = take_exemplars(*bound);
            let acc = self.series(labels);
            acc.samples.push(Sample { value: v(cumulative as f64), timestamp: ts });
            acc.exemplars.extend(ex);
        }
        let labels = Self::named(&base, &bucket, Some(("le", "+Inf".into())));
        let ex = take_exemplars(f64::INFINITY);
        let acc = self.series(labels);
        acc.samples.push(Sample { value: v(p.count as f64), timestamp: ts });
        acc.exemplars.extend(ex);
    }

    fn summary(&mut self, p: &SummaryDataPoint, common: &Common, name: &str) {
        let ts = ms(p.time_unix_nano);
        let is_stale = stale(p.flags);
        let v = |x: f64| if is_stale { STALE_NAN } else { x };
        let base = self.point_labels(&p.attributes, common);
        let labels = Self::named(&base, &format!("{name}_sum"), None);
        self.sample(labels, v(p.sum), ts);
        let labels = Self::named(&base, &format!("{name}_count"), None);
        self.sample(labels, v(p.count as f64), ts);
        for q in &p.quantile_values {
            let labels = Self::named(&base, name, Some(("quantile", float_label(q.quantile))));
            self.sample(labels, v(q.value), ts);
        }
    }

    /// `target_info`: the resource's other attributes, once per resource, value 1.
    fn target_info(&mut self, attrs: &[KeyValue], identity: &[Label], ts: i64) {
        let others: Vec<KeyValue> = attrs.iter().filter(|kv| !is_service_attribute(&kv.key)).cloned().collect();
        if others.is_empty() {
            return;
        }
        let common = Common { promoted: Vec::new(), fixed: identity.to_vec() };
        let name = target_info_name(&self.set.namespace);
        let labels = self.labels(&others, &common, &name, None);
        self.sample(labels, 1.0, ts);
    }

    fn finish(mut self) -> Translated {
        self.out.series = self
            .series
            .into_iter()
            .map(|(labels, mut acc)| {
                acc.samples.sort_by_key(|s| s.timestamp);
                // Two points at one millisecond: the later wins (Prometheus refuses a second
                // value for a timestamp, and would refuse the whole request).
                acc.samples.dedup_by(|later, earlier| {
                    let same = later.timestamp == earlier.timestamp;
                    if same {
                        *earlier = *later;
                    }
                    same
                });
                acc.histograms.sort_by_key(|h| h.timestamp);
                acc.histograms.dedup_by(|later, earlier| {
                    let same = later.timestamp == earlier.timestamp;
                    if same {
                        std::mem::swap(later, earlier);
                    }
                    same
                });
                acc.exemplars.sort_by_key(|e| e.timestamp);
                TimeSeries { labels, samples: acc.samples, exemplars: acc.exemplars, histograms: acc.histograms }
            })
            .collect();
        let mut metadata: Vec<MetricMetadata> = self.metadata.into_values().collect();
        metadata.sort_by(|a, b| a.metric_family_name.cmp(&b.metric_family_name));
        self.out.metadata = metadata;
        self.out
    }
}

fn temporality_reason(name: &str, t: i32) -> String {
    let t = if t == AggregationTemporality::Delta as i32 { "delta" } else { "unspecified" };
    format!("metric \"{name}\" has {t} temporality; Prometheus needs cumulative (convert it before this exporter)")
}

/// Exemplars with `trace_id`/`span_id` labels (hex) and their filtered attributes.
fn exemplars(list: &[opentelemetry_proto::tonic::metrics::v1::Exemplar]) -> Vec<Exemplar> {
    list.iter()
        .map(|e| {
            let mut labels = Vec::with_capacity(2 + e.filtered_attributes.len());
            if !e.trace_id.is_empty() {
                labels.push(Label { name: "trace_id".into(), value: hex_id(&e.trace_id) });
            }
            if !e.span_id.is_empty() {
                labels.push(Label { name: "span_id".into(), value: hex_id(&e.span_id) });
            }
            for kv in &e.filtered_attributes {
                let l = Label { name: label_name(&kv.key), value: as_string(value_of(kv)).into_owned() };
                add_absent(&mut labels, &l);
            }
            labels.retain(|l| !l.value.is_empty());
            labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            let value = match e.value {
                Some(exemplar::Value::AsDouble(d)) => d,
                Some(exemplar::Value::AsInt(i)) => i as f64,
                None => 0.0,
            };
            Exemplar { labels, value, timestamp: ms(e.time_unix_nano) }
        })
        .collect()
}

/// An exponential histogram point as a native histogram: scale above 8 is reduced to 8
/// (buckets merged), below -4 is refused (None), as is a point without a sum or with a bucket
/// index out of range.
pub fn native_histogram(p: &ExponentialHistogramDataPoint) -> Option<Histogram> {
    let timestamp = ms(p.time_unix_nano);
    if stale(p.flags) {
        return Some(Histogram {
            count: Some(HistogramCount::CountInt(0)),
            sum: STALE_NAN,
            schema: p.scale.clamp(-4, 8),
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            zero_count: Some(HistogramZeroCount::ZeroCountInt(0)),
            timestamp,
            ..Default::default()
        });
    }
    if p.scale < -4 {
        return None;
    }
    let sum = p.sum?;
    let scale_down = (p.scale - 8).max(0) as u32;
    let (positive_spans, positive_deltas) = spans(p.positive.as_ref(), scale_down)?;
    let (negative_spans, negative_deltas) = spans(p.negative.as_ref(), scale_down)?;
    Some(Histogram {
        count: Some(HistogramCount::CountInt(p.count)),
        sum,
        schema: p.scale - scale_down as i32,
        zero_threshold: if p.zero_threshold > 0.0 { p.zero_threshold } else { DEFAULT_ZERO_THRESHOLD },
        zero_count: Some(HistogramZeroCount::ZeroCountInt(p.zero_count)),
        negative_spans,
        negative_deltas,
        positive_spans,
        positive_deltas,
        reset_hint: 0,
        timestamp,
    })
}

/// OTLP buckets (offset + dense counts; bucket `i` is `(base^i, base^(i+1)]`) as Prometheus
/// spans and deltas (bucket `i` there is `(base^(i-1), base^i]`, hence the `+ 1`). Runs of up
/// to two empty buckets stay inside a span; longer gaps start a new span. None if an index
/// leaves the i32 range (a hostile offset).
fn spans(b: Option<&Buckets>, scale_down: u32) -> Option<(Vec<BucketSpan>, Vec<i64>)> {
    let Some(b) = b else { return Some((Vec::new(), Vec::new())) };
    let mut merged: Vec<(i32, u64)> = Vec::with_capacity(b.bucket_counts.len());
    for (k, &c) in b.bucket_counts.iter().enumerate() {
        let idx = ((b.offset as i64 + k as i64) >> scale_down) + 1;
        // One more than the last index is computed below: keep a margin.
        let idx = i32::try_from(idx).ok().filter(|i| *i < i32::MAX - 1 && *i > i32::MIN + 1)?;
        match merged.last_mut() {
            Some((i, n)) if *i == idx => *n += c,
            _ => merged.push((idx, c)),
        }
    }
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut deltas = Vec::with_capacity(merged.len());
    let mut prev = 0i64;
    let mut next: Option<i32> = None;
    for (idx, c) in merged {
        if c == 0 {
            continue;
        }
        match (next, spans.last_mut()) {
            (Some(n), Some(span)) if idx - n <= 2 => {
                for _ in n..idx {
                    deltas.push(-prev);
                    prev = 0;
                    span.length += 1;
                }
            }
            _ => spans.push(BucketSpan { offset: next.map_or(idx, |n| idx - n), length: 0 }),
        }
        deltas.push(c as i64 - prev);
        prev = c as i64;
        if let Some(span) = spans.last_mut() {
            span.length += 1;
        }
        next = Some(idx + 1);
    }
    Some((spans, deltas))
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
