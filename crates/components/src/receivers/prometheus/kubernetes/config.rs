//! `kubernetes_sd_configs` entries, with Prometheus's field names and checks
//! (`discovery/kubernetes/kubernetes.go` `SDConfig.UnmarshalYAML`): the role, how to reach the
//! API server (`api_server` with the HTTP client fields, `kubeconfig_file`, or in-cluster),
//! `namespaces` and `selectors`.

use std::collections::BTreeMap;

use serde::Deserialize;
use switchyard_core::component::FieldError;

use super::super::promconfig::serde_yaml_ignored::Ignored;
use super::super::promconfig::{Authorization, BasicAuth, TlsConfig};

/// What is discovered: one target per container port (`pod`), service port (`service`),
/// endpoint address and port (`endpoints`, `endpointslice`) or node (`node`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Pods.
    Pod,
    /// Services.
    Service,
    /// v1 Endpoints, with their service's and pods' labels.
    Endpoints,
    /// discovery.k8s.io/v1 EndpointSlices, with their service's and pods' labels.
    EndpointSlice,
    /// Nodes (the kubelet's address).
    Node,
}

impl Role {
    /// The config spelling (also the `selectors[].role` spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pod => "pod",
            Role::Service => "service",
            Role::Endpoints => "endpoints",
            Role::EndpointSlice => "endpointslice",
            Role::Node => "node",
        }
    }

    /// Parses a role; `ingress` and unknown roles are `None`.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Pod, Role::Service, Role::Endpoints, Role::EndpointSlice, Role::Node]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// The selector roles Prometheus allows with this role.
    fn allowed_selectors(self) -> &'static [&'static str] {
        match self {
            Role::Pod => &["pod", "node"],
            Role::Service => &["service"],
            Role::EndpointSlice => &["pod", "service", "endpointslice"],
            Role::Endpoints => &["pod", "service", "endpoints"],
            Role::Node => &["node"],
        }
    }
}

/// `namespaces:`: none listed means every namespace.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamespaceDiscovery {
    /// Also watch the namespace the gateway runs in (in-cluster only).
    pub own_namespace: bool,
    /// Namespaces to watch.
    pub names: Vec<String>,
}

/// One `selectors:` entry: label and field selectors the API server applies to one kind.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectorConfig {
    /// The kind the selectors apply to (`pod`, `service`, `endpoints`, `endpointslice`, `node`).
    pub role: String,
    /// A label selector (`app=web,tier!=db`).
    pub label: Option<String>,
    /// A field selector (`spec.nodeName=node-1`).
    pub field: Option<String>,
}

/// One `kubernetes_sd_configs` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesSdConfig {
    /// `pod`, `service`, `endpoints`, `endpointslice` or `node` (`ingress` is refused).
    pub role: String,
    /// The API server's URL; unset: `kubeconfig_file`, else the in-cluster config.
    pub api_server: Option<String>,
    /// A kubeconfig file (its current context); exclusive with `api_server`.
    pub kubeconfig_file: Option<String>,
    /// Which namespaces to watch.
    pub namespaces: NamespaceDiscovery,
    /// Label and field selectors per kind.
    pub selectors: Vec<SelectorConfig>,
    /// Extra metadata (`node`, `namespace`, ...): refused when any is on (not built yet).
    pub attach_metadata: BTreeMap<String, bool>,
    /// HTTP basic authentication to `api_server`.
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header to `api_server`.
    pub authorization: Option<Authorization>,
    /// Deprecated spelling of `authorization: {credentials}`.
    pub bearer_token: Option<String>,
    /// Deprecated spelling of `authorization: {credentials_file}`.
    pub bearer_token_file: Option<String>,
    /// TLS to `api_server` (`ca_file`, `cert_file`/`key_file`, `server_name`,
    /// `insecure_skip_verify`).
    pub tls_config: TlsConfig,
    /// Accepted (the Kubernetes client follows no redirects that matter here).
    pub follow_redirects: Option<bool>,
    /// Accepted (the Kubernetes client negotiates HTTP/2 itself).
    pub enable_http2: Option<bool>,
    /// Not supported (refused).
    pub proxy_url: Option<String>,
    /// Not supported (refused).
    pub oauth2: Option<Ignored>,
}

impl KubernetesSdConfig {
    /// Whether an HTTP client field is set (Prometheus allows them only with `api_server`).
    pub fn custom_http(&self) -> bool {
        self.basic_auth.is_some()
            || self.authorization.is_some()
            || self.bearer_token.is_some()
            || self.bearer_token_file.is_some()
            || self.tls_config != TlsConfig::default()
            || self.proxy_url.is_some()
            || self.oauth2.is_some()
    }

    /// Prometheus's checks, plus refusals of what is not built; `p` is this entry's key path.
    pub fn validate(&self, p: &str, e: &mut Vec<FieldError>) {
        let mut err = |k: &str, m: String| e.push(FieldError::new(format!("{p}{k}"), m));
        let role = match self.role.as_str() {
            "" => {
                err("::role", "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)".into());
                None
            }
            "ingress" => {
                err("::role", "role \"ingress\" is not supported yet by Switchyard's prometheus receiver".into());
                None
            }
            r => {
                let role = Role::parse(r);
                if role.is_none() {
                    err(
                        "::role",
                        format!("unknown Kubernetes SD role \"{r}\" (one of: pod, service, endpoints, endpointslice, node, ingress)"),
                    );
                }
                role
            }
        };
        if self.api_server.is_some() && self.kubeconfig_file.is_some() {
            err("::api_server", "cannot use 'kubeconfig_file' and 'api_server' simultaneously".into());
        }
        if self.kubeconfig_file.is_some() && self.custom_http() {
            err(
                "::kubeconfig_file",
                "cannot use a custom HTTP client configuration together with 'kubeconfig_file'".into(),
            );
        }
        if self.api_server.is_none() && self.custom_http() {
            err(
                "::api_server",
                "to use custom HTTP client configuration please provide the 'api_server' URL explicitly".into(),
            );
        }
        if self.namespaces.own_namespace && self.api_server.is_some() {
            err("::namespaces", "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously".into());
        }
        if self.namespaces.own_namespace && self.kubeconfig_file.is_some() {
            err("::namespaces", "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously".into());
        }
        if let Some(url) = &self.api_server {
            let ok = url.parse::<http::Uri>().is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")));
            if !ok {
                err("::api_server", format!("\"{url}\" is not an http or https URL"));
            }
        }
        let mut seen = Vec::new();
        for (i, s) in self.selectors.iter().enumerate() {
            if seen.contains(&s.role.as_str()) {
                err(&format!("::selectors::{i}::role"), format!("duplicated selector role: {}", s.role));
            }
            seen.push(&s.role);
            if let Some(role) = role {
                let allowed = role.allowed_selectors();
                if !allowed.contains(&s.role.as_str()) {
                    err(
                        &format!("::selectors::{i}::role"),
                        format!("{} role supports only {} selectors", role.as_str(), allowed.join(", ")),
                    );
                }
            }
        }
        if let Some((k, _)) = self.attach_metadata.iter().find(|(_, on)| **on) {
            err(&format!("::attach_metadata::{k}"), "attach_metadata is not supported yet".into());
        }
        if self.proxy_url.is_some() {
            err("::proxy_url", "proxy_url is not supported for the Kubernetes API yet".into());
        }
        if self.oauth2.is_some() {
            err("::oauth2", "oauth2 is not supported yet".into());
        }
        let t = &self.tls_config;
        if t.ca.is_some() || t.cert.is_some() || t.key.is_some() {
            err(
                "::tls_config",
                "inline ca, cert and key are not supported here; use ca_file, cert_file and key_file".into(),
            );
        }
        if t.cert_file.is_some() != t.key_file.is_some() {
            err("::tls_config", "a client certificate needs both cert_file and key_file".into());
        }
        if let Some(b) = &self.basic_auth {
            if b.username_file.is_some() {
                err("::basic_auth::username_file", "username_file is not supported here; use username".into());
            }
        }
    }
}
