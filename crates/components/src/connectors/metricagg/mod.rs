//! What the connectors that turn spans into metrics (`spanmetrics`, `servicegraph`) share,
//! written once: series keyed by attribute sets with the Collector's cardinality limit,
//! expiry and exemplars ([`series`]), explicit-bucket and base-2 exponential histograms
//! ([`histogram`], [`exponential`]), the OTLP metrics they flush ([`build`]) and the config
//! pieces both read the same way ([`config`]: Go duration lists, temporality).
//!
//! Nothing here knows about spans: a connector decides which series a span feeds and with
//! which attributes; this module holds the numbers and turns them into OTLP.

pub mod build;
pub mod config;
pub mod exponential;
pub mod histogram;
pub mod series;

#[cfg(test)]
mod tests;

pub use build::{histogram_metric, number_point, sum_metric, HistogramPoints};
pub use config::Temporality;
pub use histogram::{histogram_point, Histogram, HistogramPoint, HistogramSpec};
pub use series::{key_part, Series, SeriesMap, OVERFLOW_KEY};

/// Nanoseconds since the Unix epoch, now (the clock OTLP timestamps use).
pub fn now_unix_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
