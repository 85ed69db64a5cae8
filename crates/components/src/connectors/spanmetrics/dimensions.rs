//! Configured dimensions, resolved for one span: a named dimension takes the span's
//! attribute, else the resource's (or, for the events metric, the event's, then the
//! resource's), else its `default`, else it is left out; a glob adds every matching span
//! attribute, then every matching resource attribute the span does not have, each in name
//! order. This is the Collector's lookup order.

use regex::Regex;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};
use switchyard_pdata::value::str_value;

use super::config::Dimension;

/// A list of configured dimensions, ready to resolve.
#[derive(Clone, Debug, Default)]
pub struct Dimensions {
    named: Vec<(String, Option<AnyValue>)>,
    globs: Vec<Regex>,
}

impl Dimensions {
    /// Resolves the config entries (a glob that does not compile was refused by validation
    /// and is skipped here).
    pub fn new(cfg: &[Dimension]) -> Self {
        let mut d = Dimensions::default();
        for c in cfg {
            if !c.glob.is_empty() {
                d.globs.extend(switchyard_ottl::glob::compile_with_separator(&c.glob, '.').ok());
            } else {
                d.named.push((c.name.clone(), c.default.clone().map(str_value)));
            }
        }
        d
    }

    /// Calls `f` with each dimension's name and value for a span with attributes `span`;
    /// `fallback` are the attribute lists consulted after the span's, earlier ones first.
    pub fn each<'a>(
        &'a self,
        span: &'a [KeyValue],
        fallback: &[&'a [KeyValue]],
        mut f: impl FnMut(&'a str, &'a AnyValue),
    ) {
        for (name, default) in &self.named {
            let found = std::iter::once(span)
                .chain(fallback.iter().copied())
                .find_map(|list| attrs::get(list, name))
                .or(default.as_ref());
            if let Some(v) = found {
                f(name, v);
            }
        }
        if self.globs.is_empty() {
            return;
        }
        let matches = |k: &str| self.globs.iter().any(|g| g.is_match(k));
        let mut from_span: Vec<&KeyValue> = span.iter().filter(|kv| matches(&kv.key)).collect();
        from_span.sort_by(|a, b| a.key.cmp(&b.key));
        from_span.dedup_by(|a, b| a.key == b.key);
        for kv in &from_span {
            f(&kv.key, attrs::value_of(kv));
        }
        let mut rest: Vec<&KeyValue> = Vec::new();
        for list in fallback {
            for kv in list.iter().filter(|kv| matches(&kv.key)) {
                if attrs::get(span, &kv.key).is_none() && !rest.iter().any(|r| r.key == kv.key) {
                    rest.push(kv);
                }
            }
        }
        rest.sort_by(|a, b| a.key.cmp(&b.key));
        for kv in rest {
            f(&kv.key, attrs::value_of(kv));
        }
    }
}
