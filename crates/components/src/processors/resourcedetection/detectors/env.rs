//! `env`: `OTEL_RESOURCE_ATTRIBUTES` (or the deprecated `OTEL_RESOURCE`), as upstream's
//! internal/env/env.go: `k1=v1,k2=v2`, spaces around keys, values and commas ignored,
//! values percent-decoded (Go's `url.QueryUnescape`, so `+` is a space), all values strings.
//! Any text that is not a pair makes the whole variable an error: nothing is set from it.

use super::{Builder, DetectError, Detected, EnvLookup};
use crate::processors::resourcedetection::attrs::Enabled;
use crate::processors::resourcedetection::config::EnvConfig;

/// The variable read.
pub const VAR: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Its deprecated spelling, read when the first is empty.
pub const DEPRECATED_VAR: &str = "OTEL_RESOURCE";

/// The `env` detector.
pub struct EnvDetector {
    allowlist: Option<Vec<String>>,
}

impl EnvDetector {
    /// From `env:`.
    pub fn new(cfg: &EnvConfig) -> Self {
        EnvDetector { allowlist: cfg.allowlist.clone() }
    }

    /// Reads the variable now.
    pub fn detect(&self, env: &EnvLookup) -> Result<Detected, DetectError> {
        let text = env(VAR).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let Some(text) = text.or_else(|| env(DEPRECATED_VAR).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
        else {
            return Ok(Detected::empty());
        };
        let pairs = parse(&text).map_err(DetectError::Failed)?;
        let all = Enabled::all();
        let mut b = Builder::new(&all, "");
        for (k, v) in pairs {
            if self.allowlist.as_ref().is_none_or(|a| a.contains(&k)) {
                b.str(&k, v);
            }
        }
        Ok(b.finish())
    }
}

/// Upstream's pair pattern: a key of 1-256 ASCII characters, `=`, a value of 0-256, then
/// `,` or the end; spaces around each part are dropped (both parts are lazy, so a key ends
/// at the first `=` and a value at the first `,`).
static PAIR: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\s*([[:ascii:]]{1,256}?)\s*=\s*([[:ascii:]]{0,256}?)\s*(?:,|$)").ok()
});

/// Parses `k1=v1,k2=v2` into pairs as upstream does: successive matches of [`PAIR`] must
/// cover the whole text; the error quotes the text that is not a pair.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let Some(re) = PAIR.as_ref() else { return Err("internal error: pair pattern".to_string()) };
    let mut out = Vec::new();
    let mut prev = 0;
    for c in re.captures_iter(text) {
        let (Some(all), Some(k), Some(v)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        if all.start() != prev {
            return Err(format!("invalid resource format, invalid text: {:?}", &text[prev..all.start()]));
        }
        let value = query_unescape(v.as_str())
            .map_err(|e| format!("invalid resource format in attribute: {:?}, err: {e}", all.as_str()))?;
        out.push((k.as_str().to_string(), value));
        prev = all.end();
    }
    if out.is_empty() {
        return Err(format!("invalid resource format: {text:?}"));
    }
    if prev != text.len() {
        return Err(format!("invalid resource format, invalid text: {:?}", &text[prev..]));
    }
    Ok(out)
}

/// Go's `url.QueryUnescape`: `%XX` decoded, `+` is a space, a bad escape is an error.
fn query_unescape(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = byte else {
                    let end = (i + 3).min(bytes.len());
                    return Err(format!("invalid URL escape {:?}", String::from_utf8_lossy(&bytes[i..end])));
                };
                out.push(byte);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn detect(vars: &[(&'static str, &'static str)], allowlist: Option<Vec<String>>) -> Result<Detected, DetectError> {
        let vars: Vec<(&str, &str)> = vars.to_vec();
        let env: EnvLookup = Arc::new(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()));
        EnvDetector::new(&EnvConfig { allowlist }).detect(&env)
    }

    fn pairs(d: &Detected) -> Vec<(String, String)> {
        d.attrs
            .iter()
            .map(|kv| (kv.key.clone(), switchyard_pdata::value::as_string(kv.value.as_ref().unwrap()).into_owned()))
            .collect()
    }

    #[test]
    fn parses_trims_and_decodes() {
        let d = detect(&[(VAR, " service.name = checkout , team=a%20b%2Cc ,empty=, plus=x+y ")], None).unwrap();
        assert_eq!(
            pairs(&d),
            vec![
                ("service.name".into(), "checkout".into()),
                ("team".into(), "a b,c".into()),
                ("empty".into(), "".into()),
                ("plus".into(), "x y".into()),
            ]
        );
        assert_eq!(d.schema_url, "");
    }

    #[test]
    fn falls_back_to_the_deprecated_variable_and_is_empty_without_either() {
        let d = detect(&[(VAR, "  "), (DEPRECATED_VAR, "a=1")], None).unwrap();
        assert_eq!(pairs(&d), vec![("a".into(), "1".into())]);
        assert!(detect(&[], None).unwrap().attrs.is_empty());
    }

    #[test]
    fn malformed_text_is_an_error_and_sets_nothing() {
        for bad in ["a=1,b", "novalue", "=x", "a=%zz", "a=1;b=2,c", "k=v\u{e9}"] {
            let e = detect(&[(VAR, bad)], None).unwrap_err();
            assert!(matches!(&e, DetectError::Failed(m) if m.contains("invalid")), "{bad}: {e:?}");
        }
    }

    #[test]
    fn allowlist_keeps_only_its_keys() {
        let d = detect(&[(VAR, "a=1,b=2,c=3")], Some(vec!["c".into(), "a".into()])).unwrap();
        assert_eq!(pairs(&d), vec![("a".into(), "1".into()), ("c".into(), "3".into())]);
    }
}
