//! The semantic check: functions, arguments, paths and enums, with positions and suggestions.

use super::stmt;
use crate::{check_statement, CheckErrorKind, CheckOptions, Component, Context, PathPrefixes};

fn errors(context: Context, text: &str) -> Vec<crate::CheckError> {
    check_statement(&stmt(text), &CheckOptions::new(context))
}

fn one(context: Context, text: &str) -> crate::CheckError {
    let mut e = errors(context, text);
    assert_eq!(e.len(), 1, "{text}: {e:#?}");
    e.remove(0)
}

#[test]
fn valid_statements_have_no_errors() {
    for (ctx, s) in [
        (
            Context::Span,
            r#"set(attributes["test"], "pass") where status.code == STATUS_CODE_ERROR and kind.string == "Server""#,
        ),
        (Context::Span, r#"replace_pattern(name, "\\?.*", "", SHA256, "x%s")"#),
        (Context::Span, r#"set(attributes["a"], Concat([resource.attributes["x"], instrumentation_scope.name], "-"))"#),
        (Context::SpanEvent, r#"set(attributes["n"], span.name) where span.status.code == 2"#),
        (Context::DataPoint, r#"set(metric.description, "Sum") where metric.type == METRIC_DATA_TYPE_SUM"#),
        (Context::Log, r#"flatten(attributes, depth=1, resolveConflicts=true) where IsMatch(body.string, "^x")"#),
        (Context::Log, r#"set(cache["a"], trace_id.string) where severity_number >= SEVERITY_NUMBER_WARN"#),
        (Context::Metric, "scale_metric(10.0, \"s\") where name == \"a\""),
        (Context::Resource, r#"set(cache["x"], schema_url)"#),
    ] {
        let e = errors(ctx, s);
        assert!(e.is_empty(), "{s}: {e:#?}");
    }
}

#[test]
fn unknown_function_suggests() {
    let e = one(Context::Span, r#"set(attributes["a"], Concatt([name], "-"))"#);
    assert_eq!(e.kind, CheckErrorKind::UnknownFunction { name: "Concatt".into() });
    assert_eq!(e.suggestion.as_deref(), Some("Concat"));
    assert_eq!((e.position.line, e.position.column), (1, 22));
    assert!(e.to_string().contains("unknown function `Concatt`; did you mean `Concat`?"), "{e}");
}

#[test]
fn editor_and_converter_case_rules() {
    let e = one(Context::Span, r#"Concat([name], "-")"#);
    assert_eq!(e.kind, CheckErrorKind::ConverterAsEditor { name: "Concat".into() });
    let e = one(Context::Span, r#"set(attributes["a"], set(name, 1))"#);
    assert_eq!(e.kind, CheckErrorKind::EditorAsConverter { name: "set".into() });
    let e = one(Context::Span, r#"set(attributes["a"], concat([name], "-"))"#);
    assert_eq!(e.suggestion.as_deref(), Some("Concat"));
    let e = one(Context::Span, r#"set(attributes["a"], 1)["x"]"#);
    assert_eq!(e.kind, CheckErrorKind::IndexedEditor { name: "set".into() });
}

#[test]
fn unknown_path_suggests() {
    let e = one(Context::Span, r#"set(attribute["x"], "y")"#);
    assert_eq!(e.kind, CheckErrorKind::UnknownPath { path: "attribute[\"x\"]".into(), context: "span" });
    assert_eq!(e.suggestion.as_deref(), Some("attributes"));
    assert_eq!(e.position.column, 5);
    let e = one(Context::Span, "set(status.cod, 1)");
    assert_eq!(e.suggestion.as_deref(), Some("code"));
    assert_eq!(e.position.column, 12);
    let e = one(Context::Log, "set(resource.name, \"x\")");
    assert_eq!(e.kind, CheckErrorKind::UnknownPath { path: "resource.name".into(), context: "resource" });
    let e = one(Context::Span, r#"set(name["x"], "y")"#);
    assert!(matches!(e.kind, CheckErrorKind::BadKeys { .. }), "{e:?}");
    // A misspelled context prefix in a grouped statement reads as an unknown field.
    let e = one(Context::Span, r#"set(resorce.attributes["a"], 1)"#);
    assert_eq!(e.suggestion.as_deref(), Some("resource"));
    assert_eq!(one(Context::Span, "set(attributes[\"a\"], resource)").suggestion, None);
    // cache belongs to the statement's own context only.
    assert!(matches!(one(Context::Span, "set(resource.cache, 1)").kind, CheckErrorKind::UnknownPath { .. }));
}

#[test]
fn required_prefixes() {
    let opts = CheckOptions::new(Context::Span).prefixes(PathPrefixes::Required);
    let e = check_statement(&stmt(r#"set(span.attributes["a"], attributes["b"])"#), &opts);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(matches!(e[0].kind, CheckErrorKind::MissingContext { .. }));
    assert_eq!(e[0].suggestion.as_deref(), Some("span.attributes[\"b\"]"));
    let e = check_statement(&stmt(r#"set(spna.name, "x")"#), &opts);
    assert!(matches!(e[0].kind, CheckErrorKind::UnknownContext { .. }));
    assert_eq!(e[0].suggestion.as_deref(), Some("span"));
    assert!(check_statement(&stmt(r#"set(span.name, resource.attributes["x"])"#), &opts).is_empty());
}

#[test]
fn unknown_enum_suggests() {
    let e = one(Context::Span, "set(kind, SPAN_KIND_SEVER)");
    assert_eq!(e.kind, CheckErrorKind::UnknownEnum { name: "SPAN_KIND_SEVER".into(), context: "span" });
    assert_eq!(e.suggestion.as_deref(), Some("SPAN_KIND_SERVER"));
    // Both the span-only path and the span-only enum are reported in a log statement.
    assert_eq!(errors(Context::Log, "set(kind, SPAN_KIND_SERVER)").len(), 2);
}

#[test]
fn arguments() {
    let e = one(Context::Span, "set(name)");
    assert_eq!(e.kind, CheckErrorKind::Arity { name: "set".into(), expected: "2 arguments".into(), got: 1 });
    let e = one(Context::Log, "flatten(attributes, deepth=1)");
    assert_eq!(e.suggestion.as_deref(), Some("depth"));
    let e = one(Context::Log, "flatten(attributes, depth=1, \"p\")");
    assert_eq!(e.kind, CheckErrorKind::PositionalAfterNamed);
    let e = one(Context::Log, "flatten(attributes, \"p\", prefix=\"q\")");
    assert!(matches!(e.kind, CheckErrorKind::DuplicateArgument { .. }));
    let e = one(Context::Span, r#"replace_pattern(name, "a", "b", SHA257)"#);
    assert_eq!(e.suggestion.as_deref(), Some("SHA256"));
    let e = one(Context::Span, "set(name, Murmur3Hash)");
    assert!(matches!(e.kind, CheckErrorKind::FunctionNameAsValue { .. }));
}

#[test]
fn context_and_component_specific_functions() {
    let e = one(Context::Log, "convert_sum_to_gauge()");
    assert!(matches!(e.kind, CheckErrorKind::NotAvailable { .. }));
    let opts = CheckOptions::new(Context::Resource).component(Component::Transform);
    let e = check_statement(&stmt("route()"), &opts);
    assert_eq!(e.len(), 1);
    assert!(e[0].to_string().contains("for the transform component"), "{}", e[0]);
    let opts = CheckOptions::new(Context::Resource).component(Component::Routing);
    assert!(check_statement(&stmt("route() where attributes[\"a\"] == 1"), &opts).is_empty());
}
