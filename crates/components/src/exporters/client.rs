//! Client settings shared by network exporters (the Collector's configtls client fields
//! and `compression_params`).

use serde::Deserialize;

pub use switchyard_core::confignet::tls::ClientTlsConfig;

/// `compression_params:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionParams {
    /// gzip/zlib/deflate level 1-9 (default 1: a gateway favours speed); zstd level.
    pub level: Option<i32>,
}

/// An exporter's `auth:` authenticator, resolved when the exporter starts.
#[derive(Default)]
pub struct ExporterAuth {
    config: Option<switchyard_core::confignet::auth::AuthConfig>,
    resolved: std::sync::OnceLock<switchyard_core::confignet::auth::ClientAuth>,
}

impl ExporterAuth {
    /// From the exporter's `auth:` field.
    pub fn new(config: Option<switchyard_core::confignet::auth::AuthConfig>) -> Self {
        ExporterAuth { config, resolved: std::sync::OnceLock::new() }
    }

    /// Looks the extension up (called from `Sender::start`). `tls`: whether the connection
    /// is encrypted; credentials over plaintext are sent (the Collector refuses them on gRPC)
    /// but warned about.
    pub fn start(&self, host: &switchyard_core::component::Host, who: &str, tls: bool) -> Result<(), String> {
        let Some(cfg) = &self.config else { return Ok(()) };
        if !tls {
            tracing::warn!(exporter = who, authenticator = %cfg.authenticator,
                "Credentials will be sent without TLS: anyone on the path can read them.");
        }
        let auth = switchyard_core::confignet::auth::ClientAuth::resolve(host, who, cfg).map_err(|e| e.to_string())?;
        let _ = self.resolved.set(auth);
        Ok(())
    }

    /// Adds the authenticator's headers; a failure (an unreadable token file) is retried.
    pub fn apply(
        &self,
        cx: &switchyard_core::consumer::RequestContext,
        headers: &mut http::HeaderMap,
    ) -> Result<(), switchyard_core::exporterhelper::ExportError> {
        match (&self.config, self.resolved.get()) {
            (None, _) => Ok(()),
            (Some(_), Some(a)) => a
                .apply(cx, headers)
                .map_err(|e| switchyard_core::exporterhelper::ExportError::retryable(format!("auth: {e}"))),
            (Some(c), None) => Err(switchyard_core::exporterhelper::ExportError::retryable(format!(
                "authenticator \"{}\" not started",
                c.authenticator
            ))),
        }
    }
}

/// An error with its causes, `outer: inner: root` (a TLS failure is several layers down
/// in a transport error, and the top layer alone says only "transport error").
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
