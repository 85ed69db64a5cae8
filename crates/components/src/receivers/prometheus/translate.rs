//! One scrape's samples into OTLP, as the Collector's prometheus receiver builds them
//! (`internal/transaction.go`, `metricfamily.go`, `prom_to_otlp.go`): one ResourceMetrics
//! per `job`/`instance`, the receiver's scope (or `otel_scope_name`/`otel_scope_version`),
//! counters as monotonic cumulative sums, histograms with de-cumulated buckets, summaries
//! with quantiles, everything else as gauges; `target_info` becomes resource attributes;
//! a staleness marker becomes a point flagged "no recorded value".
//!
//! Start times: a `_created` sample gives a series' start; otherwise the series' first
//! scrape does, and a value going down (a counter reset) starts it again, as the
//! Collector's start-time adjuster does.

use std::collections::HashMap;

use indexmap::IndexMap;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::{
    exemplar, metric::Data, number_data_point, summary_data_point::ValueAtQuantile, AggregationTemporality,
    DataPointFlags, Exemplar as OtlpExemplar, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::value::str_value;

use super::parse::{family_of, Exemplar, FamilyMeta, MetricType};
use super::relabel::Labels;

/// The receiver's scope name (the Collector's `metadata.ScopeName`).
pub const SCOPE_NAME: &str = "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver";
/// Prometheus's staleness marker: a NaN with this bit pattern.
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// Whether a value is Prometheus's staleness marker.
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN
}

/// A sample ready for translation: final labels (with `__name__`, `job`, `instance`).
#[derive(Clone, Debug)]
pub struct ScrapedSample {
    /// All labels.
    pub labels: Labels,
    /// The value (a staleness marker for a series that went away).
    pub value: f64,
    /// Milliseconds since the epoch.
    pub ts_ms: i64,
    /// OpenMetrics exemplar.
    pub exemplar: Option<Exemplar>,
}

/// What the target contributes to the resource.
#[derive(Clone, Debug, Default)]
pub struct TargetInfo {
    /// `job` when a sample has none.
    pub job: String,
    /// `instance` when a sample has none.
    pub instance: String,
    /// `http` or `https` (`url.scheme`).
    pub scheme: String,
}

/// The resource of one job/instance (`CreateResource`).
pub fn resource_attributes(job: &str, instance: &str, scheme: &str) -> Vec<KeyValue> {
    let (host, port) = match instance.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h.trim_start_matches('[').trim_end_matches(']'), p)
        }
        _ => (instance, ""),
    };

    let mut attrs = vec![kv("service.name", job)];
    if discernible(host) {
        attrs.push(kv("server.address", host));
    }
    attrs.push(kv("service.instance.id", instance));
    attrs.push(kv("server.port", port));
    attrs.push(kv("url.scheme", scheme));
    attrs
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.to_string(), value: Some(str_value(v)), ..Default::default() }
}

/// `localhost`, loopback and unspecified addresses do not name a host.
fn discernible(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => !ip.is_loopback() && !ip.is_unspecified(),
        Err(_) => host != "localhost",
    }
}

#[derive(Default)]
struct Group {
    ts_ms: i64,
    value: Option<f64>,
    created: Option<f64>,
    count: Option<f64>,
    sum: Option<f64>,
    points: Vec<(f64, f64)>,
    exemplars: Vec<OtlpExemplar>,
}

struct MetricBuild {
    kind: Kind,
    help: String,
    unit: String,
    groups: IndexMap<Vec<(String, String)>, Group>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Gauge,
    Sum { monotonic: bool },
    Histogram,
    Summary,
}

#[derive(Default)]
struct ResourceBuild {
    attrs: Vec<KeyValue>,
    scopes: IndexMap<(String, String), IndexMap<String, MetricBuild>>,
}

/// A series across scrapes: job, instance, metric name, attributes.
type SeriesKey = (String, String, String, Vec<(String, String)>);

#[derive(Clone, Copy)]
struct SeriesStart {
    start_ns: u64,
    last: f64,
}

/// Turns scrapes into OTLP; remembers series start times between scrapes of one target.
#[derive(Default)]
pub struct Translator {
    starts: HashMap<SeriesKey, SeriesStart>,
    /// The scope version (the gateway's version).
    pub version: String,
}

enum Role {
    Value,
    Created,
    Count,
    Sum,
    Bucket(f64),
    Quantile(f64),
}

fn role_of(typ: MetricType, name: &str, fam: &str, labels: &Labels) -> Option<Role> {
    let suffix = name.strip_prefix(fam).unwrap_or("");
    let bound = |l: &str| labels.get(l).and_then(|v| super::parse::parse_float(v).ok());
    Some(match (typ, suffix) {
        (MetricType::Counter, "_created") => Role::Created,
        (MetricType::Histogram, "_bucket") => Role::Bucket(bound("le")?),
        (MetricType::Histogram | MetricType::Summary, "_sum") => Role::Sum,
        (MetricType::Histogram | MetricType::Summary, "_count") => Role::Count,
        (MetricType::Histogram | MetricType::Summary, "_created") => Role::Created,
        (MetricType::Summary, "") => Role::Quantile(bound("quantile")?),
        (MetricType::Histogram, _) => return None,
        _ => Role::Value,
    })
}

impl Translator {
    /// A translator for one target.
    pub fn new(version: &str) -> Self {
        Translator { starts: HashMap::new(), version: version.to_string() }
    }

    /// Builds the OTLP request of one scrape. `openmetrics`: counters' `_created` series
    /// belong to `<family>_total`.
    pub fn translate(
        &mut self,
        samples: &[ScrapedSample],
        families: &HashMap<String, FamilyMeta>,
        openmetrics: bool,
        target: &TargetInfo,
    ) -> ExportMetricsServiceRequest {
        let mut resources: IndexMap<(String, String), ResourceBuild> = IndexMap::new();
        let mut scope_attrs: HashMap<(String, String, String, String), Vec<KeyValue>> = HashMap::new();
        for s in samples {
            let name = s.labels.get("__name__").map(String::as_str).unwrap_or("");
            let job = s.labels.get("job").cloned().unwrap_or_else(|| target.job.clone());
            let instance = s.labels.get("instance").cloned().unwrap_or_else(|| target.instance.clone());
            let rb = resources.entry((job.clone(), instance.clone())).or_insert_with(|| ResourceBuild {
                attrs: resource_attributes(&job, &instance, &target.scheme),
                ..Default::default()
            });
            if name == "target_info" {
                for (k, v) in &s.labels {
                    if !matches!(k.as_str(), "job" | "instance" | "__name__") {
                        switchyard_pdata::attrs::upsert(&mut rb.attrs, k.clone(), str_value(v.clone()));
                    }
                }
                continue;
            }
            let scope = (
                s.labels.get("otel_scope_name").cloned().unwrap_or_default(),
                s.labels.get("otel_scope_version").cloned().unwrap_or_default(),
            );
            if name == "otel_scope_info" {
                let attrs = s
                    .labels
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "job" | "instance" | "__name__") && !k.starts_with("otel_scope_")
                    })
                    .map(|(k, v)| kv(k, v))
                    .collect();
                scope_attrs.insert((job, instance, scope.0, scope.1), attrs);
                continue;
            }
            let (fam, meta) = family_of(families, name);
            let typ = meta.map_or(MetricType::Unknown, |m| m.typ);
            let Some(role) = role_of(typ, name, fam, &s.labels) else { continue };
            let (metric_name, kind) = match typ {
                MetricType::Counter => {
                    let n = match role {
                        Role::Created if openmetrics => format!("{fam}_total"),
                        Role::Created => fam.to_string(),
                        _ => name.to_string(),
                    };
                    (n, Kind::Sum { monotonic: true })
                }
                MetricType::Histogram => (fam.to_string(), Kind::Histogram),
                MetricType::Summary => (fam.to_string(), Kind::Summary),
                MetricType::Info | MetricType::StateSet => (name.to_string(), Kind::Sum { monotonic: false }),
                _ => (name.to_string(), Kind::Gauge),
            };
            let drop_label = |k: &str| match k {
                "__name__" | "job" | "instance" => true,
                "le" => kind == Kind::Histogram,
                "quantile" => kind == Kind::Summary,
                k => k.starts_with("otel_scope_"),
            };
            let attrs: Vec<(String, String)> = s
                .labels
                .iter()
                .filter(|(k, v)| !v.is_empty() && !drop_label(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mb = rb.scopes.entry(scope).or_default().entry(metric_name).or_insert_with(|| MetricBuild {
                kind,
                help: meta.map(|m| m.help.clone()).unwrap_or_default(),
                unit: meta.map(|m| m.unit.clone()).unwrap_or_default(),
                groups: IndexMap::new(),
            });
            let g = mb.groups.entry(attrs).or_insert_with(|| Group { ts_ms: s.ts_ms, ..Default::default() });
            match role {
                Role::Value => g.value = Some(s.value),
                Role::Created => g.created = Some(s.value),
                Role::Count => {
                    g.count = Some(s.value);
                    g.ts_ms = s.ts_ms;
                }
                Role::Sum => g.sum = Some(s.value),
                Role::Bucket(b) | Role::Quantile(b) => g.points.push((b, s.value)),
            }
            if let Some(e) = &s.exemplar {
                g.exemplars.push(exemplar_to_otlp(e));
            }
        }
        let mut out = ExportMetricsServiceRequest::default();
        for ((job, instance), rb) in resources {
            let mut rm = ResourceMetrics {
                resource: Some(Resource { attributes: rb.attrs, ..Default::default() }),
                ..Default::default()
            };
            for ((sname, sversion), metrics) in rb.scopes {
                let scope = if sname.is_empty() {
                    InstrumentationScope {
                        name: SCOPE_NAME.into(),
                        version: self.version.clone(),
                        ..Default::default()
                    }
                } else {
                    let attributes = scope_attrs
                        .get(&(job.clone(), instance.clone(), sname.clone(), sversion.clone()))
                        .cloned()
                        .unwrap_or_default();
                    InstrumentationScope { name: sname, version: sversion, attributes, ..Default::default() }
                };
                let mut sm = ScopeMetrics { scope: Some(scope), ..Default::default() };
                for (name, mb) in metrics {
                    if let Some(m) = self.build_metric(&job, &instance, name, mb) {
                        sm.metrics.push(m);
                    }
                }
                if !sm.metrics.is_empty() {
                    rm.scope_metrics.push(sm);
                }
            }
            if !rm.scope_metrics.is_empty() {
                out.resource_metrics.push(rm);
            }
        }
        out
    }

    /// The start time of a cumulative point, tracking resets; a stale point ends the series.
    fn start(&mut self, key: SeriesKey, ts_ns: u64, created: Option<f64>, current: f64, stale: bool) -> u64 {
        if stale {
            self.starts.remove(&key);
            return ts_ns;
        }
        if let Some(c) = created.filter(|c| c.is_finite() && *c > 0.0) {
            let start_ns = (c * 1e9) as u64;
            self.starts.insert(key, SeriesStart { start_ns, last: current });
            return start_ns;
        }
        let e = self.starts.entry(key).or_insert(SeriesStart { start_ns: ts_ns, last: current });
        if current < e.last {
            e.start_ns = ts_ns;
        }
        e.last = current;
        e.start_ns
    }

    fn build_metric(&mut self, job: &str, instance: &str, name: String, mb: MetricBuild) -> Option<Metric> {
        let no_value = DataPointFlags::NoRecordedValueMask as u32;
        let key = |attrs: &Vec<(String, String)>| (job.to_string(), instance.to_string(), name.clone(), attrs.clone());
        let kvs = |attrs: &[(String, String)]| -> Vec<KeyValue> { attrs.iter().map(|(k, v)| kv(k, v)).collect() };
        let data = match mb.kind {
            Kind::Gauge | Kind::Sum { .. } => {
                let mut points = Vec::new();
                for (attrs, g) in mb.groups {
                    let Some(v) = g.value else { continue };
                    let ts = ms_to_ns(g.ts_ms);
                    let stale = is_stale(v);
                    let start = match mb.kind {
                        Kind::Sum { .. } => self.start(key(&attrs), ts, g.created, v, stale),
                        _ => 0,
                    };
                    points.push(NumberDataPoint {
                        attributes: kvs(&attrs),
                        start_time_unix_nano: start,
                        time_unix_nano: ts,
                        value: (!stale).then_some(number_data_point::Value::AsDouble(v)),
                        flags: if stale { no_value } else { 0 },
                        exemplars: g.exemplars,
                    });
                }
                if points.is_empty() {
                    return None;
                }
                match mb.kind {
                    Kind::Sum { monotonic } => Data::Sum(Sum {
                        data_points: points,
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: monotonic,
                    }),
                    _ => Data::Gauge(Gauge { data_points: points }),
                }
            }
            Kind::Histogram => {
                let mut points = Vec::new();
                for (attrs, mut g) in mb.groups {
                    let Some(count) = g.count else { continue };
                    if g.points.is_empty() {
                        continue;
                    }
                    g.points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    if g.points.last().map(|p| p.0) != Some(f64::INFINITY) {
                        continue; // No +Inf bucket: not a complete histogram (dropped, as upstream).
                    }
                    let stale = is_stale(count) || g.sum.is_some_and(is_stale);
                    let bounds: Vec<f64> = g.points[..g.points.len() - 1].iter().map(|p| p.0).collect();
                    let mut counts = Vec::with_capacity(g.points.len());
                    let mut prev = 0.0;
                    for (_, v) in &g.points {
                        counts.push(if stale { 0 } else { (v - prev).max(0.0) as u64 });
                        prev = *v;
                    }
                    let ts = ms_to_ns(g.ts_ms);
                    let start = self.start(key(&attrs), ts, g.created, count, stale);
                    points.push(HistogramDataPoint {
                        attributes: kvs(&attrs),
                        start_time_unix_nano: start,
                        time_unix_nano: ts,
                        count: if stale { 0 } else { count as u64 },
                        sum: if stale { None } else { g.sum },
                        bucket_counts: counts,
                        explicit_bounds: bounds,
                        exemplars: g.exemplars,
                        flags: if stale { no_value } else { 0 },
                        min: None,
                        max: None,
                    });
                }
                if points.is_empty() {
                    return None;
                }
                Data::Histogram(Histogram {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                })
            }
            Kind::Summary => {
                let mut points = Vec::new();
                for (attrs, mut g) in mb.groups {
                    let Some(count) = g.count else { continue };
                    g.points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let stale = is_stale(count) || g.sum.is_some_and(is_stale);
                    let ts = ms_to_ns(g.ts_ms);
                    let start = self.start(key(&attrs), ts, g.created, count, stale);
                    points.push(SummaryDataPoint {
                        attributes: kvs(&attrs),
                        start_time_unix_nano: start,
                        time_unix_nano: ts,
                        count: if stale { 0 } else { count as u64 },
                        sum: if stale { 0.0 } else { g.sum.unwrap_or(0.0) },
                        quantile_values: g
                            .points
                            .iter()
                            .map(|(q, v)| ValueAtQuantile { quantile: *q, value: if stale { 0.0 } else { *v } })
                            .collect(),
                        flags: if stale { no_value } else { 0 },
                    });
                }
                if points.is_empty() {
                    return None;
                }
                Data::Summary(Summary { data_points: points })
            }
        };
        Some(Metric { name, description: mb.help, unit: mb.unit, data: Some(data), ..Default::default() })
    }
}

fn ms_to_ns(ms: i64) -> u64 {
    (ms.max(0) as u64).saturating_mul(1_000_000)
}

fn exemplar_to_otlp(e: &Exemplar) -> OtlpExemplar {
    let mut out = OtlpExemplar {
        time_unix_nano: e.timestamp_ms.map(ms_to_ns).unwrap_or(0),
        value: Some(exemplar::Value::AsDouble(e.value)),
        ..Default::default()
    };
    for (k, v) in &e.labels {
        let bytes = match k.to_ascii_lowercase().as_str() {
            "trace_id" => hex_id::<16>(v),
            "span_id" => hex_id::<8>(v),
            _ => None,
        };
        match (k.to_ascii_lowercase().as_str(), bytes) {
            ("trace_id", Some(b)) => out.trace_id = b,
            ("span_id", Some(b)) => out.span_id = b,
            _ => out.filtered_attributes.push(kv(k, v)),
        }
    }
    out
}

/// A hex id, left-padded with zeros when short (as upstream decodes exemplar ids).
fn hex_id<const N: usize>(s: &str) -> Option<Vec<u8>> {
    let s = if s.len() > 2 * N { &s[..2 * N] } else { s };
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = vec![0u8; N];
    let off = N - s.len() / 2;
    for i in 0..s.len() / 2 {
        out[off + i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
