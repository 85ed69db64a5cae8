//! `ec2`: the EC2 instance metadata service (IMDSv2, as the AWS SDK upstream uses): a
//! session token from `PUT /latest/api/token`, then the instance identity document and
//! the host name. Without a token (IMDSv1-only instance) the GETs go without one, as the
//! SDK's fallback does. With `tags_from_imds`, tags whose key matches `tags` are read from
//! `/latest/meta-data/tags/instance` as `ec2.tag.<key>`.
//!
//! Endpoint: `http://169.254.169.254`; `SWITCHYARD_TEST_EC2_ENDPOINT` replaces it (tests only).

use regex::Regex;
use serde::Deserialize;

use super::{endpoint, parse_json, send, Builder, DetectCx, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;
use crate::processors::resourcedetection::config::Ec2Config;

/// Test-only override of the IMDS address.
pub const TEST_ENDPOINT_VAR: &str = "SWITCHYARD_TEST_EC2_ENDPOINT";
const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";

/// The `ec2` detector.
pub struct Ec2Detector {
    base: String,
    tags: Vec<Regex>,
    enabled: Enabled,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    availability_zone: String,
    #[serde(default)]
    image_id: String,
    #[serde(default)]
    instance_id: String,
    #[serde(default)]
    instance_type: String,
    #[serde(default)]
    region: String,
}

impl Ec2Detector {
    /// From `ec2:` (the tag patterns were checked at validation).
    pub fn new(cfg: &Ec2Config, env: &EnvLookup, enabled: Enabled) -> Result<Self, String> {
        let tags =
            cfg.tags.iter().map(|t| Regex::new(t).map_err(|e| format!("ec2.tags: {e}"))).collect::<Result<_, _>>()?;
        Ok(Ec2Detector { base: endpoint(env, TEST_ENDPOINT_VAR, DEFAULT_ENDPOINT), tags, enabled })
    }

    /// Asks IMDS now.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        let token = self.token(cx).await?;
        let get = |path: &str| {
            let url = format!("{}{path}", self.base);
            let mut req = cx.http.get(&url);
            if let Some(t) = &token {
                req = req.header(TOKEN_HEADER, t.as_str());
            }
            async move { send(req, &url).await }
        };
        let doc_path = "/latest/dynamic/instance-identity/document";
        let doc = get(doc_path).await?;
        let id: Identity = parse_json(&format!("{}{doc_path}", self.base), &doc)?;
        let hostname = get("/latest/meta-data/hostname").await?;
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "aws");
        b.str("cloud.platform", "aws_ec2");
        b.str("cloud.region", id.region);
        b.str("cloud.account.id", id.account_id);
        b.str("cloud.availability_zone", id.availability_zone);
        b.str("host.id", id.instance_id);
        b.str("host.image.id", id.image_id);
        b.str("host.type", id.instance_type);
        b.str("host.name", hostname.trim());
        if !self.tags.is_empty() {
            let keys = get("/latest/meta-data/tags/instance").await?;
            for key in keys.lines().map(str::trim).filter(|k| !k.is_empty()) {
                if self.tags.iter().any(|r| r.is_match(key)) {
                    let value = get(&format!("/latest/meta-data/tags/instance/{key}")).await?;
                    b.str(&format!("ec2.tag.{key}"), value);
                }
            }
        }
        Ok(b.finish())
    }

    /// An IMDSv2 session token; `None` when IMDS answers the PUT with an error status
    /// (IMDSv1 only). No answer at all means not on EC2.
    async fn token(&self, cx: &DetectCx) -> Result<Option<String>, DetectError> {
        let url = format!("{}/latest/api/token", self.base);
        let req = cx.http.put(&url).header("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        match send(req, &url).await {
            Ok(t) => Ok(Some(t.trim().to_string())),
            Err(DetectError::Failed(m)) if m.contains("HTTP 403") => Err(DetectError::Failed(m)),
            Err(DetectError::Failed(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
