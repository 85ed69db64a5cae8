//! `heroku`: Heroku's dyno metadata environment variables (upstream internal/heroku).
//! Without `HEROKU_DYNO_ID` (dyno metadata not enabled) it sets nothing.

use super::{Builder, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;

/// The `heroku` detector.
pub struct HerokuDetector {
    enabled: Enabled,
}

impl HerokuDetector {
    /// A detector with these attributes on.
    pub fn new(enabled: Enabled) -> Self {
        HerokuDetector { enabled }
    }

    /// Reads the environment now.
    pub fn detect(&self, env: &EnvLookup) -> Result<Detected, DetectError> {
        let Some(dyno) = env("HEROKU_DYNO_ID") else {
            return Err(DetectError::Missing(
                "Heroku dyno metadata unavailable: HEROKU_DYNO_ID is not set".to_string(),
            ));
        };
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "heroku");
        b.str("service.instance.id", dyno);
        for (var, key) in [
            ("HEROKU_APP_ID", "heroku.app.id"),
            ("HEROKU_APP_NAME", "service.name"),
            ("HEROKU_RELEASE_CREATED_AT", "heroku.release.creation_timestamp"),
            ("HEROKU_RELEASE_VERSION", "service.version"),
            ("HEROKU_SLUG_COMMIT", "heroku.release.commit"),
        ] {
            if let Some(v) = env(var) {
                b.str(key, v);
            }
        }
        Ok(b.finish())
    }
}
