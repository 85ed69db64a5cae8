//! The count connector's settings, as the Collector's `connector/countconnector` reads them
//! (contrib v0.159): one map of metric name → `{description, conditions, attributes}` per
//! kind of item counted. A kind left out of the config counts with its default metric
//! (`trace.span.count`, ...); a kind written in the config, even empty, counts only the
//! metrics listed under it.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_ottl::{Component, Context};
use switchyard_pdata::proto::common::v1::{any_value, AnyValue};

use crate::ottl::compile_condition;

/// What is counted: one config section each, in the Collector's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// Spans (`spans`), from traces.
    Spans,
    /// Span events (`spanevents`), from traces.
    SpanEvents,
    /// Metrics (`metrics`), from metrics.
    Metrics,
    /// Data points (`datapoints`), from metrics.
    DataPoints,
    /// Log records (`logs`), from logs.
    Logs,
    /// Profiles (`profiles`), from profiles.
    Profiles,
}

impl Counted {
    /// Every section.
    pub const ALL: [Counted; 6] =
        [Counted::Spans, Counted::SpanEvents, Counted::Metrics, Counted::DataPoints, Counted::Logs, Counted::Profiles];

    /// The config key.
    pub fn key(self) -> &'static str {
        match self {
            Counted::Spans => "spans",
            Counted::SpanEvents => "spanevents",
            Counted::Metrics => "metrics",
            Counted::DataPoints => "datapoints",
            Counted::Logs => "logs",
            Counted::Profiles => "profiles",
        }
    }

    /// The metric counted when the section is left out, and its description (upstream's).
    pub fn default_metric(self) -> (&'static str, &'static str) {
        match self {
            Counted::Spans => ("trace.span.count", "The number of spans observed."),
            Counted::SpanEvents => ("trace.span.event.count", "The number of span events observed."),
            Counted::Metrics => ("metric.count", "The number of metrics observed."),
            Counted::DataPoints => ("metric.datapoint.count", "The number of data points observed."),
            Counted::Logs => ("log.record.count", "The number of log records observed."),
            Counted::Profiles => ("profile.count", "The number of profiles observed."),
        }
    }

    /// The OTTL context its conditions run in.
    pub fn context(self) -> Context {
        match self {
            Counted::Spans => Context::Span,
            Counted::SpanEvents => Context::SpanEvent,
            Counted::Metrics => Context::Metric,
            Counted::DataPoints => Context::DataPoint,
            Counted::Logs => Context::Log,
            Counted::Profiles => Context::Profile,
        }
    }
}

/// `connectors: count:`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountConnectorConfig {
    /// Metrics counting spans; `None` = the section is left out (default metric).
    #[serde(deserialize_with = "present")]
    pub spans: Option<IndexMap<String, MetricInfo>>,
    /// Metrics counting span events.
    #[serde(deserialize_with = "present")]
    pub spanevents: Option<IndexMap<String, MetricInfo>>,
    /// Metrics counting metrics.
    #[serde(deserialize_with = "present")]
    pub metrics: Option<IndexMap<String, MetricInfo>>,
    /// Metrics counting data points.
    #[serde(deserialize_with = "present")]
    pub datapoints: Option<IndexMap<String, MetricInfo>>,
    /// Metrics counting log records.
    #[serde(deserialize_with = "present")]
    pub logs: Option<IndexMap<String, MetricInfo>>,
    /// Metrics counting profiles.
    #[serde(deserialize_with = "present")]
    pub profiles: Option<IndexMap<String, MetricInfo>>,
}

/// A section written in the config is `Some`, even as `spans:` (null) or `spans: {}`: as
/// upstream (`IsSet`), writing the key turns the default metric off.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IndexMap<String, MetricInfo>>, D::Error> {
    Ok(Some(Option::<IndexMap<String, MetricInfo>>::deserialize(d)?.unwrap_or_default()))
}

/// One metric to emit.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricInfo {
    /// The metric's description.
    pub description: String,
    /// OTTL conditions, OR-ed: an item is counted when one holds. None = every item.
    pub conditions: Vec<String>,
    /// Attributes to count by: one data point per distinct set of values.
    pub attributes: Vec<AttributeConfig>,
}

/// One attribute to count by.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeConfig {
    /// Looked up on the item, then its scope, then its resource.
    pub key: String,
    /// The value for items without the attribute; without one, such items are not counted.
    pub default_value: Option<DefaultValue>,
}

/// A `default_value`: a string or a number, as upstream reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Double(f64),
}

impl DefaultValue {
    /// The attribute value it stands for; `None` for `""`, which upstream treats as no default.
    pub fn value(&self) -> Option<AnyValue> {
        let v = match self {
            DefaultValue::Str(s) if s.is_empty() => return None,
            DefaultValue::Str(s) => any_value::Value::StringValue(s.clone()),
            DefaultValue::Int(i) => any_value::Value::IntValue(*i),
            DefaultValue::Double(d) => any_value::Value::DoubleValue(*d),
        };
        Some(AnyValue { value: Some(v) })
    }
}

impl<'de> Deserialize<'de> for DefaultValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DefaultValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DefaultValue, E> {
                Ok(DefaultValue::Str(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DefaultValue, E> {
                Ok(DefaultValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DefaultValue, E> {
                i64::try_from(v).map(DefaultValue::Int).map_err(|_| E::custom("default_value is out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DefaultValue, E> {
                Ok(DefaultValue::Double(v))
            }
            // Upstream silently ignores a boolean default (the items go uncounted): say so.
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<DefaultValue, E> {
                Err(E::custom(format_args!(
                    "default_value must be a string or a number; the Collector ignores a boolean default, \
                     write \"{v}\" in quotes for the string"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl CountConnectorConfig {
    /// The section of `kind` as written; `None` when left out.
    pub fn section(&self, kind: Counted) -> Option<&IndexMap<String, MetricInfo>> {
        match kind {
            Counted::Spans => self.spans.as_ref(),
            Counted::SpanEvents => self.spanevents.as_ref(),
            Counted::Metrics => self.metrics.as_ref(),
            Counted::DataPoints => self.datapoints.as_ref(),
            Counted::Logs => self.logs.as_ref(),
            Counted::Profiles => self.profiles.as_ref(),
        }
    }

    /// The metrics counting `kind`: the section as written, or the default metric.
    pub fn metrics_for(&self, kind: Counted) -> IndexMap<String, MetricInfo> {
        match self.section(kind) {
            Some(s) => s.clone(),
            None => {
                let (name, description) = kind.default_metric();
                let info = MetricInfo { description: description.to_string(), ..Default::default() };
                IndexMap::from([(name.to_string(), info)])
            }
        }
    }
}

/// Checks one metric of section `kind`; errors name its key path.
fn check_metric(kind: Counted, name: &str, info: &MetricInfo) -> Vec<FieldError> {
    let mut e = Vec::new();
    let at = format!("{}::{name}", kind.key());
    if name.is_empty() {
        e.push(FieldError::new(kind.key(), "metric name missing"));
    }
    for (i, c) in info.conditions.iter().enumerate() {
        let field = format!("{at}::conditions::{i}");
        if kind == Counted::Profiles {
            e.push(FieldError::new(
                field,
                "conditions on profiles are not supported yet (Switchyard has no OTTL profile context); \
                 profiles can be counted by attributes",
            ));
        } else if let Err(errors) = compile_condition(&field, c, kind.context(), Component::Count) {
            e.extend(errors);
        }
    }
    if kind == Counted::Metrics && !info.attributes.is_empty() {
        e.push(FieldError::new(
            format!("{at}::attributes"),
            format!("metrics attributes not supported: metric \"{name}\" (count data points by attribute with `datapoints`)"),
        ));
        return e;
    }
    for (i, a) in info.attributes.iter().enumerate() {
        if a.key.is_empty() {
            e.push(FieldError::new(format!("{at}::attributes::{i}"), "attribute key missing"));
        } else if info.attributes[..i].iter().any(|b| b.key == a.key) {
            // Upstream would never count such a metric (its attribute set is always short).
            e.push(FieldError::new(
                format!("{at}::attributes::{i}::key"),
                format!("attribute \"{}\" is listed twice", a.key),
            ));
        }
    }
    e
}

impl ComponentConfig for CountConnectorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        for kind in Counted::ALL {
            for (name, info) in self.section(kind).into_iter().flatten() {
                e.extend(check_metric(kind, name, info));
            }
        }
        e
    }
}
