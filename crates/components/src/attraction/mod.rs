//! The attribute action engine shared by the `attributes` and `resource` processors (the
//! Collector's `internal/coreinternal/attraction`): `insert`, `update`, `upsert`, `delete`,
//! `hash`, `extract`, `convert` over one attribute list, in the configured order.
//!
//! Actions are compiled once at load ([`AttrProc::new`]): values written by `value` are
//! built once and cloned per write, patterns are compiled, the request-context keys are
//! parsed. Per request, the `from_context` values are read once ([`AttrProc::context`]);
//! per item, [`AttrProc::apply`] allocates only what it writes (the value, and the key of
//! an attribute it adds). Duplicate keys follow `switchyard_pdata::attrs` (the first entry
//! is the attribute).

mod apply;
mod compile;
pub mod config;
#[cfg(test)]
mod tests;

pub use config::ActionKeyValue;

use regex::Regex;
use switchyard_core::consumer::RequestContext;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue};

/// Compiled actions, ready to run on any number of attribute lists.
#[derive(Debug)]
pub struct AttrProc {
    actions: Vec<Action>,
    /// Whether some action reads the request context (else [`AttrProc::context`] is free).
    uses_context: bool,
}

/// One compiled action.
#[derive(Debug)]
enum Action {
    Insert {
        key: String,
        source: Source,
    },
    Update {
        key: String,
        source: Source,
    },
    Upsert {
        key: String,
        source: Source,
    },
    Delete {
        key: Option<String>,
        pattern: Option<Regex>,
    },
    Hash {
        key: Option<String>,
        pattern: Option<Regex>,
    },
    /// `names[i]` is the name of group `i + 1`; `overwrites_source` when a group is named
    /// like the source key.
    Extract {
        key: String,
        regex: Regex,
        names: Vec<String>,
        overwrites_source: bool,
    },
    Convert {
        key: String,
        to: ConvertTo,
    },
}

impl Action {
    fn source(&self) -> Option<&Source> {
        match self {
            Action::Insert { source, .. } | Action::Update { source, .. } | Action::Upsert { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}

/// Where insert/update/upsert take their value, and the fallback.
#[derive(Debug)]
struct Source {
    kind: SourceKind,
    default: Option<AnyValue>,
}

#[derive(Debug)]
enum SourceKind {
    /// `value`: built once, cloned per write.
    Value(AnyValue),
    /// `from_attribute`.
    Attribute(String),
    /// `from_context`.
    Context(ContextKey),
    /// Only `default_value`.
    Nothing,
}

/// A `from_context` key, parsed at load.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ContextKey {
    /// `metadata.<key>`, or any key without a known prefix (looked up as metadata).
    Metadata(String),
    /// `auth.<attr>`: an attribute set by the receiver's server authenticator.
    Auth(String),
    /// `client.address`: the peer's IP.
    ClientAddress,
}

impl ContextKey {
    fn parse(key: &str) -> ContextKey {
        if key == "client.address" {
            ContextKey::ClientAddress
        } else if let Some(k) = key.strip_prefix("metadata.") {
            ContextKey::Metadata(k.to_string())
        } else if let Some(k) = key.strip_prefix("auth.") {
            ContextKey::Auth(k.to_string())
        } else {
            ContextKey::Metadata(key.to_string())
        }
    }

    /// The value in `cx`, as the Collector reads `client.Info`: metadata values joined by
    /// `;`; an address without its port (and `""` when the receiver gave none, as
    /// `clientutil.Address` does).
    fn resolve(&self, cx: &RequestContext) -> Option<AnyValue> {
        let text = match self {
            ContextKey::ClientAddress => cx.client_addr.map(|a| a.ip().to_string()).unwrap_or_default(),
            ContextKey::Metadata(k) => {
                let values = cx.metadata_values(k);
                if values.is_empty() {
                    return None;
                }
                values.join(";")
            }
            ContextKey::Auth(k) => cx.auth.as_ref()?.get(k)?.to_string(),
        };
        Some(AnyValue { value: Some(any_value::Value::StringValue(text)) })
    }
}

/// `convert`'s target type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConvertTo {
    Int,
    Double,
    String,
}

/// The `from_context` values of one request, one slot per action (empty when no action
/// reads the context).
#[derive(Debug, Default)]
pub struct ContextValues(Vec<Option<AnyValue>>);

impl AttrProc {
    /// Reads the request-context values the actions need, once per request.
    pub fn context(&self, cx: &RequestContext) -> ContextValues {
        if !self.uses_context {
            return ContextValues::default();
        }
        ContextValues(
            self.actions
                .iter()
                .map(|a| match a.source().map(|s| &s.kind) {
                    Some(SourceKind::Context(k)) => k.resolve(cx),
                    _ => None,
                })
                .collect(),
        )
    }

    /// How many actions there are.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}
