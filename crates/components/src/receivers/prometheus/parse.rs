//! The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, parsed into
//! samples plus the family metadata (`# TYPE`, `# HELP`, `# UNIT`) that translation needs.
//!
//! Home-made rather than a crate: `prometheus-parse` reads only the 0.0.4 format (no
//! OpenMetrics, `_created`, exemplars or quoted UTF-8 names) and `openmetrics-parser` is
//! LGPL-3.0 (see docs/dependencies.md). The grammar is small; each rule below is Prometheus's
//! (`model/textparse`): label values escape `\\`, `\"` and `\n`; values are Go floats
//! (`NaN`, `+Inf`); text-format timestamps are integer milliseconds, OpenMetrics ones float
//! seconds; OpenMetrics ends at `# EOF` and may carry an exemplar after ` # `.

use std::collections::HashMap;

/// A family's type, as `# TYPE` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `info` (OpenMetrics).
    Info,
    /// `stateset` (OpenMetrics).
    StateSet,
    /// `untyped` / `unknown`, or no `# TYPE`.
    Unknown,
}

impl MetricType {
    fn parse(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "untyped" | "unknown" => MetricType::Unknown,
            _ => return None,
        })
    }
}

/// What `# TYPE`, `# HELP` and `# UNIT` said about one family.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyMeta {
    /// The type.
    pub typ: MetricType,
    /// `# HELP` text, unescaped.
    pub help: String,
    /// `# UNIT` (OpenMetrics).
    pub unit: String,
}

impl Default for FamilyMeta {
    fn default() -> Self {
        FamilyMeta { typ: MetricType::Unknown, help: String::new(), unit: String::new() }
    }
}

/// An OpenMetrics exemplar.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Its labels (`trace_id`, `span_id`...).
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// Milliseconds since the epoch, if given.
    pub timestamp_ms: Option<i64>,
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric name (`__name__`).
    pub name: String,
    /// Labels in the order written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// Milliseconds since the epoch, if the line had a timestamp.
    pub timestamp_ms: Option<i64>,
    /// OpenMetrics exemplar.
    pub exemplar: Option<Exemplar>,
}

/// A parsed scrape body.
#[derive(Clone, Debug, Default)]
pub struct Exposition {
    /// Family metadata by family name.
    pub families: HashMap<String, FamilyMeta>,
    /// Samples in the order written.
    pub samples: Vec<Sample>,
    /// Whether the body was OpenMetrics.
    pub openmetrics: bool,
}

/// A line that does not parse.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Which format a response's `Content-Type` names.
pub fn is_openmetrics(content_type: &str) -> bool {
    content_type.trim_start().starts_with("application/openmetrics-text")
}

/// Parses a whole body.
pub fn parse(text: &str, openmetrics: bool) -> Result<Exposition, ParseError> {
    let mut out = Exposition { openmetrics, ..Default::default() };
    let mut eof = false;
    for (i, raw) in text.lines().enumerate() {
        let err = |m: String| ParseError { line: i + 1, message: m };
        let line = if openmetrics { raw } else { raw.trim_matches(|c| c == ' ' || c == '\t') };
        if eof {
            if line.is_empty() {
                continue;
            }
            return Err(err("content after # EOF".into()));
        }
        if line.is_empty() {
            if openmetrics {
                return Err(err("empty line (not allowed in OpenMetrics)".into()));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            if openmetrics && rest == " EOF" {
                eof = true;
                continue;
            }
            meta_line(rest, openmetrics, &mut out.families).map_err(err)?;
            continue;
        }
        out.samples.push(sample_line(line, openmetrics).map_err(err)?);
    }
    if openmetrics && !eof {
        return Err(ParseError {
            line: text.lines().count(),
            message: "OpenMetrics body does not end with # EOF".into(),
        });
    }
    Ok(out)
}

fn meta_line(rest: &str, openmetrics: bool, fams: &mut HashMap<String, FamilyMeta>) -> Result<(), String> {
    let rest = rest.trim_start_matches([' ', '\t']);
    let (kw, rest) = split_word(rest);
    if !matches!(kw, "TYPE" | "HELP" | "UNIT") {
        if openmetrics {
            return Err(format!("unexpected comment \"#{rest}\" (OpenMetrics allows only TYPE, HELP, UNIT, EOF)"));
        }
        return Ok(()); // A plain comment.
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let (name, text) = if rest.starts_with('"') {
        let mut c = Cursor { s: rest, i: 0 };
        let n = c.quoted()?;
        (n, c.rest().trim_start_matches([' ', '\t']).to_string())
    } else {
        let (n, t) = split_word(rest);
        (n.to_string(), t.trim_start_matches([' ', '\t']).to_string())
    };
    if name.is_empty() {
        return Err(format!("# {kw} without a metric name"));
    }
    let fam = fams.entry(name).or_default();
    match kw {
        "TYPE" => {
            fam.typ =
                MetricType::parse(text.trim()).ok_or_else(|| format!("unknown metric type \"{}\"", text.trim()))?;
        }
        "HELP" => fam.help = unescape(&text, false),
        _ => fam.unit = text.trim().to_string(),
    }
    Ok(())
}

fn split_word(s: &str) -> (&str, &str) {
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Undoes `\\`, `\n` and (in label values) `\"`.
fn unescape(s: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') if quotes => out.push('"'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b':' {
                self.i += 1;
            } else {
                break;
            }
        }
        let n = &self.s[start..self.i];
        if n.is_empty() || n.as_bytes()[0].is_ascii_digit() {
            return Err(format!("invalid name at \"{}\"", &self.s[start..].chars().take(20).collect::<String>()));
        }
        Ok(n.to_string())
    }
    /// A double-quoted string with `\\`, `\"`, `\n` escapes.
    fn quoted(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err("expected '\"'".into());
        }
        self.i += 1;
        let start = self.i;
        let bytes = self.s.as_bytes();
        while self.i < bytes.len() {
            match bytes[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    let v = unescape(&self.s[start..self.i], true);
                    self.i += 1;
                    return Ok(v);
                }
                b'\n' => break,
                _ => self.i += 1,
            }
        }
        Err("unterminated quoted string".into())
    }
    /// `{name="value",...}`; a bare quoted string inside is the metric name (UTF-8 names).
    fn labels(&mut self, name: &mut Option<String>) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        self.i += 1; // '{'
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(out);
                }
                None => return Err("unterminated label set".into()),
                _ => {}
            }
            let key = if self.peek() == Some(b'"') { self.quoted()? } else { self.name()? };
            self.skip_ws();
            if self.peek() == Some(b'=') {
                self.i += 1;
                self.skip_ws();
                let v = self.quoted()?;
                if out.iter().any(|(k, _)| *k == key) {
                    return Err(format!("duplicate label name \"{key}\""));
                }
                out.push((key, v));
            } else if name.is_none() && out.is_empty() {
                *name = Some(key);
            } else {
                return Err(format!("expected '=' after label name \"{key}\""));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err("expected ',' or '}' in label set".into()),
            }
        }
    }
    fn token(&mut self) -> &'a str {
        self.skip_ws();
        let start = self.i;
        while let Some(b) = self.peek() {
            if b == b' ' || b == b'\t' {
                break;
            }
            self.i += 1;
        }
        &self.s[start..self.i]
    }
}

/// A Go-style float (`NaN`, `+Inf`, `-Inf`, decimals, exponents).
pub fn parse_float(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        "NaN" | "nan" => Ok(f64::NAN),
        _ if s.is_empty() => Err("missing value".into()),
        _ if s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) => {
            s.parse::<f64>().map_err(|_| format!("invalid value \"{s}\""))
        }
        _ => Err(format!("invalid value \"{s}\"")),
    }
}

fn timestamp(s: &str, openmetrics: bool) -> Result<i64, String> {
    if openmetrics {
        let f = parse_float(s).map_err(|_| format!("invalid timestamp \"{s}\""))?;
        if !f.is_finite() {
            return Err(format!("invalid timestamp \"{s}\""));
        }
        Ok((f * 1000.0).round() as i64)
    } else {
        s.parse::<i64>().map_err(|_| format!("invalid timestamp \"{s}\""))
    }
}

fn sample_line(line: &str, openmetrics: bool) -> Result<Sample, String> {
    let mut c = Cursor { s: line, i: 0 };
    let mut name = if c.peek() == Some(b'{') { None } else { Some(c.name()?) };
    let labels = if c.peek() == Some(b'{') { c.labels(&mut name)? } else { Vec::new() };
    let name = name.ok_or("a sample without a metric name")?;
    if !matches!(c.peek(), Some(b' ' | b'\t')) {
        return Err(format!("expected a space before the value of \"{name}\""));
    }
    let value = parse_float(c.token())?;
    let mut sample = Sample { name, labels, value, timestamp_ms: None, exemplar: None };
    c.skip_ws();
    if c.peek().is_some() && c.peek() != Some(b'#') {
        sample.timestamp_ms = Some(timestamp(c.token(), openmetrics)?);
        c.skip_ws();
    }
    match c.peek() {
        None => Ok(sample),
        Some(b'#') if openmetrics => {
            c.i += 1;
            c.skip_ws();
            if c.peek() != Some(b'{') {
                return Err("expected an exemplar label set after ' # '".into());
            }
            let mut none = Some(String::new());
            let labels = c.labels(&mut none)?;
            let value = parse_float(c.token())?;
            c.skip_ws();
            let ts = match c.peek() {
                Some(_) => Some(timestamp(c.token(), true)?),
                None => None,
            };
            c.skip_ws();
            if c.peek().is_some() {
                return Err("unexpected text after the exemplar".into());
            }
            sample.exemplar = Some(Exemplar { labels, value, timestamp_ms: ts });
            Ok(sample)
        }
        Some(_) => Err(format!("unexpected text \"{}\" after the sample", c.rest())),
    }
}

/// The family a sample belongs to and that family's metadata, as Prometheus's metadata
/// lookup finds it: the sample's own name, or the name without the suffix its type adds
/// (`_total`, `_created`, `_bucket`, `_sum`, `_count`, `_gsum`, `_gcount`, `_info`).
pub fn family_of<'a>(families: &'a HashMap<String, FamilyMeta>, name: &'a str) -> (&'a str, Option<&'a FamilyMeta>) {
    if let Some(m) = families.get(name) {
        return (name, Some(m));
    }
    for (suffix, types) in [
        ("_total", &[MetricType::Counter][..]),
        ("_created", &[MetricType::Counter, MetricType::Histogram, MetricType::Summary][..]),
        ("_bucket", &[MetricType::Histogram, MetricType::GaugeHistogram][..]),
        ("_sum", &[MetricType::Histogram, MetricType::Summary][..]),
        ("_count", &[MetricType::Histogram, MetricType::Summary][..]),
        ("_gsum", &[MetricType::GaugeHistogram][..]),
        ("_gcount", &[MetricType::GaugeHistogram][..]),
        ("_info", &[MetricType::Info][..]),
    ] {
        if let Some(base) = name.strip_suffix(suffix) {
            if let Some((k, m)) = families.get_key_value(base) {
                if types.contains(&m.typ) {
                    return (k.as_str(), Some(m));
                }
            }
        }
    }
    (name, None)
}
