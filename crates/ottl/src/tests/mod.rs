//! Unit tests, one module per concern: grammar shapes, error positions, paths and inference,
//! functions and the check.

mod check;
mod errors;
mod grammar;
mod infer;

use crate::ast::*;
use crate::{parse_condition, parse_statement};

/// Parses a statement that must be valid.
pub(crate) fn stmt(text: &str) -> Statement {
    match parse_statement(text) {
        Ok(s) => s,
        Err(e) => panic!("{text}: {e}"),
    }
}

/// Parses a condition that must be valid.
pub(crate) fn cond(text: &str) -> BoolExpr {
    match parse_condition(text) {
        Ok(c) => c.expr,
        Err(e) => panic!("{text}: {e}"),
    }
}

/// The first argument's value of a statement's editor.
pub(crate) fn arg(s: &Statement, k: usize) -> &Value {
    match &s.editor.args[k].value {
        ArgValue::Value(v) => v,
        ArgValue::FunctionName(id) => panic!("argument {k} is the function name {}", id.name),
    }
}
