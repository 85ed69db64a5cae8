//! The OTTL evaluator: compiled statements and conditions run against telemetry.
//!
//! [`compile_statement`] and [`compile_condition`] check a parsed tree ([`crate::check`]),
//! then bind paths to fields and calls to implementations once, at config load. At run time
//! a statement is a tree of closures over an [`EvalContext`]: paths read the telemetry in
//! place (no copy for a comparison), and editors change it in place.
//!
//! [`StatementGroup`] runs a list of statements over a whole request in one context, with
//! the group's `conditions` and `error_mode`, as the transform processor does.

// `CheckError` (with its snippet) is large, but it is only ever returned while a config is
// loaded, once per statement; boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod compile;
mod context;
mod exec;
mod expr;
mod fields;
mod fields_log;
mod fields_metric;
mod funcs;
mod path;
mod value;

#[cfg(test)]
mod tests;

use std::fmt;

pub use context::EvalContext;
pub use exec::{ErrorMode, StatementGroup};
pub use funcs::is_implemented;
pub use path::Path;
pub use value::{compare, Value};

use crate::ast;
use crate::check::{check_condition, check_statement, check_value, CheckError, CheckOptions};
use compile::Compiler;
use expr::{Cond, EditorFn, Expr};

/// A run-time error: a value of the wrong type, an index out of range, a failed parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    message: String,
}

impl EvalError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        EvalError { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// A statement ready to run: its editor and optional `where` condition.
pub struct CompiledStatement {
    text: String,
    editor: EditorFn,
    condition: Option<Cond>,
}

impl fmt::Debug for CompiledStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledStatement").field("text", &self.text).finish()
    }
}

impl CompiledStatement {
    /// The statement as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Runs the statement: the editor runs when there is no `where` or it holds. Returns
    /// whether the editor ran.
    pub fn execute(&self, cx: &mut EvalContext<'_>) -> Result<bool, EvalError> {
        if let Some(c) = &self.condition {
            if !c.eval(cx)? {
                return Ok(false);
            }
        }
        (self.editor)(cx)?;
        Ok(true)
    }
}

/// A condition ready to evaluate.
#[derive(Debug)]
pub struct CompiledCondition {
    text: String,
    cond: Cond,
}

impl CompiledCondition {
    /// The condition as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates the condition.
    pub fn eval(&self, cx: &EvalContext<'_>) -> Result<bool, EvalError> {
        self.cond.eval(cx)
    }
}

/// A value expression ready to evaluate.
#[derive(Debug)]
pub struct CompiledValue {
    expr: Expr,
}

impl CompiledValue {
    /// Evaluates the expression.
    pub fn eval<'c>(&'c self, cx: &'c EvalContext<'_>) -> Result<Value<'c>, EvalError> {
        self.expr.eval(cx)
    }
}

/// Checks and compiles a statement for `options.context`.
pub fn compile_statement(
    statement: &ast::Statement,
    options: &CheckOptions,
) -> Result<CompiledStatement, Vec<CheckError>> {
    let errors = check_statement(statement, options);
    if !errors.is_empty() {
        return Err(errors);
    }
    let c = Compiler { text: &statement.text, options: *options };
    let editor = c.editor(&statement.editor).map_err(|e| vec![e])?;
    let condition = statement.condition.as_ref().map(|b| c.cond(b)).transpose().map_err(|e| vec![e])?;
    Ok(CompiledStatement { text: statement.text.clone(), editor, condition })
}

/// Checks and compiles a condition for `options.context`.
pub fn compile_condition(
    condition: &ast::Condition,
    options: &CheckOptions,
) -> Result<CompiledCondition, Vec<CheckError>> {
    let errors = check_condition(condition, options);
    if !errors.is_empty() {
        return Err(errors);
    }
    let c = Compiler { text: &condition.text, options: *options };
    let cond = c.cond(&condition.expr).map_err(|e| vec![e])?;
    Ok(CompiledCondition { text: condition.text.clone(), cond })
}

/// Checks and compiles a value expression for `options.context`.
pub fn compile_value(
    expression: &ast::ValueExpression,
    options: &CheckOptions,
) -> Result<CompiledValue, Vec<CheckError>> {
    let errors = check_value(expression, options);
    if !errors.is_empty() {
        return Err(errors);
    }
    let c = Compiler { text: &expression.text, options: *options };
    let expr = c.value(&expression.value).map_err(|e| vec![e])?;
    Ok(CompiledValue { expr })
}
