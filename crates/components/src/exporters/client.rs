//! Client settings shared by network exporters (the Collector's configtls client fields
//! and `compression_params`).

use serde::Deserialize;
use switchyard_core::component::FieldError;

/// `tls:` of an exporter. Only `insecure` and `insecure_skip_verify` are implemented so
/// far; certificate fields are refused by validation rather than silently ignored.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ClientTlsConfig {
    /// Plaintext connection (gRPC); for HTTP the URL scheme decides.
    pub insecure: bool,
    /// TLS without verifying the server's certificate.
    pub insecure_skip_verify: bool,
    /// CA file (not supported yet).
    pub ca_file: Option<String>,
    /// CA PEM (not supported yet).
    pub ca_pem: Option<String>,
    /// Client certificate (not supported yet).
    pub cert_file: Option<String>,
    /// Client key (not supported yet).
    pub key_file: Option<String>,
    /// SNI override (not supported yet).
    pub server_name_override: Option<String>,
    /// Accepted: system roots are always used.
    pub include_system_ca_certs_pool: bool,
    /// Minimum TLS version (not supported yet).
    pub min_version: Option<String>,
}

impl ClientTlsConfig {
    /// Refuses the fields not implemented yet.
    pub fn validate(&self) -> Vec<FieldError> {
        let unsupported = [
            ("tls::ca_file", self.ca_file.is_some()),
            ("tls::ca_pem", self.ca_pem.is_some()),
            ("tls::cert_file", self.cert_file.is_some()),
            ("tls::key_file", self.key_file.is_some()),
            ("tls::server_name_override", self.server_name_override.is_some()),
            ("tls::min_version", self.min_version.is_some()),
        ];
        unsupported
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(f, _)| FieldError::new(f, "not supported yet (custom CAs and client certificates come with the TLS work); system roots are used"))
            .collect()
    }
}

/// `compression_params:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CompressionParams {
    /// gzip/zlib/deflate level 1-9 (default 1: a gateway favours speed); zstd level.
    pub level: Option<i32>,
}
