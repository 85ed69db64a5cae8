//! TLS settings as the Collector's `configtls` spells them, built into rustls configs.
//!
//! Servers ([`ServerTlsConfig`] → [`ServerTls`]) reload certificate, key and client CA on
//! `reload_interval` without touching live connections: each handshake takes the newest
//! `rustls::ServerConfig`. Clients ([`ClientTlsConfig`] → [`client_config`]) add custom
//! CAs, client certificates, `server_name_override` and `insecure_skip_verify`.
//! rustls speaks TLS 1.2 and 1.3 only; `min_version: "1.0"`/`"1.1"` is raised to 1.2 with
//! a warning (it cannot lower security), `max_version` below 1.2 is refused.

mod client;
mod server;

pub use client::{client_config, TlsConnector, TlsConnectorStream};
pub use server::ServerTls;

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{NamedGroup, SupportedProtocolVersion};
use serde::Deserialize;

use crate::component::FieldError;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

fn err(msg: impl Into<String>) -> TlsError {
    TlsError(msg.into())
}

/// Server `tls:` of a receiver (configtls `ServerConfig`). TLS is on when `cert_*` and
/// `key_*` are given.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerTlsConfig {
    /// Accepted for compatibility; a server verifies clients with `client_ca_file`.
    pub ca_file: Option<String>,
    /// Accepted for compatibility (see `ca_file`).
    pub ca_pem: Option<String>,
    /// Accepted for compatibility (see `ca_file`).
    pub include_system_ca_certs_pool: bool,
    /// Server certificate chain (PEM file).
    pub cert_file: Option<String>,
    /// Server certificate chain (PEM text).
    pub cert_pem: Option<String>,
    /// Server private key (PEM file).
    pub key_file: Option<String>,
    /// Server private key (PEM text).
    pub key_pem: Option<String>,
    /// Lowest TLS version accepted (default `1.2`).
    pub min_version: Option<String>,
    /// Highest TLS version accepted (default `1.3`).
    pub max_version: Option<String>,
    /// TLS 1.2 cipher suites, Go names; TLS 1.3 suites are always enabled (as in Go).
    pub cipher_suites: Vec<String>,
    /// Accepted for compatibility: rustls offers no insecure suites.
    pub include_insecure_cipher_suites: bool,
    /// Key exchange groups: `X25519`, `P256`, `P384`, `X25519MLKEM768`.
    pub curve_preferences: Vec<String>,
    /// Re-read certificate, key and client CA files this often (default: never).
    #[serde(with = "humantime_serde")]
    pub reload_interval: Option<Duration>,
    /// CA bundle clients' certificates must chain to: mutual TLS, a client certificate is required.
    pub client_ca_file: Option<String>,
    /// Re-read `client_ca_file` when it changes (checked every 10 s unless `reload_interval` is set).
    pub client_ca_file_reload: bool,
}

/// Client `tls:` of an exporter (configtls `ClientConfig`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ClientTlsConfig {
    /// Plaintext connection (gRPC); for HTTP exporters the URL scheme decides.
    pub insecure: bool,
    /// TLS without verifying the server's certificate (testing only).
    pub insecure_skip_verify: bool,
    /// CA bundle (PEM file) the server's certificate must chain to, instead of the system roots.
    pub ca_file: Option<String>,
    /// CA bundle as PEM text.
    pub ca_pem: Option<String>,
    /// Also trust the system roots when `ca_file`/`ca_pem` is given.
    pub include_system_ca_certs_pool: bool,
    /// Client certificate (PEM file), for mutual TLS.
    pub cert_file: Option<String>,
    /// Client certificate as PEM text.
    pub cert_pem: Option<String>,
    /// Client private key (PEM file).
    pub key_file: Option<String>,
    /// Client private key as PEM text.
    pub key_pem: Option<String>,
    /// Name the server's certificate is checked against (and sent as SNI over gRPC).
    pub server_name_override: Option<String>,
    /// Lowest TLS version offered (default `1.2`).
    pub min_version: Option<String>,
    /// Highest TLS version offered (default `1.3`).
    pub max_version: Option<String>,
    /// TLS 1.2 cipher suites, Go names.
    pub cipher_suites: Vec<String>,
    /// Accepted for compatibility: rustls offers no insecure suites.
    pub include_insecure_cipher_suites: bool,
    /// Key exchange groups.
    pub curve_preferences: Vec<String>,
    /// Accepted for compatibility; client files are read at start.
    #[serde(with = "humantime_serde")]
    pub reload_interval: Option<Duration>,
}

impl ServerTlsConfig {
    /// Field checks that need no file access.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.cert_file.is_none() && self.cert_pem.is_none() {
            e.push(FieldError::new(format!("{prefix}::cert_file"), "server TLS needs cert_file (or cert_pem)"));
        }
        if self.key_file.is_none() && self.key_pem.is_none() {
            e.push(FieldError::new(format!("{prefix}::key_file"), "server TLS needs key_file (or key_pem)"));
        }
        if self.cert_file.is_some() && self.cert_pem.is_some() {
            e.push(FieldError::new(format!("{prefix}::cert_pem"), "set cert_file or cert_pem, not both"));
        }
        if self.key_file.is_some() && self.key_pem.is_some() {
            e.push(FieldError::new(format!("{prefix}::key_pem"), "set key_file or key_pem, not both"));
        }
        if self.reload_interval == Some(Duration::ZERO) {
            e.push(FieldError::new(format!("{prefix}::reload_interval"), "must be positive (or unset)"));
        }
        common_checks(
            prefix,
            &self.min_version,
            &self.max_version,
            &self.cipher_suites,
            &self.curve_preferences,
            &mut e,
        );
        e
    }
}

impl ClientTlsConfig {
    /// Field checks that need no file access.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        let cert = self.cert_file.is_some() || self.cert_pem.is_some();
        let key = self.key_file.is_some() || self.key_pem.is_some();
        if cert != key {
            e.push(FieldError::new(
                format!("{prefix}::{}", if cert { "key_file" } else { "cert_file" }),
                "a client certificate needs both cert_file (or cert_pem) and key_file (or key_pem)",
            ));
        }
        if self.ca_file.is_some() && self.ca_pem.is_some() {
            e.push(FieldError::new(format!("{prefix}::ca_pem"), "set ca_file or ca_pem, not both"));
        }
        common_checks(
            prefix,
            &self.min_version,
            &self.max_version,
            &self.cipher_suites,
            &self.curve_preferences,
            &mut e,
        );
        e
    }

    /// True when a CA is configured: then TLS is used even with `insecure: true`, as in
    /// the Collector's configtls.
    pub fn has_ca(&self) -> bool {
        self.ca_file.is_some() || self.ca_pem.is_some()
    }
}

fn common_checks(
    prefix: &str,
    min: &Option<String>,
    max: &Option<String>,
    suites: &[String],
    curves: &[String],
    e: &mut Vec<FieldError>,
) {
    if let Err(m) = versions(min.as_deref(), max.as_deref()) {
        // Name the field at fault: an unparsable min_version, else max_version.
        let min_bad = min.as_deref().is_some_and(|v| !v.is_empty() && parse_version(v).is_err());
        let field = if min_bad { "min_version" } else { "max_version" };
        e.push(FieldError::new(format!("{prefix}::{field}"), m.0));
    }
    if let Err(m) = provider(suites, curves) {
        e.push(FieldError::new(format!("{prefix}::cipher_suites"), m.0));
    }
}

/// `"1.0"`..`"1.3"` as (major, minor).
fn parse_version(v: &str) -> Result<u8, TlsError> {
    match v.trim() {
        "1.0" => Ok(0),
        "1.1" => Ok(1),
        "1.2" => Ok(2),
        "1.3" => Ok(3),
        other => Err(err(format!("unsupported TLS version \"{other}\" (use \"1.2\" or \"1.3\")"))),
    }
}

/// The protocol versions allowed by `min_version`/`max_version`.
pub(crate) fn versions(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
    let min = min.filter(|s| !s.is_empty()).map(parse_version).transpose()?.unwrap_or(2);
    let max = max.filter(|s| !s.is_empty()).map(parse_version).transpose()?.unwrap_or(3);
    if max < 2 {
        return Err(err(
            "max_version below 1.2 is not supported: TLS 1.0 and 1.1 are insecure and rustls does not speak them",
        ));
    }
    if min > max {
        return Err(err("min_version is higher than max_version"));
    }
    let mut v = Vec::new();
    if min <= 2 {
        v.push(&rustls::version::TLS12);
    }
    if max >= 3 {
        v.push(&rustls::version::TLS13);
    }
    Ok(v)
}

/// Logs once when an old `min_version` is raised to 1.2.
pub(crate) fn warn_old_min(min: Option<&str>) {
    if matches!(min.map(str::trim), Some("1.0") | Some("1.1")) {
        tracing::warn!(min_version = min, "TLS 1.0 and 1.1 are not supported; using min_version 1.2");
    }
}

fn suite_name(s: &rustls::SupportedCipherSuite) -> String {
    // rustls spells TLS 1.3 suites `TLS13_…`; Go and the Collector use `TLS_…`.
    format!("{:?}", s.suite()).replacen("TLS13_", "TLS_", 1)
}

fn group_name(g: NamedGroup) -> &'static str {
    match g {
        NamedGroup::X25519 => "X25519",
        NamedGroup::secp256r1 => "P256",
        NamedGroup::secp384r1 => "P384",
        NamedGroup::secp521r1 => "P521",
        NamedGroup::X25519MLKEM768 => "X25519MLKEM768",
        _ => "",
    }
}

/// aws-lc-rs, narrowed to the configured TLS 1.2 suites and key exchange groups.
pub(crate) fn provider(suites: &[String], curves: &[String]) -> Result<Arc<CryptoProvider>, TlsError> {
    let mut p = rustls::crypto::aws_lc_rs::default_provider();
    if !suites.is_empty() {
        let known: Vec<String> = p.cipher_suites.iter().map(suite_name).collect();
        for s in suites {
            if !known.iter().any(|k| k == s) {
                return Err(err(format!(
                    "unknown or unsupported cipher suite \"{s}\" (supported: {})",
                    known.join(", ")
                )));
            }
        }
        // TLS 1.3 suites are not configurable in Go either: they stay.
        p.cipher_suites.retain(|c| c.tls13().is_some() || suites.iter().any(|s| *s == suite_name(c)));
    }
    if !curves.is_empty() {
        let known: Vec<&str> = p.kx_groups.iter().map(|g| group_name(g.name())).filter(|n| !n.is_empty()).collect();
        for c in curves {
            if !known.contains(&c.as_str()) {
                return Err(err(format!("unsupported curve \"{c}\" (supported: {})", known.join(", "))));
            }
        }
        p.kx_groups.retain(|g| curves.iter().any(|c| c == group_name(g.name())));
    }
    Ok(Arc::new(p))
}

/// Reads a PEM source: the file if given, else the inline text.
pub(crate) fn read_pem(file: &Option<String>, pem: &Option<String>, what: &str) -> Result<Option<Vec<u8>>, TlsError> {
    if let Some(f) = file {
        return std::fs::read(f).map(Some).map_err(|e| err(format!("cannot read {what} \"{f}\": {e}")));
    }
    Ok(pem.as_ref().map(|p| p.as_bytes().to_vec()))
}

pub(crate) fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("{what}: not a valid PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(err(format!("{what}: no certificate found")));
    }
    Ok(certs)
}

pub(crate) fn parse_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| err(format!("{what}: not a valid PEM private key: {e}")))
}

/// Root store from PEM certificates.
pub(crate) fn roots(pem: &[u8], what: &str) -> Result<rustls::RootCertStore, TlsError> {
    let mut store = rustls::RootCertStore::empty();
    for c in parse_certs(pem, what)? {
        store.add(c).map_err(|e| err(format!("{what}: unusable CA certificate: {e}")))?;
    }
    Ok(store)
}

#[cfg(test)]
mod tests;
