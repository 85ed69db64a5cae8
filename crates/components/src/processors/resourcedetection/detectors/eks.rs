//! `eks`: on Kubernetes (`KUBERNETES_SERVICE_HOST` set) whose API server version contains
//! `-eks-`, sets `cloud.provider: aws` and `cloud.platform: aws_eks`; the opt-in host and
//! cloud attributes come from EC2 IMDS when it is reachable (upstream internal/aws/eks).
//!
//! Not done: `k8s.cluster.name` and the no-IMDS fallback (EKS Auto Mode) need the EC2
//! `DescribeInstances` API (AWS credentials and request signing); enabling
//! `k8s.cluster.name` is refused at validation.
//!
//! The API server is reached in-cluster (service account), as upstream;
//! `SWITCHYARD_TEST_KUBECONFIG` (tests only) points it at a kubeconfig file instead.

use super::ec2::{Imds, DEFAULT_ENDPOINT, TEST_ENDPOINT_VAR as EC2_TEST_VAR};
use super::{endpoint, Builder, DetectCx, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::k8s::{ApiConfig, AuthType};
use crate::processors::resourcedetection::attrs::Enabled;

/// Test-only: a kubeconfig file to use instead of the in-cluster credentials.
pub const TEST_KUBECONFIG_VAR: &str = "SWITCHYARD_TEST_KUBECONFIG";

/// The `eks` detector.
pub struct EksDetector {
    api: ApiConfig,
    imds: String,
    enabled: Enabled,
}

impl EksDetector {
    /// Resolves the API access and IMDS address now.
    pub fn new(env: &EnvLookup, enabled: Enabled) -> Self {
        let api = match env(TEST_KUBECONFIG_VAR).filter(|p| !p.is_empty()) {
            Some(path) => ApiConfig { auth_type: AuthType::KubeConfig, context: None, kubeconfig: Some(path.into()) },
            None => ApiConfig::default(),
        };
        EksDetector { api, imds: endpoint(env, EC2_TEST_VAR, DEFAULT_ENDPOINT), enabled }
    }

    /// Checks for EKS and asks IMDS now.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        if (cx.env)("KUBERNETES_SERVICE_HOST").is_none_or(|h| h.is_empty()) {
            return Err(DetectError::Missing("not on Kubernetes: KUBERNETES_SERVICE_HOST is not set".to_string()));
        }
        let client =
            crate::k8s::client(&self.api).await.map_err(|e| DetectError::Failed(format!("kubernetes client: {e}")))?;
        let version = client
            .apiserver_version()
            .await
            .map_err(|e| DetectError::Failed(format!("isEks() error retrieving cluster version: {e}")))?;
        if !version.git_version.contains("-eks-") {
            return Ok(Detected::empty());
        }
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "aws");
        b.str("cloud.platform", "aws_eks");
        let wants_imds = [
            "cloud.account.id",
            "cloud.availability_zone",
            "cloud.region",
            "host.id",
            "host.image.id",
            "host.name",
            "host.type",
        ]
        .iter()
        .any(|k| b.wants(k));
        if wants_imds {
            match Imds::open(cx, &self.imds).await {
                Ok(imds) => {
                    let (id, hostname) = imds.identity().await?;
                    b.str("host.id", id.instance_id);
                    b.str("cloud.availability_zone", id.availability_zone);
                    b.str("cloud.region", id.region);
                    b.str("cloud.account.id", id.account_id);
                    b.str("host.image.id", id.image_id);
                    b.str("host.type", id.instance_type);
                    b.str("host.name", hostname);
                }
                Err(e) => tracing::warn!(error = %e,
                    "resourcedetection eks: EC2 metadata is not reachable; only cloud.provider and cloud.platform are set"),
            }
        }
        Ok(b.finish())
    }
}
