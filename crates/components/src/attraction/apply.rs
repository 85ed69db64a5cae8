//! Running compiled actions over one attribute list (`AttrProc.Process`), with the hash
//! and type conversions of `hasher.go` and `type_converter.go`.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, KeyValue};
use switchyard_pdata::value::as_string;

use super::{Action, AttrProc, ContextValues, ConvertTo, Source, SourceKind};

impl AttrProc {
    /// Runs every action in order on `list`; `cv` comes from [`AttrProc::context`] for the
    /// request the list belongs to.
    pub fn apply(&self, cv: &ContextValues, list: &mut Vec<KeyValue>) {
        for (i, action) in self.actions.iter().enumerate() {
            match action {
                Action::Insert { key, source } => {
                    if attrs::get(list, key).is_none() {
                        if let Some(v) = value_of(source, cv, i, list) {
                            attrs::insert(list, key.as_str(), v);
                        }
                    }
                }
                Action::Update { key, source } => {
                    if attrs::get(list, key).is_some() {
                        if let Some(v) = value_of(source, cv, i, list) {
                            attrs::update(list, key, v);
                        }
                    }
                }
                Action::Upsert { key, source } => {
                    if let Some(v) = value_of(source, cv, i, list) {
                        attrs::upsert(list, key.as_str(), v);
                    }
                }
                Action::Delete { key, pattern } => {
                    if let Some(key) = key {
                        attrs::remove(list, key);
                    }
                    if let Some(re) = pattern {
                        attrs::retain(list, |k, _| !re.is_match(k));
                    }
                }
                Action::Hash { key, pattern } => {
                    if let Some(v) = key.as_deref().and_then(|k| attrs::get_mut(list, k)) {
                        hash(v);
                    }
                    if let Some(re) = pattern {
                        // As upstream: every key the pattern matches has its first entry
                        // hashed, once per entry carrying the key (and again when it is
                        // also `key`).
                        for j in 0..list.len() {
                            if re.is_match(&list[j].key) {
                                let first = list.iter().position(|kv| kv.key == list[j].key).unwrap_or(j);
                                hash(list[first].value.get_or_insert_with(AnyValue::default));
                            }
                        }
                    }
                }
                Action::Extract { key, regex, names, overwrites_source } => {
                    extract(list, key, regex, names, *overwrites_source)
                }
                Action::Convert { key, to } => {
                    if let Some(v) = attrs::get_mut(list, key) {
                        convert(v, *to);
                    }
                }
            }
        }
    }
}

/// The value insert/update/upsert write, or `None` when the source has nothing and there
/// is no `default_value`.
fn value_of(source: &Source, cv: &ContextValues, index: usize, list: &[KeyValue]) -> Option<AnyValue> {
    let found = match &source.kind {
        SourceKind::Value(v) => Some(v.clone()),
        SourceKind::Attribute(from) => attrs::get(list, from).cloned(),
        SourceKind::Context(_) => cv.0.get(index).and_then(Option::clone),
        SourceKind::Nothing => None,
    };
    found.or_else(|| source.default.clone())
}

/// `extract`: when the value at `key` is a string the regex matches, every named group
/// is upserted as a string (a group that took no part in the match is `""`, as Go's
/// `FindStringSubmatch`). The source string is lent out while the groups are written, so
/// nothing is copied but the group texts.
fn extract(list: &mut Vec<KeyValue>, key: &str, regex: &regex::Regex, names: &[String], overwrites_source: bool) {
    let Some(AnyValue { value: Some(Value::StringValue(slot)) }) = attrs::get_mut(list, key) else { return };
    let source = std::mem::take(slot);
    let restore = match regex.captures(&source) {
        None => true,
        Some(caps) => {
            for (i, name) in names.iter().enumerate() {
                let text = caps.get(i + 1).map_or("", |m| m.as_str());
                attrs::upsert(list, name.as_str(), AnyValue { value: Some(Value::StringValue(text.to_string())) });
            }
            !overwrites_source
        }
    };
    if restore {
        // Upserts only append or replace other keys: the first `key` entry is the slot.
        if let Some(AnyValue { value: Some(Value::StringValue(slot)) }) = attrs::get_mut(list, key) {
            *slot = source;
        }
    }
}

/// Replaces the value with the lowercase hex SHA-256 of its bytes (`sha2Hasher`): a
/// string's UTF-8 bytes (the empty string too, as the newer hasher), a bool's one byte
/// 0/1, an int's or a double's 8 little-endian bytes. Other kinds (bytes, map, list,
/// empty) become `""`. A string's buffer is reused for the digest.
fn hash(v: &mut AnyValue) {
    let digest = match &v.value {
        Some(Value::StringValue(s)) => Sha256::digest(s.as_bytes()),
        Some(Value::BoolValue(b)) => Sha256::digest([u8::from(*b)]),
        Some(Value::IntValue(i)) => Sha256::digest(i.to_le_bytes()),
        Some(Value::DoubleValue(d)) => Sha256::digest(d.to_bits().to_le_bytes()),
        _ => {
            v.value = Some(Value::StringValue(String::new()));
            return;
        }
    };
    let mut out = match v.value.take() {
        Some(Value::StringValue(mut s)) => {
            s.clear();
            s
        }
        _ => String::with_capacity(64),
    };
    for b in digest {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    v.value = Some(Value::StringValue(out));
}

/// `convert` (`type_converter.go`): a value that cannot be converted stays as it is.
fn convert(v: &mut AnyValue, to: ConvertTo) {
    let new = match (to, &v.value) {
        (ConvertTo::String, Some(Value::StringValue(_))) => return,
        (ConvertTo::String, _) => Value::StringValue(as_string(v).into_owned()),
        (ConvertTo::Int, Some(Value::DoubleValue(d))) => Value::IntValue(*d as i64),
        (ConvertTo::Int, Some(Value::BoolValue(b))) => Value::IntValue(i64::from(*b)),
        (ConvertTo::Int, Some(Value::StringValue(s))) => match s.parse::<i64>() {
            Ok(n) => Value::IntValue(n),
            Err(_) => return,
        },
        (ConvertTo::Double, Some(Value::IntValue(i))) => Value::DoubleValue(*i as f64),
        (ConvertTo::Double, Some(Value::BoolValue(b))) => Value::DoubleValue(if *b { 1.0 } else { 0.0 }),
        (ConvertTo::Double, Some(Value::StringValue(s))) => match s.parse::<f64>() {
            Ok(n) => Value::DoubleValue(n),
            Err(_) => return,
        },
        _ => return,
    };
    v.value = Some(new);
}
