//! The legacy `include`/`exclude` matchers (the Collector's `internal/filter`: `filterconfig`,
//! `filterset`, `filtermatcher`, `filterspan`, `filterlog`, `filtermetric`), still found in
//! many configs and shared by the `filter` and `attributes` processors. An item is skipped
//! when it does not match `include` or matches `exclude` (include first, then exclude);
//! every property given must match for an item to match.
// Each processor uses part of this module; a build with only one of them leaves the rest.
#![cfg_attr(not(all(feature = "processor-filter", feature = "processor-attributes")), allow(dead_code))]

pub mod config;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod spans;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use regex::Regex;
use switchyard_core::component::FieldError;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};

use config::{AttributeConfig, MatchType};

/// A set of strings or patterns an input must match one of (`filterset`).
#[derive(Debug)]
pub(crate) enum FilterSet {
    /// Exact equality with any member.
    Strict(HashSet<String>),
    /// Any pattern found anywhere in the input (Go `MatchString` is unanchored).
    Regexp(Vec<Regex>),
}

impl FilterSet {
    /// Builds the set of `patterns` written at `field` (errors name `field::<index>`).
    pub(crate) fn new(field: &str, patterns: &[String], match_type: MatchType) -> Result<Self, Vec<FieldError>> {
        match match_type {
            MatchType::Strict => Ok(FilterSet::Strict(patterns.iter().cloned().collect())),
            MatchType::Regexp => {
                let mut errors = Vec::new();
                let mut set = Vec::with_capacity(patterns.len());
                for (i, p) in patterns.iter().enumerate() {
                    match Regex::new(p) {
                        Ok(re) => set.push(re),
                        Err(e) => errors
                            .push(FieldError::new(format!("{field}::{i}"), format!("error parsing regexp `{p}`: {e}"))),
                    }
                }
                if errors.is_empty() {
                    Ok(FilterSet::Regexp(set))
                } else {
                    Err(errors)
                }
            }
        }
    }

    /// Builds the set, or `None` when there are no patterns (the property is not checked).
    pub(crate) fn optional(
        field: &str,
        patterns: &[String],
        match_type: MatchType,
    ) -> Result<Option<Self>, Vec<FieldError>> {
        if patterns.is_empty() {
            Ok(None)
        } else {
            Self::new(field, patterns, match_type).map(Some)
        }
    }

    /// Whether `input` matches a member.
    pub(crate) fn matches(&self, input: &str) -> bool {
        match self {
            FilterSet::Strict(set) => set.contains(input),
            FilterSet::Regexp(set) => set.iter().any(|re| re.is_match(input)),
        }
    }
}

/// What an attribute's value must be.
#[derive(Debug)]
enum ValueTest {
    /// Any value: the key must exist.
    Any,
    /// The value as a string (strings, bools, ints, doubles only) matches the pattern.
    Pattern(FilterSet),
    /// Same type and value.
    Equals(AnyValue),
}

/// One attribute to match.
#[derive(Debug)]
pub(crate) struct AttributeMatcher {
    key: String,
    test: ValueTest,
}

/// Builds the matchers of `list` written at `field`.
pub(crate) fn attribute_matchers(
    field: &str,
    list: &[AttributeConfig],
    match_type: MatchType,
) -> Result<Vec<AttributeMatcher>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let at = format!("{field}::{i}");
        if a.key.is_empty() {
            errors.push(FieldError::new(format!("{at}::key"), "can't have empty key in the list of attributes"));
            continue;
        }
        let test = match (&a.value, match_type) {
            (None | Some(serde_json::Value::Null), _) => ValueTest::Any,
            (Some(serde_json::Value::String(s)), MatchType::Regexp) => {
                match FilterSet::new(&format!("{at}::value"), std::slice::from_ref(s), MatchType::Regexp) {
                    Ok(set) => ValueTest::Pattern(set),
                    Err(mut e) => {
                        // The one pattern's error sits at `value::0`; the key is `value`.
                        for err in &mut e {
                            err.field = format!("{at}::value");
                        }
                        errors.extend(e);
                        continue;
                    }
                }
            }
            (Some(other), MatchType::Regexp) => {
                errors.push(FieldError::new(
                    format!("{at}::value"),
                    format!("match_type=regexp for {:?} only supports Str, but found {}", a.key, json_type(other)),
                ));
                continue;
            }
            (Some(v), MatchType::Strict) => ValueTest::Equals(json_to_any(v)),
        };
        out.push(AttributeMatcher { key: a.key.clone(), test });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether `attrs` satisfies every matcher (true when there are none; false for an empty
/// attribute list otherwise).
pub(crate) fn attributes_match(matchers: &[AttributeMatcher], attrs: &[KeyValue]) -> bool {
    if matchers.is_empty() {
        return true;
    }
    matchers.iter().all(|m| {
        let Some(v) = attrs::get(attrs, &m.key) else { return false };
        match &m.test {
            ValueTest::Any => true,
            ValueTest::Pattern(set) => string_value(v).is_some_and(|s| set.matches(&s)),
            ValueTest::Equals(want) => values_equal(want, v),
        }
    })
}

/// An attribute as the regexp matcher sees it: strings, bools, ints, and doubles in Go's
/// `FormatFloat('f', -1)` (no exponent); other types never match.
fn string_value(v: &AnyValue) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    Some(match &v.value {
        Some(any_value::Value::StringValue(s)) => Cow::Borrowed(s.as_str()),
        Some(any_value::Value::BoolValue(b)) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Some(any_value::Value::IntValue(i)) => Cow::Owned(i.to_string()),
        Some(any_value::Value::DoubleValue(d)) => Cow::Owned(if d.is_nan() {
            "NaN".to_string()
        } else if d.is_infinite() {
            if *d > 0.0 { "+Inf" } else { "-Inf" }.to_string()
        } else {
            format!("{d}")
        }),
        _ => return None,
    })
}

/// Strict equality: the same type and value; maps compare without regard to key order.
fn values_equal(a: &AnyValue, b: &AnyValue) -> bool {
    use any_value::Value as V;
    match (&a.value, &b.value) {
        (Some(V::ArrayValue(x)), Some(V::ArrayValue(y))) => {
            x.values.len() == y.values.len() && x.values.iter().zip(&y.values).all(|(p, q)| values_equal(p, q))
        }
        (Some(V::KvlistValue(x)), Some(V::KvlistValue(y))) => {
            x.values.len() == y.values.len()
                && x.values.iter().all(|kv| {
                    attrs::get(&y.values, &kv.key)
                        .is_some_and(|w| kv.value.as_ref().is_some_and(|v| values_equal(v, w)))
                })
        }
        (x, y) => x == y,
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "Empty",
        serde_json::Value::Bool(_) => "Bool",
        serde_json::Value::Number(n) if n.is_f64() => "Double",
        serde_json::Value::Number(_) => "Int",
        serde_json::Value::String(_) => "Str",
        serde_json::Value::Array(_) => "Slice",
        serde_json::Value::Object(_) => "Map",
    }
}

/// A config value as the attribute value pdata's `FromRaw` makes of it.
pub(crate) fn json_to_any(v: &serde_json::Value) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(V::BoolValue(*b)),
        serde_json::Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => V::IntValue(i),
            // Go converts a uint64 to int64 (wrapping); keep the bits the same way.
            (None, Some(u), _) => V::IntValue(u as i64),
            (_, _, f) => V::DoubleValue(f.unwrap_or(f64::NAN)),
        }),
        serde_json::Value::String(s) => Some(V::StringValue(s.clone())),
        serde_json::Value::Array(a) => Some(V::ArrayValue(ArrayValue { values: a.iter().map(json_to_any).collect() })),
        serde_json::Value::Object(m) => Some(V::KvlistValue(KeyValueList {
            values: m
                .iter()
                .map(|(k, v)| KeyValue { key: k.clone(), value: Some(json_to_any(v)), ..Default::default() })
                .collect(),
        })),
    };
    AnyValue { value }
}

/// The error of an `include`/`exclude` without `match_type`.
pub(crate) fn missing_match_type(field: &str) -> FieldError {
    FieldError::new(format!("{field}::match_type"), "unrecognized match_type: '', valid types are: [regexp strict]")
}

/// `prefix::name`, or `name` at the top of a config.
pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}::{name}")
    }
}

/// Whether an attribute list compares values (and so needs a `match_type`).
pub(crate) fn has_values(list: &[AttributeConfig]) -> bool {
    list.iter().any(|a| a.value.as_ref().is_some_and(|v| !v.is_null()))
}

/// What can be checked of shared match properties before knowing the signal they will
/// run on (at load, with located errors): `match_type` where values are compared, every
/// pattern, attribute value and severity. The per-signal rules (`ValidateForSpans`,
/// `ValidateForLogs`) apply when the processor is built for a pipeline.
pub(crate) fn check_properties(field: &str, p: &config::MatchProperties) -> Vec<FieldError> {
    let lists = [
        ("services", &p.services),
        ("span_names", &p.span_names),
        ("span_kinds", &p.span_kinds),
        ("log_bodies", &p.log_bodies),
        ("log_severity_texts", &p.log_severity_texts),
        ("metric_names", &p.metric_names),
    ];
    let needs_type = lists.iter().any(|(_, l)| !l.is_empty())
        || !p.libraries.is_empty()
        || has_values(&p.attributes)
        || has_values(&p.resources);
    let mt = match p.match_type {
        Some(mt) => mt,
        None if needs_type => return vec![missing_match_type(field)],
        None => MatchType::Strict,
    };
    let mut errors = Vec::new();
    for (key, list) in lists {
        if let Err(e) = FilterSet::optional(&format!("{field}::{key}"), list, mt) {
            errors.extend(e);
        }
    }
    for (key, list) in [("attributes", &p.attributes), ("resources", &p.resources)] {
        if let Err(e) = attribute_matchers(&format!("{field}::{key}"), list, mt) {
            errors.extend(e);
        }
    }
    if let Err(e) = spans::library_matchers(&format!("{field}::libraries"), &p.libraries, mt) {
        errors.extend(e);
    }
    if let Some(s) = &p.log_severity_number {
        if !s.min.is_empty() && logs::severity_number(&s.min).is_none() {
            errors.push(FieldError::new(
                format!("{field}::log_severity_number::min"),
                format!("'{}' is not a valid severity: not a valid severity", s.min),
            ));
        }
    }
    errors
}
