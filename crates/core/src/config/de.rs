//! A serde `Deserializer` over the located YAML tree.
//!
//! Config structs are plain `#[derive(Deserialize)]` with `#[serde(default, deny_unknown_fields)]`;
//! this deserializer types scalars on demand (YAML core schema), accepts any scalar where a
//! string is wanted (`0123` stays `"0123"`), and turns every error into a [`ConfigError`]
//! with the location of the innermost node and its key path, plus a did-you-mean for
//! unknown fields and variants.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::diagnostics::{suggestion, ConfigError};
use super::document::{Location, Node, Value};

/// Decodes `node` into `T`; `path` prefixes the key path in errors.
pub fn from_node<T: DeserializeOwned>(node: &Node, path: &str) -> Result<T, ConfigError> {
    T::deserialize(NodeDe { node, path: path.to_string() }).map_err(|e| ConfigError {
        loc: Some(e.loc.unwrap_or_else(|| node.loc.clone())),
        path: e.path.unwrap_or_else(|| path.to_string()),
        message: e.message,
    })
}

/// The deserializer's error: a message, and where it happened once known.
#[derive(Debug)]
pub struct DeError {
    message: String,
    loc: Option<Location>,
    path: Option<String>,
}

impl DeError {
    fn locate(mut self, loc: &Location, path: &str) -> Self {
        if self.loc.is_none() {
            self.loc = Some(loc.clone());
            self.path = Some(path.to_string());
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError { message: msg.to_string(), loc: None, path: None }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        if expected.is_empty() {
            return de::Error::custom(format_args!("unknown field \"{field}\": this component takes no settings"));
        }
        let hint = suggestion(field, expected.iter().copied());
        let list = expected.join(", ");
        de::Error::custom(format_args!("unknown field \"{field}\"{hint} (valid fields: {list})"))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = exp.to_string();
        let hint = if expected.contains("duration") { " (a duration needs a unit: 5s, 200ms, 1m30s)" } else { "" };
        de::Error::custom(format_args!("invalid value: {unexp}, expected {expected}{hint}"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let hint = suggestion(variant, expected.iter().copied());
        let list = expected.join(", ");
        de::Error::custom(format_args!("unknown value \"{variant}\"{hint} (valid values: {list})"))
    }
}

struct NodeDe<'a> {
    node: &'a Node,
    path: String,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node, key: &str) -> NodeDe<'a> {
        let path = if self.path.is_empty() { key.to_string() } else { format!("{}::{key}", self.path) };
        NodeDe { node, path }
    }

    fn err(&self, msg: impl fmt::Display) -> DeError {
        DeError { message: msg.to_string(), loc: Some(self.node.loc.clone()), path: Some(self.path.clone()) }
    }

    fn scalar(&self) -> Result<&'a str, DeError> {
        match &self.node.value {
            Value::Scalar { text, .. } => Ok(text),
            _ => Err(self.err(format_args!("expected a scalar value, found {}", self.node.kind_name()))),
        }
    }

    fn parse_num<T: std::str::FromStr>(&self, what: &str) -> Result<T, DeError> {
        let text = self.scalar()?;
        let cleaned = text.replace('_', "");
        cleaned.parse::<T>().map_err(|_| self.err(format_args!("invalid value \"{text}\": expected {what}")))
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

macro_rules! de_int {
    ($method:ident, $visit:ident, $ty:ty, $what:expr) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v: $ty = self.parse_num($what)?;
            visitor.$visit(v)
        }
    };
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Scalar { text, plain: false } => visitor.visit_str(text),
            Value::Scalar { text, plain: true } => {
                if let Some(b) = parse_bool(text) {
                    visitor.visit_bool(b)
                } else if let Ok(i) = text.parse::<i64>() {
                    visitor.visit_i64(i)
                } else if let Ok(u) = text.parse::<u64>() {
                    visitor.visit_u64(u)
                } else if text.chars().any(|c| c.is_ascii_digit()) && !text.contains(':') {
                    match text.parse::<f64>() {
                        Ok(f) => visitor.visit_f64(f),
                        Err(_) => visitor.visit_str(text),
                    }
                } else {
                    visitor.visit_str(text)
                }
            }
            Value::Seq(_) => self.deserialize_seq(visitor),
            Value::Map(_) => self.deserialize_map(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.scalar()?;
        match parse_bool(text) {
            Some(b) => visitor.visit_bool(b),
            None => Err(self.err(format_args!("invalid value \"{text}\": expected true or false"))),
        }
    }

    de_int!(deserialize_i8, visit_i8, i8, "an integer");
    de_int!(deserialize_i16, visit_i16, i16, "an integer");
    de_int!(deserialize_i32, visit_i32, i32, "an integer");
    de_int!(deserialize_i64, visit_i64, i64, "an integer");
    de_int!(deserialize_u8, visit_u8, u8, "a non-negative integer");
    de_int!(deserialize_u16, visit_u16, u16, "a non-negative integer (0-65535)");
    de_int!(deserialize_u32, visit_u32, u32, "a non-negative integer");
    de_int!(deserialize_u64, visit_u64, u64, "a non-negative integer");
    de_int!(deserialize_f32, visit_f32, f32, "a number");
    de_int!(deserialize_f64, visit_f64, f64, "a number");

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_str(""),
            _ => visitor.visit_str(self.scalar()?),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_bytes(self.scalar()?.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => visitor.visit_seq(SeqAccess { parent: &self, items: items.iter().enumerate() }),
            Value::Null => visitor.visit_seq(SeqAccess { parent: &self, items: [].iter().enumerate() }),
            _ => Err(self.err(format_args!("expected a sequence, found {}", self.node.kind_name()))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(m) => visitor.visit_map(MapAccess { parent: &self, entries: m.iter(), value: None }),
            Value::Null => visitor.visit_map(MapAccess { parent: &self, entries: Default::default(), value: None }),
            _ => Err(self.err(format_args!("expected a mapping, found {}", self.node.kind_name()))),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar { text, .. } => {
                let loc = self.node.loc.clone();
                let path = self.path.clone();
                visitor.visit_enum(text.as_str().into_deserializer()).map_err(|e: DeError| e.locate(&loc, &path))
            }
            Value::Map(m) if m.len() == 1 => {
                let (key, entry) = m.iter().next().map(|(k, e)| (k.as_str(), e)).ok_or_else(|| self.err("empty"))?;
                visitor.visit_enum(EnumAccess { de: self.child(&entry.node, key), variant: key })
            }
            _ => Err(self.err(format_args!("expected a value name, found {}", self.node.kind_name()))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqAccess<'p, 'a, I> {
    parent: &'p NodeDe<'a>,
    items: I,
}

impl<'de, 'p, 'a, I: Iterator<Item = (usize, &'a Node)>> de::SeqAccess<'de> for SeqAccess<'p, 'a, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => {
                let de = NodeDe { node, path: format!("{}[{i}]", self.parent.path) };
                let (loc, path) = (node.loc.clone(), de.path.clone());
                seed.deserialize(de).map(Some).map_err(|e| e.locate(&loc, &path))
            }
        }
    }
}

struct MapAccess<'p, 'a> {
    parent: &'p NodeDe<'a>,
    entries: indexmap::map::Iter<'a, String, super::document::Entry>,
    value: Option<(&'a str, &'a Node)>,
}

impl<'de, 'p, 'a> de::MapAccess<'de> for MapAccess<'p, 'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some((key, entry)) => {
                self.value = Some((key.as_str(), &entry.node));
                let path = self.parent.child(&entry.node, key).path;
                seed.deserialize(key.as_str().into_deserializer())
                    .map(Some)
                    .map_err(|e: DeError| e.locate(&entry.key_loc, &path))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, node) = self.value.take().ok_or_else(|| de::Error::custom("value without key"))?;
        let de = self.parent.child(node, key);
        let (loc, path) = (node.loc.clone(), de.path.clone());
        seed.deserialize(de).map_err(|e| e.locate(&loc, &path))
    }
}

struct EnumAccess<'a> {
    de: NodeDe<'a>,
    variant: &'a str,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = DeError;
    type Variant = NodeDe<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, NodeDe<'a>), DeError> {
        let (loc, path) = (self.de.node.loc.clone(), self.de.path.clone());
        let v = seed.deserialize(self.variant.into_deserializer()).map_err(|e: DeError| e.locate(&loc, &path))?;
        Ok((v, self.de))
    }
}

impl<'de, 'a> de::VariantAccess<'de> for NodeDe<'a> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde::Deserialize;

    use super::*;
    use crate::config::document::parse;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Client {
        endpoint: String,
        compression: Option<String>,
        #[serde(with = "humantime_serde")]
        timeout: Option<Duration>,
        port: u16,
        insecure: bool,
        headers: BTreeMap<String, String>,
        mode: Mode,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        #[default]
        Basic,
        Detailed,
    }

    fn load(yaml: &str) -> Result<Client, ConfigError> {
        from_node(&parse("c.yaml", yaml).unwrap(), "exporters::otlp")
    }

    #[test]
    fn types_scalars_on_demand() {
        let c = load("endpoint: 0123\ntimeout: 1.5s\nport: 4317\ninsecure: true\nheaders: {x: 1}\nmode: detailed\n")
            .unwrap();
        assert_eq!(c.endpoint, "0123");
        assert_eq!(c.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(c.port, 4317);
        assert!(c.insecure);
        assert_eq!(c.headers["x"], "1");
        assert_eq!(c.mode, Mode::Detailed);
    }

    #[test]
    fn null_body_means_defaults() {
        assert_eq!(load("").unwrap(), Client::default());
    }

    #[test]
    fn unknown_field_has_location_and_suggestion() {
        let e = load("endpoint: x\ncompresion: gzip\n").unwrap_err();
        assert_eq!(e.loc.as_ref().map(|l| (l.line, l.col)), Some((2, 1)));
        assert_eq!(e.path, "exporters::otlp::compresion");
        assert!(e.message.starts_with("unknown field \"compresion\", did you mean \"compression\"?"), "{}", e.message);
    }

    #[test]
    fn bad_values_point_at_the_value() {
        let e = load("endpoint: x\nport: 99999\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.yaml:2:7: exporters::otlp::port: invalid value \"99999\": expected a non-negative integer (0-65535)"
        );
        let e = load("timeout: 10\n").unwrap_err();
        assert_eq!(e.loc.as_ref().map(|l| l.line), Some(1));
        assert!(e.message.contains("unit"), "{}", e.message);
        let e = load("mode: detailled\n").unwrap_err();
        assert!(e.message.contains("did you mean \"detailed\""), "{}", e.message);
    }
}
