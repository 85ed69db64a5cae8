//! The per-entry operators: parsers (json_parser, regex_parser with their timestamp,
//! severity, trace and scope sub-parsers) and transformers (move, copy, add, remove,
//! flatten, noop, regex_replace). Each changes one entry in place; the pipeline applies
//! `if:` and `on_error:` around them.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::config::{ParserConfig, RegexReplaceConfig};
use super::entry::{value_string, Entry, Field};

/// An operator that changes one entry; an error leaves the `on_error` policy to the pipeline.
pub trait Transform: Send {
    /// Changes `e`.
    fn apply(&mut self, e: &mut Entry) -> Result<(), String>;
}

/// regex_parser's `cache`: its size and the results by input.
type RegexCache = Option<(usize, HashMap<String, Map<String, Value>>)>;

/// What a parser turns its input into.
enum ParseKind {
    Json { parse_ints: bool },
    Regex { re: Regex, cache: RegexCache },
}

/// json_parser / regex_parser.
pub struct Parser {
    kind: ParseKind,
    cfg: ParserConfig,
}

impl Parser {
    /// A json_parser.
    pub fn json(cfg: &ParserConfig) -> Result<Parser, String> {
        Self::check_subparsers(cfg)?;
        Ok(Parser { kind: ParseKind::Json { parse_ints: cfg.parse_ints }, cfg: cfg.clone() })
    }

    /// A regex_parser; the pattern must compile and have named groups.
    pub fn regex(cfg: &ParserConfig) -> Result<Parser, String> {
        Self::check_subparsers(cfg)?;
        let src = cfg.regex.as_deref().ok_or("regex_parser: `regex` is required")?;
        let re = super::regex::compile(src).map_err(|e| format!("regex_parser: regex: {e}"))?;
        if re.capture_names().flatten().next().is_none() {
            return Err("regex_parser: regex must have at least one named capture group".into());
        }
        let cache = cfg.cache.as_ref().map(|c| (c.size.max(1), HashMap::new()));
        Ok(Parser { kind: ParseKind::Regex { re, cache }, cfg: cfg.clone() })
    }

    fn check_subparsers(cfg: &ParserConfig) -> Result<(), String> {
        if let Some(t) = &cfg.timestamp {
            t.check()?;
        }
        if let Some(s) = &cfg.severity {
            s.check()?;
        }
        Ok(())
    }

    fn parse(&mut self, input: &Value) -> Result<Value, String> {
        match &mut self.kind {
            ParseKind::Json { parse_ints } => {
                let s = match input {
                    Value::String(s) => s.as_str(),
                    Value::Object(_) => return Ok(input.clone()),
                    other => return Err(format!("json_parser: type {} cannot be parsed as JSON", type_name(other))),
                };
                let v: Value = serde_json::from_str(s).map_err(|e| format!("json_parser: {e}"))?;
                if !v.is_object() {
                    return Err("json_parser: the input is not a JSON object".into());
                }
                Ok(if *parse_ints { v } else { floats(v) })
            }
            ParseKind::Regex { re, cache } => {
                let s = match input {
                    Value::String(s) => s.clone(),
                    other => return Err(format!("regex_parser: type {} cannot be parsed", type_name(other))),
                };
                if let Some((_, m)) = cache {
                    if let Some(hit) = m.get(&s) {
                        return Ok(Value::Object(hit.clone()));
                    }
                }
                let caps = re.captures(&s).ok_or("regex_parser: regex pattern does not match")?;
                let mut out = Map::new();
                for name in re.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        out.insert(name.to_string(), Value::String(m.as_str().to_string()));
                    }
                }
                if let Some((size, m)) = cache {
                    if m.len() >= *size {
                        m.clear();
                    }
                    m.insert(s, out.clone());
                }
                Ok(Value::Object(out))
            }
        }
    }
}

/// stanza's json_parser yields every number as a float unless `parse_ints`.
fn floats(v: Value) -> Value {
    match v {
        Value::Number(n) => n.as_f64().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null),
        Value::Array(a) => Value::Array(a.into_iter().map(floats).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, floats(v))).collect()),
        other => other,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "map",
    }
}

fn hex_bytes(v: &Value, len: usize, what: &str) -> Result<Vec<u8>, String> {
    let s = value_string(v);
    let s = s.trim();
    if s.len() != len * 2 {
        return Err(format!("{what}: {s:?} is not {len} hex bytes"));
    }
    (0..len)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| format!("{what}: {s:?} is not hex")))
        .collect()
}

impl Transform for Parser {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        let input = self
            .cfg
            .parse_from
            .get(e)
            .ok_or_else(|| format!("entry is missing the expected parse_from field {}", self.cfg.parse_from))?
            .clone();
        let parsed = self.parse(&input)?;
        self.cfg.parse_to.set_merge(e, parsed);
        if let Some(b) = &self.cfg.body {
            if let Some(v) = b.get(e).cloned() {
                e.body = v;
            }
        }
        let mut errs = Vec::new();
        if let Some(t) = &self.cfg.timestamp {
            if let Err(m) = t.apply(e) {
                errs.push(m);
            }
        }
        if let Some(s) = &self.cfg.severity {
            if let Err(m) = s.apply(e) {
                errs.push(m);
            }
        }
        if let Some(t) = &self.cfg.trace {
            let get = |p: &Option<super::config::ParseFrom>| p.as_ref().and_then(|p| p.parse_from.get(e)).cloned();
            let (tid, sid, flags) = (get(&t.trace_id), get(&t.span_id), get(&t.trace_flags));
            if let Some(v) = tid {
                match hex_bytes(&v, 16, "trace_id") {
                    Ok(b) => e.trace_id = b,
                    Err(m) => errs.push(m),
                }
            }
            if let Some(v) = sid {
                match hex_bytes(&v, 8, "span_id") {
                    Ok(b) => e.span_id = b,
                    Err(m) => errs.push(m),
                }
            }
            if let Some(v) = flags {
                match hex_bytes(&v, 1, "trace_flags") {
                    Ok(b) => e.trace_flags = u32::from(b[0]),
                    Err(m) => errs.push(m),
                }
            }
        }
        if let Some(s) = &self.cfg.scope_name {
            if let Some(v) = s.parse_from.get(e) {
                e.scope_name = value_string(v);
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    }
}

/// move.
pub struct Move {
    /// From.
    pub from: Field,
    /// To.
    pub to: Field,
}

impl Transform for Move {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        let v = self.from.delete(e).ok_or_else(|| format!("move: field {} does not exist", self.from))?;
        if self.to.set_merge(e, v) {
            Ok(())
        } else {
            Err(format!("move: cannot write a non-map value to {}", self.to))
        }
    }
}

/// copy.
pub struct CopyOp {
    /// From.
    pub from: Field,
    /// To.
    pub to: Field,
}

impl Transform for CopyOp {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        let v = self.from.get_owned(e).ok_or_else(|| format!("copy: field {} does not exist", self.from))?;
        if self.to.set_merge(e, v) {
            Ok(())
        } else {
            Err(format!("copy: cannot write a non-map value to {}", self.to))
        }
    }
}

/// add.
pub struct Add {
    /// Where.
    pub field: Field,
    /// What.
    pub value: Value,
}

impl Transform for Add {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        if self.field.set(e, self.value.clone()) {
            Ok(())
        } else {
            Err(format!("add: cannot write a non-map value to {}", self.field))
        }
    }
}

/// remove.
pub struct Remove {
    /// The field.
    pub field: Field,
}

impl Transform for Remove {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        self.field.delete(e).map(|_| ()).ok_or_else(|| format!("remove: field {} does not exist", self.field))
    }
}

/// flatten: the map's children move up beside it and the map goes.
pub struct Flatten {
    /// The field.
    pub field: Field,
}

impl Transform for Flatten {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        if self.field.keys.is_empty() {
            return Err("flatten: cannot flatten a root field".into());
        }
        let Some(Value::Object(m)) = self.field.get(e) else {
            return Err(format!("flatten: field {} is not a map", self.field));
        };
        let m = m.clone();
        self.field.delete(e);
        let parent = Field { root: self.field.root, keys: self.field.keys[..self.field.keys.len() - 1].to_vec() };
        for (k, v) in m {
            let mut f = parent.clone();
            f.keys.push(k);
            f.set(e, v);
        }
        Ok(())
    }
}

/// noop.
pub struct Noop;

impl Transform for Noop {
    fn apply(&mut self, _e: &mut Entry) -> Result<(), String> {
        Ok(())
    }
}

/// regex_replace.
pub struct RegexReplace {
    field: Field,
    re: Regex,
    with: String,
}

impl RegexReplace {
    /// Compiles the pattern (or the named preset).
    pub fn new(c: &RegexReplaceConfig) -> Result<RegexReplace, String> {
        let src = match (c.regex.as_deref(), c.regex_name.as_deref()) {
            (Some(r), None) => r.to_string(),
            (None, Some("ansi_control_sequences")) => r"\x1b\[[0-9;]*[A-Za-z]".to_string(),
            (None, Some(n)) => return Err(format!("regex_replace: unknown regex_name {n:?}")),
            _ => return Err("regex_replace: exactly one of regex and regex_name is required".into()),
        };
        let re = super::regex::compile(&src).map_err(|e| format!("regex_replace: regex: {e}"))?;
        Ok(RegexReplace { field: c.field.clone(), re, with: c.replace_with.clone() })
    }
}

impl Transform for RegexReplace {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        let Some(Value::String(s)) = self.field.get(e) else {
            return Err(format!("regex_replace: field {} is not a string", self.field));
        };
        let out = self.re.replace_all(s, self.with.as_str()).into_owned();
        self.field.set(e, Value::String(out));
        Ok(())
    }
}

/// time_parser.
pub struct TimeOp(pub super::time::TimeParserConfig);

impl Transform for TimeOp {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        self.0.apply(e)
    }
}

/// severity_parser.
pub struct SeverityOp(pub super::time::SeverityParserConfig);

impl Transform for SeverityOp {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        self.0.apply(e)
    }
}

/// retain: the listed fields stay, the other keys of the same parts go. Parts with no
/// listed field are left alone, as stanza does.
pub struct Retain {
    /// The fields kept.
    pub fields: Vec<Field>,
}

impl Transform for Retain {
    fn apply(&mut self, e: &mut Entry) -> Result<(), String> {
        use super::entry::Root;
        let keep = |root: Root| -> Vec<&Field> { self.fields.iter().filter(|f| f.root == root).collect() };
        let (body, attrs, res) = (keep(Root::Body), keep(Root::Attributes), keep(Root::Resource));
        let mut out = Entry { body: Value::Null, ..e.clone() };
        if !attrs.is_empty() {
            out.attributes.clear();
        }
        if !res.is_empty() {
            out.resource.clear();
        }
        if body.is_empty() {
            out.body = e.body.clone();
        } else {
            out.body = Value::Object(Map::new());
        }
        for f in body.into_iter().chain(attrs).chain(res) {
            if let Some(v) = f.get_owned(e) {
                f.set(&mut out, v);
            }
        }
        *e = out;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parser_cfg(regex: Option<&str>) -> ParserConfig {
        ParserConfig {
            id: None,
            output: None,
            cond: None,
            on_error: Default::default(),
            parse_from: Field::body(),
            parse_to: Field { root: super::super::entry::Root::Attributes, keys: vec![] },
            body: None,
            regex: regex.map(str::to_string),
            cache: None,
            parse_ints: false,
            timestamp: None,
            severity: None,
            trace: None,
            scope_name: None,
        }
    }

    #[test]
    fn json_parser_merges_into_attributes() {
        let mut e = Entry::new(json!(r#"{"log":"hi\n","stream":"stdout","n":3}"#), 0);
        e.attributes.insert("log.file.name".into(), json!("a.log"));
        let mut p = Parser::json(&parser_cfg(None)).unwrap();
        p.apply(&mut e).unwrap();
        assert_eq!(e.attributes["log"], json!("hi\n"));
        assert_eq!(e.attributes["n"], json!(3.0));
        assert_eq!(e.attributes["log.file.name"], json!("a.log"));
        let mut bad = Entry::new(json!("not json"), 0);
        assert!(p.apply(&mut bad).is_err());
    }

    #[test]
    fn regex_parser_named_groups_and_cache() {
        let mut c = parser_cfg(Some(r"^(?P<time>\S+) (?P<stream>stdout|stderr) (?P<log>.*)$"));
        c.cache = Some(super::super::config::CacheConfig { size: 2 });
        let mut p = Parser::regex(&c).unwrap();
        for _ in 0..2 {
            let mut e = Entry::new(json!("2024-01-01T00:00:00Z stdout hello world"), 0);
            p.apply(&mut e).unwrap();
            assert_eq!(e.attributes["log"], json!("hello world"));
            assert_eq!(e.attributes["stream"], json!("stdout"));
        }
        let mut e = Entry::new(json!("nope"), 0);
        assert!(p.apply(&mut e).is_err());
        assert!(Parser::regex(&parser_cfg(Some("(x)"))).is_err());
    }

    #[test]
    fn move_copy_add_remove_flatten_replace() {
        let mut e = Entry::new(json!("b"), 0);
        e.attributes.insert("log".into(), json!("msg"));
        e.attributes.insert("nested".into(), json!({"a": 1, "b": {"c": 2}}));
        Move { from: Field::attribute("log"), to: Field::body() }.apply(&mut e).unwrap();
        assert_eq!(e.body, json!("msg"));
        assert!(!e.attributes.contains_key("log"));
        let to = Field::parse("resource[\"k8s.pod.name\"]").unwrap();
        CopyOp { from: Field::body(), to: to.clone() }.apply(&mut e).unwrap();
        assert_eq!(e.resource["k8s.pod.name"], json!("msg"));
        Add { field: Field::attribute("x"), value: json!("") }.apply(&mut e).unwrap();
        assert_eq!(e.attributes["x"], json!(""));
        Remove { field: Field::attribute("x") }.apply(&mut e).unwrap();
        assert!(Remove { field: Field::attribute("x") }.apply(&mut e).is_err());
        assert!(Move { from: Field::attribute("gone"), to: Field::body() }.apply(&mut e).is_err());
        Flatten { field: Field::attribute("nested") }.apply(&mut e).unwrap();
        assert_eq!(e.attributes["a"], json!(1));
        assert_eq!(e.attributes["b"], json!({"c": 2}));
        let c = RegexReplaceConfig {
            id: None,
            output: None,
            cond: None,
            on_error: Default::default(),
            field: Field::body(),
            regex: Some("(m)(s)".into()),
            regex_name: None,
            replace_with: "${2}${1}".into(),
        };
        RegexReplace::new(&c).unwrap().apply(&mut e).unwrap();
        assert_eq!(e.body, json!("smg"));
    }
}
