use super::*;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope};
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point, summary_data_point::ValueAtQuantile, Gauge, Histogram as OtlpHistogram, Metric,
    ResourceMetrics, ScopeMetrics, Sum, Summary,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
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

fn number(t_ms: u64, v: f64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: t_ms * 1_000_000,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric { name: name.into(), unit: unit.into(), data: Some(data), ..Default::default() }
}

fn settings() -> Settings {
    Settings { add_suffixes: true, target_info: true, scope_info: true, ..Default::default() }
}

/// `name{k="v",...}` of every series, sorted, with its sample values.
fn dump(t: &Translated) -> Vec<String> {
    let mut out: Vec<String> = t
        .series
        .iter()
        .map(|s| {
            let labels: Vec<String> = s.labels.iter().map(|l| format!("{}=\"{}\"", l.name, l.value)).collect();
            let values: Vec<String> = s.samples.iter().map(|x| format!("{}@{}", x.value, x.timestamp)).collect();
            format!("{{{}}} {}", labels.join(","), values.join(" "))
        })
        .collect();
    out.sort();
    out
}

fn sum(monotonic: bool, temporality: AggregationTemporality, points: Vec<NumberDataPoint>) -> Data {
    Data::Sum(Sum { data_points: points, aggregation_temporality: temporality as i32, is_monotonic: monotonic })
}

#[test]
fn counters_gauges_and_updown_sums_get_their_names_and_labels() {
    let req = request(
        vec![kv("service.name", "checkout"), kv("service.namespace", "shop"), kv("service.instance.id", "pod-1")],
        vec![
            metric(
                "http.requests",
                "1",
                sum(true, AggregationTemporality::Cumulative, vec![number(1000, 5.0, vec![kv("http.method", "GET")])]),
            ),
            metric(
                "queue.depth",
                "{items}",
                sum(false, AggregationTemporality::Cumulative, vec![number(1000, -2.0, vec![])]),
            ),
            metric("cpu.utilization", "1", Data::Gauge(Gauge { data_points: vec![number(1000, 0.5, vec![])] })),
        ],
    );
    let t = translate(&req, &settings());
    let scope = r#"otel_scope_name="lib",otel_scope_version="1.2""#;
    assert_eq!(
        dump(&t),
        vec![
            format!(r#"{{__name__="cpu_utilization_ratio",instance="pod-1",job="shop/checkout",{scope}}} 0.5@1000"#),
            format!(
                r#"{{__name__="http_requests_total",http_method="GET",instance="pod-1",job="shop/checkout",{scope}}} 5@1000"#
            ),
            format!(r#"{{__name__="queue_depth",instance="pod-1",job="shop/checkout",{scope}}} -2@1000"#),
        ]
    );
    assert_eq!(t.dropped, Dropped::default());
}

#[test]
fn target_info_carries_the_other_resource_attributes_only_when_there_are_some() {
    let m = || {
        metric("up", "", Data::Gauge(Gauge { data_points: vec![number(1000, 1.0, vec![]), number(3000, 1.0, vec![])] }))
    };
    let t = translate(&request(vec![kv("service.name", "api"), kv("host.name", "h1")], vec![m()]), &settings());
    let ti: Vec<_> = dump(&t).into_iter().filter(|s| s.contains("target_info")).collect();
    assert_eq!(ti, vec![r#"{__name__="target_info",host_name="h1",job="api"} 1@3000"#.to_string()]);

    let t = translate(&request(vec![kv("service.name", "api")], vec![m()]), &settings());
    assert!(!dump(&t).iter().any(|s| s.contains("target_info")), "only service attributes: no target_info");

    let off = Settings { target_info: false, ..settings() };
    let t = translate(&request(vec![kv("service.name", "api"), kv("host.name", "h1")], vec![m()]), &off);
    assert!(!dump(&t).iter().any(|s| s.contains("target_info")));
}

#[test]
fn a_duplicated_service_name_gives_job_its_first_value() {
    let m = metric("up", "", Data::Gauge(Gauge { data_points: vec![number(1000, 1.0, vec![])] }));
    let s = Settings { target_info: false, scope_info: false, ..settings() };
    let t = translate(&request(vec![kv("service.name", "first"), kv("service.name", "second")], vec![m]), &s);
    assert_eq!(dump(&t), vec![r#"{__name__="up",job="first"} 1@1000"#.to_string()]);
}

#[test]
fn histograms_have_cumulative_buckets_inf_sum_and_count() {
    let p = HistogramDataPoint {
        time_unix_nano: 2_000_000_000,
        count: 6,
        sum: Some(123.0),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![10.0, 100.5],
        ..Default::default()
    };
    let h = Data::Histogram(OtlpHistogram {
        data_points: vec![p],
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
    });
    let s = Settings { scope_info: false, ..settings() };
    let t = translate(&request(vec![kv("service.name", "api")], vec![metric("latency", "ms", h)]), &s);
    assert_eq!(
        dump(&t),
        vec![
            r#"{__name__="latency_milliseconds_bucket",job="api",le="+Inf"} 6@2000"#,
            r#"{__name__="latency_milliseconds_bucket",job="api",le="10"} 1@2000"#,
            r#"{__name__="latency_milliseconds_bucket",job="api",le="100.5"} 3@2000"#,
            r#"{__name__="latency_milliseconds_count",job="api"} 6@2000"#,
            r#"{__name__="latency_milliseconds_sum",job="api"} 123@2000"#,
        ]
    );
}

#[test]
fn summaries_have_quantiles_sum_and_count() {
    let p = SummaryDataPoint {
        time_unix_nano: 1_000_000,
        count: 10,
        sum: 55.0,
        quantile_values: vec![
            ValueAtQuantile { quantile: 0.5, value: 5.0 },
            ValueAtQuantile { quantile: 0.99, value: 9.9 },
        ],
        ..Default::default()
    };
    let s = Settings { scope_info: false, ..settings() };
    let t =
        translate(&request(vec![], vec![metric("rpc.time", "s", Data::Summary(Summary { data_points: vec![p] }))]), &s);
    assert_eq!(
        dump(&t),
        vec![
            r#"{__name__="rpc_time_seconds",quantile="0.5"} 5@1"#,
            r#"{__name__="rpc_time_seconds",quantile="0.99"} 9.9@1"#,
            r#"{__name__="rpc_time_seconds_count"} 10@1"#,
            r#"{__name__="rpc_time_seconds_sum"} 55@1"#,
        ]
    );
}

#[test]
fn delta_temporality_is_dropped_and_counted() {
    let req = request(
        vec![],
        vec![metric(
            "d",
            "",
            sum(true, AggregationTemporality::Delta, vec![number(1, 1.0, vec![]), number(2, 1.0, vec![])]),
        )],
    );
    let t = translate(&req, &settings());
    assert!(t.series.is_empty());
    assert_eq!(t.dropped, Dropped { temporality: 2, invalid: 0 });
    assert!(t.first_drop.as_deref().is_some_and(|m| m.contains("delta temporality")), "{:?}", t.first_drop);
}

#[test]
fn no_recorded_value_becomes_the_stale_marker() {
    let mut p = number(1000, 7.0, vec![]);
    p.flags = 1;
    let t =
        translate(&request(vec![], vec![metric("g", "", Data::Gauge(Gauge { data_points: vec![p] }))]), &settings());
    assert_eq!(t.series[0].samples[0].value.to_bits(), 0x7ff0_0000_0000_0002);
}

#[test]
fn colliding_keys_join_with_semicolons_and_external_labels_do_not_override() {
    let s = Settings {
        scope_info: false,
        external_labels: vec![
            Label { name: "cluster".into(), value: "eu".into() },
            Label { name: "a_b".into(), value: "ext".into() },
        ],
        ..settings()
    };
    let p = number(1, 1.0, vec![kv("a.b", "dot"), kv("a_b", "underscore")]);
    let t = translate(&request(vec![], vec![metric("g", "", Data::Gauge(Gauge { data_points: vec![p] }))]), &s);
    assert_eq!(dump(&t), vec![r#"{__name__="g",a_b="dot;underscore",cluster="eu"} 1@1"#]);
}

#[test]
fn resource_attributes_become_labels_when_asked() {
    let s = Settings {
        scope_info: false,
        resource_to_telemetry: true,
        exclude_service_attributes: true,
        target_info: false,
        ..settings()
    };
    let p = number(1, 1.0, vec![kv("region", "point-wins")]);
    let req = request(
        vec![kv("service.name", "api"), kv("region", "eu"), kv("k8s.pod.name", "p1")],
        vec![metric("g", "", Data::Gauge(Gauge { data_points: vec![p] }))],
    );
    assert_eq!(
        dump(&translate(&req, &s)),
        vec![r#"{__name__="g",job="api",k8s_pod_name="p1",region="point-wins"} 1@1"#]
    );
}

#[test]
fn samples_of_one_series_are_merged_in_time_order_and_one_value_per_millisecond() {
    let pts = vec![
        number(3000, 3.0, vec![]),
        number(1000, 1.0, vec![]),
        number(2000, 2.0, vec![]),
        number(2000, 2.5, vec![]),
    ];
    let s = Settings { scope_info: false, ..settings() };
    let t = translate(&request(vec![], vec![metric("g", "", Data::Gauge(Gauge { data_points: pts }))]), &s);
    assert_eq!(dump(&t), vec![r#"{__name__="g"} 1@1000 2.5@2000 3@3000"#]);
}

#[test]
fn exponential_histograms_become_native_histograms() {
    let p = ExponentialHistogramDataPoint {
        time_unix_nano: 5_000_000,
        count: 10,
        sum: Some(42.0),
        scale: 2,
        zero_count: 1,
        positive: Some(exponential_histogram_data_point::Buckets {
            offset: -1,
            bucket_counts: vec![2, 0, 3, 0, 0, 0, 4],
        }),
        ..Default::default()
    };
    let h = native_histogram(&p).expect("convertible");
    assert_eq!(h.schema, 2);
    assert_eq!(h.count, Some(HistogramCount::CountInt(10)));
    assert_eq!(h.zero_count, Some(HistogramZeroCount::ZeroCountInt(1)));
    // OTLP index -1 is Prometheus index 0; the gap of one empty bucket stays in the span,
    // the gap of three starts a new one.
    assert_eq!(h.positive_spans, vec![BucketSpan { offset: 0, length: 3 }, BucketSpan { offset: 3, length: 1 }]);
    assert_eq!(h.positive_deltas, vec![2, -2, 3, 1]);
    assert_eq!(h.timestamp, 5);

    // Scale 10 is reduced to 8: four buckets merge into one.
    let fine = ExponentialHistogramDataPoint {
        scale: 10,
        count: 4,
        sum: Some(1.0),
        positive: Some(exponential_histogram_data_point::Buckets { offset: 0, bucket_counts: vec![1, 1, 1, 1] }),
        ..Default::default()
    };
    let h = native_histogram(&fine).expect("convertible");
    assert_eq!(
        (h.schema, h.positive_spans.clone(), h.positive_deltas.clone()),
        (8, vec![BucketSpan { offset: 1, length: 1 }], vec![4])
    );

    assert!(native_histogram(&ExponentialHistogramDataPoint { sum: None, ..fine.clone() }).is_none());
    assert!(native_histogram(&ExponentialHistogramDataPoint { scale: -5, ..fine }).is_none());
}

#[test]
fn metadata_is_collected_once_per_family_when_asked() {
    let s = Settings { send_metadata: true, ..settings() };
    let mut m = metric(
        "http.requests",
        "1",
        sum(true, AggregationTemporality::Cumulative, vec![number(1, 1.0, vec![]), number(2, 1.0, vec![])]),
    );
    m.description = "Requests served".into();
    let t = translate(&request(vec![], vec![m]), &s);
    assert_eq!(t.metadata.len(), 1);
    assert_eq!(t.metadata[0].metric_family_name, "http_requests_total");
    assert_eq!(t.metadata[0].r#type, MetricType::Counter as i32);
    assert_eq!(t.metadata[0].help, "Requests served");
}
