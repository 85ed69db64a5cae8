//! Paths per context and context inference.

use super::{cond, stmt};
use crate::ast::Condition;
use crate::{infer_context, Context, InferError, Signal};

fn infer(signal: Signal, statements: &[&str]) -> Result<Context, InferError> {
    let parsed: Vec<_> = statements.iter().map(|s| stmt(s)).collect();
    infer_context(signal, &parsed, &[])
}

fn infer_cond(signal: Signal, text: &str) -> Result<Context, InferError> {
    let c = Condition { text: text.to_string(), expr: cond(text) };
    infer_context(signal, &[], &[c])
}

#[test]
fn lowest_prefixed_context_wins() {
    assert_eq!(infer(Signal::Traces, &[r#"set(span.name, resource.attributes["x"])"#]), Ok(Context::Span));
    assert_eq!(infer(Signal::Traces, &[r#"set(resource.attributes["x"], spanevent.name)"#]), Ok(Context::SpanEvent));
    assert_eq!(infer(Signal::Metrics, &["set(metric.name, datapoint.attributes[\"a\"])"]), Ok(Context::DataPoint));
    assert_eq!(
        infer(Signal::Logs, &["set(log.body, \"x\")", "delete_key(resource.attributes, \"k\")"]),
        Ok(Context::Log)
    );
    assert_eq!(infer(Signal::Logs, &["set(instrumentation_scope.name, \"x\")"]), Ok(Context::Scope));
    assert_eq!(
        infer_cond(Signal::Traces, "span.kind != SPAN_KIND_CLIENT or span.attributes[\"a\"] == nil"),
        Ok(Context::Span)
    );
}

#[test]
fn paths_without_prefix_give_nothing_to_infer_from() {
    assert!(matches!(infer(Signal::Traces, &[r#"set(attributes["x"], "y")"#]), Err(InferError::NoContext { .. })));
    // `status.code` reads as a context named `status`, which no signal has.
    assert!(matches!(infer(Signal::Traces, &["set(status.code, 1)"]), Err(InferError::NotForSignal { .. })));
}

#[test]
fn context_must_belong_to_the_signal() {
    let e = infer(Signal::Logs, &["set(span.name, \"x\")"]);
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("`span` is not a context of logs (one of `resource`, `scope`, `log`)".to_string())
    );
}

#[test]
fn functions_and_enums_push_inference_down() {
    // convert_sum_to_gauge exists only in metric/datapoint contexts; datapoint ranks first.
    assert_eq!(
        infer(Signal::Metrics, &[r#"convert_sum_to_gauge() where resource.attributes["a"] == "b""#]),
        Ok(Context::DataPoint)
    );
    assert_eq!(
        infer(Signal::Metrics, &[r#"copy_metric() where resource.attributes["a"] == "b""#]),
        Ok(Context::Metric)
    );
    // An enum only the span context knows.
    assert_eq!(infer(Signal::Traces, &[r#"set(resource.attributes["k"], SPAN_KIND_SERVER)"#]), Ok(Context::SpanEvent));
    let e = infer(Signal::Logs, &["set(log.attributes[\"a\"], SPAN_KIND_SERVER)"]);
    assert!(matches!(e, Err(InferError::Unsupported { what: "enum", .. })), "{e:?}");
}

#[test]
fn path_catalog_lists_documented_paths() {
    let span = Context::Span.path_names();
    for p in
        ["trace_id.string", "kind.deprecated_string", "status.code", "trace_state[\"\"]", "cache[\"\"]", "end_time"]
    {
        assert!(span.iter().any(|n| n == p), "{p} missing from {span:?}");
    }
    assert!(Context::Log.path_names().iter().any(|n| n == "body.string"));
    assert_eq!(Context::SpanEvent.higher(), &[Context::Span, Context::Resource, Context::Scope]);
    assert_eq!(
        Context::DataPoint.prefixes(),
        vec!["datapoint", "metric", "resource", "scope", "instrumentation_scope"]
    );
    assert_eq!(Context::from_name("instrumentation_scope"), Some(Context::Scope));
    assert_eq!(Context::Log.enum_value("SEVERITY_NUMBER_WARN"), Some(13));
}
