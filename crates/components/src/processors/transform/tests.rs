//! The transform processor in a pipeline graph (source → transform → sink): seed 001's
//! statements, both config forms, group conditions, error modes, and config errors placed
//! at the statement's key.

use switchyard_core::consumer::RequestContext;
use switchyard_core::testing::GraphHarness;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::metrics::v1::{metric, Gauge, Metric, ResourceMetrics, ScopeMetrics};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::value::{int_value, str_value};
use switchyard_pdata::{Metrics, SignalData, Traces};

use super::TransformProcessorFactory;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: Some(str_value(v)), ..Default::default() }
}

fn traces(spans: Vec<Span>) -> Traces {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", "checkout")], ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}

fn span(name: &str, attributes: Vec<KeyValue>) -> Span {
    Span { name: name.into(), attributes, ..Default::default() }
}

fn pipeline(processor_yaml: &str, signal: &str) -> String {
    format!(
        "receivers:\n  source:\nprocessors:\n{processor_yaml}exporters:\n  sink:\nservice:\n  pipelines:\n    {signal}:\n      receivers: [source]\n      processors: [transform]\n      exporters: [sink]\n"
    )
}

async fn run_traces(processor_yaml: &str, input: Traces) -> Result<Vec<Span>, String> {
    let h = GraphHarness::new();
    let mut r = h.registry();
    r.processor(TransformProcessorFactory).map_err(|e| e.to_string())?;
    let _graph = h.build(&r, &pipeline(processor_yaml, "traces")).map_err(|e| e.to_string())?;
    let out = h.source("source").traces.ok_or("no traces pipeline")?;
    out.consume(&RequestContext::default(), input).await.map_err(|e| e.to_string())?;
    let sink = h.sink::<Traces>("sink").ok_or("no sink")?;
    Ok(sink.batches().iter().flat_map(|b| switchyard_pdata::walk::spans(b.request()).map(|s| s.span.clone())).collect())
}

#[tokio::test]
async fn seed_001_span_statements_set_env_and_truncate() {
    let yaml = r#"  transform:
    trace_statements:
      - context: span
        statements:
          - set(attributes["env"], "production")
          - truncate_all(attributes, 4096)
"#;
    let long = "x".repeat(5000);
    let spans = run_traces(yaml, traces(vec![span("GET /", vec![kv("http.body", &long), kv("short", "ok")])]))
        .await
        .expect("runs");
    assert_eq!(spans.len(), 1);
    let a = &spans[0].attributes;
    assert_eq!(attrs::get_str(a, "env"), Some("production"));
    assert_eq!(attrs::get_str(a, "http.body").map(str::len), Some(4096), "cut to 4096 bytes");
    assert_eq!(attrs::get_str(a, "short"), Some("ok"));
}

#[tokio::test]
async fn flat_statements_infer_their_context_and_reach_the_resource() {
    let yaml = r#"  transform:
    trace_statements:
      - set(span.attributes["svc"], resource.attributes["service.name"])
      - set(span.name, "renamed") where span.attributes["svc"] == "checkout" and span.name == "a"
"#;
    let spans = run_traces(yaml, traces(vec![span("a", vec![]), span("b", vec![])])).await.expect("runs");
    assert_eq!(spans.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["renamed", "b"]);
    assert!(spans.iter().all(|s| attrs::get_str(&s.attributes, "svc") == Some("checkout")));
}

#[tokio::test]
async fn is_root_span_marks_only_the_span_without_a_parent() {
    let yaml = r#"  transform:
    trace_statements:
      - set(span.attributes["root"], true) where IsRootSpan()
"#;
    let child = Span { parent_span_id: vec![1; 8], ..span("child", vec![]) };
    let spans = run_traces(yaml, traces(vec![span("root", vec![]), child])).await.expect("runs");
    let roots: Vec<bool> = spans.iter().map(|s| attrs::get_bool(&s.attributes, "root") == Some(true)).collect();
    assert_eq!(roots, [true, false]);
}

#[tokio::test]
async fn trace_state_keys_are_read_and_written() {
    let yaml = r#"  transform:
    trace_statements:
      - set(span.attributes["vendor"], span.trace_state["vendor"])
      - set(span.trace_state["sy"], "1")
"#;
    let s = Span { trace_state: "vendor=abc,other=x".into(), ..span("a", vec![]) };
    let spans = run_traces(yaml, traces(vec![s])).await.expect("runs");
    assert_eq!(attrs::get_str(&spans[0].attributes, "vendor"), Some("abc"));
    assert_eq!(spans[0].trace_state, "sy=1,vendor=abc,other=x", "a new key goes first (W3C)");
}

#[tokio::test]
async fn group_conditions_gate_every_statement() {
    let yaml = r#"  transform:
    trace_statements:
      - context: span
        conditions:
          - attributes["http.route"] == "/health"
          - name == "ping"
        statements:
          - set(attributes["synthetic"], true)
"#;
    let spans = run_traces(
        yaml,
        traces(vec![span("GET", vec![kv("http.route", "/health")]), span("ping", vec![]), span("GET", vec![])]),
    )
    .await
    .expect("runs");
    let flagged: Vec<bool> = spans.iter().map(|s| attrs::get_bool(&s.attributes, "synthetic") == Some(true)).collect();
    assert_eq!(flagged, [true, true, false]);
}

#[tokio::test]
async fn ignore_skips_a_failing_statement_and_propagate_fails_the_request() {
    // `attributes[1]` on a map is a run-time error (upstream: invalid key type).
    let ignore = r#"  transform:
    error_mode: ignore
    trace_statements:
      - context: span
        statements:
          - set(attributes["a"], attributes[1])
          - set(attributes["b"], "after")
"#;
    let spans = run_traces(ignore, traces(vec![span("x", vec![])])).await.expect("ignore keeps going");
    assert_eq!(attrs::get_str(&spans[0].attributes, "b"), Some("after"));
    assert!(attrs::get(&spans[0].attributes, "a").is_none());

    let propagate = ignore.replace("error_mode: ignore", "error_mode: propagate");
    let err = run_traces(&propagate, traces(vec![span("x", vec![])])).await.expect_err("propagate fails");
    assert!(err.contains("set(attributes[\"a\"], attributes[1])"), "{err}");
    assert!(err.contains("invalid key type"), "{err}");
}

#[tokio::test]
async fn seed_001_metric_rename_with_concat() {
    let yaml = r#"  transform:
    metric_statements:
      - context: metric
        statements:
          - set(name, Concat([name, "_renamed"], "")) where name == "old_metric"
"#;
    let h = GraphHarness::new();
    let mut r = h.registry();
    r.processor(TransformProcessorFactory).expect("register");
    let _graph = h.build(&r, &pipeline(yaml, "metrics")).expect("builds");
    let gauge = |name: &str| Metric {
        name: name.into(),
        data: Some(metric::Data::Gauge(Gauge { data_points: vec![Default::default()] })),
        ..Default::default()
    };
    let req: Metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![gauge("old_metric"), gauge("other")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .into();
    let out = h.source("source").metrics.expect("metrics pipeline");
    out.consume(&RequestContext::default(), req).await.expect("consumed");
    let sink = h.sink::<Metrics>("sink").expect("sink");
    let names: Vec<String> = sink
        .batches()
        .iter()
        .flat_map(|b| switchyard_pdata::walk::metrics(b.request()).map(|m| m.metric.name.clone()))
        .collect();
    assert_eq!(names, ["old_metric_renamed", "other"]);
}

fn config_error(processor_yaml: &str) -> String {
    let h = GraphHarness::new();
    let mut r = h.registry();
    if let Err(e) = r.processor(TransformProcessorFactory) {
        return e.to_string();
    }
    match h.build(&r, &pipeline(processor_yaml, "traces")) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_bad_statement_is_a_config_error_at_its_line_with_did_you_mean() {
    let yaml = r#"  transform:
    trace_statements:
      - context: span
        statements:
          - set(attributes["env"], "production")
          - set(atributes["x"], "y")
"#;
    let err = config_error(yaml);
    // The statement is on line 9 of the generated file, after `- ` at column 13.
    assert!(err.contains("test.yaml:9:13:"), "{err}");
    assert!(err.contains("column 5"), "the position inside the statement: {err}");
    assert!(err.contains("trace_statements::0::statements::1"), "{err}");
    assert!(err.contains("did you mean `attributes`"), "{err}");
}

#[test]
fn unknown_functions_and_contexts_are_refused() {
    let err = config_error("  transform:\n    trace_statements:\n      - set(span.name, NoSuchThing(span.name))\n");
    assert!(err.contains("NoSuchThing"), "{err}");
    let err = config_error("  transform:\n    trace_statements:\n      - context: spna\n        statements:\n          - set(name, \"x\")\n");
    assert!(err.contains("did you mean `span`"), "{err}");
    let err = config_error("  transform:\n    trace_statements:\n      - set(log.body, \"x\")\n");
    assert!(err.contains("log"), "{err}");
}

#[test]
fn the_int_literal_helper_is_used() {
    // Keeps the helper imports honest: an int attribute prints as a number in Concat.
    let v = int_value(3);
    assert_eq!(switchyard_pdata::value::as_string(&v), "3");
}
