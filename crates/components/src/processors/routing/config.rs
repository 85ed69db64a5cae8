//! The legacy routing processor's settings (contrib `processor/routingprocessor`, removed
//! upstream in favour of the routing connector; still found in users' configs).

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, ComponentId, FieldError};
use switchyard_ottl::Context;

use crate::connectors::routing::compile_route_statement;
use crate::ottl::ErrorModeConfig;

/// Where `from_attribute` is read.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AttributeSource {
    /// The request's client metadata (a header kept by the receiver): the whole request
    /// goes to one route.
    #[default]
    Context,
    /// A resource attribute: each resource goes to the routes it matches.
    Resource,
}

/// One row: a `value` of `from_attribute`, or an OTTL `statement` (resource level).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyRoute {
    /// The attribute value this row matches.
    #[serde(default)]
    pub value: Option<String>,
    /// An OTTL statement (`route() where ...`).
    #[serde(default)]
    pub statement: Option<String>,
    /// The exporters of the pipeline that get matching data.
    #[serde(default)]
    pub exporters: Vec<String>,
}

/// `processors: routing:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingProcessorConfig {
    /// Where data no row matched goes.
    #[serde(default)]
    pub default_exporters: Vec<String>,
    /// Where `from_attribute` is read (default `context`).
    #[serde(default)]
    pub attribute_source: AttributeSource,
    /// The header or resource attribute holding the routing value.
    #[serde(default)]
    pub from_attribute: String,
    /// Remove the resource attribute when a row matched it (`attribute_source: resource`).
    #[serde(default)]
    pub drop_resource_routing_attribute: bool,
    /// What a failing statement does (default `propagate`, as upstream).
    #[serde(default)]
    pub error_mode: Option<ErrorModeConfig>,
    /// The routes.
    #[serde(default)]
    pub table: Vec<LegacyRoute>,
}

impl RoutingProcessorConfig {
    /// The effective error mode.
    pub fn error_mode(&self) -> ErrorModeConfig {
        self.error_mode.unwrap_or(ErrorModeConfig::Propagate)
    }

    /// Routing by a header: the whole request follows the first value of `from_attribute`.
    /// Upstream ignores `from_attribute` (and the statements are all there is) when no row
    /// has a `value`.
    pub fn by_header(&self) -> bool {
        self.attribute_source == AttributeSource::Context && self.table.iter().any(|r| r.value.is_some())
    }

    /// Each row as the OTTL statement the resource mode runs (upstream rewrites value rows
    /// the same way), or `None` for header mode.
    pub fn resource_statement(&self, row: &LegacyRoute) -> Option<String> {
        if let Some(s) = &row.statement {
            return Some(s.clone());
        }
        let value = row.value.as_ref()?;
        let key = ottl_string(&self.from_attribute);
        let editor = if self.drop_resource_routing_attribute {
            format!("delete_key(attributes, {key})")
        } else {
            "route()".to_string()
        };
        Some(format!("{editor} where attributes[{key}] == {}", ottl_string(value)))
    }
}

/// A string as an OTTL literal.
pub fn ottl_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn check_ids(field: &str, ids: &[String], e: &mut Vec<FieldError>) {
    for (j, id) in ids.iter().enumerate() {
        if let Err(m) = ComponentId::parse(id) {
            e.push(FieldError::new(format!("{field}::{j}"), m));
        }
    }
}

impl ComponentConfig for RoutingProcessorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.table.is_empty() {
            e.push(FieldError::new("table", "invalid routing table: the routing table is empty"));
        }
        check_ids("default_exporters", &self.default_exporters, &mut e);
        for (i, row) in self.table.iter().enumerate() {
            let at = format!("table::{i}");
            match (&row.value, &row.statement) {
                (None, None) => e.push(FieldError::new(&at, "invalid (empty) route: empty routing attribute provided")),
                (Some(v), Some(s)) => e.push(FieldError::new(
                    format!("{at}::statement"),
                    format!("invalid route: both statement ({s}) and value ({v}) provided"),
                )),
                (Some(v), None) if v.is_empty() => e.push(FieldError::new(
                    format!("{at}::value"),
                    "invalid (empty) route: empty routing attribute provided",
                )),
                (None, Some(s)) => e.extend(
                    compile_route_statement(&format!("{at}::statement"), s, Context::Resource)
                        .err()
                        .unwrap_or_default(),
                ),
                _ => {}
            }
            if row.exporters.is_empty() {
                e.push(FieldError::new(
                    format!("{at}::exporters"),
                    "invalid route: no exporters defined for the route",
                ));
            }
            check_ids(&format!("{at}::exporters"), &row.exporters, &mut e);
        }
        if self.table.iter().any(|r| r.value.is_some()) && self.from_attribute.is_empty() {
            e.push(FieldError::new(
                "from_attribute",
                "invalid attribute to read the route's value from: the from_attribute property is empty",
            ));
        }
        if self.drop_resource_routing_attribute && self.attribute_source != AttributeSource::Resource {
            e.push(FieldError::new(
                "drop_resource_routing_attribute",
                "drop_resource_routing_attribute needs attribute_source: resource",
            ));
        }
        e
    }
}
