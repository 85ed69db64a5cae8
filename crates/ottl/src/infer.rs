//! Context inference: which context a group of statements and conditions runs in when the
//! config does not say.
//!
//! This is what the transform processor does for its flat syntax (`trace_statements:` as a
//! list of strings, or a group without `context`) and what the filter processor does for
//! `*_conditions` without `context` (pkg/ottl/context_inferrer.go):
//!
//! 1. Every path contributes its first segment when a `.` follows it (`span.name` → `span`,
//!    `resource.attributes[…]` → `resource`; `attributes["x"]` contributes nothing usable).
//! 2. The candidate with the highest priority wins: `log`, `datapoint`, `metric`, `spanevent`,
//!    `span`, `resource`, `scope`, `instrumentation_scope` (the lowest, most specific context).
//! 3. If the statements use a function or enum that context lacks (e.g. `convert_sum_to_gauge`
//!    with only `resource.` paths), the contexts below it for the signal are tried in the same
//!    priority order and the first that has them all is taken.
//!
//! After inference every path must carry a context prefix; check with
//! [`crate::PathPrefixes::Required`].

use std::collections::BTreeSet;

use crate::ast::*;
use crate::functions::{self, Component, FunctionKind};
use crate::paths::{Context, Signal};

const PRIORITY: [&str; 8] =
    ["log", "datapoint", "metric", "spanevent", "span", "resource", "scope", "instrumentation_scope"];

/// Why no context could be inferred.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InferError {
    /// No path starts with a context name.
    #[error("unable to infer a context: no path starts with a context name (one of {valid})")]
    NoContext {
        /// The context names of the signal.
        valid: String,
    },
    /// The winning prefix is not a context of this signal, e.g. `span.name` in a logs pipeline.
    #[error("`{name}` is not a context of {signal} (one of {valid})")]
    NotForSignal {
        /// The prefix.
        name: String,
        /// The signal, lowercase.
        signal: String,
        /// The context names of the signal.
        valid: String,
    },
    /// The inferred context and all below it lack a function or enum the statements use.
    #[error("inferred context `{context}` does not support the {what} `{name}`, and no lower context does")]
    Unsupported {
        /// The inferred context.
        context: &'static str,
        /// "function" or "enum".
        what: &'static str,
        /// The function or enum.
        name: String,
    },
}

/// Infers the context of statements and conditions written for `signal`.
pub fn infer_context(
    signal: Signal,
    statements: &[Statement],
    conditions: &[Condition],
) -> Result<Context, InferError> {
    let mut hints = Hints::default();
    for s in statements {
        hints.call(&s.editor);
        if let Some(c) = &s.condition {
            hints.bool_expr(c);
        }
    }
    for c in conditions {
        hints.bool_expr(&c.expr);
    }
    let valid = || signal.contexts().iter().map(|c| format!("`{}`", c.name())).collect::<Vec<_>>().join(", ");
    let rank = |name: &str| PRIORITY.iter().position(|p| *p == name).unwrap_or(usize::MAX);
    let mut best: Option<&str> = None;
    for candidate in &hints.prefixes {
        if best.is_none_or(|b| b.is_empty() || rank(candidate) < rank(b)) {
            best = Some(candidate);
        }
    }
    let name = match best {
        Some(name) if !name.is_empty() => name,
        _ => return Err(InferError::NoContext { valid: valid() }),
    };
    let context =
        Context::from_name(name).filter(|c| signal.contexts().contains(c)).ok_or_else(|| InferError::NotForSignal {
            name: name.to_string(),
            signal: format!("{signal:?}").to_lowercase(),
            valid: valid(),
        })?;
    let first_problem = match hints.unsupported(context) {
        None => return Ok(context),
        Some(problem) => problem,
    };
    let mut lower: Vec<Context> = signal.contexts().iter().copied().filter(|c| c.higher().contains(&context)).collect();
    lower.sort_by_key(|c| rank(c.name()));
    for candidate in lower {
        if hints.unsupported(candidate).is_none() {
            return Ok(candidate);
        }
    }
    let (what, name) = first_problem;
    Err(InferError::Unsupported { context: context.name(), what, name })
}

/// What inference looks at: path prefixes (in order), function names and enum symbols.
#[derive(Default)]
struct Hints {
    /// The grammar's path context per path: the first segment when dotted, else "".
    prefixes: Vec<String>,
    functions: BTreeSet<String>,
    enums: BTreeSet<String>,
}

impl Hints {
    /// The first function or enum `context` lacks. Names missing from the catalog are left to
    /// the check, which reports them with a did-you-mean instead of as an inference failure.
    fn unsupported(&self, context: Context) -> Option<(&'static str, String)> {
        for name in &self.functions {
            if let Some(spec) = functions::lookup(name) {
                if !spec.available(context, Component::Any) {
                    return Some(("function", name.clone()));
                }
            }
        }
        self.enums.iter().find(|e| context.enum_value(e).is_none()).map(|e| ("enum", e.clone()))
    }

    fn call(&mut self, call: &Call) {
        self.functions.insert(call.name.name.clone());
        self.keys(&call.keys);
        for arg in &call.args {
            match &arg.value {
                ArgValue::FunctionName(id) => {
                    self.functions.insert(id.name.clone());
                }
                ArgValue::Value(v) => self.value(v),
            }
        }
    }

    fn bool_expr(&mut self, expr: &BoolExpr) {
        match &expr.kind {
            BoolExprKind::Or(a, b) | BoolExprKind::And(a, b) => {
                self.bool_expr(a);
                self.bool_expr(b);
            }
            BoolExprKind::Not(e) => self.bool_expr(e),
            BoolExprKind::Comparison { left, right, .. } => {
                self.value(left);
                self.value(right);
            }
            BoolExprKind::Literal(_) => {}
            BoolExprKind::Converter(call) => self.call(call),
        }
    }

    fn keys(&mut self, keys: &[Key]) {
        for key in keys {
            if let KeyKind::Expr(v) = &key.kind {
                self.value(v);
            }
        }
    }

    fn value(&mut self, value: &Value) {
        match &value.kind {
            ValueKind::Path(path) => {
                self.prefixes.push(path.prefix().map(|f| f.name.clone()).unwrap_or_default());
                for field in &path.fields {
                    self.keys(&field.keys);
                }
            }
            // An uppercase symbol naming a converter is a function passed by name (`SHA256`).
            ValueKind::Enum(name) if functions::lookup(name).is_some_and(|f| f.kind == FunctionKind::Converter) => {
                self.functions.insert(name.clone());
            }
            ValueKind::Enum(name) => {
                self.enums.insert(name.clone());
            }
            ValueKind::Call(call) => self.call(call),
            ValueKind::List(items) => items.iter().for_each(|v| self.value(v)),
            ValueKind::Map(entries) => entries.iter().for_each(|e| self.value(&e.value)),
            ValueKind::Math { left, right, .. } => {
                self.value(left);
                self.value(right);
            }
            _ => {}
        }
    }
}
