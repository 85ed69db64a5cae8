//! The routing connector's settings, as the Collector's `connector/routingconnector` reads
//! them (contrib 2025): a `table` of routes, tried in order, first match wins.

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError, PipelineId};
use switchyard_ottl::{Component, Context};

use super::request::RequestCondition;
use crate::ottl::{compile_condition, compile_statement, ErrorModeConfig};

/// Where a route's condition is evaluated: which items it moves.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RouteContext {
    /// Whole resources (`ResourceSpans`, `ResourceLogs`, `ResourceMetrics`) move.
    #[default]
    Resource,
    /// Single spans move, each with a copy of its resource and scope.
    Span,
    /// Single metrics move.
    Metric,
    /// Single data points move, with a copy of their metric.
    Datapoint,
    /// Single log records move.
    Log,
    /// The whole (remaining) request moves, decided by the client's metadata.
    Request,
}

impl RouteContext {
    /// The OTTL context the condition is compiled in; `None` for `request`.
    pub fn ottl(self) -> Option<Context> {
        match self {
            RouteContext::Resource => Some(Context::Resource),
            RouteContext::Span => Some(Context::Span),
            RouteContext::Metric => Some(Context::Metric),
            RouteContext::Datapoint => Some(Context::DataPoint),
            RouteContext::Log => Some(Context::Log),
            RouteContext::Request => None,
        }
    }

    /// The name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteContext::Resource => "resource",
            RouteContext::Span => "span",
            RouteContext::Metric => "metric",
            RouteContext::Datapoint => "datapoint",
            RouteContext::Log => "log",
            RouteContext::Request => "request",
        }
    }
}

/// One row of the routing table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingTableItem {
    /// Where `condition`/`statement` runs (default `resource`).
    #[serde(default)]
    pub context: RouteContext,
    /// A full OTTL statement, `route() where <condition>` (or another editor, which then
    /// really runs on the data: upstream behaviour).
    #[serde(default)]
    pub statement: Option<String>,
    /// A bare OTTL condition.
    #[serde(default)]
    pub condition: Option<String>,
    /// Where matching data goes; every listed pipeline gets the same data.
    #[serde(default)]
    pub pipelines: Vec<PipelineId>,
}

impl RoutingTableItem {
    /// The OTTL text of the row (`statement` or `condition`).
    pub fn text(&self) -> &str {
        self.statement.as_deref().or(self.condition.as_deref()).unwrap_or_default()
    }
}

/// `connectors: routing:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConnectorConfig {
    /// What a failing condition does; the Collector's default here is `propagate` (unlike
    /// transform and filter), so it is optional and resolved by [`Self::error_mode`].
    #[serde(default)]
    pub error_mode: Option<ErrorModeConfig>,
    /// Where data no row matched goes; none = dropped (counted).
    #[serde(default)]
    pub default_pipelines: Vec<PipelineId>,
    /// The routes, in order.
    #[serde(default)]
    pub table: Vec<RoutingTableItem>,
    /// Removed upstream in v0.116 (routing is always first-match-wins now). Read only to
    /// refuse it with a message that says so, instead of a bare "unknown field".
    #[serde(default)]
    pub match_once: Option<IgnoredAny>,
}

impl RoutingConnectorConfig {
    /// The effective error mode (`propagate` when unset, as upstream).
    pub fn error_mode(&self) -> ErrorModeConfig {
        self.error_mode.unwrap_or(ErrorModeConfig::Propagate)
    }
}

/// Checks one table row's OTTL in its context; the errors name the row's key.
pub(super) fn check_item(i: usize, item: &RoutingTableItem) -> Vec<FieldError> {
    let mut e = Vec::new();
    let at = |k: &str| format!("table::{i}::{k}");
    match (&item.statement, &item.condition) {
        (None, None) => e.push(FieldError::new(
            format!("table::{i}"),
            "invalid route: no condition or statement provided (one of `condition` or `statement` is required)",
        )),
        (Some(_), Some(_)) => {
            e.push(FieldError::new(at("statement"), "invalid route: both condition and statement provided"))
        }
        (Some(s), None) => match item.context.ottl() {
            None => e.push(FieldError::new(
                at("statement"),
                "the \"request\" context requires a 'condition' (request[\"<name>\"] == \"<value>\"), not a statement",
            )),
            Some(cx) => e.extend(compile_route_statement(&at("statement"), s, cx).err().unwrap_or_default()),
        },
        (None, Some(c)) => match item.context.ottl() {
            None => {
                if let Err(msg) = RequestCondition::parse(c) {
                    e.push(FieldError::new(at("condition"), msg));
                }
            }
            Some(cx) => {
                e.extend(compile_condition(&at("condition"), c, cx, Component::Routing).err().unwrap_or_default())
            }
        },
    }
    if item.pipelines.is_empty() {
        e.push(FieldError::new(format!("table::{i}"), "invalid route: no pipelines defined"));
    }
    e
}

/// A compiled routing statement: `route() where c` is its condition alone (`route` does
/// nothing); any other editor runs when its condition holds, and the row matches when it
/// ran, as upstream executes the whole statement.
pub(crate) enum RouteCheck {
    /// A condition (a `condition` row, or the `where` of `route()`); `None` = always.
    Condition(Option<switchyard_ottl::eval::CompiledCondition>),
    /// A statement with a real editor.
    Statement(switchyard_ottl::eval::CompiledStatement),
}

impl RouteCheck {
    /// Whether evaluating the row only reads the data: a statement's editor (`delete_key`)
    /// changes it, which needs the decoded batch.
    pub(crate) fn only_reads(&self) -> bool {
        matches!(self, RouteCheck::Condition(_))
    }

    /// Whether the row matches this unit (running its editor, for a statement row).
    pub(crate) fn eval(
        &self,
        cx: &mut switchyard_ottl::eval::EvalContext<'_>,
    ) -> Result<bool, switchyard_ottl::eval::EvalError> {
        match self {
            RouteCheck::Condition(None) => Ok(true),
            RouteCheck::Condition(Some(c)) => c.eval(cx),
            RouteCheck::Statement(s) => s.execute(cx),
        }
    }
}

pub(crate) fn compile_route_statement(field: &str, text: &str, cx: Context) -> Result<RouteCheck, Vec<FieldError>> {
    let parsed = switchyard_ottl::parse_statement(text)
        .map_err(|e| vec![FieldError::new(field, format!("invalid OTTL `{text}`: {e}"))])?;
    if parsed.editor.name.name == "route" && parsed.editor.args.is_empty() {
        let Some(expr) = parsed.condition else {
            return Ok(RouteCheck::Condition(None));
        };
        // The condition's spans point into the statement text: keep it for error snippets.
        let cond = switchyard_ottl::Condition { text: parsed.text.clone(), expr };
        let options = switchyard_ottl::CheckOptions::new(cx).component(Component::Routing);
        return switchyard_ottl::eval::compile_condition(&cond, &options)
            .map(|c| RouteCheck::Condition(Some(c)))
            .map_err(|e| crate::ottl::field_errors(field, text, e));
    }
    compile_statement(field, text, cx, Component::Routing).map(RouteCheck::Statement)
}

impl ComponentConfig for RoutingConnectorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.match_once.is_some() {
            e.push(FieldError::new(
                "match_once",
                "match_once was removed from the routing connector (contrib v0.116): routing is always first-match-wins; remove this key",
            ));
        }
        if self.table.is_empty() {
            e.push(FieldError::new("table", "invalid routing table: the routing table is empty"));
        }
        for (i, item) in self.table.iter().enumerate() {
            e.extend(check_item(i, item));
        }
        e
    }
}
