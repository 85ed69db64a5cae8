use super::*;
use std::time::Instant;

fn series(name: &str, kind: Kind, labels: &[(&str, &str)], value: Value) -> Arc<Series> {
    Arc::new(Series {
        name: name.into(),
        kind,
        help: format!("{name} help"),
        labels: labels.iter().map(|(k, v)| Label::new(*k, *v)).collect(),
        value,
        start_ns: 0,
        time_ns: 1_700_000_000_123_000_000,
        exemplars: Vec::new(),
        target: None,
        updated: Instant::now(),
    })
}

fn text(s: &[Arc<Series>]) -> String {
    write(s, "", Format::default()).0
}

#[test]
fn counters_and_gauges_in_the_text_format() {
    let s = vec![
        series("reqs_total", Kind::Counter, &[("code", "200"), ("path", "/a\"b\\c\nd")], Value::Number(5.0)),
        series("reqs_total", Kind::Counter, &[("code", "500")], Value::Number(1.5)),
        series("temp", Kind::Gauge, &[], Value::Number(-2e-7)),
    ];
    assert_eq!(
        text(&s),
        "# HELP reqs_total reqs_total help\n# TYPE reqs_total counter\n\
         reqs_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 5\nreqs_total{code=\"500\"} 1.5\n\
         # HELP temp temp help\n# TYPE temp gauge\ntemp -2e-7\n"
    );
}

#[test]
fn histograms_are_cumulative_with_sorted_bounds_and_inf() {
    let h = Value::Histogram { count: 6, sum: 42.5, bounds: vec![10.0, 0.5, 10.0], counts: vec![3, 1, 9, 2] };
    let s = vec![series("lat_seconds", Kind::Histogram, &[("op", "get")], h)];
    assert_eq!(
        text(&s),
        "# HELP lat_seconds lat_seconds help\n# TYPE lat_seconds histogram\n\
         lat_seconds_bucket{op=\"get\",le=\"0.5\"} 1\nlat_seconds_bucket{op=\"get\",le=\"10\"} 4\n\
         lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 6\nlat_seconds_sum{op=\"get\"} 42.5\nlat_seconds_count{op=\"get\"} 6\n"
    );
    // An exponential histogram: +Inf, sum and count only.
    let e = vec![series(
        "size_bytes",
        Kind::Histogram,
        &[],
        Value::Histogram { count: 3, sum: 9.0, bounds: vec![], counts: vec![] },
    )];
    assert!(
        text(&e).ends_with("size_bytes_bucket{le=\"+Inf\"} 3\nsize_bytes_sum 9\nsize_bytes_count 3\n"),
        "{}",
        text(&e)
    );
}

#[test]
fn summaries_have_quantiles_sum_and_count() {
    let v = Value::Summary { count: 4, sum: 10.0, quantiles: vec![(0.5, 2.0), (0.99, 4.0)] };
    let s = vec![series("rpc_seconds", Kind::Summary, &[], v)];
    assert!(text(&s).ends_with(
        "# TYPE rpc_seconds summary\nrpc_seconds{quantile=\"0.5\"} 2\nrpc_seconds{quantile=\"0.99\"} 4\nrpc_seconds_sum 10\nrpc_seconds_count 4\n"
    ));
}

#[test]
fn target_info_once_per_job_and_instance_with_namespace() {
    let t = Arc::new(Target {
        key: ("shop/api".into(), "i-1".into()),
        labels: vec![Label::new("host_name", "h1"), Label::new("instance", "i-1"), Label::new("job", "shop/api")],
    });
    let mut a = (*series("a", Kind::Gauge, &[], Value::Number(1.0))).clone();
    a.target = Some(t.clone());
    let mut b = (*series("b", Kind::Gauge, &[], Value::Number(2.0))).clone();
    b.target = Some(t);
    let (out, _) = write(&[Arc::new(a), Arc::new(b)], "app", Format::default());
    assert!(out.starts_with(
        "# HELP app_target_info Target metadata\n# TYPE app_target_info gauge\n\
         app_target_info{host_name=\"h1\",instance=\"i-1\",job=\"shop/api\"} 1\n"
    ));
    assert_eq!(out.matches("target_info{").count(), 1);
}

#[test]
fn timestamps_when_asked_in_milliseconds_or_openmetrics_seconds() {
    let s = vec![series("g", Kind::Gauge, &[], Value::Number(1.0))];
    let (t, _) = write(&s, "", Format { open_metrics: false, timestamps: true });
    assert!(t.ends_with("g 1 1700000000123\n"), "{t}");
    let (om, _) = write(&s, "", Format { open_metrics: true, timestamps: true });
    assert!(om.ends_with("g 1 1700000000.123\n# EOF\n"), "{om}");
}

#[test]
fn openmetrics_counters_exemplars_and_eof() {
    let mut c = (*series("jobs_total", Kind::Counter, &[], Value::Number(3.0))).clone();
    c.exemplars = vec![Exemplar { labels: vec![Label::new("trace_id", "ab")], value: 1.0, time_ns: 2_500_000_000 }];
    let mut plain = (*series("ops", Kind::Counter, &[], Value::Number(1.0))).clone();
    plain.help = String::new();
    let mut h = (*series(
        "lat",
        Kind::Histogram,
        &[],
        Value::Histogram { count: 2, sum: 3.0, bounds: vec![1.0], counts: vec![1, 1] },
    ))
    .clone();
    h.exemplars = vec![Exemplar { labels: vec![Label::new("span_id", "cd")], value: 2.5, time_ns: 0 }];
    let (om, _) =
        write(&[Arc::new(c), Arc::new(h), Arc::new(plain)], "", Format { open_metrics: true, timestamps: false });
    assert_eq!(
        om,
        "# HELP jobs jobs_total help\n# TYPE jobs counter\njobs_total 3 # {trace_id=\"ab\"} 1 2.500\n\
         # HELP lat lat help\n# TYPE lat histogram\nlat_bucket{le=\"1\"} 1\nlat_bucket{le=\"+Inf\"} 2 # {span_id=\"cd\"} 2.5\n\
         lat_sum 3\nlat_count 2\n# TYPE ops counter\nops_total 1\n# EOF\n"
    );
    // The text format has no exemplars, no `# EOF`, and keeps the counter's full name.
    let mut c = (*series("jobs_total", Kind::Counter, &[], Value::Number(3.0))).clone();
    c.exemplars = vec![Exemplar { labels: vec![Label::new("trace_id", "ab")], value: 1.0, time_ns: 0 }];
    let t = text(&[Arc::new(c)]);
    assert!(t.ends_with("# TYPE jobs_total counter\njobs_total 3\n"), "{t}");
}

#[test]
fn a_family_with_two_types_serves_the_first_type_only() {
    let s = vec![
        series("m", Kind::Counter, &[("a", "1")], Value::Number(1.0)),
        series("m", Kind::Gauge, &[("a", "2")], Value::Number(2.0)),
    ];
    let (out, skipped) = write(&s, "", Format::default());
    assert!(out.contains("m{a=\"1\"} 1\n") && !out.contains("a=\"2\""), "{out}");
    assert_eq!(skipped, Skipped { type_conflicts: 1, first: Some("m".into()) });
}

#[test]
fn numbers_parse_back_as_go_would_print_them() {
    let f = |v: f64| {
        let mut s = String::new();
        number(&mut s, v);
        s
    };
    assert_eq!(f(0.0), "0");
    assert_eq!(f(1e21), "1e21");
    assert_eq!(f(123456.5), "123456.5");
    assert_eq!(f(f64::NAN), "NaN");
    assert_eq!(f(f64::NEG_INFINITY), "-Inf");
    assert_eq!(f(0.25), "0.25");
}
