//! The `transform` processor's config, as the Collector's (processor/transformprocessor):
//! per-signal statement lists whose items are either a statement string (its context
//! inferred from its paths) or a group `{context, conditions, statements, error_mode}`.

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_ottl::eval::{ErrorMode, StatementGroup};
use switchyard_ottl::{Component, Context, Signal};

use crate::ottl::{compile_condition, compile_inferred, compile_statement, ErrorModeConfig};

/// The processor's settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformProcessorConfig {
    /// What a failing statement does (group-level `error_mode` overrides it). The
    /// Collector's default has been `ignore` since the `defaultErrorModeIgnore` gate.
    #[serde(default)]
    pub error_mode: ErrorModeConfig,
    /// Statements over spans, span events, resources and scopes of traces.
    #[serde(default)]
    pub trace_statements: Vec<StatementsItem>,
    /// Statements over metrics and data points.
    #[serde(default)]
    pub metric_statements: Vec<StatementsItem>,
    /// Statements over log records.
    #[serde(default)]
    pub log_statements: Vec<StatementsItem>,
    /// Statements over profiles (not supported yet: refused when not empty).
    #[serde(default)]
    pub profile_statements: Vec<StatementsItem>,
    /// Logs only, behind a Collector feature gate; refused when true.
    #[serde(default)]
    pub flatten_data: bool,
}

/// One item of a `*_statements` list.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum StatementsItem {
    /// A statement whose context is inferred from its path prefixes.
    Statement(String),
    /// A group of statements sharing a context, conditions and error mode.
    Group(GroupConfig),
}

/// A statement group.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// The context; inferred from the statements' paths when absent.
    #[serde(default)]
    pub context: Option<String>,
    /// OR-ed conditions gating every statement of the group.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// The statements, run in order on every item of the context.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Overrides the processor's `error_mode` for this group.
    #[serde(default)]
    pub error_mode: Option<ErrorModeConfig>,
}

impl ComponentConfig for TransformProcessorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (signal, _) in self.lists() {
            if let Err(e) = self.compile(signal) {
                errors.extend(e);
            }
        }
        if !self.profile_statements.is_empty() {
            errors.push(FieldError::new(
                "profile_statements",
                "profile statements are not supported by Switchyard yet; remove them or route profiles around this processor",
            ));
        }
        if self.flatten_data {
            errors.push(FieldError::new(
                "flatten_data",
                "flatten_data (behind the Collector's transform.flatten.logs gate) is not supported by Switchyard",
            ));
        }
        errors
    }
}

impl TransformProcessorConfig {
    fn lists(&self) -> [(Signal, &'static str); 3] {
        [(Signal::Traces, "trace_statements"), (Signal::Metrics, "metric_statements"), (Signal::Logs, "log_statements")]
    }

    fn items(&self, signal: Signal) -> (&[StatementsItem], &'static str) {
        match signal {
            Signal::Traces => (&self.trace_statements, "trace_statements"),
            Signal::Metrics => (&self.metric_statements, "metric_statements"),
            Signal::Logs => (&self.log_statements, "log_statements"),
            Signal::Profiles => (&self.profile_statements, "profile_statements"),
        }
    }

    /// Compiles the statement groups of `signal`, in config order; every error is reported.
    pub fn compile(&self, signal: Signal) -> Result<Vec<StatementGroup>, Vec<FieldError>> {
        let (items, key) = self.items(signal);
        let mut groups = Vec::new();
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("{key}::{i}");
            match compile_item(signal, item, &field, self.error_mode.into()) {
                Ok(g) => groups.push(g),
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok(groups)
        } else {
            Err(errors)
        }
    }
}

fn compile_item(
    signal: Signal,
    item: &StatementsItem,
    field: &str,
    default_mode: ErrorMode,
) -> Result<StatementGroup, Vec<FieldError>> {
    match item {
        StatementsItem::Statement(text) => {
            let inferred = compile_inferred(signal, Component::Transform, &[(field.to_string(), text)], &[])?;
            Ok(StatementGroup {
                context: inferred.context,
                conditions: Vec::new(),
                statements: inferred.statements,
                error_mode: default_mode,
            })
        }
        StatementsItem::Group(g) => {
            let error_mode = g.error_mode.map_or(default_mode, ErrorMode::from);
            if g.statements.is_empty() {
                return Err(vec![FieldError::new(
                    format!("{field}::statements"),
                    "a statement group needs statements",
                )]);
            }
            let statements: Vec<(String, &str)> = g
                .statements
                .iter()
                .enumerate()
                .map(|(k, s)| (format!("{field}::statements::{k}"), s.as_str()))
                .collect();
            let conditions: Vec<(String, &str)> = g
                .conditions
                .iter()
                .enumerate()
                .map(|(k, s)| (format!("{field}::conditions::{k}"), s.as_str()))
                .collect();
            let Some(name) = &g.context else {
                let inferred = compile_inferred(signal, Component::Transform, &statements, &conditions)?;
                return Ok(StatementGroup {
                    context: inferred.context,
                    conditions: inferred.conditions,
                    statements: inferred.statements,
                    error_mode,
                });
            };
            let context = context_for(signal, name, &format!("{field}::context"))?;
            let mut errors = Vec::new();
            let mut compiled_s = Vec::new();
            for (f, t) in &statements {
                match compile_statement(f, t, context, Component::Transform) {
                    Ok(s) => compiled_s.push(s),
                    Err(e) => errors.extend(e),
                }
            }
            let mut compiled_c = Vec::new();
            for (f, t) in &conditions {
                match compile_condition(f, t, context, Component::Transform) {
                    Ok(c) => compiled_c.push(c),
                    Err(e) => errors.extend(e),
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            Ok(StatementGroup { context, conditions: compiled_c, statements: compiled_s, error_mode })
        }
    }
}

/// The context a group names, checked against the signal.
fn context_for(signal: Signal, name: &str, field: &str) -> Result<Context, Vec<FieldError>> {
    let valid = signal.contexts();
    match Context::from_name(name).filter(|c| valid.contains(c)) {
        Some(c) => Ok(c),
        None => {
            let names: Vec<&str> = valid.iter().map(|c| c.name()).collect();
            let hint = switchyard_core::config::did_you_mean(name, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            Err(vec![FieldError::new(
                field,
                format!(
                    "unknown context `{name}` for {} statements (one of {}){hint}",
                    format!("{signal:?}").to_lowercase(),
                    names.join(", ")
                ),
            )])
        }
    }
}
