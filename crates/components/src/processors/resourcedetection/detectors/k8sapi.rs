//! `k8s_api` (deprecated spelling `k8snode`): the node this gateway runs on, read from the
//! Kubernetes API (upstream internal/k8sapi, internal/k8snode): `GET /api/v1/nodes/<name>`
//! for `k8s.node.name` and `k8s.node.uid`, the `kube-system` namespace's UID for
//! `k8s.cluster.uid` (skipped with a warning when forbidden, as upstream). The node name
//! comes from the variable `node_from_env_var` names (default `K8S_NODE_NAME`, set with the
//! downward API); without it the detector fails, as upstream's does.

use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::Api;

use super::{Builder, DetectCx, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::k8s::{ApiConfig, AuthType};
use crate::processors::resourcedetection::attrs::Enabled;
use crate::processors::resourcedetection::config::K8sApiConfig;

/// The `k8s_api` / `k8snode` detector.
pub struct K8sApiDetector {
    api: ApiConfig,
    node_var: String,
    enabled: Enabled,
}

impl K8sApiDetector {
    /// From its section; `KUBECONFIG` (one file) is read through `env` for `kubeConfig`.
    pub fn new(cfg: &K8sApiConfig, env: &EnvLookup, enabled: Enabled) -> Self {
        K8sApiDetector {
            api: api_config(cfg.auth_type, cfg.context.clone(), env),
            node_var: cfg.node_from_env_var.clone(),
            enabled,
        }
    }

    /// Asks the API server now.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        let node_name = (cx.env)(&self.node_var).filter(|v| !v.is_empty()).ok_or_else(|| {
            DetectError::Failed(format!(
                "node name can't be found: set the environment variable {} (node_from_env_var) with the downward API",
                self.node_var
            ))
        })?;
        let client =
            crate::k8s::client(&self.api).await.map_err(|e| DetectError::Failed(format!("kubernetes client: {e}")))?;
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        if b.wants("k8s.node.uid") || b.wants("k8s.node.name") {
            let node = Api::<Node>::all(client.clone())
                .get(&node_name)
                .await
                .map_err(|e| DetectError::Failed(format!("failed getting k8s node {node_name:?}: {e}")))?;
            b.str("k8s.node.uid", node.metadata.uid.unwrap_or_default());
            b.str("k8s.node.name", node.metadata.name.unwrap_or(node_name));
        }
        if b.wants("k8s.cluster.uid") {
            match Api::<Namespace>::all(client).get("kube-system").await {
                Ok(ns) => b.str("k8s.cluster.uid", ns.metadata.uid.unwrap_or_default()),
                Err(e) => tracing::warn!(error = %e,
                    "resourcedetection k8s_api: cannot read the kube-system namespace; k8s.cluster.uid is not set"),
            }
        }
        Ok(b.finish())
    }
}

/// The shared client's settings; `kubeConfig` uses `KUBECONFIG` when it names one file.
pub fn api_config(auth_type: AuthType, context: Option<String>, env: &EnvLookup) -> ApiConfig {
    let kubeconfig = match auth_type {
        AuthType::KubeConfig => env("KUBECONFIG").filter(|p| !p.is_empty() && !p.contains(':')).map(Into::into),
        _ => None,
    };
    ApiConfig { auth_type, context, kubeconfig }
}
