//! What every component that carries OTTL shares (transform, filter, routing, tail
//! sampling): compiling statements and conditions from config with errors placed at the
//! YAML key, context inference for the flat forms, `error_mode`, and reporting the errors
//! `ignore` mode skips (counted in `switchyard_processor_ottl_errors`, logged at most once
//! per 10 s per component with how many were held back).

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentId, FieldError};
use switchyard_core::telemetry::{Counter, LogThrottle, Telemetry};
use switchyard_ottl::eval::{self, CompiledCondition, CompiledStatement, ErrorMode, EvalError};
use switchyard_ottl::{
    infer_context, parse_condition, parse_statement, CheckError, CheckOptions, Component, Condition, Context,
    PathPrefixes, Signal, Statement,
};

/// The self-metric of run-time OTTL errors skipped by `error_mode: ignore`.
pub const OTTL_ERRORS: &str = "switchyard_processor_ottl_errors";

/// `error_mode` as written in the config.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ErrorModeConfig {
    /// Skip the failing statement, log and count it.
    #[default]
    Ignore,
    /// Skip silently.
    Silent,
    /// Fail the request.
    Propagate,
}

impl From<ErrorModeConfig> for ErrorMode {
    fn from(m: ErrorModeConfig) -> Self {
        match m {
            ErrorModeConfig::Ignore => ErrorMode::Ignore,
            ErrorModeConfig::Silent => ErrorMode::Silent,
            ErrorModeConfig::Propagate => ErrorMode::Propagate,
        }
    }
}

/// Formats check errors for a statement at `field` as one config error each.
pub fn field_errors(field: &str, text: &str, errors: Vec<CheckError>) -> Vec<FieldError> {
    errors.into_iter().map(|e| FieldError::new(field, format!("invalid OTTL `{text}`: {e}"))).collect()
}

fn parse_stmt(field: &str, text: &str) -> Result<Statement, Vec<FieldError>> {
    parse_statement(text).map_err(|e| vec![FieldError::new(field, format!("invalid OTTL `{text}`: {e}"))])
}

fn parse_cond(field: &str, text: &str) -> Result<Condition, Vec<FieldError>> {
    parse_condition(text).map_err(|e| vec![FieldError::new(field, format!("invalid OTTL `{text}`: {e}"))])
}

/// Compiles one statement in a known context (paths may leave out the context prefix).
pub fn compile_statement(
    field: &str,
    text: &str,
    context: Context,
    component: Component,
) -> Result<CompiledStatement, Vec<FieldError>> {
    let stmt = parse_stmt(field, text)?;
    eval::compile_statement(&stmt, &CheckOptions::new(context).component(component))
        .map_err(|e| field_errors(field, text, e))
}

/// Compiles one condition in a known context.
pub fn compile_condition(
    field: &str,
    text: &str,
    context: Context,
    component: Component,
) -> Result<CompiledCondition, Vec<FieldError>> {
    let cond = parse_cond(field, text)?;
    eval::compile_condition(&cond, &CheckOptions::new(context).component(component))
        .map_err(|e| field_errors(field, text, e))
}

/// Statements and conditions written without a context (transform's flat lists, filter's
/// `*_conditions`): infers the context from their path prefixes, as the Collector does,
/// then compiles them with prefixes required. `fields` name where each text is written.
pub struct Inferred {
    /// The inferred context.
    pub context: Context,
    /// The statements, compiled.
    pub statements: Vec<CompiledStatement>,
    /// The conditions, compiled.
    pub conditions: Vec<CompiledCondition>,
}

/// Infers one context for `statements` and `conditions` together and compiles them.
pub fn compile_inferred(
    signal: Signal,
    component: Component,
    statements: &[(String, &str)],
    conditions: &[(String, &str)],
) -> Result<Inferred, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fields_s = Vec::new();
    let mut parsed_s = Vec::new();
    for (f, t) in statements {
        match parse_stmt(f, t) {
            Ok(s) => {
                fields_s.push((f.as_str(), *t));
                parsed_s.push(s);
            }
            Err(e) => errors.extend(e),
        }
    }
    let mut fields_c = Vec::new();
    let mut parsed_c = Vec::new();
    for (f, t) in conditions {
        match parse_cond(f, t) {
            Ok(c) => {
                fields_c.push((f.as_str(), *t));
                parsed_c.push(c);
            }
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let context = infer_context(signal, &parsed_s, &parsed_c).map_err(|e| {
        let field = statements.first().or(conditions.first()).map_or("", |(f, _)| f.as_str());
        vec![FieldError::new(field, e.to_string())]
    })?;
    let options = CheckOptions::new(context).prefixes(PathPrefixes::Required).component(component);
    let mut compiled_s = Vec::new();
    for ((f, t), s) in fields_s.iter().zip(&parsed_s) {
        match eval::compile_statement(s, &options) {
            Ok(c) => compiled_s.push(c),
            Err(e) => errors.extend(field_errors(f, t, e)),
        }
    }
    let mut compiled_c = Vec::new();
    for ((f, t), c) in fields_c.iter().zip(&parsed_c) {
        match eval::compile_condition(c, &options) {
            Ok(c) => compiled_c.push(c),
            Err(e) => errors.extend(field_errors(f, t, e)),
        }
    }
    if errors.is_empty() {
        Ok(Inferred { context, statements: compiled_s, conditions: compiled_c })
    } else {
        Err(errors)
    }
}

impl ErrorModeConfig {
    /// A condition's outcome under this mode: an error is a non-match that `ignore` reports
    /// and `silent` swallows; `propagate` returns it, to fail the request.
    pub fn condition_outcome(
        self,
        outcome: Result<bool, EvalError>,
        reporter: &OttlErrorReporter,
        text: &str,
    ) -> Result<bool, EvalError> {
        match (outcome, self) {
            (Ok(b), _) => Ok(b),
            (Err(e), ErrorModeConfig::Propagate) => Err(e),
            (Err(e), ErrorModeConfig::Ignore) => {
                reporter.report(&e, text);
                Ok(false)
            }
            (Err(_), ErrorModeConfig::Silent) => Ok(false),
        }
    }
}

/// Counts and logs (throttled) the run-time errors `error_mode: ignore` skips.
pub struct OttlErrorReporter {
    component: String,
    counter: Counter,
    throttle: LogThrottle,
}

impl OttlErrorReporter {
    /// The reporter of component `id`.
    pub fn new(telemetry: &Telemetry, id: &ComponentId) -> Self {
        let component = id.to_string();
        let counter = telemetry.metrics.counter(
            OTTL_ERRORS,
            "OTTL statements and conditions that failed at run time and were skipped (error_mode ignore).",
            &[("component", component.as_str())],
        );
        OttlErrorReporter { component, counter, throttle: LogThrottle::new(Duration::from_secs(10)) }
    }

    /// Records one skipped error of the statement or condition `text`.
    pub fn report(&self, error: &EvalError, text: &str) {
        self.counter.add(1);
        if let Some(held_back) = self.throttle.allow() {
            tracing::warn!(
                component = %self.component,
                statement = text,
                error = %error,
                similar_errors_not_logged = held_back,
                "failed to execute OTTL statement; skipped (error_mode: ignore)"
            );
        }
    }
}
