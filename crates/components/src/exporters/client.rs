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

/// Settings of an HTTP exporter's client (the Collector's confighttp client fields we use).
pub struct HttpClientSettings<'a> {
    /// Whole-request timeout.
    pub timeout: std::time::Duration,
    /// Idle connections kept per host (default 100).
    pub max_idle_conns: Option<usize>,
    /// How long idle connections are kept (default 90s).
    pub idle_conn_timeout: Option<std::time::Duration>,
    /// TLS (used only when `https` is true).
    pub tls: &'a ClientTlsConfig,
    /// Whether any URL of the exporter is https.
    pub https: bool,
    /// Proxy URL.
    pub proxy_url: Option<&'a str>,
}

/// A reqwest client for an HTTP exporter: our rustls config for https (a machine without a
/// CA bundle can still export over http), no redirects (they would re-send the data and any
/// credential headers to another host), our user agent.
pub fn http_client(s: HttpClientSettings<'_>) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .timeout(s.timeout)
        .pool_max_idle_per_host(s.max_idle_conns.unwrap_or(100))
        .pool_idle_timeout(s.idle_conn_timeout.unwrap_or(std::time::Duration::from_secs(90)))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if s.https {
        let alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let tls = switchyard_core::confignet::tls::client_config(s.tls, alpn).map_err(|e| format!("tls: {e}"))?;
        b = b.use_preconfigured_tls(tls);
    }
    if let Some(p) = s.proxy_url {
        b = b.proxy(reqwest::Proxy::all(p).map_err(|e| format!("invalid proxy_url: {e}"))?);
    }
    b.build().map_err(|e| format!("cannot build HTTP client: {e}"))
}

/// A URL fit for logs and error messages: user info (`user:token@`) and the query string
/// (`?api_key=...`) are left out.
pub fn redact_url(url: &str) -> String {
    let (base, had_query) = match url.split_once('?') {
        Some((b, _)) => (b, true),
        None => (url, false),
    };
    let out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let userinfo = if host.len() < authority.len() { "***@" } else { "" };
            format!("{scheme}://{userinfo}{host}{path}")
        }
        None => base.to_string(),
    };
    if had_query {
        out + "?***"
    } else {
        out
    }
}

/// Static headers from config, checked.
pub fn header_map(headers: &std::collections::BTreeMap<String, String>) -> Result<http::HeaderMap, String> {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        let name = http::HeaderName::try_from(k.as_str()).map_err(|_| format!("invalid header name \"{k}\""))?;
        let value = http::HeaderValue::try_from(v.as_str()).map_err(|_| format!("invalid value for header \"{k}\""))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// Reads at most `max` bytes of a response body (an error page can be large).
pub async fn read_limited(mut resp: reqwest::Response, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = max.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= max {
            break;
        }
    }
    out
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<std::time::Duration> {
    use std::time::{Duration, SystemTime};
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = humantime::parse_rfc3339_weak(v).ok().or_else(|| {
        // RFC 1123: "Sun, 06 Nov 1994 08:49:37 GMT"
        let parts: Vec<&str> = v.split_whitespace().collect();
        if parts.len() != 6 {
            return None;
        }
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            .iter()
            .position(|m| *m == parts[2])?
            + 1;
        let iso = format!("{}-{:02}-{:02}T{}Z", parts[3], month, parts[1].parse::<u32>().ok()?, parts[4]);
        humantime::parse_rfc3339(&iso).ok()
    })?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// How an HTTP exporter classifies a status: success, retryable (429 and 5xx, with the
/// server's Retry-After), or permanent (other 4xx and anything else).
pub fn classify_status(
    status: reqwest::StatusCode,
    retry_after: Option<std::time::Duration>,
    message: String,
) -> Result<(), switchyard_core::exporterhelper::ExportError> {
    use switchyard_core::exporterhelper::ExportError;
    if status.is_success() {
        Ok(())
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Err(ExportError::Retryable { message, throttle: retry_after })
    } else {
        Err(ExportError::Permanent { message })
    }
}
