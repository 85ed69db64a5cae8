//! The connector's state and its two operations: aggregate a batch of spans into series
//! (per resource: `calls`, `duration`, `events`), and flush them as OTLP metrics, then reset
//! what the temporality and expiry settings say to reset.
//!
//! Times are passed in (Unix nanoseconds) so the logic is tested without a clock; the
//! [`StatefulProcessor`](switchyard_core::processorhelper::StatefulProcessor) wrapper in
//! `mod.rs` reads the wall clock.

use std::collections::HashMap;

use indexmap::IndexMap;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::{Metric, ResourceMetrics as OtlpResourceMetrics, ScopeMetrics};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span, status, Span};
use switchyard_pdata::value::{as_string, str_value};

use super::adjusted::AdjustedCounter;
use super::config::{
    SpanMetricsConnectorConfig, COLLECTOR_INSTANCE_ID, DEFAULT_BUCKETS_MS, DEFAULT_EXPONENTIAL_MAX_SIZE, SERVICE_NAME,
    SPAN_KIND, SPAN_NAME, STATUS_CODE,
};
use super::dimensions::Dimensions;
use crate::connectors::metricagg::config::in_unit;
use crate::connectors::metricagg::{
    histogram_metric, key_part, sum_metric, Histogram, HistogramPoints, HistogramSpec, SeriesMap, Temporality,
};

/// The scope of every emitted metric.
pub const SCOPE_NAME: &str = "spanmetricsconnector";
/// The dimension naming the span's scope, for scopes listed in `include_instrumentation_scope`.
pub const SCOPE_NAME_DIMENSION: &str = "span.instrumentation.scope.name";
/// The dimension with that scope's version.
pub const SCOPE_VERSION_DIMENSION: &str = "span.instrumentation.scope.version";
/// The dimension `enable_metrics_sampling_method` adds.
pub const SAMPLING_METHOD_DIMENSION: &str = "sampling.method";

/// The config, resolved once.
#[derive(Clone, Debug)]
struct Settings {
    temporality: Temporality,
    seconds: bool,
    histogram: Option<HistogramSpec>,
    unit: &'static str,
    calls_name: String,
    duration_name: String,
    events_name: String,
    dims: Dimensions,
    calls_dims: Dimensions,
    duration_dims: Dimensions,
    event_dims: Dimensions,
    events: bool,
    /// Which default dimensions are kept: service, span name, kind, status, instance id.
    keep: [bool; 5],
    instance_id: String,
    include_scopes: Vec<String>,
    sampling_method: bool,
    exemplars: bool,
    max_exemplars: Option<usize>,
    cardinality_limit: usize,
    resource_key_attributes: Vec<String>,
    resource_cache_size: usize,
    metrics_expiration: u64,
    series_expiration: u64,
    delta_cache_size: usize,
}

/// The series of one resource (one service instance, as keyed).
#[derive(Debug)]
struct ResourceSeries {
    attributes: Vec<KeyValue>,
    calls: SeriesMap<u64>,
    durations: SeriesMap<Histogram>,
    events: SeriesMap<u64>,
    last_seen: u64,
    last_used: u64,
}

/// The connector's state.
#[derive(Debug)]
pub struct SpanMetrics {
    s: Settings,
    resources: IndexMap<String, ResourceSeries>,
    /// Delta temporality: when each series was last flushed (its next start time).
    last_delta: HashMap<String, u64>,
    uses: u64,
    adjusted: AdjustedCounter,
    key: String,
}

/// What one span contributes, looked up once.
struct SpanView<'a> {
    service: &'a str,
    span: &'a Span,
    scope: Option<&'a InstrumentationScope>,
    resource: &'a [KeyValue],
    kind: &'static str,
    status: &'static str,
    sampled_method: Option<&'static str>,
}

impl SpanMetrics {
    /// State for `cfg`; `instance_id` is the gateway's (`collector.instance.id`).
    pub fn new(cfg: &SpanMetricsConnectorConfig, instance_id: &str) -> Self {
        let seconds = cfg.seconds();
        let histogram =
            (!cfg.histogram.disable).then(|| match (cfg.histogram.exponential.get(), cfg.histogram.explicit.get()) {
                (Some(x), _) => HistogramSpec::Exponential {
                    max_size: usize::try_from(if x.max_size == 0 { DEFAULT_EXPONENTIAL_MAX_SIZE } else { x.max_size })
                        .unwrap_or(160),
                },
                (None, Some(x)) if !x.buckets.is_empty() => {
                    HistogramSpec::Explicit(x.buckets.iter().map(|d| in_unit(*d, seconds)).collect())
                }
                _ => HistogramSpec::Explicit(
                    DEFAULT_BUCKETS_MS.iter().map(|ms| if seconds { ms / 1000.0 } else { *ms }).collect(),
                ),
            });
        let name = |base: &str| {
            if cfg.namespace.is_empty() {
                base.to_string()
            } else {
                format!("{}.{base}", cfg.namespace)
            }
        };
        let excluded = |d: &str| cfg.exclude_dimensions.iter().any(|x| x == d);
        let mut event_dims = cfg.dimensions.clone();
        event_dims.extend(cfg.events.dimensions.iter().cloned());
        let s = Settings {
            temporality: cfg.temporality(),
            seconds,
            histogram,
            unit: if seconds { "s" } else { "ms" },
            calls_name: name("calls"),
            duration_name: name("duration"),
            events_name: name("events"),
            dims: Dimensions::new(&cfg.dimensions),
            calls_dims: Dimensions::new(&cfg.calls_dimensions),
            duration_dims: Dimensions::new(&cfg.histogram.dimensions),
            event_dims: Dimensions::new(&event_dims),
            events: cfg.events.enabled,
            keep: [SERVICE_NAME, SPAN_NAME, SPAN_KIND, STATUS_CODE, COLLECTOR_INSTANCE_ID].map(|d| !excluded(d)),
            instance_id: instance_id.to_string(),
            include_scopes: cfg.include_instrumentation_scope.clone(),
            sampling_method: cfg.enable_metrics_sampling_method,
            exemplars: cfg.exemplars.enabled,
            max_exemplars: usize::try_from(cfg.exemplars.max_per_data_point).ok(),
            cardinality_limit: usize::try_from(cfg.aggregation_cardinality_limit).unwrap_or(0),
            resource_key_attributes: cfg.resource_metrics_key_attributes.clone(),
            resource_cache_size: usize::try_from(cfg.resource_metrics_cache_size).unwrap_or(1).max(1),
            metrics_expiration: duration_nanos(cfg.metrics_expiration),
            series_expiration: duration_nanos(cfg.series_expiration),
            delta_cache_size: usize::try_from(cfg.delta_timestamp_cache_size()).unwrap_or(1).max(1),
        };
        SpanMetrics {
            s,
            resources: IndexMap::new(),
            last_delta: HashMap::new(),
            uses: 0,
            adjusted: AdjustedCounter::new(),
            key: String::new(),
        }
    }

    /// Adds every span of `req` observed at `now`. Spans of a resource without a
    /// `service.name` are not counted (as in the Collector).
    pub fn aggregate(&mut self, req: &ExportTraceServiceRequest, now: u64) {
        for rs in &req.resource_spans {
            let resource = rs.resource.as_ref().map_or(&[][..], |r| r.attributes.as_slice());
            let Some(service_value) = attrs::get(resource, SERVICE_NAME) else { continue };
            let service = match &service_value.value {
                Some(switchyard_pdata::proto::common::v1::any_value::Value::StringValue(s)) => s.as_str(),
                _ => "",
            };
            let rkey = self.resource_key(resource);
            self.uses += 1;
            let uses = self.uses;
            let s = &self.s;
            let r = self.resources.entry(rkey).or_insert_with(|| ResourceSeries {
                attributes: resource.to_vec(),
                calls: SeriesMap::new(s.cardinality_limit),
                durations: SeriesMap::new(s.cardinality_limit),
                events: SeriesMap::new(s.cardinality_limit),
                last_seen: now,
                last_used: uses,
            });
            r.last_used = uses;
            r.last_seen = now;
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    let (count, adjusted) = self.adjusted.count(&span.trace_state);
                    let view = SpanView {
                        service,
                        span,
                        scope: ss.scope.as_ref(),
                        resource,
                        kind: span_kind(span.kind),
                        status: status_code(span),
                        sampled_method: s.sampling_method.then_some(if adjusted { "extrapolated" } else { "counted" }),
                    };
                    record(s, &mut self.key, r, &view, count, now);
                }
            }
        }
    }

    /// The key of a resource: its attributes (only `resource_metrics_key_attributes` if
    /// set), in name order, so attribute order does not split a service.
    fn resource_key(&self, resource: &[KeyValue]) -> String {
        let mut kvs: Vec<&KeyValue> = resource
            .iter()
            .filter(|kv| self.s.resource_key_attributes.is_empty() || self.s.resource_key_attributes.contains(&kv.key))
            .collect();
        kvs.sort_by(|a, b| a.key.cmp(&b.key));
        let mut key = String::new();
        for kv in kvs {
            key_part(&mut key, &kv.key);
            key_part(&mut key, &as_string(attrs::value_of(kv)));
        }
        key
    }

    /// Builds the metrics of every series as of `now`, then resets: delta drops every
    /// series; cumulative clears exemplars, expires series and resources as configured,
    /// and drops the least recently used resources beyond the cache size. `None` when
    /// there is nothing to send. `last` (shutdown) reports new counters' counts at once
    /// instead of the 0 that opens them, since no later flush will.
    pub fn flush(&mut self, now: u64, last: bool) -> Option<ExportMetricsServiceRequest> {
        let mut out = Vec::new();
        let delta = self.s.temporality == Temporality::Delta;
        // Delta: a series' start is its previous flush time. Metrics of one resource share
        // series keys, so the new times are written once all of them are built.
        let mut flushed_keys = Vec::new();
        for (rkey, r) in &mut self.resources {
            let mut metrics = Vec::new();
            let last_delta = &self.last_delta;
            let mut start_of = |series_key: &str, created: u64| -> u64 {
                if !delta {
                    return created;
                }
                let key = format!("{rkey}\u{1}{series_key}");
                let start = last_delta.get(&key).copied().unwrap_or(created);
                flushed_keys.push(key);
                start
            };
            if !r.calls.is_empty() {
                let points = sum_points(&mut r.calls, delta || last, now, &mut start_of);
                metrics.push(sum_metric(self.s.calls_name.clone(), "", self.s.temporality, points));
            }
            if self.s.histogram.is_some() && !r.durations.is_empty() {
                let mut points = HistogramPoints::default();
                for (k, series) in r.durations.iter_mut() {
                    points.push(series.to_point(start_of(k, series.start_unix_nano), now));
                    series.reported = true;
                }
                metrics.push(histogram_metric(self.s.duration_name.clone(), self.s.unit, self.s.temporality, points));
            }
            if self.s.events && !r.events.is_empty() {
                let points = sum_points(&mut r.events, delta || last, now, &mut start_of);
                metrics.push(sum_metric(self.s.events_name.clone(), "", self.s.temporality, points));
            }
            if !metrics.is_empty() {
                out.push(resource_metrics(&r.attributes, metrics));
            }
        }
        for key in flushed_keys {
            self.last_delta.insert(key, now);
        }
        if self.last_delta.len() > self.s.delta_cache_size {
            // Forget the series flushed longest ago (a later point of theirs starts anew).
            let mut by_age: Vec<(u64, String)> = self.last_delta.drain().map(|(k, t)| (t, k)).collect();
            by_age.sort_unstable_by_key(|(t, _)| std::cmp::Reverse(*t));
            by_age.truncate(self.s.delta_cache_size);
            self.last_delta = by_age.into_iter().map(|(t, k)| (k, t)).collect();
        }
        self.reset(now);
        (!out.is_empty()).then_some(ExportMetricsServiceRequest { resource_metrics: out })
    }

    fn reset(&mut self, now: u64) {
        if self.s.temporality == Temporality::Delta {
            self.resources.clear();
            return;
        }
        if self.resources.len() > self.s.resource_cache_size {
            let mut uses: Vec<u64> = self.resources.values().map(|r| r.last_used).collect();
            uses.sort_unstable();
            let cutoff = uses[self.resources.len() - self.s.resource_cache_size - 1];
            self.resources.retain(|_, r| r.last_used > cutoff);
        }
        for r in self.resources.values_mut() {
            r.calls.clear_exemplars();
            r.durations.clear_exemplars();
            r.events.clear_exemplars();
            if self.s.series_expiration > 0 {
                let cutoff = now.saturating_sub(self.s.series_expiration);
                r.calls.expire(cutoff);
                r.durations.expire(cutoff);
                r.events.expire(cutoff);
            }
        }
        if self.s.metrics_expiration > 0 {
            let exp = self.s.metrics_expiration;
            self.resources.retain(|_, r| now.saturating_sub(r.last_seen) < exp);
        }
    }

    /// Series held (for tests and the memory gauge).
    pub fn series_count(&self) -> usize {
        self.resources.values().map(|r| r.calls.len() + r.durations.len() + r.events.len()).sum()
    }

    /// Approximate bytes held by the series.
    pub fn held_bytes(&self) -> usize {
        self.resources
            .values()
            .map(|r| {
                r.calls.approx_bytes(|_| 0)
                    + r.durations.approx_bytes(Histogram::heap_bytes)
                    + r.events.approx_bytes(|_| 0)
            })
            .sum::<usize>()
            + self.last_delta.len() * 64
    }
}

/// Records one span into its resource's series.
fn record(s: &Settings, key: &mut String, r: &mut ResourceSeries, v: &SpanView<'_>, count: u64, now: u64) {
    let span = v.span;
    let duration_ns = span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano);
    let duration = in_unit(std::time::Duration::from_nanos(duration_ns), s.seconds);
    let exemplar = s.exemplars && !span.trace_id.is_empty() && span.trace_id.iter().any(|b| *b != 0);

    let calls_dims = [&s.dims, &s.calls_dims];
    build_key(s, key, v, &calls_dims, &[v.resource]);
    let (calls, overflow) = r.calls.entry(key, now, || attributes(s, v, &calls_dims, &[v.resource]), || 0);
    if exemplar && !overflow {
        calls.add_exemplar(s.max_exemplars, &span.trace_id, &span.span_id, duration);
    }
    calls.value += count;

    if let Some(spec) = &s.histogram {
        let duration_dims = [&s.dims, &s.duration_dims];
        build_key(s, key, v, &duration_dims, &[v.resource]);
        let (h, overflow) =
            r.durations.entry(key, now, || attributes(s, v, &duration_dims, &[v.resource]), || spec.new_histogram());
        if exemplar && !overflow {
            h.add_exemplar(s.max_exemplars, &span.trace_id, &span.span_id, duration);
        }
        h.value.observe(duration, count);
    }

    if s.events {
        // The event's attributes come before the resource's for the event dimensions.
        let event_dims = [&s.event_dims];
        for event in &span.events {
            let fallback = [event.attributes.as_slice(), v.resource];
            build_key(s, key, v, &event_dims, &fallback);
            let (e, overflow) = r.events.entry(key, now, || attributes(s, v, &event_dims, &fallback), || 0);
            if exemplar && !overflow {
                e.add_exemplar(s.max_exemplars, &span.trace_id, &span.span_id, duration);
            }
            e.value += count;
        }
    }
}

/// The scope dimensions of a span, if its scope is listed.
fn scope_dims<'a>(s: &Settings, v: &SpanView<'a>) -> Option<(&'a str, &'a str)> {
    let scope = v.scope?;
    (!scope.name.is_empty() && s.include_scopes.contains(&scope.name))
        .then_some((scope.name.as_str(), scope.version.as_str()))
}

/// The series key: the default dimensions' values, the scope, the sampling method, then
/// `name:value` of each configured dimension of `lists` (the common ones, then the metric's own).
fn build_key(s: &Settings, key: &mut String, v: &SpanView<'_>, lists: &[&Dimensions], fallback: &[&[KeyValue]]) {
    key.clear();
    let base = [v.service, v.span.name.as_str(), v.kind, v.status];
    for (part, keep) in base.iter().zip(s.keep) {
        if keep {
            key_part(key, part);
        }
    }
    if let Some((name, version)) = scope_dims(s, v) {
        key_part(key, name);
        key_part(key, version);
    }
    if let Some(m) = v.sampled_method {
        key_part(key, m);
    }
    for dims in lists {
        dims.each(&v.span.attributes, fallback, |name, value| {
            key_part(key, name);
            key.push(':');
            key.push_str(&as_string(value));
        });
    }
}

/// The data point attributes of a new series (same order as the key).
fn attributes(s: &Settings, v: &SpanView<'_>, lists: &[&Dimensions], fallback: &[&[KeyValue]]) -> Vec<KeyValue> {
    let mut out = Vec::with_capacity(8);
    let mut put = |k: &str, value: AnyValue| {
        attrs::upsert(&mut out, k.to_string(), value);
    };
    let base = [
        (SERVICE_NAME, v.service),
        (SPAN_NAME, v.span.name.as_str()),
        (SPAN_KIND, v.kind),
        (STATUS_CODE, v.status),
        (COLLECTOR_INSTANCE_ID, s.instance_id.as_str()),
    ];
    for ((k, value), keep) in base.into_iter().zip(s.keep) {
        if keep {
            put(k, str_value(value));
        }
    }
    if let Some((name, version)) = scope_dims(s, v) {
        put(SCOPE_NAME_DIMENSION, str_value(name));
        if !version.is_empty() {
            put(SCOPE_VERSION_DIMENSION, str_value(version));
        }
    }
    if let Some(m) = v.sampled_method {
        put(SAMPLING_METHOD_DIMENSION, str_value(m));
    }
    for dims in lists {
        dims.each(&v.span.attributes, fallback, |name, value| put(name, value.clone()));
    }
    out
}

/// The sum points of a map: a new cumulative series reports 0 at its first flush and its
/// count from the next one on (the Collector's answer to Prometheus ignoring a counter's
/// first sample), unless `report_new` (delta, or the last flush) says to report it now.
fn sum_points(
    map: &mut SeriesMap<u64>,
    report_new: bool,
    now: u64,
    start_of: &mut impl FnMut(&str, u64) -> u64,
) -> Vec<switchyard_pdata::proto::metrics::v1::NumberDataPoint> {
    let mut points = Vec::with_capacity(map.len());
    for (k, series) in map.iter_mut() {
        let value = if report_new || series.reported { series.value } else { 0 };
        points.push(series.to_number_point(start_of(k, series.start_unix_nano), now, value));
        series.reported = true;
    }
    points
}

fn resource_metrics(attributes: &[KeyValue], metrics: Vec<Metric>) -> OtlpResourceMetrics {
    OtlpResourceMetrics {
        resource: Some(Resource { attributes: attributes.to_vec(), ..Default::default() }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope { name: SCOPE_NAME.into(), ..Default::default() }),
            metrics,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// `SPAN_KIND_SERVER`, … (the Collector's `traceutil.SpanKindStr`).
fn span_kind(kind: i32) -> &'static str {
    span::SpanKind::try_from(kind).map_or("", |k| k.as_str_name())
}

/// `STATUS_CODE_ERROR`, … (`traceutil.StatusCodeStr`).
fn status_code(span: &Span) -> &'static str {
    let code = span.status.as_ref().map_or(0, |s| s.code);
    status::StatusCode::try_from(code).map_or("", |c| c.as_str_name())
}

fn duration_nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
