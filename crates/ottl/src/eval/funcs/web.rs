//! `URL(url)` and `UserAgent(value)`.
//!
//! `URL` splits the string the way Go's `net/url.Parse` does (RFC 3986 parts, the path and
//! fragment percent-decoded, the port kept even when it is the scheme's default), rather
//! than with a WHATWG parser, which would normalise (`http://host` has path "" upstream,
//! "/" in WHATWG) and drop default ports.
//!
//! `UserAgent` upstream runs the ~1,000 regular expressions of uap-core through uap-go. No
//! maintained Rust crate embeds that list, so this is a deliberately small parser over the
//! well-known tokens (Edge, Opera, Samsung Internet, Firefox, Chrome, Safari, IE, and
//! `product/version` tools such as curl) and operating systems (Windows, Android, iOS,
//! Mac OS X, Chrome OS, Linux). Anything else is `Other`, as uap names an unknown family.

use std::borrow::Cow;

use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::value::{int_value, str_value};

use super::want;
use crate::check::CheckError;
use crate::eval::compile::Args;
use crate::eval::expr::ConverterFn;
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn url(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let s = want::string(&v)?;
        if s.is_empty() {
            return Err(EvalError::new("url cannot be empty"));
        }
        parse_url(s).map(|m| Value::Map(Cow::Owned(m))).map_err(EvalError::new)
    }))
}

/// Percent-decoding as Go's `url.PathUnescape` (a bad escape is an error).
fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
            let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else {
                let bad: String = s[i..].chars().take(3).collect();
                return Err(format!("invalid URL escape {bad:?}"));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The `url.*` attributes of upstream's `parseutils.ParseURI(value, true)`.
fn parse_url(raw: &str) -> Result<Vec<KeyValue>, String> {
    let fail = |what: String| format!("parse {raw:?}: {what}");
    if raw.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err(fail("net/url: invalid control character in URL".into()));
    }
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, unescape(f).map_err(fail)?),
        None => (raw, String::new()),
    };
    // Scheme: a letter, then letters, digits, + - . up to ':'.
    let mut scheme = String::new();
    let mut rest = rest;
    for (i, c) in rest.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err(fail("missing protocol scheme".into())),
            ':' => {
                scheme = rest[..i].to_ascii_lowercase();
                rest = &rest[i + 1..];
                break;
            }
            _ => break,
        }
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    let mut userinfo: Option<&str> = None;
    let mut host = "";
    let mut path_raw = rest;
    if !scheme.is_empty() && !rest.starts_with('/') {
        // An opaque URL (mailto:x@y): no host, no path.
        path_raw = "";
    } else if let Some(after) = rest.strip_prefix("//") {
        let (authority, p) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        path_raw = p;
        host = authority;
        if let Some(at) = authority.rfind('@') {
            userinfo = Some(&authority[..at]);
            host = &authority[at + 1..];
        }
    } else if scheme.is_empty() {
        let first = rest.split('/').next().unwrap_or("");
        if first.contains(':') {
            return Err(fail("first path segment in URL cannot contain colon".into()));
        }
    }
    let (hostname, port) = split_host_port(host).map_err(fail)?;
    let path = unescape(path_raw).map_err(fail)?;

    let mut m = Vec::new();
    attrs::upsert(&mut m, "url.original", str_value(raw));
    attrs::upsert(&mut m, "url.domain", str_value(hostname));
    attrs::upsert(&mut m, "url.scheme", str_value(scheme));
    attrs::upsert(&mut m, "url.path", str_value(path.as_str()));
    if !port.is_empty() {
        let n: i64 = port.parse().map_err(|_| format!("strconv.Atoi: parsing {port:?}: value out of range"))?;
        attrs::upsert(&mut m, "url.port", int_value(n));
    }
    if !fragment.is_empty() {
        attrs::upsert(&mut m, "url.fragment", str_value(fragment));
    }
    if let Some(ui) = userinfo {
        attrs::upsert(&mut m, "url.user_info", str_value(ui));
        let (user, password) = match ui.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (ui, None),
        };
        let user = unescape(user).map_err(fail)?;
        if !user.is_empty() {
            attrs::upsert(&mut m, "url.username", str_value(user));
        }
        if let Some(p) = password {
            attrs::upsert(&mut m, "url.password", str_value(unescape(p).map_err(fail)?));
        }
    }
    if !query.is_empty() {
        attrs::upsert(&mut m, "url.query", str_value(query));
    }
    if let Some(dot) = path.rfind('.') {
        if dot + 1 < path.len() {
            attrs::upsert(&mut m, "url.extension", str_value(&path[dot + 1..]));
        }
    }
    Ok(m)
}

/// Go's `Hostname()` and `Port()`, with `parseHost`'s check that a port is all digits.
fn split_host_port(host: &str) -> Result<(&str, &str), String> {
    if let Some(inner) = host.strip_prefix('[') {
        let Some(end) = inner.find(']') else { return Err("missing ']' in host".into()) };
        let after = &inner[end + 1..];
        return match after.strip_prefix(':') {
            Some(p) if p.bytes().all(|c| c.is_ascii_digit()) => Ok((&inner[..end], p)),
            None if after.is_empty() => Ok((&inner[..end], "")),
            _ => Err(format!("invalid port {after:?} after host")),
        };
    }
    match host.rfind(':') {
        Some(i) => {
            let p = &host[i + 1..];
            if !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("invalid port {:?} after host", &host[i..]));
            }
            Ok((&host[..i], p))
        }
        None => Ok((host, "")),
    }
}

pub(super) fn user_agent(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    let target = args.expr(0)?;
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let s = want::string(&v)?;
        let (name, version) = browser(s);
        let (os, os_version) = operating_system(s);
        let mut m = Vec::new();
        attrs::upsert(&mut m, "user_agent.original", str_value(s));
        attrs::upsert(&mut m, "user_agent.name", str_value(name));
        attrs::upsert(&mut m, "user_agent.version", str_value(version));
        attrs::upsert(&mut m, "os.name", str_value(os));
        if !os_version.is_empty() {
            attrs::upsert(&mut m, "os.version", str_value(os_version));
        }
        Ok(Value::Map(Cow::Owned(m)))
    }))
}

/// Up to three dot-separated numeric components at the start of `s` (uap's
/// major.minor.patch).
fn version_at(s: &str, sep: char) -> String {
    let mut parts = Vec::new();
    for part in s.split(sep) {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        let whole = digits.len() == part.len();
        parts.push(digits);
        if parts.len() == 3 || !whole {
            break;
        }
    }
    parts.join(".")
}

/// The version after `token` (e.g. `Chrome/`), if the token occurs.
fn after(ua: &str, token: &str) -> Option<String> {
    ua.find(token).map(|i| version_at(&ua[i + token.len()..], '.'))
}

fn browser(ua: &str) -> (String, String) {
    const TOKENS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("EdgA/", "Edge Mobile"),
        ("EdgiOS/", "Edge Mobile"),
        ("Edge/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("YaBrowser/", "Yandex Browser"),
        ("FxiOS/", "Firefox iOS"),
        ("Firefox/", "Firefox"),
        ("CriOS/", "Chrome Mobile iOS"),
    ];
    for (token, name) in TOKENS {
        if let Some(v) = after(ua, token) {
            return ((*name).to_string(), v);
        }
    }
    if let Some(v) = after(ua, "Chrome/") {
        let name = if ua.contains("Mobile") { "Chrome Mobile" } else { "Chrome" };
        return (name.to_string(), v);
    }
    if ua.contains("Safari/") {
        if let Some(v) = after(ua, "Version/") {
            let name = if ua.contains("Mobile") { "Mobile Safari" } else { "Safari" };
            return (name.to_string(), v);
        }
    }
    if let Some(v) = after(ua, "MSIE ") {
        return ("IE".to_string(), v);
    }
    if ua.contains("Trident/") {
        if let Some(v) = after(ua, "rv:") {
            return ("IE".to_string(), v);
        }
    }
    // A leading `product/version` that is not the generic Mozilla prefix: curl, Wget,
    // python-requests, Go-http-client, bots.
    if let Some((product, rest)) = ua.split_once('/') {
        let simple = !product.is_empty() && product.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if simple && product != "Mozilla" {
            let v = version_at(rest, '.');
            if !v.is_empty() {
                return (product.to_string(), v);
            }
        }
    }
    ("Other".to_string(), String::new())
}

fn operating_system(ua: &str) -> (String, String) {
    if let Some(i) = ua.find("Windows NT ") {
        let nt = version_at(&ua[i + "Windows NT ".len()..], '.');
        let v = match nt.as_str() {
            "10.0" => "10",
            "6.3" => "8.1",
            "6.2" => "8",
            "6.1" => "7",
            "6.0" => "Vista",
            "5.1" | "5.2" => "XP",
            _ => "",
        };
        return ("Windows".into(), v.into());
    }
    if let Some(i) = ua.find("Android") {
        let rest = ua[i + "Android".len()..].trim_start_matches([' ', '/']);
        return ("Android".into(), version_at(rest, '.'));
    }
    for token in ["iPhone OS ", "CPU OS "] {
        if let Some(i) = ua.find(token) {
            return ("iOS".into(), version_at(&ua[i + token.len()..], '_'));
        }
    }
    if let Some(i) = ua.find("Mac OS X") {
        let rest = ua[i + "Mac OS X".len()..].trim_start();
        let v = if rest.contains('_') { version_at(rest, '_') } else { version_at(rest, '.') };
        return ("Mac OS X".into(), v);
    }
    if ua.contains("CrOS") {
        return ("Chrome OS".into(), String::new());
    }
    if ua.contains("Ubuntu") {
        return ("Ubuntu".into(), String::new());
    }
    if ua.contains("Linux") {
        return ("Linux".into(), String::new());
    }
    ("Other".into(), String::new())
}

#[cfg(test)]
#[path = "web_tests.rs"]
mod tests;
