//! Metric and data point fields (the `metric` and `datapoint` contexts).

use std::borrow::Cow;

use switchyard_pdata::proto::common::v1::AnyValue;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::number_data_point::Value as Number;
use switchyard_pdata::proto::metrics::v1::Metric;
use switchyard_pdata::walk::{DataPointMut, MetricInfoMut, MetricKind};

use super::context::{metric_type, temporality, unsupported};
use super::fields::Field;
use super::value::Value;
use super::EvalError;
use crate::paths::Context;

pub(crate) fn metric_get(m: &Metric, f: Field) -> Result<Value<'_>, EvalError> {
    use Field as F;
    Ok(match f {
        F::Name => Value::str(m.name.as_str()),
        F::Description => Value::str(m.description.as_str()),
        F::Unit => Value::str(m.unit.as_str()),
        F::Type => Value::Int(metric_type(MetricKind::of(m))),
        F::AggregationTemporality => Value::Int(temporality(&m.data)),
        F::IsMonotonic => Value::Bool(matches!(&m.data, Some(Data::Sum(s)) if s.is_monotonic)),
        F::Metadata => Value::Map(Cow::Borrowed(&m.metadata)),
        other => return Err(unsupported(Context::Metric, other)),
    })
}

pub(crate) fn metric_set(m: &mut Metric, f: Field, value: Value<'_>) {
    use Field as F;
    match (f, value) {
        (F::Name, Value::Str(s)) => m.name = s.into_owned(),
        (F::Description, Value::Str(s)) => m.description = s.into_owned(),
        (F::Unit, Value::Str(s)) => m.unit = s.into_owned(),
        (F::AggregationTemporality, Value::Int(i)) => match &mut m.data {
            Some(Data::Sum(s)) => s.aggregation_temporality = i as i32,
            Some(Data::Histogram(h)) => h.aggregation_temporality = i as i32,
            Some(Data::ExponentialHistogram(h)) => h.aggregation_temporality = i as i32,
            _ => {}
        },
        (F::IsMonotonic, Value::Bool(b)) => {
            if let Some(Data::Sum(s)) = &mut m.data {
                s.is_monotonic = b;
            }
        }
        _ => {}
    }
}

pub(crate) fn info_get<'m>(m: &'m MetricInfoMut<'_>, f: Field) -> Result<Value<'m>, EvalError> {
    use Field as F;
    Ok(match f {
        F::Name => Value::str(m.name.as_str()),
        F::Description => Value::str(m.description.as_str()),
        F::Unit => Value::str(m.unit.as_str()),
        F::Type => Value::Int(metric_type(Some(m.kind))),
        F::AggregationTemporality => Value::Int(m.aggregation_temporality.as_deref().map_or(0, |t| (*t).into())),
        F::IsMonotonic => Value::Bool(m.is_monotonic.as_deref().copied().unwrap_or(false)),
        F::Metadata => Value::Map(Cow::Borrowed(m.metadata.as_slice())),
        other => return Err(unsupported(Context::Metric, other)),
    })
}

pub(crate) fn info_set(m: &mut MetricInfoMut<'_>, f: Field, value: Value<'_>) {
    use Field as F;
    match (f, value) {
        (F::Name, Value::Str(s)) => *m.name = s.into_owned(),
        (F::Description, Value::Str(s)) => *m.description = s.into_owned(),
        (F::Unit, Value::Str(s)) => *m.unit = s.into_owned(),
        (F::AggregationTemporality, Value::Int(i)) => {
            if let Some(t) = m.aggregation_temporality.as_deref_mut() {
                *t = i as i32;
            }
        }
        (F::IsMonotonic, Value::Bool(b)) => {
            if let Some(t) = m.is_monotonic.as_deref_mut() {
                *t = b;
            }
        }
        _ => {}
    }
}

fn ints(v: &[u64]) -> Value<'static> {
    Value::List(Cow::Owned(v.iter().map(|i| switchyard_pdata::value::int_value(*i as i64)).collect()))
}

fn doubles(v: &[f64]) -> Value<'static> {
    Value::List(Cow::Owned(v.iter().map(|d| switchyard_pdata::value::double_value(*d)).collect()))
}

pub(crate) fn point_get<'p>(p: &'p DataPointMut<'_>, f: Field) -> Result<Value<'p>, EvalError> {
    use DataPointMut as P;
    use Field as F;
    Ok(match (p, f) {
        (_, F::Attributes) => Value::Map(Cow::Borrowed(p.attributes())),
        (_, F::StartTimeUnixNano) => Value::Int(p.start_time_unix_nano() as i64),
        (_, F::TimeUnixNano) => Value::Int(p.time_unix_nano() as i64),
        (_, F::StartTime) => Value::Time(p.start_time_unix_nano() as i64),
        (_, F::Time) => Value::Time(p.time_unix_nano() as i64),
        (_, F::Flags) => Value::Int(p.flags().into()),
        (P::Number(n), F::ValueDouble) => Value::Double(match n.value {
            Some(Number::AsDouble(d)) => d,
            _ => 0.0,
        }),
        (P::Number(n), F::ValueInt) => Value::Int(match n.value {
            Some(Number::AsInt(i)) => i,
            _ => 0,
        }),
        (P::Histogram(h), F::Count) => Value::Int(h.count as i64),
        (P::ExponentialHistogram(h), F::Count) => Value::Int(h.count as i64),
        (P::Summary(s), F::Count) => Value::Int(s.count as i64),
        (P::Histogram(h), F::Sum) => Value::Double(h.sum.unwrap_or(0.0)),
        (P::ExponentialHistogram(h), F::Sum) => Value::Double(h.sum.unwrap_or(0.0)),
        (P::Summary(s), F::Sum) => Value::Double(s.sum),
        (P::Histogram(h), F::BucketCounts) => ints(&h.bucket_counts),
        (P::Histogram(h), F::ExplicitBounds) => doubles(&h.explicit_bounds),
        (P::ExponentialHistogram(h), F::Scale) => Value::Int(h.scale.into()),
        (P::ExponentialHistogram(h), F::ZeroCount) => Value::Int(h.zero_count as i64),
        (P::ExponentialHistogram(h), F::PositiveOffset) => {
            Value::Int(h.positive.as_ref().map_or(0, |b| b.offset.into()))
        }
        (P::ExponentialHistogram(h), F::PositiveBucketCounts) => {
            ints(h.positive.as_ref().map_or(&[][..], |b| &b.bucket_counts))
        }
        (P::ExponentialHistogram(h), F::NegativeOffset) => {
            Value::Int(h.negative.as_ref().map_or(0, |b| b.offset.into()))
        }
        (P::ExponentialHistogram(h), F::NegativeBucketCounts) => {
            ints(h.negative.as_ref().map_or(&[][..], |b| &b.bucket_counts))
        }
        // A field the point's kind lacks reads as nil (upstream returns nil for e.g.
        // `value_double` on a histogram point).
        _ => Value::Nil,
    })
}

fn list_ints(l: &[AnyValue]) -> Option<Vec<u64>> {
    l.iter().map(|v| if let Value::Int(i) = Value::from_any(v) { Some(i as u64) } else { None }).collect()
}

pub(crate) fn point_set(p: &mut DataPointMut<'_>, f: Field, value: Value<'_>) {
    use DataPointMut as P;
    use Field as F;
    match (p, f, value) {
        (p, F::StartTimeUnixNano, Value::Int(i)) | (p, F::StartTime, Value::Time(i)) => match p {
            P::Number(n) => n.start_time_unix_nano = i as u64,
            P::Histogram(n) => n.start_time_unix_nano = i as u64,
            P::ExponentialHistogram(n) => n.start_time_unix_nano = i as u64,
            P::Summary(n) => n.start_time_unix_nano = i as u64,
        },
        (p, F::TimeUnixNano, Value::Int(i)) | (p, F::Time, Value::Time(i)) => match p {
            P::Number(n) => n.time_unix_nano = i as u64,
            P::Histogram(n) => n.time_unix_nano = i as u64,
            P::ExponentialHistogram(n) => n.time_unix_nano = i as u64,
            P::Summary(n) => n.time_unix_nano = i as u64,
        },
        (p, F::Flags, Value::Int(i)) => match p {
            P::Number(n) => n.flags = i as u32,
            P::Histogram(n) => n.flags = i as u32,
            P::ExponentialHistogram(n) => n.flags = i as u32,
            P::Summary(n) => n.flags = i as u32,
        },
        (P::Number(n), F::ValueDouble, Value::Double(d)) => n.value = Some(Number::AsDouble(d)),
        (P::Number(n), F::ValueInt, Value::Int(i)) => n.value = Some(Number::AsInt(i)),
        (P::Histogram(h), F::Count, Value::Int(i)) => h.count = i as u64,
        (P::ExponentialHistogram(h), F::Count, Value::Int(i)) => h.count = i as u64,
        (P::Summary(s), F::Count, Value::Int(i)) => s.count = i as u64,
        (P::Histogram(h), F::Sum, Value::Double(d)) => h.sum = Some(d),
        (P::ExponentialHistogram(h), F::Sum, Value::Double(d)) => h.sum = Some(d),
        (P::Summary(s), F::Sum, Value::Double(d)) => s.sum = d,
        (P::Histogram(h), F::BucketCounts, Value::List(l)) => {
            if let Some(v) = list_ints(&l) {
                h.bucket_counts = v;
            }
        }
        (P::Histogram(h), F::ExplicitBounds, Value::List(l)) => {
            let v: Option<Vec<f64>> =
                l.iter().map(|v| if let Value::Double(d) = Value::from_any(v) { Some(d) } else { None }).collect();
            if let Some(v) = v {
                h.explicit_bounds = v;
            }
        }
        (P::ExponentialHistogram(h), F::Scale, Value::Int(i)) => h.scale = i as i32,
        (P::ExponentialHistogram(h), F::ZeroCount, Value::Int(i)) => h.zero_count = i as u64,
        (P::ExponentialHistogram(h), F::PositiveOffset, Value::Int(i)) => {
            h.positive.get_or_insert_with(Default::default).offset = i as i32
        }
        (P::ExponentialHistogram(h), F::NegativeOffset, Value::Int(i)) => {
            h.negative.get_or_insert_with(Default::default).offset = i as i32
        }
        (P::ExponentialHistogram(h), F::PositiveBucketCounts, Value::List(l)) => {
            if let Some(v) = list_ints(&l) {
                h.positive.get_or_insert_with(Default::default).bucket_counts = v;
            }
        }
        (P::ExponentialHistogram(h), F::NegativeBucketCounts, Value::List(l)) => {
            if let Some(v) = list_ints(&l) {
                h.negative.get_or_insert_with(Default::default).bucket_counts = v;
            }
        }
        _ => {}
    }
}
