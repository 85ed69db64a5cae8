//! The `bearertokenauth` extension: `Authorization: Bearer <token>` checked on receivers
//! and set on exporters. Fields and defaults are the Collector's; a token file is re-read
//! when it changes, so a rotated token is accepted (and the old one refused) without a
//! restart.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, Extension, ExtensionFactory, FieldError, Host, Settings, Stability,
    StartError,
};
use switchyard_core::confignet::auth::{ClientAuthenticator, ServerAuthenticator};
use switchyard_core::consumer::{AuthData, RequestContext};
use tokio_util::sync::CancellationToken;

use super::watch::{constant_time_eq, watch};

/// The Collector type string.
pub const TYPE: &str = "bearertokenauth";

/// `extensions: bearertokenauth:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BearerTokenAuthConfig {
    /// Header carrying the token (default `Authorization`).
    pub header: String,
    /// Prefix before the token (default `Bearer`); empty means the bare token.
    pub scheme: String,
    /// One static token.
    pub token: Option<String>,
    /// Several static tokens: a server accepts any; a client sends the first.
    pub tokens: Vec<String>,
    /// File holding the tokens, one per line (first word of each line); wins over `token`.
    pub filename: Option<PathBuf>,
    /// Accepted for compatibility: a missing file fails the start.
    pub retry_on_failure: Option<IgnoredAny>,
    /// Accepted for compatibility.
    pub wait_for_token_file: bool,
}

impl Default for BearerTokenAuthConfig {
    fn default() -> Self {
        BearerTokenAuthConfig {
            header: "Authorization".into(),
            scheme: "Bearer".into(),
            token: None,
            tokens: Vec::new(),
            filename: None,
            retry_on_failure: None,
            wait_for_token_file: false,
        }
    }
}

impl ComponentConfig for BearerTokenAuthConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let has_token = self.token.as_deref().is_some_and(|t| !t.is_empty());
        if !has_token && self.tokens.is_empty() && self.filename.is_none() {
            e.push(FieldError::new("token", "one of token, tokens or filename is required"));
        }
        // `${env:UNSET}` expands to "": an empty token would let an empty credential in.
        if self.tokens.iter().any(|t| t.trim().is_empty()) {
            e.push(FieldError::new("tokens", "tokens must not be empty (is an environment variable unset?)"));
        }
        if HeaderName::try_from(self.header.as_str()).is_err() {
            e.push(FieldError::new("header", format!("\"{}\" is not a valid header name", self.header)));
        }
        e
    }
}

/// Creates bearertokenauth extensions.
pub struct BearerTokenAuthExtensionFactory;

impl ExtensionFactory for BearerTokenAuthExtensionFactory {
    type Config = BearerTokenAuthConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self) -> Stability {
        Stability::Beta
    }
    fn create(&self, set: Settings, cfg: &BearerTokenAuthConfig) -> Result<Arc<dyn Extension>, BuildError> {
        let header = HeaderName::try_from(cfg.header.as_str()).map_err(|e| BuildError::new(&set, e.to_string()))?;
        let mut initial: Vec<String> = cfg.tokens.clone();
        if let Some(t) = cfg.token.as_ref().filter(|t| !t.is_empty()) {
            initial.insert(0, t.clone());
        }
        Ok(Arc::new(BearerTokenAuth {
            who: set.id.to_string(),
            cfg: cfg.clone(),
            header,
            tokens: Arc::new(ArcSwap::from_pointee(initial)),
            stop: CancellationToken::new(),
        }))
    }
}

/// Tokens of a token file: the first word of each non-empty line.
pub fn parse_token_file(content: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(content).map_err(|_| "token file is not UTF-8".to_string())?;
    let tokens: Vec<String> = text.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
    if tokens.is_empty() {
        return Err("token file holds no token".into());
    }
    Ok(tokens)
}

struct BearerTokenAuth {
    who: String,
    cfg: BearerTokenAuthConfig,
    header: HeaderName,
    /// Shared with the file watcher.
    tokens: Arc<ArcSwap<Vec<String>>>,
    stop: CancellationToken,
}

impl BearerTokenAuth {
    fn expected_prefix(&self) -> String {
        if self.cfg.scheme.is_empty() {
            String::new()
        } else {
            format!("{} ", self.cfg.scheme)
        }
    }
}

impl Component for BearerTokenAuth {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let Some(path) = &self.cfg.filename else { return Ok(()) };
            let content = std::fs::read(path).map_err(|e| {
                StartError::new(format!("extension \"{}\": cannot read token file {}: {e}", self.who, path.display()))
            })?;
            let tokens = parse_token_file(&content)
                .map_err(|e| StartError::new(format!("extension \"{}\": {}: {e}", self.who, path.display())))?;
            self.tokens.store(Arc::new(tokens));
            let target = self.tokens.clone();
            watch(self.who.clone(), path.clone(), content, self.stop.clone(), move |new| {
                target.store(Arc::new(parse_token_file(new)?));
                Ok(())
            });
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.stop.cancel() })
    }
}

impl ServerAuthenticator for BearerTokenAuth {
    /// A bearer token names nobody: nothing is established beyond "allowed" (as the Collector's).
    fn authenticate(&self, headers: &HeaderMap) -> Result<AuthData, String> {
        let Some(value) = headers.get(&self.header) else {
            return Err(format!("no {} header", self.header));
        };
        let prefix = self.expected_prefix();
        let Some(token) = value.as_bytes().strip_prefix(prefix.as_bytes()) else {
            return Err(format!("{} header does not start with \"{prefix}\"", self.header));
        };
        if token.trim_ascii().is_empty() {
            return Err("empty token".into());
        }
        let tokens = self.tokens.load();
        if tokens.iter().any(|t| !t.is_empty() && constant_time_eq(t.as_bytes(), token)) {
            Ok(AuthData::default())
        } else {
            Err("token not accepted".into())
        }
    }
}

impl ClientAuthenticator for BearerTokenAuth {
    fn apply(&self, _cx: &RequestContext, headers: &mut HeaderMap) -> Result<(), String> {
        let tokens = self.tokens.load();
        let token = tokens.first().ok_or("no token")?;
        let value = HeaderValue::try_from(format!("{}{token}", self.expected_prefix()))
            .map_err(|_| "token is not a valid header value".to_string())?;
        headers.insert(self.header.clone(), value);
        Ok(())
    }
}

impl Extension for BearerTokenAuth {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        Some(self)
    }
    fn client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        Some(self)
    }
}

#[cfg(test)]
mod tests;
