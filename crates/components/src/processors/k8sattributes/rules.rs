//! Extraction rules compiled from `extract:` once, and what they take from a pod,
//! namespace or node (contrib `internal/kube` `ExtractionRules`, `FieldExtractionRule`).

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;

use super::config::{ExtractConfig, FieldExtractConfig, DEFAULT_METADATA};

/// Which object a label/annotation rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    /// The pod (default).
    Pod,
    /// The pod's namespace.
    Namespace,
    /// The pod's node.
    Node,
}

impl From {
    fn word(self) -> &'static str {
        match self {
            From::Pod => "pod",
            From::Namespace => "namespace",
            From::Node => "node",
        }
    }
}

/// One label or annotation rule.
#[derive(Debug)]
pub struct FieldRule {
    /// Where the key is looked up.
    pub from: From,
    /// The attribute name (with `key`, or the `key_regex` template when it has groups).
    name: Arc<str>,
    /// Exact key.
    key: Option<String>,
    /// Anchored key pattern.
    regex: Option<Regex>,
    /// `name` refers to the pattern's groups (`$1`): expanded per key. Without groups the
    /// attribute is `k8s.<from>.<labels|annotations>.<key>`, whatever `tag_name` says (upstream).
    expand: bool,
}

impl FieldRule {
    fn compile(c: &FieldExtractConfig, kind: &str) -> Option<Self> {
        let from = match c.from.as_str() {
            "namespace" => From::Namespace,
            "node" => From::Node,
            _ => From::Pod,
        };
        let mut name = c.tag_name.clone();
        if name.is_empty() && !c.key.is_empty() {
            name = format!("k8s.{}.{kind}.{}", from.word(), c.key);
        }
        let regex = if c.key_regex.is_empty() {
            None
        } else {
            // Validated in `validate`; a bad pattern here only drops the rule.
            Some(Regex::new(&format!("^(?:{})$", c.key_regex)).ok()?)
        };
        let expand = regex.as_ref().is_some_and(|r| r.captures_len() > 1);
        let key = (!c.key.is_empty()).then(|| c.key.clone());
        Some(FieldRule { from, name: name.into(), key, regex, expand })
    }

    /// Adds what this rule takes from `map` (labels or annotations) to `out`; `prefix` is
    /// `k8s.pod.labels.` and the like, for keys matched by a pattern without groups.
    fn extract(&self, map: &BTreeMap<String, String>, prefix: &str, out: &mut Vec<(Arc<str>, Box<str>)>) {
        match (&self.key, &self.regex) {
            (Some(k), _) => {
                if let Some(v) = map.get(k) {
                    put(out, self.name.clone(), v);
                }
            }
            (None, Some(re)) => {
                for (k, v) in map {
                    if v.is_empty() {
                        continue;
                    }
                    let Some(caps) = re.captures(k) else { continue };
                    let name = if self.expand {
                        let mut n = String::new();
                        caps.expand(&self.name, &mut n);
                        n
                    } else {
                        format!("{prefix}{k}")
                    };
                    if !name.is_empty() {
                        put(out, name.into(), v);
                    }
                }
            }
            (None, None) => {}
        }
    }
}

/// Sets `key` in `out`, replacing an earlier value (later rules win, as in upstream's map).
fn put(out: &mut Vec<(Arc<str>, Box<str>)>, key: Arc<str>, value: &str) {
    match out.iter_mut().find(|(k, _)| **k == *key) {
        Some(slot) => slot.1 = value.into(),
        None => out.push((key, value.into())),
    }
}

/// Every rule of a processor.
#[derive(Debug, Default)]
pub struct Rules {
    /// The metadata names asked for (validated against the known list).
    metadata: Vec<&'static str>,
    /// Label rules.
    pub labels: Vec<FieldRule>,
    /// Annotation rules (`otel_annotations` adds one).
    pub annotations: Vec<FieldRule>,
    /// Watch replicasets for the deployment name (not `deployment_name_from_replicaset`).
    pub replicaset_watch: bool,
}

impl Rules {
    /// Compiles `extract:`.
    pub fn compile(c: &ExtractConfig) -> Self {
        let known = super::config::METADATA_NAMES;
        let metadata: Vec<&'static str> = if c.metadata.is_empty() {
            DEFAULT_METADATA.to_vec()
        } else {
            known.iter().copied().filter(|n| c.metadata.iter().any(|m| m == n)).collect()
        };
        let labels = c.labels.iter().filter_map(|r| FieldRule::compile(r, "labels")).collect();
        let mut annotations: Vec<FieldRule> =
            c.annotations.iter().filter_map(|r| FieldRule::compile(r, "annotations")).collect();
        if c.otel_annotations {
            let r = FieldExtractConfig {
                tag_name: "$1".into(),
                key_regex: r"resource\.opentelemetry\.io/(.+)".into(),
                ..Default::default()
            };
            annotations.extend(FieldRule::compile(&r, "annotations"));
        }
        let mut rules = Rules { metadata, labels, annotations, replicaset_watch: false };
        rules.replicaset_watch =
            (rules.has("k8s.deployment.name") && !c.deployment_name_from_replicaset) || rules.has("k8s.deployment.uid");
        rules
    }

    /// Whether metadata `name` is extracted.
    pub fn has(&self, name: &str) -> bool {
        self.metadata.contains(&name)
    }

    /// Any rule reading `from`.
    pub fn reads(&self, from: From) -> bool {
        self.labels.iter().chain(&self.annotations).any(|r| r.from == from)
    }

    /// Container attributes are needed (spec images, status ids).
    pub fn needs_containers(&self) -> bool {
        [
            "k8s.container.name",
            "container.id",
            "container.image.name",
            "container.image.tag",
            "container.image.repo_digests",
            "service.version",
            "service.instance.id",
        ]
        .iter()
        .any(|n| self.has(n))
    }

    /// Namespaces are watched: namespace rules, or `k8s.cluster.uid` (kube-system's uid).
    pub fn watches_namespaces(&self) -> bool {
        self.reads(From::Namespace) || self.has("k8s.cluster.uid")
    }

    /// Nodes are watched: node rules, or `k8s.node.uid`.
    pub fn watches_nodes(&self) -> bool {
        self.reads(From::Node) || self.has("k8s.node.uid")
    }

    /// Adds what a pod's labels and annotations give to `out`: the label rules, then the
    /// well-known labels for `service.name` (`app.kubernetes.io/instance` over
    /// `app.kubernetes.io/name`) and `service.version` (`app.kubernetes.io/version`), then
    /// the annotation rules, each step replacing what an earlier one set. Annotations come
    /// last so that `resource.opentelemetry.io/service.name` (with `otel_annotations`)
    /// beats the labels, as upstream and the semantic conventions order them.
    pub fn extract_pod(
        &self,
        labels: Option<&BTreeMap<String, String>>,
        annotations: Option<&BTreeMap<String, String>>,
        out: &mut Vec<(Arc<str>, Box<str>)>,
    ) {
        self.extract_meta(From::Pod, labels, None, out);
        if let Some(l) = labels {
            let well_known = [
                ("service.name", "app.kubernetes.io/name"),
                ("service.name", "app.kubernetes.io/instance"),
                ("service.version", "app.kubernetes.io/version"),
            ];
            for (attr, label) in well_known {
                if let Some(v) = l.get(label).filter(|_| self.has(attr)) {
                    put(out, attr.into(), v);
                }
            }
        }
        self.extract_meta(From::Pod, None, annotations, out);
    }

    /// Adds the label and annotation rules for objects of kind `from` to `out`.
    pub fn extract_meta(
        &self,
        from: From,
        labels: Option<&BTreeMap<String, String>>,
        annotations: Option<&BTreeMap<String, String>>,
        out: &mut Vec<(Arc<str>, Box<str>)>,
    ) {
        let w = from.word();
        if let Some(l) = labels {
            let prefix = format!("k8s.{w}.labels.");
            self.labels.iter().filter(|r| r.from == from).for_each(|r| r.extract(l, &prefix, out));
        }
        if let Some(a) = annotations {
            let prefix = format!("k8s.{w}.annotations.");
            self.annotations.iter().filter(|r| r.from == from).for_each(|r| r.extract(a, &prefix, out));
        }
    }
}

/// An image reference split as the Collector does (Docker's normalized name, tag `latest`
/// when neither tag nor digest is given): `nginx:1.25` → `docker.io/library/nginx`, `1.25`.
pub fn parse_image(image: &str) -> Option<(String, String)> {
    if image.is_empty() {
        return None;
    }
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // A tag is after the last ':' that comes after the last '/' (a registry port is not a tag).
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    if name.is_empty() || tag.is_some_and(str::is_empty) {
        return None;
    }
    let first = name.split('/').next().unwrap_or_default();
    let has_domain = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_domain {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let tag = match (tag, digest) {
        (Some(t), _) => t.to_string(),
        (None, Some(_)) => String::new(),
        (None, None) => "latest".to_string(),
    };
    Some((full, tag))
}

/// `service.version` from an image reference, as upstream computes it with Docker's
/// reference grammar: `<tag>@<digest>`, else `<digest>`, else `<tag>`; `None` when the
/// reference has neither or is not valid (an upper-case name, a malformed tag or digest).
/// No `latest` is assumed.
pub fn service_version(image: &str) -> Option<String> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    // The first of several components may be a registry host, which may have upper case;
    // the repository path may not.
    let path = name.split_once('/').map_or(name, |(_, path)| path);
    if name.is_empty() || path.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let tag_ok = |t: &str| {
        let b = t.as_bytes();
        !b.is_empty()
            && b.len() <= 128
            && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
    };
    let digest_ok = |d: &str| {
        let Some((alg, hex)) = d.split_once(':') else { return false };
        let len = match alg {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return false,
        };
        hex.len() == len && hex.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    };
    if tag.is_some_and(|t| !tag_ok(t)) || digest.is_some_and(|d| !digest_ok(d)) {
        return None;
    }
    match (tag, digest) {
        (Some(t), Some(d)) => Some(format!("{t}@{d}")),
        (None, Some(d)) => Some(d.to_string()),
        (Some(t), None) => Some(t.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_normalized_like_docker() {
        let p = |s: &str| parse_image(s).unwrap();
        assert_eq!(p("nginx"), ("docker.io/library/nginx".into(), "latest".into()));
        assert_eq!(p("nginx:1.25"), ("docker.io/library/nginx".into(), "1.25".into()));
        assert_eq!(p("grafana/agent:v1"), ("docker.io/grafana/agent".into(), "v1".into()));
        assert_eq!(p("example.com:5000/alpine/alpine:test"), ("example.com:5000/alpine/alpine".into(), "test".into()));
        assert_eq!(p("localhost/app"), ("localhost/app".into(), "latest".into()));
        assert_eq!(p("ghcr.io/o/a@sha256:abc"), ("ghcr.io/o/a".into(), String::new()));
        assert_eq!(parse_image(""), None);
    }

    #[test]
    fn service_version_is_tag_and_digest_or_either_and_never_a_default() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(service_version("nginx:1.25").as_deref(), Some("1.25"));
        assert_eq!(service_version(&format!("ghcr.io/o/app:0.112.0@{d}")), Some(format!("0.112.0@{d}")));
        assert_eq!(service_version(&format!("ghcr.io/o/app@{d}")), Some(d.clone()));
        assert_eq!(service_version("example.com:5000/team/app:v2").as_deref(), Some("v2"));
        assert_eq!(service_version("nginx"), None, "no tag: no version (no implicit latest)");
        assert_eq!(service_version("example.com:5000/team/app"), None, "a port is not a tag");
        assert_eq!(service_version("Nginx:1.0"), None, "upper-case repository");
        assert_eq!(service_version("nginx@sha256:abc"), None, "short digest");
        assert_eq!(service_version("nginx:-x"), None, "bad tag");
    }

    #[test]
    fn key_regex_with_groups_expands_the_tag_name_and_without_uses_the_default_prefix() {
        let labels: BTreeMap<String, String> = [
            ("app.kubernetes.io/component", "db"),
            ("app.kubernetes.io/version", "5.7"),
            ("team", "core"),
            ("app.kubernetes.io/empty", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let cfg = ExtractConfig {
            labels: vec![
                FieldExtractConfig {
                    tag_name: "$1".into(),
                    key_regex: "app.kubernetes.io/(.*)".into(),
                    ..Default::default()
                },
                FieldExtractConfig { tag_name: "ignored".into(), key_regex: "te.m".into(), ..Default::default() },
            ],
            ..Default::default()
        };
        let rules = Rules::compile(&cfg);
        let mut out = Vec::new();
        rules.extract_meta(From::Pod, Some(&labels), None, &mut out);
        let got: Vec<(String, String)> = out.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(
            got,
            vec![
                ("component".into(), "db".into()),
                ("version".into(), "5.7".into()),
                ("k8s.pod.labels.team".into(), "core".into())
            ]
        );
    }
}
