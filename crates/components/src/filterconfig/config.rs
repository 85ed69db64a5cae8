//! The legacy match properties as written in configs (the filter processor's `spans:`,
//! `metrics.include`, `logs.include`; the attributes processor's `include`/`exclude`), with
//! the Collector's keys (`internal/filter/filterconfig`). Old examples capitalise `Key`/`Value`/`Name`/`Version`
//! (mapstructure ignores case), so those spellings are accepted too.

use serde::Deserialize;

/// `match_type` of span and log properties.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MatchType {
    /// Exact string equality.
    Strict,
    /// RE2 regular expression, unanchored (Go `MatchString`).
    Regexp,
}

/// `match_type` of metric properties: `expr` is refused (the expr language is not run).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MetricMatchType {
    /// Exact string equality.
    Strict,
    /// RE2 regular expression, unanchored.
    Regexp,
    /// The antonmedv/expr language (not supported).
    Expr,
}

/// `regexp:` cache options: accepted for compatibility; patterns are compiled once at load
/// and matching needs no cache.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RegexpConfig {
    /// Accepted, unused.
    pub cacheenabled: bool,
    /// Accepted, unused.
    pub cachemaxnumentries: i64,
}

/// An attribute to match: the key must exist; with `value`, the value must match too.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeConfig {
    /// The attribute key.
    #[serde(alias = "Key")]
    pub key: String,
    /// The value (strict: same type and value; regexp: a string pattern). Absent: any value.
    #[serde(alias = "Value")]
    pub value: Option<serde_json::Value>,
}

/// An instrumentation library (scope) to match.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LibraryConfig {
    /// The scope name.
    #[serde(alias = "Name")]
    pub name: String,
    /// The scope version; absent matches any version.
    #[serde(alias = "Version")]
    pub version: Option<String>,
}

/// `spans:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SpanMatchConfig {
    /// Keep only the spans matching these properties.
    pub include: Option<MatchProperties>,
    /// Drop the spans matching these properties (checked after `include`).
    pub exclude: Option<MatchProperties>,
}

/// The filter processor's name for [`MatchProperties`] under `spans:`.
pub type SpanMatchProperties = MatchProperties;

/// Match properties (`filterconfig.MatchProperties`); every property given must match.
/// Which fields a signal accepts is checked when the matcher of that signal is built
/// (spans, logs and metrics each refuse or ignore some, as upstream).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MatchProperties {
    /// `strict` or `regexp`.
    pub match_type: Option<MatchType>,
    /// Accepted, unused.
    pub regexp: Option<RegexpConfig>,
    /// `service.name` of the resource (any of them).
    pub services: Vec<String>,
    /// Span name (any of them).
    pub span_names: Vec<String>,
    /// Span kind as `SPAN_KIND_SERVER`, … (any of them).
    pub span_kinds: Vec<String>,
    /// Span attributes (all of them).
    pub attributes: Vec<AttributeConfig>,
    /// Resource attributes (all of them).
    pub resources: Vec<AttributeConfig>,
    /// Instrumentation scopes (all of them).
    pub libraries: Vec<LibraryConfig>,
    /// Log body as a string (any of them); logs only (spans refuse it, as upstream).
    pub log_bodies: Vec<String>,
    /// Log severity text (any of them); logs only.
    pub log_severity_texts: Vec<String>,
    /// Minimum log severity; logs only.
    pub log_severity_number: Option<SeverityNumberConfig>,
    /// Metric name (any of them); metrics only (ignored for spans and logs, as upstream).
    pub metric_names: Vec<String>,
}

/// `metrics.include` / `metrics.exclude`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricMatchProperties {
    /// `strict` or `regexp` (`expr` is refused).
    pub match_type: Option<MetricMatchType>,
    /// Accepted, unused.
    pub regexp: Option<RegexpConfig>,
    /// Metric names (any of them). Empty: metrics are not matched by name.
    pub metric_names: Vec<String>,
    /// `expr` expressions (refused).
    pub expressions: Vec<String>,
    /// Resource attributes (all of them); checked per resource.
    pub resource_attributes: Vec<AttributeConfig>,
}

/// `logs.include` / `logs.exclude`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogMatchProperties {
    /// `strict` or `regexp`.
    pub match_type: Option<MatchType>,
    /// Resource attributes (all of them).
    pub resource_attributes: Vec<AttributeConfig>,
    /// Log record attributes (all of them).
    pub record_attributes: Vec<AttributeConfig>,
    /// Severity text (any of them).
    pub severity_texts: Vec<String>,
    /// Minimum severity number.
    pub severity_number: Option<SeverityNumberConfig>,
    /// Body as a string (any of them).
    pub bodies: Vec<String>,
}

impl LogMatchProperties {
    /// Upstream ignores an `include`/`exclude` that sets nothing to match.
    pub fn is_empty(&self) -> bool {
        self.resource_attributes.is_empty()
            && self.record_attributes.is_empty()
            && self.severity_texts.is_empty()
            && self.bodies.is_empty()
            && self.severity_number.is_none()
    }
}

/// `severity_number: {min, match_undefined}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SeverityNumberConfig {
    /// `INFO`, `warn2`, `9`, … (case-insensitive).
    pub min: String,
    /// Whether records without a severity number match.
    pub match_undefined: bool,
}
