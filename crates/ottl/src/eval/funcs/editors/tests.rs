//! Unit tests of the editors: each statement runs through the public compile and group API
//! on a one-record request, and the test reads the resulting attributes.

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

use crate::eval::{compile_statement, ErrorMode, StatementGroup};
use crate::{parse_statement, CheckErrorKind, CheckOptions, Context};

fn s(v: &str) -> AnyValue {
    AnyValue { value: Some(any_value::Value::StringValue(v.into())) }
}
fn i(v: i64) -> AnyValue {
    AnyValue { value: Some(any_value::Value::IntValue(v)) }
}
fn list(items: Vec<AnyValue>) -> AnyValue {
    AnyValue { value: Some(any_value::Value::ArrayValue(ArrayValue { values: items })) }
}
fn map(entries: Vec<(&str, AnyValue)>) -> AnyValue {
    AnyValue { value: Some(any_value::Value::KvlistValue(KeyValueList { values: kvs(entries) })) }
}
fn kvs(entries: Vec<(&str, AnyValue)>) -> Vec<KeyValue> {
    entries.into_iter().map(|(k, v)| KeyValue { key: k.into(), value: Some(v), ..Default::default() }).collect()
}

fn group(context: Context, statements: &[&str]) -> StatementGroup {
    let statements = statements
        .iter()
        .map(|t| {
            let parsed = parse_statement(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            compile_statement(&parsed, &CheckOptions::new(context)).unwrap_or_else(|e| panic!("{t}: {e:?}"))
        })
        .collect();
    StatementGroup { context, conditions: vec![], statements, error_mode: ErrorMode::Propagate }
}

fn compile_error(context: Context, text: &str) -> CheckErrorKind {
    let parsed = parse_statement(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    match compile_statement(&parsed, &CheckOptions::new(context)) {
        Ok(_) => panic!("{text}: compiled"),
        Err(mut errors) => errors.remove(0).kind,
    }
}

/// Runs the statements on one log record with these attributes; returns the attributes
/// (sorted by key) or the run-time error.
fn on_log(attrs: Vec<(&str, AnyValue)>, statements: &[&str]) -> Result<Vec<(String, AnyValue)>, String> {
    let mut req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord { attributes: kvs(attrs), ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    group(Context::Log, statements).run_logs(&mut req, &mut |_, _| {}).map_err(|e| e.message().to_string())?;
    let mut out: Vec<(String, AnyValue)> = req.resource_logs[0].scope_logs[0].log_records[0]
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn sorted(entries: Vec<(&str, AnyValue)>) -> Vec<(String, AnyValue)> {
    let mut out: Vec<(String, AnyValue)> = entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn append_to_list_scalar_and_missing() {
    let out = on_log(
        vec![("l", list(vec![s("a")])), ("x", s("b"))],
        &[
            r#"append(attributes["l"], "c")"#,
            r#"append(attributes["x"], values=[1, 2])"#,
            r#"append(attributes["new"], 7)"#,
        ],
    )
    .expect("runs");
    assert_eq!(
        out,
        sorted(vec![
            ("l", list(vec![s("a"), s("c")])),
            ("new", list(vec![i(7)])),
            ("x", list(vec![s("b"), i(1), i(2)])),
        ])
    );
}

#[test]
fn append_to_a_map_fails_and_needs_a_value() {
    let err = on_log(vec![("m", map(vec![("k", s("v"))]))], &[r#"append(attributes["m"], "x")"#]).unwrap_err();
    assert!(err.contains("unsupported type of target field"), "{err}");
    let kind = compile_error(Context::Log, r#"append(attributes["m"])"#);
    assert!(kind.to_string().contains("at least one of the optional arguments"), "{kind}");
}

#[test]
fn delete_index_single_range_and_bounds() {
    let l = || list(vec![s("a"), s("b"), s("c"), s("d")]);
    let out = on_log(vec![("l", l())], &[r#"delete_index(attributes["l"], 1)"#]).expect("runs");
    assert_eq!(out, sorted(vec![("l", list(vec![s("a"), s("c"), s("d")]))]));
    let out = on_log(vec![("l", l())], &[r#"delete_index(attributes["l"], 1, 3)"#]).expect("runs");
    assert_eq!(out, sorted(vec![("l", list(vec![s("a"), s("d")]))]));
    let out = on_log(vec![("l", l())], &[r#"delete_index(attributes["l"], 0, 4)"#]).expect("runs");
    assert_eq!(out, sorted(vec![("l", list(vec![]))]));
    let err = on_log(vec![("l", l())], &[r#"delete_index(attributes["l"], 4)"#]).unwrap_err();
    assert!(err.contains("startIndex 4 out of bounds for slice of length 4"), "{err}");
    let err = on_log(vec![("l", l())], &[r#"delete_index(attributes["l"], 2, 1)"#]).unwrap_err();
    assert!(err.contains("endIndex 1 cannot be less than startIndex 2"), "{err}");
}

#[test]
fn flatten_prefix_and_depth() {
    let attrs = || {
        vec![
            ("a", map(vec![("b", map(vec![("c", i(1))])), ("l", list(vec![s("x"), map(vec![("k", s("v"))])]))])),
            ("top", s("t")),
        ]
    };
    let out = on_log(attrs(), &[r#"flatten(attributes, "p")"#]).expect("runs");
    assert_eq!(out, sorted(vec![("p.a.b.c", i(1)), ("p.a.l.0", s("x")), ("p.a.l.1.k", s("v")), ("p.top", s("t"))]));
    let out = on_log(attrs(), &["flatten(attributes, depth=1)"]).expect("runs");
    assert_eq!(
        out,
        sorted(vec![
            ("a.b", map(vec![("c", i(1))])),
            ("a.l", list(vec![s("x"), map(vec![("k", s("v"))])])),
            ("top", s("t")),
        ])
    );
    let kind = compile_error(Context::Log, "flatten(attributes, depth=0)");
    assert!(kind.to_string().contains("must be greater than 0"), "{kind}");
}

#[test]
fn flatten_resolve_conflicts_suffixes_later_values() {
    let attrs = vec![
        ("a", map(vec![("b", s("first"))])),
        ("a.b", s("second")),
        ("s", map(vec![("one", list(vec![s("only")])), ("two", list(vec![s("x"), s("y")]))])),
    ];
    let out = on_log(attrs, &["flatten(attributes, resolveConflicts=true)"]).expect("runs");
    assert_eq!(
        out,
        sorted(vec![
            ("a.b", s("first")),
            ("a.b.0", s("second")),
            ("s.one", s("only")),
            ("s.two", s("x")),
            ("s.two.0", s("y"))
        ])
    );
}

#[test]
fn limit_keeps_priority_keys_first() {
    let attrs = vec![("a", i(1)), ("b", i(2)), ("c", i(3)), ("d", i(4))];
    let out = on_log(attrs.clone(), &[r#"limit(attributes, 2, ["c"])"#]).expect("runs");
    assert_eq!(out, sorted(vec![("a", i(1)), ("c", i(3))]));
    let out = on_log(attrs, &[r#"limit(attributes, 4, [])"#]).expect("runs");
    assert_eq!(out.len(), 4);
    let kind = compile_error(Context::Log, r#"limit(attributes, 1, ["a", "b"])"#);
    assert!(kind.to_string().contains("cannot be less than number of priority attributes 2"), "{kind}");
}

#[test]
fn merge_maps_strategies() {
    let attrs = || vec![("keep", s("old")), ("src", map(vec![("keep", s("new")), ("add", s("added"))]))];
    let src = || map(vec![("keep", s("new")), ("add", s("added"))]);
    let out = on_log(attrs(), &[r#"merge_maps(attributes, attributes["src"], "insert")"#]).expect("runs");
    assert_eq!(out, sorted(vec![("add", s("added")), ("keep", s("old")), ("src", src())]));
    let out = on_log(attrs(), &[r#"merge_maps(attributes, attributes["src"], "update")"#]).expect("runs");
    assert_eq!(out, sorted(vec![("keep", s("new")), ("src", src())]));
    let out = on_log(attrs(), &[r#"merge_maps(attributes, attributes["src"], "upsert")"#]).expect("runs");
    assert_eq!(out, sorted(vec![("add", s("added")), ("keep", s("new")), ("src", src())]));
    let err = on_log(attrs(), &[r#"merge_maps(attributes, attributes["keep"], "upsert")"#]).unwrap_err();
    assert!(err.contains("expected pcommon.Map but got string"), "{err}");
    let kind = compile_error(Context::Log, r#"merge_maps(attributes, attributes["src"], "merge")"#);
    assert!(kind.to_string().contains("must be 'insert', 'update' or 'upsert'"), "{kind}");
}

#[test]
fn replace_match_and_replace_all_matches_use_globs() {
    let attrs = || vec![("path", s("/api/v1/users")), ("n", i(5)), ("other", s("health"))];
    let out = on_log(attrs(), &[r#"replace_match(attributes["path"], "/api/*", "API")"#]).expect("runs");
    assert_eq!(out, sorted(vec![("n", i(5)), ("other", s("health")), ("path", s("API"))]));
    let out = on_log(attrs(), &[r#"replace_match(attributes["other"], "/api/*", "API")"#]).expect("runs");
    assert_eq!(out, sorted(attrs()));
    let out = on_log(attrs(), &[r#"replace_all_matches(attributes, "{/api/*,heal?h}", "X")"#]).expect("runs");
    assert_eq!(out, sorted(vec![("n", i(5)), ("other", s("X")), ("path", s("X"))]));
    let kind = compile_error(Context::Log, r#"replace_match(attributes["p"], "[a", "x")"#);
    assert!(kind.to_string().contains("not a valid pattern"), "{kind}");
    let kind = compile_error(Context::Log, r#"replace_match(attributes["p"], "*", "x", FNV)"#);
    assert!(kind.to_string().contains("cannot be the replacement function"), "{kind}");
}

fn span_named(name: &str, kind: i32, attrs: Vec<(&str, AnyValue)>) -> Span {
    Span { name: name.into(), kind, attributes: kvs(attrs), ..Default::default() }
}

fn rename(spans: Vec<Span>, statement: &str) -> Vec<Span> {
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    };
    group(Context::Span, &[statement]).run_traces(&mut req, &mut |_, _| {}).expect("runs");
    std::mem::take(&mut req.resource_spans[0].scope_spans[0].spans)
}

#[test]
fn set_semconv_span_name_by_kind() {
    const SERVER: i32 = 2;
    const CLIENT: i32 = 3;
    const PRODUCER: i32 = 4;
    let spans = vec![
        span_named("/users/123", SERVER, vec![("http.request.method", s("GET")), ("http.route", s("/users/{id}"))]),
        span_named(
            "q",
            CLIENT,
            vec![
                ("db.system.name", s("postgresql")),
                ("db.operation.name", s("SELECT")),
                ("db.namespace", s("shop")),
                ("db.collection.name", s("orders")),
            ],
        ),
        span_named(
            "call",
            CLIENT,
            vec![("rpc.system", s("grpc")), ("rpc.service", s("Greeter")), ("rpc.method", s("Hello"))],
        ),
        span_named(
            "send",
            PRODUCER,
            vec![
                ("messaging.system", s("kafka")),
                ("messaging.operation.name", s("publish")),
                ("messaging.destination.name", s("orders")),
            ],
        ),
        span_named("internal", 1, vec![("http.request.method", s("GET"))]),
    ];
    let out = rename(spans, r#"set_semconv_span_name("1.37.0", "original_name")"#);
    let names: Vec<&str> = out.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["GET /users/{id}", "SELECT shop.orders", "Greeter/Hello", "publish orders", "internal"]);
    assert_eq!(switchyard_pdata::attrs::get_str(&out[0].attributes, "original_name"), Some("/users/123"));
    assert_eq!(switchyard_pdata::attrs::get_str(&out[4].attributes, "original_name"), None);
}

#[test]
fn set_semconv_span_name_checks_its_arguments() {
    let kind = compile_error(Context::Span, r#"set_semconv_span_name("1.26.0")"#);
    assert!(kind.to_string().contains("must be 1.37.0 or later"), "{kind}");
    let kind = compile_error(Context::Span, r#"set_semconv_span_name("1.38.0", "")"#);
    assert!(kind.to_string().contains("cannot be an empty string"), "{kind}");
}

#[test]
fn stringify_all_turns_top_level_values_into_strings() {
    let attrs = vec![
        ("s", s("text")),
        ("n", i(42)),
        ("d", AnyValue { value: Some(any_value::Value::DoubleValue(1.5)) }),
        ("b", AnyValue { value: Some(any_value::Value::BoolValue(true)) }),
        ("m", map(vec![("k", i(1))])),
        ("l", list(vec![s("a"), i(2)])),
    ];
    let out = on_log(attrs, &["stringify_all(attributes)"]).expect("runs");
    assert_eq!(
        out,
        sorted(vec![
            ("b", s("true")),
            ("d", s("1.5")),
            ("l", s(r#"["a",2]"#)),
            ("m", s(r#"{"k":1}"#)),
            ("n", s("42")),
            ("s", s("text")),
        ])
    );
}

#[test]
fn truncate_all_counts_the_marker_toward_the_limit_and_keeps_utf8_whole() {
    let out = on_log(
        vec![("long", s("abcdefghij")), ("short", s("abc")), ("accent", s("aéé")), ("n", i(1234567))],
        &[r#"truncate_all(attributes, 6, truncation_marker="...")"#],
    )
    .expect("runs");
    let get = |k: &str| out.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    assert_eq!(get("long"), Some(s("abc...")), "6 bytes including the marker");
    assert_eq!(get("short"), Some(s("abc")), "short values are left alone");
    assert_eq!(get("accent"), Some(s("aéé")), "5 bytes: within the limit");
    assert_eq!(get("n"), Some(i(1234567)), "only strings are cut");
    let out = on_log(vec![("accent", s("aééé"))], &["truncate_all(attributes, 4)"]).expect("runs");
    assert_eq!(out[0].1, s("aé"), "never half a character (é is 2 bytes)");
    let kind = compile_error(Context::Log, r#"truncate_all(attributes, 2, truncation_marker="...")"#);
    assert!(kind.to_string().contains("cannot be longer than the limit"), "{kind}");
}

#[test]
fn replace_match_hashes_the_replacement_with_the_function_and_format() {
    let out = on_log(
        vec![("path", s("/api/users/42")), ("other", s("/health"))],
        &[r#"replace_all_matches(attributes, "/api/*", "secret", SHA256, "sha:%s")"#],
    )
    .expect("runs");
    // sha256("secret"), formatted.
    let want = "sha:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    assert_eq!(out.iter().find(|(k, _)| k == "path").map(|(_, v)| v.clone()), Some(s(want)));
    assert_eq!(out.iter().find(|(k, _)| k == "other").map(|(_, v)| v.clone()), Some(s("/health")));
    let out = on_log(vec![("path", s("/api/users/42"))], &[r#"replace_match(attributes["path"], "/api/*", "x", MD5)"#])
        .expect("runs");
    assert_eq!(out[0].1, s("9dd4e461268c8034f5c8564e155c67a6"), "md5(\"x\")");
}
