//! String converters: `Split`, `Substring`, the case converters, `Trim*`, `Has*`, `Format`,
//! `Len` and `Index`. Targets are upstream's `StringGetter` unless noted: a value of another
//! type (or `nil`) is an `expected string but got …` error, which `error_mode` decides about.

use std::borrow::Cow;

use switchyard_pdata::value::str_value;

use super::gofmt::{self, Arg};
use super::{case, like, Args, ConverterBuilder};
use crate::check::CheckError;
use crate::eval::expr::{ConverterFn, Expr};
use crate::eval::value::{compare, Value};
use crate::eval::EvalError;

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "Split" => split,
        "Substring" => substring,
        "ToLowerCase" => to_lower_case,
        "ToUpperCase" => to_upper_case,
        "ConvertCase" => convert_case,
        "ToCamelCase" => to_camel_case,
        "ToSnakeCase" => to_snake_case,
        "Trim" => trim,
        "TrimPrefix" => trim_prefix,
        "TrimSuffix" => trim_suffix,
        "HasPrefix" => has_prefix,
        "HasSuffix" => has_suffix,
        "Format" => format,
        "Len" => len,
        "Index" => index,
        _ => return None,
    })
}

fn owned(s: String) -> Value<'static> {
    Value::Str(Cow::Owned(s))
}

/// A converter of one string argument to a new string.
fn string_map(args: &Args<'_>, f: fn(&str) -> String) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        Ok(owned(f(like::string(&v)?)))
    }))
}

fn to_lower_case(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_map(args, str::to_lowercase)
}

fn to_upper_case(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_map(args, str::to_uppercase)
}

fn to_camel_case(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_map(args, case::to_camel)
}

fn to_snake_case(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_map(args, case::to_snake)
}

/// `ConvertCase(target, toCase)`: `lower`, `upper`, `snake` or `camel` (UpperCamelCase), the
/// case checked at load time.
fn convert_case(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let to = args.string(1)?;
    let f: fn(&str) -> String = match to.as_str() {
        "lower" => str::to_lowercase,
        "upper" => str::to_uppercase,
        "snake" => case::to_snake,
        "camel" => case::to_camel,
        other => {
            return Err(args.error(1, format!("invalid case: {other}, allowed cases are: lower, upper, snake, camel")))
        }
    };
    string_map(args, f)
}

/// `Split(target, delimiter)`: Go's `strings.Split` (an empty delimiter splits into UTF-8
/// characters; an empty target gives `[""]`).
fn split(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let delimiter = args.string(1)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let s = like::string(&v)?;
        let parts: Vec<_> = if delimiter.is_empty() {
            s.chars().map(|c| str_value(c.to_string())).collect()
        } else {
            s.split(delimiter.as_str()).map(str_value).collect()
        };
        Ok(Value::List(Cow::Owned(parts)))
    }))
}

/// `Substring(target, start, length, utf8_safe?)`: byte offsets, or characters with
/// `utf8_safe`. A byte cut inside a character is kept valid UTF-8 by replacing the broken
/// character (Go would return the invalid bytes).
fn substring(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let start = args.expr(1)?;
    let length = args.expr(2)?;
    let utf8_safe = args.opt_bool(3)?.unwrap_or(false);
    Ok(Box::new(move |cx| {
        let start = like::int(&start.eval(cx)?)?;
        if start < 0 {
            return Err(EvalError::new(format!("invalid start for substring function, {start} cannot be negative")));
        }
        let length = like::int(&length.eval(cx)?)?;
        if length <= 0 {
            return Err(EvalError::new(format!(
                "invalid length for substring function, {length} cannot be negative or zero"
            )));
        }
        let v = target.eval(cx)?;
        let s = like::string(&v)?;
        let byte_len = s.len() as i64;
        if utf8_safe {
            let end = start.saturating_add(length);
            if end > byte_len {
                return Err(EvalError::new(format!(
                    "invalid range for substring function, start({start})+length({length}) exceeds byte length({byte_len}) of target string"
                )));
            }
            let mut bounds = s.char_indices().map(|(i, _)| i).chain(std::iter::once(s.len()));
            let runes = s.chars().count() as i64;
            let from = bounds.nth(start as usize);
            let to = from.and_then(|_| bounds.nth(length as usize - 1));
            return match (from, to) {
                (Some(f), Some(t)) => Ok(owned(s[f..t].to_string())),
                _ => Err(EvalError::new(format!(
                    "invalid range for substring function, start({start})+length({length}) cannot be greater than the rune length of target string({runes})"
                ))),
            };
        }
        if start > byte_len || length > byte_len - start {
            return Err(EvalError::new(format!(
                "invalid range for substring function, start({start})+length({length}) cannot be greater than the length of target string({byte_len})"
            )));
        }
        let bytes = &s.as_bytes()[start as usize..(start + length) as usize];
        Ok(owned(String::from_utf8_lossy(bytes).into_owned()))
    }))
}

/// `Trim(target, replacement?)`: strips the characters of `replacement` (default a space)
/// from both ends.
fn trim(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let cutset: Vec<char> = args.opt_string(1)?.unwrap_or_else(|| " ".into()).chars().collect();
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        Ok(owned(like::string(&v)?.trim_matches(cutset.as_slice()).to_string()))
    }))
}

/// A converter of a string and a second string argument.
fn string_pair(args: &Args<'_>, f: fn(&str, &str) -> Value<'static>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let other = args.expr(1)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let o = other.eval(cx)?;
        Ok(f(like::string(&v)?, like::string(&o)?))
    }))
}

fn trim_prefix(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_pair(args, |s, p| owned(s.strip_prefix(p).unwrap_or(s).to_string()))
}

fn trim_suffix(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_pair(args, |s, p| owned(s.strip_suffix(p).unwrap_or(s).to_string()))
}

fn has_prefix(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_pair(args, |s, p| Value::Bool(s.starts_with(p)))
}

fn has_suffix(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    string_pair(args, |s, p| Value::Bool(s.ends_with(p)))
}

/// `Format(format, [vals])`: Go's `fmt.Sprintf` ([`gofmt`]). Each list element is its own
/// getter, so `nil`, times and ids keep their type for the verbs.
fn format(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let template = args.string(0)?;
    let vals = match args.expr(1)? {
        Expr::List(items) => items,
        _ => return Err(args.error(1, "Format needs a list of values, e.g. [attributes[\"a\"], 2]")),
    };
    let ids: Vec<bool> = vals.iter().map(like::is_id_expr).collect();
    Ok(Box::new(move |cx| {
        let mut values = Vec::with_capacity(vals.len());
        for (e, id) in vals.iter().zip(&ids) {
            values.push(Arg { value: e.eval(cx)?, id: *id });
        }
        Ok(owned(gofmt::sprintf(&template, &values)))
    }))
}

/// `Len(target)`: bytes of a string, entries of a map, items of a list or of a byte slice.
fn len(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let n = match target.eval(cx)? {
            Value::Str(s) => s.len(),
            Value::Map(m) => m.len(),
            Value::List(l) => l.len(),
            Value::Bytes(b) => b.len(),
            _ => {
                return Err(EvalError::new(
                    "target arg must be of type string, []any, map[string]any, pcommon.Map, pcommon.Slice, or pcommon.Value (of type String, Map, Slice)",
                ))
            }
        };
        Ok(Value::Int(n as i64))
    }))
}

/// `Index(target, value)`: the byte offset of a substring, or the position of the first
/// equal list item; -1 when absent.
fn index(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let source = args.expr(0)?;
    let value = args.expr(1)?;
    Ok(Box::new(move |cx| {
        let s = source.eval(cx)?;
        let v = value.eval(cx)?;
        let at = match &s {
            Value::Str(s) => {
                let Value::Str(needle) = &v else {
                    return Err(EvalError::new("when source is string, value must also be string"));
                };
                s.find(needle.as_ref())
            }
            Value::List(items) => {
                items.iter().position(|item| compare(&Value::from_any(item), &v, crate::ast::CompareOp::Eq))
            }
            _ => return Err(EvalError::new("source must be of type string or slice")),
        };
        Ok(Value::Int(at.map_or(-1, |i| i as i64)))
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{compile_error, err, ok, s, strs};
    use crate::eval::value::Value;

    #[test]
    fn split_as_go() {
        assert_eq!(ok(r#"Split(attributes["flags"], "|")"#), strs(&["A", "B", "C"]));
        assert_eq!(ok(r#"Split("localhost", "h")[1]"#), s("ost"));
        assert_eq!(ok(r#"Split("", ",")"#), strs(&[""]));
        assert_eq!(ok(r#"Split("ab", "")"#), strs(&["a", "b"]));
        assert_eq!(err(r#"Split(attributes["nope"], "|")"#), "expected string but got nil");
    }

    #[test]
    fn substring_bytes_and_runes() {
        assert_eq!(ok(r#"Substring("123456789", 1, 3)"#), s("234"));
        assert_eq!(ok(r#"Substring(attributes["total.string"], 0, 9)"#), s("123456789"));
        assert_eq!(
            err(r#"Substring("123456789", 5, 10)"#),
            "invalid range for substring function, start(5)+length(10) cannot be greater than the length of target string(9)"
        );
        assert_eq!(err(r#"Substring("abc", -1, 1)"#), "invalid start for substring function, -1 cannot be negative");
        assert_eq!(
            err(r#"Substring("abc", 0, 0)"#),
            "invalid length for substring function, 0 cannot be negative or zero"
        );
        assert_eq!(ok(r#"Substring("héllo", 1, 3, true)"#), s("éll"));
        assert_eq!(ok(r#"Substring("héllo", 3, 2, true)"#), s("lo"));
        assert!(err(r#"Substring("héllo", 3, 3, true)"#).contains("rune length of target string(5)"));
    }

    #[test]
    fn case_converters() {
        assert_eq!(ok(r#"ToLowerCase("HeLLo")"#), s("hello"));
        assert_eq!(ok(r#"ToUpperCase(attributes["http.method"])"#), s("GET"));
        assert_eq!(ok(r#"ConvertCase(attributes["http.method"], "upper")"#), s("GET"));
        assert_eq!(ok(r#"ConvertCase("foo_bar", "camel")"#), s("FooBar"));
        assert_eq!(ok(r#"ConvertCase("FooBar", "snake")"#), s("foo_bar"));
        assert_eq!(ok(r#"ConvertCase("", "camel")"#), s(""));
        assert_eq!(ok(r#"ToCamelCase("simple_string")"#), s("SimpleString"));
        assert_eq!(ok(r#"ToSnakeCase("simpleString")"#), s("simple_string"));
        assert!(compile_error(r#"ConvertCase("x", "kebab")"#)
            .contains("invalid case: kebab, allowed cases are: lower, upper, snake, camel"));
        assert_eq!(err(r#"ToUpperCase(attributes["int"])"#), "expected string but got int64");
    }

    #[test]
    fn trims_and_affixes() {
        assert_eq!(ok(r#"Trim(" this is a test ")"#), s("this is a test"));
        assert_eq!(ok(r#"Trim(" this is a test ", "")"#), s(" this is a test "));
        assert_eq!(ok(r#"Trim("--x-y--", "-")"#), s("x-y"));
        assert_eq!(ok(r#"TrimPrefix("prefix_value", "prefix_")"#), s("value"));
        assert_eq!(ok(r#"TrimSuffix("value_suffix", "_suffix")"#), s("value"));
        assert_eq!(ok(r#"TrimSuffix("value", "x")"#), s("value"));
        assert_eq!(ok(r#"HasPrefix(attributes["http.path"], "/he")"#), Value::Bool(true));
        assert_eq!(ok(r#"HasSuffix(attributes["http.path"], "/he")"#), Value::Bool(false));
    }

    #[test]
    fn format_as_sprintf() {
        assert_eq!(ok(r#"Format("%s-%04d", [attributes["http.method"], 2])"#), s("get-0002"));
        assert_eq!(ok(r#"Format("%v|%v|%.1f", [attributes["bool"], attributes["nope"], 2.25])"#), s("true|<nil>|2.2"));
        assert_eq!(ok(r#"Format("%s", [span_id])"#), s("0102030405060708"));
        assert_eq!(ok(r#"Format("%s", [attributes["foo"]])"#), s(r#"{"bar":"pass","n":2}"#));
    }

    #[test]
    fn len_of_each_type() {
        assert_eq!(ok(r#"Len(attributes["http.path"])"#), Value::Int(7));
        assert_eq!(ok(r#"Len(attributes["foo"])"#), Value::Int(2));
        assert_eq!(ok(r#"Len(attributes["list"])"#), Value::Int(3));
        assert_eq!(ok(r#"Len(attributes["bytes"])"#), Value::Int(2));
        assert_eq!(ok(r#"Len(attributes["things"]) - 1"#), Value::Int(1));
        assert!(err(r#"Len(attributes["int"])"#).starts_with("target arg must be of type string"));
    }

    #[test]
    fn index_of_substring_and_item() {
        assert_eq!(ok(r#"Index("hello world", "world")"#), Value::Int(6));
        assert_eq!(ok(r#"Index("hello", "z")"#), Value::Int(-1));
        assert_eq!(ok(r#"Index(attributes["list"], 1)"#), Value::Int(1));
        assert_eq!(ok(r#"Index(attributes["list"], "b")"#), Value::Int(2));
        assert_eq!(ok(r#"Index(attributes["list"], 1.0)"#), Value::Int(1));
        assert_eq!(err(r#"Index("hello", 1)"#), "when source is string, value must also be string");
        assert_eq!(err(r#"Index(attributes["int"], 1)"#), "source must be of type string or slice");
    }
}
