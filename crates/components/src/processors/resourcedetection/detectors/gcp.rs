//! `gcp`: the GCP metadata server (`Metadata-Flavor: Google`), as upstream internal/gcp
//! (the GoogleCloudPlatform detectors library): the platform is chosen from the
//! environment, then the metadata server fills the attributes.
//!
//! - Cloud Run service (`K_CONFIGURATION` set): `faas.*` from `K_SERVICE`/`K_REVISION`,
//!   instance id and region from the server.
//! - Cloud Run job (`CLOUD_RUN_JOB` set): `faas.name`, job execution and task index.
//! - Cloud Functions (`FUNCTION_TARGET` set): as Cloud Run, platform `gcp_cloud_functions`.
//! - GKE (`KUBERNETES_SERVICE_HOST` set): cluster name and location from the instance
//!   attributes, plus the instance's `host.*`.
//! - Otherwise GCE, when the metadata server answers.
//!
//! Endpoint: `http://metadata.google.internal`, or `GCE_METADATA_HOST` as the Go library
//! reads it; `SWITCHYARD_TEST_GCP_ENDPOINT` replaces both (tests only). App Engine and the
//! managed instance group attributes are not detected.

use super::{endpoint, http_get, Builder, DetectCx, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;

/// Test-only override of the metadata server address.
pub const TEST_ENDPOINT_VAR: &str = "SWITCHYARD_TEST_GCP_ENDPOINT";

/// The `gcp` detector.
pub struct GcpDetector {
    base: String,
    enabled: Enabled,
}

impl GcpDetector {
    /// Resolves the endpoint now.
    pub fn new(env: &EnvLookup, enabled: Enabled) -> Self {
        let host = env("GCE_METADATA_HOST")
            .filter(|h| !h.trim().is_empty())
            .map(|h| format!("http://{}", h.trim()))
            .unwrap_or_else(|| "http://metadata.google.internal".to_string());
        GcpDetector { base: endpoint(env, TEST_ENDPOINT_VAR, &host), enabled }
    }

    async fn get(&self, cx: &DetectCx, path: &str) -> Result<String, DetectError> {
        let url = format!("{}/computeMetadata/v1/{path}", self.base);
        http_get(&cx.http, &url, &[("Metadata-Flavor", "Google")]).await.map(|s| s.trim().to_string())
    }

    /// Detects the platform and asks the metadata server now.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        let env = |k: &str| (cx.env)(k).filter(|v| !v.is_empty());
        // The project id doubles as the "are we on GCP" probe.
        let project = self.get(cx, "project/project-id").await?;
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "gcp");
        b.str("cloud.account.id", project);
        let serverless = |b: &mut Builder<'_>, platform: &str| {
            b.str("cloud.platform", platform.to_string());
        };
        if env("K_CONFIGURATION").is_some() || env("FUNCTION_TARGET").is_some() {
            let platform = if env("K_CONFIGURATION").is_some() { "gcp_cloud_run" } else { "gcp_cloud_functions" };
            serverless(&mut b, platform);
            b.str("cloud.region", last_segment(&self.get(cx, "instance/region").await?));
            b.str("faas.instance", self.get(cx, "instance/id").await?);
            if let Some(name) = env("K_SERVICE") {
                b.str("faas.name", name);
            }
            if let Some(rev) = env("K_REVISION") {
                b.str("faas.version", rev);
            }
        } else if let Some(job) = env("CLOUD_RUN_JOB") {
            serverless(&mut b, "gcp_cloud_run");
            b.str("cloud.region", last_segment(&self.get(cx, "instance/region").await?));
            b.str("faas.instance", self.get(cx, "instance/id").await?);
            b.str("faas.name", job);
            if let Some(e) = env("CLOUD_RUN_EXECUTION") {
                b.str("gcp.cloud_run.job.execution", e);
            }
            if let Some(i) = env("CLOUD_RUN_TASK_INDEX") {
                b.str("gcp.cloud_run.job.task_index", i);
            }
        } else if env("KUBERNETES_SERVICE_HOST").is_some() {
            b.str("cloud.platform", "gcp_kubernetes_engine");
            let location = self.get(cx, "instance/attributes/cluster-location").await?;
            // A zonal cluster's location is a zone (`us-central1-c`), a regional one's a region.
            if location.matches('-').count() >= 2 {
                b.str("cloud.region", region_of_zone(&location));
                b.str("cloud.availability_zone", location);
            } else {
                b.str("cloud.region", location);
            }
            b.str("k8s.cluster.name", self.get(cx, "instance/attributes/cluster-name").await?);
            b.str("host.id", self.get(cx, "instance/id").await?);
            if let Ok(name) = self.get(cx, "instance/name").await {
                b.str("host.name", name);
            }
        } else {
            b.str("cloud.platform", "gcp_compute_engine");
            let zone = last_segment(&self.get(cx, "instance/zone").await?);
            b.str("cloud.region", region_of_zone(&zone));
            b.str("cloud.availability_zone", zone);
            b.str("host.id", self.get(cx, "instance/id").await?);
            let name = self.get(cx, "instance/name").await?;
            b.str("host.name", name.clone());
            b.str("gcp.gce.instance.name", name);
            b.str("host.type", last_segment(&self.get(cx, "instance/machine-type").await?));
            if b.wants("gcp.gce.instance.hostname") {
                b.str("gcp.gce.instance.hostname", self.get(cx, "instance/hostname").await?);
            }
        }
        Ok(b.finish())
    }
}

/// `projects/123/zones/us-central1-c` → `us-central1-c`.
fn last_segment(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_string()
}

/// `us-central1-c` → `us-central1`.
fn region_of_zone(zone: &str) -> String {
    zone.rsplit_once('-').map(|(r, _)| r.to_string()).unwrap_or_else(|| zone.to_string())
}
