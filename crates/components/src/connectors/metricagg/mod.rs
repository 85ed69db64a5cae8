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

/// The metrics consumer behind a traces → metrics connector's router; a clear build error
/// when the connector is wired otherwise.
pub fn spans_to_metrics(
    set: &switchyard_core::component::Settings,
    ty: &str,
    from: switchyard_pdata::Signal,
    next: switchyard_core::consumer::AnyRouter,
) -> Result<switchyard_core::consumer::DynConsumer<switchyard_pdata::Metrics>, switchyard_core::component::BuildError> {
    use switchyard_core::component::BuildError;
    let switchyard_core::consumer::AnyRouter::Metrics(router) = next else {
        return Err(BuildError::new(set, format!("{ty} connects traces to metrics, not to {}", next.signal())));
    };
    if from != switchyard_pdata::Signal::Traces {
        return Err(BuildError::new(set, format!("{ty} connects traces to metrics, not {from}")));
    }
    Ok(router.all().clone())
}
