//! The ottlfuncs editors beyond the core set: `append`, `delete_index`, `flatten`, `limit`,
//! `merge_maps`, `stringify_all`, the glob editors `replace_match` and `replace_all_matches`, and the
//! transform processor's `set_semconv_span_name` (in [`semconv`]).

// Builders return the shared `EditorBuilder` signature, whose error is the checker's
// `CheckError` (large, but built only at config load).
#![allow(clippy::result_large_err)]

mod semconv;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};

use super::{Args, EditorBuilder};
use crate::check::CheckError;
use crate::eval::expr::EditorFn;
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn editor(name: &str) -> Option<EditorBuilder> {
    Some(match name {
        "append" => append,
        "delete_index" => delete_index,
        "flatten" => flatten,
        "limit" => limit,
        "merge_maps" => merge_maps,
        "replace_match" => replace_match,
        "replace_all_matches" => replace_all_matches,
        "set_semconv_span_name" => semconv::set_semconv_span_name,
        "stringify_all" => stringify_all,
        _ => return None,
    })
}

/// `append(target, value, values)`: the target becomes a list of what it held (a list's
/// items, or the one scalar), then `value`, then every item of `values`. A missing target
/// starts empty; a map target is an error.
fn append(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let value = args.opt_expr(1)?;
    let values = args.opt_expr(2)?;
    if value.is_none() && values.is_none() {
        return Err(args.error(1, "at least one of the optional arguments ('value' or 'values') must be provided"));
    }
    Ok(Box::new(move |cx| {
        let mut items: Vec<AnyValue> = match target.get(cx)? {
            Value::Nil => Vec::new(),
            Value::List(l) => l.into_owned(),
            Value::Map(_) => return Err(EvalError::new("unsupported type of target field: \"Map\"")),
            other => vec![other.into_owned().into_any()],
        };
        if let Some(v) = &value {
            items.push(v.eval(cx)?.into_owned().into_any());
        }
        if let Some(vs) = &values {
            match vs.eval(cx)? {
                Value::List(l) => items.extend(l.into_owned()),
                other => items.push(other.into_owned().into_any()),
            }
        }
        target.set(cx, Value::List(Cow::Owned(items)))
    }))
}

fn int_of(v: Value<'_>, what: &str) -> Result<i64, EvalError> {
    match v {
        Value::Int(i) => Ok(i),
        other => Err(EvalError::new(format!("expected int64 for {what} but got {}", other.type_name()))),
    }
}

/// `delete_index(target, startIndex, endIndex)`: removes `[start, end)` (one item when no
/// end is given) from a list, with upstream's bounds errors.
fn delete_index(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let start = args.expr(1)?;
    let end = args.opt_expr(2)?;
    Ok(Box::new(move |cx| {
        let start = int_of(start.eval(cx)?, "startIndex")?;
        let end = match &end {
            Some(e) => int_of(e.eval(cx)?, "endIndex")?,
            None => start.saturating_add(1),
        };
        let mut list = match target.get(cx)? {
            Value::List(l) => l.into_owned(),
            other => return Err(EvalError::new(format!("expected pcommon.Slice but got {}", other.type_name()))),
        };
        let len = list.len() as i64;
        if !(start == 0 && end == len) {
            if start < 0 || start >= len {
                return Err(EvalError::new(format!("startIndex {start} out of bounds for slice of length {len}")));
            }
            if end < start {
                return Err(EvalError::new(format!("endIndex {end} cannot be less than startIndex {start}")));
            }
            if end > len {
                return Err(EvalError::new(format!(
                    "deletion range [{start}:{end}] out of bounds for slice of length {len}"
                )));
            }
        }
        list.drain(start as usize..end as usize);
        target.set(cx, Value::List(Cow::Owned(list)))
    }))
}

/// `flatten(target, prefix, depth, resolveConflicts)`: nested maps and lists become dotted
/// keys (`a.b`, `list.0`) down to `depth` levels. A key produced twice keeps the value
/// produced last, or with `resolveConflicts` each later one gets a `.N` suffix; in that
/// mode scalar list items share their list's key (`list`, `list.0`, …).
fn flatten(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let prefix = args.opt_string(1)?.unwrap_or_default();
    let depth = args.opt_int(2)?.unwrap_or(i64::MAX);
    if depth < 1 {
        return Err(args.error(2, format!("invalid depth '{depth}' for flatten function, must be greater than 0")));
    }
    let resolve = args.opt_bool(3)?.unwrap_or(false);
    Ok(Box::new(move |cx| {
        let map = target.map_mut(cx)?;
        let source = std::mem::take(map);
        let mut f = Flattener { out: Vec::with_capacity(source.len()), max: depth, resolve, seen: Vec::new() };
        f.map(source, &prefix, 0);
        *map = f.out;
        Ok(())
    }))
}

struct Flattener {
    out: Vec<KeyValue>,
    max: i64,
    resolve: bool,
    /// Per key already written: how many `.N` variants were handed out.
    seen: Vec<(String, usize)>,
}

impl Flattener {
    fn map(&mut self, m: Vec<KeyValue>, prefix: &str, depth: i64) {
        for kv in m {
            let value = kv.value.unwrap_or_default();
            self.value(join(prefix, &kv.key), value, depth);
        }
    }

    fn value(&mut self, key: String, v: AnyValue, depth: i64) {
        use any_value::Value as V;
        match v.value {
            Some(V::KvlistValue(m)) if depth < self.max => self.map(m.values, &key, depth + 1),
            Some(V::ArrayValue(a)) if depth < self.max => {
                for (i, item) in a.values.into_iter().enumerate() {
                    let nested = matches!(item.value, Some(V::KvlistValue(_) | V::ArrayValue(_)));
                    if nested && depth + 1 < self.max {
                        let item_key = format!("{key}.{i}");
                        match item.value {
                            Some(V::KvlistValue(m)) => self.map(m.values, &item_key, depth + 2),
                            Some(V::ArrayValue(l)) => {
                                for (j, x) in l.values.into_iter().enumerate() {
                                    self.value(format!("{item_key}.{j}"), x, depth + 2);
                                }
                            }
                            _ => {}
                        }
                    } else if self.resolve {
                        self.put_resolving(key.clone(), item);
                    } else {
                        attrs::upsert(&mut self.out, format!("{key}.{i}"), item);
                    }
                }
            }
            other => {
                let v = AnyValue { value: other };
                if self.resolve {
                    self.put_resolving(key, v);
                } else {
                    attrs::upsert(&mut self.out, key, v);
                }
            }
        }
    }

    /// Writes `key`, or `key.N` when `key` is already taken.
    fn put_resolving(&mut self, key: String, v: AnyValue) {
        if attrs::get(&self.out, &key).is_some() {
            let n = match self.seen.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    self.seen.push((key.clone(), 1));
                    0
                }
            };
            attrs::upsert(&mut self.out, format!("{key}.{n}"), v);
        } else {
            if let Some((_, n)) = self.seen.iter_mut().find(|(k, _)| *k == key) {
                *n = 0;
            }
            attrs::upsert(&mut self.out, key, v);
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `limit(target, limit, priority_keys)`: keeps at most `limit` entries of a map, the
/// priority keys first, then the others in order. Not a map: nothing happens.
fn limit(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let limit = args.int(1)?;
    if limit < 0 {
        return Err(args.error(1, format!("invalid limit for limit function, {limit} cannot be negative")));
    }
    let keys = args.strings(2)?;
    if limit < keys.len() as i64 {
        return Err(args.error(
            1,
            format!(
                "invalid limit for limit function, {limit} cannot be less than number of priority attributes {}",
                keys.len()
            ),
        ));
    }
    Ok(Box::new(move |cx| {
        if !matches!(target.get(cx)?, Value::Map(_)) {
            return Ok(());
        }
        let map = target.map_mut(cx)?;
        if map.len() as i64 <= limit {
            return Ok(());
        }
        let mut count = keys.iter().filter(|k| attrs::get(map, k).is_some()).count() as i64;
        attrs::retain(map, |k, _| {
            if keys.iter().any(|p| p == k) {
                true
            } else if count < limit {
                count += 1;
                true
            } else {
                false
            }
        });
        Ok(())
    }))
}

/// `merge_maps(target, source, strategy)`: copies the source map's entries into the
/// target: `insert` only new keys, `update` only existing ones, `upsert` both.
fn merge_maps(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    #[derive(Clone, Copy)]
    enum Strategy {
        Insert,
        Update,
        Upsert,
    }
    let target = args.path(0)?;
    let source = args.expr(1)?;
    let strategy = match args.string(2)?.as_str() {
        "insert" => Strategy::Insert,
        "update" => Strategy::Update,
        "upsert" => Strategy::Upsert,
        other => {
            return Err(
                args.error(2, format!("invalid value for strategy, {other}, must be 'insert', 'update' or 'upsert'"))
            )
        }
    };
    Ok(Box::new(move |cx| {
        let source = match source.eval(cx)? {
            Value::Map(m) => m.into_owned(),
            other => return Err(EvalError::new(format!("expected pcommon.Map but got {}", other.type_name()))),
        };
        let map = target.map_mut(cx)?;
        for kv in source {
            let v = kv.value.unwrap_or_default();
            match strategy {
                Strategy::Insert => {
                    attrs::insert(map, kv.key, v);
                }
                Strategy::Update => {
                    attrs::update(map, &kv.key, v);
                }
                Strategy::Upsert => {
                    attrs::upsert(map, kv.key, v);
                }
            }
        }
        Ok(())
    }))
}

fn glob_arg(args: &Args<'_>, i: usize) -> Result<regex::Regex, CheckError> {
    let pattern = args.string(i)?;
    crate::glob::compile(&pattern)
        .map_err(|e| args.error(i, format!("the pattern supplied to {} is not a valid pattern: {e}", args.name())))
}

/// The optional `function` and `replacementFormat` arguments (hashing the replacement)
/// are not run yet: config loading says so rather than ignoring them.
/// The replacement through the optional hash function and format (upstream: the
/// replacement string is hashed, then formatted).
fn hashed(
    hash: Option<&super::core::ReplaceFn>,
    cx: &crate::eval::EvalContext<'_>,
    replacement: String,
) -> Result<String, EvalError> {
    match hash {
        Some(h) => Ok(h.finish(h.format(cx)?.as_deref(), &replacement)),
        None => Ok(replacement),
    }
}

fn replacement_of(v: Value<'_>) -> Result<String, EvalError> {
    match v {
        Value::Str(s) => Ok(s.into_owned()),
        other => Err(EvalError::new(format!("expected string but got {}", other.type_name()))),
    }
}

/// `replace_match(target, pattern, replacement)`: a string value matching the glob
/// (as a whole) is replaced.
fn replace_match(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let glob = glob_arg(args, 1)?;
    let replacement = args.expr(2)?;
    let hash = super::core::replace_fn(args, 3)?;
    Ok(Box::new(move |cx| {
        let matched = matches!(target.get(cx)?, Value::Str(s) if glob.is_match(&s));
        if !matched {
            return Ok(());
        }
        let rep = hashed(hash.as_ref(), cx, replacement_of(replacement.eval(cx)?)?)?;
        target.set(cx, Value::Str(Cow::Owned(rep)))
    }))
}

/// `replace_all_matches(target, pattern, replacement)`: every top-level string value of
/// the map that matches the glob is replaced.
fn replace_all_matches(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    let glob = glob_arg(args, 1)?;
    let replacement = args.expr(2)?;
    let hash = super::core::replace_fn(args, 3)?;
    Ok(Box::new(move |cx| {
        let rep = hashed(hash.as_ref(), cx, replacement_of(replacement.eval(cx)?)?)?;
        for kv in target.map_mut(cx)?.iter_mut() {
            if let Some(any_value::Value::StringValue(s)) = kv.value.as_mut().and_then(|v| v.value.as_mut()) {
                if glob.is_match(s) {
                    s.clone_from(&rep);
                }
            }
        }
        Ok(())
    }))
}

/// `stringify_all(target)`: every top-level value of the map that is not a string becomes
/// its string form (the Collector's `AsString`: JSON for maps and lists, base64 for bytes,
/// `""` for the empty value).
fn stringify_all(args: &Args<'_>) -> Result<EditorFn, CheckError> {
    let target = args.path(0)?;
    Ok(Box::new(move |cx| {
        for kv in target.map_mut(cx)?.iter_mut() {
            let value = kv.value.get_or_insert_with(AnyValue::default);
            if !matches!(value.value, Some(any_value::Value::StringValue(_))) {
                let text = switchyard_pdata::value::as_string(value).into_owned();
                value.value = Some(any_value::Value::StringValue(text));
            }
        }
        Ok(())
    }))
}
