//! Metric `include`/`exclude` (the Collector's `filtermetric` name matcher, plus the
//! resource-attribute check the filter processor runs per resource first).

use switchyard_core::component::FieldError;
use switchyard_pdata::proto::common::v1::KeyValue;

use super::config::{MatchProperties, MatchType, MetricMatchProperties, MetricMatchType};
use super::{attribute_matchers, attributes_match, has_values, join, missing_match_type, AttributeMatcher, FilterSet};

/// What one `include` or `exclude` checks: names (when listed) and resource attributes
/// (when listed); each is its own step, as upstream.
#[derive(Debug, Default)]
struct MetricMatcher {
    names: Option<FilterSet>,
    resources: Option<Vec<AttributeMatcher>>,
}

impl MetricMatcher {
    fn compile(field: &str, p: &MetricMatchProperties) -> Result<Self, Vec<FieldError>> {
        let needs_type = !p.metric_names.is_empty() || has_values(&p.resource_attributes);
        let mt = match p.match_type {
            Some(MetricMatchType::Strict) => MatchType::Strict,
            Some(MetricMatchType::Regexp) => MatchType::Regexp,
            Some(MetricMatchType::Expr) => {
                return Err(vec![FieldError::new(
                    format!("{field}::match_type"),
                    "match_type `expr` (the expr language) is not supported by Switchyard; write the expressions as OTTL conditions in `metric_conditions` (or `metrics.metric` / `metrics.datapoint`)",
                )])
            }
            None if needs_type => return Err(vec![missing_match_type(field)]),
            None => MatchType::Strict,
        };
        let names = FilterSet::optional(&format!("{field}::metric_names"), &p.metric_names, mt);
        let resources = if p.resource_attributes.is_empty() {
            Ok(None)
        } else {
            attribute_matchers(&format!("{field}::resource_attributes"), &p.resource_attributes, mt).map(Some)
        };
        match (names, resources) {
            (Ok(names), Ok(resources)) => Ok(MetricMatcher { names, resources }),
            (n, r) => Err(n.err().into_iter().chain(r.err()).flatten().collect()),
        }
    }
}

/// "Drop this resource" and "drop this metric" from `metrics.include` / `metrics.exclude`.
#[derive(Debug)]
pub(crate) struct MetricSkip {
    include: MetricMatcher,
    exclude: MetricMatcher,
}

impl MetricSkip {
    /// `None` when neither is set.
    pub(crate) fn compile(
        include: Option<&MetricMatchProperties>,
        exclude: Option<&MetricMatchProperties>,
    ) -> Result<Option<Self>, Vec<FieldError>> {
        if include.is_none() && exclude.is_none() {
            return Ok(None);
        }
        let build = |field: &str, p: Option<&MetricMatchProperties>| {
            p.map_or(Ok(MetricMatcher::default()), |p| MetricMatcher::compile(field, p))
        };
        match (build("metrics::include", include), build("metrics::exclude", exclude)) {
            (Ok(include), Ok(exclude)) => Ok(Some(MetricSkip { include, exclude })),
            (i, e) => Err(i.err().into_iter().chain(e.err()).flatten().collect()),
        }
    }

    /// The shared `include`/`exclude` (the attributes processor's) under `prefix`, as
    /// `filtermetric.CreateMatchPropertiesFromDefault` + `NewSkipExpr` read it: only
    /// `metric_names` counts (a side without names matches nothing and is not checked);
    /// every other property is ignored for metrics. `None` when no side lists names.
    pub(crate) fn names_only(
        prefix: &str,
        include: Option<&MatchProperties>,
        exclude: Option<&MatchProperties>,
    ) -> Result<Option<Self>, Vec<FieldError>> {
        let build = |side: &str, p: Option<&MatchProperties>| -> Result<MetricMatcher, Vec<FieldError>> {
            let Some(p) = p.filter(|p| !p.metric_names.is_empty()) else { return Ok(MetricMatcher::default()) };
            let field = join(prefix, side);
            let mt = p.match_type.ok_or_else(|| vec![missing_match_type(&field)])?;
            let names = FilterSet::new(&format!("{field}::metric_names"), &p.metric_names, mt)?;
            Ok(MetricMatcher { names: Some(names), resources: None })
        };
        match (build("include", include), build("exclude", exclude)) {
            (Ok(include), Ok(exclude)) if include.names.is_none() && exclude.names.is_none() => Ok(None),
            (Ok(include), Ok(exclude)) => Ok(Some(MetricSkip { include, exclude })),
            (i, e) => Err(i.err().into_iter().chain(e.err()).flatten().collect()),
        }
    }

    /// Whether resource-level matching is configured.
    pub(crate) fn checks_resources(&self) -> bool {
        self.include.resources.is_some() || self.exclude.resources.is_some()
    }

    /// Whether name matching is configured.
    pub(crate) fn checks_names(&self) -> bool {
        self.include.names.is_some() || self.exclude.names.is_some()
    }

    /// Whether the whole resource is dropped.
    pub(crate) fn skip_resource(&self, resource: &[KeyValue]) -> bool {
        self.include.resources.as_ref().is_some_and(|m| !attributes_match(m, resource))
            || self.exclude.resources.as_ref().is_some_and(|m| attributes_match(m, resource))
    }

    /// Whether the metric is dropped.
    pub(crate) fn skip_metric(&self, name: &str) -> bool {
        self.include.names.as_ref().is_some_and(|m| !m.matches(name))
            || self.exclude.names.as_ref().is_some_and(|m| m.matches(name))
    }
}
