//! The editors and converters every config uses: `set`, the map editors (`delete_key`,
//! `keep_keys`, `truncate_all`, …), the pattern editors, and the basic string converters.

use std::borrow::Cow;

use regex::Regex;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::any_value;

use super::{gofmt, Args, ConverterBuilder, EditorBuilder};
use crate::check::CheckError;
use crate::eval::expr::{ConverterFn, EditorFn, Expr};
use crate::eval::value::Value;
use crate::eval::EvalContext;
use crate::eval::EvalError;

pub(super) fn editor(name: &str) -> Option<EditorBuilder> {
    Some(match name {
        "set" => set,
        "delete_key" => delete_key,
        "delete_matching_keys" => delete_matching_keys,
        "keep_keys" => keep_keys,
        "keep_matching_keys" => keep_matching_keys,
        "truncate_all" => truncate_all,
        "replace_pattern" => replace_pattern,
        "replace_all_patterns" => replace_all_patterns,
        _ => return None,
    })
}

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "Concat" => concat,
        "IsMatch" => is_match,
        "IsRootSpan" => is_root_span,
        "HasAttrKeyOnDatapoint" => has_attr_key_on_datapoint,
        "HasAttrOnDatapoint" => has_attr_on_datapoint,
        _ => return None,
    })
}

/// Compiles a regular expression argument (Go's RE2 syntax, which Rust's `regex` shares).
pub(crate) fn regex_arg(args: &Args<'_>, i: usize) -> Result<Regex, CheckError> {
    let pattern = args.string(i)?;
    Regex::new(&pattern).map_err(|e| {
        args.error(i, format!("the regex pattern supplied to {} is not a valid pattern: {e}", args.name()))
    })
}

fn set(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let value = args.expr(1)?;
    Ok(Box::new(move |cx| {
        let v = value.eval(cx)?.into_owned();
        // Upstream's `set` skips nil (a missing attribute, a converter with no result):
        // no field takes nil, and a keyed path must not gain an empty entry.
        if v.is_nil() {
            return Ok(());
        }
        target.set(cx, v)
    }))
}

fn delete_key(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let key = args.string(1)?;
    Ok(Box::new(move |cx| {
        attrs::remove(target.map_mut(cx)?, &key);
        Ok(())
    }))
}

fn delete_matching_keys(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let re = regex_arg(args, 1)?;
    Ok(Box::new(move |cx| {
        attrs::retain(target.map_mut(cx)?, |k, _| !re.is_match(k));
        Ok(())
    }))
}

fn keep_keys(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let keys = args.strings(1)?;
    Ok(Box::new(move |cx| {
        attrs::retain(target.map_mut(cx)?, |k, _| keys.iter().any(|x| x == k));
        Ok(())
    }))
}

fn keep_matching_keys(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let re = regex_arg(args, 1)?;
    Ok(Box::new(move |cx| {
        attrs::retain(target.map_mut(cx)?, |k, _| re.is_match(k));
        Ok(())
    }))
}

/// Cuts every string value of the map to at most `limit` bytes, backing off to a UTF-8
/// character boundary (upstream cuts bytes and may split a character; we keep the
/// value valid UTF-8, which protobuf requires).
fn truncate_all(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let limit = args.int(1)?;
    if limit < 0 {
        return Err(args.error(1, format!("invalid limit for truncate_all function, {limit} cannot be negative")));
    }
    // Switchyard always cuts at a UTF-8 boundary (`utf8_safe: true`, the default): a Rust
    // string cannot hold half a character, and protobuf requires valid UTF-8 anyway.
    args.opt_bool(2)?;
    let marker = args.opt_string(3)?.unwrap_or_default();
    if marker.len() as i64 > limit {
        return Err(args.error(
            3,
            format!("truncation marker ({} bytes) cannot be longer than the limit ({limit})", marker.len()),
        ));
    }
    let limit = limit as usize;
    Ok(Box::new(move |cx| {
        for kv in target.map_mut(cx)?.iter_mut() {
            if let Some(any_value::Value::StringValue(s)) = kv.value.as_mut().and_then(|v| v.value.as_mut()) {
                if s.len() > limit {
                    // The marker counts toward the limit.
                    let mut cut = limit - marker.len();
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                    s.push_str(&marker);
                }
            }
        }
        Ok(())
    }))
}

/// Go's `regexp.ReplaceAllString` template: `$1`, `${name}`, `$$`. Rust's `regex` reads the
/// same syntax, except that Go takes `$1x` as the group named `1x`; both treat it alike for
/// the patterns seen in real configs.
fn replace_with(re: &Regex, s: &str, replacement: &str) -> Option<String> {
    match re.replace_all(s, replacement) {
        Cow::Borrowed(_) => None,
        Cow::Owned(o) => Some(o),
    }
}

/// The optional `function` (a converter by name, e.g. `SHA256`) and `replacement_format`
/// of the pattern editors: each replacement is expanded, passed through the function, put
/// into the format's `%s`, and every occurrence of the matched text is replaced by it, as
/// upstream's `applyOptReplaceFunction` does. [`replace_fn`] reads both arguments (the
/// function at `i`, the format at `i + 1`) for any editor that has them.
pub(super) struct ReplaceFn {
    function: fn(&str) -> String,
    format: Option<Expr>,
}

const FORMAT_ERROR: &str =
    "replacementFormat must be format string containing a single %s and no other format specifiers";

/// Upstream's check: the format contains `%s` and no other `%` directive (`%%` included).
fn valid_format(format: &str) -> bool {
    let mut has_s = false;
    let mut bytes = format.bytes().peekable();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            match bytes.peek() {
                Some(b's') => has_s = true,
                Some(_) => return false,
                None => {}
            }
        }
    }
    // Go's `.` does not match a newline, so a `%s` only counts without one.
    has_s && !format.contains('\n')
}

pub(super) fn replace_fn(args: &Args<'_>, i: usize) -> Result<Option<ReplaceFn>, CheckError> {
    if !args.has(i) {
        return Ok(None);
    }
    let name = args.function_name(i)?;
    let Some(function) = super::hash::string_hasher(&name) else {
        return Err(args.error(
            i,
            format!(
                "{name} cannot be the replacement function of {}: Switchyard supports the string hashes SHA1, SHA256, SHA512, MD5, Murmur3Hash, Murmur3Hash128, XXH3 and XXH128",
                args.name()
            ),
        ));
    };
    let format = args.opt_expr(i + 1)?;
    if let Some(f) = format.as_ref().and_then(Expr::literal_str) {
        if !valid_format(f) {
            return Err(args.error(i + 1, FORMAT_ERROR));
        }
    }
    Ok(Some(ReplaceFn { function, format }))
}

impl ReplaceFn {
    /// The replacement format, evaluated and checked (once per record).
    pub(super) fn format(&self, cx: &EvalContext<'_>) -> Result<Option<String>, EvalError> {
        let Some(e) = &self.format else { return Ok(None) };
        let v = e.eval(cx)?;
        let Some(f) = v.as_str() else {
            return Err(EvalError::new(format!("expected string but got {}", v.type_name())));
        };
        if !valid_format(f) {
            return Err(EvalError::new(FORMAT_ERROR));
        }
        Ok(Some(f.to_string()))
    }

    /// One replacement through the function and into the format (`replace_match` and
    /// `replace_all_matches` use this on their whole replacement).
    pub(super) fn finish(&self, format: Option<&str>, replacement: &str) -> String {
        let value = (self.function)(replacement);
        match format {
            Some(f) => gofmt::sprintf(f, &[gofmt::Arg { value: Value::Str(Cow::Owned(value)), id: false }]),
            None => value,
        }
    }

    /// `s` with each match's expanded, hashed and formatted replacement, or `None` when
    /// nothing matched.
    fn apply(&self, cx: &EvalContext<'_>, re: &Regex, s: &str, replacement: &str) -> Result<Option<String>, EvalError> {
        let format = self.format(cx)?;
        let mut updated: Option<String> = None;
        for caps in re.captures_iter(s) {
            let Some(full) = caps.get(0) else { continue };
            let mut expanded = String::new();
            caps.expand(replacement, &mut expanded);
            let value = self.finish(format.as_deref(), &expanded);
            let current = updated.as_deref().unwrap_or(s);
            updated = Some(current.replace(full.as_str(), &value));
        }
        Ok(updated)
    }
}

fn replace_pattern(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let re = regex_arg(args, 1)?;
    let replacement = args.expr(2)?;
    let function = replace_fn(args, 3)?;
    Ok(Box::new(move |cx| {
        let new = {
            let Value::Str(s) = target.get(cx)? else { return Ok(()) };
            let rep = replacement.eval(cx)?;
            let Some(rep) = rep.as_str() else {
                return Err(EvalError::new("replacement must be a string"));
            };
            match &function {
                Some(f) => f.apply(cx, &re, &s, rep)?,
                None => replace_with(&re, &s, rep),
            }
        };
        match new {
            Some(n) => target.set(cx, Value::Str(Cow::Owned(n))),
            None => Ok(()),
        }
    }))
}

fn replace_all_patterns(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let mode = args.string(1)?;
    if mode != "key" && mode != "value" {
        return Err(args.error(1, format!("invalid mode {mode}, must be either 'key' or 'value'")));
    }
    let re = regex_arg(args, 2)?;
    let replacement = args.expr(3)?;
    let function = replace_fn(args, 4)?;
    Ok(Box::new(move |cx| {
        let rep = replacement.eval(cx)?.into_owned();
        let Some(rep) = rep.as_str() else {
            return Err(EvalError::new("replacement must be a string"));
        };
        // The new strings are computed against the unchanged record first: the function's
        // format may read the record, which the map borrow below excludes.
        let mut changes: Vec<(usize, String)> = Vec::new();
        {
            let map = match target.get(cx)? {
                Value::Map(m) => m,
                other => return Err(EvalError::new(format!("expected pcommon.Map but got {}", other.type_name()))),
            };
            for (i, kv) in map.iter().enumerate() {
                let text = if mode == "key" {
                    Some(kv.key.as_str())
                } else {
                    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
                        _ => None,
                    }
                };
                let Some(text) = text else { continue };
                let new = match &function {
                    Some(f) => f.apply(cx, &re, text, rep)?,
                    None => replace_with(&re, text, rep),
                };
                if let Some(n) = new {
                    changes.push((i, n));
                }
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        let map = target.map_mut(cx)?;
        for (i, n) in changes {
            let Some(kv) = map.get_mut(i) else { continue };
            if mode == "key" {
                kv.key = n;
            } else if let Some(v) = kv.value.as_mut() {
                v.value = Some(any_value::Value::StringValue(n));
            }
        }
        Ok(())
    }))
}

/// `Concat(vals, delimiter)`: every value printed as the Collector's `AsString` (nil as ""),
/// joined.
fn concat(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let values = args.expr(0)?;
    let delimiter = args.string(1)?;
    Ok(Box::new(move |cx| {
        let list = values.eval(cx)?;
        let Value::List(items) = list else {
            return Err(EvalError::new(format!("Concat expects a list but got {}", list.type_name())));
        };
        let mut out = String::new();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(&delimiter);
            }
            out.push_str(&switchyard_pdata::value::as_string(item));
        }
        Ok(Value::Str(Cow::Owned(out)))
    }))
}

fn is_match(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let re = regex_arg(args, 1)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let matched = match &v {
            Value::Nil => false,
            Value::Str(s) => re.is_match(s),
            Value::Int(_) | Value::Double(_) | Value::Bool(_) | Value::Bytes(_) | Value::Map(_) | Value::List(_) => {
                re.is_match(&switchyard_pdata::value::as_string(&v.clone().into_owned().into_any()))
            }
            other => return Err(EvalError::new(format!("unsupported type: {}", other.type_name()))),
        };
        Ok(Value::Bool(matched))
    }))
}

/// `IsRootSpan()` (span context): the span has no parent (an empty or all-zero parent id).
fn is_root_span(_args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    Ok(Box::new(|cx| {
        let span = cx.span_ref().ok_or_else(|| EvalError::new("IsRootSpan is only available in the span context"))?;
        Ok(Value::Bool(span.parent_span_id.iter().all(|b| *b == 0)))
    }))
}

/// The filter processor's `HasAttrKeyOnDatapoint(key)` (metric context): some data point of
/// the metric has the attribute.
fn has_attr_key_on_datapoint(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let key = args.string(0)?;
    Ok(Box::new(move |cx| {
        let m = cx.metric_ref().ok_or_else(|| EvalError::new("HasAttrKeyOnDatapoint needs the metric context"))?;
        Ok(Value::Bool(switchyard_pdata::walk::points_of(m).any(|p| attrs::get(p.attributes(), &key).is_some())))
    }))
}

/// The filter processor's `HasAttrOnDatapoint(key, expected_value)` (metric context): some
/// data point of the metric has the attribute with this string value.
fn has_attr_on_datapoint(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let key = args.string(0)?;
    let expected = args.string(1)?;
    Ok(Box::new(move |cx| {
        let m = cx.metric_ref().ok_or_else(|| EvalError::new("HasAttrOnDatapoint needs the metric context"))?;
        Ok(Value::Bool(
            switchyard_pdata::walk::points_of(m)
                .any(|p| attrs::get_str(p.attributes(), &key) == Some(expected.as_str())),
        ))
    }))
}
