//! OTTL, the OpenTelemetry Transformation Language: the parser half.
//!
//! Switchyard runs Collector configs unchanged, and the transform and filter processors, the
//! routing connector and tail sampling all carry OTTL. This crate turns that text into a
//! syntax tree with byte spans ([`ast`]), reports syntax errors with line, column and a caret
//! snippet ([`ParseError`]), knows the Collector's contexts, paths and enums ([`paths`]) and
//! functions ([`functions`]), infers a statement's context the way the transform processor's
//! flat syntax and filter's `*_conditions` do ([`infer`]), and checks a parsed statement
//! against a context ([`check`]) so config loading fails early with a did-you-mean.
//!
//! [`eval`] compiles checked trees and runs them against `pdata` requests.
//!
//! ```text
//! let stmt = parse_statement(r#"set(attributes["env"], "prod") where name == "x""#)?;
//! let errors = check_statement(&stmt, &CheckOptions::new(Context::Span));
//! ```

pub mod ast;
pub mod check;
mod error;
pub mod eval;
pub mod functions;
pub mod glob;
mod grammar;
pub mod infer;
mod lexer;
pub mod paths;

#[cfg(test)]
mod tests;

pub use ast::{BoolExpr, Condition, Statement, Value, ValueExpression};
pub use check::{check_condition, check_statement, check_value, CheckError, CheckErrorKind, CheckOptions};
pub use error::{caret_snippet, ParseError, ParseErrorKind, Position, Span};
pub use functions::Component;
pub use infer::{infer_context, InferError};
pub use paths::{Context, PathPrefixes, Signal};

use winnow::stream::{Stream, TokenSlice};

use crate::error::Span as ByteSpan;
use crate::grammar::PErr;
use crate::lexer::Token;

/// Parses a statement: one editor call with an optional `where` condition.
pub fn parse_statement(text: &str) -> Result<Statement, ParseError> {
    let tokens = tokens(text)?;
    let mut input = TokenSlice::new(&tokens);
    let (editor, condition) = grammar::statement(&mut input).map_err(|e| convert(text, &tokens, e))?;
    let expected = if condition.is_some() {
        "`and`, `or` or the end of the statement"
    } else {
        "`where` or the end of the statement"
    };
    finish(text, &tokens, &input, expected)?;
    let span = ByteSpan::new(tokens.first().map_or(0, |t| t.span.start), tokens.last().map_or(0, |t| t.span.end));
    Ok(Statement { text: text.to_string(), editor, condition, span })
}

/// Parses a standalone condition (a boolean expression).
pub fn parse_condition(text: &str) -> Result<Condition, ParseError> {
    let tokens = tokens(text)?;
    let mut input = TokenSlice::new(&tokens);
    let expr = grammar::bool_expr(&mut input).map_err(|e| convert(text, &tokens, with_default(e, "a condition")))?;
    finish(text, &tokens, &input, "`and`, `or` or the end of the condition")?;
    Ok(Condition { text: text.to_string(), expr })
}

/// Parses a single value expression, e.g. `Len(attributes) + 1`.
pub fn parse_value_expression(text: &str) -> Result<ValueExpression, ParseError> {
    let tokens = tokens(text)?;
    let mut input = TokenSlice::new(&tokens);
    let value = grammar::value(&mut input).map_err(|e| convert(text, &tokens, with_default(e, "a value")))?;
    finish(text, &tokens, &input, "an operator or the end of the expression")?;
    Ok(ValueExpression { text: text.to_string(), value })
}

fn tokens(text: &str) -> Result<Vec<Token>, ParseError> {
    let tokens = lexer::lex(text)?;
    if tokens.is_empty() {
        return Err(ParseError::new(text, ParseErrorKind::Empty, ByteSpan::new(0, text.len())));
    }
    Ok(tokens)
}

fn with_default(mut e: PErr, expected: &str) -> PErr {
    if e.expected.is_none() {
        e.expected = Some(expected.to_string());
    }
    e
}

/// Fails when tokens are left after a complete parse.
fn finish(text: &str, tokens: &[Token], input: &TokenSlice<'_, Token>, expected: &str) -> Result<(), ParseError> {
    match input.peek_token() {
        None => Ok(()),
        Some(t) => Err(convert(text, tokens, PErrView { expected: expected.to_string(), at: Some(t.span) })),
    }
}

struct PErrView {
    expected: String,
    at: Option<ByteSpan>,
}

impl From<PErr> for PErrView {
    fn from(e: PErr) -> Self {
        PErrView { expected: e.expected.unwrap_or_else(|| "valid OTTL".to_string()), at: e.at }
    }
}

fn convert(text: &str, tokens: &[Token], e: impl Into<PErrView>) -> ParseError {
    let e = e.into();
    let token = e.at.and_then(|span| tokens.iter().find(|t| t.span == span));
    let (span, found) = match token {
        Some(t) => (t.span, t.tok.describe(t.span.slice(text))),
        None => (ByteSpan::new(text.len(), text.len()), "end of input".to_string()),
    };
    let error = ParseError::new(text, ParseErrorKind::Unexpected { found, expected: e.expected }, span);
    match token {
        Some(t) if t.signed => error.with_hint(
            "OTTL reads a sign directly before a digit as part of the number, so write `x - 1`, not `x -1` or `x-1`",
        ),
        _ => error,
    }
}
