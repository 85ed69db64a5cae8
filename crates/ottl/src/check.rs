//! The semantic check: does a parsed statement make sense in a context?
//!
//! The Collector finds these mistakes while building the statement (function lookup, argument
//! binding, path and enum parsing) and refuses to start. Switchyard has no evaluator yet, but
//! config loading should already fail the same way, with a position and a did-you-mean, so this
//! walks the tree against [`crate::paths`] and [`crate::functions`] and collects every problem
//! instead of stopping at the first.

use std::fmt;

use crate::ast::*;
use crate::error::{caret_snippet, Position, Span};
pub use crate::functions::Component;
use crate::functions::{self, snake_case, FunctionKind, FunctionSpec, ParamKind};
use crate::paths::{self, did_you_mean, Context, PathPrefixes, PathProblem};

/// Where a statement runs and how its paths are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// The statement's context.
    pub context: Context,
    /// Whether every path must carry a context prefix (inferred context) or not.
    pub prefixes: PathPrefixes,
    /// The component, which decides the component-specific functions (`route`, …).
    pub component: Component,
}

impl CheckOptions {
    /// A context given explicitly (prefixes optional), any component.
    pub fn new(context: Context) -> Self {
        Self { context, prefixes: PathPrefixes::Optional, component: Component::Any }
    }

    /// Sets whether paths need a context prefix.
    pub fn prefixes(mut self, prefixes: PathPrefixes) -> Self {
        self.prefixes = prefixes;
        self
    }

    /// Sets the component.
    pub fn component(mut self, component: Component) -> Self {
        self.component = component;
        self
    }
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckErrorKind {
    /// No function by that name.
    #[error("unknown function `{name}`")]
    UnknownFunction {
        /// The name as written.
        name: String,
    },
    /// A converter where the statement's editor belongs.
    #[error("editor names must start with a lowercase letter, but `{name}` is a converter")]
    ConverterAsEditor {
        /// The converter's name.
        name: String,
    },
    /// An editor (or a lowercase name) used as a value or condition.
    #[error("converter names must start with an uppercase letter, but got `{name}`")]
    EditorAsConverter {
        /// The name as written.
        name: String,
    },
    /// A function that exists, but not in this context or component.
    #[error("function `{name}` is not available in the {context} context{component}")]
    NotAvailable {
        /// The function.
        name: String,
        /// The statement's context.
        context: &'static str,
        /// ` for the X component`, when the component is what excludes it.
        component: String,
    },
    /// Keys after an editor call.
    #[error("only paths and converters may be indexed, not the editor `{name}`")]
    IndexedEditor {
        /// The editor.
        name: String,
    },
    /// Too few or too many arguments.
    #[error("`{name}` takes {expected}, got {got}")]
    Arity {
        /// The function.
        name: String,
        /// E.g. "2 arguments" or "2 to 4 arguments".
        expected: String,
        /// How many were given.
        got: usize,
    },
    /// A named argument the function does not have.
    #[error("`{function}` has no parameter `{name}`")]
    UnknownArgument {
        /// The function.
        function: String,
        /// The argument name.
        name: String,
    },
    /// A parameter given twice (by position and name, or by name twice).
    #[error("parameter `{name}` of `{function}` is given more than once")]
    DuplicateArgument {
        /// The function.
        function: String,
        /// The parameter.
        name: String,
    },
    /// A positional argument after a named one.
    #[error("positional arguments must come before named arguments")]
    PositionalAfterNamed,
    /// A bare function name where a value is expected.
    #[error("`{name}` is a function name, but parameter `{param}` of `{function}` takes a value")]
    FunctionNameAsValue {
        /// The name.
        name: String,
        /// The parameter.
        param: String,
        /// The function.
        function: String,
    },
    /// A path without a context prefix where one is required.
    #[error("path `{path}` must start with a context name ({valid})")]
    MissingContext {
        /// The path as written.
        path: String,
        /// The accepted prefixes.
        valid: String,
    },
    /// A prefix that is not a context reachable from here.
    #[error("`{name}` in path `{path}` is not a context usable here ({valid})")]
    UnknownContext {
        /// The prefix.
        name: String,
        /// The path as written.
        path: String,
        /// The accepted prefixes.
        valid: String,
    },
    /// No such path.
    #[error("unknown path `{path}` in the {context} context")]
    UnknownPath {
        /// The path as written.
        path: String,
        /// The context searched.
        context: &'static str,
    },
    /// Keys on a field that takes none (or too many).
    #[error("path `{path}` cannot be indexed that way in the {context} context")]
    BadKeys {
        /// The path as written.
        path: String,
        /// The context searched.
        context: &'static str,
    },
    /// Valid OTTL that Switchyard does not run yet (a function or path not built); refused
    /// at load time rather than ignored.
    #[error("{what} is not supported by Switchyard yet")]
    NotImplemented {
        /// What, e.g. "function `XXH128`".
        what: String,
    },
    /// An argument of the wrong shape for its parameter, found while compiling (e.g. a
    /// regular expression that does not compile, or a path where a literal is required).
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
    },
    /// An uppercase symbol that is not an enum of this context.
    #[error("unknown enum `{name}` in the {context} context")]
    UnknownEnum {
        /// The symbol.
        name: String,
        /// The statement's context.
        context: &'static str,
    },
}

/// A problem found by the check, positioned in the statement text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    /// What is wrong.
    pub kind: CheckErrorKind,
    /// Where.
    pub span: Span,
    /// Line and column of `span.start` inside the statement.
    pub position: Position,
    /// The closest valid name, for "did you mean".
    pub suggestion: Option<String>,
    /// The caret snippet.
    pub snippet: String,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.position.line, self.position.column, self.kind)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        write!(f, "\n{}", self.snippet)
    }
}

impl std::error::Error for CheckError {}

impl CheckError {
    /// An error at `span` of `text` (the statement or condition).
    pub fn new(text: &str, span: Span, kind: CheckErrorKind) -> Self {
        CheckError {
            kind,
            span,
            position: Position::locate(text, span.start),
            suggestion: None,
            snippet: caret_snippet(text, span),
        }
    }
}

/// Checks a statement; an empty result means it is valid in `options.context`.
pub fn check_statement(statement: &Statement, options: &CheckOptions) -> Vec<CheckError> {
    let mut checker = Checker { text: &statement.text, options, errors: Vec::new() };
    checker.call(&statement.editor, Role::Editor);
    if let Some(cond) = &statement.condition {
        checker.bool_expr(cond);
    }
    checker.errors
}

/// Checks a standalone condition.
pub fn check_condition(condition: &Condition, options: &CheckOptions) -> Vec<CheckError> {
    let mut checker = Checker { text: &condition.text, options, errors: Vec::new() };
    checker.bool_expr(&condition.expr);
    checker.errors
}

/// Checks a value expression.
pub fn check_value(expression: &ValueExpression, options: &CheckOptions) -> Vec<CheckError> {
    let mut checker = Checker { text: &expression.text, options, errors: Vec::new() };
    checker.value(&expression.value);
    checker.errors
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Editor,
    Value,
}

struct Checker<'a> {
    text: &'a str,
    options: &'a CheckOptions,
    errors: Vec<CheckError>,
}

impl Checker<'_> {
    fn push(&mut self, kind: CheckErrorKind, span: Span, suggestion: Option<String>) {
        let position = Position::locate(self.text, span.start);
        let snippet = caret_snippet(self.text, span);
        self.errors.push(CheckError { kind, span, position, suggestion, snippet });
    }

    fn bool_expr(&mut self, expr: &BoolExpr) {
        match &expr.kind {
            BoolExprKind::Or(a, b) | BoolExprKind::And(a, b) => {
                self.bool_expr(a);
                self.bool_expr(b);
            }
            BoolExprKind::Not(inner) => self.bool_expr(inner),
            BoolExprKind::Comparison { left, right, .. } => {
                self.value(left);
                self.value(right);
            }
            BoolExprKind::Literal(_) => {}
            BoolExprKind::Converter(call) => self.call(call, Role::Value),
        }
    }

    fn value(&mut self, value: &Value) {
        match &value.kind {
            ValueKind::Nil
            | ValueKind::String(_)
            | ValueKind::Int(_)
            | ValueKind::Float(_)
            | ValueKind::Bool(_)
            | ValueKind::Bytes(_) => {}
            ValueKind::Enum(name) => self.enum_symbol(name, value.span),
            ValueKind::Path(path) => self.path(path),
            ValueKind::Call(call) => self.call(call, Role::Value),
            ValueKind::List(items) => items.iter().for_each(|v| self.value(v)),
            ValueKind::Map(entries) => entries.iter().for_each(|e| self.value(&e.value)),
            ValueKind::Math { left, right, .. } => {
                self.value(left);
                self.value(right);
            }
        }
    }

    fn keys(&mut self, keys: &[Key]) {
        for key in keys {
            if let KeyKind::Expr(v) = &key.kind {
                self.value(v);
            }
        }
    }

    fn enum_symbol(&mut self, name: &str, span: Span) {
        let context = self.options.context;
        if context.enum_value(name).is_some() {
            return;
        }
        let suggestion = did_you_mean(name, context.enums().iter().map(|(s, _)| *s));
        self.push(CheckErrorKind::UnknownEnum { name: name.to_string(), context: context.name() }, span, suggestion);
    }

    fn path(&mut self, path: &Path) {
        for field in &path.fields {
            self.keys(&field.keys);
        }
        let context = self.options.context;
        let text = path.span.slice(self.text).to_string();
        let problem = match paths::resolve(path, context, self.options.prefixes) {
            Ok(_) => return,
            Err(problem) => problem,
        };
        let field_span = |segment: usize| path.fields.get(segment).map_or(path.span, |f| f.name_span);
        match problem {
            PathProblem::MissingContext { valid } => {
                let suggestion = Some(format!("{}.{text}", context.name()));
                self.push(
                    CheckErrorKind::MissingContext { path: text, valid: quote_list(&valid) },
                    path.span,
                    suggestion,
                )
            }
            PathProblem::UnknownContext { name, valid, suggestion } => {
                let kind = CheckErrorKind::UnknownContext { name, path: text, valid: quote_list(&valid) };
                self.push(kind, field_span(0), suggestion)
            }
            PathProblem::UnknownField { segment, context: target, suggestion } => {
                let kind = CheckErrorKind::UnknownPath { path: text, context: target.name() };
                self.push(kind, field_span(segment), suggestion)
            }
            PathProblem::BadKeys { segment, context: target } => {
                let span = path.fields.get(segment).and_then(|f| Some(f.keys.first()?.span.to(f.keys.last()?.span)));
                let kind = CheckErrorKind::BadKeys { path: text, context: target.name() };
                self.push(kind, span.unwrap_or(path.span), None)
            }
        }
    }

    fn call(&mut self, call: &Call, role: Role) {
        self.keys(&call.keys);
        let spec = self.function(call, role);
        if role == Role::Editor && !call.keys.is_empty() && !call.is_converter() {
            let span = call.keys[0].span.to(call.keys[call.keys.len() - 1].span);
            self.push(CheckErrorKind::IndexedEditor { name: call.name.name.clone() }, span, None);
        }
        match spec {
            Some(spec) => self.arguments(call, spec),
            None => {
                for arg in &call.args {
                    if let ArgValue::Value(v) = &arg.value {
                        self.value(v);
                    }
                }
            }
        }
    }

    /// Resolves the called function, reporting name problems; `None` when arguments cannot
    /// be matched against a known signature.
    fn function(&mut self, call: &Call, role: Role) -> Option<&'static FunctionSpec> {
        let name = &call.name.name;
        let span = call.name.span;
        let wanted = if role == Role::Editor { FunctionKind::Editor } else { FunctionKind::Converter };
        let names_of = |kind| functions::all().iter().filter(move |f| f.kind == kind).map(|f| f.name);
        match (role, call.is_converter()) {
            (Role::Editor, true) => {
                let suggestion = did_you_mean(name, names_of(FunctionKind::Editor));
                self.push(CheckErrorKind::ConverterAsEditor { name: name.clone() }, span, suggestion);
                return None;
            }
            (Role::Value, false) => {
                let suggestion = did_you_mean(name, names_of(FunctionKind::Converter));
                self.push(CheckErrorKind::EditorAsConverter { name: name.clone() }, span, suggestion);
                return None;
            }
            _ => {}
        }
        let Some(spec) = functions::lookup(name).filter(|f| f.kind == wanted) else {
            let suggestion = did_you_mean(name, names_of(wanted));
            self.push(CheckErrorKind::UnknownFunction { name: name.clone() }, span, suggestion);
            return None;
        };
        let options = self.options;
        if !spec.available(options.context, options.component) {
            let component = if spec.available(options.context, Component::Any) {
                format!(" for the {:?} component", options.component).to_lowercase()
            } else {
                String::new()
            };
            let kind = CheckErrorKind::NotAvailable { name: name.clone(), context: options.context.name(), component };
            self.push(kind, span, None);
        }
        Some(spec)
    }

    fn arguments(&mut self, call: &Call, spec: &'static FunctionSpec) {
        let function = spec.name.to_string();
        let mut given = vec![false; spec.params.len()];
        let mut seen_named = false;
        let mut positional = 0;
        for arg in &call.args {
            let index = match &arg.name {
                None => {
                    if seen_named {
                        self.push(CheckErrorKind::PositionalAfterNamed, arg.span, None);
                    }
                    positional += 1;
                    Some(positional - 1).filter(|&k| k < spec.params.len())
                }
                Some(name) => {
                    seen_named = true;
                    let wanted = snake_case(&name.name);
                    let found = spec.params.iter().position(|p| p.name == wanted);
                    if found.is_none() {
                        let suggestion = did_you_mean(&wanted, spec.params.iter().map(|p| p.name));
                        let kind =
                            CheckErrorKind::UnknownArgument { function: function.clone(), name: name.name.clone() };
                        self.push(kind, name.span, suggestion);
                    }
                    found
                }
            };
            if let Some(k) = index {
                if given[k] {
                    let kind = CheckErrorKind::DuplicateArgument {
                        function: function.clone(),
                        name: spec.params[k].name.into(),
                    };
                    self.push(kind, arg.span, None);
                }
                given[k] = true;
            }
            self.argument(arg, index.map(|k| spec.params[k]), &function);
        }
        let required_missing = spec.params.iter().zip(&given).any(|(p, g)| !p.optional && !g);
        if positional > spec.params.len() || required_missing {
            let (min, max) = (spec.required(), spec.params.len());
            let expected = match (min, max) {
                (0, 0) => "no arguments".to_string(),
                (1, 1) => "1 argument".to_string(),
                (a, b) if a == b => format!("{a} arguments"),
                (a, b) => format!("{a} to {b} arguments"),
            };
            let kind = CheckErrorKind::Arity { name: function.clone(), expected, got: call.args.len() };
            self.push(kind, call.span, None);
        }
    }

    fn argument(&mut self, arg: &Argument, param: Option<functions::Param>, function: &str) {
        let takes_function = param.is_some_and(|p| p.kind == ParamKind::Function);
        let named_function = match &arg.value {
            ArgValue::FunctionName(id) => Some((id.name.as_str(), id.span)),
            ArgValue::Value(Value { kind: ValueKind::Enum(name), span }) if takes_function => {
                Some((name.as_str(), *span))
            }
            ArgValue::Value(_) => None,
        };
        match (named_function, &arg.value) {
            (Some((name, span)), _) if takes_function => {
                if functions::lookup(name).is_none_or(|f| f.kind != FunctionKind::Converter) {
                    let suggestion = did_you_mean(name, converter_names());
                    self.push(CheckErrorKind::UnknownFunction { name: name.to_string() }, span, suggestion);
                }
            }
            (Some((name, span)), _) => {
                let param = param.map_or("?", |p| p.name).to_string();
                let kind =
                    CheckErrorKind::FunctionNameAsValue { name: name.to_string(), param, function: function.into() };
                self.push(kind, span, None);
            }
            (None, ArgValue::Value(v)) => self.value(v),
            (None, ArgValue::FunctionName(_)) => {}
        }
    }
}

fn converter_names() -> impl Iterator<Item = &'static str> {
    functions::all().iter().filter(|f| f.kind == FunctionKind::Converter).map(|f| f.name)
}

fn quote_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
