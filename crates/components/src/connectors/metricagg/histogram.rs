//! Histograms of durations: explicit buckets (the default of both connectors) or base-2
//! exponential buckets ([`super::exponential`]), behind one type so a connector records a
//! value without caring which the user configured.

use std::sync::Arc;

use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::metrics::v1::{
    exemplar, exponential_histogram_data_point, Exemplar as OtlpExemplar, ExponentialHistogramDataPoint,
    HistogramDataPoint,
};

use super::exponential::ExponentialHistogram;
use super::series::{Exemplar, Series};

/// What kind of histogram a series holds, fixed by the config.
#[derive(Clone, Debug, PartialEq)]
pub enum HistogramSpec {
    /// Explicit upper bounds, ascending (a value equal to a bound falls in that bound's
    /// bucket, as Prometheus' `le`).
    Explicit(Arc<[f64]>),
    /// Base-2 exponential buckets, at most `max_size` per sign.
    Exponential {
        /// Buckets per sign before the scale is lowered.
        max_size: usize,
    },
}

impl HistogramSpec {
    /// An empty histogram of this kind.
    pub fn new_histogram(&self) -> Histogram {
        match self {
            HistogramSpec::Explicit(bounds) => Histogram::Explicit(ExplicitHistogram::new(bounds.clone())),
            HistogramSpec::Exponential { max_size } => Histogram::Exponential(ExponentialHistogram::new(*max_size)),
        }
    }
}

/// A histogram of either kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Histogram {
    /// Explicit buckets.
    Explicit(ExplicitHistogram),
    /// Exponential buckets.
    Exponential(ExponentialHistogram),
}

impl Histogram {
    /// Records `value` `n` times (`n` > 1 for a span standing for several, its adjusted count).
    pub fn observe(&mut self, value: f64, n: u64) {
        match self {
            Histogram::Explicit(h) => h.observe(value, n),
            Histogram::Exponential(h) => h.observe(value, n),
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        match self {
            Histogram::Explicit(h) => h.count,
            Histogram::Exponential(h) => h.count(),
        }
    }

    /// Heap bytes held by the buckets.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Histogram::Explicit(h) => h.counts.len() * 8,
            Histogram::Exponential(h) => h.heap_bytes(),
        }
    }
}

/// Explicit-bucket histogram: counts per bucket (one more than bounds), sum and count.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplicitHistogram {
    bounds: Arc<[f64]>,
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl ExplicitHistogram {
    /// An empty histogram over `bounds`.
    pub fn new(bounds: Arc<[f64]>) -> Self {
        let counts = vec![0; bounds.len() + 1];
        ExplicitHistogram { bounds, counts, sum: 0.0, count: 0 }
    }

    /// Records `value` `n` times: the bucket is the first whose bound is >= `value`.
    pub fn observe(&mut self, value: f64, n: u64) {
        let i = self.bounds.partition_point(|b| *b < value);
        if let Some(c) = self.counts.get_mut(i) {
            *c += n;
        }
        self.sum += value * n as f64;
        self.count += n;
    }

    /// Counts per bucket (the last is the overflow bucket, above every bound).
    pub fn bucket_counts(&self) -> &[u64] {
        &self.counts
    }

    /// Sum of the values recorded.
    pub fn sum(&self) -> f64 {
        self.sum
    }
}

/// The exemplars of a series as OTLP, stamped with the flush time.
pub fn otlp_exemplars(exemplars: &[Exemplar], time_unix_nano: u64) -> Vec<OtlpExemplar> {
    exemplars
        .iter()
        .map(|e| OtlpExemplar {
            time_unix_nano,
            span_id: e.span_id.clone(),
            trace_id: e.trace_id.clone(),
            value: Some(exemplar::Value::AsDouble(e.value)),
            ..Default::default()
        })
        .collect()
}

/// One histogram series as an OTLP point of its kind.
pub enum HistogramPoint {
    /// An explicit-bucket point.
    Explicit(HistogramDataPoint),
    /// An exponential point.
    Exponential(ExponentialHistogramDataPoint),
}

impl Series<Histogram> {
    /// This series as an OTLP point with the given start and time (Unix nanoseconds).
    pub fn to_point(&self, start_time_unix_nano: u64, time_unix_nano: u64) -> HistogramPoint {
        let exemplars = otlp_exemplars(&self.exemplars, time_unix_nano);
        histogram_point(&self.value, self.attributes.clone(), start_time_unix_nano, time_unix_nano, exemplars)
    }
}

/// A histogram as an OTLP point of its kind.
pub fn histogram_point(
    h: &Histogram,
    attributes: Vec<KeyValue>,
    start_time_unix_nano: u64,
    time_unix_nano: u64,
    exemplars: Vec<OtlpExemplar>,
) -> HistogramPoint {
    match h {
        Histogram::Explicit(h) => HistogramPoint::Explicit(HistogramDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            count: h.count,
            sum: Some(h.sum),
            bucket_counts: h.counts.clone(),
            explicit_bounds: h.bounds.to_vec(),
            exemplars,
            ..Default::default()
        }),
        Histogram::Exponential(h) => {
            let buckets = |(offset, counts): (i32, Vec<u64>)| exponential_histogram_data_point::Buckets {
                offset,
                bucket_counts: counts,
            };
            let nonempty = h.count() > 0;
            HistogramPoint::Exponential(ExponentialHistogramDataPoint {
                attributes,
                start_time_unix_nano,
                time_unix_nano,
                count: h.count(),
                sum: Some(h.sum()),
                scale: h.scale(),
                zero_count: h.zero_count(),
                positive: Some(buckets(h.positive())),
                negative: Some(buckets(h.negative())),
                exemplars,
                min: nonempty.then(|| h.min()),
                max: nonempty.then(|| h.max()),
                ..Default::default()
            })
        }
    }
}
