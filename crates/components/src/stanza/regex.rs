//! Regular expressions as stanza compiles them (Go's RE2). Rust's `regex` shares the
//! syntax except for one thing configs rely on: Go reads a `{` that does not start a
//! counted repetition (`"resource":{.*?}`) as a literal brace, where Rust refuses it. Such
//! braces are escaped before compiling; everything else is passed through.

use std::borrow::Cow;

/// `src` with every brace that is not a repetition `{n}`, `{n,}` or `{n,m}` escaped.
pub fn go_syntax(src: &str) -> Cow<'_, str> {
    if !src.contains('{') {
        return Cow::Borrowed(src);
    }
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            // Copy the escape whole (the escaped char may be multi-byte).
            let n = src[i + 1..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&src[i..i + 1 + n]);
            i += 1 + n;
            continue;
        }
        match c {
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'{' if !in_class && !is_repetition(&b[i + 1..]) => {
                out.push_str("\\{");
                i += 1;
                continue;
            }
            b'}' if !in_class && !closes_repetition(&b[..i]) => {
                out.push_str("\\}");
                i += 1;
                continue;
            }
            _ => {}
        }
        let n = src[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&src[i..i + n]);
        i += n;
    }
    Cow::Owned(out)
}

/// `rest` (after a `{`) is `n}`, `n,}` or `n,m}`.
fn is_repetition(rest: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(rest);
    if n == 0 {
        return false;
    }
    match rest.get(n) {
        Some(b'}') => true,
        Some(b',') => {
            let m = digits(&rest[n + 1..]);
            rest.get(n + 1 + m) == Some(&b'}')
        }
        _ => false,
    }
}

/// `before` (up to a `}`) ends with `{n`, `{n,` or `{n,m` that started a repetition.
fn closes_repetition(before: &[u8]) -> bool {
    let Some(open) = before.iter().rposition(|c| *c == b'{') else { return false };
    let escaped = open > 0 && before[open - 1] == b'\\';
    !escaped && is_repetition(&[&before[open + 1..], b"}"].concat())
}

/// Compiles `src` with Go's brace rule.
pub fn compile(src: &str) -> Result<::regex::Regex, ::regex::Error> {
    ::regex::Regex::new(&go_syntax(src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_braces_are_escaped_repetitions_kept() {
        assert_eq!(go_syntax(r#"\"resource\":{.*?},?"#), r#"\"resource\":\{.*?\},?"#);
        assert_eq!(go_syntax(r"^\d{4}-\d{2,}x{1,3}"), r"^\d{4}-\d{2,}x{1,3}");
        assert_eq!(go_syntax(r"[{}]\{a\}"), r"[{}]\{a\}");
        assert!(compile(r#"\"resource\":{.*?},?"#).is_ok());
        assert!(compile(r#"(?s)("stacktrace":"[^"]*)"}\n(.*)$"#).is_ok());
    }
}
