//! Splitting encoded requests by a key read from each item's bytes, without decoding
//! (issue 16, "reading without decoding").
//!
//! Load balancing by trace id and the tail-sampling shards need one thing from a span: its
//! trace id. Decoding a request to read it costs ~1.1 µs a span and the parts must then be
//! encoded again for export; here the id is read from the bytes, and each part is written
//! by copying byte ranges: one `ResourceSpans` per part with the resource's own fields
//! (resource, schema URL, unknown fields), one `ScopeSpans` per part with the scope's own
//! fields, then the spans of that part, exactly as received. The result decodes to what
//! `walk::partition_spans` builds from the decoded request (proptest in `tests.rs`), with
//! two differences that carry no items: a resource or scope without items is left out, and
//! when every item goes to one part the request is returned whole, bytes untouched.
//!
//! The same shape serves log records (`LogRecord.trace_id`, field 9): resource → scope →
//! item, children in field 2 at both levels. (Metrics are not split here: their items are
//! data points, several levels below the metric that would carry the key.)

use prost::encoding::{encode_varint, encoded_len_varint};

use super::reader::{key, len_delimited, LEN};
use super::{skip_field, WireError, RECURSION_LIMIT};

/// Where the key of an item is: items are field 2 of their scope message, scopes field 2 of
/// their resource message, resources field 1 of the request (traces and logs).
#[derive(Clone, Copy, Debug)]
pub struct ItemKey {
    /// The key's field number in the item; it must be a length-delimited field.
    pub field: u32,
}

/// `Span.trace_id`.
pub const SPAN_TRACE_ID: ItemKey = ItemKey { field: 1 };
/// `LogRecord.trace_id`.
pub const LOG_TRACE_ID: ItemKey = ItemKey { field: 9 };

/// The request field of resources, the resource field of scopes, the scope field of items.
const RESOURCES: u32 = 1;
const CHILDREN: u32 = 2;
/// Keys of field 1 and field 2 with wire type LEN, as written.
const KEY_RESOURCE: u8 = (RESOURCES << 3) as u8 | LEN;
const KEY_CHILD: u8 = (CHILDREN << 3) as u8 | LEN;

/// One encoded part of a split.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Part {
    /// An export request of the same signal.
    pub bytes: Vec<u8>,
    /// Items in it.
    pub items: usize,
}

/// What [`split`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Split {
    /// Every item belongs to this part (or there are no items: part 0): keep the input.
    Whole(usize),
    /// One entry per part, in part order (parts without items are empty).
    Parts(Vec<Part>),
}

/// A byte range in one input chunk.
#[derive(Clone, Copy)]
struct Span {
    chunk: u32,
    start: usize,
    end: usize,
}

/// A resource or scope: its own fields (`env` in `fields`) and its children.
#[derive(Clone, Copy)]
struct Node {
    env: (usize, usize),
    children: (usize, usize),
}

/// An item: its whole field (key, length, payload) and the part it goes to.
#[derive(Clone, Copy)]
struct Item {
    at: Span,
    part: usize,
}

/// Everything pass one found, as flat lists.
#[derive(Default)]
struct Layout {
    /// Envelope fields of resources (`[0]`) and of scopes (`[1]`), in order; kept apart
    /// because a resource's fields and its scopes' fields are read interleaved.
    fields: [Vec<Span>; 2],
    resources: Vec<Node>,
    scopes: Vec<Node>,
    items: Vec<Item>,
}

/// Splits the request made of `chunks` (each a valid encoded request of the signal, as the
/// walker accepted it) into `n` parts by `part(key of the item)`, an index below `n`
/// (larger ones go to the last part, as in `walk::partition_*`). An item without the key
/// field gets an empty key. Unknown top-level fields are dropped, as a decode drops them.
pub fn split(
    chunks: &[&[u8]],
    path: ItemKey,
    n: usize,
    part: &mut dyn FnMut(&[u8]) -> usize,
) -> Result<Split, WireError> {
    let n = n.max(1);
    let mut layout = Layout::default();
    let mut first: Option<usize> = None;
    let mut mixed = false;
    for (ci, buf) in chunks.iter().enumerate() {
        let ci = u32::try_from(ci).unwrap_or(u32::MAX);
        let mut pos = 0;
        while pos < buf.len() {
            let at = pos;
            let (number, wire_type) = key(buf, &mut pos, buf.len())?;
            if number == RESOURCES && wire_type == LEN {
                let (from, to) = len_delimited(buf, &mut pos, buf.len())?;
                read_node(buf, ci, from, to, 0, path, n, part, &mut layout, &mut |p| {
                    mixed |= *first.get_or_insert(p) != p;
                })?;
            } else {
                skip_field(wire_type, number, buf, &mut pos, buf.len(), RECURSION_LIMIT, at)?;
            }
        }
    }
    if !mixed {
        return Ok(Split::Whole(first.unwrap_or(0)));
    }
    Ok(Split::Parts(write_parts(chunks, &layout, n)))
}

/// Reads a resource (`depth` 0) or scope (`depth` 1) message in `buf[from..to]` into
/// `layout`: its fields other than field 2, and its children (scopes, or items whose keys
/// are read and given a part).
#[allow(clippy::too_many_arguments)]
fn read_node(
    buf: &[u8],
    chunk: u32,
    from: usize,
    to: usize,
    depth: u8,
    path: ItemKey,
    n: usize,
    part: &mut dyn FnMut(&[u8]) -> usize,
    layout: &mut Layout,
    seen: &mut dyn FnMut(usize),
) -> Result<(), WireError> {
    let level = usize::from(depth.min(1));
    let env_start = layout.fields[level].len();
    let children_start = if depth == 0 { layout.scopes.len() } else { layout.items.len() };
    // Children are pushed while they are read (a scope before its resource), so each
    // node's children are the contiguous run pushed between its start and its end.
    let mut pos = from;
    while pos < to {
        let at = pos;
        let (number, wire_type) = key(buf, &mut pos, to)?;
        if number == CHILDREN && wire_type == LEN {
            let (c_from, c_to) = len_delimited(buf, &mut pos, to)?;
            if depth == 0 {
                read_node(buf, chunk, c_from, c_to, 1, path, n, part, layout, seen)?;
            } else {
                let id = item_key(buf, c_from, c_to, path)?;
                let p = part(id).min(n - 1);
                seen(p);
                layout.items.push(Item { at: Span { chunk, start: at, end: pos }, part: p });
            }
        } else {
            // Budget as in the walk: a resource's fields are merged with 99, a scope's with 98.
            skip_field(wire_type, number, buf, &mut pos, to, RECURSION_LIMIT - 1 - u32::from(depth), at)?;
            layout.fields[level].push(Span { chunk, start: at, end: pos });
        }
    }
    let env = (env_start, layout.fields[level].len());
    if depth == 0 {
        layout.resources.push(Node { env, children: (children_start, layout.scopes.len()) });
    } else {
        layout.scopes.push(Node { env, children: (children_start, layout.items.len()) });
    }
    Ok(())
}

/// The last occurrence of the key field in an item (prost keeps the last), or empty.
fn item_key(buf: &[u8], from: usize, to: usize, path: ItemKey) -> Result<&[u8], WireError> {
    let mut found: &[u8] = &[];
    let mut pos = from;
    while pos < to {
        let at = pos;
        let (number, wire_type) = key(buf, &mut pos, to)?;
        if number == path.field && wire_type == LEN {
            let (k_from, k_to) = len_delimited(buf, &mut pos, to)?;
            found = buf.get(k_from..k_to).unwrap_or_default();
        } else {
            skip_field(wire_type, number, buf, &mut pos, to, RECURSION_LIMIT - 3, at)?;
        }
    }
    Ok(found)
}

fn bytes<'a>(chunks: &[&'a [u8]], s: Span) -> &'a [u8] {
    chunks.get(s.chunk as usize).and_then(|c| c.get(s.start..s.end)).unwrap_or_default()
}

fn field_len(body: usize) -> usize {
    1 + encoded_len_varint(body as u64) + body
}

/// Pass two: one request per part, each resource and scope written once per part that has
/// items under it, lengths computed before writing so every byte is copied once.
fn write_parts(chunks: &[&[u8]], layout: &Layout, n: usize) -> Vec<Part> {
    let mut parts: Vec<Part> = (0..n).map(|_| Part::default()).collect();
    let env =
        |level: usize, node: &Node| -> &[Span] { layout.fields[level].get(node.env.0..node.env.1).unwrap_or_default() };
    let env_len = |level: usize, node: &Node| -> usize { env(level, node).iter().map(|s| s.end - s.start).sum() };
    // Per scope of the current resource and part: the bytes of its items.
    let mut scope_items: Vec<usize> = Vec::new();
    let mut resource_len: Vec<usize> = vec![0; n];
    for resource in &layout.resources {
        let scopes = layout.scopes.get(resource.children.0..resource.children.1).unwrap_or_default();
        scope_items.clear();
        scope_items.resize(scopes.len() * n, 0);
        for (si, scope) in scopes.iter().enumerate() {
            for item in layout.items.get(scope.children.0..scope.children.1).unwrap_or_default() {
                scope_items[si * n + item.part] += item.at.end - item.at.start;
            }
        }
        let r_env = env_len(0, resource);
        resource_len.iter_mut().for_each(|l| *l = 0);
        for (si, scope) in scopes.iter().enumerate() {
            let s_env = env_len(1, scope);
            for (p, len) in resource_len.iter_mut().enumerate() {
                let items = scope_items[si * n + p];
                if items > 0 {
                    *len += field_len(s_env + items);
                }
            }
        }
        for (p, &len) in resource_len.iter().enumerate() {
            if len > 0 {
                let out = &mut parts[p].bytes;
                out.push(KEY_RESOURCE);
                encode_varint((r_env + len) as u64, out);
                for f in env(0, resource) {
                    out.extend_from_slice(bytes(chunks, *f));
                }
            }
        }
        for (si, scope) in scopes.iter().enumerate() {
            let s_env = env_len(1, scope);
            for (p, part) in parts.iter_mut().enumerate() {
                let items = scope_items[si * n + p];
                if items > 0 {
                    part.bytes.push(KEY_CHILD);
                    encode_varint((s_env + items) as u64, &mut part.bytes);
                    for f in env(1, scope) {
                        part.bytes.extend_from_slice(bytes(chunks, *f));
                    }
                }
            }
            for item in layout.items.get(scope.children.0..scope.children.1).unwrap_or_default() {
                let part = &mut parts[item.part];
                part.bytes.extend_from_slice(bytes(chunks, item.at));
                part.items += 1;
            }
        }
    }
    parts
}

/// Appends to `out` the resource element that makes up `chunk` (exactly one top-level
/// field 1, as the walker cuts requests) without its children (field 2): the resource, its
/// schema URL and any unknown field. Routing by resource decodes these few bytes instead of
/// the items. `None` when the chunk is not exactly one resource element (the caller decodes).
/// Works for the three signals: their resource elements share this layout.
pub fn resource_envelope(chunk: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let end = chunk.len();
    let mut pos = 0;
    let (number, wire_type) = key(chunk, &mut pos, end).ok()?;
    if number != RESOURCES || wire_type != LEN {
        return None;
    }
    let (from, to) = len_delimited(chunk, &mut pos, end).ok()?;
    if to != end {
        return None;
    }
    // Two passes: the length prefix first, then the bytes.
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let mut p = from;
    while p < to {
        let at = p;
        let (number, wire_type) = key(chunk, &mut p, to).ok()?;
        if number == CHILDREN && wire_type == LEN {
            len_delimited(chunk, &mut p, to).ok()?;
        } else {
            skip_field(wire_type, number, chunk, &mut p, to, RECURSION_LIMIT - 1, at).ok()?;
            fields.push((at, p));
        }
    }
    let len: usize = fields.iter().map(|(a, b)| b - a).sum();
    out.push(KEY_RESOURCE);
    encode_varint(len as u64, out);
    for (a, b) in fields {
        out.extend_from_slice(chunk.get(a..b)?);
    }
    Some(())
}
