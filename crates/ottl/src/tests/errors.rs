//! Error positions: line, column, what was expected, and the caret snippet.

use crate::{parse_condition, parse_statement, ParseErrorKind};

fn err(text: &str) -> crate::ParseError {
    match parse_statement(text) {
        Ok(s) => panic!("{text} parsed: {s:?}"),
        Err(e) => e,
    }
}

fn expected(e: &crate::ParseError) -> (&str, &str) {
    match e.kind() {
        ParseErrorKind::Unexpected { found, expected } => (found, expected),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_closing_paren() {
    let e = err(r#"set(attributes["a"], "b""#);
    assert_eq!(expected(&e), ("end of input", "`,` or `)`"));
    assert_eq!((e.position().line, e.position().column), (1, 25));
}

#[test]
fn missing_comma_points_at_the_token() {
    let e = err(r#"set(attributes["a"] "b")"#);
    assert_eq!(expected(&e), ("string \"b\"", "`,` or `)`"));
    assert_eq!(e.position().column, 21);
    assert_eq!(e.span().slice(r#"set(attributes["a"] "b")"#), "\"b\"");
    assert_eq!(e.snippet(), "  set(attributes[\"a\"] \"b\")\n                      ^^^");
    let shown = e.to_string();
    assert!(shown.starts_with("line 1, column 21: unexpected string \"b\", expected `,` or `)`\n"), "{shown}");
}

#[test]
fn negative_number_after_operand_has_a_hint() {
    let e = err("set(x, Len(y)-1)");
    assert_eq!(expected(&e).0, "number `-1`");
    assert_eq!(e.position().column, 14);
    assert!(e.hint().is_some_and(|h| h.contains("x - 1")));
    // With the space it parses.
    assert!(parse_statement("set(x, Len(y) - 1)").is_ok());
}

#[test]
fn incomplete_condition() {
    let e = err("set(x, 1) where name ==");
    assert_eq!(expected(&e), ("end of input", "a value after `==`"));
    assert_eq!(e.position().column, 24);
    let e = err("set(x, 1) where a == 1 and");
    assert_eq!(expected(&e).1, "a condition after `and`");
    let e = err("set(x, 1) where attributes[\"a\"]");
    assert!(expected(&e).1.starts_with("a comparison operator"));
    let e = err("set(x, 1) where not not true");
    assert_eq!(expected(&e), ("`not`", "a condition after `not`"));
}

#[test]
fn trailing_tokens() {
    let e = err("set(x, 1) name");
    assert_eq!(expected(&e), ("`name`", "`where` or the end of the statement"));
    let e = err("set(x, 1) where a == 1 b");
    assert_eq!(expected(&e).1, "`and`, `or` or the end of the statement");
    let c = parse_condition("a == 1)").err().map(|e| e.position().column);
    assert_eq!(c, Some(7));
}

#[test]
fn lexical_errors() {
    let e = err(r#"set(x, "\d+")"#);
    assert_eq!(e.kind(), &ParseErrorKind::InvalidEscape("\\d".into()));
    assert_eq!(e.position().column, 9);
    let e = err(r#"set(x, "abc)"#);
    assert_eq!(e.kind(), &ParseErrorKind::UnterminatedString);
    let e = err("set(x, 0xabc)");
    assert_eq!(e.kind(), &ParseErrorKind::OddHexDigits("0xabc".into()));
    let e = err("set(x, 99999999999999999999)");
    assert!(matches!(e.kind(), ParseErrorKind::IntOutOfRange(_)));
    let e = err("set(x, 1) where a == 1 && b == 2");
    assert_eq!(e.kind(), &ParseErrorKind::InvalidChar('&'));
    assert_eq!(e.position().column, 24);
    assert_eq!(err("   ").kind(), &ParseErrorKind::Empty);
}

#[test]
fn lines_and_columns_in_multiline_statements() {
    let text = "set(attributes[\"a\"],\n    Concat([\"x\", ], \"-\"))";
    let e = err(text);
    assert_eq!(expected(&e), ("`]`", "a value after `,`"));
    assert_eq!((e.position().line, e.position().column), (2, 18));
    assert_eq!(e.snippet(), format!("      Concat([\"x\", ], \"-\"))\n  {}^", " ".repeat(17)));
}

#[test]
fn non_ascii_columns_count_characters() {
    let e = err("set(attributes[\"é\"] 1)");
    assert_eq!(e.position().column, 21);
    assert_eq!(e.position().offset, 21);
}

#[test]
fn trailing_comma_in_arguments_is_rejected_like_upstream() {
    let e = err("set(x, 1,)");
    assert_eq!(expected(&e), ("`)`", "an argument"));
}
