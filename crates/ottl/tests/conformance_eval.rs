//! Runs `shared/conformance/ottl-cases.yaml` (cases distilled from the Collector contrib
//! repository's own OTTL and transform processor tests) through the evaluator, in place.
//!
//! Per case: the fixture is built as an OTLP request, the statement(s) are parsed and
//! compiled for the case's context through the public API, run as a `StatementGroup`, and
//! the result is compared with the fixture plus the case's `put`/`remove`/
//! `attributes_after`, ignoring attribute order. `error_contains` cases run with
//! `error_mode: propagate` and must fail with that text, leaving the data unchanged. The
//! `comparisons:` table goes through `eval::compare`.
//!
//! A case is skipped only when compilation reports a function not implemented yet
//! (`CheckErrorKind::NotImplemented`) or when it is listed in [`SKIP`] with its reason;
//! every other difference fails the test.

#![allow(clippy::print_stdout)]

mod support;

use std::borrow::Cow;
use std::path::Path;

use switchyard_ottl::ast::CompareOp;
use switchyard_ottl::eval::{compare, compile_statement, compile_value, ErrorMode, EvalContext, StatementGroup, Value};
use switchyard_ottl::{
    infer_context, parse_statement, parse_value_expression, CheckErrorKind, CheckOptions, Context, PathPrefixes, Signal,
};
use switchyard_pdata::walk;

use support::expect::{self, Op};
use support::fixtures::{self, Request};
use support::{to_any, Y};

/// Cases skipped for a reason other than a function being built elsewhere (which the
/// compiler reports itself), each with its reason.
const SKIP: &[(&str, &str)] = &[];

/// The least number of cases that must pass, so the test cannot pass by skipping all (the
/// count when the converters were merged).
const MIN_PASSED: usize = 79;

fn cases_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/ottl-cases.yaml")
}

enum Outcome {
    Pass,
    Skip(String),
    Fail(String),
}

#[test]
fn ottl_cases() {
    let file = support::load(&cases_file());
    let fixtures = file.get("fixtures").expect("fixtures");
    let cases = file.get("cases").expect("cases").seq();
    let (mut passed, mut skipped, mut failures) = (0, 0, Vec::new());
    for case in cases {
        let id = case.s("id").expect("case id");
        let outcome = match SKIP.iter().find(|(s, _)| *s == id) {
            Some((_, reason)) => Outcome::Skip((*reason).to_string()),
            None => run_case(fixtures, case),
        };
        match outcome {
            Outcome::Pass => {
                println!("PASS {id}");
                passed += 1;
            }
            Outcome::Skip(reason) => {
                println!("SKIP {id}: {reason}");
                skipped += 1;
            }
            Outcome::Fail(why) => {
                println!("FAIL {id}: {why}");
                failures.push(format!("{id}: {why}"));
            }
        }
    }
    println!("ottl conformance: {passed} passed, {skipped} skipped");
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
    assert!(passed >= MIN_PASSED, "only {passed} cases passed, expected at least {MIN_PASSED}");
}

fn context_of(case: &Y) -> Context {
    let name = case.s("context").expect("case context");
    Context::from_name(name).unwrap_or_else(|| panic!("unknown context {name}"))
}

fn signal_of(context: Context) -> Signal {
    match context {
        Context::Log => Signal::Logs,
        Context::Metric | Context::DataPoint => Signal::Metrics,
        _ => Signal::Traces,
    }
}

/// One statement group of a case: its context and statement texts.
struct GroupSpec {
    context: Context,
    statements: Vec<String>,
}

fn groups_of(case: &Y) -> Vec<GroupSpec> {
    if let Some(config) = case.get("transform_config") {
        return config
            .seq()
            .iter()
            .map(|g| GroupSpec {
                context: Context::from_name(g.s("context").expect("group context")).expect("known context"),
                statements: g
                    .get("statements")
                    .map(Y::seq)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| s.str().map(str::to_string))
                    .collect(),
            })
            .collect();
    }
    let statements = match (case.s("statement"), case.get("statements")) {
        (Some(s), _) => vec![s.to_string()],
        (None, Some(list)) => list.seq().iter().filter_map(|s| s.str().map(str::to_string)).collect(),
        (None, None) => Vec::new(),
    };
    vec![GroupSpec { context: context_of(case), statements }]
}

fn run_case(fixtures: &Y, case: &Y) -> Outcome {
    let fixture = case.s("fixture").expect("case fixture");
    let mut actual = fixtures::build(fixtures, fixture);
    let expect = case.get("expect").cloned().unwrap_or(Y::Null);
    if let Some(text) = case.s("value_expression") {
        return value_case(&actual, context_of(case), text, &expect);
    }
    let error_text = expect.s("error_contains");
    let inferred = case.get("context_inferred").and_then(Y::bool).unwrap_or(false);
    // The e2e log cases assert that Execute succeeds; the transform processor cases run
    // with error_mode ignore, where a run-time error leaves the record as it is.
    let strict = fixture.starts_with("log_");
    let mode = if error_text.is_some() { ErrorMode::Propagate } else { ErrorMode::Ignore };

    let mut groups = Vec::new();
    for spec in groups_of(case) {
        let mut parsed = Vec::new();
        for text in &spec.statements {
            match parse_statement(text) {
                Ok(s) => parsed.push(s),
                Err(e) => return Outcome::Fail(format!("parse error in {text:?}: {e}")),
            }
        }
        let mut options = CheckOptions::new(spec.context);
        if inferred {
            match infer_context(signal_of(spec.context), &parsed, &[]) {
                Ok(c) if c == spec.context => options = options.prefixes(PathPrefixes::Required),
                Ok(c) => {
                    return Outcome::Fail(format!("inferred context {} instead of {}", c.name(), spec.context.name()))
                }
                Err(e) => return Outcome::Fail(format!("context inference failed: {e}")),
            }
        }
        let mut statements = Vec::new();
        for s in &parsed {
            match compile_statement(s, &options) {
                Ok(c) => statements.push(c),
                Err(errors) => {
                    if let Some(e) = errors.iter().find(|e| matches!(e.kind, CheckErrorKind::NotImplemented { .. })) {
                        return Outcome::Skip(format!("not implemented yet: {}", e.kind));
                    }
                    let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    return Outcome::Fail(format!("compile error: {}", all.join("; ")));
                }
            }
        }
        groups.push(StatementGroup { context: spec.context, conditions: vec![], statements, error_mode: mode });
    }

    let mut errors = Vec::new();
    let mut first_failure = None;
    for group in &groups {
        let mut on_error = |e: &switchyard_ottl::eval::EvalError, text: &str| errors.push(format!("{text}: {e}"));
        let result = match &mut actual {
            Request::Logs(r) => group.run_logs(r, &mut on_error),
            Request::Traces(r) => group.run_traces(r, &mut on_error),
            Request::Metrics(r) => group.run_metrics(r, &mut on_error),
        };
        if let Err(e) = result {
            first_failure.get_or_insert(e);
        }
    }
    match (error_text, first_failure) {
        (Some(want), Some(got)) if got.message().contains(want) => {}
        (Some(want), Some(got)) => {
            return Outcome::Fail(format!("error {:?} does not contain {want:?}", got.message()))
        }
        (Some(want), None) => return Outcome::Fail(format!("expected an error containing {want:?}, got none")),
        (None, Some(got)) => return Outcome::Fail(format!("unexpected error: {}", got.message())),
        (None, None) => {}
    }
    if strict && !errors.is_empty() {
        return Outcome::Fail(format!("run-time errors: {}", errors.join("; ")));
    }

    let mut expected = fixtures::build(fixtures, fixture);
    if let Some(put) = expect.get("put") {
        for (path, value) in put.entries() {
            expect::apply(&mut expected, path, Op::Put(value));
        }
    }
    for path in expect.get("remove").map(Y::seq).unwrap_or_default() {
        expect::apply(&mut expected, path.str().expect("remove path"), Op::Remove);
    }
    if let Some(attrs) = expect.get("attributes_after") {
        expect::set_record_attributes(&mut expected, attrs);
    }
    expect::normalize(&mut actual);
    expect::normalize(&mut expected);
    if actual == expected {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("data differs\n  expected: {expected:?}\n  actual:   {actual:?}"))
    }
}

/// `value_expression` cases: the expression evaluated on the fixture's single log record.
fn value_case(req: &Request, context: Context, text: &str, expect: &Y) -> Outcome {
    let parsed = match parse_value_expression(text) {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(format!("parse error: {e}")),
    };
    let compiled = match compile_value(&parsed, &CheckOptions::new(context)) {
        Ok(c) => c,
        Err(errors) => {
            if let Some(e) = errors.iter().find(|e| matches!(e.kind, CheckErrorKind::NotImplemented { .. })) {
                return Outcome::Skip(format!("not implemented yet: {}", e.kind));
            }
            return Outcome::Fail(format!("compile error: {errors:?}"));
        }
    };
    let Request::Logs(logs) = req else { return Outcome::Fail("value expressions run on log fixtures".into()) };
    let want = to_any(expect.get("value").unwrap_or(&Y::Null));
    let mut logs = logs.clone();
    let mut got = None;
    walk::for_each_log_record_mut(&mut logs, |cx| {
        let cx = EvalContext::log(cx);
        got = Some(compiled.eval(&cx).map(|v| v.into_owned().into_any()));
    });
    match got {
        Some(Ok(v)) if v == want => Outcome::Pass,
        Some(Ok(v)) => Outcome::Fail(format!("value {v:?}, expected {want:?}")),
        Some(Err(e)) => Outcome::Fail(format!("error: {e}")),
        None => Outcome::Fail("no record".into()),
    }
}

/// A comparison-table operand: `{bytes: null}` is a nil byte slice.
fn operand(y: &Y) -> Value<'static> {
    if let Some(b) = y.get("bytes") {
        assert_eq!(*b, Y::Null, "only nil byte slices are used");
        return Value::Bytes(Cow::Owned(Vec::new()));
    }
    Value::from_any_owned(to_any(y))
}

#[test]
fn comparison_table() {
    let file = support::load(&cases_file());
    let rows = file.get("comparisons").expect("comparisons").seq();
    assert!(!rows.is_empty());
    let ops = [CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Ge, CompareOp::Gt];
    let mut failures = Vec::new();
    for row in rows {
        let (a, b) = (operand(row.get("a").expect("a")), operand(row.get("b").expect("b")));
        let want: Vec<bool> =
            row.get("result").expect("result").seq().iter().map(|r| r.bool().expect("bool")).collect();
        let got: Vec<bool> = ops.iter().map(|op| compare(&a, &b, *op)).collect();
        if got != want {
            failures.push(format!("{a:?} vs {b:?}: got {got:?}, want {want:?}"));
        }
    }
    println!("ottl comparisons: {} rows, {} failed", rows.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
