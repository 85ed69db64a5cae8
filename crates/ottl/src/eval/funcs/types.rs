//! Type tests (`IsString`, `IsMap`, …, `IsEmpty`) and conversions (`Int`, `Double`,
//! `String`, `Bool`) with upstream's `*LikeGetter` rules ([`like`]): `nil` converts to `nil`.

use std::borrow::Cow;

use super::{like, Args, ConverterBuilder};
use crate::check::CheckError;
use crate::eval::expr::ConverterFn;
use crate::eval::value::Value;

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "IsString" => is_string,
        "IsMap" => is_map,
        "IsInt" => is_int,
        "IsDouble" => is_double,
        "IsBool" => is_bool,
        "IsList" => is_list,
        "IsEmpty" => is_empty,
        "Int" => int,
        "Double" => double,
        "String" => string,
        "Bool" => boolean,
        _ => return None,
    })
}

fn is(args: &Args<'_>, test: fn(&Value<'_>) -> bool) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| Ok(Value::Bool(test(&target.eval(cx)?)))))
}

fn is_string(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    is(args, |v| matches!(v, Value::Str(_)))
}

fn is_map(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    is(args, |v| matches!(v, Value::Map(_)))
}

fn is_int(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    is(args, |v| matches!(v, Value::Int(_)))
}

fn is_double(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    is(args, |v| matches!(v, Value::Double(_)))
}

fn is_bool(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    is(args, |v| matches!(v, Value::Bool(_)))
}

fn is_list(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    is(args, |v| matches!(v, Value::List(_)))
}

/// `IsEmpty(value)`: `nil`, and a zero-length string, map, list or byte slice; an id is
/// empty when all zero (pdata's `IsEmpty`), a number or bool when zero (Go's `IsZero`).
fn is_empty(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let id = like::is_id_expr(&target);
    Ok(Box::new(move |cx| {
        let empty = match target.eval(cx)? {
            Value::Nil => true,
            Value::Str(s) => s.is_empty(),
            Value::Map(m) => m.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Bytes(b) => b.is_empty() || (id && b.iter().all(|x| *x == 0)),
            Value::Int(i) | Value::Duration(i) => i == 0,
            Value::Double(d) => d == 0.0,
            Value::Bool(b) => !b,
            Value::Time(_) => false,
        };
        Ok(Value::Bool(empty))
    }))
}

/// `Int(value)`: doubles truncated toward zero, booleans 1/0, base-10 strings parsed (a
/// string that is not a number gives `nil`).
fn int(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| Ok(like::int_like(&target.eval(cx)?)?.map_or(Value::Nil, Value::Int))))
}

/// `Double(value)`: integers, booleans 1/0, and strings parsed (an error when not a number).
fn double(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| Ok(like::float_like(&target.eval(cx)?)?.map_or(Value::Nil, Value::Double))))
}

/// `Bool(value)`: numbers `!= 0`, strings as Go's `strconv.ParseBool`.
fn boolean(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| Ok(like::bool_like(&target.eval(cx)?)?.map_or(Value::Nil, Value::Bool))))
}

/// `String(value)`: `StringLikeGetter` (bytes as hex, maps and lists as JSON, ids as JSON
/// arrays of numbers).
fn string(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let id = like::is_id_expr(&target);
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        Ok(match like::string_like(&v, id)? {
            None => Value::Nil,
            Some(s) => Value::Str(Cow::Owned(s.into_owned())),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{err, ok, s};
    use crate::eval::value::Value;

    fn b(v: bool) -> Value<'static> {
        Value::Bool(v)
    }

    #[test]
    fn type_tests() {
        assert_eq!(ok(r#"IsString(attributes["http.method"])"#), b(true));
        assert_eq!(ok(r#"IsString(attributes["int"])"#), b(false));
        assert_eq!(ok(r#"IsMap(attributes["foo"])"#), b(true));
        assert_eq!(ok(r#"IsMap(attributes["nope"])"#), b(false));
        assert_eq!(ok(r#"IsInt(attributes["int"])"#), b(true));
        assert_eq!(ok(r#"IsInt(attributes["double"])"#), b(false));
        assert_eq!(ok(r#"IsDouble(attributes["double"])"#), b(true));
        assert_eq!(ok(r#"IsBool(attributes["bool"])"#), b(true));
        assert_eq!(ok(r#"IsList(attributes["list"])"#), b(true));
        assert_eq!(ok(r#"IsList(Split("a,b", ","))"#), b(true));
        assert_eq!(ok(r#"IsList(attributes["foo"])"#), b(false));
    }

    #[test]
    fn is_empty_as_go() {
        assert_eq!(ok(r#"IsEmpty(attributes["nope"])"#), b(true));
        assert_eq!(ok(r#"IsEmpty(attributes["empty"])"#), b(true));
        assert_eq!(ok(r#"IsEmpty(attributes["http.method"])"#), b(false));
        assert_eq!(ok(r#"IsEmpty({})"#), b(true));
        assert_eq!(ok(r#"IsEmpty([])"#), b(true));
        assert_eq!(ok(r#"IsEmpty(attributes["foo"])"#), b(false));
        assert_eq!(ok(r#"IsEmpty(0)"#), b(true));
        assert_eq!(ok(r#"IsEmpty(SpanID(0x0000000000000000))"#), b(true));
        assert_eq!(ok(r#"IsEmpty(span_id)"#), b(false));
    }

    #[test]
    fn int_conversions() {
        assert_eq!(ok(r#"Int(1.0)"#), Value::Int(1));
        assert_eq!(ok(r#"Int(3.7)"#), Value::Int(3));
        assert_eq!(ok(r#"Int(-3.7)"#), Value::Int(-3));
        assert_eq!(ok(r#"Int("50")"#), Value::Int(50));
        assert_eq!(ok(r#"Int("5.5")"#), Value::Nil);
        assert_eq!(ok(r#"Int(true)"#), Value::Int(1));
        assert_eq!(ok(r#"Int(attributes["nope"])"#), Value::Nil);
        assert_eq!(err(r#"Int(attributes["foo"])"#), "unsupported type: pcommon.Map");
    }

    #[test]
    fn double_conversions() {
        assert_eq!(ok(r#"Double("1")"#), Value::Double(1.0));
        assert_eq!(ok(r#"Double(50)"#), Value::Double(50.0));
        assert_eq!(ok(r#"Double(false)"#), Value::Double(0.0));
        assert_eq!(ok(r#"Double("1.5e3")"#), Value::Double(1500.0));
        assert_eq!(err(r#"Double("x")"#), "strconv.ParseFloat: parsing \"x\": invalid syntax");
        assert_eq!(ok(r#"Double(attributes["nope"])"#), Value::Nil);
    }

    #[test]
    fn bool_conversions() {
        assert_eq!(ok(r#"Bool("true")"#), b(true));
        assert_eq!(ok(r#"Bool("F")"#), b(false));
        assert_eq!(ok(r#"Bool(0)"#), b(false));
        assert_eq!(ok(r#"Bool(2.5)"#), b(true));
        assert_eq!(err(r#"Bool("yes")"#), "strconv.ParseBool: parsing \"yes\": invalid syntax");
        assert_eq!(ok(r#"Bool(attributes["nope"])"#), Value::Nil);
    }

    #[test]
    fn string_conversions() {
        assert_eq!(ok(r#"String(span_id)"#), s("[1,2,3,4,5,6,7,8]"));
        assert_eq!(ok(r#"String(attributes["bytes"])"#), s("dead"));
        assert_eq!(ok(r#"String(attributes["int"])"#), s("5"));
        assert_eq!(ok(r#"String(attributes["double"])"#), s("1.5"));
        assert_eq!(ok(r#"String(1.0)"#), s("1"));
        assert_eq!(ok(r#"String(true)"#), s("true"));
        assert_eq!(ok(r#"String(attributes["foo"])"#), s(r#"{"bar":"pass","n":2}"#));
        assert_eq!(ok(r#"String(attributes["list"])"#), s(r#"["a",1,"b"]"#));
        assert_eq!(ok(r#"String({"a": "<b>"})"#), s(r#"{"a":"\u003cb\u003e"}"#));
        assert_eq!(ok(r#"String(attributes["nope"])"#), Value::Nil);
    }
}
