//! `processors: k8sattributes:` configuration, with the Collector's field names and defaults
//! (contrib `processor/k8sattributesprocessor/config.go`).

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::suggestion;

use crate::k8s::AuthType;

/// Every `extract.metadata` name the processor knows (the Collector's list).
pub const METADATA_NAMES: &[&str] = &[
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.pod.uid",
    "k8s.pod.hostname",
    "k8s.pod.start_time",
    "k8s.pod.ip",
    "k8s.deployment.name",
    "k8s.deployment.uid",
    "k8s.replicaset.name",
    "k8s.replicaset.uid",
    "k8s.daemonset.name",
    "k8s.daemonset.uid",
    "k8s.statefulset.name",
    "k8s.statefulset.uid",
    "k8s.job.name",
    "k8s.job.uid",
    "k8s.cronjob.name",
    "k8s.node.name",
    "k8s.node.uid",
    "k8s.container.name",
    "container.id",
    "container.image.name",
    "container.image.tag",
    "container.image.repo_digests",
    "k8s.cluster.uid",
    "service.namespace",
    "service.name",
    "service.version",
    "service.instance.id",
];

/// What `extract.metadata` means when it is absent or empty (the Collector's defaults).
pub const DEFAULT_METADATA: &[&str] = &[
    "k8s.pod.name",
    "k8s.pod.uid",
    "k8s.pod.start_time",
    "k8s.namespace.name",
    "k8s.node.name",
    "k8s.deployment.name",
    "k8s.container.name",
    "container.image.name",
    "container.image.tag",
];

/// The k8sattributes processor's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct K8sAttributesConfig {
    /// How to reach the API server.
    pub auth_type: AuthType,
    /// kubeconfig context (with `auth_type: kubeConfig`).
    pub context: Option<String>,
    /// Only add `k8s.pod.ip` from the connection; no API access.
    pub passthrough: bool,
    /// What to extract.
    pub extract: ExtractConfig,
    /// Which pods to watch.
    pub filter: FilterConfig,
    /// How data is matched to a pod; empty = the Collector's defaults.
    pub pod_association: Vec<PodAssociationConfig>,
    /// Pods whose data is never annotated.
    pub exclude: ExcludeConfig,
    /// Start waits for the first pod list (and fails after the timeout).
    pub wait_for_metadata: bool,
    /// How long start waits with `wait_for_metadata`.
    #[serde(with = "humantime_serde")]
    pub wait_for_metadata_timeout: Duration,
}

impl Default for K8sAttributesConfig {
    fn default() -> Self {
        K8sAttributesConfig {
            auth_type: AuthType::ServiceAccount,
            context: None,
            passthrough: false,
            extract: ExtractConfig::default(),
            filter: FilterConfig::default(),
            pod_association: Vec::new(),
            exclude: ExcludeConfig::default(),
            wait_for_metadata: false,
            wait_for_metadata_timeout: Duration::from_secs(10),
        }
    }
}

/// `extract:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractConfig {
    /// Metadata names; empty = [`DEFAULT_METADATA`].
    pub metadata: Vec<String>,
    /// Labels to copy.
    pub labels: Vec<FieldExtractConfig>,
    /// Annotations to copy.
    pub annotations: Vec<FieldExtractConfig>,
    /// Every pod annotation `resource.opentelemetry.io/<key>` becomes attribute `<key>`.
    pub otel_annotations: bool,
    /// Derive `k8s.deployment.name` from the replicaset name and `pod-template-hash` label
    /// instead of watching replicasets.
    pub deployment_name_from_replicaset: bool,
}

/// One label or annotation rule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldExtractConfig {
    /// Attribute name; default `k8s.<from>.labels.<key>` (or `annotations`). With
    /// `key_regex` it may refer to capture groups (`$1`, `${name}`).
    pub tag_name: String,
    /// The exact key.
    pub key: String,
    /// A regular expression every matching key is copied for (anchored).
    pub key_regex: String,
    /// `pod` (default), `namespace` or `node`.
    pub from: String,
}

/// `filter:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterConfig {
    /// Only pods on this node.
    pub node: String,
    /// Only pods on the node named by this environment variable.
    pub node_from_env_var: String,
    /// Only pods in this namespace (or these namespaces).
    pub namespace: NamespaceFilter,
    /// Field selectors.
    pub fields: Vec<FieldFilterConfig>,
    /// Label selectors.
    pub labels: Vec<FieldFilterConfig>,
}

/// `filter.namespace`: one name or a list.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(untagged)]
pub enum NamespaceFilter {
    /// Every namespace.
    #[default]
    All,
    /// One namespace (an empty string = all).
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl NamespaceFilter {
    /// The namespaces to watch; empty = all of them (one cluster-wide watch).
    pub fn names(&self) -> Vec<String> {
        match self {
            NamespaceFilter::All => Vec::new(),
            NamespaceFilter::One(n) if n.is_empty() => Vec::new(),
            NamespaceFilter::One(n) => vec![n.clone()],
            NamespaceFilter::Many(v) => v.iter().filter(|n| !n.is_empty()).cloned().collect(),
        }
    }
}

/// One field or label filter.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldFilterConfig {
    /// Field path or label key.
    pub key: String,
    /// Value compared with.
    pub value: String,
    /// `equals` (default), `not-equals`, and for labels `exists`, `does-not-exist`.
    pub op: String,
}

/// One `pod_association` rule: every source must yield a value.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PodAssociationConfig {
    /// Up to four sources.
    pub sources: Vec<AssociationSourceConfig>,
}

/// Where one part of a pod identifier comes from.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssociationSourceConfig {
    /// `connection` or `resource_attribute`.
    pub from: String,
    /// The resource attribute (with `resource_attribute`).
    pub name: String,
}

/// `exclude:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExcludeConfig {
    /// Pods whose name matches one of these regular expressions.
    pub pods: Vec<ExcludePodConfig>,
}

impl Default for ExcludeConfig {
    fn default() -> Self {
        // The Collector's default: the Jaeger agent and collector pods are not annotated.
        ExcludeConfig {
            pods: vec![
                ExcludePodConfig { name: "jaeger-agent".into() },
                ExcludePodConfig { name: "jaeger-collector".into() },
            ],
        }
    }
}

/// One excluded pod name (a regular expression, unanchored as upstream).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExcludePodConfig {
    /// The pattern.
    pub name: String,
}

/// Most sources one association may have (the Collector's `PodIdentifierMaxLength`).
pub const MAX_SOURCES: usize = 4;

impl ComponentConfig for K8sAttributesConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.auth_type == AuthType::Tls && !self.passthrough {
            e.push(FieldError::new("auth_type", "\"tls\" is not supported; use serviceAccount, kubeConfig or none"));
        }
        for (i, name) in self.extract.metadata.iter().enumerate() {
            if !METADATA_NAMES.contains(&name.as_str()) {
                e.push(FieldError::new(
                    format!("extract::metadata::{i}"),
                    format!(
                        "\"{name}\" is not a supported metadata field{}",
                        suggestion(name, METADATA_NAMES.iter().copied())
                    ),
                ));
            }
        }
        for (list, rules) in [("labels", &self.extract.labels), ("annotations", &self.extract.annotations)] {
            for (i, r) in rules.iter().enumerate() {
                let at = format!("extract::{list}::{i}");
                if !r.key.is_empty() && !r.key_regex.is_empty() {
                    e.push(FieldError::new(&at, "only one of key and key_regex may be set"));
                }
                if r.key.is_empty() && r.key_regex.is_empty() {
                    e.push(FieldError::new(&at, "one of key or key_regex is required"));
                }
                if !matches!(r.from.as_str(), "" | "pod" | "namespace" | "node") {
                    e.push(FieldError::new(
                        format!("{at}::from"),
                        format!("\"{}\" is not a valid choice for from; must be one of: pod, namespace, node", r.from),
                    ));
                }
                if !r.key_regex.is_empty() {
                    if let Err(err) = regex::Regex::new(&format!("^(?:{})$", r.key_regex)) {
                        e.push(FieldError::new(format!("{at}::key_regex"), err.to_string()));
                    }
                }
            }
        }
        for (i, f) in self.filter.labels.iter().enumerate() {
            if !matches!(f.op.as_str(), "" | "equals" | "not-equals" | "exists" | "does-not-exist") {
                e.push(FieldError::new(
                    format!("filter::labels::{i}::op"),
                    format!(
                        "\"{}\" is not a valid label filter operation (equals, not-equals, exists, does-not-exist)",
                        f.op
                    ),
                ));
            }
        }
        for (i, f) in self.filter.fields.iter().enumerate() {
            if !matches!(f.op.as_str(), "" | "equals" | "not-equals") {
                e.push(FieldError::new(
                    format!("filter::fields::{i}::op"),
                    format!("\"{}\" is not a valid field filter operation (equals, not-equals)", f.op),
                ));
            }
        }
        if !self.filter.node_from_env_var.is_empty() && std::env::var_os(&self.filter.node_from_env_var).is_none() {
            e.push(FieldError::new(
                "filter::node_from_env_var",
                format!("`node_from_env_var` is configured but envvar {:?} is not set", self.filter.node_from_env_var),
            ));
        }
        for (i, a) in self.pod_association.iter().enumerate() {
            if a.sources.len() > MAX_SOURCES {
                e.push(FieldError::new(
                    format!("pod_association::{i}::sources"),
                    format!("too many association sources. limit is {MAX_SOURCES}"),
                ));
            }
            for (j, s) in a.sources.iter().enumerate() {
                match s.from.as_str() {
                    "connection" => {}
                    "resource_attribute" if !s.name.is_empty() => {}
                    "resource_attribute" => e.push(FieldError::new(
                        format!("pod_association::{i}::sources::{j}::name"),
                        "a resource_attribute source needs a name",
                    )),
                    other => e.push(FieldError::new(
                        format!("pod_association::{i}::sources::{j}::from"),
                        format!(
                            "\"{other}\" is not a valid association source (connection, resource_attribute){}",
                            suggestion(other, ["connection", "resource_attribute"])
                        ),
                    )),
                }
            }
        }
        for (i, p) in self.exclude.pods.iter().enumerate() {
            if let Err(err) = regex::Regex::new(&p.name) {
                e.push(FieldError::new(format!("exclude::pods::{i}::name"), err.to_string()));
            }
        }
        e
    }
}
