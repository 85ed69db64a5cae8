//! Labels from OTLP attributes: the point's attributes (sanitised; keys that sanitise alike
//! joined with `;`), `job`/`instance` from the resource, `otel_scope_*`, promoted resource
//! attributes and the `target_info` series.

use std::borrow::Cow;

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::attrs::{self, value_of};
use switchyard_pdata::value::as_string;

use super::names::{label_name, metric_name, NameKind};

/// The name of the series that carries a resource's attributes.
pub const TARGET_INFO: &str = "target_info";

/// A label pair; also the remote-write wire message (`prometheus.Label`), hence prost.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct Label {
    /// Name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value (never empty: Prometheus treats an empty value as an absent label).
    #[prost(string, tag = "2")]
    pub value: String,
}

impl Label {
    /// A label from its parts.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Label {
        Label { name: name.into(), value: value.into() }
    }
}

/// Whether a resource attribute is one `job`/`instance` are made of.
pub fn is_service_attribute(key: &str) -> bool {
    matches!(key, "service.name" | "service.namespace" | "service.instance.id")
}

/// `job` = `service.namespace/service.name` (or `service.name`), `instance` = `service.instance.id`.
/// A duplicated key counts with its first value, as the Collector's `Map.Get` reads it.
pub fn identity_labels(attrs: &[KeyValue]) -> Vec<Label> {
    let get = |k: &str| attrs::get_string(attrs, k).map(Cow::into_owned);
    let mut out = Vec::with_capacity(2);
    if let Some(name) = get("service.name").filter(|s| !s.is_empty()) {
        let job = match get("service.namespace").filter(|s| !s.is_empty()) {
            Some(ns) => format!("{ns}/{name}"),
            None => name,
        };
        out.push(Label::new("job", job));
    }
    if let Some(id) = get("service.instance.id").filter(|s| !s.is_empty()) {
        out.push(Label::new("instance", id));
    }
    out
}

/// `otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url` and `otel_scope_<attr>`
/// (empty ones left out).
pub fn scope_labels(scope: Option<&InstrumentationScope>, schema_url: &str) -> Vec<Label> {
    let mut out = Vec::new();
    let Some(scope) = scope else { return out };
    let mut add = |name: String, value: String| {
        if !value.is_empty() {
            out.push(Label { name, value })
        }
    };
    add("otel_scope_name".into(), scope.name.clone());
    add("otel_scope_version".into(), scope.version.clone());
    add("otel_scope_schema_url".into(), schema_url.to_string());
    for kv in &scope.attributes {
        add(format!("otel_scope_{}", label_name(&kv.key)), as_string(value_of(kv)).into_owned());
    }
    out
}

/// Resource attributes as labels (`resource_to_telemetry_conversion`), optionally without
/// the service ones (they are `job` and `instance` already).
pub fn promoted_labels(attrs: &[KeyValue], exclude_service: bool) -> Vec<Label> {
    attrs
        .iter()
        .filter(|kv| !(exclude_service && is_service_attribute(&kv.key)))
        .map(|kv| Label { name: label_name(&kv.key), value: as_string(value_of(kv)).into_owned() })
        .collect()
}

/// A point's attributes as labels, sanitised; keys that sanitise to one name are joined
/// with `;` in key order (as the Collector's translator does). Not sorted by label name.
pub fn attribute_labels(attrs: &[KeyValue], capacity: usize) -> Vec<Label> {
    let mut labels: Vec<Label> = Vec::with_capacity(attrs.len() + capacity);
    let mut sorted: Vec<&KeyValue> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for kv in sorted {
        let n = label_name(&kv.key);
        let v = as_string(value_of(kv)).into_owned();
        match labels.iter_mut().find(|l| l.name == n) {
            Some(l) => {
                l.value.push(';');
                l.value.push_str(&v);
            }
            None => labels.push(Label { name: n, value: v }),
        }
    }
    labels
}

/// The labels of one point's series (without `__name__`): its attributes, then promoted
/// resource attributes and `extra` (const/external labels) where no attribute has the name,
/// while `fixed` (`job`, `instance`, `otel_scope_*`) always win; empty values left out,
/// sorted by name.
pub fn series_labels(attrs: &[KeyValue], promoted: &[Label], fixed: &[Label], extra: &[Label]) -> Vec<Label> {
    let mut labels = attribute_labels(attrs, promoted.len() + fixed.len() + extra.len() + 2);
    for l in promoted {
        add_absent(&mut labels, l);
    }
    for l in fixed {
        set_label(&mut labels, &l.name, l.value.clone());
    }
    for l in extra {
        add_absent(&mut labels, l);
    }
    labels.retain(|l| !l.value.is_empty());
    labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    labels
}

/// Sets `name` (replacing a value already there).
pub fn set_label(labels: &mut Vec<Label>, name: &str, value: String) {
    match labels.iter_mut().find(|l| l.name == name) {
        Some(l) => l.value = value,
        None => labels.push(Label { name: name.to_string(), value }),
    }
}

/// Adds `l` unless a label of that name is there.
pub fn add_absent(labels: &mut Vec<Label>, l: &Label) {
    if !labels.iter().any(|x| x.name == l.name) {
        labels.push(l.clone());
    }
}

/// `target_info`, or `<namespace>_target_info`.
pub fn target_info_name(namespace: &str) -> String {
    if namespace.is_empty() {
        TARGET_INFO.to_string()
    } else {
        metric_name(TARGET_INFO, "", NameKind::Other, false, namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
            ..Default::default()
        }
    }

    #[test]
    fn job_and_instance_come_from_the_service_attributes() {
        let l = identity_labels(&[
            kv("service.instance.id", "i-1"),
            kv("service.name", "api"),
            kv("service.namespace", "shop"),
        ]);
        assert_eq!(l, vec![Label::new("job", "shop/api"), Label::new("instance", "i-1")]);
        assert_eq!(identity_labels(&[kv("service.name", "api")]), vec![Label::new("job", "api")]);
        assert!(identity_labels(&[kv("host.name", "h")]).is_empty());
    }

    #[test]
    fn colliding_keys_are_joined_in_key_order() {
        let l = attribute_labels(&[kv("a_b", "2"), kv("a.b", "1"), kv("c", "3")], 0);
        assert_eq!(l, vec![Label::new("a_b", "1;2"), Label::new("c", "3")]);
    }

    #[test]
    fn target_info_takes_the_namespace() {
        assert_eq!(target_info_name(""), "target_info");
        assert_eq!(target_info_name("app"), "app_target_info");
    }
}
