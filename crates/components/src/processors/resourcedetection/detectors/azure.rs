//! `azure`: the Azure instance metadata service, `GET
//! /metadata/instance/compute?api-version=2020-09-01&format=json` with `Metadata: True`
//! (upstream internal/metadataproviders/azure). Tags whose name matches `tags` become
//! `azure.tags.<name>`.
//!
//! Endpoint: `http://169.254.169.254`; `SWITCHYARD_TEST_AZURE_ENDPOINT` replaces it
//! (tests only).

use regex::Regex;
use serde::Deserialize;

use super::{endpoint, http_get, parse_json, Builder, DetectCx, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;
use crate::processors::resourcedetection::config::AzureConfig;

/// Test-only override of the IMDS address.
pub const TEST_ENDPOINT_VAR: &str = "SWITCHYARD_TEST_AZURE_ENDPOINT";

/// The `azure` detector.
pub struct AzureDetector {
    base: String,
    tags: Vec<Regex>,
    enabled: Enabled,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Compute {
    location: String,
    name: String,
    #[serde(rename = "vmId")]
    vm_id: String,
    vm_size: String,
    subscription_id: String,
    resource_group_name: String,
    vm_scale_set_name: String,
    zone: String,
    tags_list: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tag {
    name: String,
    value: String,
}

impl AzureDetector {
    /// From `azure:` (tag patterns were checked at validation).
    pub fn new(cfg: &AzureConfig, env: &EnvLookup, enabled: Enabled) -> Result<Self, String> {
        let tags =
            cfg.tags.iter().map(|t| Regex::new(t).map_err(|e| format!("azure.tags: {e}"))).collect::<Result<_, _>>()?;
        Ok(AzureDetector { base: endpoint(env, TEST_ENDPOINT_VAR, "http://169.254.169.254"), tags, enabled })
    }

    /// Asks IMDS now.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        let url = format!("{}/metadata/instance/compute?api-version=2020-09-01&format=json", self.base);
        let c: Compute = parse_json(&url, &http_get(&cx.http, &url, &[("Metadata", "True")]).await?)?;
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "azure");
        b.str("cloud.platform", "azure_vm");
        b.str("host.name", c.name.clone());
        b.str("cloud.region", c.location);
        b.str("host.id", c.vm_id);
        b.str("cloud.account.id", c.subscription_id);
        if !c.zone.is_empty() {
            b.str("cloud.availability_zone", c.zone);
        }
        b.str("azure.vm.name", c.name);
        b.str("azure.vm.size", c.vm_size);
        b.str("azure.vm.scaleset.name", c.vm_scale_set_name);
        b.str("azure.resourcegroup.name", c.resource_group_name);
        for t in &c.tags_list {
            if self.tags.iter().any(|r| r.is_match(&t.name)) {
                b.str(&format!("azure.tags.{}", t.name), t.value.clone());
            }
        }
        Ok(b.finish())
    }
}
