//! `auth: {authenticator: <extension id>}` on receivers and exporters, and the two
//! capabilities an auth extension can offer: checking incoming requests (server) and
//! adding credentials to outgoing ones (client).

use std::sync::Arc;

use http::HeaderMap;
use serde::Deserialize;

use crate::component::{ComponentId, Extension, FieldError, Host, StartError};
use crate::consumer::{AuthData, RequestContext};

/// `auth:` of a receiver protocol or an exporter.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Id of the auth extension (`bearertokenauth`, `basicauth/clients`, ...).
    pub authenticator: String,
}

impl AuthConfig {
    /// The id must be present and well formed.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        if self.authenticator.is_empty() {
            return vec![FieldError::new(
                format!("{prefix}::authenticator"),
                "the id of an auth extension is required",
            )];
        }
        match ComponentId::parse(&self.authenticator) {
            Ok(_) => Vec::new(),
            Err(e) => vec![FieldError::new(format!("{prefix}::authenticator"), e)],
        }
    }
}

/// Checks the credentials of an incoming request (HTTP headers or gRPC metadata).
pub trait ServerAuthenticator: Send + Sync {
    /// `Err(reason)` refuses the request with 401 / UNAUTHENTICATED; the reason is logged,
    /// the client gets a generic message. `Ok` carries what was learned about the client
    /// (`auth.<attr>` for `from_context`); empty when the scheme establishes nothing.
    fn authenticate(&self, headers: &HeaderMap) -> Result<AuthData, String>;
}

/// Adds credentials or other headers to an outgoing request.
pub trait ClientAuthenticator: Send + Sync {
    /// Sets headers on one request; `cx` holds the incoming request's metadata (for
    /// `headers_setter`'s `from_context`).
    fn apply(&self, cx: &RequestContext, headers: &mut HeaderMap) -> Result<(), String>;
}

/// `who` prefixes messages (`receiver "otlp"`); empty when the caller adds its own prefix.
fn find(
    host: &Host,
    who: &str,
    id: &str,
    side: &str,
    has: fn(&dyn Extension) -> bool,
) -> Result<Arc<dyn Extension>, StartError> {
    let at = if who.is_empty() { String::new() } else { format!("{who}: ") };
    let parsed = ComponentId::parse(id).map_err(|e| StartError::new(format!("{at}auth::authenticator: {e}")))?;
    let ext = host.extension(&parsed).ok_or_else(|| {
        StartError::new(format!(
            "{at}auth::authenticator \"{id}\" is not a configured extension (define it under extensions: and list it in service::extensions)"
        ))
    })?;
    if !has(ext.as_ref()) {
        return Err(StartError::new(format!("{at}extension \"{id}\" cannot authenticate {side}")));
    }
    Ok(ext.clone())
}

/// A receiver's authenticator, resolved at start.
#[derive(Clone)]
pub struct ServerAuth(Arc<dyn Extension>);

impl ServerAuth {
    /// Looks up `cfg.authenticator`; it must be a server authenticator.
    pub fn resolve(host: &Host, who: &str, cfg: &AuthConfig) -> Result<ServerAuth, StartError> {
        find(host, who, &cfg.authenticator, "incoming requests", |e| e.server_authenticator().is_some()).map(ServerAuth)
    }

    /// Checks one request.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<AuthData, String> {
        match self.0.server_authenticator() {
            Some(a) => a.authenticate(headers),
            None => Err("authenticator unavailable".into()),
        }
    }
}

/// An exporter's authenticator, resolved at start.
#[derive(Clone)]
pub struct ClientAuth(Arc<dyn Extension>);

impl ClientAuth {
    /// Looks up `cfg.authenticator`; it must be a client authenticator.
    pub fn resolve(host: &Host, who: &str, cfg: &AuthConfig) -> Result<ClientAuth, StartError> {
        find(host, who, &cfg.authenticator, "outgoing requests", |e| e.client_authenticator().is_some()).map(ClientAuth)
    }

    /// Adds its headers to one request.
    pub fn apply(&self, cx: &RequestContext, headers: &mut HeaderMap) -> Result<(), String> {
        match self.0.client_authenticator() {
            Some(a) => a.apply(cx, headers),
            None => Err("authenticator unavailable".into()),
        }
    }
}
