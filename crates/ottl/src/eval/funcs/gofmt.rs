//! Go's `fmt.Sprintf` over OTTL values, for `Format` (which upstream implements as
//! `fmt.Sprintf(format, vals...)`). Supports the verbs configs use: `%v %s %d %f %F %e %E
//! %g %G %t %q %x %X %o %b %c %%`, the flags `- + # 0 space`, width and precision. Errors
//! print inline as Go does (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA …)`), never fail.
//!
//! One deliberate difference: Go prints a `pcommon.Map`/`pcommon.Slice` with `%v` as the
//! struct's internal pointers; we print the JSON (`AsString`), the only useful reading.

use std::fmt::Write as _;

use switchyard_pdata::value::{hex_id, JsonEscape};

use super::{gotime, like};
use crate::eval::value::Value;

/// One argument and whether it is a pdata id (printed via its `String()`, hex).
pub(crate) struct Arg<'a> {
    pub(crate) value: Value<'a>,
    pub(crate) id: bool,
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf(format, args...)`.
pub(crate) fn sprintf(format: &str, args: &[Arg<'_>]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut next = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = number(&mut chars);
        if chars.peek().is_some_and(|&(_, c)| c == '.') {
            chars.next();
            spec.prec = Some(number(&mut chars).unwrap_or(0));
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next) {
            None => {
                let _ = write!(out, "%!{verb}(MISSING)");
            }
            Some(arg) => {
                format_arg(&mut out, verb, spec, arg);
                next += 1;
            }
        }
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, arg) in args[next..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}=", go_type(arg));
            format_arg(&mut out, 'v', Spec::default(), arg);
        }
        out.push(')');
    }
    out
}

fn number(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(v) = d.to_digit(10) else { break };
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(v as usize));
        chars.next();
    }
    n
}

fn go_type(arg: &Arg<'_>) -> &'static str {
    match (&arg.value, arg.id) {
        (Value::Bytes(b), true) if b.len() == 8 => "pcommon.SpanID",
        (Value::Bytes(_), true) => "pcommon.TraceID",
        (v, _) => v.type_name(),
    }
}

fn bad_verb(out: &mut String, verb: char, arg: &Arg<'_>) {
    let _ = write!(out, "%!{verb}({}=", go_type(arg));
    format_arg(out, 'v', Spec::default(), arg);
    out.push(')');
}

fn format_arg(out: &mut String, verb: char, spec: Spec, arg: &Arg<'_>) {
    let body = match (&arg.value, verb) {
        (Value::Nil, 'v') => "<nil>".to_string(),
        (Value::Nil, _) => {
            let _ = write!(out, "%!{verb}(<nil>)");
            return;
        }
        (Value::Bool(b), 'v' | 't') => b.to_string(),
        (Value::Int(i) | Value::Duration(i), 'd') => signed(spec, *i < 0, i.unsigned_abs().to_string()),
        (Value::Int(i), 'v') => signed(spec, *i < 0, i.unsigned_abs().to_string()),
        (Value::Int(i), 'x' | 'X' | 'o' | 'b') => {
            let u = i.unsigned_abs();
            let digits = match verb {
                'x' => format!("{u:x}"),
                'X' => format!("{u:X}"),
                'o' => format!("{u:o}"),
                _ => format!("{u:b}"),
            };
            let prefix = match (spec.sharp, verb) {
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                (true, 'o') => "0",
                _ => "",
            };
            signed(spec, *i < 0, format!("{prefix}{digits}"))
        }
        (Value::Int(i), 'c') => char::from_u32(*i as u32).unwrap_or('\u{fffd}').to_string(),
        (Value::Int(i), 'q') => format!("'{}'", char::from_u32(*i as u32).unwrap_or('\u{fffd}')),
        (Value::Double(d), 'v' | 'g' | 'G' | 'e' | 'E' | 'f' | 'F') => float(spec, verb, *d),
        (Value::Str(s), 'v' | 's') => truncate(s, spec.prec).to_string(),
        (Value::Str(s), 'q') => format!("{:?}", truncate(s, spec.prec)),
        (Value::Str(s), 'x') => hex_id(s.as_bytes()),
        (Value::Str(s), 'X') => hex_id(s.as_bytes()).to_uppercase(),
        (Value::Bytes(b), 'v' | 's') if arg.id => hex_id(b),
        (Value::Bytes(b), 'v') => {
            let parts: Vec<String> = b.iter().map(u8::to_string).collect();
            format!("[{}]", parts.join(" "))
        }
        (Value::Bytes(b), 's') => String::from_utf8_lossy(b).into_owned(),
        (Value::Bytes(b), 'x') => hex_id(b),
        (Value::Bytes(b), 'X') => hex_id(b).to_uppercase(),
        (Value::Map(_) | Value::List(_), 'v' | 's') => like::json(&arg.value, JsonEscape::None),
        (Value::Time(t), 'v' | 's') => gotime::time_string(*t),
        (Value::Duration(d), 'v' | 's') => gotime::duration_string(*d),
        _ => return bad_verb(out, verb, arg),
    };
    pad(out, spec, &body);
}

/// `%.Ns` keeps the first N characters.
fn truncate(s: &str, prec: Option<usize>) -> &str {
    match prec.and_then(|p| s.char_indices().nth(p)) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The sign (`-`, or `+`/space when asked) before the digits, and zero padding after it.
fn signed(spec: Spec, negative: bool, digits: String) -> String {
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    match spec.width {
        Some(w) if spec.zero && !spec.minus && sign.len() + digits.chars().count() < w => {
            format!("{sign}{}{digits}", "0".repeat(w - sign.len() - digits.chars().count()))
        }
        _ => format!("{sign}{digits}"),
    }
}

fn pad(out: &mut String, spec: Spec, body: &str) {
    let len = body.chars().count();
    let fill = spec.width.map_or(0, |w| w.saturating_sub(len));
    if spec.minus {
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(body);
    }
}

fn float(spec: Spec, verb: char, d: f64) -> String {
    if !d.is_finite() {
        // Go always signs an infinity and never pads it with zeros.
        let s = if d.is_nan() {
            "NaN"
        } else if d > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return s.to_string();
    }
    let neg = d.is_sign_negative();
    let a = d.abs();
    let digits = match verb {
        'f' | 'F' => format!("{a:.*}", spec.prec.unwrap_or(6)),
        'e' | 'E' => exp_form(&format!("{a:.*e}", spec.prec.unwrap_or(6)), verb == 'E'),
        _ => g_form(a, spec.prec, verb == 'G'),
    };
    signed(spec, neg, digits)
}

/// Rust's `1.5e6` as Go's `1.5e+06`.
fn exp_form(rust: &str, upper: bool) -> String {
    let (m, e) = rust.split_once('e').unwrap_or((rust, "0"));
    let (sign, digits) = match e.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', e),
    };
    let e_char = if upper { 'E' } else { 'e' };
    if digits.len() < 2 {
        format!("{m}{e_char}{sign}0{digits}")
    } else {
        format!("{m}{e_char}{sign}{digits}")
    }
}

/// Go's `%g` (and `%v` for floats): the shortest digits (or `prec` significant ones), in
/// exponent form when the exponent is < -4 or ≥ the precision (6 for the shortest form).
fn g_form(a: f64, prec: Option<usize>, upper: bool) -> String {
    let rust = match prec {
        None => format!("{a:e}"),
        Some(p) => format!("{a:.*e}", p.max(1) - 1),
    };
    let (m, e) = rust.split_once('e').unwrap_or((&rust, "0"));
    let exp: i64 = e.parse().unwrap_or(0);
    let digits: String = m.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nd = digits.len() as i64;
    let dp = exp + 1;
    let mut eprec = prec.map_or(6, |p| p.max(1) as i64);
    if prec.is_some() && eprec > nd && nd >= dp {
        eprec = nd;
    }
    if exp < -4 || exp >= eprec {
        let mantissa = if nd > 1 { format!("{}.{}", &digits[..1], &digits[1..]) } else { digits.to_string() };
        return exp_form(&format!("{mantissa}e{exp}"), upper);
    }
    // Fixed form with exactly the significant digits.
    let decimals = (nd - dp).max(0) as usize;
    format!("{a:.decimals$}")
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn v(value: Value<'static>) -> Arg<'static> {
        Arg { value, id: false }
    }

    #[test]
    fn upstream_format_cases() {
        assert_eq!(sprintf("test", &[]), "test");
        assert_eq!(sprintf("test-%04d", &[v(Value::Int(2))]), "test-0002");
        assert_eq!(sprintf("test-%04d-%4s", &[v(Value::Int(2)), v(Value::str("te"))]), "test-0002-  te");
    }

    #[test]
    fn verbs_and_errors_as_go() {
        assert_eq!(sprintf("%v %v %v", &[v(Value::Int(-3)), v(Value::Bool(true)), v(Value::Nil)]), "-3 true <nil>");
        assert_eq!(
            sprintf("%.2f|%f|%5.1f", &[v(Value::Double(1.23456)), v(Value::Double(1.0)), v(Value::Double(2.25))]),
            "1.23|1.000000|  2.2"
        );
        assert_eq!(
            sprintf("%v %v %v", &[v(Value::Double(1.0)), v(Value::Double(1e6)), v(Value::Double(0.0001))]),
            "1 1e+06 0.0001"
        );
        assert_eq!(
            sprintf("%v %g %e", &[v(Value::Double(123456.0)), v(Value::Double(1e-5)), v(Value::Double(1234.5))]),
            "123456 1e-05 1.234500e+03"
        );
        assert_eq!(
            sprintf(
                "%x %X %q %-4s|",
                &[v(Value::Int(255)), v(Value::str("hi")), v(Value::str("a\"b")), v(Value::str("x"))]
            ),
            "ff 6869 \"a\\\"b\" x   |"
        );
        assert_eq!(sprintf("%d", &[v(Value::str("x"))]), "%!d(string=x)");
        assert_eq!(sprintf("%s %s", &[v(Value::str("x"))]), "x %!s(MISSING)");
        assert_eq!(sprintf("%s", &[v(Value::str("x")), v(Value::Int(1))]), "x%!(EXTRA int64=1)");
        assert_eq!(sprintf("100%%", &[]), "100%");
        assert_eq!(sprintf("%+d % d", &[v(Value::Int(5)), v(Value::Int(5))]), "+5  5");
        let id = Arg { value: Value::Bytes(Cow::Owned(vec![1, 2])), id: true };
        assert_eq!(sprintf("%s", &[id]), "0102");
        assert_eq!(sprintf("%v", &[v(Value::Bytes(Cow::Owned(vec![1, 2])))]), "[1 2]");
    }
}
