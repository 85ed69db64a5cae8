//! Shared helpers of the data-driven OTTL conformance test: typed YAML (the case file's
//! `value_typing` convention), fixtures built as OTLP requests, expectation paths applied
//! to an expected copy, and an attribute-order-insensitive comparison.

pub mod expect;
pub mod fixtures;

use std::path::Path;

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};

/// A YAML node with the case file's typing: quoted scalars are strings, bare integers
/// int64, numbers with a '.' or exponent doubles.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

impl Y {
    pub fn get(&self, key: &str) -> Option<&Y> {
        match self {
            Y::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Y::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn seq(&self) -> &[Y] {
        match self {
            Y::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(String, Y)] {
        match self {
            Y::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Y::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn float(&self) -> Option<f64> {
        match self {
            Y::Float(f) => Some(*f),
            Y::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn bool(&self) -> Option<bool> {
        match self {
            Y::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A string field of a map.
    pub fn s(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Y::str)
    }

    /// An integer field of a map (0 when absent).
    pub fn i(&self, key: &str) -> i64 {
        self.get(key).and_then(Y::int).unwrap_or(0)
    }
}

fn convert(y: &Yaml) -> Y {
    match y {
        Yaml::Value(Scalar::String(s)) => Y::Str(s.to_string()),
        Yaml::Value(Scalar::Boolean(b)) => Y::Bool(*b),
        Yaml::Value(Scalar::Integer(i)) => Y::Int(*i),
        Yaml::Value(Scalar::FloatingPoint(f)) => Y::Float(f.0),
        Yaml::Value(Scalar::Null) => Y::Null,
        Yaml::Sequence(items) => Y::Seq(items.iter().map(convert).collect()),
        Yaml::Mapping(map) => Y::Map(
            map.iter()
                .map(|(k, v)| {
                    let key = match convert(k) {
                        Y::Str(s) => s,
                        Y::Int(i) => i.to_string(),
                        Y::Bool(b) => b.to_string(),
                        other => panic!("unsupported YAML key {other:?}"),
                    };
                    (key, convert(v))
                })
                .collect(),
        ),
        Yaml::Tagged(_, inner) => convert(inner),
        other => panic!("unsupported YAML node {other:?}"),
    }
}

/// Loads the first document of a YAML file.
pub fn load(path: &Path) -> Y {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs = Yaml::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    docs.first().map(convert).unwrap_or(Y::Null)
}

/// A YAML value as an attribute value (`null` is the empty value).
pub fn to_any(y: &Y) -> AnyValue {
    use any_value::Value as V;
    let value = match y {
        Y::Null => None,
        Y::Bool(b) => Some(V::BoolValue(*b)),
        Y::Int(i) => Some(V::IntValue(*i)),
        Y::Float(f) => Some(V::DoubleValue(*f)),
        Y::Str(s) => Some(V::StringValue(s.clone())),
        Y::Seq(items) => Some(V::ArrayValue(ArrayValue { values: items.iter().map(to_any).collect() })),
        Y::Map(_) => Some(V::KvlistValue(KeyValueList { values: to_map(y) })),
    };
    AnyValue { value }
}

/// A YAML mapping as an attribute map.
pub fn to_map(y: &Y) -> Vec<KeyValue> {
    y.entries().iter().map(|(k, v)| KeyValue { key: k.clone(), value: Some(to_any(v)), ..Default::default() }).collect()
}

/// Hex text as bytes (ids in fixtures and expectations).
pub fn hex(s: &str) -> Vec<u8> {
    const_hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}
