//! Glob patterns as Go's `github.com/gobwas/glob` reads them, for the OTTL editors
//! `replace_match`/`replace_all_matches` (compiled without separators, [`compile`]) and for
//! components that match attribute names with `.` as the separator (the `spanmetrics`
//! connector's `glob` dimensions, [`compile_with_separator`]).
//!
//! Without a separator `*` and `**` match any run of characters and `?` one character;
//! with one, `*` and `?` stop at the separator and only `**` crosses it. `[abc]`, `[a-z]`,
//! `[!abc]` are classes, `{a,b}` one of the alternatives (which may hold patterns
//! themselves), `\x` the character `x`. The pattern must match the whole value.
//!
//! Translated once, at config load, to an anchored regular expression with the `regex`
//! crate the OTTL crate already uses, instead of adding a glob crate: the path-oriented
//! glob crates give `*` and `/` other meanings than gobwas does.

use regex::Regex;

/// Compiles `pattern` with no separator; the error says what is wrong with it.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    translate(pattern, None)
}

/// Compiles `pattern` where `*` and `?` do not match `separator` (gobwas'
/// `glob.Compile(pattern, separator)`); the error says what is wrong with it.
pub fn compile_with_separator(pattern: &str, separator: char) -> Result<Regex, String> {
    translate(pattern, Some(separator))
}

fn translate(pattern: &str, separator: Option<char>) -> Result<Regex, String> {
    let not_sep = separator.map(|s| format!("[^{}]", class_escape(s)));
    let mut out = String::from("(?s)^");
    let mut chars = pattern.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                let mut super_star = false;
                while chars.peek() == Some(&'*') {
                    chars.next();
                    super_star = true;
                }
                match &not_sep {
                    Some(c) if !super_star => {
                        out.push_str(c);
                        out.push('*');
                    }
                    _ => out.push_str(".*"),
                }
            }
            '?' => out.push_str(not_sep.as_deref().unwrap_or(".")),
            '\\' => match chars.next() {
                Some(e) => out.push_str(&regex::escape(e.encode_utf8(&mut [0; 4]))),
                None => return Err("unexpected end of pattern after '\\'".into()),
            },
            '[' => {
                out.push('[');
                if chars.peek() == Some(&'!') {
                    chars.next();
                    out.push('^');
                }
                let mut closed = false;
                let mut empty = true;
                for c in chars.by_ref() {
                    if c == ']' && !empty {
                        closed = true;
                        break;
                    }
                    empty = false;
                    match c {
                        '-' => out.push('-'),
                        c => out.push_str(&class_escape(c)),
                    }
                }
                if !closed {
                    return Err("unclosed character class '['".into());
                }
                out.push(']');
            }
            '{' => {
                depth += 1;
                out.push_str("(?:");
            }
            '}' if depth > 0 => {
                depth -= 1;
                out.push(')');
            }
            ',' if depth > 0 => out.push('|'),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    if depth > 0 {
        return Err("unclosed alternatives '{'".into());
    }
    out.push('$');
    Regex::new(&out).map_err(|e| e.to_string())
}

/// A character inside a regex class, escaped when the class syntax gives it a meaning.
fn class_escape(c: char) -> String {
    match c {
        '\\' | '[' | ']' | '^' | '&' | '~' => format!("\\{c}"),
        c => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{compile, compile_with_separator};

    fn matches(pattern: &str, value: &str) -> bool {
        compile(pattern).expect("valid glob").is_match(value)
    }

    #[test]
    fn star_matches_any_run_including_slashes() {
        assert!(matches("*/*", "/health"));
        assert!(matches("*/*", "http://localhost/health"));
        assert!(!matches("*/*", "get"));
        assert!(matches("**", ""));
    }

    #[test]
    fn whole_value_must_match() {
        assert!(matches("a*", "abc"));
        assert!(!matches("a*", "xabc"));
        assert!(!matches("b", "abc"));
    }

    #[test]
    fn single_classes_and_alternatives() {
        assert!(matches("h?llo", "hello"));
        assert!(!matches("h?llo", "hllo"));
        assert!(matches("[a-c]at", "bat"));
        assert!(!matches("[!a-c]at", "bat"));
        assert!(matches("[!a-c]at", "rat"));
        assert!(matches("{GET,POST} /*", "POST /x"));
        assert!(!matches("{GET,POST} /*", "PUT /x"));
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "axb"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "x"));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        assert!(compile("[abc").is_err());
        assert!(compile("{a,b").is_err());
        assert!(compile("abc\\").is_err());
    }

    #[test]
    fn with_a_separator_only_the_double_star_crosses_it() {
        let m = |p: &str, v: &str| compile_with_separator(p, '.').expect("valid glob").is_match(v);
        assert!(m("http.*", "http.method"));
        assert!(!m("http.*", "http.request.method"));
        assert!(m("http.**", "http.request.method"));
        assert!(m("http.?", "http.x"));
        assert!(!m("h?tp.x", "h.tp.x"));
        assert!(!m("*", "a.b"));
        assert!(m("{db,rpc}.*", "rpc.service"));
    }
}
