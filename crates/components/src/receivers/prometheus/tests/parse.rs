use crate::receivers::prometheus::parse::{family_of, is_openmetrics, parse, MetricType};

const TEXT: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# HELP a_histogram Help with a \\ backslash\nand newline.
# TYPE a_histogram histogram
a_histogram_bucket{le="0.05",} 24054
a_histogram_bucket{le="+Inf"} 144320
a_histogram_sum 53423
a_histogram_count 144320
nan_value NaN
"#;

#[test]
fn text_format_samples_metadata_and_escapes() {
    let e = parse(TEXT, false).expect("parses");
    assert!(!e.openmetrics);
    assert_eq!(e.samples.len(), 13);
    let s = &e.samples[0];
    assert_eq!(s.name, "http_requests_total");
    assert_eq!(s.labels, vec![("method".into(), "post".into()), ("code".into(), "200".into())]);
    assert_eq!((s.value, s.timestamp_ms), (1027.0, Some(1395066363000)));
    assert_eq!(e.samples[1].value, 3.0, "several spaces before the value");
    let dos = &e.samples[2];
    assert_eq!(dos.labels[0].1, "C:\\DIR\\FILE.TXT");
    assert_eq!(dos.labels[1].1, "Cannot find file:\n\"FILE.TXT\"");
    assert_eq!(e.samples[4].value, f64::INFINITY);
    assert_eq!(e.samples[4].timestamp_ms, Some(-3982045));
    assert!(e.samples[12].value.is_nan());
    let h = &e.families["a_histogram"];
    assert_eq!(h.typ, MetricType::Histogram);
    assert_eq!(h.help, "Help with a \\ backslash\nand newline.");
    assert_eq!(e.families["http_requests_total"].typ, MetricType::Counter);
    assert_eq!(family_of(&e.families, "a_histogram_bucket").0, "a_histogram");
    assert_eq!(family_of(&e.families, "rpc_duration_seconds_count").0, "rpc_duration_seconds");
    assert_eq!(family_of(&e.families, "metric_without_timestamp_and_labels").1, None);
}

const OM: &str = r#"# TYPE foo counter
# UNIT foo seconds
# HELP foo Total foo.
foo_total{a="1"} 17.0 1520879607.789 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 1.0 1520879607.7
foo_created{a="1"} 1520430000.123
# TYPE build info
build_info{version="1.2"} 1
# TYPE "my.dotted.metric" gauge
{"my.dotted.metric",env="x"} 5
# EOF
"#;

#[test]
fn openmetrics_created_exemplar_unit_and_utf8_names() {
    assert!(is_openmetrics("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    assert!(!is_openmetrics("text/plain; version=0.0.4"));
    let e = parse(OM, true).expect("parses");
    assert_eq!(e.samples.len(), 4);
    let foo = &e.samples[0];
    assert_eq!(foo.timestamp_ms, Some(1520879607789), "OpenMetrics timestamps are seconds");
    let ex = foo.exemplar.as_ref().expect("exemplar");
    assert_eq!(ex.value, 1.0);
    assert_eq!(ex.labels[0].0, "trace_id");
    assert_eq!(ex.timestamp_ms, Some(1520879607700));
    assert_eq!(e.families["foo"].unit, "seconds");
    assert_eq!(family_of(&e.families, "foo_total"), ("foo", e.families.get("foo")));
    assert_eq!(family_of(&e.families, "foo_created").0, "foo");
    assert_eq!(family_of(&e.families, "build_info").0, "build");
    assert_eq!(e.samples[3].name, "my.dotted.metric");
    assert_eq!(e.samples[3].labels, vec![("env".to_string(), "x".to_string())]);
    assert_eq!(e.families["my.dotted.metric"].typ, MetricType::Gauge);
}

#[test]
fn malformed_input_is_refused_with_the_line() {
    let cases: &[(&str, bool, &str)] = &[
        ("ok 1\nbad{a=\"1\" 2\n", false, "line 2"),
        ("m{a=\"unterminated} 1\n", false, "unterminated"),
        ("m 1 notatimestamp\n", false, "invalid timestamp"),
        ("m abc\n", false, "invalid value"),
        ("m{a=\"1\",a=\"2\"} 1\n", false, "duplicate label"),
        ("# TYPE m bogus\n", false, "unknown metric type"),
        ("m 1\n", true, "does not end with # EOF"),
        ("m 1\n# EOF\nm 2\n", true, "after # EOF"),
        ("9m 1\n", false, "invalid name"),
    ];
    for (text, om, want) in cases {
        let err = parse(text, *om).expect_err(text).to_string();
        assert!(err.contains(want), "{text:?}: {err}");
    }
    // A plain comment and blank lines are fine in the text format.
    assert_eq!(parse("# just a comment\n\n m 1 \n", false).unwrap().samples.len(), 1);
}
