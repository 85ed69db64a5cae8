//! The `basicauth` extension: HTTP Basic credentials checked against an htpasswd list on
//! receivers (server mode) or sent by exporters (client mode); one instance is one or the
//! other, as in the Collector.
//!
//! htpasswd entries may be bcrypt (`$2y$…`, what `htpasswd -B` writes), `{SHA}`, `{SSHA}`
//! or plain text (the Collector's README example uses plain `user:password` inline);
//! Apache MD5 (`$apr1$`) is refused at start with a clear message. A bcrypt check costs
//! tens of milliseconds, so a successful check is remembered (by a hash of the header) and
//! the next request with the same header costs a lookup.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use base64::Engine;
use futures::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
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
pub const TYPE: &str = "basicauth";

/// `htpasswd:` (server mode).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HtpasswdConfig {
    /// An htpasswd file; re-read when it changes.
    pub file: Option<PathBuf>,
    /// htpasswd lines inline; they win over the file for the same user.
    pub inline: Option<String>,
}

/// `client_auth:` (client mode).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientAuthSettings {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// File holding the user name; wins over `username`.
    pub username_file: Option<PathBuf>,
    /// File holding the password; wins over `password`.
    pub password_file: Option<PathBuf>,
}

/// `extensions: basicauth:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasicAuthConfig {
    /// Server mode.
    pub htpasswd: Option<HtpasswdConfig>,
    /// Client mode.
    pub client_auth: Option<ClientAuthSettings>,
}

impl ComponentConfig for BasicAuthConfig {
    fn validate(&self) -> Vec<FieldError> {
        match (&self.htpasswd, &self.client_auth) {
            (None, None) => vec![FieldError::new("htpasswd", "set htpasswd or client_auth")],
            (Some(_), Some(_)) => vec![FieldError::new(
                "client_auth",
                "an instance is either a server (htpasswd) or a client (client_auth), not both",
            )],
            (Some(h), None) if h.file.is_none() && h.inline.is_none() => {
                vec![FieldError::new("htpasswd", "set htpasswd.file or htpasswd.inline")]
            }
            _ => Vec::new(),
        }
    }
}

/// One htpasswd password entry.
#[derive(Clone, Debug)]
enum Hash {
    Bcrypt(String),
    Sha1([u8; 20]),
    Ssha { digest: [u8; 20], salt: Vec<u8> },
    Plain(String),
}

impl Hash {
    fn parse(user: &str, stored: &str) -> Result<Hash, String> {
        if stored.starts_with("$2") {
            return Ok(Hash::Bcrypt(stored.to_string()));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        if let Some(rest) = stored.strip_prefix("{SHA}") {
            let raw = b64.decode(rest).map_err(|_| format!("user \"{user}\": bad {{SHA}} hash"))?;
            return raw.try_into().map(Hash::Sha1).map_err(|_| format!("user \"{user}\": bad {{SHA}} hash"));
        }
        if let Some(rest) = stored.strip_prefix("{SSHA}") {
            let raw = b64.decode(rest).map_err(|_| format!("user \"{user}\": bad {{SSHA}} hash"))?;
            if raw.len() < 20 {
                return Err(format!("user \"{user}\": bad {{SSHA}} hash"));
            }
            let (d, salt) = raw.split_at(20);
            let digest: [u8; 20] = d.try_into().map_err(|_| format!("user \"{user}\": bad {{SSHA}} hash"))?;
            return Ok(Hash::Ssha { digest, salt: salt.to_vec() });
        }
        // Any other `$…$` or `{…}` form is a hash we cannot check; taking it as a plain
        // password would let whoever read the file log in by sending the hash itself.
        if stored.starts_with('$') || stored.starts_with('{') {
            return Err(format!(
                "user \"{user}\": unsupported htpasswd hash format (MD5 $apr1$, crypt $1$/$5$/$6$ and others); use bcrypt (htpasswd -B)"
            ));
        }
        Ok(Hash::Plain(stored.to_string()))
    }

    fn matches(&self, password: &str) -> bool {
        use sha1::Digest;
        match self {
            Hash::Bcrypt(h) => bcrypt::verify(password, h).unwrap_or(false),
            Hash::Sha1(d) => constant_time_eq(&sha1::Sha1::digest(password.as_bytes()), d),
            Hash::Ssha { digest, salt } => {
                let mut h = sha1::Sha1::new();
                h.update(password.as_bytes());
                h.update(salt);
                constant_time_eq(&h.finalize(), digest)
            }
            Hash::Plain(p) => constant_time_eq(p.as_bytes(), password.as_bytes()),
        }
    }
}

/// Parses htpasswd text: `user:hash` per line; blank lines and `#` comments skipped.
fn parse_htpasswd(text: &str, into: &mut HashMap<String, Hash>) -> Result<(), String> {
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (user, stored) = line.split_once(':').ok_or_else(|| format!("line {}: expected user:password", n + 1))?;
        into.insert(user.to_string(), Hash::parse(user, stored)?);
    }
    Ok(())
}

/// Users from the file, then the inline lines (which win).
fn users(file: Option<&[u8]>, inline: Option<&str>) -> Result<HashMap<String, Hash>, String> {
    let mut m = HashMap::new();
    if let Some(f) = file {
        parse_htpasswd(std::str::from_utf8(f).map_err(|_| "htpasswd file is not UTF-8".to_string())?, &mut m)?;
    }
    if let Some(i) = inline {
        parse_htpasswd(i, &mut m)?;
    }
    Ok(m)
}

/// Creates basicauth extensions.
pub struct BasicAuthExtensionFactory;

impl ExtensionFactory for BasicAuthExtensionFactory {
    type Config = BasicAuthConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self) -> Stability {
        Stability::Beta
    }
    fn create(&self, set: Settings, cfg: &BasicAuthConfig) -> Result<Arc<dyn Extension>, BuildError> {
        let inline = cfg.htpasswd.as_ref().and_then(|h| h.inline.as_deref());
        let initial = users(None, inline).map_err(|e| BuildError::new(&set, format!("htpasswd.inline: {e}")))?;
        Ok(Arc::new(BasicAuth {
            who: set.id.to_string(),
            cfg: cfg.clone(),
            users: Arc::new(ArcSwap::from_pointee(Users::new(initial))),
            hasher: RandomState::new(),
            client_header: ArcSwap::from_pointee(None),
            stop: CancellationToken::new(),
        }))
    }
}

/// Remembered successful checks, at most this many (then forgotten all at once).
const VERIFIED_CACHE: usize = 1024;

/// One version of the user list with the checks that passed against it. A reload swaps
/// both at once, so a check that was running during the reload cannot leave a revoked
/// password remembered in the new version.
struct Users {
    hashes: HashMap<String, Hash>,
    /// Hashes of `Authorization` values that passed.
    verified: Mutex<HashSet<u64>>,
}

impl Users {
    fn new(hashes: HashMap<String, Hash>) -> Self {
        Users { hashes, verified: Mutex::new(HashSet::new()) }
    }
}

struct BasicAuth {
    who: String,
    cfg: BasicAuthConfig,
    users: Arc<ArcSwap<Users>>,
    hasher: RandomState,
    client_header: ArcSwap<Option<HeaderValue>>,
    stop: CancellationToken,
}

fn basic_header(user: &str, password: &str) -> Result<HeaderValue, String> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    HeaderValue::try_from(format!("Basic {encoded}")).map_err(|_| "credentials are not a valid header value".into())
}

fn read_trimmed(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

impl Component for BasicAuth {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let fail = |e: String| StartError::new(format!("extension \"{}\": {e}", self.who));
            if let Some(c) = &self.cfg.client_auth {
                let user = match &c.username_file {
                    Some(f) => read_trimmed(f).map_err(fail)?,
                    None => c.username.clone(),
                };
                let password = match &c.password_file {
                    Some(f) => read_trimmed(f).map_err(fail)?,
                    None => c.password.clone(),
                };
                self.client_header.store(Arc::new(Some(basic_header(&user, &password).map_err(fail)?)));
            }
            if let Some(HtpasswdConfig { file: Some(path), inline }) = &self.cfg.htpasswd {
                let content = std::fs::read(path)
                    .map_err(|e| fail(format!("cannot read htpasswd file {}: {e}", path.display())))?;
                self.users.store(Arc::new(Users::new(users(Some(&content), inline.as_deref()).map_err(fail)?)));
                let (target, inline) = (self.users.clone(), inline.clone());
                watch(self.who.clone(), path.clone(), content, self.stop.clone(), move |new| {
                    target.store(Arc::new(Users::new(users(Some(new), inline.as_deref())?)));
                    Ok(())
                });
            }
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.stop.cancel() })
    }
}

impl ServerAuthenticator for BasicAuth {
    /// Establishes `username` and `raw` (the base64 credentials), as the Collector's basicauth.
    fn authenticate(&self, headers: &HeaderMap) -> Result<AuthData, String> {
        let value = headers.get(AUTHORIZATION).ok_or("no Authorization header")?;
        let encoded = value.as_bytes().strip_prefix(b"Basic ").ok_or("Authorization is not Basic")?;
        let decoded =
            base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| "malformed Basic credentials")?;
        let text = String::from_utf8(decoded).map_err(|_| "malformed Basic credentials")?;
        let (user, password) = text.split_once(':').ok_or("malformed Basic credentials")?;
        let data = || {
            AuthData::new(vec![
                ("username".to_string(), user.to_string()),
                ("raw".to_string(), String::from_utf8_lossy(encoded).into_owned()),
            ])
        };
        // The password check (bcrypt) is the cost; base64 decoding is not, so the cache of
        // verified headers still skips what matters.
        let key = self.hasher.hash_one(value.as_bytes());
        let users = self.users.load();
        if users.verified.lock().unwrap_or_else(PoisonError::into_inner).contains(&key) {
            return Ok(data());
        }
        let ok = users.hashes.get(user).is_some_and(|h| h.matches(password));
        if !ok {
            return Err(format!("wrong user name or password (user \"{user}\")"));
        }
        let mut verified = users.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= VERIFIED_CACHE {
            verified.clear();
        }
        verified.insert(key);
        Ok(data())
    }
}

impl ClientAuthenticator for BasicAuth {
    fn apply(&self, _cx: &RequestContext, headers: &mut HeaderMap) -> Result<(), String> {
        match self.client_header.load().as_ref() {
            Some(v) => {
                headers.insert(AUTHORIZATION, v.clone());
                Ok(())
            }
            None => Err("basicauth has no client_auth".into()),
        }
    }
}

impl Extension for BasicAuth {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        self.cfg.htpasswd.is_some().then_some(self as &dyn ServerAuthenticator)
    }
    fn client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        self.cfg.client_auth.is_some().then_some(self as &dyn ClientAuthenticator)
    }
}

#[cfg(test)]
mod tests;
