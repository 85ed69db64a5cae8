//! The shared Kubernetes API client: what `k8sattributes`, the resourcedetection `k8snode`
//! detector and the prometheus receiver's `kubernetes_sd_configs` and the loadbalancing
//! exporter's k8s resolver use to reach the API server, so every component reads the
//! Collector's `auth_type` / `context` fields the same way (the contrib `internal/k8sconfig`).
//!
//! Built on kube-rs (`kube::Client`, rustls with the aws-lc-rs provider the project already
//! uses); watches are `kube::runtime::watcher` streams, so list + watch, resourceVersion
//! bookkeeping, `410 Gone` relists and backoff are the crate's, not ours.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Deserialize;

#[cfg(test)]
pub mod testserver;

pub use kube;
pub use kube::Client;

/// Where the in-cluster service-account credentials are mounted (token, `ca.crt`, `namespace`).
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How a component authenticates to the API server (`auth_type`, the Collector's values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum AuthType {
    /// In-cluster: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's token and CA.
    #[default]
    #[serde(rename = "serviceAccount")]
    ServiceAccount,
    /// A kubeconfig file: `$KUBECONFIG` or `~/.kube/config`, optionally another `context`.
    #[serde(rename = "kubeConfig")]
    KubeConfig,
    /// No credentials, TLS not verified (the Collector's `none`: a proxy in front of the API).
    #[serde(rename = "none")]
    None,
    /// Client certificates: accepted by the Collector's schema, not supported here.
    #[serde(rename = "tls")]
    Tls,
}

impl AuthType {
    /// The spelling in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::ServiceAccount => "serviceAccount",
            AuthType::KubeConfig => "kubeConfig",
            AuthType::None => "none",
            AuthType::Tls => "tls",
        }
    }
}

/// The API connection part of a component's config (`auth_type`, `context`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiConfig {
    /// How to authenticate.
    pub auth_type: AuthType,
    /// With `kubeConfig`: the context to use instead of the file's `current-context`.
    pub context: Option<String>,
    /// With `kubeConfig`: this file instead of `$KUBECONFIG` / `~/.kube/config`. Not a
    /// Collector field: set by code (tests point it at a stand-in API server).
    pub kubeconfig: Option<PathBuf>,
}

impl ApiConfig {
    /// For components without `auth_type` (the loadbalancing exporter's `k8s` resolver): the
    /// order the Collector's controller-runtime `GetConfig` follows: `$KUBECONFIG`, else
    /// in-cluster (`KUBERNETES_SERVICE_HOST` set), else `~/.kube/config`.
    pub fn discover() -> ApiConfig {
        let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty());
        let auth_type = if std::env::var_os("KUBECONFIG").is_some_and(|k| !k.is_empty()) || !in_cluster {
            AuthType::KubeConfig
        } else {
            AuthType::ServiceAccount
        };
        ApiConfig { auth_type, ..Default::default() }
    }
}

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub enum K8sClientError {
    /// `serviceAccount`/`none` outside a cluster.
    #[error("unable to load k8s config, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined")]
    NotInCluster,
    /// The in-cluster token or CA could not be read.
    #[error("in-cluster config: {0}")]
    InCluster(#[from] kube::config::InClusterError),
    /// The kubeconfig file could not be read or has no usable context.
    #[error("kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    /// The address in the environment is not a URL.
    #[error("API server address {0:?} is not a valid URL")]
    BadUrl(String),
    /// `auth_type: tls`.
    #[error("auth_type \"tls\" is not supported; use serviceAccount or kubeConfig")]
    TlsUnsupported,
    /// The HTTP client (TLS setup) could not be made.
    #[error("client: {0}")]
    Client(#[from] kube::Error),
}

/// The kube config for `cfg`, resolved as the Collector does: in-cluster for
/// `serviceAccount`, the kubeconfig loading rules for `kubeConfig`, the in-cluster address
/// without credentials or certificate checks for `none`.
pub async fn client_config(cfg: &ApiConfig) -> Result<kube::Config, K8sClientError> {
    let mut config = match cfg.auth_type {
        AuthType::ServiceAccount => {
            in_cluster_url()?;
            kube::Config::incluster_env()?
        }
        AuthType::None => {
            let url = in_cluster_url()?;
            let uri = url.parse::<http::Uri>().map_err(|_| K8sClientError::BadUrl(url))?;
            let mut c = kube::Config::new(uri);
            c.accept_invalid_certs = true;
            c
        }
        AuthType::KubeConfig => {
            let options = KubeConfigOptions { context: cfg.context.clone(), ..Default::default() };
            match &cfg.kubeconfig {
                Some(path) => {
                    let file = Kubeconfig::read_from(path)?;
                    kube::Config::from_custom_kubeconfig(file, &options).await?
                }
                // kube applies the loading rules: every file in $KUBECONFIG merged, else ~/.kube/config.
                None => kube::Config::from_kubeconfig(&options).await?,
            }
        }
        AuthType::Tls => return Err(K8sClientError::TlsUnsupported),
    };
    set_watch_timeouts(&mut config);
    Ok(config)
}

/// Sets the timeouts every watching client needs. A watch is held open by the server for up
/// to its timeoutSeconds (290 s by default); the read timeout must outlast it or every watch
/// would end in a client error.
pub fn set_watch_timeouts(config: &mut kube::Config) {
    config.read_timeout = Some(Duration::from_secs(295));
    config.connect_timeout = Some(Duration::from_secs(30));
}

/// A client for `cfg` (see [`client_config`]).
pub async fn client(cfg: &ApiConfig) -> Result<Client, K8sClientError> {
    Ok(Client::try_from(client_config(cfg).await?)?)
}

/// `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (IPv6 hosts bracketed).
fn in_cluster_url() -> Result<String, K8sClientError> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST").unwrap_or_default();
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_default();
    if host.is_empty() || port.is_empty() {
        return Err(K8sClientError::NotInCluster);
    }
    Ok(if host.contains(':') { format!("https://[{host}]:{port}") } else { format!("https://{host}:{port}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn kubeconfig_with_context_selects_that_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n\
             - name: a\n  cluster:\n    server: http://127.0.0.1:1\n\
             - name: b\n  cluster:\n    server: http://127.0.0.1:2\n\
             contexts:\n- name: a\n  context:\n    cluster: a\n    user: u\n\
             - name: b\n  context:\n    cluster: b\n    user: u\n    namespace: ns\n\
             users:\n- name: u\n  user:\n    token: t\n",
        )
        .unwrap();
        let cfg = ApiConfig { auth_type: AuthType::KubeConfig, context: Some("b".into()), kubeconfig: Some(path) };
        let c = client_config(&cfg).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "http://127.0.0.1:2/");
        assert_eq!(c.default_namespace, "ns");
    }

    #[tokio::test]
    async fn service_account_outside_a_cluster_is_a_clear_error() {
        if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
            eprintln!("skipped: running inside a cluster (KUBERNETES_SERVICE_HOST is set)");
            return;
        }
        for auth_type in [AuthType::ServiceAccount, AuthType::None] {
            let err = client_config(&ApiConfig { auth_type, ..Default::default() }).await.unwrap_err();
            assert!(err.to_string().contains("KUBERNETES_SERVICE_HOST"), "{err}");
        }
    }

    #[test]
    fn auth_type_spellings_are_the_collectors() {
        for (text, want) in [
            ("serviceAccount", AuthType::ServiceAccount),
            ("kubeConfig", AuthType::KubeConfig),
            ("none", AuthType::None),
        ] {
            let got: AuthType = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(got, want);
            assert_eq!(got.as_str(), text);
        }
        assert!(serde_json::from_str::<AuthType>("\"serviceaccount\"").is_err());
    }
}
