//! recombine: joins consecutive entries of one source (by default one file) into one, by
//! `is_first_entry` or `is_last_entry`, as stanza's operator does; held entries leave after
//! `force_flush_period` without news, at `max_batch_size`/`max_log_size`, or at shutdown.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::RecombineConfig;
use super::entry::{value_string, Entry, Field};
use super::expr::Expr;
use super::pipeline::Stateful;

enum Rule {
    First(Expr),
    Last(Expr),
}

struct Batch {
    entries: Vec<Entry>,
    bytes: usize,
    last: Instant,
}

/// The recombine operator.
pub struct Recombine {
    rule: Rule,
    field: Field,
    with: String,
    max_batch: usize,
    max_bytes: usize,
    source: Field,
    period: Duration,
    max_sources: usize,
    newest: bool,
    batches: HashMap<String, Batch>,
}

impl Recombine {
    /// Checks the config: exactly one of is_first_entry and is_last_entry.
    pub fn new(c: &RecombineConfig) -> Result<Recombine, String> {
        let rule = match (&c.is_first_entry, &c.is_last_entry) {
            (Some(f), None) => Rule::First(f.clone()),
            (None, Some(l)) => Rule::Last(l.clone()),
            _ => return Err("exactly one of is_first_entry and is_last_entry is required".into()),
        };
        let newest = match c.overwrite_with.as_str() {
            "oldest" => false,
            "newest" => true,
            o => return Err(format!("overwrite_with must be oldest or newest, not {o:?}")),
        };
        Ok(Recombine {
            rule,
            field: c.combine_field.clone(),
            with: c.combine_with.clone(),
            max_batch: c.max_batch_size.max(1),
            max_bytes: match c.max_log_size {
                0 => usize::MAX,
                n => usize::try_from(n).unwrap_or(usize::MAX),
            },
            source: c.source_identifier.clone(),
            period: c.force_flush_period,
            max_sources: c.max_sources.max(1),
            newest,
            batches: HashMap::new(),
        })
    }

    fn combine(&self, b: Batch) -> Option<Entry> {
        let parts: Vec<String> =
            b.entries.iter().map(|e| self.field.get(e).map(value_string).unwrap_or_default()).collect();
        let mut entries = b.entries;
        let mut base = if self.newest { entries.pop()? } else { entries.into_iter().next()? };
        self.field.set(&mut base, Value::String(parts.join(&self.with)));
        Some(base)
    }

    fn take(&mut self, key: &str, out: &mut Vec<Entry>) {
        if let Some(b) = self.batches.remove(key) {
            out.extend(self.combine(b));
        }
    }
}

impl Stateful for Recombine {
    fn process(&mut self, e: Entry, out: &mut Vec<Entry>) -> Result<(), String> {
        let key = self.source.get(&e).map(value_string).unwrap_or_default();
        if self.field.get(&e).is_none() {
            return Err(format!("entry has no combine_field {}", self.field));
        }
        if !self.batches.contains_key(&key) && self.batches.len() >= self.max_sources {
            let keys: Vec<String> = self.batches.keys().cloned().collect();
            for k in keys {
                self.take(&k, out);
            }
        }
        let size = self.field.get(&e).map(|v| value_string(v).len()).unwrap_or(0);
        let (first_rule, hit) = match &self.rule {
            Rule::First(x) => (true, x.matches(&e)),
            Rule::Last(x) => (false, x.matches(&e)),
        };
        if first_rule && hit {
            self.take(&key, out);
        }
        let b = self.batches.entry(key.clone()).or_insert_with(|| Batch {
            entries: Vec::new(),
            bytes: 0,
            last: Instant::now(),
        });
        b.entries.push(e);
        b.bytes += size;
        b.last = Instant::now();
        if !first_rule && hit {
            self.take(&key, out);
            return Ok(());
        }
        if self.batches.get(&key).is_some_and(|b| b.entries.len() >= self.max_batch || b.bytes >= self.max_bytes) {
            self.take(&key, out);
        }
        Ok(())
    }

    fn flush(&mut self, now: Instant, force: bool, out: &mut Vec<Entry>) {
        let due: Vec<String> = self
            .batches
            .iter()
            .filter(|(_, b)| force || (!self.period.is_zero() && now.duration_since(b.last) >= self.period))
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.take(&k, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(first: Option<&str>, last: Option<&str>) -> RecombineConfig {
        RecombineConfig {
            id: None,
            output: None,
            cond: None,
            on_error: Default::default(),
            is_first_entry: first.map(|s| Expr::parse(s).unwrap()),
            is_last_entry: last.map(|s| Expr::parse(s).unwrap()),
            combine_field: Field::attribute("log"),
            combine_with: String::new(),
            max_batch_size: 1000,
            max_log_size: 0,
            source_identifier: Field::attribute("log.file.path"),
            force_flush_period: Duration::from_secs(5),
            max_sources: 1000,
            max_unmatched_batch_size: 100,
            overwrite_with: "oldest".into(),
        }
    }

    fn entry(log: &str, tag: &str) -> Entry {
        let mut e = Entry::new(json!(""), 0);
        e.attributes.insert("log".into(), json!(log));
        e.attributes.insert("logtag".into(), json!(tag));
        e.attributes.insert("log.file.path".into(), json!("/a"));
        e
    }

    #[test]
    fn partial_lines_join_until_the_last() {
        let mut r = Recombine::new(&cfg(None, Some("attributes.logtag == 'F'"))).unwrap();
        let mut out = Vec::new();
        r.process(entry("ab", "P"), &mut out).unwrap();
        r.process(entry("cd", "P"), &mut out).unwrap();
        assert!(out.is_empty());
        r.process(entry("ef", "F"), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].attributes["log"], json!("abcdef"));
    }

    #[test]
    fn first_entry_rule_and_flush() {
        let mut c = cfg(Some("attributes.log matches \"^\\\\{\""), None);
        c.combine_with = "\n".into();
        let mut r = Recombine::new(&c).unwrap();
        let mut out = Vec::new();
        for l in ["{a", "  at x", "{b"] {
            r.process(entry(l, "F"), &mut out).unwrap();
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].attributes["log"], json!("{a\n  at x"));
        r.flush(Instant::now(), true, &mut out);
        assert_eq!(out[1].attributes["log"], json!("{b"));
        assert!(Recombine::new(&cfg(None, None)).is_err());
    }
}
