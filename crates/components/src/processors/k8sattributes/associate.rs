//! The request side: find the pod a resource came from (contrib `pod_association.go`
//! `extractPodID`) and add its attributes (contrib `processResource`,
//! `addContainerAttributes`), never replacing a non-empty attribute already there.

use std::net::IpAddr;

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, ArrayValue, KeyValue};
use switchyard_pdata::attrs;
use switchyard_pdata::value::{as_string, str_value};

use super::cache::{push_part, Association, Found, MetaInfo, PodCache, Source};
use super::rules::Rules;

/// The identifier key for a resource: the first association all of whose sources have a
/// value; also whether its value came from the connection (then `k8s.pod.ip` may be set).
/// One `String` per resource: the key the cache is indexed by.
pub fn identify(associations: &[Association], conn: Option<&str>, attrs: &[KeyValue]) -> Option<(String, bool)> {
    'assoc: for a in associations {
        let mut key = String::new();
        let mut from_conn = false;
        for s in a {
            let value = match s {
                Source::Connection => match conn {
                    Some(ip) => {
                        from_conn = true;
                        ip
                    }
                    None => continue 'assoc,
                },
                Source::Attr(name) => match attrs::get_str(attrs, name) {
                    Some(v) if !v.is_empty() => {
                        // host.name identifies a pod only when it holds an IP (upstream).
                        if &**name == "host.name" && v.parse::<IpAddr>().is_err() {
                            continue 'assoc;
                        }
                        v
                    }
                    _ => continue 'assoc,
                },
            };
            push_part(&mut key, s, value);
        }
        if !key.is_empty() {
            return Some((key, from_conn));
        }
    }
    None
}

/// Sets `key` unless the resource already has a non-empty value for it (upstream
/// `setResourceAttribute`).
pub fn set_attr(attrs: &mut Vec<KeyValue>, key: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    match attrs::get(attrs, key) {
        None => {
            attrs::insert(attrs, key, str_value(value));
        }
        Some(v) if as_string(v).is_empty() => {
            attrs::update(attrs, key, str_value(value));
        }
        Some(_) => {}
    }
}

/// Adds pod `key`'s attributes to `attrs`; false when the cache does not know the pod.
/// Data whose pod is unknown still gets its namespace's and node's attributes when it
/// names them (`k8s.namespace.name`, `k8s.node.name`), as upstream.
pub fn annotate(cache: &PodCache, rules: &Rules, key: Option<&str>, attrs: &mut Vec<KeyValue>) -> bool {
    if key.and_then(|k| cache.with_pod(k, |f| apply(&f, rules, attrs))).is_some() {
        return true;
    }
    if rules.has("service.namespace") {
        // Upstream sets it from the data's own namespace attribute when the pod is unknown.
        if let Some(ns) = attrs::get_str(attrs, "k8s.namespace.name").map(str::to_owned) {
            set_attr(attrs, "service.namespace", &ns);
        }
    }
    if rules.watches_namespaces() || rules.watches_nodes() {
        let ns = attrs::get_str(attrs, "k8s.namespace.name").map(str::to_owned);
        let node = attrs::get_str(attrs, "k8s.node.name").map(str::to_owned);
        cache.with_meta(ns.as_deref(), node.as_deref(), |ns, node| apply_meta(ns, node, rules, attrs));
    }
    false
}

fn apply(f: &Found<'_>, rules: &Rules, attrs: &mut Vec<KeyValue>) {
    let p = f.pod;
    for (k, v) in [
        ("k8s.pod.name", &*p.name),
        ("k8s.pod.hostname", &*p.hostname),
        ("k8s.pod.ip", &*p.ip),
        ("k8s.namespace.name", &*p.namespace),
        ("k8s.pod.uid", &*p.uid),
        ("k8s.node.name", &*p.node),
    ] {
        if rules.has(k) {
            set_attr(attrs, k, v);
        }
    }
    if rules.has("k8s.pod.start_time") && p.created != i64::MIN {
        if let Ok(t) = k8s_openapi::jiff::Timestamp::from_second(p.created) {
            // Go's metav1.Time text form: RFC 3339 in UTC, whole seconds.
            set_attr(attrs, "k8s.pod.start_time", &t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }
    let deployment = f.replicaset.map_or("", |r| &*r.deployment);
    // The service attributes first: a stored `service.name` may be a replicaset name
    // that the deployment's name beats.
    set_attr(attrs, "service.name", p.service_name(deployment));
    for (k, v) in p.attrs.iter() {
        set_attr(attrs, k, v);
    }
    if rules.has("service.namespace") {
        set_attr(attrs, "service.namespace", &p.namespace);
    }
    containers(f, rules, attrs);
    if rules.has("k8s.deployment.name") {
        set_attr(attrs, "k8s.deployment.name", if deployment.is_empty() { &p.deployment_hint } else { deployment });
    }
    if rules.has("k8s.deployment.uid") {
        set_attr(attrs, "k8s.deployment.uid", f.replicaset.map(|r| &*r.deployment_uid).unwrap_or_default());
    }
    if rules.has("k8s.cluster.uid") {
        set_attr(attrs, "k8s.cluster.uid", f.cluster_uid.unwrap_or_default());
    }
    apply_meta(f.namespace, f.node, rules, attrs);
}

/// The namespace's and node's attributes.
fn apply_meta(ns: Option<&MetaInfo>, node: Option<&MetaInfo>, rules: &Rules, attrs: &mut Vec<KeyValue>) {
    if let Some(ns) = ns {
        for (k, v) in ns.attrs.iter() {
            set_attr(attrs, k, v);
        }
    }
    if let Some(node) = node {
        for (k, v) in node.attrs.iter() {
            set_attr(attrs, k, v);
        }
        if rules.has("k8s.node.uid") {
            set_attr(attrs, "k8s.node.uid", &node.uid);
        }
    }
}

/// The container the data names (`k8s.container.name`, else `container.id`), or the only
/// one; its attributes are added.
fn containers(f: &Found<'_>, rules: &Rules, attrs: &mut Vec<KeyValue>) {
    let list = &f.pod.containers;
    if list.is_empty() {
        return;
    }
    let by_name = attrs::get_str(attrs, "k8s.container.name").filter(|s| !s.is_empty());
    let by_id = attrs::get_str(attrs, "container.id").filter(|s| !s.is_empty());
    let c = match (by_name, by_id) {
        (Some(n), _) => list.iter().find(|c| *c.name == *n),
        (None, Some(id)) => list.iter().find(|c| *c.id == *id),
        (None, None) if list.len() == 1 => list.first(),
        (None, None) => None,
    };
    let Some(c) = c else { return };
    if rules.has("k8s.container.name") {
        set_attr(attrs, "k8s.container.name", &c.name);
    }
    set_attr(attrs, "container.image.name", &c.image_name);
    set_attr(attrs, "container.image.tag", &c.image_tag);
    if rules.has("container.id") {
        set_attr(attrs, "container.id", &c.id);
    }
    let digest = c.repo_digest();
    if !digest.is_empty() && attrs::get(attrs, "container.image.repo_digests").is_none() {
        let list = ArrayValue { values: vec![str_value(digest)] };
        attrs::insert(attrs, "container.image.repo_digests", AnyValue { value: Some(Value::ArrayValue(list)) });
    }
    // After the pod's: `app.kubernetes.io/version` or the annotation beat the image.
    set_attr(attrs, "service.version", c.service_version());
    let has_id = attrs::get(attrs, "service.instance.id").is_some_and(|v| !as_string(v).is_empty());
    if rules.has("service.instance.id") && c.has_status() && !has_id {
        let p = f.pod;
        set_attr(attrs, "service.instance.id", &format!("{}.{}.{}", p.namespace, p.name, c.name));
    }
}
