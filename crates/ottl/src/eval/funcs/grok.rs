//! `ExtractGrokPatterns(target, pattern, Optional[namedCapturesOnly], Optional[patternDefinitions])`.
//!
//! Upstream uses elastic/go-grok: `%{SYNTAX}`, `%{SYNTAX:ID}` and `%{SYNTAX:ID:TYPE}` expand
//! (repeatedly) into regex groups over RE2. The Rust grok crates run on Oniguruma/PCRE
//! patterns with look-behind and atomic groups, which RE2 semantics lack, so this is a small
//! expander of our own over the common RE2-compatible patterns ([`DEFAULTS`]; the
//! vendor-specific sets of go-grok's "complete" parser, such as AWS or HAProxy, are not
//! included: a pattern naming one fails to load with "pattern definition … unknown").
//!
//! Every expanded group gets a generated unique name and the field name is kept aside,
//! because Rust's regex refuses duplicate group names where Go's accepts them; when a name
//! repeats, the last group that matched wins, as go-grok's map assignment does.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};
use switchyard_pdata::value::{bool_value, double_value, int_value, str_value};

use super::want;
use crate::check::CheckError;
use crate::eval::compile::Args;
use crate::eval::expr::ConverterFn;
use crate::eval::value::Value;
use crate::eval::EvalError;

/// The default pattern set (RE2 syntax).
const DEFAULTS: &[(&str, &str)] = &[
    ("WORD", r"\b\w+\b"),
    ("NOTSPACE", r"\S+"),
    ("SPACE", r"\s*"),
    ("DATA", r".*?"),
    ("GREEDYDATA", r".*"),
    ("INT", r"(?:[+-]?(?:[0-9]+))"),
    ("BASE10NUM", r"([+-]?(?:[0-9]+(?:\.[0-9]+)?)|\.[0-9]+)"),
    ("NUMBER", r"(?:%{BASE10NUM})"),
    ("BASE16NUM", r"[+-]?(?:0x)?[0-9A-Fa-f]+"),
    ("BASE16FLOAT", r"[+-]?(?:0x)?[0-9A-Fa-f]+(?:\.[0-9A-Fa-f]*)?"),
    ("POSINT", r"\b[1-9][0-9]*\b"),
    ("NONNEGINT", r"\b[0-9]+\b"),
    ("BOOL", r"true|false"),
    ("QUOTEDSTRING", r#""([^"\\]*(\\.[^"\\]*)*)"|'([^'\\]*(\\.[^'\\]*)*)'"#),
    ("QS", r"%{QUOTEDSTRING}"),
    ("UUID", r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}"),
    ("URN", r"urn:[0-9A-Za-z][0-9A-Za-z-]{0,31}:[0-9A-Za-z()+,.:=@;$_!*'/?#-]+"),
    ("IPV4", r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"),
    // Full and compressed IPv6 forms, with an optional embedded IPv4 tail and zone.
    (
        "IPV6",
        r"(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}|(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}|(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}|(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}|:(?:(?::[0-9A-Fa-f]{1,4}){1,7}|:)|(?:[0-9A-Fa-f]{1,4}:){6}%{IPV4}|::(?:[fF]{4}:)?%{IPV4})(?:%[0-9A-Za-z]+)?",
    ),
    ("IP", r"(?:%{IPV6}|%{IPV4})"),
    ("HOSTNAME", r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(\.?|\b)"),
    ("IPORHOST", r"(?:%{IP}|%{HOSTNAME})"),
    ("HOSTPORT", r"%{IPORHOST}:%{POSINT}"),
    ("EMAILLOCALPART", r"[a-zA-Z][a-zA-Z0-9_.+\-=:]+"),
    ("EMAILADDRESS", r"%{EMAILLOCALPART}@%{HOSTNAME}"),
    ("USERNAME", r"[a-zA-Z0-9._-]+"),
    ("USER", r"%{USERNAME}"),
    ("CISCOMAC", r"(?:(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4})"),
    ("WINDOWSMAC", r"(?:(?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2})"),
    ("COMMONMAC", r"(?:(?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2})"),
    ("MAC", r"(?:%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC})"),
    ("UNIXPATH", r"(/[\w_%!$@:.,+~-]+)+"),
    ("WINPATH", r"[A-Za-z]+:(\\[^\\?*]+)+"),
    ("PATH", r"(?:%{UNIXPATH}|%{WINPATH})"),
    ("TTY", r"/dev/(pts|tty([pq])?)(\w+)?/?(?:[0-9]+)"),
    ("URIPROTO", r"[A-Za-z][A-Za-z0-9+\-.]+"),
    ("URIHOST", r"%{IPORHOST}(?::%{POSINT})?"),
    ("URIPATH", r"(/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]+)+"),
    ("URIQUERY", r"[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*"),
    ("URIPARAM", r"\?%{URIQUERY}"),
    ("URIPATHPARAM", r"%{URIPATH}(?:\?%{URIQUERY})?"),
    ("URI", r"%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?%{URIHOST}(?:%{URIPATH}(?:\?%{URIQUERY})?)?"),
    (
        "MONTH",
        r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b",
    ),
    ("MONTHNUM", r"(?:0[1-9]|1[0-2])"),
    ("MONTHDAY", r"(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])"),
    ("DAY", r"\b(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)\b"),
    ("YEAR", r"(\d\d){1,2}"),
    ("HOUR", r"(?:2[0123]|[01]?[0-9])"),
    ("MINUTE", r"(?:[0-5][0-9])"),
    ("SECOND", r"(?:(?:[0-5][0-9]|60)(?:[:.,][0-9]+)?)"),
    ("TIME", r"%{HOUR}:%{MINUTE}(?::%{SECOND})?"),
    ("DATE_US", r"%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}"),
    ("DATE_EU", r"%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}"),
    ("ISO8601_TIMEZONE", r"(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))"),
    ("ISO8601_SECOND", r"%{SECOND}"),
    ("TIMESTAMP_ISO8601", r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?"),
    ("DATE", r"%{DATE_US}|%{DATE_EU}"),
    ("DATESTAMP", r"%{DATE}[- ]%{TIME}"),
    ("TZ", r"(?:[PMACE][SED]T|UTC)"),
    ("DATESTAMP_RFC822", r"%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}"),
    ("DATESTAMP_RFC2822", r"%{DAY}, %{MONTHDAY} %{MONTH} %{YEAR} %{TIME} %{ISO8601_TIMEZONE}"),
    ("DATESTAMP_OTHER", r"%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}"),
    ("DATESTAMP_EVENTLOG", r"%{YEAR}%{MONTHNUM}%{MONTHDAY}%{HOUR}%{MINUTE}%{SECOND}"),
    ("SYSLOGTIMESTAMP", r"%{MONTH} +%{MONTHDAY} %{TIME}"),
    ("PROG", r"[!-Z\\^-~]+"),
    ("SYSLOGPROG", r"%{PROG}(?:\[\d+\])?"),
    ("SYSLOGHOST", r"%{IPORHOST}"),
    ("SYSLOGFACILITY", r"<%{NONNEGINT}.%{NONNEGINT}>"),
    ("HTTPDATE", r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}"),
    ("SYSLOGBASE", r"%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:host.hostname} %{SYSLOGPROG}:"),
    (
        "LOGLEVEL",
        r"(?i)(alert|trace|debug|notice|info(?:rmation)?|warn(?:ing)?|err(?:or)?|crit(?:ical)?|fatal|severe|emerg(?:ency)?)",
    ),
];

/// `%{NAME}`, `%{NAME:field}`, `%{NAME:field:type}` (a constant pattern, compiled once).
fn reference() -> Result<&'static Regex, String> {
    static RE: OnceLock<Result<Regex, String>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"%\{(\w+)(?::([\w+.]+)(?::(\w+))?)?\}").map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// How a captured field is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Float,
    Int,
    Bool,
    Invalid,
}

fn kind_of(hint: &str) -> Kind {
    match hint {
        "" | "string" => Kind::Str,
        "double" | "float" => Kind::Float,
        "int" | "long" => Kind::Int,
        "bool" | "boolean" => Kind::Bool,
        _ => Kind::Invalid,
    }
}

/// A compiled grok expression: the regex, and for each capture group that yields a field,
/// the field name and type.
struct Compiled {
    re: Regex,
    fields: Vec<(usize, String, Kind)>,
}

fn compile(pattern: &str, named_only: bool, custom: &HashMap<String, String>) -> Result<Compiled, String> {
    let reference = reference()?;
    let mut expanded = pattern.to_string();
    let mut generated: HashMap<String, (String, Kind)> = HashMap::new();
    // go-grok stops after 1000 rounds, which also ends a cyclic definition.
    for _ in 0..1000 {
        if !reference.is_match(&expanded) {
            break;
        }
        let mut out = String::with_capacity(expanded.len());
        let mut last = 0;
        for caps in reference.captures_iter(&expanded) {
            let (Some(all), Some(name)) = (caps.get(0), caps.get(1)) else { continue };
            let name = name.as_str();
            let body = custom
                .get(name)
                .map(String::as_str)
                .or_else(|| DEFAULTS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p))
                .ok_or_else(|| format!("pattern definition {name:?} unknown: parsing failed"))?;
            out.push_str(&expanded[last..all.start()]);
            let target = caps.get(2).map(|m| m.as_str());
            if named_only && target.is_none() {
                out.push_str("(?:");
            } else {
                let group = format!("grok{}", generated.len());
                let kind = caps.get(3).map_or(Kind::Str, |m| kind_of(m.as_str()));
                generated.insert(group.clone(), (target.unwrap_or(name).to_string(), kind));
                out.push_str("(?P<");
                out.push_str(&group);
                out.push('>');
            }
            out.push_str(body);
            out.push(')');
            last = all.end();
        }
        out.push_str(&expanded[last..]);
        expanded = out;
    }
    let re = Regex::new(&expanded).map_err(|e| e.to_string())?;
    let fields = re
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| {
            let n = n?;
            Some(match generated.get(n) {
                Some((field, kind)) => (i, field.clone(), *kind),
                None => (i, n.to_string(), Kind::Str),
            })
        })
        .collect();
    Ok(Compiled { re, fields })
}

impl Compiled {
    fn extract(&self, text: &str) -> Result<Vec<KeyValue>, String> {
        let mut map: Vec<KeyValue> = Vec::new();
        let Some(caps) = self.re.captures(text) else { return Ok(map) };
        for (i, name, kind) in &self.fields {
            let Some(m) = caps.get(*i).filter(|m| !m.as_str().is_empty()) else { continue };
            let s = m.as_str();
            let value: AnyValue = match kind {
                Kind::Str => str_value(s),
                Kind::Float => {
                    double_value(s.parse().map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))?)
                }
                Kind::Int => int_value(s.parse().map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))?),
                Kind::Bool => bool_value(
                    go_parse_bool(s).ok_or_else(|| format!("strconv.ParseBool: parsing {s:?}: invalid syntax"))?,
                ),
                Kind::Invalid => {
                    return Err(format!("invalid type for {}: type not specified", name.replace('.', "___")))
                }
            };
            attrs::upsert(&mut map, name.as_str(), value);
        }
        Ok(map)
    }
}

fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

pub(super) fn extract_grok_patterns(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    let pattern = args.expr(1)?;
    let named_only = args.opt_bool(2)?.unwrap_or(false);
    let mut custom = HashMap::new();
    if args.has(3) {
        for (i, def) in args.strings(3)?.into_iter().enumerate() {
            let Some((name, body)) = def.split_once('=') else {
                let shown = if def.len() > 20 {
                    format!("{}...", def.chars().take(17).collect::<String>())
                } else {
                    def.clone()
                };
                return Err(args.error(
                    3,
                    format!(
                        "pattern {shown:?} supplied to ExtractGrokPatterns at index {i} has incorrect format, expecting PATTERNNAME=pattern definition"
                    ),
                ));
            };
            if name.contains(':') {
                return Err(args.error(3, format!("pattern ID {name:?} should not contain ':'")));
            }
            custom.insert(name.to_string(), body.to_string());
        }
    }
    let build = move |p: &str| -> Result<Compiled, String> {
        let c = compile(p, named_only, &custom).map_err(|e| {
            format!("the regex pattern supplied to ExtractGrokPatterns '{p:?}' is not a valid pattern: {e}")
        })?;
        if named_only && c.fields.is_empty() {
            return Err("at least 1 named capture group must be supplied in the given regex".into());
        }
        Ok(c)
    };
    // A literal pattern compiles at load; any other expression on each call, as upstream.
    let literal = pattern.literal_str().map(&build).transpose().map_err(|e| args.error(1, e))?;
    Ok(Box::new(move |cx| {
        let dynamic;
        let compiled = match &literal {
            Some(c) => c,
            None => {
                let p = pattern.eval(cx)?;
                dynamic = build(want::string(&p)?).map_err(EvalError::new)?;
                &dynamic
            }
        };
        let v = target.eval(cx)?;
        let s = want::string(&v)?;
        compiled.extract(s).map(|m| Value::Map(Cow::Owned(m))).map_err(EvalError::new)
    }))
}

#[cfg(test)]
mod tests {
    use crate::eval::funcs::testlog::{err, get, map_len, ok};
    use crate::eval::value::Value;

    #[test]
    fn plain_regex_named_groups() {
        let v = ok(r#"ExtractGrokPatterns("GIT_SHA=abc123", "GIT_SHA=(?P<git.sha>\\w+)")"#);
        assert_eq!(get(&v, "git.sha"), Some(Value::str("abc123")));
        assert_eq!(map_len(&v), 1);
        let v = ok(r#"ExtractGrokPatterns("nothing here", "GIT_SHA=(?P<git.sha>\\w+)")"#);
        assert_eq!(map_len(&v), 0);
    }

    #[test]
    fn default_patterns_with_fields_and_types() {
        let v = ok(
            r#"ExtractGrokPatterns("2024-01-02T03:04:05Z INFO user=bob took 12 ms from 10.0.0.1", "%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} user=%{WORD:user} took %{NUMBER:ms:int} ms from %{IP:ip}", true)"#,
        );
        assert_eq!(get(&v, "ts"), Some(Value::str("2024-01-02T03:04:05Z")));
        assert_eq!(get(&v, "level"), Some(Value::str("INFO")));
        assert_eq!(get(&v, "user"), Some(Value::str("bob")));
        assert_eq!(get(&v, "ms"), Some(Value::Int(12)));
        assert_eq!(get(&v, "ip"), Some(Value::str("10.0.0.1")));
        assert_eq!(map_len(&v), 5);
        let v = ok(r#"ExtractGrokPatterns("x 1.5 true", "%{WORD} %{NUMBER:n:float} %{BOOL:b:boolean}", true)"#);
        assert_eq!(get(&v, "n"), Some(Value::Double(1.5)));
        assert_eq!(get(&v, "b"), Some(Value::Bool(true)));
    }

    #[test]
    fn unnamed_patterns_are_captured_unless_named_captures_only() {
        let v = ok(r#"ExtractGrokPatterns("http://example.com/a?b=c", "%{URI}")"#);
        assert_eq!(get(&v, "URI"), Some(Value::str("http://example.com/a?b=c")));
        assert_eq!(get(&v, "URIPROTO"), Some(Value::str("http")));
        assert_eq!(get(&v, "URIPATH"), Some(Value::str("/a")));
        assert!(err(r#"ExtractGrokPatterns("x", "%{URI}", true)"#)
            .contains("at least 1 named capture group must be supplied in the given regex"));
    }

    #[test]
    fn custom_definitions() {
        let v = ok(
            r#"ExtractGrokPatterns("smith:pass123:1001:1000:J Smith,1234,(234)567-8910,(234)567-1098,email:/home/smith:/bin/sh", "%{USERNAME:user.name}:%{PASSWORD:user.password}:%{USERINFO}", true, ["PASSWORD=%{WORD}", "USERINFO=%{GREEDYDATA}"])"#,
        );
        assert_eq!(get(&v, "user.name"), Some(Value::str("smith")));
        assert_eq!(get(&v, "user.password"), Some(Value::str("pass123")));
        assert_eq!(map_len(&v), 2);
        assert!(err(r#"ExtractGrokPatterns("x", "%{X}", true, ["NOEQUALSSIGNINTHISDEFINITION"])"#).contains(
            r#"pattern "NOEQUALSSIGNINTHI..." supplied to ExtractGrokPatterns at index 0 has incorrect format"#
        ));
        assert!(err(r#"ExtractGrokPatterns("x", "%{X}", true, ["A:B=x"])"#)
            .contains(r#"pattern ID "A:B" should not contain ':'"#));
        assert!(err(r#"ExtractGrokPatterns("x", "%{NOPE:x}")"#).contains(r#"pattern definition "NOPE" unknown"#));
    }

    #[test]
    fn pattern_from_an_expression() {
        let v = ok(r#"ExtractGrokPatterns("id 42", Concat(["id %{INT:id", ":int}"], ""), true)"#);
        assert_eq!(get(&v, "id"), Some(Value::Int(42)));
        assert!(err(r#"ExtractGrokPatterns("x", Concat(["%{WORD}"], ""), true)"#)
            .contains("at least 1 named capture group"));
    }

    #[test]
    fn type_conversion_errors() {
        assert!(err(r#"ExtractGrokPatterns("abc", "%{WORD:w:int}")"#).contains("strconv.Atoi"));
        assert!(err(r#"ExtractGrokPatterns("abc", "%{WORD:w:weird}")"#).contains("type not specified"));
        assert_eq!(err(r#"ExtractGrokPatterns(1, "%{WORD:w}")"#), "expected string but got int64");
    }
}
