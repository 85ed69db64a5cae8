//! Parsing converters: `ParseJSON`, `ParseKeyValue`, `ToKeyValueString`, `ExtractPatterns`,
//! `ParseInt`; `ParseCSV` ([`super::csv`]), `ExtractGrokPatterns` ([`super::grok`]), `URL`
//! and `UserAgent` ([`super::web`]), `ParseSeverity` ([`super::severity`]) are registered
//! here too.

use std::borrow::Cow;

use regex::Regex;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};
use switchyard_pdata::value::{as_string, str_value};

use super::{csv, grok, severity, want, web, ConverterBuilder};
use crate::check::CheckError;
use crate::eval::compile::Args;
use crate::eval::expr::ConverterFn;
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "ParseJSON" => parse_json,
        "ParseKeyValue" => parse_key_value,
        "ToKeyValueString" => to_key_value_string,
        "ExtractPatterns" => extract_patterns,
        "ParseInt" => parse_int,
        "ParseCSV" => csv::parse_csv,
        "ExtractGrokPatterns" => grok::extract_grok_patterns,
        "URL" => web::url,
        "UserAgent" => web::user_agent,
        "ParseSeverity" => severity::parse_severity,
        _ => return None,
    })
}

/// A map value built from string pairs; a repeated key keeps the last value, as filling a Go
/// map does.
pub(super) fn string_map<'k>(pairs: impl IntoIterator<Item = (&'k str, String)>) -> Value<'static> {
    let mut map: Vec<KeyValue> = Vec::new();
    for (k, v) in pairs {
        attrs::upsert(&mut map, k, str_value(v));
    }
    Value::Map(Cow::Owned(map))
}

/// `ParseJSON(target)`: an object becomes a map, an array a list; every number is a double
/// (upstream decodes with jsoniter into float64). Only the first JSON value is read, as
/// upstream's iterator does.
fn parse_json(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let s = want::string(&v)?;
        let parsed = serde_json::Deserializer::from_str(s)
            .into_iter::<serde_json::Value>()
            .next()
            .unwrap_or(Ok(serde_json::Value::Null))
            .map_err(|e| EvalError::new(e.to_string()))?;
        match json_to_any(parsed).value {
            Some(any_value::Value::KvlistValue(m)) => Ok(Value::Map(Cow::Owned(m.values))),
            Some(any_value::Value::ArrayValue(a)) => Ok(Value::List(Cow::Owned(a.values))),
            other => Err(EvalError::new(format!(
                "could not convert parsed value of type {} to JSON object",
                go_type_name(&other)
            ))),
        }
    }))
}

/// The Go type a JSON scalar decodes to, as upstream's message names it (`%T`).
fn go_type_name(v: &Option<any_value::Value>) -> &'static str {
    match v {
        None | Some(any_value::Value::StringValueStrindex(_)) => "<nil>",
        Some(any_value::Value::StringValue(_)) => "string",
        Some(any_value::Value::BoolValue(_)) => "bool",
        Some(any_value::Value::IntValue(_)) => "int64",
        Some(any_value::Value::DoubleValue(_)) => "float64",
        Some(any_value::Value::BytesValue(_)) => "[]uint8",
        Some(any_value::Value::ArrayValue(_)) => "[]interface {}",
        Some(any_value::Value::KvlistValue(_)) => "map[string]interface {}",
    }
}

fn json_to_any(v: serde_json::Value) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(V::BoolValue(b)),
        serde_json::Value::Number(n) => Some(V::DoubleValue(n.as_f64().unwrap_or(f64::NAN))),
        serde_json::Value::String(s) => Some(V::StringValue(s)),
        serde_json::Value::Array(items) => {
            Some(V::ArrayValue(ArrayValue { values: items.into_iter().map(json_to_any).collect() }))
        }
        serde_json::Value::Object(entries) => {
            let mut map = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                attrs::upsert(&mut map, k, json_to_any(v));
            }
            Some(V::KvlistValue(KeyValueList { values: map }))
        }
    };
    AnyValue { value }
}

/// `ParseKeyValue(target, Optional[delimiter], Optional[pair_delimiter],
/// Optional[ignore_malformed_tokens])`.
fn parse_key_value(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let (delimiter, pair_delimiter) = delimiters(args)?;
    let ignore_malformed = args.opt_bool(3)?.unwrap_or(false);
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let source = want::string(&v)?;
        if source.is_empty() {
            return Err(EvalError::new("cannot parse from empty target"));
        }
        let mut pairs = split_quoted(source, &pair_delimiter)
            .map_err(|e| EvalError::new(format!("splitting source {source:?} into pairs failed: {e}")))?;
        if ignore_malformed {
            // Only tokens with exactly one delimiter and something on both sides.
            pairs.retain(|p| {
                p.matches(delimiter.as_str()).count() == 1
                    && p.split_once(delimiter.as_str()).is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
            });
        }
        let mut parsed = Vec::with_capacity(pairs.len());
        let mut errors = Vec::new();
        for p in &pairs {
            match p.split_once(delimiter.as_str()) {
                Some((k, v)) => parsed.push((k.trim(), v.trim().to_string())),
                None => errors.push(format!("cannot split {p:?} into 2 items, got 1 item(s)")),
            }
        }
        if !errors.is_empty() {
            return Err(EvalError::new(format!("failed to split pairs into key-values: {}", errors.join("; "))));
        }
        Ok(string_map(parsed))
    }))
}

/// The `delimiter` and `pair_delimiter` literals (default `=` and a space), which may be
/// neither empty nor equal.
fn delimiters(args: &Args<'_>) -> Result<(String, String), CheckError> {
    let delimiter = args.opt_string(1)?.unwrap_or_else(|| "=".into());
    if delimiter.is_empty() {
        return Err(args.error(1, "delimiter cannot be set to an empty string"));
    }
    let pair_delimiter = args.opt_string(2)?.unwrap_or_else(|| " ".into());
    if pair_delimiter.is_empty() {
        return Err(args.error(2, "pair delimiter cannot be set to an empty string"));
    }
    if pair_delimiter == delimiter {
        return Err(
            args.error(2, format!("pair delimiter {pair_delimiter:?} cannot be equal to delimiter {delimiter:?}"))
        );
    }
    Ok((delimiter, pair_delimiter))
}

/// Upstream's `parseutils.SplitString`: splits on `delimiter` outside quotes (`"` or `'`),
/// dropping the quotes themselves; a backslash keeps the next quote literal; empty pieces
/// between delimiters are skipped.
pub(super) fn split_quoted(input: &str, delimiter: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut rest = input;
    while let Some(c) = rest.chars().next() {
        if quote.is_none() && rest.starts_with(delimiter) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            rest = &rest[delimiter.len()..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if escaped {
            escaped = false;
        } else {
            if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
                continue;
            }
            if quote == Some(c) {
                quote = None;
                continue;
            }
            escaped = c == '\\';
        }
        current.push(c);
    }
    if quote.is_some() {
        return Err("never reached the end of a quoted value");
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// `ToKeyValueString(target, Optional[delimiter], Optional[pair_delimiter], Optional[sort_output])`.
fn to_key_value_string(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let (delimiter, pair_delimiter) = delimiters(args)?;
    let sort = args.opt_bool(3)?.unwrap_or(false);
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let map = want::map(&v)?;
        let mut entries: Vec<&KeyValue> = map.iter().collect();
        if sort {
            entries.sort_by(|a, b| a.key.cmp(&b.key));
        }
        let quote = |s: &str| {
            let s = s.replace('"', "\\\"");
            if s.contains(pair_delimiter.as_str()) || s.contains(delimiter.as_str()) {
                format!("\"{s}\"")
            } else {
                s
            }
        };
        let mut out = String::new();
        for (i, kv) in entries.iter().enumerate() {
            if i > 0 {
                out.push_str(&pair_delimiter);
            }
            out.push_str(&quote(&kv.key));
            out.push_str(&delimiter);
            out.push_str(&quote(&as_string(attrs::value_of(kv))));
        }
        Ok(Value::Str(Cow::Owned(out)))
    }))
}

/// `ExtractPatterns(target, pattern)`: the named groups of the first match, as strings (a
/// group that took no part is ""); no match gives an empty map. A literal pattern compiles
/// at load; any other expression compiles on each call, as upstream's dynamic regex.
fn extract_patterns(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    const NO_NAMES: &str = "at least 1 named capture group must be supplied in the given regex";
    let target = args.expr(0)?;
    let pattern = args.expr(1)?;
    let literal = match pattern.literal_str() {
        Some(p) => {
            let re = compile_regex("ExtractPatterns", &go_group_names(p)).map_err(|e| args.error(1, e))?;
            if re.capture_names().flatten().next().is_none() {
                return Err(args.error(1, NO_NAMES));
            }
            Some(re)
        }
        None => None,
    };
    Ok(Box::new(move |cx| {
        let dynamic;
        let re = match &literal {
            Some(re) => re,
            None => {
                let p = pattern.eval(cx)?;
                dynamic =
                    compile_regex("ExtractPatterns", &go_group_names(want::string(&p)?)).map_err(EvalError::new)?;
                if dynamic.capture_names().flatten().next().is_none() {
                    return Err(EvalError::new(NO_NAMES));
                }
                &dynamic
            }
        };
        let v = target.eval(cx)?;
        let s = want::string(&v)?;
        let Some(caps) = re.captures(s) else {
            return Ok(Value::Map(Cow::Owned(Vec::new())));
        };
        Ok(string_map(re.capture_names().enumerate().filter_map(|(i, name)| {
            name.map(|n| {
                let n = n.strip_prefix(DIGIT_NAME).unwrap_or(n);
                (n, caps.get(i).map_or(String::new(), |m| m.as_str().to_string()))
            })
        })))
    }))
}

/// Prefix given to capture-group names that start with a digit, which Go's RE2 accepts
/// (`(?P<0>…)`, seen in HyperDX's config) and Rust's `regex` does not; it is removed again
/// from the names `ExtractPatterns` returns.
const DIGIT_NAME: &str = "__d";

/// The pattern with every group name that starts with a digit prefixed by [`DIGIT_NAME`].
fn go_group_names(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    let next = |s: &str| [s.find("(?P<").map(|i| i + 4), s.find("(?<").map(|i| i + 3)].into_iter().flatten().min();
    while let Some(i) = next(rest) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(DIGIT_NAME);
        }
    }
    out.push_str(rest);
    out
}

/// Compiles a regex argument with upstream's message for a bad one.
pub(super) fn compile_regex(function: &str, pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern)
        .map_err(|e| format!("the regex pattern supplied to {function} '{pattern:?}' is not a valid pattern: {e}"))
}

/// `ParseInt(target, base)`: Go's `strconv.ParseInt(target, base, 64)`.
fn parse_int(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let base = args.expr(1)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let s = want::string(&v)?;
        if s.is_empty() {
            return Err(EvalError::new("invalid target value for ParseInt function, target cannot be empty"));
        }
        let b = want::int(&base.eval(cx)?)?;
        if b < 0 {
            return Err(EvalError::new(format!(
                "invalid base value: {b} for ParseInt function, base cannot be negative"
            )));
        }
        go_parse_int(s, b).map(Value::Int).map_err(EvalError::new)
    }))
}

/// Go's `strconv.ParseInt(s, base, 64)`: an optional sign; base 0 reads a `0b`, `0o`, `0x`
/// or `0` prefix and allows underscores between digits.
pub(super) fn go_parse_int(s: &str, base: i64) -> Result<i64, String> {
    let syntax = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    let range = || format!("strconv.ParseInt: parsing {s:?}: value out of range");
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err(syntax());
    }
    let (radix, digits, underscores) = if base == 0 {
        let lower = body.to_ascii_lowercase();
        if body.len() >= 3 && lower.starts_with("0b") {
            (2, &body[2..], true)
        } else if body.len() >= 3 && lower.starts_with("0o") {
            (8, &body[2..], true)
        } else if body.len() >= 3 && lower.starts_with("0x") {
            (16, &body[2..], true)
        } else if let Some(octal) = body.strip_prefix('0') {
            (8, octal, true)
        } else {
            (10, body, true)
        }
    } else if (2..=36).contains(&base) {
        (base as u32, body, false)
    } else {
        return Err(format!("strconv.ParseInt: parsing {s:?}: invalid base {base}"));
    };
    if underscores && !underscores_ok(body) {
        return Err(syntax());
    }
    let mut n: u64 = 0;
    for c in digits.chars() {
        if c == '_' && underscores {
            continue;
        }
        let d = c.to_digit(36).filter(|d| *d < radix).ok_or_else(syntax)?;
        n = n.checked_mul(u64::from(radix)).and_then(|x| x.checked_add(u64::from(d))).ok_or_else(range)?;
    }
    if neg {
        if n > 1 << 63 {
            return Err(range());
        }
        Ok((n as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(n).map_err(|_| range())
    }
}

/// Go's `underscoreOK`: an underscore must sit between digits, or right after a base prefix.
fn underscores_ok(s: &str) -> bool {
    if !s.contains('_') {
        return true;
    }
    let b = s.as_bytes();
    let prefixed = b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x');
    let start = if prefixed { 2 } else { 0 };
    // Previous character class: 'd' digit or prefix, '_' underscore, '!' other/start.
    let mut prev = if prefixed { b'0' } else { b'!' };
    for &c in &b[start..] {
        if c == b'_' {
            if prev != b'0' {
                return false;
            }
            prev = b'_';
        } else {
            prev = b'0';
        }
    }
    prev != b'_' && b.first() != Some(&b'_')
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
