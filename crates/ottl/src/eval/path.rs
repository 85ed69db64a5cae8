//! Compiled paths: a resolved field of one context level plus its `[…]` keys, and how to
//! read and write it on an [`EvalContext`].
//!
//! Reading borrows from the telemetry (`attributes["k"]` is the attribute itself, not a
//! copy). Writing follows the Collector's setters: a value of the wrong type for a scalar
//! field is ignored, `nil` is never written (`set` skips it), and writing below a missing
//! map key creates the map.

use std::borrow::Cow;

use smallvec::SmallVec;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue, KeyValueList};

use super::context::EvalContext;
use super::expr::Expr;
use super::fields::Field;
use super::value::Value;
use super::EvalError;
use crate::paths::Context;

/// One `[…]` index, compiled.
#[derive(Debug)]
pub(crate) enum Key {
    /// `["k"]`
    Str(String),
    /// `[0]`
    Int(i64),
    /// `[expr]`, checked at run time to yield a string or an int.
    Expr(Box<Expr>),
}

/// A key after evaluation.
#[derive(Debug, Clone)]
pub(crate) enum KeyVal<'k> {
    Str(Cow<'k, str>),
    Int(i64),
}

/// A path resolved against the statement's context.
#[derive(Debug)]
pub struct Path {
    pub(crate) level: Context,
    pub(crate) field: Field,
    pub(crate) keys: Vec<Key>,
}

impl Path {
    /// Reads the value the path points at; `nil` when a key is missing.
    pub fn get<'c>(&'c self, cx: &'c EvalContext<'_>) -> Result<Value<'c>, EvalError> {
        let base = cx.get_field(self.level, self.field)?;
        if self.keys.is_empty() {
            return Ok(base);
        }
        if self.field == Field::TraceState {
            let (Value::Str(state), [key]) = (base, self.keys.as_slice()) else {
                return Err(EvalError::new("trace_state takes one string key"));
            };
            let KeyVal::Str(k) = key_val(key, cx)? else {
                return Err(EvalError::new("trace_state keys are strings"));
            };
            let found = trace_state_get(&state, &k).map(str::to_string);
            return Ok(found.map_or(Value::Nil, |v| Value::Str(Cow::Owned(v))));
        }
        // Key by key, without collecting them: a literal key is borrowed from the path.
        let mut v = base;
        for key in &self.keys {
            v = index_value(v, std::slice::from_ref(&key_val(key, cx)?))?;
        }
        Ok(v)
    }

    /// The keys for a write: literals borrowed from the path, computed keys evaluated first
    /// (so the record is free to be borrowed mutably afterwards). No allocation for the usual
    /// one or two literal keys.
    fn write_keys(&self, cx: &EvalContext<'_>) -> Result<SmallVec<[KeyVal<'_>; 4]>, EvalError> {
        self.keys
            .iter()
            .map(|k| {
                Ok(match k {
                    Key::Str(s) => KeyVal::Str(Cow::Borrowed(s.as_str())),
                    Key::Int(i) => KeyVal::Int(*i),
                    Key::Expr(_) => match key_val(k, cx)? {
                        KeyVal::Str(s) => KeyVal::Str(Cow::Owned(s.into_owned())),
                        KeyVal::Int(i) => KeyVal::Int(i),
                    },
                })
            })
            .collect()
    }

    /// Writes `value` where the path points.
    pub fn set(&self, cx: &mut EvalContext<'_>, value: Value<'_>) -> Result<(), EvalError> {
        if self.keys.is_empty() {
            return cx.set_field(self.level, self.field, value);
        }
        if self.field == Field::TraceState {
            let keys = self.write_keys(cx)?;
            let (Value::Str(v), [KeyVal::Str(k)]) = (value, keys.as_slice()) else {
                return Ok(());
            };
            let Value::Str(state) = cx.get_field(self.level, self.field)? else { return Ok(()) };
            let updated = trace_state_set(&state, k, &v);
            return cx.set_field(self.level, self.field, Value::Str(Cow::Owned(updated)));
        }
        let keys = self.write_keys(cx)?;
        let root = cx.value_root_mut(self.level, self.field)?;
        set_in(root, &keys, value.into_any())
    }

    /// The map the path points at, for editors that change a map in place (`delete_key`,
    /// `keep_keys`, `merge_maps`, …). An error when it is not a map, as upstream's
    /// `PMapGetter` reports.
    pub fn map_mut<'m>(&self, cx: &'m mut EvalContext<'_>) -> Result<&'m mut Vec<KeyValue>, EvalError> {
        let keys = self.write_keys(cx)?;
        let root = cx.value_root_mut(self.level, self.field)?;
        let mut node = root;
        for key in &keys {
            node = match node {
                Root::Map(m) => Root::Any(lookup_map_mut(m, key)?.ok_or_else(|| not_a_map("nil"))?),
                Root::Any(v) => Root::Any(step_mut(v, key)?.ok_or_else(|| not_a_map("nil"))?),
            };
        }
        match node {
            Root::Map(m) => Ok(m),
            Root::Any(v) => match &mut v.value {
                Some(any_value::Value::KvlistValue(kv)) => Ok(&mut kv.values),
                other => Err(not_a_map(any_type(other))),
            },
        }
    }

    /// Whether the path is a map at its root with no keys (`attributes`, `cache`): editors
    /// that take the whole map know it exists.
    pub fn context(&self) -> Context {
        self.level
    }
}

/// The value of `key` in a W3C `tracestate` (`k1=v1,k2=v2`).
fn trace_state_get<'s>(state: &'s str, key: &str) -> Option<&'s str> {
    state.split(',').filter_map(|m| m.trim().split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// `state` with `key` set to `value`: an existing entry is replaced and, as W3C requires for
/// an updated key, moved to the front; a new one is added at the front.
fn trace_state_set(state: &str, key: &str, value: &str) -> String {
    let mut out = format!("{key}={value}");
    for m in state.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        if m.split_once('=').is_some_and(|(k, _)| k == key) {
            continue;
        }
        out.push(',');
        out.push_str(m);
    }
    out
}

fn not_a_map(got: &str) -> EvalError {
    EvalError::new(format!("expected pcommon.Map but got {got}"))
}

fn any_type(v: &Option<any_value::Value>) -> &'static str {
    use any_value::Value as V;
    match v {
        None | Some(V::StringValueStrindex(_)) => "nil",
        Some(V::StringValue(_)) => "string",
        Some(V::BoolValue(_)) => "bool",
        Some(V::IntValue(_)) => "int64",
        Some(V::DoubleValue(_)) => "float64",
        Some(V::BytesValue(_)) => "[]byte",
        Some(V::ArrayValue(_)) => "pcommon.Slice",
        Some(V::KvlistValue(_)) => "pcommon.Map",
    }
}

/// Evaluates every key; an expression key must give a string or an int.
pub(crate) fn eval_keys<'c>(keys: &'c [Key], cx: &'c EvalContext<'_>) -> Result<Vec<KeyVal<'c>>, EvalError> {
    keys.iter().map(|k| key_val(k, cx)).collect()
}

/// One key's value: a literal borrowed, an expression evaluated.
fn key_val<'c>(key: &'c Key, cx: &'c EvalContext<'_>) -> Result<KeyVal<'c>, EvalError> {
    match key {
        Key::Str(s) => Ok(KeyVal::Str(Cow::Borrowed(s.as_str()))),
        Key::Int(i) => Ok(KeyVal::Int(*i)),
        Key::Expr(e) => match e.eval(cx)? {
            Value::Str(s) => Ok(KeyVal::Str(Cow::Owned(s.into_owned()))),
            Value::Int(i) => Ok(KeyVal::Int(i)),
            other => Err(EvalError::new(format!(
                "could not resolve key for map/slice, expecting 'string' or 'int64', but got '{}'",
                other.type_name()
            ))),
        },
    }
}

/// Applies keys to a value read from the telemetry or computed by a converter.
pub(crate) fn index_value<'c>(mut v: Value<'c>, keys: &[KeyVal<'_>]) -> Result<Value<'c>, EvalError> {
    for key in keys {
        v = match (v, key) {
            (Value::Map(m), KeyVal::Str(k)) => match m {
                Cow::Borrowed(m) => switchyard_pdata::attrs::get(m, k).map_or(Value::Nil, Value::from_any),
                Cow::Owned(mut m) => {
                    switchyard_pdata::attrs::remove(&mut m, k).map_or(Value::Nil, Value::from_any_owned)
                }
            },
            (Value::Map(_), KeyVal::Int(_)) => {
                return Err(EvalError::new("unable to resolve a string index in map: invalid key type"))
            }
            (Value::List(l), KeyVal::Int(i)) => {
                let idx = usize::try_from(*i)
                    .ok()
                    .filter(|i| *i < l.len())
                    .ok_or_else(|| EvalError::new(format!("index {i} out of bounds")))?;
                match l {
                    Cow::Borrowed(l) => Value::from_any(&l[idx]),
                    Cow::Owned(mut l) => Value::from_any_owned(l.swap_remove(idx)),
                }
            }
            (Value::List(_), KeyVal::Str(_)) => return Err(EvalError::new(
                "unable to resolve an integer index in slice: could not resolve key for map/slice, expecting 'int64'",
            )),
            (Value::Nil, _) => Value::Nil,
            (other, KeyVal::Str(_)) => {
                return Err(EvalError::new(format!("type {} does not support string indexing", other.type_name())))
            }
            (other, KeyVal::Int(_)) => {
                return Err(EvalError::new(format!("type {} does not support integer indexing", other.type_name())))
            }
        };
    }
    Ok(v)
}

/// Where a keyed write starts: a map field (attributes, metadata, cache) or a value field
/// (a log body).
pub(crate) enum Root<'m> {
    Map(&'m mut Vec<KeyValue>),
    Any(&'m mut AnyValue),
}

fn lookup_map_mut<'m>(m: &'m mut [KeyValue], key: &KeyVal<'_>) -> Result<Option<&'m mut AnyValue>, EvalError> {
    match key {
        KeyVal::Str(k) => Ok(switchyard_pdata::attrs::get_mut(m, k)),
        KeyVal::Int(_) => Err(EvalError::new("unable to resolve a string index in map: invalid key type")),
    }
}

fn step_mut<'m>(v: &'m mut AnyValue, key: &KeyVal<'_>) -> Result<Option<&'m mut AnyValue>, EvalError> {
    step_value_mut(&mut v.value, key)
}

fn step_value_mut<'m>(
    v: &'m mut Option<any_value::Value>,
    key: &KeyVal<'_>,
) -> Result<Option<&'m mut AnyValue>, EvalError> {
    use any_value::Value as V;
    match (v, key) {
        (Some(V::KvlistValue(kv)), _) => lookup_map_mut(&mut kv.values, key),
        (Some(V::ArrayValue(a)), KeyVal::Int(i)) => {
            let len = a.values.len();
            let idx = usize::try_from(*i)
                .ok()
                .filter(|i| *i < len)
                .ok_or_else(|| EvalError::new(format!("index {i} out of bounds")))?;
            Ok(Some(&mut a.values[idx]))
        }
        (Some(V::ArrayValue(_)), KeyVal::Str(_)) => Err(EvalError::new(
            "unable to resolve an integer index in slice: could not resolve key for map/slice, expecting 'int64'",
        )),
        (None, _) => Ok(None),
        (other, _) => Err(EvalError::new(format!("type {} does not support indexing", any_type(other)))),
    }
}

/// Writes `value` under `keys`, creating maps for missing string keys (as upstream's
/// `SetMapValue`), and failing on a missing or out-of-range list index.
fn set_in(root: Root<'_>, keys: &[KeyVal<'_>], value: AnyValue) -> Result<(), EvalError> {
    let Some((last, path)) = keys.split_last() else {
        return Ok(());
    };
    let mut node = root;
    for key in path {
        node = match node {
            Root::Map(m) => Root::Any(entry(m, key)?),
            Root::Any(v) => Root::Any(child_mut(v, key)?),
        };
    }
    let slot = match node {
        Root::Map(m) => entry(m, last)?,
        Root::Any(v) => child_mut(v, last)?,
    };
    *slot = value;
    Ok(())
}

/// The child of `v` under `key` for writing: a missing value becomes a map, a map gets the
/// entry created, a list must have the index.
fn child_mut<'m>(v: &'m mut AnyValue, key: &KeyVal<'_>) -> Result<&'m mut AnyValue, EvalError> {
    if v.value.is_none() {
        v.value = Some(any_value::Value::KvlistValue(KeyValueList::default()));
    }
    match &mut v.value {
        Some(any_value::Value::KvlistValue(kv)) => entry(&mut kv.values, key),
        other => step_value_mut(other, key)?.ok_or_else(|| EvalError::new("index out of bounds")),
    }
}

/// The entry for `key` in a map, created empty when absent.
fn entry<'m>(m: &'m mut Vec<KeyValue>, key: &KeyVal<'_>) -> Result<&'m mut AnyValue, EvalError> {
    let KeyVal::Str(k) = key else {
        return Err(EvalError::new("unable to resolve a string index in map: invalid key type"));
    };
    let i = match m.iter().position(|kv| kv.key == *k) {
        Some(i) => i,
        None => {
            m.push(KeyValue { key: k.to_string(), value: Some(AnyValue::default()), ..Default::default() });
            m.len() - 1
        }
    };
    Ok(m[i].value.get_or_insert_with(AnyValue::default))
}
