//! Values as Go's `encoding/json` writes pdata's `AsRaw()` form: the JSON that Collector
//! components put in label values, Loki lines and Kafka `raw` messages. Written straight
//! into a `String`, without a `serde_json::Value` tree in between.

use std::fmt::Write as _;

use base64::Engine;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};

use super::double_string;

/// How strings are escaped: the two ways Collector code writes JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonEscape {
    /// `json.Marshal`: `<`, `>` and `&` also become `\u003c`, `\u003e`, `\u0026` (Loki
    /// lines, Kafka `raw` values).
    Html,
    /// An encoder with `SetEscapeHTML(false)`: only what JSON requires (`AsString`).
    None,
}

/// A string as Go writes it: `"`, `\` and control characters escaped (`\n`, `\r`, `\t`,
/// `\b`, `\f`, else `\u00XX`), U+2028 and U+2029 as `\u2028`/`\u2029` (Go always does), and
/// with [`JsonEscape::Html`] also `<`, `>`, `&`.
pub fn write_json_str(out: &mut String, s: &str, escape: JsonEscape) {
    out.push('"');
    let html = escape == JsonEscape::Html;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '<' if html => Some("\\u003c"),
            '>' if html => Some("\\u003e"),
            '&' if html => Some("\\u0026"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A value as Go's JSON of pdata's `AsRaw()`: maps as objects with sorted keys (the last of
/// duplicate keys wins, as a Go map built in order), arrays in order, bytes as base64
/// strings, numbers as [`double_string`] prints them, an empty value as `null`. Non-finite
/// doubles, which Go refuses, are `null`.
pub fn write_json_value(out: &mut String, v: &AnyValue, escape: JsonEscape) {
    match &v.value {
        None | Some(Value::StringValueStrindex(_)) => out.push_str("null"),
        Some(Value::StringValue(s)) => write_json_str(out, s, escape),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) if d.is_finite() => out.push_str(&double_string(*d)),
        Some(Value::DoubleValue(_)) => out.push_str("null"),
        Some(Value::BytesValue(b)) => {
            out.push('"');
            base64::engine::general_purpose::STANDARD.encode_string(b, out);
            out.push('"');
        }
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_value(out, v, escape);
            }
            out.push(']');
        }
        Some(Value::KvlistValue(kv)) => write_json_object(out, sorted_unique(kv.values.iter()), escape),
    }
}

/// Key-values sorted by key with duplicates removed, the last of each key kept: the order
/// and content of a Go map built from them, ready for [`write_json_object`]. One `Vec` of
/// references; nothing is cloned.
pub fn sorted_unique<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> Vec<&'a KeyValue> {
    let mut sorted: Vec<&KeyValue> = kvs.collect();
    // Stable: equal keys keep their order, so the last of each run is the last written.
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out: Vec<&KeyValue> = Vec::with_capacity(sorted.len());
    for kv in sorted {
        match out.last_mut() {
            Some(last) if last.key == kv.key => *last = kv,
            _ => out.push(kv),
        }
    }
    out
}

/// An object of key-values written in the order given: callers pass them sorted and unique
/// ([`sorted_unique`], or attributes known to be so) to get Go's output. A key-value
/// without a value is `null`.
pub fn write_json_object<'a>(out: &mut String, kvs: impl IntoIterator<Item = &'a KeyValue>, escape: JsonEscape) {
    const NULL: AnyValue = AnyValue { value: None };
    out.push('{');
    for (i, kv) in kvs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, &kv.key, escape);
        out.push(':');
        write_json_value(out, kv.value.as_ref().unwrap_or(&NULL), escape);
    }
    out.push('}');
}
