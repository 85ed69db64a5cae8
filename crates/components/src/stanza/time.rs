//! The stanza timestamp and severity sub-parsers (`timestamp:` and `severity:` blocks of
//! every parser operator): layouts in strptime (stanza's directives, `%L` milliseconds),
//! Go reference time (`layout_type: gotime`) or epoch units; severities by stanza's
//! default mapping plus a user `mapping`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::entry::{value_string, Entry, Field};

/// `timestamp:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeParserConfig {
    /// Where the time is (default body).
    #[serde(default = "Field::body")]
    pub parse_from: Field,
    /// `strptime` (default), `gotime` or `epoch`.
    #[serde(default = "default_layout_type")]
    pub layout_type: String,
    /// The layout in that syntax (for `epoch`: `s`, `ms`, `us`, `ns`, `s.ms`, `s.us`, `s.ns`).
    #[serde(default)]
    pub layout: String,
    /// IANA zone for layouts without an offset; only UTC and `Local`-as-UTC are built.
    #[serde(default)]
    pub location: Option<String>,
}

fn default_layout_type() -> String {
    "strptime".into()
}

impl TimeParserConfig {
    /// Checks the layout once at load time.
    pub fn check(&self) -> Result<(), String> {
        match self.layout_type.as_str() {
            "strptime" | "gotime" if self.layout.is_empty() => Err("timestamp: layout is required".into()),
            "strptime" => strptime_to_chrono(&self.layout).map(|_| ()),
            "gotime" => Ok(()),
            "epoch" => match self.layout.as_str() {
                "s" | "ms" | "us" | "ns" | "s.ms" | "s.us" | "s.ns" => Ok(()),
                l => Err(format!("timestamp: unknown epoch layout {l:?}")),
            },
            t => Err(format!("timestamp: unknown layout_type {t:?} (strptime, gotime or epoch)")),
        }
    }

    /// Sets `e.timestamp` from the field.
    pub fn apply(&self, e: &mut Entry) -> Result<(), String> {
        let v = self.parse_from.get(e).ok_or_else(|| format!("timestamp: entry has no field {}", self.parse_from))?;
        let nanos = match self.layout_type.as_str() {
            "epoch" => parse_epoch(v, &self.layout)?,
            "gotime" => parse_chrono(&value_string(v), &gotime_to_chrono(&self.layout))?,
            _ => parse_chrono(&value_string(v), &strptime_to_chrono(&self.layout)?)?,
        };
        e.timestamp = Some(nanos);
        Ok(())
    }
}

/// stanza's strptime directives → chrono's (`%L` ms, `%f` µs, `%s` ns as fractions).
pub fn strptime_to_chrono(layout: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut it = layout.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let d = it.next().ok_or("timestamp: layout ends with '%'")?;
        let mapped = match d {
            'L' => "%3f",
            'f' => "%6f",
            's' => "%9f",
            'Y' | 'y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'b' | 'B' | 'a' | 'A' | 'p' | 'I' | 'j' | 'z' | 'Z' | 'e'
            | 'h' | 'D' | 'F' | 'T' | 'c' | 'x' | 'X' | '%' | 'n' | 't' => {
                out.push('%');
                out.push(d);
                continue;
            }
            'k' => "%H",
            'l' => "%I",
            'o' => "%d",
            'q' => "%m",
            'i' => "%M",
            'u' => "%:z",
            'w' => "%a",
            'W' => "%A",
            other => return Err(format!("timestamp: unsupported strptime directive %{other}")),
        };
        out.push_str(mapped);
    }
    Ok(out)
}

/// Go's reference-time layout → chrono format.
pub fn gotime_to_chrono(layout: &str) -> String {
    const MAP: &[(&str, &str)] = &[
        ("2006", "%Y"),
        ("Z07:00", "%:z"),
        ("-07:00", "%:z"),
        ("-0700", "%z"),
        ("Z0700", "%z"),
        ("MST", "%Z"),
        ("January", "%B"),
        ("Jan", "%b"),
        ("Monday", "%A"),
        ("Mon", "%a"),
        (".000000000", "%.9f"),
        (".999999999", "%.f"),
        (".000000", "%.6f"),
        (".999999", "%.f"),
        (".000", "%.3f"),
        (".999", "%.f"),
        ("01", "%m"),
        ("02", "%d"),
        ("_2", "%e"),
        ("15", "%H"),
        ("03", "%I"),
        ("04", "%M"),
        ("05", "%S"),
        ("06", "%y"),
        ("PM", "%p"),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (go, ch) in MAP {
            if let Some(r) = rest.strip_prefix(go) {
                out.push_str(ch);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c == '%' {
            out.push('%');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn parse_chrono(s: &str, fmt: &str) -> Result<u64, String> {
    // Go's `Z07:00` reads a literal Z as UTC; chrono's `%:z` wants an offset.
    let zfix;
    let s = if fmt.ends_with("%:z") && s.ends_with('Z') {
        zfix = format!("{}+00:00", &s[..s.len() - 1]);
        zfix.as_str()
    } else {
        s
    };
    let dt: DateTime<Utc> = match DateTime::parse_from_str(s, fmt) {
        Ok(d) => d.with_timezone(&Utc),
        Err(_) => {
            let n = NaiveDateTime::parse_from_str(s, fmt).map_err(|e| format!("timestamp {s:?}: {e}"))?;
            Utc.from_utc_datetime(&n)
        }
    };
    dt.timestamp_nanos_opt().and_then(|n| u64::try_from(n).ok()).ok_or_else(|| format!("timestamp {s:?} out of range"))
}

fn parse_epoch(v: &Value, layout: &str) -> Result<u64, String> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("timestamp: {v} is not a number"))?;
    let scale = match layout {
        "s" | "s.ms" | "s.us" | "s.ns" => 1e9,
        "ms" => 1e6,
        "us" => 1e3,
        _ => 1.0,
    };
    let n = f * scale;
    if !(0.0..1.9e19).contains(&n) {
        return Err(format!("timestamp {f} out of range"));
    }
    Ok(n as u64)
}

/// `severity:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityParserConfig {
    /// Where the severity is (default body).
    #[serde(default = "Field::body")]
    pub parse_from: Field,
    /// `default` or `none` (no built-in mapping).
    #[serde(default)]
    pub preset: Option<String>,
    /// Severity name → value or list of values (strings, numbers, or `{min, max}` ranges).
    #[serde(default)]
    pub mapping: HashMap<String, Value>,
    /// Replace severity_text with the severity name.
    #[serde(default)]
    pub overwrite_text: bool,
}

/// OTLP severity numbers of stanza's severity names.
fn severity_number(name: &str) -> Option<i32> {
    Some(match name.to_ascii_lowercase().as_str() {
        "trace" => 1,
        "trace2" => 2,
        "trace3" => 3,
        "trace4" => 4,
        "debug" => 5,
        "debug2" => 6,
        "debug3" => 7,
        "debug4" => 8,
        "info" => 9,
        "info2" => 10,
        "info3" => 11,
        "info4" => 12,
        "warn" | "warning" => 13,
        "warn2" => 14,
        "warn3" => 15,
        "warn4" => 16,
        "error" | "err" => 17,
        "error2" => 18,
        "error3" => 19,
        "error4" => 20,
        "fatal" | "critical" | "crit" | "emergency" | "alert" => 21,
        "fatal2" => 22,
        "fatal3" => 23,
        "fatal4" => 24,
        _ => return None,
    })
}

impl SeverityParserConfig {
    /// Checks the mapping's names at load time.
    pub fn check(&self) -> Result<(), String> {
        for k in self.mapping.keys() {
            if severity_number(k).is_none() {
                return Err(format!("severity: unknown severity {k:?}"));
            }
        }
        Ok(())
    }

    fn lookup(&self, raw: &str) -> Option<(i32, String)> {
        for (name, vals) in &self.mapping {
            let hit = match vals {
                Value::Array(a) => a.iter().any(|v| matches_value(v, raw)),
                v => matches_value(v, raw),
            };
            if hit {
                return severity_number(name).map(|n| (n, name.clone()));
            }
        }
        if self.preset.as_deref() == Some("none") {
            return None;
        }
        severity_number(raw).map(|n| (n, raw.to_string()))
    }

    /// Sets the entry's severity from the field; an unknown value leaves it unspecified
    /// but keeps the text, as stanza does.
    pub fn apply(&self, e: &mut Entry) -> Result<(), String> {
        let v = self.parse_from.get(e).ok_or_else(|| format!("severity: entry has no field {}", self.parse_from))?;
        let raw = value_string(v);
        match self.lookup(&raw) {
            Some((n, name)) => {
                e.severity = n;
                e.severity_text = if self.overwrite_text { name.to_ascii_uppercase() } else { raw.clone() };
            }
            None => {
                e.severity = 0;
                e.severity_text = raw;
            }
        }
        Ok(())
    }
}

fn matches_value(v: &Value, raw: &str) -> bool {
    match v {
        Value::String(s) => s.eq_ignore_ascii_case(raw),
        Value::Number(n) => n.to_string() == raw,
        Value::Object(m) => {
            let (Some(min), Some(max), Ok(x)) =
                (m.get("min").and_then(Value::as_i64), m.get("max").and_then(Value::as_i64), raw.parse::<i64>())
            else {
                return false;
            };
            (min..=max).contains(&x)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tp(layout_type: &str, layout: &str) -> TimeParserConfig {
        TimeParserConfig {
            parse_from: Field::attribute("time"),
            layout_type: layout_type.into(),
            layout: layout.into(),
            location: None,
        }
    }

    #[test]
    fn layouts_of_the_public_configs() {
        let mut e = Entry::default();
        e.attributes.insert("time".into(), json!("2024-05-06T07:08:09.123Z"));
        tp("strptime", "%Y-%m-%dT%H:%M:%S.%LZ").apply(&mut e).unwrap();
        assert_eq!(e.timestamp, Some(1_714_979_289_123_000_000));
        e.attributes.insert("time".into(), json!("2024-05-06T07:08:09.123456789Z"));
        tp("gotime", "2006-01-02T15:04:05.999999999Z07:00").apply(&mut e).unwrap();
        assert_eq!(e.timestamp, Some(1_714_979_289_123_456_789));
        e.attributes.insert("time".into(), json!("2024-05-06T09:08:09.5+02:00"));
        tp("gotime", "2006-01-02T15:04:05.999999999Z07:00").apply(&mut e).unwrap();
        assert_eq!(e.timestamp, Some(1_714_979_289_500_000_000));
        e.attributes.insert("time".into(), json!(1_714_979_289.5));
        tp("epoch", "s.ms").apply(&mut e).unwrap();
        assert_eq!(e.timestamp, Some(1_714_979_289_500_000_000));
        e.attributes.insert("time".into(), json!("not a time"));
        assert!(tp("strptime", "%Y").apply(&mut e).is_err());
        assert!(tp("strptime", "%Q").check().is_err());
    }

    #[test]
    fn severities_by_default_and_by_mapping() {
        let mut e = Entry::default();
        e.attributes.insert("lvl".into(), json!("WARN"));
        let mut s = SeverityParserConfig {
            parse_from: Field::attribute("lvl"),
            preset: None,
            mapping: HashMap::new(),
            overwrite_text: false,
        };
        s.apply(&mut e).unwrap();
        assert_eq!((e.severity, e.severity_text.as_str()), (13, "WARN"));
        s.mapping.insert("error".into(), json!(["oops", 500]));
        e.attributes.insert("lvl".into(), json!(500));
        s.apply(&mut e).unwrap();
        assert_eq!(e.severity, 17);
        e.attributes.insert("lvl".into(), json!("whatever"));
        s.apply(&mut e).unwrap();
        assert_eq!((e.severity, e.severity_text.as_str()), (0, "whatever"));
    }
}
