//! `${env:NAME}`, `${file:PATH}` and `${yaml:TEXT}` expansion with the Collector's semantics
//! (see reference/collector-config.md §6.3).
//!
//! Runs on scalar values only (never keys), after merging. `$$` is an escaped `$`;
//! `${NAME}` means `${env:NAME}`; `${env:NAME:-default}` gives `default` only when NAME is
//! unset; an unset variable without default expands to empty with a warning.
//! `${file:PATH}` is the file's content (PATH relative to the working directory, as the
//! Collector's file provider reads it); a value that is exactly one `${file:...}` whose
//! content is a YAML mapping or sequence becomes that tree, so a whole component config can
//! live in its own file (errors inside it then point into that file).
//! `${yaml:TEXT}` is TEXT itself, typed as YAML the same way: `${yaml:[a, b]}` is a list,
//! `${yaml:{x: 1}}` a mapping, as the Collector's yaml provider retrieves it.

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
            let t = text.trim();
            let tree_ref = t.starts_with("${file:") || t.starts_with("${yaml:");
            match expand(text, env) {
                Ok((expanded, true)) if tree_ref => {
                    let source = match t.strip_prefix("${file:") {
                        Some(path) => path.trim_end_matches('}').to_string(),
                        None => format!("{} (${{yaml:...}})", node.loc),
                    };
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
    if scheme == "yaml" {
        return Ok(rest.to_string());
    }
    if scheme != "env" {
        return Err(format!(
            "unsupported config provider \"{scheme}\" in \"${{{inner}}}\" (supported: env, file, yaml)"
        ));
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

    /// Parses `text`, expands it and returns the tree (or the first error's message).
    fn tree(text: &str) -> Result<Node, String> {
        let mut node = crate::config::document::parse("test.yaml", text).map_err(|e| e.to_string())?;
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        expand_tree(&mut node, &env, &mut errors, &mut warnings);
        match errors.first() {
            Some(e) => Err(e.to_string()),
            None => Ok(node),
        }
    }

    fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        match &node.value {
            Value::Map(m) => &m.get(key).unwrap_or_else(|| panic!("no key {key}")).node,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn scalar(node: &Node) -> &str {
        match &node.value {
            Value::Scalar { text, .. } => text,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn file_provider_brings_a_value_or_a_subtree() {
        let dir = std::env::temp_dir().join(format!("switchyard-expand-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "s3cret").unwrap();
        let sub = dir.join("receiver.yaml");
        std::fs::write(&sub, "collection_interval: 1s\nscrapers:\n  memory:\n").unwrap();
        let t = tree(&format!(
            "a: ${{file:{}}}\nb: \"Bearer ${{file:{}}}\"\nc: ${{file:{}}}\n",
            token.display(),
            token.display(),
            sub.display()
        ))
        .unwrap();
        assert_eq!(scalar(get(&t, "a")), "s3cret");
        assert_eq!(scalar(get(&t, "b")), "Bearer s3cret");
        let c = get(&t, "c");
        assert_eq!(scalar(get(c, "collection_interval")), "1s");
        assert!(matches!(get(get(c, "scrapers"), "memory").value, Value::Null));
        // A problem inside the included file points into that file.
        assert_eq!(get(c, "collection_interval").loc.file.as_ref(), sub.display().to_string());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn yaml_provider_is_typed_like_yaml() {
        let t = tree("a: \"${yaml:[x, y]}\"\nb: ${yaml:42}\nc: \"${yaml:{timeout: 2s}}\"\nd: pre-${yaml:v}\n").unwrap();
        match &get(&t, "a").value {
            Value::Seq(items) => assert_eq!(items.iter().map(scalar).collect::<Vec<_>>(), ["x", "y"]),
            other => panic!("a list expected: {other:?}"),
        }
        assert_eq!(scalar(get(&t, "b")), "42");
        assert!(matches!(get(&t, "b").value, Value::Scalar { plain: true, .. }), "a lone reference is typed");
        assert_eq!(scalar(get(get(&t, "c"), "timeout")), "2s");
        assert_eq!(scalar(get(&t, "d")), "pre-v");
        let err = tree("a: ${http://example.com/x}\n").unwrap_err();
        assert!(err.contains("supported: env, file, yaml"), "{err}");
    }
}
