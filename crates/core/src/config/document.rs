//! The configuration document: a YAML tree that remembers where every node came from.
//!
//! We parse YAML ourselves (saphyr-parser events) instead of going straight to serde so that
//! (a) a duplicate mapping key anywhere is an error with both locations, never a silent
//! overwrite, (b) several `--config` files can be merged as the Collector merges them, and
//! (c) every later error (unknown field, bad value, undefined component) can point at the
//! file, line and column of the node it is about.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::diagnostics::ConfigError;

/// Where a node starts: file, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file (or source name) the node was read from.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A YAML node with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The node's value.
    pub value: Value,
    /// Where the node starts.
    pub loc: Location,
}

/// A mapping entry: the key's location and the value node.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Where the key is written.
    pub key_loc: Location,
    /// The value.
    pub node: Node,
}

/// The value of a node. Scalars keep their text; typing (int, bool, ...) happens when a
/// config struct asks for a type, as YAML's core schema and the Collector do.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// A scalar. `plain` is false for quoted and block scalars, which are always strings.
    Scalar {
        /// The scalar's text.
        text: String,
        /// Written without quotes (so `123` may be an int).
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(IndexMap<String, Entry>),
}

impl Node {
    /// The mapping entries, if this node is a mapping.
    pub fn as_map(&self) -> Option<&IndexMap<String, Entry>> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks up a descendant by a path of mapping keys and sequence indexes
    /// (`["protocols", "grpc", "endpoint"]`, `["actions", "0"]`); used to place errors.
    pub fn find<'a>(&'a self, path: &[&str]) -> Option<&'a Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        match &self.value {
            Value::Map(m) => m.get(*first).and_then(|e| e.node.find(rest)),
            Value::Seq(items) => first.parse::<usize>().ok().and_then(|i| items.get(i)).and_then(|n| n.find(rest)),
            _ => None,
        }
    }

    /// A short name of the node's kind for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Most nodes one document may produce (aliases included): a guard against alias bombs.
const MAX_NODES: usize = 1_000_000;

/// Parses one YAML document. Duplicate keys, syntax errors and alias bombs are errors.
pub fn parse(file: &str, text: &str) -> Result<Node, ConfigError> {
    let file: Arc<str> = Arc::from(file);
    let mut builder = Builder { file: file.clone(), stack: Vec::new(), anchors: Vec::new(), root: None, nodes: 0 };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            ConfigError::at(
                Location { file: file.clone(), line: m.line(), col: m.col() + 1 },
                "",
                format!("invalid YAML: {}", e.info()),
            )
        })?;
        builder.event(event, span)?;
        if builder.root.is_some() {
            break; // only the first document counts, as in the Collector
        }
    }
    Ok(builder.root.unwrap_or(Node { value: Value::Null, loc: Location { file, line: 1, col: 1 } }))
}

enum Frame {
    Seq {
        anchor: usize,
        loc: Location,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        loc: Location,
        entries: IndexMap<String, Entry>,
        key: Option<(String, Location)>,
        merges: Vec<Node>,
    },
}

struct Builder {
    file: Arc<str>,
    stack: Vec<Frame>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
    nodes: usize,
}

impl Builder {
    fn loc(&self, span: &Span) -> Location {
        Location { file: self.file.clone(), line: span.start.line(), col: span.start.col() + 1 }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ConfigError> {
        let loc = self.loc(&span);
        match event {
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq { anchor, loc, items: Vec::new() }),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map { anchor, loc, entries: IndexMap::new(), key: None, merges: Vec::new() })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq { anchor, loc, items }) => (anchor, Node { value: Value::Seq(items), loc }),
                    Some(Frame::Map { anchor, loc, mut entries, merges, .. }) => {
                        // `<<: *base` (or a list of them): keys written here win over merged ones.
                        for merged in merges {
                            let maps = match merged.value {
                                Value::Seq(items) => items,
                                other => vec![Node { value: other, loc: merged.loc }],
                            };
                            for m in maps {
                                let Value::Map(extra) = m.value else {
                                    return Err(ConfigError::at(
                                        m.loc,
                                        "",
                                        "a merge key (<<) needs a mapping or a list of mappings",
                                    ));
                                };
                                for (k, e) in extra {
                                    entries.entry(k).or_insert(e);
                                }
                            }
                        }
                        (anchor, Node { value: Value::Map(entries), loc })
                    }
                    None => return Ok(()),
                };
                self.remember(node.0, &node.1);
                self.push(node.1)?;
            }
            Event::Scalar(text, style, anchor, _) => {
                let plain = matches!(style, ScalarStyle::Plain);
                let value = if plain && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
                    Value::Null
                } else {
                    Value::Scalar { text: text.into_owned(), plain }
                };
                let node = Node { value, loc };
                self.remember(anchor, &node);
                self.push(node)?;
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .ok_or_else(|| ConfigError::at(loc.clone(), "", "unknown YAML alias"))?;
                self.nodes += count_nodes(&node);
                if self.nodes > MAX_NODES {
                    return Err(ConfigError::at(loc, "", "YAML aliases expand to too many nodes"));
                }
                self.push(node)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
    }

    fn push(&mut self, node: Node) -> Result<(), ConfigError> {
        self.nodes += 1;
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, merges, .. }) => match key.take() {
                None => {
                    let text = match &node.value {
                        Value::Scalar { text, .. } => text.clone(),
                        Value::Null => String::new(),
                        _ => return Err(ConfigError::at(node.loc, "", "mapping keys must be scalars")),
                    };
                    *key = Some((text, node.loc));
                }
                Some((k, _)) if k == "<<" => merges.push(node),
                Some((k, key_loc)) => {
                    if let Some(prev) = entries.get(&k) {
                        return Err(ConfigError::at(
                            key_loc,
                            "",
                            format!("mapping key \"{k}\" already defined at line {}", prev.key_loc.line),
                        ));
                    }
                    entries.insert(k, Entry { key_loc, node });
                }
            },
        }
        Ok(())
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(m) => 1 + m.values().map(|e| 1 + count_nodes(&e.node)).sum::<usize>(),
        _ => 1,
    }
}

/// Deep-merges `overlay` into `base` as the Collector merges `--config` sources: mappings
/// merge key by key, anything else (scalars, sequences, null) from the later source replaces.
pub fn merge(base: &mut Node, overlay: Node) {
    match (&mut base.value, overlay.value) {
        (Value::Map(b), Value::Map(o)) => {
            for (k, entry) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(&mut existing.node, entry.node),
                    None => {
                        b.insert(k, entry);
                    }
                }
            }
        }
        (_, value) => {
            base.value = value;
            base.loc = overlay.loc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_key_is_an_error_with_both_lines() {
        let err = parse("c.yaml", "exporters:\n  otlp:\n    endpoint: a\n  otlp:\n    endpoint: b\n").unwrap_err();
        assert_eq!(err.to_string(), "c.yaml:4:3: mapping key \"otlp\" already defined at line 2");
    }

    #[test]
    fn locations_and_anchors() {
        let doc = parse("c.yaml", "a: &x\n  b: 1\nc: *x\n").unwrap();
        let b = doc.find(&["c", "b"]).unwrap();
        assert_eq!(b.value, Value::Scalar { text: "1".into(), plain: true });
        assert_eq!((doc.find(&["a", "b"]).unwrap().loc.line), 2);
    }

    #[test]
    fn yaml_merge_keys() {
        let doc = parse("c.yaml", "base: &b {endpoint: x, timeout: 5s}\nuse:\n  <<: *b\n  timeout: 9s\n").unwrap();
        assert_eq!(doc.find(&["use", "endpoint"]).unwrap().value, Value::Scalar { text: "x".into(), plain: true });
        assert_eq!(doc.find(&["use", "timeout"]).unwrap().value, Value::Scalar { text: "9s".into(), plain: true });
        assert!(doc.find(&["use", "<<"]).is_none());
    }

    #[test]
    fn merge_maps_replace_lists_and_null_wipes() {
        let mut a = parse("a", "m: {x: 1, y: 2}\nl: [1, 2]\np: {k: v}\n").unwrap();
        let b = parse("b", "m: {y: 3}\nl: [9]\np:\n").unwrap();
        merge(&mut a, b);
        assert_eq!(a.find(&["m", "x"]).unwrap().value, Value::Scalar { text: "1".into(), plain: true });
        assert_eq!(a.find(&["m", "y"]).unwrap().value, Value::Scalar { text: "3".into(), plain: true });
        assert!(matches!(&a.find(&["l"]).unwrap().value, Value::Seq(v) if v.len() == 1));
        assert_eq!(a.find(&["p"]).unwrap().value, Value::Null);
    }

    #[test]
    fn syntax_error_has_location() {
        let err = parse("c.yaml", "a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.to_string().starts_with("c.yaml:"), "{err}");
        assert!(err.to_string().contains("invalid YAML"), "{err}");
    }
}
