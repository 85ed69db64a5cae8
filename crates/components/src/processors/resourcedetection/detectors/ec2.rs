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
/// The IMDS address.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";

/// The `ec2` detector.
pub struct Ec2Detector {
    base: String,
    tags: Vec<Regex>,
    enabled: Enabled,
}

/// The fields of the instance identity document the detectors read.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Identity {
    /// `cloud.account.id`.
    pub account_id: String,
    /// `cloud.availability_zone`.
    pub availability_zone: String,
    /// `host.image.id`.
    pub image_id: String,
    /// `host.id`.
    pub instance_id: String,
    /// `host.type`.
    pub instance_type: String,
    /// `cloud.region`.
    pub region: String,
}

/// An IMDS session: the base address and the IMDSv2 token, if the instance gave one.
pub struct Imds<'a> {
    cx: &'a DetectCx,
    base: &'a str,
    token: Option<String>,
}

impl<'a> Imds<'a> {
    /// Opens a session (asks for a token). No answer at all means not on EC2.
    pub async fn open(cx: &'a DetectCx, base: &'a str) -> Result<Imds<'a>, DetectError> {
        let url = format!("{base}/latest/api/token");
        let req = cx.http.put(&url).header("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        let token = match send(req, &url).await {
            Ok(t) => Some(t.trim().to_string()),
            // 403: IMDS is disabled for this instance; other statuses: IMDSv1 only.
            Err(DetectError::Failed(m)) if m.contains("HTTP 403") => return Err(DetectError::Failed(m)),
            Err(DetectError::Failed(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(Imds { cx, base, token })
    }

    /// GET `path` with the session token.
    pub async fn get(&self, path: &str) -> Result<String, DetectError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.cx.http.get(&url);
        if let Some(t) = &self.token {
            req = req.header(TOKEN_HEADER, t.as_str());
        }
        send(req, &url).await
    }

    /// The instance identity document and the host name.
    pub async fn identity(&self) -> Result<(Identity, String), DetectError> {
        let doc_path = "/latest/dynamic/instance-identity/document";
        let id: Identity = parse_json(&format!("{}{doc_path}", self.base), &self.get(doc_path).await?)?;
        let hostname = self.get("/latest/meta-data/hostname").await?.trim().to_string();
        Ok((id, hostname))
    }
}

impl Ec2Detector {
    /// From `ec2:` (the tag patterns were checked at validation).
    pub fn new(cfg: &Ec2Config, env: &EnvLookup, enabled: Enabled) -> Result<Self, String> {
        let tags =
            cfg.tags.iter().map(|t| Regex::new(t).map_err(|e| format!("ec2.tags: {e}"))).collect::<Result<_, _>>()?;
        Ok(Ec2Detector { base: endpoint(env, TEST_ENDPOINT_VAR, DEFAULT_ENDPOINT), tags, enabled })
    }

    /// The IMDS address (tests replace it).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Asks IMDS now.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        let imds = Imds::open(cx, &self.base).await?;
        let (id, hostname) = imds.identity().await?;
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "aws");
        b.str("cloud.platform", "aws_ec2");
        b.str("cloud.region", id.region);
        b.str("cloud.account.id", id.account_id);
        b.str("cloud.availability_zone", id.availability_zone);
        b.str("host.id", id.instance_id);
        b.str("host.image.id", id.image_id);
        b.str("host.type", id.instance_type);
        b.str("host.name", hostname);
        if !self.tags.is_empty() {
            let keys = imds.get("/latest/meta-data/tags/instance").await?;
            for key in keys.lines().map(str::trim).filter(|k| !k.is_empty()) {
                if self.tags.iter().any(|r| r.is_match(key)) {
                    let value = imds.get(&format!("/latest/meta-data/tags/instance/{key}")).await?;
                    b.str(&format!("ec2.tag.{key}"), value);
                }
            }
        }
        Ok(b.finish())
    }
}
