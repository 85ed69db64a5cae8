//! Prometheus remote write 1.0 messages (`prometheus/prompb/{remote,types}.proto`), written
//! by hand for prost: only what a writer sends. Field numbers are the wire contract.

/// `prometheus.WriteRequest`: the body of one remote-write POST (before snappy).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series, each with its samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Type, help and unit per metric family (`send_metadata`).
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// One series: its labels (sorted by name, `__name__` included) and its points.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// In timestamp order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Trace links.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histogram points.
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// A label pair (shared with the `prometheus` exporter's translation).
pub use crate::exporters::prometheus_translate::Label;

/// One float sample.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value (StaleNaN marks the series stale).
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// An exemplar: a trace that contributed to the series.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// `trace_id`, `span_id` and filtered attributes.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The measured value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// A native (sparse, exponential) histogram point.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Observations (integer histograms).
    #[prost(oneof = "HistogramCount", tags = "1, 2")]
    pub count: Option<HistogramCount>,
    /// Sum of observations.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// Resolution: buckets are `(2^(2^-schema))^i`.
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// Width of the zero bucket.
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    #[prost(oneof = "HistogramZeroCount", tags = "6, 7")]
    pub zero_count: Option<HistogramZeroCount>,
    /// Spans of negative buckets.
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    /// Negative bucket counts, delta-encoded.
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    /// Spans of positive buckets.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Positive bucket counts, delta-encoded.
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// Counter reset hint (0 = unknown).
    #[prost(int32, tag = "14")]
    pub reset_hint: i32,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}

/// `Histogram.count`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum HistogramCount {
    /// Integer count.
    #[prost(uint64, tag = "1")]
    CountInt(u64),
    /// Float count.
    #[prost(double, tag = "2")]
    CountFloat(f64),
}

/// `Histogram.zero_count`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum HistogramZeroCount {
    /// Integer count.
    #[prost(uint64, tag = "6")]
    ZeroCountInt(u64),
    /// Float count.
    #[prost(double, tag = "7")]
    ZeroCountFloat(f64),
}

/// A run of consecutive buckets.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct BucketSpan {
    /// Gap to the previous span (or the first bucket index).
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Buckets in the run.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// Metadata of one metric family.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// [`MetricType`] as i32.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The family name (without `_bucket`/`_sum`/`_count`).
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// Description.
    #[prost(string, tag = "4")]
    pub help: String,
    /// Unit.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `MetricMetadata.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum MetricType {
    /// Counter.
    Counter = 1,
    /// Gauge.
    Gauge = 2,
    /// Classic histogram.
    Histogram = 3,
    /// Summary.
    Summary = 5,
}
