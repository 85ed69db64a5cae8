//! `processors: filter:` configuration: the OTTL forms (`*_conditions`, and the older
//! `traces:`/`metrics:`/`logs:` context keys) and the legacy `include`/`exclude` match
//! properties, with the Collector's field names. Checking is done by compiling everything
//! ([`super::plan::Plans::compile`]), so validation and the running processor agree.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use switchyard_core::component::{ComponentConfig, FieldError};

use crate::filterconfig::config::{LogMatchProperties, MetricMatchProperties, RegexpConfig, SpanMatchConfig};
use crate::ottl::ErrorModeConfig;

/// The filter processor's config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterProcessorConfig {
    /// What a condition that fails at run time does (default `ignore`, as the Collector
    /// since v0.153; older Collectors defaulted to `propagate`).
    pub error_mode: ErrorModeConfig,
    /// Legacy span `include`/`exclude` match properties.
    pub spans: SpanMatchConfig,
    /// OTTL conditions per context (older form): `resource`, `span`, `spanevent`.
    pub traces: TraceFilters,
    /// OTTL conditions per context (older form) or legacy `include`/`exclude`.
    pub metrics: MetricFilters,
    /// OTTL conditions per context (older form) or legacy `include`/`exclude`.
    pub logs: LogFilters,
    /// Profile conditions (older form): checked, but the processor does not run in profiles
    /// pipelines (the loader refuses that), so they never apply.
    pub profiles: ProfileFilters,
    /// Trace conditions with context inference (flat list or groups).
    pub trace_conditions: Vec<ConditionsEntry>,
    /// Metric conditions with context inference.
    pub metric_conditions: Vec<ConditionsEntry>,
    /// Log conditions with context inference.
    pub log_conditions: Vec<ConditionsEntry>,
    /// Profile conditions: checked, never applied (see `profiles`).
    pub profile_conditions: Vec<ConditionsEntry>,
}

/// `traces:` (older OTTL form).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceFilters {
    /// Drops the whole resource.
    pub resource: Vec<String>,
    /// Drops the span.
    pub span: Vec<String>,
    /// Drops the span event.
    pub spanevent: Vec<String>,
}

/// `metrics:` (older OTTL form and legacy match properties).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricFilters {
    /// Keep only the matching metrics.
    pub include: Option<MetricMatchProperties>,
    /// Drop the matching metrics.
    pub exclude: Option<MetricMatchProperties>,
    /// Regexp cache options (accepted, not needed: patterns are compiled once).
    pub regexp: Option<RegexpConfig>,
    /// Drops the whole resource.
    pub resource: Vec<String>,
    /// Drops the metric.
    pub metric: Vec<String>,
    /// Drops the data point (and the metric once it has none left).
    pub datapoint: Vec<String>,
}

/// `logs:` (older OTTL form and legacy match properties).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogFilters {
    /// Keep only the matching log records.
    pub include: Option<LogMatchProperties>,
    /// Drop the matching log records.
    pub exclude: Option<LogMatchProperties>,
    /// Drops the whole resource.
    pub resource: Vec<String>,
    /// Drops the log record.
    pub log_record: Vec<String>,
}

/// `profiles:` (older OTTL form): checked, never applied.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileFilters {
    /// Resource conditions.
    pub resource: Vec<String>,
    /// Profile conditions.
    pub profile: Vec<String>,
}

/// One entry of a `*_conditions` list: a condition (flat, context inferred) or a group.
/// Upstream refuses mixing the two styles in one list; so does validation.
#[derive(Clone, Debug, PartialEq)]
pub enum ConditionsEntry {
    /// A condition written directly in the list.
    Flat(String),
    /// `{context, conditions, error_mode}`.
    Group(ConditionGroup),
}

/// A group of conditions with an optional context and `error_mode` of its own.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ConditionGroup {
    /// `resource`, `scope`, `span`, `spanevent`, `metric`, `datapoint`, `log`; inferred per
    /// condition when absent.
    pub context: Option<String>,
    /// The conditions (OR-ed: an item matching any is dropped).
    pub conditions: Vec<String>,
    /// Overrides the top-level `error_mode` for this group.
    pub error_mode: Option<ErrorModeConfig>,
}

impl<'de> Deserialize<'de> for ConditionsEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = ConditionsEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OTTL condition or a map with `context`, `conditions` and `error_mode`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ConditionsEntry, E> {
                Ok(ConditionsEntry::Flat(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ConditionsEntry, E> {
                Ok(ConditionsEntry::Flat(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConditionsEntry, A::Error> {
                ConditionGroup::deserialize(de::value::MapAccessDeserializer::new(map)).map(ConditionsEntry::Group)
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

impl ComponentConfig for FilterProcessorConfig {
    fn validate(&self) -> Vec<FieldError> {
        match super::plan::Plans::compile(self) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        }
    }
}

impl FilterProcessorConfig {
    /// The combinations the Collector refuses, each at the key that conflicts.
    pub(crate) fn conflicts(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let t = &self.traces;
        let traces_ottl = !(t.resource.is_empty() && t.span.is_empty() && t.spanevent.is_empty());
        let m = &self.metrics;
        let metrics_ottl = !(m.resource.is_empty() && m.metric.is_empty() && m.datapoint.is_empty());
        let metrics_legacy = m.include.is_some() || m.exclude.is_some();
        let l = &self.logs;
        let logs_ottl = !(l.resource.is_empty() && l.log_record.is_empty());
        let logs_legacy = l.include.is_some() || l.exclude.is_some();
        if !self.trace_conditions.is_empty() && traces_ottl {
            e.push(FieldError::new(
                "trace_conditions",
                "cannot use context inferred trace conditions \"trace_conditions\" and the settings \"traces.resource\", \"traces.span\", \"traces.spanevent\" at the same time",
            ));
        }
        if !self.metric_conditions.is_empty() && (metrics_ottl || metrics_legacy) {
            e.push(FieldError::new(
                "metric_conditions",
                "cannot use context inferred metric conditions \"metric_conditions\" and the settings \"metrics.resource\", \"metrics.metric\", \"metrics.datapoint\", \"metrics.include\", \"metrics.exclude\" at the same time",
            ));
        }
        if !self.log_conditions.is_empty() && (logs_ottl || logs_legacy) {
            e.push(FieldError::new(
                "log_conditions",
                "cannot use context inferred log conditions \"log_conditions\" and the settings \"logs.resource\", \"logs.log_record\", \"logs.include\", \"logs.exclude\" at the same time",
            ));
        }
        if traces_ottl && (self.spans.include.is_some() || self.spans.exclude.is_some()) {
            e.push(FieldError::new(
                "traces",
                "cannot use \"traces.resource\", \"traces.span\", \"traces.spanevent\" and the span settings \"spans.include\", \"spans.exclude\" at the same time",
            ));
        }
        if metrics_ottl && metrics_legacy {
            e.push(FieldError::new(
                "metrics",
                "cannot use \"metrics.resource\", \"metrics.metric\", \"metrics.datapoint\" and the settings \"metrics.include\", \"metrics.exclude\" at the same time",
            ));
        }
        if logs_ottl && logs_legacy {
            e.push(FieldError::new(
                "logs",
                "cannot use \"logs.resource\", \"logs.log_record\" and the settings \"logs.include\", \"logs.exclude\" at the same time",
            ));
        }
        for (key, set) in [
            ("trace_conditions", &self.trace_conditions),
            ("metric_conditions", &self.metric_conditions),
            ("log_conditions", &self.log_conditions),
            ("profile_conditions", &self.profile_conditions),
        ] {
            let flat = set.iter().any(|c| matches!(c, ConditionsEntry::Flat(_)));
            let grouped = set.iter().any(|c| matches!(c, ConditionsEntry::Group(_)));
            if flat && grouped {
                e.push(FieldError::new(
                    key,
                    "configuring multiple configuration styles is not supported, please use only Basic configuration (a list of conditions) or only Advanced configuration (a list of groups)",
                ));
            }
        }
        let profiles_ottl = !(self.profiles.resource.is_empty() && self.profiles.profile.is_empty());
        if !self.profile_conditions.is_empty() && profiles_ottl {
            e.push(FieldError::new(
                "profile_conditions",
                "cannot use context inferred profile conditions \"profile_conditions\" and the settings \"profiles.resource\", \"profiles.profile\" at the same time",
            ));
        }
        e
    }
}
