//! The attribute policies: `numeric_attribute`, `string_attribute` and
//! `boolean_attribute`. Each looks at the resource attributes and then the span attributes
//! of every batch, and samples at the first match.
//!
//! Values are read as pdata's typed getters read them, so a value of another kind reads as
//! the zero value: a string attribute holding `5` is `0` to `numeric_attribute`, a non-bool
//! is `false` to `boolean_attribute`, and a non-string is `""` to `string_attribute` (span
//! attributes that read as `""` are skipped, resource ones are not). `invert_match` samples
//! exactly the traces the plain policy would not (the Collector made inverted decisions
//! plain `Sampled`/`NotSampled`; the legacy `InvertSampled` results are gone).

use regex::RegexSet;
use switchyard_core::component::FieldError;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, KeyValue};
use switchyard_pdata::proto::trace::v1::ResourceSpans;

use super::config::{BooleanAttributeCfg, NumericAttributeCfg, StringAttributeCfg};
use super::Decision;

/// Whether any resource or span of `batches` satisfies `resource` or `span` (resource
/// first, then its spans, batch by batch).
pub(super) fn any_resource_or_span(
    batches: &[ResourceSpans],
    resource: impl Fn(&[KeyValue]) -> bool,
    span: impl Fn(&[KeyValue]) -> bool,
) -> bool {
    batches.iter().any(|rs| {
        resource(rs.resource.as_ref().map_or(&[][..], |r| r.attributes.as_slice()))
            || rs.scope_spans.iter().flat_map(|ss| &ss.spans).any(|s| span(&s.attributes))
    })
}

/// `Sampled` when `matched` (or, inverted, when not).
fn decide(matched: bool, invert: bool) -> Decision {
    if matched != invert {
        Decision::Sampled
    } else {
        Decision::NotSampled
    }
}

fn int_of(v: &AnyValue) -> i64 {
    match v.value {
        Some(Value::IntValue(i)) => i,
        _ => 0,
    }
}

fn bool_of(v: &AnyValue) -> bool {
    matches!(v.value, Some(Value::BoolValue(true)))
}

fn str_of(v: &AnyValue) -> &str {
    match &v.value {
        Some(Value::StringValue(s)) => s,
        _ => "",
    }
}

/// `numeric_attribute`: an integer attribute within `[min, max]`.
#[derive(Debug)]
pub(super) struct NumericAttribute {
    key: String,
    min: i64,
    max: i64,
    invert: bool,
}

impl NumericAttribute {
    /// A zero bound is no bound (the Collector maps 0 to unset); at least one is required.
    pub(super) fn compile(cfg: &NumericAttributeCfg, path: &str) -> Result<Self, Vec<FieldError>> {
        let min = if cfg.min_value != 0 { Some(cfg.min_value) } else { None };
        let max = if cfg.max_value != 0 { Some(cfg.max_value) } else { None };
        match (min, max) {
            (None, None) => {
                return Err(vec![FieldError::new(
                    format!("{path}::min_value"),
                    "at least one of min_value or max_value must be set (0 counts as unset)",
                )])
            }
            (Some(lo), Some(hi)) if lo > hi => {
                return Err(vec![FieldError::new(
                    format!("{path}::min_value"),
                    format!("min_value ({lo}) must be less than or equal to max_value ({hi})"),
                )])
            }
            _ => {}
        }
        Ok(NumericAttribute {
            key: cfg.key.clone(),
            min: min.unwrap_or(i64::MIN),
            max: max.unwrap_or(i64::MAX),
            invert: cfg.invert_match,
        })
    }

    pub(super) fn evaluate(&self, batches: &[ResourceSpans]) -> Decision {
        let hit = |a: &[KeyValue]| attrs::get(a, &self.key).is_some_and(|v| (self.min..=self.max).contains(&int_of(v)));
        decide(any_resource_or_span(batches, hit, hit), self.invert)
    }
}

/// `boolean_attribute`: a boolean attribute equal to `value`.
#[derive(Debug)]
pub(super) struct BooleanAttribute {
    key: String,
    value: bool,
    invert: bool,
}

impl BooleanAttribute {
    pub(super) fn compile(cfg: &BooleanAttributeCfg) -> Self {
        BooleanAttribute { key: cfg.key.clone(), value: cfg.value, invert: cfg.invert_match }
    }

    pub(super) fn evaluate(&self, batches: &[ResourceSpans]) -> Decision {
        let hit = |a: &[KeyValue]| attrs::get(a, &self.key).is_some_and(|v| bool_of(v) == self.value);
        decide(any_resource_or_span(batches, hit, hit), self.invert)
    }
}

/// How `string_attribute` compares.
#[derive(Debug)]
enum Matcher {
    /// Exact values (empty ones dropped).
    Exact(Vec<String>),
    /// Unanchored regular expressions (Go's `MatchString`); any one matching.
    Regex(RegexSet),
}

impl Matcher {
    fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Exact(values) => values.iter().any(|v| v == s),
            Matcher::Regex(set) => set.is_match(s),
        }
    }
}

/// `string_attribute`: a string attribute equal to one of `values` (or matching one).
#[derive(Debug)]
pub(super) struct StringAttribute {
    key: String,
    matcher: Matcher,
    invert: bool,
}

impl StringAttribute {
    /// Regexes are compiled here, so a bad one is a config error at its index.
    /// `cache_max_size` is accepted and has no effect: the Collector caches regex results
    /// per value, which does not change them, and a regex set is fast without it.
    pub(super) fn compile(cfg: &StringAttributeCfg, path: &str) -> Result<Self, Vec<FieldError>> {
        let matcher = if cfg.enabled_regex_matching {
            let errors: Vec<FieldError> = cfg
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    regex::Regex::new(v)
                        .err()
                        .map(|e| FieldError::new(format!("{path}::values::{i}"), format!("invalid regex {v:?}: {e}")))
                })
                .collect();
            if !errors.is_empty() {
                return Err(errors);
            }
            let set = RegexSet::new(&cfg.values)
                .map_err(|e| vec![FieldError::new(format!("{path}::values"), format!("invalid regexes: {e}"))])?;
            Matcher::Regex(set)
        } else {
            Matcher::Exact(cfg.values.iter().filter(|v| !v.is_empty()).cloned().collect())
        };
        Ok(StringAttribute { key: cfg.key.clone(), matcher, invert: cfg.invert_match })
    }

    pub(super) fn evaluate(&self, batches: &[ResourceSpans]) -> Decision {
        let resource = |a: &[KeyValue]| attrs::get(a, &self.key).is_some_and(|v| self.matcher.matches(str_of(v)));
        let span = |a: &[KeyValue]| {
            attrs::get(a, &self.key).is_some_and(|v| {
                let s = str_of(v);
                !s.is_empty() && self.matcher.matches(s)
            })
        };
        decide(any_resource_or_span(batches, resource, span), self.invert)
    }
}
