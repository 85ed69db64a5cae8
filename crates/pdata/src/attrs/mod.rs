//! Attribute operations on OTLP's `Vec<KeyValue>`, with the Collector's rules, so every
//! processor, exporter and OTTL function reads and changes attributes the same way.
//!
//! # Duplicate keys
//!
//! OTLP allows a key twice; pdata's `pcommon.Map` (a slice, like ours) defines what that
//! means, and these functions follow it exactly:
//!
//! - **The first entry with a key is the attribute.** [`get`], [`get_mut`], the typed
//!   getters, [`update`] and [`upsert`] read or change the first match only (`Map.Get`,
//!   `Map.Put*`); [`insert`] does nothing when any entry has the key.
//! - **[`remove`] removes the first match only** and, as `Map.Remove` does, moves the last
//!   entry into its place (so the order changes, as in the Collector); a later duplicate
//!   then becomes the attribute.
//! - **[`retain`] sees every entry**, duplicates included, and keeps the order
//!   (`Map.RemoveIf`).
//! - Converting attributes to a JSON object keeps the **last** duplicate, as Go's
//!   `Map.AsRaw()` builds a Go map ([`crate::value::sorted_unique`]).
//!
//! An entry whose `value` is `None` reads as the empty value (pdata's `ValueTypeEmpty`):
//! it is present, and its [`as_string`](crate::value::as_string) is `""`.
//!
//! Lookups are linear scans without allocation, as in pdata: attribute lists are short,
//! and a scan beats hashing for them.

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};

/// The empty value, returned for entries stored without a value.
const EMPTY: &AnyValue = &AnyValue { value: None };

/// The value of an entry; an entry stored without one reads as the empty value.
pub fn value_of(kv: &KeyValue) -> &AnyValue {
    kv.value.as_ref().unwrap_or(EMPTY)
}

/// The first entry's value for `key` (`Map.Get`).
pub fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key).map(value_of)
}

/// The first entry's value for `key`, for changing in place. An entry stored without a
/// value gets an empty one (so it is then written as an empty `AnyValue` message).
pub fn get_mut<'a>(attrs: &'a mut [KeyValue], key: &str) -> Option<&'a mut AnyValue> {
    attrs.iter_mut().find(|kv| kv.key == key).map(|kv| kv.value.get_or_insert_with(AnyValue::default))
}

/// The first entry's value for `key` if it is a string (`Value.Str()` of a `Str` value);
/// `None` when absent or of another kind (no conversion: see [`get_string`]).
pub fn get_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match &get(attrs, key)?.value {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// The first entry's value for `key` if it is an integer.
pub fn get_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match get(attrs, key)?.value {
        Some(Value::IntValue(i)) => Some(i),
        _ => None,
    }
}

/// The first entry's value for `key` if it is a double.
pub fn get_double(attrs: &[KeyValue], key: &str) -> Option<f64> {
    match get(attrs, key)?.value {
        Some(Value::DoubleValue(d)) => Some(d),
        _ => None,
    }
}

/// The first entry's value for `key` if it is a boolean.
pub fn get_bool(attrs: &[KeyValue], key: &str) -> Option<bool> {
    match get(attrs, key)?.value {
        Some(Value::BoolValue(b)) => Some(b),
        _ => None,
    }
}

/// The first entry's value for `key` printed as the Collector's `AsString` (any kind;
/// strings borrowed). `None` only when the key is absent.
pub fn get_string<'a>(attrs: &'a [KeyValue], key: &str) -> Option<Cow<'a, str>> {
    get(attrs, key).map(crate::value::as_string)
}

/// Adds `key` with `value` only if no entry has the key (the attributes processor's
/// `insert`). Returns whether it was added; the key is turned into a `String` only then.
pub fn insert<K: AsRef<str> + Into<String>>(attrs: &mut Vec<KeyValue>, key: K, value: AnyValue) -> bool {
    if get(attrs, key.as_ref()).is_some() {
        return false;
    }
    attrs.push(KeyValue { key: key.into(), value: Some(value), ..Default::default() });
    true
}

/// Replaces the first entry's value for `key` only if the key is present (the attributes
/// processor's `update`). Returns whether it was.
pub fn update(attrs: &mut [KeyValue], key: &str, value: AnyValue) -> bool {
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => {
            kv.value = Some(value);
            true
        }
        None => false,
    }
}

/// Sets `key` to `value`: replaces the first entry's value, or appends an entry
/// (`Map.Put*`, the attributes processor's `upsert`). Returns the value replaced, if any
/// (the empty value for an entry stored without one).
pub fn upsert<K: AsRef<str> + Into<String>>(attrs: &mut Vec<KeyValue>, key: K, value: AnyValue) -> Option<AnyValue> {
    match attrs.iter_mut().find(|kv| kv.key == key.as_ref()) {
        Some(kv) => Some(kv.value.replace(value).unwrap_or_default()),
        None => {
            attrs.push(KeyValue { key: key.into(), value: Some(value), ..Default::default() });
            None
        }
    }
}

/// Removes the first entry with `key` and returns its value (`Map.Remove`: the last entry
/// takes its place). Later duplicates stay.
pub fn remove(attrs: &mut Vec<KeyValue>, key: &str) -> Option<AnyValue> {
    let i = attrs.iter().position(|kv| kv.key == key)?;
    Some(attrs.swap_remove(i).value.unwrap_or_default())
}

/// Keeps the entries for which `keep(key, value)` is true, in order, visiting every entry
/// including duplicates (`Map.RemoveIf` with the test negated). Returns how many were
/// removed.
pub fn retain(attrs: &mut Vec<KeyValue>, mut keep: impl FnMut(&str, &AnyValue) -> bool) -> usize {
    let before = attrs.len();
    attrs.retain(|kv| keep(&kv.key, value_of(kv)));
    before - attrs.len()
}
