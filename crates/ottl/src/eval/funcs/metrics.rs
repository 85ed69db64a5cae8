//! The transform processor's metric editors: kind conversions (`convert_gauge_to_sum`,
//! `convert_sum_to_gauge`, `convert_summary_count_val_to_sum`,
//! `convert_summary_sum_val_to_sum`), `copy_metric`, `scale_metric` and
//! `merge_histogram_buckets`, and `extract_sum_metric`/`extract_count_metric`.
//!
//! In the metric context an editor changes the metric directly. In the datapoint context a
//! conversion needs the whole metric while only one point is at hand, so it is queued
//! ([`EvalContext::defer`]) and applied after the metric's last point; new metrics are
//! appended to the end of the scope and then walked too, as upstream's loop does.

// Builders return the shared `EditorBuilder` signature, whose error is the checker's
// `CheckError` (large, but built only at config load).
#![allow(clippy::result_large_err)]

#[cfg(test)]
mod tests;

use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::number_data_point::Value as Number;
use switchyard_pdata::proto::metrics::v1::{
    exemplar, AggregationTemporality, Gauge, HistogramDataPoint, Metric, NumberDataPoint, Sum,
};
use switchyard_pdata::walk::DataPointMut;

use super::{Args, EditorBuilder};
use crate::check::CheckError;
use crate::eval::context::{EvalContext, Item};
use crate::eval::expr::{EditorFn, Expr};
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn editor(name: &str) -> Option<EditorBuilder> {
    Some(match name {
        "convert_gauge_to_sum" => convert_gauge_to_sum,
        "convert_sum_to_gauge" => convert_sum_to_gauge,
        "convert_summary_count_val_to_sum" => convert_summary_count_val_to_sum,
        "convert_summary_sum_val_to_sum" => convert_summary_sum_val_to_sum,
        "copy_metric" => copy_metric,
        "scale_metric" => scale_metric,
        "merge_histogram_buckets" => merge_histogram_buckets,
        "extract_sum_metric" => extract_sum_metric,
        "extract_count_metric" => extract_count_metric,
        _ => return None,
    })
}

/// Runs `op` on the enclosing metric: now in the metric context, after the metric's points
/// in the datapoint context. A metric `op` returns is appended to the scope.
fn on_metric(cx: &mut EvalContext<'_>, op: impl FnOnce(&mut Metric) -> Option<Metric> + Send + 'static) {
    match cx.metric_mut() {
        Some(m) => {
            if let Some(new) = op(m) {
                cx.defer(move |_| Some(new));
            }
        }
        None => cx.defer(op),
    }
}

fn temporality_arg(args: &Args<'_>, i: usize) -> Result<i32, CheckError> {
    match args.string(i)?.as_str() {
        "delta" => Ok(AggregationTemporality::Delta as i32),
        "cumulative" => Ok(AggregationTemporality::Cumulative as i32),
        other => Err(args.error(i, format!("unknown aggregation temporality: {other}"))),
    }
}

fn bool_arg(args: &Args<'_>, i: usize) -> Result<bool, CheckError> {
    args.opt_bool(i)?.ok_or_else(|| args.error(i, format!("`{}` needs true or false here", args.name())))
}

/// A float64 parameter: a number literal (an integer literal is taken as a float).
fn float_arg(args: &Args<'_>, i: usize) -> Result<f64, CheckError> {
    match args.expr(i)? {
        Expr::Lit(Value::Double(d)) => Ok(d),
        Expr::Lit(Value::Int(n)) => Ok(n as f64),
        _ => Err(args.error(i, format!("`{}` needs a number literal here", args.name()))),
    }
}

/// `convert_gauge_to_sum(aggregation_temporality, is_monotonic)`: a gauge becomes a sum
/// with the same points; other kinds are left alone.
fn convert_gauge_to_sum(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let temporality = temporality_arg(args, 0)?;
    let monotonic = bool_arg(args, 1)?;
    Ok(Box::new(move |cx| {
        on_metric(cx, move |m| {
            if let Some(Data::Gauge(g)) = &mut m.data {
                let data_points = std::mem::take(&mut g.data_points);
                m.data =
                    Some(Data::Sum(Sum { data_points, aggregation_temporality: temporality, is_monotonic: monotonic }));
            }
            None
        });
        Ok(())
    }))
}

/// `convert_sum_to_gauge()`: a sum becomes a gauge with the same points.
fn convert_sum_to_gauge(_args: &Args<'_>) -> Result<EditorFn, CheckError> {
    Ok(Box::new(|cx| {
        on_metric(cx, |m| {
            if let Some(Data::Sum(s)) = &mut m.data {
                let data_points = std::mem::take(&mut s.data_points);
                m.data = Some(Data::Gauge(Gauge { data_points }));
            }
            None
        });
        Ok(())
    }))
}

/// Which value of a summary point becomes the new sum's value.
#[derive(Clone, Copy)]
enum SummaryPart {
    Count,
    Sum,
}

fn summary_to_sum(args: &Args<'_>, part: SummaryPart, default_suffix: &str) -> Result<EditorFn, CheckError> {
    let temporality = temporality_arg(args, 0)?;
    let monotonic = bool_arg(args, 1)?;
    let suffix = args.opt_string(2)?.unwrap_or_else(|| default_suffix.to_string());
    Ok(Box::new(move |cx| {
        let suffix = suffix.clone();
        on_metric(cx, move |m| {
            let Some(Data::Summary(summary)) = &m.data else { return None };
            let data_points = summary
                .data_points
                .iter()
                .map(|p| NumberDataPoint {
                    attributes: p.attributes.clone(),
                    start_time_unix_nano: p.start_time_unix_nano,
                    time_unix_nano: p.time_unix_nano,
                    value: Some(match part {
                        SummaryPart::Count => Number::AsInt(p.count as i64),
                        SummaryPart::Sum => Number::AsDouble(p.sum),
                    }),
                    ..Default::default()
                })
                .collect();
            Some(Metric {
                name: format!("{}{suffix}", m.name),
                description: m.description.clone(),
                unit: m.unit.clone(),
                data: Some(Data::Sum(Sum {
                    data_points,
                    aggregation_temporality: temporality,
                    is_monotonic: monotonic,
                })),
                ..Default::default()
            })
        });
        Ok(())
    }))
}

/// `convert_summary_count_val_to_sum(aggregation_temporality, is_monotonic, suffix)`: adds
/// a sum named `<name>.count` holding each summary point's count.
fn convert_summary_count_val_to_sum(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    summary_to_sum(args, SummaryPart::Count, ".count")
}

/// `convert_summary_sum_val_to_sum(aggregation_temporality, is_monotonic, suffix)`: adds a
/// sum named `<name>.sum` holding each summary point's sum.
fn convert_summary_sum_val_to_sum(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    summary_to_sum(args, SummaryPart::Sum, ".sum")
}

fn string_of(v: Value<'_>, what: &str) -> Result<String, EvalError> {
    match v {
        Value::Str(s) => Ok(s.into_owned()),
        other => Err(EvalError::new(format!("expected string for {what} but got {}", other.type_name()))),
    }
}

/// `copy_metric(name, description, unit)`: appends a copy of the metric to its scope, with
/// the given fields replaced.
fn copy_metric(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let name = args.opt_expr(0)?;
    let description = args.opt_expr(1)?;
    let unit = args.opt_expr(2)?;
    Ok(Box::new(move |cx| {
        let name = name.as_ref().map(|e| e.eval(cx).and_then(|v| string_of(v, "name"))).transpose()?;
        let description =
            description.as_ref().map(|e| e.eval(cx).and_then(|v| string_of(v, "description"))).transpose()?;
        let unit = unit.as_ref().map(|e| e.eval(cx).and_then(|v| string_of(v, "unit"))).transpose()?;
        on_metric(cx, move |m| {
            let mut copy = m.clone();
            if let Some(n) = name {
                copy.name = n;
            }
            if let Some(d) = description {
                copy.description = d;
            }
            if let Some(u) = unit {
                copy.unit = u;
            }
            Some(copy)
        });
        Ok(())
    }))
}

/// `scale_metric(factor, unit)`: multiplies every value of a gauge, sum, histogram (sum,
/// min, max, bounds, exemplars) or summary (sum, quantile values); integers are truncated
/// back. Exponential histograms are an error, as upstream.
fn scale_metric(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let factor = float_arg(args, 0)?;
    let unit = args.opt_expr(1)?;
    Ok(Box::new(move |cx| {
        let unit = match &unit {
            Some(e) => Some(
                string_of(e.eval(cx)?, "unit")
                    .map_err(|e| EvalError::new(format!("could not get unit from ScaleArguments: {e}")))?,
            ),
            None => None,
        };
        let m = cx.metric_mut().ok_or_else(|| EvalError::new("scale_metric needs the metric context"))?;
        match &mut m.data {
            Some(Data::Gauge(Gauge { data_points })) | Some(Data::Sum(Sum { data_points, .. })) => {
                for p in data_points {
                    match &mut p.value {
                        Some(Number::AsInt(i)) => *i = (*i as f64 * factor) as i64,
                        Some(Number::AsDouble(d)) => *d *= factor,
                        None => {}
                    }
                }
            }
            Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| scale_histogram_point(p, factor)),
            Some(Data::Summary(s)) => {
                for p in &mut s.data_points {
                    p.sum *= factor;
                    for q in &mut p.quantile_values {
                        q.value *= factor;
                    }
                }
            }
            Some(Data::ExponentialHistogram(_)) => {
                return Err(EvalError::new("exponential histograms are not supported by the 'scale_metric' function"))
            }
            None => return Err(EvalError::new("unsupported metric type: 'Empty'")),
        }
        if let Some(u) = unit {
            m.unit = u;
        }
        Ok(())
    }))
}

fn scale_histogram_point(p: &mut HistogramDataPoint, factor: f64) {
    for v in [&mut p.sum, &mut p.min, &mut p.max].into_iter().flatten() {
        *v *= factor;
    }
    for b in &mut p.explicit_bounds {
        *b *= factor;
    }
    for e in &mut p.exemplars {
        match &mut e.value {
            Some(exemplar::Value::AsInt(i)) => *i = (*i as f64 * factor) as i64,
            Some(exemplar::Value::AsDouble(d)) => *d *= factor,
            None => {}
        }
    }
}

/// `merge_histogram_buckets(bound)` (datapoint context): the bucket ending at `bound` is
/// merged into the next one and the bound removed. Points whose bounds and counts do not
/// line up, or without that bound, are left alone.
fn merge_histogram_buckets(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let bound = float_arg(args, 0)?;
    if args.has(1) {
        return Err(args.not_implemented(1, "`merge_histogram_buckets` with a method"));
    }
    Ok(Box::new(move |cx| {
        if let Item::DataPoint { point: DataPointMut::Histogram(p), .. } = &mut cx.item {
            merge_bucket(p, bound);
        }
        Ok(())
    }))
}

fn merge_bucket(p: &mut HistogramDataPoint, bound: f64) {
    if p.explicit_bounds.len() + 1 != p.bucket_counts.len() || p.bucket_counts.len() == 1 {
        return;
    }
    let Some(i) = p.explicit_bounds.iter().position(|b| (b - bound).abs() < 1e-12) else { return };
    p.bucket_counts[i + 1] += p.bucket_counts[i];
    p.bucket_counts.remove(i);
    p.explicit_bounds.remove(i);
}

/// What `extract_*_metric` reads from each (exponential) histogram or summary point.
#[derive(Clone, Copy)]
enum Extract {
    Sum,
    Count,
}

fn extract_metric(args: &Args<'_>, what: Extract) -> Result<EditorFn, CheckError> {
    let monotonic = bool_arg(args, 0)?;
    let (default_suffix, name) = match what {
        Extract::Sum => (".sum", "extract_sum_metric"),
        Extract::Count => (".count", "extract_count_metric"),
    };
    let suffix = args.opt_string(1)?.unwrap_or_else(|| default_suffix.to_string());
    Ok(Box::new(move |cx| {
        let m = cx.metric_mut().ok_or_else(|| EvalError::new(format!("{name} needs the metric context")))?;
        let point = |attributes: &[KeyValue], start: u64, time: u64, value: Number| NumberDataPoint {
            attributes: attributes.to_vec(),
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(value),
            ..Default::default()
        };
        // Histogram sums are optional: a point without one gives no sum point.
        let pick = |sum: Option<f64>, count: u64| match what {
            Extract::Sum => sum.map(Number::AsDouble),
            Extract::Count => Some(Number::AsInt(count as i64)),
        };
        let (temporality, data_points): (i32, Vec<NumberDataPoint>) = match &m.data {
            Some(Data::Histogram(h)) => (
                h.aggregation_temporality,
                h.data_points
                    .iter()
                    .filter_map(|p| {
                        pick(p.sum, p.count).map(|v| point(&p.attributes, p.start_time_unix_nano, p.time_unix_nano, v))
                    })
                    .collect(),
            ),
            Some(Data::ExponentialHistogram(h)) => (
                h.aggregation_temporality,
                h.data_points
                    .iter()
                    .filter_map(|p| {
                        pick(p.sum, p.count).map(|v| point(&p.attributes, p.start_time_unix_nano, p.time_unix_nano, v))
                    })
                    .collect(),
            ),
            // Summaries have no temporality; upstream takes them as cumulative.
            Some(Data::Summary(s)) => (
                AggregationTemporality::Cumulative as i32,
                s.data_points
                    .iter()
                    .filter_map(|p| {
                        pick(Some(p.sum), p.count)
                            .map(|v| point(&p.attributes, p.start_time_unix_nano, p.time_unix_nano, v))
                    })
                    .collect(),
            ),
            _ => (0, Vec::new()),
        };
        if temporality == AggregationTemporality::Unspecified as i32 {
            return Err(EvalError::new(format!(
                "{name} requires an input metric of type Histogram, ExponentialHistogram or Summary, got {}",
                kind_name(&m.data)
            )));
        }
        if data_points.is_empty() {
            return Ok(());
        }
        let new = Metric {
            name: format!("{}{suffix}", m.name),
            description: m.description.clone(),
            // A count has no unit of the measured values.
            unit: match what {
                Extract::Sum => m.unit.clone(),
                Extract::Count => "1".to_string(),
            },
            data: Some(Data::Sum(Sum { data_points, aggregation_temporality: temporality, is_monotonic: monotonic })),
            ..Default::default()
        };
        cx.defer(move |_| Some(new));
        Ok(())
    }))
}

/// pdata's name of a metric type, for messages.
fn kind_name(data: &Option<Data>) -> &'static str {
    match data {
        None => "Empty",
        Some(Data::Gauge(_)) => "Gauge",
        Some(Data::Sum(_)) => "Sum",
        Some(Data::Histogram(_)) => "Histogram",
        Some(Data::ExponentialHistogram(_)) => "ExponentialHistogram",
        Some(Data::Summary(_)) => "Summary",
    }
}

/// `extract_sum_metric(monotonic, suffix)`: adds a sum `<name>.sum` of each point's sum.
fn extract_sum_metric(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    extract_metric(args, Extract::Sum)
}

/// `extract_count_metric(monotonic, suffix)`: adds a sum `<name>.count` (unit `1`) of
/// each point's count.
fn extract_count_metric(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    extract_metric(args, Extract::Count)
}
