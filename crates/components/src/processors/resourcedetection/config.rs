//! The `resourcedetection` processor's config, as the Collector's
//! (processor/resourcedetectionprocessor/config.go): the ordered detector list, the merge
//! mode, the detection deadline and refresh period, and one section per detector.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::suggestion;
use switchyard_core::exporterhelper::RetryConfig;

use super::attrs::{self, AttrTable};

/// The processor's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceDetectionConfig {
    /// Detectors to run, in order: the first to set an attribute wins.
    pub detectors: Vec<String>,
    /// true: detected values replace the resource's; false: they only fill missing keys.
    #[serde(rename = "override")]
    pub override_existing: bool,
    /// Bound on one detection (each detector, retries included unless
    /// `retry.max_elapsed_time` is set); the Collector's HTTP client timeout.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Re-detect this often; 0 = once at start.
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
    /// A network detector that cannot reach its metadata service fails the start instead
    /// of contributing nothing.
    pub fail_on_missing_metadata: bool,
    /// Retries of a failed detection (the Collector's `configretry.BackOffConfig`).
    #[serde(deserialize_with = "retry_over_defaults")]
    pub retry: RetryConfig,
    /// `env` detector settings.
    pub env: EnvConfig,
    /// `system` detector settings.
    pub system: SystemConfig,
    /// `docker` detector settings.
    pub docker: AttrsOnly,
    /// `ec2` detector settings.
    pub ec2: Ec2Config,
    /// `ecs` detector settings.
    pub ecs: AttrsOnly,
    /// `gcp` detector settings.
    pub gcp: GcpConfig,
    /// `azure` detector settings.
    pub azure: AzureConfig,
    /// `eks` detector settings.
    pub eks: EksConfig,
    /// `lambda` detector settings.
    pub lambda: AttrsOnly,
    /// `heroku` detector settings.
    pub heroku: AttrsOnly,
    /// `k8s_api` detector settings.
    pub k8s_api: K8sApiConfig,
    /// `k8snode` (deprecated spelling of `k8s_api`) detector settings.
    pub k8snode: K8sApiConfig,
    // Sections of detectors Switchyard does not build: accepted (and ignored) so that a
    // config carrying one without listing the detector loads, as in the Collector.
    /// `elastic_beanstalk:` (detector not built).
    pub elastic_beanstalk: Option<IgnoredAny>,
    /// `aks:` (detector not built).
    pub aks: Option<IgnoredAny>,
    /// `azurecontainerapps:` (detector not built).
    pub azurecontainerapps: Option<IgnoredAny>,
    /// `openshift:` (detector not built).
    pub openshift: Option<IgnoredAny>,
    /// `dynatrace:` (detector not built).
    pub dynatrace: Option<IgnoredAny>,
    /// `consul:` (detector not built).
    pub consul: Option<IgnoredAny>,
    /// `kubeadm:` (detector not built).
    pub kubeadm: Option<IgnoredAny>,
    /// `hetzner:` (detector not built).
    pub hetzner: Option<IgnoredAny>,
    /// `akamai:` (detector not built).
    pub akamai: Option<IgnoredAny>,
    /// `scaleway:` (detector not built).
    pub scaleway: Option<IgnoredAny>,
    /// `vultr:` (detector not built).
    pub vultr: Option<IgnoredAny>,
    /// `oraclecloud:` (detector not built).
    pub oraclecloud: Option<IgnoredAny>,
    /// `digitalocean:` (detector not built).
    pub digitalocean: Option<IgnoredAny>,
    /// `nova:` (detector not built).
    pub nova: Option<IgnoredAny>,
    /// `upcloud:` (detector not built).
    pub upcloud: Option<IgnoredAny>,
    /// `alibaba_ecs:` (detector not built).
    pub alibaba_ecs: Option<IgnoredAny>,
    /// `tencent_cvm:` (detector not built).
    pub tencent_cvm: Option<IgnoredAny>,
    /// `ibmcloud_vpc:` (detector not built).
    pub ibmcloud_vpc: Option<IgnoredAny>,
    /// `ibmcloud_classic:` (detector not built).
    pub ibmcloud_classic: Option<IgnoredAny>,
}

impl Default for ResourceDetectionConfig {
    fn default() -> Self {
        ResourceDetectionConfig {
            detectors: vec!["env".to_string()],
            override_existing: true,
            timeout: Duration::from_secs(5),
            refresh_interval: Duration::ZERO,
            fail_on_missing_metadata: false,
            retry: default_retry(),
            env: EnvConfig::default(),
            system: SystemConfig::default(),
            docker: AttrsOnly::default(),
            ec2: Ec2Config::default(),
            ecs: AttrsOnly::default(),
            gcp: GcpConfig::default(),
            azure: AzureConfig::default(),
            eks: EksConfig::default(),
            lambda: AttrsOnly::default(),
            heroku: AttrsOnly::default(),
            k8s_api: K8sApiConfig::default(),
            k8snode: K8sApiConfig::default(),
            elastic_beanstalk: None,
            aks: None,
            azurecontainerapps: None,
            openshift: None,
            dynatrace: None,
            consul: None,
            kubeadm: None,
            hetzner: None,
            akamai: None,
            scaleway: None,
            vultr: None,
            oraclecloud: None,
            digitalocean: None,
            nova: None,
            upcloud: None,
            alibaba_ecs: None,
            tencent_cvm: None,
            ibmcloud_vpc: None,
            ibmcloud_classic: None,
        }
    }
}

/// `retry`'s defaults (the Collector's resourcedetection factory): 1 s doubling to 30 s, no
/// limit of its own (all attempts share `timeout`).
fn default_retry() -> RetryConfig {
    RetryConfig {
        enabled: true,
        initial_interval: Duration::from_secs(1),
        randomization_factor: 0.5,
        multiplier: 2.0,
        max_interval: Duration::from_secs(30),
        max_elapsed_time: Duration::ZERO,
    }
}

/// `retry:` read over [`default_retry`], so that a partial section keeps the other defaults.
fn retry_over_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<RetryConfig, D::Error> {
    RetryConfig::deserialize_over(default_retry(), d)
}

/// `<attr>: {enabled: bool}` of a `resource_attributes` section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttrToggle {
    /// Whether the detector sets the attribute.
    pub enabled: Option<bool>,
}

/// Per-attribute toggles, by attribute name.
pub type ResourceAttributes = BTreeMap<String, AttrToggle>;

/// A detector section with only `resource_attributes`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttrsOnly {
    /// Attribute toggles.
    pub resource_attributes: ResourceAttributes,
}

/// `env:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvConfig {
    /// Only these keys of `OTEL_RESOURCE_ATTRIBUTES` are kept (all when absent).
    pub allowlist: Option<Vec<String>>,
}

/// `system:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemConfig {
    /// Where `host.name` comes from, tried in order (default `[dns, os]`).
    pub hostname_sources: Vec<String>,
    /// Attribute toggles.
    pub resource_attributes: ResourceAttributes,
}

/// `ec2:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ec2Config {
    /// Regular expressions over tag keys; matching tags become `ec2.tag.<key>`.
    pub tags: Vec<String>,
    /// Read tags from IMDS (instance metadata tags) instead of the DescribeTags API.
    pub tags_from_imds: bool,
    /// AWS SDK retry knobs: accepted, the processor's `retry` applies instead.
    pub max_attempts: Option<u32>,
    /// AWS SDK retry knob: accepted, the processor's `retry` applies instead.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Option<Duration>,
    /// Deprecated per-detector form of the processor's `fail_on_missing_metadata`.
    pub fail_on_missing_metadata: bool,
    /// Attribute toggles.
    pub resource_attributes: ResourceAttributes,
}

/// `gcp:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GcpConfig {
    /// GCE instance labels to add (needs the Compute API: not supported yet).
    pub labels: Vec<String>,
    /// Attribute toggles.
    pub resource_attributes: ResourceAttributes,
}

/// `azure:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzureConfig {
    /// Regular expressions over tag names; matching tags become `azure.tags.<name>`.
    pub tags: Vec<String>,
    /// Attribute toggles.
    pub resource_attributes: ResourceAttributes,
}

/// `eks:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EksConfig {
    /// The variable holding the node name (used by upstream's EC2 API fallback).
    pub node_from_env_var: String,
    /// AWS SDK retry knob: accepted, the processor's `retry` applies instead.
    pub max_attempts: Option<u32>,
    /// AWS SDK retry knob: accepted, the processor's `retry` applies instead.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Option<Duration>,
    /// Attribute toggles.
    pub resource_attributes: ResourceAttributes,
}

impl Default for EksConfig {
    fn default() -> Self {
        EksConfig {
            node_from_env_var: "K8S_NODE_NAME".to_string(),
            max_attempts: None,
            max_backoff: None,
            resource_attributes: ResourceAttributes::new(),
        }
    }
}

/// `k8s_api:` / `k8snode:` (the Collector's `k8sconfig.APIConfig` plus the node variable).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct K8sApiConfig {
    /// How to authenticate to the API server.
    pub auth_type: crate::k8s::AuthType,
    /// With `kubeConfig`: the context to use.
    pub context: Option<String>,
    /// The variable holding this node's name (downward API).
    pub node_from_env_var: String,
    /// Attribute toggles.
    pub resource_attributes: ResourceAttributes,
}

impl Default for K8sApiConfig {
    fn default() -> Self {
        K8sApiConfig {
            auth_type: crate::k8s::AuthType::ServiceAccount,
            context: None,
            node_from_env_var: "K8S_NODE_NAME".to_string(),
            resource_attributes: ResourceAttributes::new(),
        }
    }
}

/// Detectors this build runs.
pub const BUILT: &[&str] =
    &["env", "system", "docker", "ec2", "ecs", "gcp", "azure", "eks", "lambda", "heroku", "k8s_api", "k8snode"];

/// Detectors the Collector has that this build does not run (refused by name).
pub const UNBUILT: &[&str] = &[
    "elastic_beanstalk",
    "aks",
    "azurecontainerapps",
    "openshift",
    "dynatrace",
    "consul",
    "kubeadm",
    "hetzner",
    "akamai",
    "scaleway",
    "vultr",
    "oraclecloud",
    "digitalocean",
    "nova",
    "upcloud",
    "alibaba_ecs",
    "tencent_cvm",
    "ibmcloud_vpc",
    "ibmcloud_classic",
];

/// Hostname sources the Collector's `system` detector knows.
const HOSTNAME_SOURCES: &[&str] = &["dns", "os", "cname", "lookup"];

impl ComponentConfig for ResourceDetectionConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (i, d) in self.detectors.iter().enumerate() {
            let field = format!("detectors::{i}");
            if BUILT.contains(&d.as_str()) {
                continue;
            }
            let message = if UNBUILT.contains(&d.as_str()) {
                format!("detector \"{d}\" is not supported yet by Switchyard (supported: {})", BUILT.join(", "))
            } else {
                let hint = suggestion(d, BUILT.iter().chain(UNBUILT).copied());
                format!("unknown detector \"{d}\"{hint} (supported: {})", BUILT.join(", "))
            };
            errors.push(FieldError::new(field, message));
        }
        errors.extend(self.retry.validate_at("retry"));
        if self.retry.enabled && self.timeout.is_zero() && self.retry.max_elapsed_time.is_zero() {
            errors.push(FieldError::new(
                "timeout",
                "timeout and retry.max_elapsed_time are both 0 with retry enabled: a hung detector would block the start forever",
            ));
        }
        for (i, s) in self.system.hostname_sources.iter().enumerate() {
            if !HOSTNAME_SOURCES.contains(&s.as_str()) {
                let hint = suggestion(s, HOSTNAME_SOURCES.iter().copied());
                errors.push(FieldError::new(
                    format!("system::hostname_sources::{i}"),
                    format!("invalid hostname source \"{s}\"{hint} (valid: dns, os, cname, lookup)"),
                ));
            }
        }
        check_attrs(&mut errors, "system", &self.system.resource_attributes, attrs::SYSTEM);
        check_attrs(&mut errors, "docker", &self.docker.resource_attributes, attrs::DOCKER);
        check_attrs(&mut errors, "ec2", &self.ec2.resource_attributes, attrs::EC2);
        check_attrs(&mut errors, "ecs", &self.ecs.resource_attributes, attrs::ECS);
        check_attrs(&mut errors, "gcp", &self.gcp.resource_attributes, attrs::GCP);
        check_attrs(&mut errors, "azure", &self.azure.resource_attributes, attrs::AZURE);
        check_attrs(&mut errors, "eks", &self.eks.resource_attributes, attrs::EKS);
        check_attrs(&mut errors, "lambda", &self.lambda.resource_attributes, attrs::LAMBDA);
        check_attrs(&mut errors, "heroku", &self.heroku.resource_attributes, attrs::HEROKU);
        check_attrs(&mut errors, "k8s_api", &self.k8s_api.resource_attributes, attrs::K8S_API);
        check_attrs(&mut errors, "k8snode", &self.k8snode.resource_attributes, attrs::K8S_API);
        if self.eks.resource_attributes.get("k8s.cluster.name").and_then(|t| t.enabled) == Some(true) {
            errors.push(FieldError::new(
                "eks::resource_attributes::k8s.cluster.name",
                "k8s.cluster.name of the eks detector (read through the EC2 DescribeInstances API) is not supported yet by Switchyard",
            ));
        }
        for (key, c) in [("k8s_api", &self.k8s_api), ("k8snode", &self.k8snode)] {
            if c.auth_type == crate::k8s::AuthType::Tls {
                errors.push(FieldError::new(
                    format!("{key}::auth_type"),
                    "auth_type \"tls\" is not supported; use serviceAccount, kubeConfig or none",
                ));
            }
        }
        check_regexes(&mut errors, "ec2::tags", &self.ec2.tags);
        check_regexes(&mut errors, "azure::tags", &self.azure.tags);
        if !self.ec2.tags.is_empty() && !self.ec2.tags_from_imds {
            errors.push(FieldError::new(
                "ec2::tags",
                "reading EC2 tags through the DescribeTags API is not supported yet by Switchyard; set ec2.tags_from_imds: true (instance metadata tags must be enabled on the instance)",
            ));
        }
        if !self.gcp.labels.is_empty() {
            errors.push(FieldError::new(
                "gcp::labels",
                "GCE instance labels (read through the Compute API) are not supported yet by Switchyard",
            ));
        }
        errors
    }
}

fn check_attrs(errors: &mut Vec<FieldError>, section: &str, given: &ResourceAttributes, table: AttrTable) {
    for name in given.keys() {
        if !table.iter().any(|(n, _)| n == name) {
            let hint = suggestion(name, table.iter().map(|(n, _)| *n));
            errors.push(FieldError::new(
                format!("{section}::resource_attributes::{name}"),
                format!("unknown resource attribute \"{name}\" of the {section} detector{hint}"),
            ));
        }
    }
}

fn check_regexes(errors: &mut Vec<FieldError>, field: &str, patterns: &[String]) {
    for (i, p) in patterns.iter().enumerate() {
        if let Err(e) = regex::Regex::new(p) {
            errors.push(FieldError::new(format!("{field}::{i}"), format!("invalid regular expression: {e}")));
        }
    }
}
