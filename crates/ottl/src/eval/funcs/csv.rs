//! `ParseCSV(target, header, Optional[delimiter], Optional[header_delimiter], Optional[mode])`.
//!
//! One row, read with Go's `encoding/csv` rules (upstream's `parseutils.ReadCSVRow`): a
//! field starting with `"` is quoted, `""` inside it is a quote, a quote elsewhere is an
//! error unless the mode is `lazyQuotes`; `ignoreQuotes` just splits. Newlines inside the
//! row belong to the field they are in; leading and trailing newlines are dropped.

use super::parse::string_map;
use super::want;
use crate::check::CheckError;
use crate::eval::compile::Args;
use crate::eval::expr::ConverterFn;
use crate::eval::EvalError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Lazy,
    IgnoreQuotes,
}

fn single_char(args: &Args<'_>, i: usize, what: &str) -> Result<Option<char>, CheckError> {
    match args.opt_string(i)? {
        None => Ok(None),
        Some(s) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Some(c)),
                _ => Err(args.error(i, format!("invalid arguments: {what} must be a single character"))),
            }
        }
    }
}

pub(super) fn parse_csv(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let header = args.expr(1)?;
    let delimiter = single_char(args, 2, "delimiter")?.unwrap_or(',');
    let header_delimiter = single_char(args, 3, "header_delimiter")?.unwrap_or(delimiter);
    let mode = match args.opt_string(4)?.as_deref() {
        None | Some("strict") => Mode::Strict,
        Some("lazyQuotes") => Mode::Lazy,
        Some("ignoreQuotes") => Mode::IgnoreQuotes,
        Some(other) => return Err(args.error(4, format!("unknown mode: {other}"))),
    };
    Ok(Box::new(move |cx| {
        let t = target.eval(cx)?;
        let row =
            want::string(&t).map_err(|e| EvalError::new(format!("error getting value for target in ParseCSV: {e}")))?;
        let h = header.eval(cx)?;
        let header =
            want::string(&h).map_err(|e| EvalError::new(format!("error getting value for header in ParseCSV: {e}")))?;
        if header.is_empty() {
            return Err(EvalError::new("headers must not be an empty string"));
        }
        let fields = match mode {
            Mode::IgnoreQuotes => row.split(delimiter).map(str::to_string).collect(),
            _ => read_row(row, delimiter, mode == Mode::Lazy).map_err(EvalError::new)?,
        };
        let names: Vec<&str> = header.split(header_delimiter).collect();
        if names.len() != fields.len() {
            return Err(EvalError::new(format!(
                "map csv headers: wrong number of fields: expected {}, found {}",
                names.len(),
                fields.len()
            )));
        }
        Ok(string_map(names.into_iter().zip(fields)))
    }))
}

/// Reads one CSV record with `encoding/csv` quoting rules.
fn read_row(row: &str, delimiter: char, lazy: bool) -> Result<Vec<String>, String> {
    let row = row.trim_matches(|c| c == '\n' || c == '\r');
    if row.is_empty() {
        return Err("no csv lines found".into());
    }
    let err = |col: usize, what: &str| format!("parse error on line 1, column {col}: {what}");
    let chars: Vec<char> = row.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut field = String::new();
        if chars.get(i) == Some(&'"') {
            // Quoted field.
            i += 1;
            loop {
                match chars.get(i) {
                    None if lazy => break,
                    None => return Err(err(i + 1, "extraneous or missing \" in quoted-field")),
                    Some('"') => match chars.get(i + 1) {
                        Some('"') => {
                            field.push('"');
                            i += 2;
                        }
                        Some(c) if *c == delimiter => {
                            i += 1;
                            break;
                        }
                        None => {
                            i += 1;
                            break;
                        }
                        Some(_) if lazy => {
                            field.push('"');
                            i += 1;
                        }
                        Some(_) => return Err(err(i + 2, "extraneous or missing \" in quoted-field")),
                    },
                    Some(c) => {
                        field.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(c) = chars.get(i) {
                if *c == delimiter {
                    break;
                }
                if *c == '"' && !lazy {
                    return Err(err(i + 1, "bare \" in non-quoted-field"));
                }
                field.push(*c);
                i += 1;
            }
        }
        fields.push(field);
        match chars.get(i) {
            Some(c) if *c == delimiter => i += 1,
            _ => return Ok(fields),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::funcs::testlog::{err, get, map_len, ok};
    use crate::eval::value::Value;

    #[test]
    fn parses_rows_as_upstream_examples() {
        let v = ok(r#"ParseCSV("999-999-9999,Joe Smith,joe.smith@example.com", "phone,name,email")"#);
        assert_eq!(get(&v, "phone"), Some(Value::str("999-999-9999")));
        assert_eq!(get(&v, "name"), Some(Value::str("Joe Smith")));
        assert_eq!(get(&v, "email"), Some(Value::str("joe.smith@example.com")));
        let v = ok(r#"ParseCSV("a|b", "x|y", delimiter="|")"#);
        assert_eq!(get(&v, "y"), Some(Value::str("b")));
        let v = ok(r#"ParseCSV("a|b", "x,y", delimiter="|", header_delimiter=",")"#);
        assert_eq!(get(&v, "x"), Some(Value::str("a")));
        let v = ok(
            r#"ParseCSV("\"555-555-5556,Joe Smith\",joe.smith@example.com", "phone,name,email", mode="ignoreQuotes")"#,
        );
        assert_eq!(get(&v, "phone"), Some(Value::str("\"555-555-5556")));
        assert_eq!(get(&v, "name"), Some(Value::str("Joe Smith\"")));
        let v = ok(r#"ParseCSV("\"a,b\",\"say \"\"hi\"\"\"", "x,y")"#);
        assert_eq!(get(&v, "x"), Some(Value::str("a,b")));
        assert_eq!(get(&v, "y"), Some(Value::str("say \"hi\"")));
        let v = ok(r#"ParseCSV("\nline1\nline2,b\n", "x,y")"#);
        assert_eq!(get(&v, "x"), Some(Value::str("line1\nline2")));
        assert_eq!(map_len(&v), 2);
    }

    #[test]
    fn quotes_and_errors() {
        assert!(err(r#"ParseCSV("a\"b,c", "x,y")"#).contains("bare \" in non-quoted-field"));
        let v = ok(r#"ParseCSV("a\"b,c", "x,y", mode="lazyQuotes")"#);
        assert_eq!(get(&v, "x"), Some(Value::str("a\"b")));
        assert!(err(r#"ParseCSV("\"a\"b,c", "x,y")"#).contains("extraneous or missing \" in quoted-field"));
        assert_eq!(err(r#"ParseCSV("a,b,c", "x,y")"#), "map csv headers: wrong number of fields: expected 2, found 3");
        assert_eq!(err(r#"ParseCSV("a", "")"#), "headers must not be an empty string");
        assert!(err(r#"ParseCSV("a", "x", delimiter="||")"#).contains("delimiter must be a single character"));
        assert!(err(r#"ParseCSV("a", "x", mode="fast")"#).contains("unknown mode: fast"));
        assert_eq!(
            err(r#"ParseCSV(1, "x")"#),
            "error getting value for target in ParseCSV: expected string but got int64"
        );
    }
}
