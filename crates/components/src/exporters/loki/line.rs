//! The Loki line of one log record (`loki.format`: `json`, `logfmt`, `raw`).
//!
//! Formatting follows the Collector's translator (`pkg/translator/loki`, Go): JSON as Go's
//! `encoding/json` writes it (map keys sorted, `<`, `>`, `&` escaped, floats without a
//! trailing `.0`; the writer is pdata's [`switchyard_pdata::value`]), label values and raw
//! lines as pdata's `Value.AsString`, logfmt as `go-logfmt`.

use std::borrow::Cow;
use std::fmt::Write as _;

use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::logs::v1::LogRecord;
use switchyard_pdata::value::{
    self, as_string, hex_id_if_set, sorted_unique, write_json_str, write_json_value, JsonEscape,
};

/// The line format named by the `loki.format` hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineFormat {
    /// `{"body":...,"attributes":{...},...}` (default).
    Json,
    /// `key=value ...`.
    Logfmt,
    /// The body as a string.
    Raw,
}

impl LineFormat {
    /// `json`, `logfmt`, `raw`; `None` for anything else.
    pub(crate) fn parse(s: &str) -> Option<LineFormat> {
        match s {
            "json" => Some(LineFormat::Json),
            "logfmt" => Some(LineFormat::Logfmt),
            "raw" => Some(LineFormat::Raw),
            _ => None,
        }
    }
}

/// The line for `lr`. `skip(key)` says which record and resource attributes are left out
/// (the hints and what became a label).
pub(crate) fn encode(
    format: LineFormat,
    lr: &LogRecord,
    resource: &ResourceAttrs<'_>,
    scope: Option<&InstrumentationScope>,
    skip: &dyn Fn(&str) -> bool,
) -> String {
    match format {
        LineFormat::Json => json_line(lr, resource, scope, skip),
        LineFormat::Logfmt => logfmt_line(lr, resource.attrs, scope, skip),
        LineFormat::Raw => lr.body.as_ref().map(|b| as_string(b).into_owned()).unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------
// Values as go-logfmt prints them.

/// A float as Go's `%v` (`strconv` `'g'`, shortest): exponent form below 1e-4 and from 1e6,
/// with at least two exponent digits (`1e+06`).
pub(crate) fn go_g_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return f.to_string();
    }
    let (mantissa, exp) = split_exp(f);
    if !(-4..6).contains(&exp) {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
    } else {
        f.to_string()
    }
}

/// Shortest mantissa digits and decimal exponent: `1234.5` -> (`1.2345`, 3).
fn split_exp(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

/// An object of key-values, keys sorted, the last of duplicates kept, `skip`ped keys left out.
fn write_json_object(out: &mut String, kvs: &[KeyValue], skip: impl Fn(&str) -> bool) {
    let sorted = sorted_unique(kvs.iter().filter(|kv| !skip(&kv.key)));
    value::write_json_object(out, sorted, JsonEscape::Html);
}

/// An object of key-values already sorted and without duplicates, `skip`ped keys left out.
fn write_sorted_object<'a>(out: &mut String, kvs: impl Iterator<Item = &'a KeyValue>, skip: impl Fn(&str) -> bool) {
    value::write_json_object(out, kvs.filter(|kv| !skip(&kv.key)), JsonEscape::Html);
}

/// A resource's attributes, with their sorted form computed once for all its records.
pub(crate) struct ResourceAttrs<'a> {
    /// As received (logfmt keeps this order).
    pub attrs: &'a [KeyValue],
    sorted: Vec<&'a KeyValue>,
}

impl<'a> ResourceAttrs<'a> {
    /// Sorts `attrs` once.
    pub(crate) fn new(attrs: &'a [KeyValue]) -> Self {
        ResourceAttrs { attrs, sorted: sorted_unique(attrs.iter()) }
    }
}

// ---------------------------------------------------------------------------------------
// json

fn json_key(out: &mut String, first: &mut bool, name: &str) {
    if !*first {
        out.push(',');
    }
    *first = false;
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

/// `{"body":..,"traceid":..,"spanid":..,"severity":..,"flags":..,"attributes":{..},
/// "resources":{..},"instrumentation_scope":{"name":..,"version":..}}`, empty fields left out.
fn json_line(
    lr: &LogRecord,
    resource: &ResourceAttrs<'_>,
    scope: Option<&InstrumentationScope>,
    skip: &dyn Fn(&str) -> bool,
) -> String {
    let mut out = String::with_capacity(64 + lr.severity_text.len() + body_len_hint(lr));
    out.push('{');
    let mut first = true;
    if let Some(body) = lr.body.as_ref().filter(|b| b.value.is_some()) {
        json_key(&mut out, &mut first, "body");
        write_json_value(&mut out, body, JsonEscape::Html);
    }
    if let Some(hex) = hex_id_if_set(&lr.trace_id) {
        json_key(&mut out, &mut first, "traceid");
        write_json_str(&mut out, &hex, JsonEscape::Html);
    }
    if let Some(hex) = hex_id_if_set(&lr.span_id) {
        json_key(&mut out, &mut first, "spanid");
        write_json_str(&mut out, &hex, JsonEscape::Html);
    }
    if !lr.severity_text.is_empty() {
        json_key(&mut out, &mut first, "severity");
        write_json_str(&mut out, &lr.severity_text, JsonEscape::Html);
    }
    if lr.flags != 0 {
        json_key(&mut out, &mut first, "flags");
        let _ = write!(out, "{}", lr.flags);
    }
    let attrs = &lr.attributes;
    if attrs.iter().any(|kv| !skip(&kv.key)) {
        json_key(&mut out, &mut first, "attributes");
        if attrs.windows(2).all(|w| w[0].key < w[1].key) {
            write_sorted_object(&mut out, attrs.iter(), skip);
        } else {
            write_json_object(&mut out, attrs, skip);
        }
    }
    if resource.sorted.iter().any(|kv| !skip(&kv.key)) {
        json_key(&mut out, &mut first, "resources");
        write_sorted_object(&mut out, resource.sorted.iter().copied(), skip);
    }
    if let Some(scope) = scope.filter(|s| !s.name.is_empty()) {
        json_key(&mut out, &mut first, "instrumentation_scope");
        out.push_str("{\"name\":");
        write_json_str(&mut out, &scope.name, JsonEscape::Html);
        if !scope.version.is_empty() {
            out.push_str(",\"version\":");
            write_json_str(&mut out, &scope.version, JsonEscape::Html);
        }
        out.push('}');
    }
    out.push('}');
    out
}

fn body_len_hint(lr: &LogRecord) -> usize {
    match lr.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(s)) => s.len() + 16,
        _ => 64,
    }
}

// ---------------------------------------------------------------------------------------
// logfmt

/// One `key=value` pair of a logfmt line. `quote_null`: a string value `null` is quoted
/// (go-logfmt does that for strings, not for the raw values of a parsed body).
struct Pair<'a> {
    key: Cow<'a, str>,
    value: Cow<'a, str>,
    quote_null: bool,
}

/// The body as pairs (a string body parsed as logfmt, or `msg=<body>`; maps flattened),
/// then `traceID`, `spanID`, `severity`, `flags` (replacing a pair of the same key),
/// `attribute_<k>`, `resource_<k>`, `instrumentation_scope_name`/`_version`.
fn logfmt_line(
    lr: &LogRecord,
    resource: &[KeyValue],
    scope: Option<&InstrumentationScope>,
    skip: &dyn Fn(&str) -> bool,
) -> String {
    let mut pairs: Vec<Pair<'_>> = Vec::new();
    if let Some(body) = &lr.body {
        body_pairs(body, &mut pairs);
    }
    let trace = hex_id_if_set(&lr.trace_id);
    let span = hex_id_if_set(&lr.span_id);
    let flags = (lr.flags != 0).then(|| lr.flags.to_string());
    let severity = (!lr.severity_text.is_empty()).then_some(lr.severity_text.as_str());
    let overrides: [(&str, Option<Cow<'_, str>>, bool); 4] = [
        ("traceID", trace.map(Cow::Owned), true),
        ("spanID", span.map(Cow::Owned), true),
        ("severity", severity.map(Cow::Borrowed), true),
        ("flags", flags.map(Cow::Owned), false),
    ];
    for (key, value, quote_null) in overrides {
        let Some(value) = value else { continue };
        match pairs.iter_mut().find(|p| p.key == key) {
            Some(p) => {
                p.value = value;
                p.quote_null = quote_null;
            }
            None => pairs.push(Pair { key: Cow::Borrowed(key), value, quote_null }),
        }
    }
    for kv in lr.attributes.iter().filter(|kv| !skip(&kv.key)) {
        if let Some(v) = &kv.value {
            flatten(Cow::Owned(format!("attribute_{}", kv.key)), v, &mut pairs);
        }
    }
    for kv in resource.iter().filter(|kv| !skip(&kv.key)) {
        if let Some(v) = &kv.value {
            flatten(Cow::Owned(format!("resource_{}", kv.key)), v, &mut pairs);
        }
    }
    if let Some(scope) = scope.filter(|s| !s.name.is_empty()) {
        pairs.push(Pair {
            key: Cow::Borrowed("instrumentation_scope_name"),
            value: Cow::Borrowed(&scope.name),
            quote_null: true,
        });
        if !scope.version.is_empty() {
            pairs.push(Pair {
                key: Cow::Borrowed("instrumentation_scope_version"),
                value: Cow::Borrowed(&scope.version),
                quote_null: true,
            });
        }
    }
    let mut out = String::with_capacity(64 + body_len_hint(lr));
    for p in &pairs {
        let key_start = out.len();
        if key_start > 0 {
            out.push(' ');
        }
        let before_key = out.len();
        out.extend(p.key.chars().filter(|c| !(*c <= ' ' || *c == '=' || *c == '"' || *c == '\u{fffd}')));
        if out.len() == before_key {
            // go-logfmt refuses an empty key (and then the whole line): leave the pair out.
            out.truncate(key_start);
            continue;
        }
        out.push('=');
        write_logfmt_value(&mut out, &p.value, p.quote_null);
    }
    out
}

fn body_pairs<'a>(body: &'a AnyValue, pairs: &mut Vec<Pair<'a>>) {
    match &body.value {
        None | Some(Value::StringValueStrindex(_)) => {}
        Some(Value::StringValue(s)) => match parse_logfmt(s) {
            Some(parsed) => pairs.extend(parsed.into_iter().map(|(key, value)| Pair {
                key: Cow::Borrowed(key),
                value,
                quote_null: false,
            })),
            None => pairs.push(Pair { key: Cow::Borrowed("msg"), value: Cow::Borrowed(s), quote_null: true }),
        },
        Some(Value::KvlistValue(_)) => flatten(Cow::Borrowed(""), body, pairs),
        Some(Value::ArrayValue(_)) => flatten(Cow::Borrowed("body"), body, pairs),
        Some(_) => pairs.push(Pair { key: Cow::Borrowed("msg"), value: scalar(body), quote_null: false }),
    }
}

/// A scalar as go-logfmt prints it: numbers with `%v`, bytes as their text.
fn scalar(v: &AnyValue) -> Cow<'_, str> {
    match &v.value {
        Some(Value::DoubleValue(f)) => Cow::Owned(go_g_float(*f)),
        Some(Value::BytesValue(b)) => String::from_utf8_lossy(b),
        _ => as_string(v),
    }
}

/// Maps become `<key>_<k>=`, arrays `<key>_<i>=`, empty values nothing.
fn flatten<'a>(key: Cow<'a, str>, v: &'a AnyValue, pairs: &mut Vec<Pair<'a>>) {
    let prefix = |key: &str| if key.is_empty() { String::new() } else { format!("{key}_") };
    match &v.value {
        None | Some(Value::StringValueStrindex(_)) => {}
        Some(Value::KvlistValue(kv)) => {
            let prefix = prefix(&key);
            for kv in &kv.values {
                if let Some(v) = &kv.value {
                    flatten(Cow::Owned(format!("{prefix}{}", kv.key)), v, pairs);
                }
            }
        }
        Some(Value::ArrayValue(a)) => {
            let prefix = prefix(&key);
            for (i, v) in a.values.iter().enumerate() {
                flatten(Cow::Owned(format!("{prefix}{i}")), v, pairs);
            }
        }
        Some(Value::StringValue(s)) => pairs.push(Pair { key, value: Cow::Borrowed(s), quote_null: true }),
        Some(_) => pairs.push(Pair { key, value: scalar(v), quote_null: false }),
    }
}

/// A value, quoted when it holds a space, a control character, `=` or `"`.
fn write_logfmt_value(out: &mut String, v: &str, quote_null: bool) {
    if quote_null && v == "null" {
        out.push_str("\"null\"");
        return;
    }
    if !v.chars().any(|c| c <= ' ' || c == '=' || c == '"' || c == '\u{fffd}') {
        out.push_str(v);
        return;
    }
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{fffd}' => out.push_str("\\ufffd"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses one logfmt line as go-logfmt's decoder does: `key`, `key=`, `key=value`,
/// `key="quoted \"value\""`. `None` when it is not logfmt (a stray `=` or `"`, an
/// unterminated quote, a bad escape) or spans several lines.
pub(crate) fn parse_logfmt(line: &str) -> Option<Vec<(&str, Cow<'_, str>)>> {
    if line.contains(['\n', '\r']) {
        return None;
    }
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i] <= b' ' {
            i += 1;
        }
        if i >= b.len() {
            return Some(out);
        }
        let start = i;
        while i < b.len() && b[i] > b' ' && b[i] != b'=' && b[i] != b'"' {
            i += 1;
        }
        if i < b.len() && b[i] == b'"' {
            return None;
        }
        let key = &line[start..i];
        if i >= b.len() || b[i] <= b' ' {
            out.push((key, Cow::Borrowed("")));
            continue;
        }
        // b[i] is '='.
        if key.is_empty() {
            return None;
        }
        i += 1;
        if i >= b.len() || b[i] <= b' ' {
            out.push((key, Cow::Borrowed("")));
            continue;
        }
        if b[i] == b'"' {
            let open = i;
            i += 1;
            let (mut esc, mut has_esc) = (false, false);
            loop {
                let c = *b.get(i)?;
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                    has_esc = true;
                } else if c == b'"' {
                    break;
                }
                i += 1;
            }
            let inner = &line[open + 1..i];
            i += 1;
            let value = if has_esc { Cow::Owned(unquote(inner)?) } else { Cow::Borrowed(inner) };
            out.push((key, value));
            continue;
        }
        let vstart = i;
        while i < b.len() && b[i] > b' ' {
            if b[i] == b'=' || b[i] == b'"' {
                return None;
            }
            i += 1;
        }
        out.push((key, Cow::Borrowed(&line[vstart..i])));
    }
}

/// The inside of a quoted logfmt value with escapes (JSON's rules, as go-logfmt).
fn unquote(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '/' => out.push('/'),
                '\'' => out.push('\''),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hi = hex4(&mut chars)?;
                    if (0xD800..0xDC00).contains(&hi) {
                        // A surrogate pair, or U+FFFD if the low half is missing.
                        let rest = chars.as_str();
                        let low = rest
                            .strip_prefix("\\u")
                            .and_then(|r| r.get(..4))
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .filter(|lo| (0xDC00..0xE000).contains(lo));
                        match low {
                            Some(lo) => {
                                chars = rest[6..].chars();
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                            }
                            None => out.push('\u{fffd}'),
                        }
                    } else {
                        out.push(char::from_u32(hi).unwrap_or('\u{fffd}'));
                    }
                }
                _ => return None,
            },
            c if (c as u32) < 0x20 => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}
