//! A small metrics registry rendering the Prometheus text format.
//!
//! Our own instead of prometheus-client because the Collector exposes counters both
//! without `_total` (default telemetry config) and with it (an explicit prometheus reader),
//! which that crate's encoder cannot do. Handles are resolved once when a component is
//! built; the hot path is one relaxed atomic add.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A monotonic counter.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Adds (or subtracts) `d`.
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }
    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram with fixed bucket bounds.
#[derive(Clone, Debug)]
pub struct Histogram(Arc<HistogramInner>);

#[derive(Debug)]
struct HistogramInner {
    bounds: Vec<f64>,
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// The sum's `f64` bits, added to with a compare-and-swap loop: a lock here was taken by
    /// every observation of every task sharing the histogram.
    sum_bits: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, v: f64) {
        self.0.buckets[self.bucket(v)].fetch_add(1, Ordering::Relaxed);
        self.0.count.fetch_add(1, Ordering::Relaxed);
        self.add_sum(v);
    }

    /// The index of the bucket `v` falls in (the last one is `+Inf`).
    pub(crate) fn bucket(&self, v: f64) -> usize {
        self.0.bounds.iter().position(|b| v <= *b).unwrap_or(self.0.bounds.len())
    }

    /// The number of buckets, `+Inf` included.
    pub(crate) fn bucket_count(&self) -> usize {
        self.0.buckets.len()
    }

    /// Adds observations gathered elsewhere: `counts[i]` into bucket `i`, `count` and `sum`.
    pub(crate) fn add_many(&self, counts: &[u64], count: u64, sum: f64) {
        for (b, n) in self.0.buckets.iter().zip(counts) {
            if *n > 0 {
                b.fetch_add(*n, Ordering::Relaxed);
            }
        }
        self.0.count.fetch_add(count, Ordering::Relaxed);
        self.add_sum(sum);
    }

    fn add_sum(&self, v: f64) {
        let _ = self
            .0
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| Some((f64::from_bits(bits) + v).to_bits()));
    }

    fn sum(&self) -> f64 {
        f64::from_bits(self.0.sum_bits.load(Ordering::Relaxed))
    }
}

type Labels = Vec<(String, String)>;

/// One series' value at one moment ([`MetricsRegistry::snapshot`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric name (counters without `_total`).
    pub name: String,
    /// Label pairs, in the order the component registered them.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// The value of label `k`, if set.
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

enum Series {
    Counter(Counter),
    Gauge(Gauge),
    GaugeFn(Box<dyn Fn() -> f64 + Send + Sync>),
    Histogram(Histogram),
}

struct Family {
    help: String,
    kind: &'static str,
    series: BTreeMap<Labels, Series>,
}

/// All metrics of the process.
#[derive(Default)]
pub struct MetricsRegistry {
    families: Mutex<BTreeMap<String, Family>>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl MetricsRegistry {
    /// Finds or creates a series; `None` if the name is already taken by another metric type.
    fn with_series<T>(
        &self,
        name: &str,
        help: &str,
        kind: &'static str,
        l: &[(&str, &str)],
        make: impl FnOnce() -> Series,
        get: impl Fn(&Series) -> Option<T>,
    ) -> Option<T> {
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        let family = families.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind,
            series: BTreeMap::new(),
        });
        get(family.series.entry(labels(l)).or_insert_with(make))
    }

    /// The counter `name` with these labels (created on first use; the same handle after).
    pub fn counter(&self, name: &str, help: &str, l: &[(&str, &str)]) -> Counter {
        self.with_series(
            name,
            help,
            "counter",
            l,
            || Series::Counter(Counter::default()),
            |s| match s {
                Series::Counter(c) => Some(c.clone()),
                _ => None,
            },
        )
        .unwrap_or_default()
    }

    /// The gauge `name` with these labels.
    pub fn gauge(&self, name: &str, help: &str, l: &[(&str, &str)]) -> Gauge {
        self.with_series(
            name,
            help,
            "gauge",
            l,
            || Series::Gauge(Gauge::default()),
            |s| match s {
                Series::Gauge(g) => Some(g.clone()),
                _ => None,
            },
        )
        .unwrap_or_default()
    }

    /// A gauge computed when scraped.
    pub fn gauge_fn(&self, name: &str, help: &str, f: impl Fn() -> f64 + Send + Sync + 'static) {
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        let family = families.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind: "gauge",
            series: BTreeMap::new(),
        });
        family.series.insert(Vec::new(), Series::GaugeFn(Box::new(f)));
    }

    /// A gauge with labels computed when scraped (replaces an earlier one of the same labels).
    pub fn gauge_fn_with(
        &self,
        name: &str,
        help: &str,
        l: &[(&str, &str)],
        f: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        let family = families.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind: "gauge",
            series: BTreeMap::new(),
        });
        family.series.insert(labels(l), Series::GaugeFn(Box::new(f)));
    }

    /// The histogram `name` with these bucket bounds and labels.
    pub fn histogram(&self, name: &str, help: &str, bounds: &[f64], l: &[(&str, &str)]) -> Histogram {
        let fresh = Histogram(Arc::new(HistogramInner {
            bounds: bounds.to_vec(),
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }));
        let detached = fresh.clone();
        self.with_series(
            name,
            help,
            "histogram",
            l,
            || Series::Histogram(fresh),
            |s| match s {
                Series::Histogram(h) => Some(h.clone()),
                _ => None,
            },
        )
        .unwrap_or(detached)
    }

    /// Every counter and gauge's current value (histograms as their count), for pages
    /// that show numbers rather than Prometheus text (the zpages status page).
    pub fn snapshot(&self) -> Vec<Sample> {
        let families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for (name, f) in families.iter() {
            for (l, s) in &f.series {
                let value = match s {
                    Series::Counter(c) => c.get() as f64,
                    Series::Gauge(g) => g.get() as f64,
                    Series::GaugeFn(fun) => fun(),
                    Series::Histogram(h) => h.0.count.load(Ordering::Relaxed) as f64,
                };
                out.push(Sample { name: name.clone(), labels: l.clone(), value });
            }
        }
        out
    }

    /// Renders Prometheus text (0.0.4). `counter_suffix` appends `_total` to counter names,
    /// as the Collector does when a prometheus reader is configured explicitly.
    pub fn render(&self, counter_suffix: bool) -> String {
        let families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::with_capacity(4096);
        for (name, f) in families.iter() {
            let name = if f.kind == "counter" && counter_suffix { format!("{name}_total") } else { name.clone() };
            let _ = writeln!(out, "# HELP {name} {}", f.help);
            let _ = writeln!(out, "# TYPE {name} {}", f.kind);
            for (l, s) in &f.series {
                match s {
                    Series::Counter(c) => line(&mut out, &name, l, None, c.get() as f64),
                    Series::Gauge(g) => line(&mut out, &name, l, None, g.get() as f64),
                    Series::GaugeFn(fun) => line(&mut out, &name, l, None, fun()),
                    Series::Histogram(h) => {
                        let mut cumulative = 0;
                        for (i, b) in h.0.buckets.iter().enumerate() {
                            cumulative += b.load(Ordering::Relaxed);
                            let le = h.0.bounds.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                            line(&mut out, &format!("{name}_bucket"), l, Some(&le), cumulative as f64);
                        }
                        let sum = h.sum();
                        line(&mut out, &format!("{name}_sum"), l, None, sum);
                        line(&mut out, &format!("{name}_count"), l, None, h.0.count.load(Ordering::Relaxed) as f64);
                    }
                }
            }
        }
        out
    }
}

fn line(out: &mut String, name: &str, l: &Labels, le: Option<&str>, v: f64) {
    out.push_str(name);
    if !l.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (k, val) in l.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(le.map(|le| ("le", le))) {
            if !first {
                out.push(',');
            }
            first = false;
            let escaped = val.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            let _ = write!(out, "{k}=\"{escaped}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {v}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_and_without_total() {
        let r = MetricsRegistry::default();
        let c = r.counter(
            "otelcol_receiver_accepted_spans",
            "Spans accepted.",
            &[("receiver", "otlp"), ("transport", "grpc")],
        );
        c.add(3);
        r.counter("otelcol_receiver_accepted_spans", "", &[("receiver", "otlp"), ("transport", "grpc")]).add(2);
        let h = r.histogram("size", "Sizes.", &[10.0, 100.0], &[]);
        h.observe(5.0);
        h.observe(50.0);
        let plain = r.render(false);
        assert!(plain.contains("otelcol_receiver_accepted_spans{receiver=\"otlp\",transport=\"grpc\"} 5\n"), "{plain}");
        assert!(plain.contains("size_bucket{le=\"100\"} 2\n"), "{plain}");
        assert!(plain.contains("size_bucket{le=\"+Inf\"} 2\n"), "{plain}");
        assert!(r.render(true).contains("otelcol_receiver_accepted_spans_total{"));
        let snap = r.snapshot();
        let s = snap.iter().find(|s| s.name == "otelcol_receiver_accepted_spans").unwrap();
        assert_eq!((s.value, s.label("receiver"), s.label("nope")), (5.0, Some("otlp"), None));
        assert_eq!(snap.iter().find(|s| s.name == "size").unwrap().value, 2.0);
    }
}
