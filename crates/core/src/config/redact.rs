//! The loaded configuration as YAML fit to show an operator (the status page): secrets are
//! replaced by `[REDACTED]`, as the Collector prints `configopaque` values.
//!
//! What counts as a secret is decided by the key, because our configs are decoded into
//! plain strings: a key naming a credential (`password`, `token`, `api_key`, `secret`,
//! `authorization`, ...), every value under a `headers` mapping (exporters put API keys
//! there), and the user info and query string of any URL (`https://user:pass@host/?key=`).

use std::fmt::Write;

use super::{Config, Node, Value};
use crate::component::Kind;

/// What a redacted value is printed as.
pub const REDACTED: &str = "[REDACTED]";

/// Key fragments (lower case, `-` read as `_`) that mark a value as a secret.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "token",
    "api_key",
    "apikey",
    "secret",
    "authorization",
    "credential",
    "private_key",
    "key_pem",
    "cookie",
    "access_key",
    "sas",
];

/// True when a value under this key must not be shown.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('-', "_");
    SECRET_KEYS.iter().any(|s| if *s == "sas" { k == "sas" || k.ends_with("_sas") } else { k.contains(s) })
}

/// A URL with its user info and query string hidden; other text unchanged.
fn redact_scalar(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let (base, query) = rest.split_once('?').map_or((rest, false), |(b, _)| (b, true));
    let (authority, path) = base.find('/').map_or((base, ""), |i| base.split_at(i));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let user = if host.len() < authority.len() { "[REDACTED]@" } else { "" };
    let q = if query { "?[REDACTED]" } else { "" };
    format!("{scheme}://{user}{host}{path}{q}")
}

fn scalar(out: &mut String, text: &str, plain: bool) {
    let needs_quotes = !plain
        || text.is_empty()
        || text.contains([':', '#', '{', '}', '[', ']', ',', '"', '\'', '\n', '&', '*', '!', '|', '>', '%', '@', '`'])
        || text.starts_with(['-', '?', ' '])
        || text.ends_with(' ');
    if needs_quotes {
        // A JSON string is a valid double-quoted YAML scalar.
        out.push_str(&serde_json::Value::String(text.to_string()).to_string());
    } else {
        out.push_str(text);
    }
}

fn write_node(out: &mut String, node: &Node, indent: usize, secret: bool) {
    match &node.value {
        Value::Null => out.push('\n'),
        Value::Scalar { text, plain } => {
            out.push(' ');
            if secret {
                let _ = write!(out, "\"{REDACTED}\"");
            } else {
                scalar(out, &redact_scalar(text), *plain);
            }
            out.push('\n');
        }
        Value::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Value::Map(m) if m.is_empty() => out.push_str(" {}\n"),
        Value::Seq(items) => {
            out.push('\n');
            for item in items {
                let _ = write!(out, "{:indent$}-", "");
                write_node(out, item, indent + 2, secret);
            }
        }
        Value::Map(m) => {
            out.push('\n');
            write_map(out, m, indent, secret);
        }
    }
}

fn write_map(out: &mut String, m: &indexmap::IndexMap<String, super::Entry>, indent: usize, secret: bool) {
    let headers = |k: &str| k.eq_ignore_ascii_case("headers") || k.eq_ignore_ascii_case("http_headers");
    for (k, e) in m {
        let _ = write!(out, "{:indent$}", "");
        scalar(out, k, true);
        out.push(':');
        write_node(out, &e.node, indent + 2, secret || headers(k) || is_secret_key(k));
    }
}

/// The YAML of `node` with secrets redacted.
pub fn redacted_yaml(node: &Node) -> String {
    let mut out = String::new();
    match &node.value {
        Value::Map(m) => write_map(&mut out, m, 0, false),
        _ => write_node(&mut out, node, 0, false),
    }
    out
}

/// The decoded configuration as YAML with secrets redacted: each component's body as
/// written (after `${env:...}` expansion, so a secret read from the environment is hidden by
/// its key like any other), then the service's extensions and pipelines.
pub fn redacted_config(cfg: &Config) -> String {
    let mut out = String::new();
    for kind in [Kind::Receiver, Kind::Processor, Kind::Exporter, Kind::Connector, Kind::Extension] {
        let defs: Vec<_> = cfg.components.iter().filter(|((k, _), _)| *k == kind).collect();
        if defs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}:", kind.section());
        for ((_, id), def) in defs {
            out.push_str("  ");
            scalar(&mut out, &id.to_string(), true);
            out.push(':');
            match &def.body {
                Some(body) => write_node(&mut out, body, 4, false),
                None => out.push('\n'),
            }
        }
    }
    out.push_str("service:\n");
    let ids = |refs: &[super::Ref]| refs.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(", ");
    if !cfg.service.extensions.is_empty() {
        let _ = writeln!(out, "  extensions: [{}]", ids(&cfg.service.extensions));
    }
    out.push_str("  pipelines:\n");
    for p in cfg.service.pipelines.values() {
        let _ = writeln!(out, "    {}:", p.id);
        let _ = writeln!(out, "      receivers: [{}]", ids(&p.receivers));
        if !p.processors.is_empty() {
            let _ = writeln!(out, "      processors: [{}]", ids(&p.processors));
        }
        let _ = writeln!(out, "      exporters: [{}]", ids(&p.exporters));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    #[test]
    fn secrets_headers_and_url_credentials_are_hidden() {
        let yaml = r#"
exporters:
  otlphttp:
    endpoint: https://user:hunter2@example.com/v1?api_key=abc
    headers:
      X-Scope-OrgID: tenant-1
      x-api-key: k-123
    tls:
      insecure: true
  loki:
    auth: {authenticator: basicauth}
extensions:
  basicauth:
    client_auth: {username: alice, password: "s3cr3t"}
  bearertokenauth:
    token: "tok"
    bearer-token-file: /run/token
"#;
        let node = parse("t.yaml", yaml).unwrap();
        let out = redacted_yaml(&node);
        for secret in ["hunter2", "abc", "tenant-1", "k-123", "s3cr3t", "\"tok\"", "/run/token"] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
        assert!(out.contains("endpoint: \"https://[REDACTED]@example.com/v1?[REDACTED]\""), "{out}");
        assert!(out.contains("username: alice"), "{out}");
        assert!(out.contains("insecure: true"), "{out}");
        assert!(out.contains("authenticator: basicauth"), "{out}");
        // The output is YAML that reads back with the same shape.
        let back = parse("back.yaml", &out).unwrap();
        assert!(back.find(&["exporters", "otlphttp", "headers", "x-api-key"]).is_some(), "{out}");
        assert!(back.find(&["extensions", "basicauth", "client_auth", "password"]).is_some(), "{out}");
    }

    #[test]
    fn secret_keys_are_recognised_by_name() {
        for k in ["password", "api_key", "apiKey", "X-Api-Key", "access_token", "client_secret", "Authorization"] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["endpoint", "username", "key_file", "insecure", "timeout", "keys", "database"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
