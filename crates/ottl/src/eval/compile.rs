//! Turns a checked syntax tree into compiled expressions: paths resolved to fields, enums to
//! integers, function calls bound to their implementations ([`super::funcs`]). Anything valid
//! in the Collector but not built here is refused with a positioned
//! [`CheckErrorKind::NotImplemented`], never ignored.

use std::borrow::Cow;

use super::expr::{Cond, Converter, EditorFn, Expr};
use super::fields;
use super::funcs;
use super::path::{Key, Path};
use super::value::Value;
use crate::ast::{self, ArgValue, BoolExprKind, KeyKind, ValueKind};
use crate::check::{CheckError, CheckErrorKind, CheckOptions};
use crate::error::Span;
use crate::functions::{self, snake_case};
use crate::paths::{self, Context};

/// Compiles the nodes of one statement or condition.
pub(crate) struct Compiler<'t> {
    pub(crate) text: &'t str,
    pub(crate) options: CheckOptions,
}

impl Compiler<'_> {
    pub(crate) fn error(&self, span: Span, kind: CheckErrorKind) -> CheckError {
        CheckError::new(self.text, span, kind)
    }

    fn not_implemented(&self, span: Span, what: String) -> CheckError {
        self.error(span, CheckErrorKind::NotImplemented { what })
    }

    pub(crate) fn context(&self) -> Context {
        self.options.context
    }

    pub(crate) fn cond(&self, expr: &ast::BoolExpr) -> Result<Cond, CheckError> {
        Ok(match &expr.kind {
            BoolExprKind::Or(a, b) => Cond::Or(Box::new(self.cond(a)?), Box::new(self.cond(b)?)),
            BoolExprKind::And(a, b) => Cond::And(Box::new(self.cond(a)?), Box::new(self.cond(b)?)),
            BoolExprKind::Not(a) => Cond::Not(Box::new(self.cond(a)?)),
            BoolExprKind::Comparison { left, op, right } => Cond::Cmp(self.value(left)?, *op, self.value(right)?),
            BoolExprKind::Literal(b) => Cond::Lit(*b),
            BoolExprKind::Converter(call) => Cond::Call(self.converter(call)?),
        })
    }

    pub(crate) fn value(&self, value: &ast::Value) -> Result<Expr, CheckError> {
        Ok(match &value.kind {
            ValueKind::Nil => Expr::Lit(Value::Nil),
            ValueKind::String(s) => Expr::Lit(Value::Str(Cow::Owned(s.clone()))),
            ValueKind::Int(i) => Expr::Lit(Value::Int(*i)),
            ValueKind::Float(f) => Expr::Lit(Value::Double(*f)),
            ValueKind::Bool(b) => Expr::Lit(Value::Bool(*b)),
            ValueKind::Bytes(b) => Expr::Lit(Value::Bytes(Cow::Owned(b.clone()))),
            ValueKind::Enum(name) => match self.context().enum_value(name) {
                Some(v) => Expr::Lit(Value::Int(v)),
                None => {
                    return Err(self.error(
                        value.span,
                        CheckErrorKind::UnknownEnum { name: name.clone(), context: self.context().name() },
                    ))
                }
            },
            ValueKind::Path(p) => Expr::Path(self.path(p)?),
            ValueKind::Call(call) => self.converter(call)?,
            ValueKind::List(items) => Expr::List(items.iter().map(|v| self.value(v)).collect::<Result<_, _>>()?),
            ValueKind::Map(entries) => {
                Expr::Map(entries.iter().map(|e| Ok((e.key.clone(), self.value(&e.value)?))).collect::<Result<_, _>>()?)
            }
            ValueKind::Math { op, left, right } => {
                Expr::Math(*op, Box::new(self.value(left)?), Box::new(self.value(right)?))
            }
        })
    }

    pub(crate) fn path(&self, path: &ast::Path) -> Result<Path, CheckError> {
        let resolved = paths::resolve(path, self.context(), self.options.prefixes).map_err(|_| {
            self.error(
                path.span,
                CheckErrorKind::UnknownPath { path: path_text(self.text, path), context: self.context().name() },
            )
        })?;
        let segment = usize::from(resolved.prefixed);
        let Some(field) = fields::field(resolved.context, resolved.field, resolved.sub) else {
            return Err(self.not_implemented(path.span, format!("the path `{}`", path_text(self.text, path))));
        };
        let keys = path.fields.get(segment).map_or(&[][..], |f| f.keys.as_slice());
        if !keys.is_empty() && !fields::indexable(field) {
            return Err(self.not_implemented(path.span, format!("indexing `{}`", path_text(self.text, path))));
        }
        Ok(Path { level: resolved.context, field, keys: self.keys(keys)? })
    }

    fn keys(&self, keys: &[ast::Key]) -> Result<Vec<Key>, CheckError> {
        keys.iter()
            .map(|k| {
                Ok(match &k.kind {
                    KeyKind::String(s) => Key::Str(s.clone()),
                    KeyKind::Int(i) => Key::Int(*i),
                    KeyKind::Expr(e) => Key::Expr(Box::new(self.value(e)?)),
                })
            })
            .collect()
    }

    /// A converter call as a value.
    pub(crate) fn converter(&self, call: &ast::Call) -> Result<Expr, CheckError> {
        let name = call.name.name.as_str();
        let Some(build) = funcs::converter(name) else {
            return Err(self.not_implemented(call.name.span, format!("the converter `{name}`")));
        };
        let args = Args::new(self, call)?;
        let f = build(&args)?;
        Ok(Expr::Call(Converter { name: name.to_string(), f }, self.keys(&call.keys)?))
    }

    /// The statement's editor.
    pub(crate) fn editor(&self, call: &ast::Call) -> Result<EditorFn, CheckError> {
        let name = call.name.name.as_str();
        let Some(build) = funcs::editor(name) else {
            return Err(self.not_implemented(call.name.span, format!("the editor `{name}`")));
        };
        let args = Args::new(self, call)?;
        build(&args)
    }
}

fn path_text(text: &str, path: &ast::Path) -> String {
    path.span.slice(text).to_string()
}

/// A call's arguments in parameter order (named arguments placed by name), for function
/// builders. The checker has already validated names, arity and duplicates.
pub(crate) struct Args<'c> {
    compiler: &'c Compiler<'c>,
    call: &'c ast::Call,
    slots: Vec<Option<&'c ast::Argument>>,
}

impl<'c> Args<'c> {
    fn new(compiler: &'c Compiler<'c>, call: &'c ast::Call) -> Result<Self, CheckError> {
        let params = functions::lookup(&call.name.name).map_or(&[][..], |s| s.params);
        let mut slots: Vec<Option<&ast::Argument>> = vec![None; params.len().max(call.args.len())];
        let mut positional = 0;
        for arg in &call.args {
            let index = match &arg.name {
                None => {
                    positional += 1;
                    positional - 1
                }
                Some(n) => {
                    let wanted = snake_case(&n.name);
                    params.iter().position(|p| p.name == wanted).ok_or_else(|| {
                        compiler.error(
                            n.span,
                            CheckErrorKind::UnknownArgument { function: call.name.name.clone(), name: n.name.clone() },
                        )
                    })?
                }
            };
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(arg);
            }
        }
        Ok(Args { compiler, call, slots })
    }

    /// The function's name.
    pub(crate) fn name(&self) -> &str {
        &self.call.name.name
    }

    /// Whether argument `i` was given.
    pub(crate) fn has(&self, i: usize) -> bool {
        self.slots.get(i).is_some_and(Option::is_some)
    }

    /// An error about argument `i` (or the call when it is absent).
    pub(crate) fn error(&self, i: usize, message: impl Into<String>) -> CheckError {
        let span = self.slots.get(i).copied().flatten().map_or(self.call.span, |a| a.span);
        self.compiler.error(span, CheckErrorKind::InvalidArgument { message: message.into() })
    }

    /// An argument form the Collector accepts but Switchyard does not run yet (reported as
    /// [`CheckErrorKind::NotImplemented`], like a missing function).
    pub(crate) fn not_implemented(&self, i: usize, what: impl Into<String>) -> CheckError {
        let span = self.slots.get(i).copied().flatten().map_or(self.call.span, |a| a.span);
        self.compiler.error(span, CheckErrorKind::NotImplemented { what: what.into() })
    }

    fn arg(&self, i: usize) -> Result<&'c ast::Argument, CheckError> {
        self.slots
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| self.error(i, format!("`{}` needs argument {}", self.name(), i + 1)))
    }

    fn ast_value(&self, i: usize) -> Result<&'c ast::Value, CheckError> {
        match &self.arg(i)?.value {
            ArgValue::Value(v) => Ok(v),
            ArgValue::FunctionName(id) => Err(self.error(i, format!("`{}` is a function name, not a value", id.name))),
        }
    }

    /// A value argument (upstream's `Getter`).
    pub(crate) fn expr(&self, i: usize) -> Result<Expr, CheckError> {
        self.compiler.value(self.ast_value(i)?)
    }

    /// An optional value argument.
    pub(crate) fn opt_expr(&self, i: usize) -> Result<Option<Expr>, CheckError> {
        if self.has(i) {
            self.expr(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A path argument the function writes to (upstream's `GetSetter`).
    pub(crate) fn path(&self, i: usize) -> Result<Path, CheckError> {
        match &self.ast_value(i)?.kind {
            ValueKind::Path(p) => self.compiler.path(p),
            _ => Err(self.error(i, format!("`{}` needs a path here, to write to", self.name()))),
        }
    }

    /// A literal string argument (upstream's `string` parameter).
    pub(crate) fn string(&self, i: usize) -> Result<String, CheckError> {
        match &self.ast_value(i)?.kind {
            ValueKind::String(s) => Ok(s.clone()),
            _ => Err(self.error(i, format!("`{}` needs a string literal here", self.name()))),
        }
    }

    /// An optional literal string argument.
    pub(crate) fn opt_string(&self, i: usize) -> Result<Option<String>, CheckError> {
        if self.has(i) {
            self.string(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A literal integer argument.
    pub(crate) fn int(&self, i: usize) -> Result<i64, CheckError> {
        match &self.ast_value(i)?.kind {
            ValueKind::Int(v) => Ok(*v),
            _ => Err(self.error(i, format!("`{}` needs an integer literal here", self.name()))),
        }
    }

    /// An optional literal integer argument.
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, CheckError> {
        if self.has(i) {
            self.int(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// An optional literal boolean argument.
    pub(crate) fn opt_bool(&self, i: usize) -> Result<Option<bool>, CheckError> {
        if !self.has(i) {
            return Ok(None);
        }
        match &self.ast_value(i)?.kind {
            ValueKind::Bool(v) => Ok(Some(*v)),
            _ => Err(self.error(i, format!("`{}` needs true or false here", self.name()))),
        }
    }

    /// A list literal of strings (upstream's `[]string`).
    pub(crate) fn strings(&self, i: usize) -> Result<Vec<String>, CheckError> {
        match &self.ast_value(i)?.kind {
            ValueKind::List(items) => items
                .iter()
                .map(|v| match &v.kind {
                    ValueKind::String(s) => Ok(s.clone()),
                    _ => Err(self.error(i, "expected a list of string literals")),
                })
                .collect(),
            _ => Err(self.error(i, format!("`{}` needs a list of strings here", self.name()))),
        }
    }

    /// A converter passed by name (`SHA256` in `replace_pattern`), or an enum symbol.
    pub(crate) fn function_name(&self, i: usize) -> Result<String, CheckError> {
        match &self.arg(i)?.value {
            ArgValue::FunctionName(id) => Ok(id.name.clone()),
            ArgValue::Value(ast::Value { kind: ValueKind::Enum(name), .. }) => Ok(name.clone()),
            _ => Err(self.error(i, "expected a function name")),
        }
    }
}
