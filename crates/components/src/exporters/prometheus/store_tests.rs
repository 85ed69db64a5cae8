use super::*;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope};
use opentelemetry_proto::tonic::metrics::v1::{
    summary_data_point::ValueAtQuantile, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

pub(crate) fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

pub(crate) fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: resource, ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope { name: "lib".into(), version: "1.2".into(), ..Default::default() }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

pub(crate) fn point(start_s: u64, t_s: u64, v: f64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: start_s * 1_000_000_000,
        time_unix_nano: t_s * 1_000_000_000,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

pub(crate) fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: format!("{name} help"),
        data: Some(data),
        ..Default::default()
    }
}

pub(crate) fn sum(monotonic: bool, t: AggregationTemporality, points: Vec<NumberDataPoint>) -> Data {
    Data::Sum(Sum { data_points: points, aggregation_temporality: t as i32, is_monotonic: monotonic })
}

pub(crate) fn hist(start_s: u64, t_s: u64, counts: Vec<u64>, bounds: Vec<f64>, sum: f64) -> HistogramDataPoint {
    HistogramDataPoint {
        start_time_unix_nano: start_s * 1_000_000_000,
        time_unix_nano: t_s * 1_000_000_000,
        count: counts.iter().sum(),
        sum: Some(sum),
        bucket_counts: counts,
        explicit_bounds: bounds,
        ..Default::default()
    }
}

pub(crate) fn resource() -> Vec<KeyValue> {
    vec![
        kv("service.name", "api"),
        kv("service.namespace", "shop"),
        kv("service.instance.id", "i-1"),
        kv("host.name", "h1"),
    ]
}

fn store() -> Store {
    Store::new(Translation { suffixes: true, ..Default::default() }, Duration::from_secs(300))
}

/// (metric name, labels, value) per series.
type SeriesValues = Vec<(String, Vec<(String, String)>, Value)>;

fn values(s: &Store) -> SeriesValues {
    s.collect()
        .iter()
        .map(|s| {
            let labels = s.labels.iter().map(|l| (l.name.clone(), l.value.clone())).collect();
            (s.name.clone(), labels, s.value.clone())
        })
        .collect()
}

fn number_of(s: &Store, name: &str) -> f64 {
    match s.collect().iter().find(|x| x.name == name).map(|x| x.value.clone()) {
        Some(Value::Number(v)) => v,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn a_series_keeps_its_latest_value_and_ignores_older_points() {
    let s = store();
    let c = |t, v| {
        metric(
            "http.requests",
            "1",
            sum(true, AggregationTemporality::Cumulative, vec![point(1, t, v, vec![kv("http.method", "GET")])]),
        )
    };
    assert_eq!(s.accumulate(&request(resource(), vec![c(10, 5.0)])).stored, 1);
    s.accumulate(&request(resource(), vec![c(20, 7.0)]));
    let out = s.accumulate(&request(resource(), vec![c(15, 6.0)]));
    assert_eq!(out.stored, 0, "an older point is ignored");
    let v = values(&s);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].0, "http_requests_total");
    assert_eq!(v[0].2, Value::Number(7.0));
    let labels: Vec<&str> = v[0].1.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(labels, ["http_method", "instance", "job", "otel_scope_name", "otel_scope_version"]);
    assert!(v[0].1.contains(&("job".into(), "shop/api".into())));
    assert!(v[0].1.contains(&("instance".into(), "i-1".into())));
    assert!(!v[0].1.iter().any(|(k, _)| k == "host_name"), "resource attributes stay in target_info");
}

#[test]
fn monotonic_delta_sums_are_accumulated_when_aligned_and_restart_when_not() {
    let s = store();
    let d =
        |start, t, v| metric("jobs", "", sum(true, AggregationTemporality::Delta, vec![point(start, t, v, vec![])]));
    s.accumulate(&request(resource(), vec![d(0, 10, 3.0)]));
    s.accumulate(&request(resource(), vec![d(10, 20, 4.0)]));
    assert_eq!(number_of(&s, "jobs_total"), 7.0);
    assert_eq!(s.collect()[0].start_ns, 0, "the start is the first point's");
    // A gap: the series restarts from this delta.
    s.accumulate(&request(resource(), vec![d(25, 30, 2.0)]));
    assert_eq!(number_of(&s, "jobs_total"), 2.0);
}

#[test]
fn non_monotonic_delta_sums_and_unspecified_temporality_are_dropped_and_counted() {
    let s = store();
    let out = s.accumulate(&request(
        resource(),
        vec![
            metric(
                "queue",
                "",
                sum(false, AggregationTemporality::Delta, vec![point(0, 1, 1.0, vec![]), point(0, 1, 2.0, vec![])]),
            ),
            metric("odd", "", sum(true, AggregationTemporality::Unspecified, vec![point(0, 1, 1.0, vec![])])),
        ],
    ));
    assert_eq!((out.stored, out.unsupported), (0, 3));
    assert!(out.first_drop.unwrap_or_default().contains("non-monotonic delta"));
    assert_eq!(s.series_count(), 0);
}

#[test]
fn delta_histograms_add_up_bucket_by_bucket_and_misaligned_points_are_dropped() {
    let s = store();
    let h = |p: HistogramDataPoint| {
        metric(
            "latency",
            "ms",
            Data::Histogram(Histogram {
                data_points: vec![p],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            }),
        )
    };
    s.accumulate(&request(resource(), vec![h(hist(0, 10, vec![1, 2, 0], vec![5.0, 10.0], 20.0))]));
    s.accumulate(&request(resource(), vec![h(hist(10, 20, vec![0, 1, 3], vec![5.0, 10.0], 100.0))]));
    let want = Value::Histogram { count: 7, sum: 120.0, bounds: vec![5.0, 10.0], counts: vec![1, 3, 3] };
    assert_eq!(values(&s)[0].2, want);
    assert_eq!(values(&s)[0].0, "latency_milliseconds");
    // Starting inside the held interval: two writers; dropped.
    let out = s.accumulate(&request(resource(), vec![h(hist(15, 25, vec![1, 0, 0], vec![5.0, 10.0], 1.0))]));
    assert_eq!(out.misaligned, 1);
    assert_eq!(values(&s)[0].2, want);
    // Starting after it: a reset.
    s.accumulate(&request(resource(), vec![h(hist(30, 40, vec![1, 0, 0], vec![5.0, 10.0], 1.0))]));
    assert_eq!(
        values(&s)[0].2,
        Value::Histogram { count: 1, sum: 1.0, bounds: vec![5.0, 10.0], counts: vec![1, 0, 0] }
    );
}

#[test]
fn cumulative_histograms_summaries_and_exponential_histograms_are_kept_as_they_come() {
    let s = store();
    let summary = SummaryDataPoint {
        time_unix_nano: 5_000_000_000,
        count: 4,
        sum: 10.0,
        quantile_values: vec![
            ValueAtQuantile { quantile: 0.5, value: 2.0 },
            ValueAtQuantile { quantile: 0.99, value: 4.0 },
        ],
        ..Default::default()
    };
    let exp = ExponentialHistogramDataPoint {
        time_unix_nano: 5_000_000_000,
        count: 9,
        sum: Some(90.0),
        scale: 3,
        ..Default::default()
    };
    s.accumulate(&request(
        resource(),
        vec![
            metric("rpc.duration", "s", Data::Summary(Summary { data_points: vec![summary] })),
            metric(
                "size",
                "By",
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![exp],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
            metric(
                "lat",
                "",
                Data::Histogram(Histogram {
                    data_points: vec![hist(0, 5, vec![2, 1], vec![1.0], 3.5)],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
        ],
    ));
    let v = values(&s);
    let names: Vec<&str> = v.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(names, ["lat", "rpc_duration_seconds", "size_bytes"]);
    assert_eq!(v[1].2, Value::Summary { count: 4, sum: 10.0, quantiles: vec![(0.5, 2.0), (0.99, 4.0)] });
    assert_eq!(v[2].2, Value::Histogram { count: 9, sum: 90.0, bounds: vec![], counts: vec![] });
    assert_eq!(s.collect()[2].kind, Kind::Histogram);
}

#[test]
fn series_expire_when_not_updated_and_no_recorded_value_removes_one() {
    let s = Store::new(Translation::default(), Duration::from_millis(50));
    let g = |name: &str, flags| {
        let mut p = point(0, 1, 1.0, vec![]);
        p.flags = flags;
        metric(name, "", Data::Gauge(Gauge { data_points: vec![p] }))
    };
    s.accumulate(&request(resource(), vec![g("a", 0), g("b", 0)]));
    assert_eq!(s.collect().len(), 2);
    s.accumulate(&request(resource(), vec![g("b", NO_RECORDED_VALUE)]));
    assert_eq!(s.collect().iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["a"]);
    std::thread::sleep(Duration::from_millis(80));
    assert!(s.collect().is_empty(), "expired");
    assert_eq!(s.series_count(), 0, "and removed from memory");
}

#[test]
fn namespace_const_labels_resource_promotion_and_suffixes_follow_the_config() {
    let tr = Translation {
        namespace: "app".into(),
        suffixes: false,
        const_labels: vec![Label::new("env", "prod"), Label::new("http_method", "const-loses")],
        resource_to_telemetry: true,
    };
    let s = Store::new(tr, Duration::from_secs(60));
    s.accumulate(&request(
        resource(),
        vec![metric(
            "http.requests",
            "1",
            sum(true, AggregationTemporality::Cumulative, vec![point(0, 1, 2.0, vec![kv("http.method", "GET")])]),
        )],
    ));
    let v = values(&s);
    assert_eq!(v[0].0, "app_http_requests");
    let get = |k: &str| v[0].1.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("env"), Some("prod"));
    assert_eq!(get("http_method"), Some("GET"), "a point's attribute wins over a const label");
    assert_eq!(get("host_name"), Some("h1"), "resource attributes promoted");
    assert_eq!(get("service_name"), Some("api"));
    assert_eq!(get("job"), Some("shop/api"));
}

#[test]
fn a_resource_with_job_and_instance_has_a_target() {
    let s = store();
    let g = metric("g", "", Data::Gauge(Gauge { data_points: vec![point(0, 1, 1.0, vec![])] }));
    s.accumulate(&request(resource(), vec![g.clone()]));
    let t = s.collect()[0].target.clone().expect("target");
    assert_eq!(t.key, ("shop/api".to_string(), "i-1".to_string()));
    assert_eq!(
        t.labels,
        vec![Label::new("host_name", "h1"), Label::new("instance", "i-1"), Label::new("job", "shop/api")]
    );
    // No instance: no target_info (as the Collector).
    let s = store();
    s.accumulate(&request(vec![kv("service.name", "api"), kv("host.name", "h1")], vec![g]));
    assert!(s.collect()[0].target.is_none());
}
