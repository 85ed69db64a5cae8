//! The stanza entry (one log record on its way through the operators) and field paths
//! (`body`, `body.x`, `attributes["x"]`, `resource["k8s.pod.name"]`), with the Collector's
//! stanza semantics: a path names a place in the body, the attributes or the resource,
//! and operators read, write and delete there.

use serde_json::{Map, Value};

/// One log record as stanza operators see it; turned into an OTLP log record at the end.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// The body: a string as read, a map once parsed.
    pub body: Value,
    /// Record attributes.
    pub attributes: Map<String, Value>,
    /// Resource attributes (entries with different resources go to different resource logs).
    pub resource: Map<String, Value>,
    /// Time of the event (nanoseconds since the epoch), once a timestamp parser found it.
    pub timestamp: Option<u64>,
    /// When the receiver read the record (nanoseconds since the epoch).
    pub observed_timestamp: u64,
    /// OTLP severity number (0 = unspecified).
    pub severity: i32,
    /// The severity as written in the log.
    pub severity_text: String,
    /// Trace id (16 bytes) or empty.
    pub trace_id: Vec<u8>,
    /// Span id (8 bytes) or empty.
    pub span_id: Vec<u8>,
    /// W3C trace flags.
    pub trace_flags: u32,
    /// Instrumentation scope name (`scope_name` parser).
    pub scope_name: String,
}

impl Entry {
    /// An entry whose body is `body`, observed at `observed` (nanoseconds).
    pub fn new(body: Value, observed: u64) -> Entry {
        Entry { body, observed_timestamp: observed, ..Entry::default() }
    }
}

/// Which part of the entry a field lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    /// `body`.
    Body,
    /// `attributes`.
    Attributes,
    /// `resource`.
    Resource,
}

/// A field path: a root and zero or more keys below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The part of the entry.
    pub root: Root,
    /// Keys below the root (for attributes and resource, the first is the attribute name).
    pub keys: Vec<String>,
}

/// Why a field path could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid field {path:?}: {why}")]
pub struct FieldParseError {
    path: String,
    why: &'static str,
}

impl Field {
    /// The body itself.
    pub fn body() -> Field {
        Field { root: Root::Body, keys: Vec::new() }
    }

    /// An attribute by name.
    pub fn attribute(name: &str) -> Field {
        Field { root: Root::Attributes, keys: vec![name.to_string()] }
    }

    /// Parses stanza field syntax: `body`, `body.a.b`, `attributes["x.y"]`, `attributes.x`,
    /// `resource["k"]["sub"]`; a leading `$` (the old syntax) is accepted.
    pub fn parse(s: &str) -> Result<Field, FieldParseError> {
        let err = |why| FieldParseError { path: s.to_string(), why };
        let t = s.trim();
        let t = t.strip_prefix('$').unwrap_or(t);
        let end = t.find(['.', '[']).unwrap_or(t.len());
        let root = match &t[..end] {
            "body" | "record" => Root::Body,
            "attributes" => Root::Attributes,
            "resource" => Root::Resource,
            _ => return Err(err("must start with body, attributes or resource")),
        };
        let mut keys = Vec::new();
        let mut rest = &t[end..];
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let e = r.find(['.', '[']).unwrap_or(r.len());
                if e == 0 {
                    return Err(err("empty key after '.'"));
                }
                keys.push(r[..e].to_string());
                rest = &r[e..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let q = r.chars().next().ok_or_else(|| err("unclosed '['"))?;
                if q != '"' && q != '\'' {
                    return Err(err("a bracketed key must be quoted"));
                }
                let close = r[1..].find(q).ok_or_else(|| err("unclosed quote"))? + 1;
                keys.push(r[1..close].to_string());
                rest = r[close + 1..].strip_prefix(']').ok_or_else(|| err("missing ']'"))?;
            } else {
                return Err(err("unexpected character"));
            }
        }
        Ok(Field { root, keys })
    }

    /// The value at this field, if present.
    pub fn get<'a>(&self, e: &'a Entry) -> Option<&'a Value> {
        let (first, rest) = match self.root {
            Root::Body => return walk(&e.body, &self.keys),
            Root::Attributes => (e.attributes.get(self.keys.first()?)?, &self.keys[1..]),
            Root::Resource => (e.resource.get(self.keys.first()?)?, &self.keys[1..]),
        };
        walk(first, rest)
    }

    /// The value at this field as an owned value; a whole attributes or resource map too.
    pub fn get_owned(&self, e: &Entry) -> Option<Value> {
        if self.keys.is_empty() {
            return match self.root {
                Root::Body => Some(e.body.clone()),
                Root::Attributes => Some(Value::Object(e.attributes.clone())),
                Root::Resource => Some(Value::Object(e.resource.clone())),
            };
        }
        self.get(e).cloned()
    }

    /// Writes `v` here, creating maps on the way (a non-map on the way is replaced).
    /// Writing a map to the attributes or resource root replaces them; any other value
    /// there is refused (returns false).
    pub fn set(&self, e: &mut Entry, v: Value) -> bool {
        let map = match self.root {
            Root::Body => {
                set_in(&mut e.body, &self.keys, v);
                return true;
            }
            Root::Attributes => &mut e.attributes,
            Root::Resource => &mut e.resource,
        };
        let Some((first, rest)) = self.keys.split_first() else {
            return match v {
                Value::Object(m) => {
                    *map = m;
                    true
                }
                _ => false,
            };
        };
        let slot = map.entry(first.clone()).or_insert(Value::Null);
        set_in(slot, rest, v);
        true
    }

    /// Like [`Field::set`], but a map written into the attributes or the resource is merged
    /// into the map already there (stanza's rule, so a parser's `parse_to: attributes`
    /// keeps `log.file.name`).
    pub fn set_merge(&self, e: &mut Entry, v: Value) -> bool {
        let new = match v {
            Value::Object(m) => m,
            other => return self.set(e, other),
        };
        if self.root == Root::Body {
            return self.set(e, Value::Object(new));
        }
        let target = match self.root {
            Root::Attributes => &mut e.attributes,
            _ => &mut e.resource,
        };
        let mut slot: &mut Map<String, Value> = target;
        for k in &self.keys {
            let child = slot.entry(k.clone()).or_insert(Value::Null);
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            let Value::Object(m) = child else { return false };
            slot = m;
        }
        slot.extend(new);
        true
    }

    /// Removes and returns the value here.
    pub fn delete(&self, e: &mut Entry) -> Option<Value> {
        let map = match self.root {
            Root::Body => {
                let Some((last, parents)) = self.keys.split_last() else {
                    return Some(std::mem::take(&mut e.body));
                };
                return walk_mut(&mut e.body, parents)?.as_object_mut()?.remove(last);
            }
            Root::Attributes => &mut e.attributes,
            Root::Resource => &mut e.resource,
        };
        match self.keys.split_first() {
            None => Some(Value::Object(std::mem::take(map))),
            Some((first, [])) => map.remove(first),
            Some((first, rest)) => {
                let (last, parents) = rest.split_last()?;
                walk_mut(map.get_mut(first)?, parents)?.as_object_mut()?.remove(last)
            }
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.root {
            Root::Body => "body",
            Root::Attributes => "attributes",
            Root::Resource => "resource",
        })?;
        for k in &self.keys {
            write!(f, "[{k:?}]")?;
        }
        Ok(())
    }
}

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        let s = String::deserialize(d)?;
        Field::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn walk<'a>(mut v: &'a Value, keys: &[String]) -> Option<&'a Value> {
    for k in keys {
        v = v.as_object()?.get(k)?;
    }
    Some(v)
}

fn walk_mut<'a>(mut v: &'a mut Value, keys: &[String]) -> Option<&'a mut Value> {
    for k in keys {
        v = v.as_object_mut()?.get_mut(k)?;
    }
    Some(v)
}

fn set_in(mut slot: &mut Value, keys: &[String], v: Value) {
    for k in keys {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(m) = slot else { return };
        slot = m.entry(k.clone()).or_insert(Value::Null);
    }
    *slot = v;
}

/// The string form of a value as stanza parsers read their input: strings as they are,
/// other scalars printed, maps and arrays as JSON.
pub fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_syntax_the_configs_use() {
        assert_eq!(Field::parse("body").unwrap(), Field::body());
        assert_eq!(Field::parse("attributes.log").unwrap(), Field::attribute("log"));
        assert_eq!(Field::parse("attributes[\"log.file.path\"]").unwrap(), Field::attribute("log.file.path"));
        let f = Field::parse("attributes[\"parsed_body_tmp\"][\"resource\"]").unwrap();
        assert_eq!(f.keys, vec!["parsed_body_tmp", "resource"]);
        let f = Field::parse("resource['k8s.pod.name']").unwrap();
        assert_eq!((f.root, f.keys), (Root::Resource, vec!["k8s.pod.name".to_string()]));
        assert_eq!(Field::parse("body.a.b").unwrap().keys, vec!["a", "b"]);
        assert!(Field::parse("attrs.x").is_err());
        assert!(Field::parse("attributes[x]").is_err());
    }

    #[test]
    fn set_get_delete_nested() {
        let mut e = Entry::new(json!("line"), 1);
        let f = Field::parse("body.a.b").unwrap();
        assert!(f.set(&mut e, json!(1)));
        assert_eq!(e.body, json!({"a": {"b": 1}}));
        assert_eq!(f.get(&e), Some(&json!(1)));
        assert_eq!(f.delete(&mut e), Some(json!(1)));
        assert_eq!(e.body, json!({"a": {}}));
        let r = Field::parse("resource[\"x\"][\"y\"]").unwrap();
        r.set(&mut e, json!("v"));
        assert_eq!(Field::parse("resource.x").unwrap().get(&e), Some(&json!({"y": "v"})));
        assert_eq!(r.delete(&mut e), Some(json!("v")));
        assert!(!Field::parse("attributes").unwrap().set(&mut e, json!("s")));
    }
}
