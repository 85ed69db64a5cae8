//! The `headers_setter` extension: sets headers on exporters' outgoing requests, from a
//! static value or from the incoming request's metadata (e.g. propagate `X-Tenant-ID` from
//! the client to the backend). Used as an exporter's `auth: {authenticator: headers_setter}`.
//!
//! `from_context` reads the metadata the receiver kept, so the receiver needs
//! `include_metadata: true`; with a batch processor in between, list the key in its
//! `metadata_keys` so that batches never mix tenants (as in the Collector).

use std::any::Any;
use std::sync::Arc;

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, Extension, ExtensionFactory, FieldError, Host, Settings, Stability,
    StartError,
};
use switchyard_core::confignet::auth::ClientAuthenticator;
use switchyard_core::consumer::RequestContext;

/// The Collector type string.
pub const TYPE: &str = "headers_setter";

/// What to do with one header.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Set only if the request has no such header.
    Insert,
    /// Set only if the request has the header already.
    Update,
    /// Set in any case (default).
    #[default]
    Upsert,
    /// Remove the header.
    Delete,
}

/// One entry of `headers:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeaderRule {
    /// Header name.
    pub key: String,
    /// `insert`, `update`, `upsert` (default) or `delete`.
    pub action: Action,
    /// A fixed value.
    pub value: Option<String>,
    /// The incoming metadata key to copy the value from.
    pub from_context: Option<String>,
    /// Used when `from_context` finds nothing.
    pub default_value: Option<String>,
}

/// `extensions: headers_setter:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadersSetterConfig {
    /// The rules, applied in order.
    pub headers: Vec<HeaderRule>,
}

impl ComponentConfig for HeadersSetterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        for (i, h) in self.headers.iter().enumerate() {
            let at = |f: &str| format!("headers::{i}::{f}");
            if h.key.is_empty() || HeaderName::try_from(h.key.as_str()).is_err() {
                e.push(FieldError::new(at("key"), format!("\"{}\" is not a valid header name", h.key)));
            }
            if h.action != Action::Delete {
                match (&h.value, &h.from_context) {
                    (None, None) => e.push(FieldError::new(at("value"), "set value or from_context")),
                    (Some(_), Some(_)) => {
                        e.push(FieldError::new(at("from_context"), "set value or from_context, not both"))
                    }
                    _ => {}
                }
            }
            for v in [&h.value, &h.default_value].into_iter().flatten() {
                if HeaderValue::try_from(v.as_str()).is_err() {
                    e.push(FieldError::new(at("value"), "not a valid header value"));
                }
            }
        }
        e
    }
}

/// Creates headers_setter extensions.
pub struct HeadersSetterExtensionFactory;

impl ExtensionFactory for HeadersSetterExtensionFactory {
    type Config = HeadersSetterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self) -> Stability {
        Stability::Alpha
    }
    fn create(&self, set: Settings, cfg: &HeadersSetterConfig) -> Result<Arc<dyn Extension>, BuildError> {
        let mut rules = Vec::new();
        for h in &cfg.headers {
            let name = HeaderName::try_from(h.key.as_str()).map_err(|e| BuildError::new(&set, e.to_string()))?;
            let value = |v: &Option<String>| {
                v.as_deref().map(HeaderValue::try_from).transpose().map_err(|e| BuildError::new(&set, e.to_string()))
            };
            rules.push(Rule {
                name,
                action: h.action,
                value: value(&h.value)?,
                from_context: h.from_context.as_deref().map(str::to_ascii_lowercase),
                default_value: value(&h.default_value)?,
            });
        }
        Ok(Arc::new(HeadersSetter { rules }))
    }
}

struct Rule {
    name: HeaderName,
    action: Action,
    value: Option<HeaderValue>,
    from_context: Option<String>,
    default_value: Option<HeaderValue>,
}

struct HeadersSetter {
    rules: Vec<Rule>,
}

impl Component for HeadersSetter {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

impl ClientAuthenticator for HeadersSetter {
    fn apply(&self, cx: &RequestContext, headers: &mut HeaderMap) -> Result<(), String> {
        for r in &self.rules {
            if r.action == Action::Delete {
                headers.remove(&r.name);
                continue;
            }
            let from_cx = r.from_context.as_deref().and_then(|k| cx.metadata.as_ref()?.get(k)).cloned();
            let Some(v) = r.value.clone().or(from_cx).or_else(|| r.default_value.clone()) else { continue };
            let present = headers.contains_key(&r.name);
            match r.action {
                Action::Insert if present => {}
                Action::Update if !present => {}
                _ => {
                    headers.insert(r.name.clone(), v);
                }
            }
        }
        Ok(())
    }
}

impl Extension for HeadersSetter {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(key: &str, action: Action, value: Option<&str>, from: Option<&str>, default: Option<&str>) -> HeaderRule {
        HeaderRule {
            key: key.into(),
            action,
            value: value.map(Into::into),
            from_context: from.map(Into::into),
            default_value: default.map(Into::into),
        }
    }

    #[test]
    fn rules_copy_from_context_and_follow_their_action() {
        let cfg = HeadersSetterConfig {
            headers: vec![
                rule("X-Scope-OrgID", Action::Upsert, None, Some("X-Tenant-ID"), Some("anonymous")),
                rule("X-Static", Action::Insert, Some("s"), None, None),
                rule("X-Existing", Action::Update, Some("new"), None, None),
                rule("X-Missing", Action::Update, Some("never"), None, None),
                rule("X-Drop", Action::Delete, None, None, None),
            ],
        };
        assert!(cfg.validate().is_empty());
        let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Extension, TYPE);
        let e = HeadersSetterExtensionFactory.create(set, &cfg).expect("created");
        let a = e.client_authenticator().expect("client side");
        let mut incoming = HeaderMap::new();
        incoming.insert("x-tenant-id", HeaderValue::from_static("acme"));
        let cx = RequestContext::with_metadata(Some(Arc::new(incoming)));
        let mut out = HeaderMap::new();
        out.insert("x-existing", HeaderValue::from_static("old"));
        out.insert("x-drop", HeaderValue::from_static("x"));
        a.apply(&cx, &mut out).expect("applied");
        assert_eq!(out.get("x-scope-orgid").and_then(|v| v.to_str().ok()), Some("acme"));
        assert_eq!(out.get("x-static").and_then(|v| v.to_str().ok()), Some("s"));
        assert_eq!(out.get("x-existing").and_then(|v| v.to_str().ok()), Some("new"));
        assert!(out.get("x-missing").is_none());
        assert!(out.get("x-drop").is_none());
        let mut out = HeaderMap::new();
        a.apply(&RequestContext::default(), &mut out).expect("applied");
        assert_eq!(out.get("x-scope-orgid").and_then(|v| v.to_str().ok()), Some("anonymous"), "default_value");
    }

    #[test]
    fn a_rule_needs_a_value_source() {
        let cfg = HeadersSetterConfig { headers: vec![rule("X-A", Action::Upsert, None, None, None)] };
        let fields: Vec<String> = cfg.validate().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, vec!["headers::0::value".to_string()]);
    }
}
