use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::metrics::v1::{metric::Data, number_data_point, Metric, ResourceMetrics};

use crate::receivers::prometheus::parse::parse;
use crate::receivers::prometheus::relabel::Labels;
use crate::receivers::prometheus::translate::{ScrapedSample, TargetInfo, Translator, SCOPE_NAME, STALE_NAN};

fn target() -> TargetInfo {
    TargetInfo { job: "api".into(), instance: "10.1.2.3:9090".into(), scheme: "http".into() }
}

/// Parses `text` and labels each sample as the scrape loop does (job, instance added).
fn scrape(tr: &mut Translator, text: &str, om: bool, ts: i64) -> ExportMetricsServiceRequest {
    let e = parse(text, om).unwrap();
    let samples: Vec<ScrapedSample> = e
        .samples
        .iter()
        .map(|s| {
            let mut labels: Labels = s.labels.iter().cloned().collect();
            labels.insert("__name__".into(), s.name.clone());
            labels.insert("job".into(), "api".into());
            labels.insert("instance".into(), "10.1.2.3:9090".into());
            ScrapedSample { labels, value: s.value, ts_ms: s.timestamp_ms.unwrap_or(ts), exemplar: s.exemplar.clone() }
        })
        .collect();
    tr.translate(&samples, &e.families, om, &target())
}

fn metric<'a>(r: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    r.resource_metrics
        .iter()
        .flat_map(|rm| rm.scope_metrics.iter().flat_map(|s| s.metrics.iter()))
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn attr(rm: &ResourceMetrics, k: &str) -> Option<String> {
    let a = &rm.resource.as_ref().unwrap().attributes;
    switchyard_pdata::attrs::get_str(a, k).map(str::to_string)
}

const BODY: &str = "# HELP reqs_total Requests.
# TYPE reqs_total counter
reqs_total{code=\"200\"} 10
reqs_total{code=\"500\"} 2
# TYPE temp gauge
temp 21.5
untyped_thing{x=\"\"} 7
# TYPE lat histogram
lat_bucket{le=\"0.1\"} 3
lat_bucket{le=\"1\"} 5
lat_bucket{le=\"+Inf\"} 6
lat_sum 2.5
lat_count 6
# TYPE rpc summary
rpc{quantile=\"0.5\"} 0.2
rpc{quantile=\"0.99\"} 0.9
rpc_sum 12
rpc_count 40
target_info{env=\"prod\",region=\"eu\"} 1
";

#[test]
fn types_resource_and_scope() {
    let mut tr = Translator::new("9.9.9");
    let r = scrape(&mut tr, BODY, false, 1_000_000);
    assert_eq!(r.resource_metrics.len(), 1);
    let rm = &r.resource_metrics[0];
    assert_eq!(attr(rm, "service.name").as_deref(), Some("api"));
    assert_eq!(attr(rm, "service.instance.id").as_deref(), Some("10.1.2.3:9090"));
    assert_eq!(attr(rm, "server.address").as_deref(), Some("10.1.2.3"));
    assert_eq!(attr(rm, "server.port").as_deref(), Some("9090"));
    assert_eq!(attr(rm, "url.scheme").as_deref(), Some("http"));
    assert_eq!(attr(rm, "env").as_deref(), Some("prod"), "target_info labels become resource attributes");
    let scope = rm.scope_metrics[0].scope.as_ref().unwrap();
    assert_eq!((scope.name.as_str(), scope.version.as_str()), (SCOPE_NAME, "9.9.9"));

    let Some(Data::Sum(sum)) = &metric(&r, "reqs_total").data else { panic!("sum") };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, 2);
    assert_eq!(sum.data_points.len(), 2);
    let p = &sum.data_points[0];
    assert_eq!(p.value, Some(number_data_point::Value::AsDouble(10.0)));
    assert_eq!(p.time_unix_nano, 1_000_000 * 1_000_000);
    assert_eq!(p.start_time_unix_nano, p.time_unix_nano, "first scrape starts the series");
    assert_eq!(switchyard_pdata::attrs::get_str(&p.attributes, "code"), Some("200"));
    assert!(
        switchyard_pdata::attrs::get_str(&p.attributes, "job").is_none(),
        "job/instance are resource, not attributes"
    );
    assert_eq!(metric(&r, "reqs_total").description, "Requests.");

    assert!(matches!(metric(&r, "temp").data, Some(Data::Gauge(_))));
    let Some(Data::Gauge(g)) = &metric(&r, "untyped_thing").data else { panic!("untyped is a gauge") };
    assert!(g.data_points[0].attributes.is_empty(), "empty label values are left out");

    let Some(Data::Histogram(h)) = &metric(&r, "lat").data else { panic!("histogram") };
    let hp = &h.data_points[0];
    assert_eq!(hp.explicit_bounds, vec![0.1, 1.0]);
    assert_eq!(hp.bucket_counts, vec![3, 2, 1], "buckets are de-cumulated");
    assert_eq!((hp.count, hp.sum), (6, Some(2.5)));
    assert!(hp.attributes.is_empty(), "le is not an attribute");

    let Some(Data::Summary(s)) = &metric(&r, "rpc").data else { panic!("summary") };
    let sp = &s.data_points[0];
    assert_eq!((sp.count, sp.sum), (40, 12.0));
    assert_eq!(sp.quantile_values.iter().map(|q| (q.quantile, q.value)).collect::<Vec<_>>(), [(0.5, 0.2), (0.99, 0.9)]);
    assert!(r.resource_metrics[0].scope_metrics[0].metrics.iter().all(|m| m.name != "target_info"));
}

fn sum_point(r: &ExportMetricsServiceRequest, name: &str) -> (u64, u64, Option<f64>, u32) {
    let Some(Data::Sum(s)) = &metric(r, name).data else { panic!("sum") };
    let p = &s.data_points[0];
    let v = match p.value {
        Some(number_data_point::Value::AsDouble(v)) => Some(v),
        _ => None,
    };
    (p.start_time_unix_nano, p.time_unix_nano, v, p.flags)
}

#[test]
fn start_times_follow_first_scrape_resets_and_created() {
    let mut tr = Translator::new("v");
    let body = |v: u32| format!("# TYPE c_total counter\nc_total {v}\n");
    let r1 = scrape(&mut tr, &body(5), false, 1000);
    let r2 = scrape(&mut tr, &body(8), false, 2000);
    let r3 = scrape(&mut tr, &body(1), false, 3000);
    assert_eq!(sum_point(&r1, "c_total").0, 1_000_000_000);
    assert_eq!(sum_point(&r2, "c_total").0, 1_000_000_000, "the start stays while the counter grows");
    assert_eq!(sum_point(&r3, "c_total").0, 3_000_000_000, "a reset starts the series again");

    // OpenMetrics: `_created` is the start, and the counter keeps its `_total` name.
    let om = "# TYPE foo counter\nfoo_total 3\nfoo_created 1700000000.5\n# EOF\n";
    let r = scrape(&mut tr, om, true, 1_800_000_000_000);
    let (start, _, v, _) = sum_point(&r, "foo_total");
    assert_eq!((start, v), (1_700_000_000_500_000_000, Some(3.0)));
    assert!(r.resource_metrics[0].scope_metrics[0].metrics.iter().all(|m| m.name != "foo_created"));
}

#[test]
fn stale_markers_become_no_recorded_value_points() {
    let mut tr = Translator::new("v");
    let mut labels: Labels = Labels::new();
    labels.insert("__name__".into(), "g".into());
    labels.insert("job".into(), "api".into());
    labels.insert("instance".into(), "h:1".into());
    let s = ScrapedSample { labels, value: f64::from_bits(STALE_NAN), ts_ms: 5, exemplar: None };
    let r = tr.translate(&[s], &Default::default(), false, &target());
    let Some(Data::Gauge(g)) = &metric(&r, "g").data else { panic!("gauge") };
    assert_eq!(g.data_points[0].flags, 1, "FLAG_NO_RECORDED_VALUE");
    assert_eq!(g.data_points[0].value, None);
    // A stale histogram keeps its buckets at zero, flagged.
    let body = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n";
    let e = parse(body, false).unwrap();
    let samples: Vec<ScrapedSample> = e
        .samples
        .iter()
        .map(|s| {
            let mut l: Labels = s.labels.iter().cloned().collect();
            l.insert("__name__".into(), s.name.clone());
            ScrapedSample { labels: l, value: f64::from_bits(STALE_NAN), ts_ms: 9, exemplar: None }
        })
        .collect();
    let r = tr.translate(&samples, &e.families, false, &target());
    let Some(Data::Histogram(h)) = &metric(&r, "h").data else { panic!("histogram") };
    assert_eq!(h.data_points[0].flags, 1);
    assert_eq!(h.data_points[0].bucket_counts, vec![0, 0]);
}

#[test]
fn exemplars_and_localhost_resources() {
    let mut tr = Translator::new("v");
    let om = "# TYPE foo counter\nfoo_total 1 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\",user=\"u\"} 1.0\n# EOF\n";
    let r = scrape(&mut tr, om, true, 1);
    let Some(Data::Sum(s)) = &metric(&r, "foo_total").data else { panic!() };
    let ex = &s.data_points[0].exemplars[0];
    assert_eq!(ex.trace_id.len(), 16);
    assert_eq!(ex.span_id, vec![0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]);
    assert_eq!(switchyard_pdata::attrs::get_str(&ex.filtered_attributes, "user"), Some("u"));
    let a = crate::receivers::prometheus::translate::resource_attributes("self", "localhost:8888", "http");
    assert!(switchyard_pdata::attrs::get_str(&a, "server.address").is_none(), "localhost is not a discernible host");
    assert_eq!(switchyard_pdata::attrs::get_str(&a, "server.port"), Some("8888"));
}
