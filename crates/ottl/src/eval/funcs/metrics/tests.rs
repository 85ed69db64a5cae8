//! Unit tests of the metric editors, run through statement groups over a one-scope
//! metrics request, so the scope-appending walk is exercised too.

use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::number_data_point::Value as Number;
use switchyard_pdata::proto::metrics::v1::summary_data_point::ValueAtQuantile;
use switchyard_pdata::proto::metrics::v1::{
    exemplar, Exemplar, ExponentialHistogram, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};

use crate::eval::{compile_statement, ErrorMode, StatementGroup};
use crate::{parse_statement, CheckErrorKind, CheckOptions, Context};

fn attr(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

fn number(v: Number, t: u64) -> NumberDataPoint {
    NumberDataPoint {
        value: Some(v),
        time_unix_nano: t,
        attributes: vec![attr("p", &t.to_string())],
        ..Default::default()
    }
}

fn gauge(name: &str) -> Metric {
    Metric {
        name: name.into(),
        unit: "ms".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![number(Number::AsInt(10), 1), number(Number::AsDouble(2.5), 2)],
        })),
        ..Default::default()
    }
}

fn summary(name: &str) -> Metric {
    Metric {
        name: name.into(),
        description: "latency".into(),
        unit: "s".into(),
        data: Some(Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                attributes: vec![attr("route", "/a")],
                start_time_unix_nano: 5,
                time_unix_nano: 9,
                count: 1234,
                sum: 12.34,
                quantile_values: vec![ValueAtQuantile { quantile: 0.99, value: 123.0 }],
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

fn histogram(bounds: Vec<f64>, counts: Vec<u64>) -> Metric {
    Metric {
        name: "h".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                count: counts.iter().sum(),
                sum: Some(10.0),
                min: Some(1.0),
                max: Some(4.0),
                explicit_bounds: bounds,
                bucket_counts: counts,
                exemplars: vec![Exemplar { value: Some(exemplar::Value::AsInt(3)), ..Default::default() }],
                ..Default::default()
            }],
            aggregation_temporality: 2,
        })),
        ..Default::default()
    }
}

fn compile_error(context: Context, text: &str) -> CheckErrorKind {
    let parsed = parse_statement(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    match compile_statement(&parsed, &CheckOptions::new(context)) {
        Ok(_) => panic!("{text}: compiled"),
        Err(mut errors) => errors.remove(0).kind,
    }
}

/// Runs the statements in `context` over one scope holding `metrics`; returns the scope's
/// metrics afterwards, or the run-time error.
fn run(context: Context, metrics: Vec<Metric>, statements: &[&str]) -> Result<Vec<Metric>, String> {
    let statements = statements
        .iter()
        .map(|t| {
            let parsed = parse_statement(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            compile_statement(&parsed, &CheckOptions::new(context)).unwrap_or_else(|e| panic!("{t}: {e:?}"))
        })
        .collect();
    let group = StatementGroup { context, conditions: vec![], statements, error_mode: ErrorMode::Propagate };
    let mut req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics { metrics, ..Default::default() }],
            ..Default::default()
        }],
    };
    group.run_metrics(&mut req, &mut |_, _| {}).map_err(|e| e.message().to_string())?;
    Ok(std::mem::take(&mut req.resource_metrics[0].scope_metrics[0].metrics))
}

#[test]
fn gauge_to_sum_and_back_in_both_contexts() {
    for context in [Context::Metric, Context::DataPoint] {
        let out = run(context, vec![gauge("g"), summary("s")], &[r#"convert_gauge_to_sum("cumulative", true)"#])
            .expect("runs");
        let Some(Data::Sum(sum)) = &out[0].data else { panic!("{context:?}: not a sum: {:?}", out[0].data) };
        assert_eq!(sum.aggregation_temporality, 2);
        assert!(sum.is_monotonic);
        assert_eq!(sum.data_points, vec![number(Number::AsInt(10), 1), number(Number::AsDouble(2.5), 2)]);
        assert!(matches!(out[1].data, Some(Data::Summary(_))), "other kinds stay");

        let back = run(context, out, &["convert_sum_to_gauge()"]).expect("runs");
        let Some(Data::Gauge(g)) = &back[0].data else { panic!("{context:?}: not a gauge") };
        assert_eq!(g.data_points.len(), 2);
    }
    let kind = compile_error(Context::Metric, r#"convert_gauge_to_sum("sometimes", true)"#);
    assert!(kind.to_string().contains("unknown aggregation temporality: sometimes"), "{kind}");
}

#[test]
fn datapoint_edits_survive_a_conversion_of_their_metric() {
    let out = run(
        Context::DataPoint,
        vec![gauge("g")],
        &[r#"convert_gauge_to_sum("delta", false)"#, r#"set(attributes["seen"], "yes")"#],
    )
    .expect("runs");
    let Some(Data::Sum(sum)) = &out[0].data else { panic!("not a sum") };
    assert_eq!(sum.aggregation_temporality, 1);
    assert!(sum.data_points.iter().all(|p| switchyard_pdata::attrs::get_str(&p.attributes, "seen") == Some("yes")));
}

#[test]
fn summary_count_and_sum_become_new_sums_at_the_end_of_the_scope() {
    let out = run(
        Context::DataPoint,
        vec![summary("rpc"), gauge("g")],
        &[
            r#"convert_summary_count_val_to_sum("delta", true) where metric.name == "rpc""#,
            r#"convert_summary_sum_val_to_sum("cumulative", false, "_total") where metric.name == "rpc""#,
        ],
    )
    .expect("runs");
    let names: Vec<&str> = out.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["rpc", "g", "rpc.count", "rpc_total"]);
    let Some(Data::Sum(count)) = &out[2].data else { panic!("not a sum") };
    assert_eq!((count.aggregation_temporality, count.is_monotonic), (1, true));
    assert_eq!(count.data_points[0].value, Some(Number::AsInt(1234)));
    assert_eq!(count.data_points[0].attributes, vec![attr("route", "/a")]);
    assert_eq!((count.data_points[0].start_time_unix_nano, count.data_points[0].time_unix_nano), (5, 9));
    let Some(Data::Sum(sum)) = &out[3].data else { panic!("not a sum") };
    assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (2, false));
    assert_eq!(sum.data_points[0].value, Some(Number::AsDouble(12.34)));
    assert_eq!((out[3].description.as_str(), out[3].unit.as_str()), ("latency", "s"));
}

#[test]
fn copy_metric_appends_a_copy_that_later_statements_see() {
    let out = run(
        Context::Metric,
        vec![gauge("a"), gauge("b")],
        &[r#"copy_metric(name="a.copy", unit="s") where name == "a""#, r#"set(description, "seen")"#],
    )
    .expect("runs");
    let names: Vec<&str> = out.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "a.copy"]);
    assert_eq!(out[2].unit, "s");
    assert_eq!(out[2].data, gauge("a").data);
    assert!(out.iter().all(|m| m.description == "seen"), "the appended copy is walked too");
}

#[test]
fn scale_metric_numbers_histograms_and_summaries() {
    let out = run(Context::Metric, vec![gauge("g")], &[r#"scale_metric(0.5, "s")"#]).expect("runs");
    let Some(Data::Gauge(g)) = &out[0].data else { panic!("not a gauge") };
    assert_eq!(g.data_points[0].value, Some(Number::AsInt(5)));
    assert_eq!(g.data_points[1].value, Some(Number::AsDouble(1.25)));
    assert_eq!(out[0].unit, "s");

    let out =
        run(Context::Metric, vec![histogram(vec![1.0, 2.0], vec![1, 2, 3])], &["scale_metric(10)"]).expect("runs");
    let Some(Data::Histogram(h)) = &out[0].data else { panic!("not a histogram") };
    let p = &h.data_points[0];
    assert_eq!((p.sum, p.min, p.max), (Some(100.0), Some(10.0), Some(40.0)));
    assert_eq!(p.explicit_bounds, vec![10.0, 20.0]);
    assert_eq!(p.bucket_counts, vec![1, 2, 3]);
    assert_eq!(p.exemplars[0].value, Some(exemplar::Value::AsInt(30)));

    let out = run(Context::Metric, vec![summary("s")], &["scale_metric(2.0)"]).expect("runs");
    let Some(Data::Summary(s)) = &out[0].data else { panic!("not a summary") };
    assert_eq!((s.data_points[0].sum, s.data_points[0].quantile_values[0].value), (24.68, 246.0));
    assert_eq!(s.data_points[0].count, 1234);

    let exp = Metric {
        name: "e".into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram::default())),
        ..Default::default()
    };
    let err = run(Context::Metric, vec![exp], &["scale_metric(2.0)"]).unwrap_err();
    assert!(err.contains("exponential histograms are not supported"), "{err}");
}

#[test]
fn merge_histogram_buckets_folds_a_bucket_into_the_next() {
    let out = run(
        Context::DataPoint,
        vec![histogram(vec![1.0, 2.0, 5.0], vec![1, 2, 3, 4])],
        &["merge_histogram_buckets(2.0)"],
    )
    .expect("runs");
    let Some(Data::Histogram(h)) = &out[0].data else { panic!("not a histogram") };
    assert_eq!(h.data_points[0].explicit_bounds, vec![1.0, 5.0]);
    assert_eq!(h.data_points[0].bucket_counts, vec![1, 5, 4]);

    for (bounds, counts) in [(vec![1.0, 2.0], vec![1, 2, 3]), (vec![1.0, 2.0], vec![1, 2])] {
        let out =
            run(Context::DataPoint, vec![histogram(bounds.clone(), counts.clone())], &["merge_histogram_buckets(7)"])
                .expect("runs");
        let Some(Data::Histogram(h)) = &out[0].data else { panic!("not a histogram") };
        assert_eq!((&h.data_points[0].explicit_bounds, &h.data_points[0].bucket_counts), (&bounds, &counts));
    }
    let kind = compile_error(Context::DataPoint, r#"merge_histogram_buckets(32, method="limit_buckets")"#);
    assert!(matches!(kind, CheckErrorKind::NotImplemented { .. }), "{kind}");
}

#[test]
fn sum_without_conversion_is_untouched() {
    let sum = Metric {
        name: "s".into(),
        data: Some(Data::Sum(Sum {
            data_points: vec![number(Number::AsInt(1), 1)],
            aggregation_temporality: 1,
            is_monotonic: true,
        })),
        ..Default::default()
    };
    let out = run(Context::Metric, vec![sum.clone()], &[r#"convert_gauge_to_sum("cumulative", false)"#]).expect("runs");
    assert_eq!(out, vec![sum]);
}

#[test]
fn extract_sum_and_count_metrics_from_histograms_and_summaries() {
    let mut h = histogram(vec![1.0], vec![2, 3]);
    h.unit = "ms".into();
    let out = run(
        Context::Metric,
        vec![h, summary("q"), gauge("g")],
        &[
            r#"extract_sum_metric(true) where name == "h" or name == "q""#,
            r#"extract_count_metric(false, "_n") where name == "h""#,
        ],
    )
    .expect("runs");
    let names: Vec<&str> = out.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["h", "q", "g", "h.sum", "h_n", "q.sum"]);
    let Some(Data::Sum(sum)) = &out[3].data else { panic!("not a sum") };
    assert_eq!((sum.aggregation_temporality, sum.is_monotonic), (2, true));
    assert_eq!(sum.data_points[0].value, Some(Number::AsDouble(10.0)));
    assert_eq!(out[3].unit, "ms");
    let Some(Data::Sum(count)) = &out[4].data else { panic!("not a sum") };
    assert_eq!((count.data_points[0].value, count.is_monotonic), (Some(Number::AsInt(5)), false));
    assert_eq!(out[4].unit, "1");
    let Some(Data::Sum(qsum)) = &out[5].data else { panic!("not a sum") };
    assert_eq!((qsum.aggregation_temporality, qsum.data_points[0].value), (2, Some(Number::AsDouble(12.34))));

    let err = run(Context::Metric, vec![gauge("g")], &["extract_count_metric(true)"]).unwrap_err();
    assert!(
        err.contains("requires an input metric of type Histogram, ExponentialHistogram or Summary, got Gauge"),
        "{err}"
    );
}
