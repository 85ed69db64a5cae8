//! OTLP metrics from series: a monotonic sum of counts, a histogram of either kind.

use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::metrics::v1::{
    metric, number_data_point, Exemplar, ExponentialHistogram, Histogram as OtlpHistogram, Metric, NumberDataPoint, Sum,
};

use super::config::Temporality;
use super::histogram::{otlp_exemplars, HistogramPoint};
use super::series::Series;

/// The points of one histogram metric, of the kind the connector is configured for.
#[derive(Default)]
pub struct HistogramPoints {
    explicit: Vec<switchyard_pdata::proto::metrics::v1::HistogramDataPoint>,
    exponential: Vec<switchyard_pdata::proto::metrics::v1::ExponentialHistogramDataPoint>,
}

impl HistogramPoints {
    /// Adds a point.
    pub fn push(&mut self, p: HistogramPoint) {
        match p {
            HistogramPoint::Explicit(p) => self.explicit.push(p),
            HistogramPoint::Exponential(p) => self.exponential.push(p),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.explicit.is_empty() && self.exponential.is_empty()
    }
}

impl Series<u64> {
    /// This count as an OTLP integer point; `value` is what to report (a new cumulative
    /// series reports 0 first, see the connectors).
    pub fn to_number_point(&self, start_time_unix_nano: u64, time_unix_nano: u64, value: u64) -> NumberDataPoint {
        let exemplars = otlp_exemplars(&self.exemplars, time_unix_nano);
        number_point(self.attributes.clone(), start_time_unix_nano, time_unix_nano, value, exemplars)
    }
}

/// An integer OTLP point.
pub fn number_point(
    attributes: Vec<KeyValue>,
    start_time_unix_nano: u64,
    time_unix_nano: u64,
    value: u64,
    exemplars: Vec<Exemplar>,
) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano,
        time_unix_nano,
        exemplars,
        value: Some(number_data_point::Value::AsInt(i64::try_from(value).unwrap_or(i64::MAX))),
        ..Default::default()
    }
}

/// A monotonic sum (a counter).
pub fn sum_metric(name: String, unit: &str, temporality: Temporality, data_points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name,
        unit: unit.to_string(),
        data: Some(metric::Data::Sum(Sum {
            data_points,
            aggregation_temporality: temporality.otlp(),
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

/// A histogram metric: explicit if the points are, exponential otherwise.
pub fn histogram_metric(name: String, unit: &str, temporality: Temporality, points: HistogramPoints) -> Metric {
    let data = if points.exponential.is_empty() {
        metric::Data::Histogram(OtlpHistogram {
            data_points: points.explicit,
            aggregation_temporality: temporality.otlp(),
        })
    } else {
        metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: points.exponential,
            aggregation_temporality: temporality.otlp(),
        })
    };
    Metric { name, unit: unit.to_string(), data: Some(data), ..Default::default() }
}
