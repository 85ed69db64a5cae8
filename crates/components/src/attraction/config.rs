//! One action as written in `actions:` (attributes processor) or `attributes:` (resource
//! processor): the Collector's `attraction.ActionKeyValue`, same keys.

use serde::Deserialize;

/// An action on one attribute (or on the keys a `pattern` matches).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ActionKeyValue {
    /// The attribute acted on (delete/hash may use `pattern` instead).
    pub key: String,
    /// `insert`, `update`, `upsert`, `delete`, `hash`, `extract` or `convert`, any case.
    pub action: String,
    /// The value to write (insert/update/upsert); its YAML type is kept (string, int,
    /// double, bool, list, map).
    pub value: Option<serde_json::Value>,
    /// Copy the value of this attribute of the same item (insert/update/upsert).
    pub from_attribute: String,
    /// Take the value from the request: `metadata.<key>`, `auth.<attr>`, `client.address`;
    /// any other key is looked up in the metadata (insert/update/upsert).
    pub from_context: String,
    /// Written when the chosen source has nothing (insert/update/upsert; newer Collectors).
    pub default_value: Option<serde_json::Value>,
    /// A regex over attribute keys (delete/hash) or over the value (extract).
    pub pattern: String,
    /// `int`, `double` or `string` (convert).
    pub converted_type: String,
}
