//! The `routing` connector: sends each part of the data to the pipelines of the first
//! table row whose OTTL condition matches it (contrib `connector/routingconnector`, 2025).
//!
//! A row's `context` decides the granularity: `resource` moves whole resources, `span`,
//! `log`, `metric` and `datapoint` move single items (with copies of their envelopes), and
//! `request` moves everything still unrouted when the client's metadata matches. Rows are
//! tried in order on what earlier rows left; the rest goes to `default_pipelines`.

mod config;
mod request;
pub(crate) mod route;
mod split;
#[cfg(test)]
mod tests;

pub(crate) use config::{compile_route_statement, RouteCheck};
pub use config::{RouteContext, RoutingConnectorConfig, RoutingTableItem};
pub use request::RequestCondition;

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{
    BuildError, Component, ConnectorFactory, ConnectorPipelines, FieldError, PipelineId, Settings, Stability,
};
use switchyard_core::consumer::{AnyConsumer, AnyRouter, DynConsumer, Router};
use switchyard_core::telemetry::LogThrottle;
use switchyard_ottl::Component as OttlComponent;
use switchyard_pdata::Signal;

use crate::ottl::{compile_condition, OttlErrorReporter};
use route::{Check, Routable, Route, RoutingConsumer};

/// The Collector type string.
pub const TYPE: &str = "routing";

/// Self-metric: items no route matched while the connector has no `default_pipelines`.
pub const DROPPED_ITEMS: &str = "switchyard_connector_routing_dropped_items";

/// Creates routing connectors.
pub struct RoutingConnectorFactory;

impl ConnectorFactory for RoutingConnectorFactory {
    type Config = RoutingConnectorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, from: Signal, to: Signal) -> Option<Stability> {
        (from == to && from != Signal::Profiles).then_some(Stability::Alpha)
    }
    /// Every pipeline a row or `default_pipelines` names must be one this connector feeds.
    fn validate_pipelines(&self, cfg: &RoutingConnectorConfig, pipelines: &ConnectorPipelines) -> Vec<FieldError> {
        let mut e = Vec::new();
        for (j, p) in cfg.default_pipelines.iter().enumerate() {
            e.extend(pipelines.check_fed(format!("default_pipelines::{j}"), p));
        }
        for (i, item) in cfg.table.iter().enumerate() {
            for (j, p) in item.pipelines.iter().enumerate() {
                e.extend(pipelines.check_fed(format!("table::{i}::pipelines::{j}"), p));
            }
        }
        e
    }
    fn create(
        &self,
        set: Settings,
        cfg: &RoutingConnectorConfig,
        from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        if next.signal() != from {
            return Err(BuildError::new(&set, format!("routing connects {from} only to {from}")));
        }
        let consumer = match next {
            AnyRouter::Traces(r) => AnyConsumer::Traces(build(&set, cfg, &r)?),
            AnyRouter::Metrics(r) => AnyConsumer::Metrics(build(&set, cfg, &r)?),
            AnyRouter::Logs(r) => AnyConsumer::Logs(build(&set, cfg, &r)?),
            AnyRouter::Profiles(_) => return Err(BuildError::new(&set, "routing does not support profiles")),
        };
        Ok((consumer, None))
    }
}

/// Resolves the table for one signal: compiles each row, and its pipelines of this signal
/// into one consumer. A connector may serve several signals with one table, so pipelines of
/// other signals are skipped here (a row left with none never matches for this signal).
fn build<S: Routable>(
    set: &Settings,
    cfg: &RoutingConnectorConfig,
    router: &Router<S>,
) -> Result<DynConsumer<S>, BuildError> {
    let of_signal =
        |ids: &[PipelineId]| -> Vec<PipelineId> { ids.iter().filter(|p| p.signal() == S::SIGNAL).cloned().collect() };
    let consumer_for = |ids: &[PipelineId]| -> Result<Option<DynConsumer<S>>, BuildError> {
        let ids = of_signal(ids);
        if ids.is_empty() {
            return Ok(None);
        }
        router.consumer(&ids).map(Some).map_err(|e| BuildError::new(set, e.to_string()))
    };
    let mut routes = Vec::new();
    let mut seen: Vec<(RouteContext, &str)> = Vec::new();
    for (i, item) in cfg.table.iter().enumerate() {
        let text = item.text();
        // As upstream: a row repeating an earlier (context, text) could never match.
        if seen.contains(&(item.context, text)) {
            tracing::warn!(
                component = %set.id,
                statement = text,
                "this route already exists in the routing table; the duplicate row {i} is ignored"
            );
            continue;
        }
        seen.push((item.context, text));
        let Some(consumer) = consumer_for(&item.pipelines)? else { continue };
        let field = format!("table::{i}");
        let fail =
            |e: Vec<FieldError>| BuildError::new(set, e.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; "));
        let check = match (item.context.ottl(), &item.statement, &item.condition) {
            (None, _, Some(c)) => Check::Request(RequestCondition::parse(c).map_err(|m| BuildError::new(set, m))?),
            (Some(cx), Some(s), None) => Check::Ottl(compile_route_statement(&field, s, cx).map_err(fail)?),
            (Some(cx), None, Some(c)) => Check::Ottl(RouteCheck::Condition(Some(
                compile_condition(&field, c, cx, OttlComponent::Routing).map_err(fail)?,
            ))),
            _ => return Err(BuildError::new(set, format!("table row {i} is invalid"))),
        };
        routes.push(Route { context: item.context, check, text: text.to_string(), consumer });
    }
    let id = set.id.to_string();
    let dropped = set.telemetry.metrics.counter(
        DROPPED_ITEMS,
        "Items the routing connector dropped because no route matched and no default_pipelines are set.",
        &[("component", id.as_str())],
    );
    Ok(Arc::new(RoutingConsumer {
        routes,
        default: consumer_for(&cfg.default_pipelines)?,
        error_mode: cfg.error_mode(),
        reporter: OttlErrorReporter::new(&set.telemetry, &set.id),
        id,
        dropped,
        dropped_log: LogThrottle::new(Duration::from_secs(10)),
    }))
}
