//! Map and list converters (`Keys`, `Values`, `ContainsValue`, `SliceToMap`, `Sort`,
//! `Coalesce`) and the small checks `IsInCIDR`, `IsValidLuhn` and `Log`.

use std::borrow::Cow;
use std::cmp::Ordering;

use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::value::{as_string, str_value};

use super::cidr::Cidr;
use super::gofmt::{sprintf, Arg};
use super::{like, Args, ConverterBuilder};
use crate::ast::CompareOp;
use crate::check::CheckError;
use crate::eval::expr::{ConverterFn, Expr};
use crate::eval::value::{compare, Value};
use crate::eval::EvalError;

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "Keys" => keys,
        "Values" => values,
        "ContainsValue" => contains_value,
        "SliceToMap" => slice_to_map,
        "Sort" => sort,
        "Coalesce" => coalesce,
        "IsInCIDR" => is_in_cidr,
        "IsValidLuhn" => is_valid_luhn,
        "Log" => log,
        _ => return None,
    })
}

/// `Keys(map)`: the keys in map order.
fn keys(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let keys = like::map(&v)?.iter().map(|kv| str_value(kv.key.as_str())).collect();
        Ok(Value::List(Cow::Owned(keys)))
    }))
}

/// `Values(map)`: the values in map order.
fn values(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let values = like::map(&v)?.iter().map(|kv| attrs::value_of(kv).clone()).collect();
        Ok(Value::List(Cow::Owned(values)))
    }))
}

/// `ContainsValue(list, item)`: whether an item equals `item` by the comparison rules
/// (`1 == 1.0`, maps by content).
fn contains_value(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let item = args.expr(1)?;
    Ok(Box::new(move |cx| {
        let list = target.eval(cx)?;
        let item = item.eval(cx)?;
        let found = like::slice(&list)?.iter().any(|v| compare(&Value::from_any(v), &item, CompareOp::Eq));
        Ok(Value::Bool(found))
    }))
}

/// pcommon's `ValueType` names, as upstream's messages print them.
fn value_type(v: &AnyValue) -> &'static str {
    use any_value::Value as V;
    match &v.value {
        None | Some(V::StringValueStrindex(_)) => "Empty",
        Some(V::StringValue(_)) => "Str",
        Some(V::BoolValue(_)) => "Bool",
        Some(V::IntValue(_)) => "Int",
        Some(V::DoubleValue(_)) => "Double",
        Some(V::BytesValue(_)) => "Bytes",
        Some(V::ArrayValue(_)) => "Slice",
        Some(V::KvlistValue(_)) => "Map",
    }
}

fn as_map(v: &AnyValue) -> Option<&[KeyValue]> {
    match &v.value {
        Some(any_value::Value::KvlistValue(m)) => Some(&m.values),
        _ => None,
    }
}

/// The value at `path` inside nested maps.
fn extract<'m>(m: &'m [KeyValue], path: &[String]) -> Result<&'m AnyValue, EvalError> {
    let missing = || EvalError::new(format!("provided object does not contain the path [{}]", path.join(" ")));
    let mut current = m;
    for (i, key) in path.iter().enumerate() {
        let v = attrs::get(current, key).ok_or_else(missing)?;
        if i + 1 == path.len() {
            return Ok(v);
        }
        current = as_map(v).ok_or_else(missing)?;
    }
    Err(EvalError::new("must provide at least one path item"))
}

/// `SliceToMap(list, key_path?, value_path?)`: a map keyed by the string at `key_path` in
/// each (map) item, or by the item's index without one; the value is the item, or what is
/// at `value_path`. A later item replaces an earlier one with the same key.
fn slice_to_map(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let key_path = if args.has(1) { Some(args.strings(1)?) } else { None };
    let value_path = if args.has(2) { Some(args.strings(2)?) } else { None };
    for (i, p) in [(1, &key_path), (2, &value_path)] {
        if p.as_ref().is_some_and(Vec::is_empty) {
            return Err(args.error(i, "must provide at least one path item"));
        }
    }
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let items = like::slice(&v)?;
        let mut out: Vec<KeyValue> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let map = if key_path.is_some() || value_path.is_some() {
                Some(as_map(item).ok_or_else(|| {
                    EvalError::new(format!(
                        "slice elements must be maps when using `key_path` or `value_path`, but could not cast element of type `{}` to a map",
                        value_type(item)
                    ))
                })?)
            } else {
                None
            };
            let key = match (&key_path, map) {
                (Some(path), Some(m)) => {
                    let k = extract(m, path)
                        .map_err(|e| EvalError::new(format!("could not extract key from element {i}: {e}")))?;
                    match &k.value {
                        Some(any_value::Value::StringValue(s)) => s.clone(),
                        _ => {
                            return Err(EvalError::new(format!(
                                "element {i}: extracted key attribute is not of type string, got \"{}\"",
                                value_type(k)
                            )))
                        }
                    }
                }
                _ => i.to_string(),
            };
            let value = match (&value_path, map) {
                (Some(path), Some(m)) => extract(m, path)
                    .map_err(|e| EvalError::new(format!("could not extract value from element {i}: {e}")))?,
                _ => item,
            };
            attrs::upsert(&mut out, key.as_str(), value.clone());
        }
        Ok(Value::Map(Cow::Owned(out)))
    }))
}

/// Go's `cmp.Compare` for floats: NaN sorts first.
fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// How `Sort` compares a list: all ints as ints, ints and doubles as doubles, and any mix
/// with strings, booleans or empty values by their string form. Lists holding maps, lists
/// or bytes are returned unsorted.
enum SortKey {
    Int(Vec<i64>),
    Double(Vec<f64>),
    Str(Vec<String>),
}

fn sort_key(items: &[AnyValue]) -> Option<SortKey> {
    use any_value::Value as V;
    let (mut doubles, mut strings) = (false, false);
    for item in items {
        match &item.value {
            Some(V::IntValue(_)) => {}
            Some(V::DoubleValue(_)) => doubles = true,
            Some(V::StringValue(_) | V::BoolValue(_)) | None => strings = true,
            _ => return None,
        }
    }
    let number = |v: &AnyValue| match v.value {
        Some(V::IntValue(i)) => i as f64,
        Some(V::DoubleValue(d)) => d,
        _ => 0.0,
    };
    Some(if strings {
        SortKey::Str(items.iter().map(|v| as_string(v).into_owned()).collect())
    } else if doubles {
        SortKey::Double(items.iter().map(number).collect())
    } else {
        SortKey::Int(items.iter().map(|v| number(v) as i64).collect())
    })
}

/// `Sort(list, order?)`: ascending (default) or `desc`; items keep their types. A value that
/// is not a list is returned as it is.
fn sort(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let order = args.opt_string(1)?.unwrap_or_else(|| "asc".into());
    if order != "asc" && order != "desc" {
        return Err(args.error(1, format!("invalid arguments: {order}. Order should be either \"asc\" or \"desc\"")));
    }
    let desc = order == "desc";
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let Value::List(items) = &v else { return Ok(v.into_owned()) };
        let Some(key) = sort_key(items) else { return Ok(v.into_owned()) };
        let mut idx: Vec<usize> = (0..items.len()).collect();
        let ordering = |a: &usize, b: &usize| match &key {
            SortKey::Int(k) => k[*a].cmp(&k[*b]),
            SortKey::Double(k) => cmp_f64(k[*a], k[*b]),
            SortKey::Str(k) => k[*a].cmp(&k[*b]),
        };
        if desc {
            idx.sort_by(|a, b| ordering(b, a));
        } else {
            idx.sort_by(ordering);
        }
        Ok(Value::List(Cow::Owned(idx.into_iter().map(|i| items[i].clone()).collect())))
    }))
}

/// `Coalesce([values])`: the first value that is not `nil`; later values are not evaluated.
fn coalesce(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let values = args.expr(0)?;
    if let Expr::List(items) = values {
        return Ok(Box::new(move |cx| {
            if items.is_empty() {
                return Err(EvalError::new("Coalesce requires at least one value"));
            }
            for e in &items {
                let v = e.eval(cx)?;
                if !v.is_nil() {
                    return Ok(v.into_owned());
                }
            }
            Ok(Value::Nil)
        }));
    }
    Ok(Box::new(move |cx| {
        let v = values.eval(cx)?;
        let first = like::slice(&v)?.iter().map(Value::from_any).find(|v| !v.is_nil());
        Ok(first.map_or(Value::Nil, Value::into_owned))
    }))
}

/// `IsInCIDR(ip, [networks])`: whether the IP is in any network; a value that is not an
/// IP address is simply not in any. Literal networks are parsed once, at load time.
fn is_in_cidr(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let networks = args.expr(1)?;
    let literal: Option<Vec<Cidr>> = match &networks {
        Expr::List(items) if items.iter().all(|e| matches!(e, Expr::Lit(Value::Str(_)))) => Some(
            items
                .iter()
                .filter_map(|e| e.literal_str())
                .map(|s| Cidr::parse(s).map_err(|e| args.error(1, e.message())))
                .collect::<Result<_, _>>()?,
        ),
        _ => None,
    };
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let Some(ip) = super::cidr::parse_ip(like::string(&v)?) else { return Ok(Value::Bool(false)) };
        if let Some(nets) = &literal {
            return Ok(Value::Bool(nets.iter().any(|n| n.contains(&ip))));
        }
        let list = networks.eval(cx)?;
        for n in like::slice(&list)? {
            let n = Value::from_any(n);
            if Cidr::parse(like::string(&n)?)?.contains(&ip) {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }))
}

/// `IsValidLuhn(value)`: the Luhn checksum over the digits (spaces ignored); any other
/// character is an error, an empty value is `false`.
fn is_valid_luhn(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let id = like::is_id_expr(&target);
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let Some(s) = like::string_like(&v, id)? else { return Err(EvalError::new("invalid input: <nil>")) };
        let digits: Vec<char> = s.chars().filter(|c| *c != ' ').collect();
        let mut sum = 0;
        for (i, c) in digits.iter().rev().enumerate() {
            let mut n = c
                .to_digit(10)
                .ok_or_else(|| EvalError::new(format!("strconv.Atoi: parsing \"{c}\": invalid syntax")))?;
            if i % 2 == 1 {
                n *= 2;
                if n > 9 {
                    n -= 9;
                }
            }
            sum += n;
        }
        Ok(Value::Bool(!digits.is_empty() && sum % 10 == 0))
    }))
}

/// `Log(value)`: the natural logarithm of a positive number (`FloatLikeGetter`).
fn log(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let Some(x) = like::float_like(&target.eval(cx)?)? else {
            return Err(EvalError::new("invalid input: <nil>"));
        };
        if x <= 0.0 {
            let shown = sprintf("%v", &[Arg { value: Value::Double(x), id: false }]);
            return Err(EvalError::new(format!("invalid input: expected number greater than zero but got {shown}")));
        }
        Ok(Value::Double(x.ln()))
    }))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use switchyard_pdata::value::{bool_value, double_value, int_value, str_value};

    use super::super::testutil::{compile_error, err, ok, s, strs};
    use crate::eval::value::Value;

    fn b(v: bool) -> Value<'static> {
        Value::Bool(v)
    }

    #[test]
    fn keys_and_values() {
        assert_eq!(ok(r#"Keys(attributes["foo"])"#), strs(&["bar", "n"]));
        assert_eq!(ok(r#"Values(attributes["foo"])"#), Value::List(Cow::Owned(vec![str_value("pass"), int_value(2)])));
        assert_eq!(err(r#"Keys(attributes["list"])"#), "expected pcommon.Map but got pcommon.Slice");
    }

    #[test]
    fn contains_value_compares_like_conditions() {
        assert_eq!(ok(r#"ContainsValue(attributes["list"], "b")"#), b(true));
        assert_eq!(ok(r#"ContainsValue(attributes["list"], 1.0)"#), b(true));
        assert_eq!(ok(r#"ContainsValue(attributes["list"], "z")"#), b(false));
        assert_eq!(ok(r#"ContainsValue(["a", {"k": 1}], {"k": 1})"#), b(true));
        assert_eq!(err(r#"ContainsValue(attributes["foo"], "b")"#), "expected pcommon.Slice but got pcommon.Map");
    }

    #[test]
    fn slice_to_map_paths() {
        let by_name = ok(r#"SliceToMap(attributes["things"], ["name"])"#);
        assert_eq!(ok(r#"Keys(SliceToMap(attributes["things"], ["name"]))"#), strs(&["foo", "bar"]));
        let Value::Map(m) = by_name else { panic!("not a map") };
        assert_eq!(m.len(), 2);
        assert_eq!(ok(r#"SliceToMap(attributes["things"], ["name"], ["value"])["bar"]"#), Value::Int(5));
        assert_eq!(ok(r#"SliceToMap(["x", "y"])["1"]"#), s("y"));
        assert_eq!(
            err(r#"SliceToMap(attributes["list"], ["name"])"#),
            "slice elements must be maps when using `key_path` or `value_path`, but could not cast element of type `Str` to a map"
        );
        assert_eq!(
            err(r#"SliceToMap(attributes["things"], ["nope"])"#),
            "could not extract key from element 0: provided object does not contain the path [nope]"
        );
        assert_eq!(
            err(r#"SliceToMap(attributes["things"], ["value"])"#),
            "element 0: extracted key attribute is not of type string, got \"Int\""
        );
    }

    #[test]
    fn sort_by_common_type() {
        assert_eq!(ok(r#"Sort(Split(attributes["flags"], "|"), "desc")"#), strs(&["C", "B", "A"]));
        assert_eq!(
            ok(r#"Sort([false, Int(11), Double(2.2), "three"])"#),
            Value::List(Cow::Owned(vec![int_value(11), double_value(2.2), bool_value(false), str_value("three")]))
        );
        assert_eq!(
            ok(r#"Sort([3, 1.5, 2])"#),
            Value::List(Cow::Owned(vec![double_value(1.5), int_value(2), int_value(3)]))
        );
        assert_eq!(
            ok(r#"Sort([10, 9, 100])"#),
            Value::List(Cow::Owned(vec![int_value(9), int_value(10), int_value(100)]))
        );
        assert_eq!(ok(r#"Sort("not a list")"#), s("not a list"));
        assert_eq!(ok(r#"Sort([{"a": 1}, 2])"#), ok(r#"[{"a": 1}, 2]"#));
        assert!(compile_error(r#"Sort([1], "up")"#)
            .contains(r#"invalid arguments: up. Order should be either "asc" or "desc""#));
    }

    #[test]
    fn coalesce_first_non_nil() {
        assert_eq!(ok(r#"Coalesce([attributes["nope"], attributes["http.method"], attributes["int"]])"#), s("get"));
        assert_eq!(ok(r#"Coalesce([attributes["nope"]])"#), Value::Nil);
        assert_eq!(err(r#"Coalesce([])"#), "Coalesce requires at least one value");
    }

    #[test]
    fn cidr_membership() {
        assert_eq!(ok(r#"IsInCIDR("192.168.1.10", ["10.0.0.0/8", "192.168.0.0/16"])"#), b(true));
        assert_eq!(ok(r#"IsInCIDR("172.16.0.1", ["10.0.0.0/8", "192.168.0.0/16"])"#), b(false));
        assert_eq!(ok(r#"IsInCIDR("2001:db8::1", ["2001:db8::/32"])"#), b(true));
        assert_eq!(ok(r#"IsInCIDR("::ffff:10.1.2.3", ["10.0.0.0/8"])"#), b(true));
        assert_eq!(ok(r#"IsInCIDR("not an ip", ["10.0.0.0/8"])"#), b(false));
        assert_eq!(ok(r#"IsInCIDR("10.1.2.3", Split("10.0.0.0/8,11.0.0.0/8", ","))"#), b(true));
        assert!(compile_error(r#"IsInCIDR("1.2.3.4", ["10.0.0.0/33"])"#).contains("invalid CIDR address: 10.0.0.0/33"));
    }

    #[test]
    fn luhn_checksum() {
        assert_eq!(ok(r#"IsValidLuhn("4111 1111 1111 1111")"#), b(true));
        assert_eq!(ok(r#"IsValidLuhn("4111111111111112")"#), b(false));
        assert_eq!(ok(r#"IsValidLuhn(79927398713)"#), b(true));
        assert_eq!(ok(r#"IsValidLuhn("")"#), b(false));
        assert_eq!(err(r#"IsValidLuhn("12a4")"#), "strconv.Atoi: parsing \"a\": invalid syntax");
        assert_eq!(err(r#"IsValidLuhn(attributes["nope"])"#), "invalid input: <nil>");
    }

    #[test]
    fn natural_log() {
        assert_eq!(ok("Log(1)"), Value::Double(0.0));
        assert_eq!(ok(r#"Log("2.718281828459045")"#), Value::Double(1.0));
        assert_eq!(err("Log(0)"), "invalid input: expected number greater than zero but got 0");
        assert_eq!(err("Log(-1.5)"), "invalid input: expected number greater than zero but got -1.5");
        assert_eq!(err(r#"Log(attributes["nope"])"#), "invalid input: <nil>");
    }
}
