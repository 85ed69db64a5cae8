//! `${env:NAME}` and `${file:PATH}` expansion with the Collector's semantics (see
//! reference/collector-config.md §6.3).
//!
//! Runs on scalar values only (never keys), after merging. `$$` is an escaped `$`;
//! `${NAME}` means `${env:NAME}`; `${env:NAME:-default}` gives `default` only when NAME is
//! unset; an unset variable without default expands to empty with a warning.
//! `${file:PATH}` is the file's content (PATH relative to the working directory, as the
//! Collector's file provider reads it); a value that is exactly one `${file:...}` whose
//! content is a YAML mapping or sequence becomes that tree, so a whole component config can
//! live in its own file (errors inside it then point into that file).

use super::diagnostics::ConfigError;
use super::document::{Node, Value};

/// Looks up environment variables; a closure in tests, `std::env::var` in the binary.
pub trait Env {
    /// The variable's value, or `None` when unset.
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Expands every scalar in the tree. Errors and warnings (unset variables) carry the node's location.
pub fn expand_tree(node: &mut Node, env: &dyn Env, errors: &mut Vec<ConfigError>, warnings: &mut Vec<ConfigError>) {
    match &mut node.value {
        Value::Scalar { text, plain } => {
            if !text.contains('$') {
                return;
            }
            for name in unset_variables(text, env) {
                warnings.push(ConfigError::at(
                    node.loc.clone(),
                    "",
                    format!("environment variable \"{name}\" is not set and has no default; using an empty value"),
                ));
            }
            let file_ref = text.trim().starts_with("${file:");
            match expand(text, env) {
                Ok((expanded, true)) if file_ref => {
                    let source = text.trim().trim_start_matches("${file:").trim_end_matches('}').to_string();
                    match super::document::parse(&source, &expanded) {
                        Ok(tree) if matches!(tree.value, Value::Map(_) | Value::Seq(_)) => *node = tree,
                        _ => {
                            *plain = true;
                            *text = expanded;
                        }
                    }
                }
                Ok((expanded, whole)) => {
                    // A value that is exactly one `${...}` is typed like YAML (123 is an int),
                    // anything else stays a string, as in the Collector.
                    *plain = whole || *plain && expanded == *text;
                    *text = expanded;
                }
                Err(message) => errors.push(ConfigError::at(node.loc.clone(), "", message)),
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| expand_tree(n, env, errors, warnings)),
        Value::Map(m) => m.values_mut().for_each(|e| expand_tree(&mut e.node, env, errors, warnings)),
        Value::Null => {}
    }
}

/// Names of `${env:NAME}` / `${NAME}` references without default whose variable is unset.
fn unset_variables(text: &str, env: &dyn Env) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        let escaped = rest[..pos].ends_with('$');
        rest = &rest[pos + 2..];
        let Some(end) = rest.find('}') else { break };
        let inner = &rest[..end];
        let name = inner.strip_prefix("env:").unwrap_or(inner);
        let plain_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !escaped && plain_name && env.get(name).is_none() {
            out.push(name.to_string());
        }
        rest = &rest[end..];
    }
    out
}

/// Expands one string. Returns the text and whether the input was a single `${...}`.
pub fn expand(input: &str, env: &dyn Env) -> Result<(String, bool), String> {
    expand_at(input, env, 0)
}

fn expand_at(input: &str, env: &dyn Env, depth: usize) -> Result<(String, bool), String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    let mut whole = false;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if after.starts_with('{') {
            let end = matching_brace(after).ok_or_else(|| format!("unterminated \"${{\" in {input:?}"))?;
            let inner = &after[1..end];
            // The whole value is one reference only if it starts the input and ends it.
            whole = rest.len() == input.len() && pos == 0 && end + 1 == after.len();
            out.push_str(&resolve(inner, env, depth + 1)?);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok((out, whole))
}

/// Index of the `}` closing the `{` at index 0, counting nested `${`.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn resolve(inner: &str, env: &dyn Env, depth: usize) -> Result<String, String> {
    if depth > 100 {
        return Err("too many recursive expansions".into());
    }
    // Nested references are resolved first.
    let inner = if inner.contains("${") { expand_at(inner, env, depth)?.0 } else { inner.to_string() };
    let (scheme, rest) = match inner.split_once(':') {
        Some((s, r)) if s.len() >= 2 && s.chars().all(|c| c.is_ascii_alphanumeric()) => (s, r),
        _ => ("env", inner.as_str()),
    };
    if scheme == "file" {
        return std::fs::read_to_string(rest).map_err(|e| format!("cannot read \"{rest}\" for \"${{{inner}}}\": {e}"));
    }
    if scheme != "env" {
        return Err(format!("unsupported config provider \"{scheme}\" in \"${{{inner}}}\" (supported: env, file)"));
    }
    let (name, default) = match rest.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (rest, None),
    };
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "environment variable \"{name}\" has an invalid name: it must match [a-zA-Z_][a-zA-Z0-9_]*"
        ));
    }
    match (env.get(name), default) {
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_string()),
        (None, None) => {
            tracing::warn!(
                variable = name,
                "Configuration references an unset environment variable; using an empty value."
            );
            Ok(String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("collector".into()),
            "EMPTY" => Some(String::new()),
            "PORT" => Some("4317".into()),
            _ => None,
        }
    }

    fn x(s: &str) -> Result<(String, bool), String> {
        expand(s, &env)
    }

    #[test]
    fn collector_semantics() {
        assert_eq!(x("${env:HOST}").unwrap(), ("collector".into(), true));
        assert_eq!(x("${HOST}").unwrap(), ("collector".into(), true));
        assert_eq!(x("http://${env:HOST}:${PORT}").unwrap(), ("http://collector:4317".into(), false));
        assert_eq!(x("${env:MISSING:-fallback}").unwrap().0, "fallback");
        assert_eq!(x("${env:EMPTY:-fallback}").unwrap().0, "", "set but empty is not unset");
        assert_eq!(x("${env:MISSING:-}").unwrap().0, "");
        assert_eq!(x("${env:MISSING}").unwrap().0, "");
        assert_eq!(x("$${env:HOST}").unwrap().0, "${env:HOST}");
        assert_eq!(x("a$$b").unwrap().0, "a$b");
        assert_eq!(x("$HOST").unwrap().0, "$HOST", "naked syntax is not expanded");
        assert_eq!(x("${env:${env:MISSING:-HOST}}").unwrap().0, "collector");
        assert_eq!(x("${EMPTY}${PORT}").unwrap(), ("4317".into(), false), "two references are a string");
        let deep = format!("{}X{}", "${env:".repeat(200), "}".repeat(200));
        assert!(x(&deep).unwrap_err().contains("too many recursive expansions"));
    }

    #[test]
    fn invalid_names_and_providers() {
        assert!(x("${1}").unwrap_err().contains("invalid name"));
        assert!(x("${http://example.com/x}").unwrap_err().contains("unsupported config provider"));
        assert!(x("${file:/nonexistent/switchyard}").unwrap_err().contains("cannot read"));
        assert!(x("${env:HOST").unwrap_err().contains("unterminated"));
    }
}
