//! `docker`: the Docker daemon's `GET /info` (upstream internal/docker): `host.name` is the
//! daemon host's name (`Name`), `os.type` its `OSType`. The daemon is reached at
//! `DOCKER_HOST` (`unix://` path or `tcp://host:port`), default `/var/run/docker.sock`.

use std::time::Duration;

use serde::Deserialize;

use super::{http_get, metadata_client, parse_json, Builder, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;

/// The default daemon socket.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The `docker` detector.
pub struct DockerDetector {
    client: reqwest::Client,
    base: String,
    enabled: Enabled,
}

#[derive(Deserialize)]
struct Info {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "OSType", default)]
    os_type: String,
}

impl DockerDetector {
    /// Resolves `DOCKER_HOST` now.
    pub fn new(env: &EnvLookup, timeout: Duration, enabled: Enabled) -> Result<Self, String> {
        let host = env("DOCKER_HOST").filter(|h| !h.trim().is_empty()).unwrap_or_else(|| DEFAULT_HOST.to_string());
        let host = host.trim();
        let (client, base) = if let Some(path) = host.strip_prefix("unix://") {
            (metadata_client(timeout, Some(std::path::Path::new(path)))?, "http://docker".to_string())
        } else if let Some(addr) = host.strip_prefix("tcp://").or_else(|| host.strip_prefix("http://")) {
            (metadata_client(timeout, None)?, format!("http://{}", addr.trim_end_matches('/')))
        } else {
            return Err(format!("DOCKER_HOST \"{host}\": only unix:// and tcp:// (without TLS) are supported"));
        };
        Ok(DockerDetector { client, base, enabled })
    }

    /// Asks the daemon now.
    pub async fn detect(&self) -> Result<Detected, DetectError> {
        let url = format!("{}/info", self.base);
        let body = http_get(&self.client, &url, &[]).await?;
        let info: Info = parse_json(&url, &body)?;
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("host.name", info.name);
        b.str("os.type", info.os_type.to_ascii_lowercase());
        Ok(b.finish())
    }
}
