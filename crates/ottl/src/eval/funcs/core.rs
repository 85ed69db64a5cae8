//! The editors and converters every config uses: `set`, the map editors (`delete_key`,
//! `keep_keys`, `truncate_all`, …), the pattern editors, and the basic string converters.

use std::borrow::Cow;

use regex::Regex;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::any_value;

use super::{Args, ConverterBuilder, EditorBuilder};
use crate::check::CheckError;
use crate::eval::expr::{ConverterFn, EditorFn};
use crate::eval::value::Value;
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
    // `utf8_safe` is how Switchyard always cuts; a truncation marker is not added yet, and
    // is refused rather than ignored.
    args.opt_bool(2)?;
    if args.has(3) {
        return Err(args.not_implemented(3, "`truncate_all` with a truncation marker"));
    }
    let limit = limit as usize;
    Ok(Box::new(move |cx| {
        for kv in target.map_mut(cx)?.iter_mut() {
            if let Some(any_value::Value::StringValue(s)) = kv.value.as_mut().and_then(|v| v.value.as_mut()) {
                if s.len() > limit {
                    let mut cut = limit;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
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

fn replace_pattern(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let re = regex_arg(args, 1)?;
    let replacement = args.expr(2)?;
    if args.has(3) {
        return Err(args.error(3, "replace_pattern with a hash function is not supported by Switchyard yet"));
    }
    Ok(Box::new(move |cx| {
        let new = {
            let Value::Str(s) = target.get(cx)? else { return Ok(()) };
            let rep = replacement.eval(cx)?;
            let Some(rep) = rep.as_str() else {
                return Err(EvalError::new("replacement must be a string"));
            };
            replace_with(&re, &s, rep)
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
    if args.has(4) {
        return Err(args.error(4, "replace_all_patterns with a hash function is not supported by Switchyard yet"));
    }
    Ok(Box::new(move |cx| {
        let rep = replacement.eval(cx)?.into_owned();
        let Some(rep) = rep.as_str() else {
            return Err(EvalError::new("replacement must be a string"));
        };
        for kv in target.map_mut(cx)?.iter_mut() {
            if mode == "key" {
                if let Some(n) = replace_with(&re, &kv.key, rep) {
                    kv.key = n;
                }
            } else if let Some(any_value::Value::StringValue(s)) = kv.value.as_mut().and_then(|v| v.value.as_mut()) {
                if let Some(n) = replace_with(&re, s, rep) {
                    *s = n;
                }
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
