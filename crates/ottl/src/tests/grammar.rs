//! Grammar: each construct parses to the expected tree with the expected spans.

use super::{arg, cond, stmt};
use crate::ast::*;
use crate::{parse_statement, parse_value_expression};

fn path_names(v: &Value) -> Vec<&str> {
    match &v.kind {
        ValueKind::Path(p) => p.fields.iter().map(|f| f.name.as_str()).collect(),
        other => panic!("not a path: {other:?}"),
    }
}

#[test]
fn editor_with_where() {
    let s = stmt(r#"set(attributes["env"], "prod") where name == "x""#);
    assert_eq!(s.editor.name.name, "set");
    assert_eq!(s.editor.args.len(), 2);
    assert_eq!(arg(&s, 1).kind, ValueKind::String("prod".into()));
    let Some(BoolExpr { kind: BoolExprKind::Comparison { op: CompareOp::Eq, .. }, span }) = &s.condition else {
        panic!("{:?}", s.condition)
    };
    assert_eq!(span.slice(&s.text), r#"name == "x""#);
    assert_eq!(s.span, crate::Span::new(0, s.text.len()));
}

#[test]
fn literals() {
    let s = stmt(r#"f(nil, "a", 1, -2, +3, 1.5, -.5, true, false, 0x0aFF, SPAN_KIND_SERVER)"#);
    let kinds: Vec<_> = (0..11).map(|k| arg(&s, k).kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            ValueKind::Nil,
            ValueKind::String("a".into()),
            ValueKind::Int(1),
            ValueKind::Int(-2),
            ValueKind::Int(3),
            ValueKind::Float(1.5),
            ValueKind::Float(-0.5),
            ValueKind::Bool(true),
            ValueKind::Bool(false),
            ValueKind::Bytes(vec![0x0a, 0xff]),
            ValueKind::Enum("SPAN_KIND_SERVER".into()),
        ]
    );
    assert_eq!(arg(&s, 10).span.slice(&s.text), "SPAN_KIND_SERVER");
}

#[test]
fn string_escapes_follow_go() {
    let s = stmt(r#"f("a\\b", "q\"q", "\n\t", "\x41\101\u00e9\U0001F600", "é")"#);
    let strings: Vec<_> = (0..5)
        .map(|k| match &arg(&s, k).kind {
            ValueKind::String(v) => v.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(strings, vec!["a\\b", "q\"q", "\n\t", "AAé😀", "é"]);
}

#[test]
fn paths_with_keys_and_prefixes() {
    let s = stmt(r#"set(resource.attributes["a"]["b"][0], instrumentation_scope.name)"#);
    assert_eq!(path_names(arg(&s, 0)), vec!["resource", "attributes"]);
    let ValueKind::Path(p) = &arg(&s, 0).kind else { panic!() };
    assert_eq!(p.prefix().map(|f| f.name.as_str()), Some("resource"));
    let keys: Vec<_> = p.fields[1].keys.iter().map(|k| k.kind.clone()).collect();
    assert_eq!(keys, vec![KeyKind::String("a".into()), KeyKind::String("b".into()), KeyKind::Int(0)]);
    assert_eq!(p.span.slice(&s.text), r#"resource.attributes["a"]["b"][0]"#);
    // A single segment, or a keyed first segment, has no context prefix.
    let s = stmt(r#"set(attributes["a"].b, cache["k"])"#);
    let ValueKind::Path(p) = &arg(&s, 0).kind else { panic!() };
    assert!(p.prefix().is_none());
}

#[test]
fn expression_keys() {
    let s = stmt(r#"set(body, attributes["things"][Len(attributes["things"]) - 1]["name"])"#);
    let ValueKind::Path(p) = &arg(&s, 1).kind else { panic!() };
    let KeyKind::Expr(e) = &p.fields[0].keys[1].kind else { panic!("{:?}", p.fields[0].keys) };
    assert!(matches!(e.kind, ValueKind::Math { op: MathOp::Sub, .. }));
    let s = stmt(r#"set(attributes[attributes[attributes["flags"]]], "x")"#);
    assert!(matches!(&arg(&s, 0).kind, ValueKind::Path(_)));
}

#[test]
fn converters_with_keys_and_named_arguments() {
    let s = stmt(r#"set(attributes["x"], Split(resource.attributes["host.name"], "h")[1])"#);
    let ValueKind::Call(c) = &arg(&s, 1).kind else { panic!() };
    assert_eq!(c.name.name, "Split");
    assert_eq!(c.keys[0].kind, KeyKind::Int(1));
    let s = stmt("flatten(attributes, depth=1, resolveConflicts = true)");
    let names: Vec<_> = s.editor.args.iter().map(|a| a.name.as_ref().map(|n| n.name.as_str())).collect();
    assert_eq!(names, vec![None, Some("depth"), Some("resolveConflicts")]);
    assert_eq!(s.editor.args[1].span.slice(&s.text), "depth=1");
}

#[test]
fn function_names_as_arguments() {
    let s = stmt(r#"replace_pattern(name, "a", "b", SHA256, Murmur3Hash)"#);
    assert_eq!(arg(&s, 3).kind, ValueKind::Enum("SHA256".into()));
    let ArgValue::FunctionName(id) = &s.editor.args[4].value else { panic!() };
    assert_eq!(id.name, "Murmur3Hash");
}

#[test]
fn lists_and_maps() {
    let s = stmt(r#"merge_maps(attributes, {"map_literal": {"list": [{"foo":"bar"}, "test"]}, "b": []}, "upsert")"#);
    let ValueKind::Map(entries) = &arg(&s, 1).kind else { panic!() };
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].key, "map_literal");
    // Upstream's quirks: map commas are optional and list items before the first comma need none.
    stmt(r#"set(x, {"a": 1 "b": 2,})"#);
    let s = stmt("set(x, [1 2, 3])");
    let ValueKind::List(items) = &arg(&s, 1).kind else { panic!() };
    assert_eq!(items.len(), 3);
}

#[test]
fn math_precedence() {
    let v = parse_value_expression("1 + 2 * 3 - (4 - 5) / x").map(|e| e.value).unwrap_or_else(|e| panic!("{e}"));
    // ((1 + (2 * 3)) - ((4 - 5) / x))
    let ValueKind::Math { op: MathOp::Sub, left, right } = &v.kind else { panic!("{v:?}") };
    assert!(
        matches!(&left.kind, ValueKind::Math { op: MathOp::Add, right, .. } if matches!(right.kind, ValueKind::Math { op: MathOp::Mul, .. }))
    );
    assert!(
        matches!(&right.kind, ValueKind::Math { op: MathOp::Div, left, .. } if matches!(left.kind, ValueKind::Math { op: MathOp::Sub, .. }))
    );
    let e = parse_value_expression("Len(attributes) + Len(attributes)").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.value.span.slice(&e.text), "Len(attributes) + Len(attributes)");
}

#[test]
fn boolean_precedence_and_not() {
    // or < and < not
    let e = cond("a == 1 or not b == 2 and IsMatch(c, \"x\")");
    let BoolExprKind::Or(_, right) = &e.kind else { panic!("{e:?}") };
    let BoolExprKind::And(l, r) = &right.kind else { panic!("{right:?}") };
    assert!(matches!(l.kind, BoolExprKind::Not(_)));
    assert!(matches!(r.kind, BoolExprKind::Converter(_)));
    // Parentheses regroup; a parenthesised math operand still starts a comparison.
    let e = cond("(a == 1 or b == 2) and (1 + x) > 3");
    assert!(matches!(e.kind, BoolExprKind::And(..)));
    let e = cond("not (true)");
    assert!(matches!(e.kind, BoolExprKind::Not(_)));
    assert_eq!(cond("false").kind, BoolExprKind::Literal(false));
    assert!(matches!(cond("IsMatch(a, \"b\") == true").kind, BoolExprKind::Comparison { .. }));
}

#[test]
fn comparisons() {
    for (text, op) in [
        ("==", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<", CompareOp::Lt),
        ("<=", CompareOp::Le),
        (">", CompareOp::Gt),
        (">=", CompareOp::Ge),
    ] {
        let e = cond(&format!("x {text} 1"));
        assert!(matches!(e.kind, BoolExprKind::Comparison { op: o, .. } if o == op), "{text}");
    }
    // Maps, lists and strings compare; enums and nil too.
    cond(r#"{"a": 1} == [1] or "x" != nil or kind == SPAN_KIND_SERVER"#);
}

#[test]
fn keywords_need_word_boundaries() {
    // `nothing`, `order`, `android`, `trueish` are paths, not keywords.
    cond("nothing == order and android != trueish");
    let s = stmt("set(attributes[\"a\"], 1) where not_a == 1");
    assert!(s.condition.is_some());
}

#[test]
fn whitespace_and_newlines_anywhere() {
    let s = stmt("set(\n  attributes[\"a\"] ,\n\t\"b\" )\n  where\n name == \"x\"\n");
    assert_eq!(s.editor.args.len(), 2);
}

#[test]
fn the_parser_does_not_judge_names() {
    // Case rules and catalogs are the check's job, so the tree is still built.
    assert!(parse_statement("Concat([a], \"-\")").is_ok());
    assert!(parse_statement("set(x, concat([a], \"-\"))").is_ok());
    assert!(parse_statement("set(x, 1)[\"a\"]").is_ok());
}
