//! The OTLP/JSON encoder's machinery: writes straight into a `Vec<u8>`, following the
//! OTLP/JSON rules (lowerCamelCase keys, default values omitted, 64-bit integers as decimal
//! strings, enums as integers, ids as lowercase hex, other bytes as padded base64,
//! non-finite doubles as `"NaN"`/`"Infinity"`/`"-Infinity"`).
//!
//! Every message type implements [`Encode`] with an [`Obj`], whose field helpers skip
//! default values; see [`messages`].

mod messages;

use base64::Engine as _;
use serde_json::ser::{CompactFormatter, Formatter as _};

/// A protobuf message that writes itself as a JSON object.
pub(super) trait Encode {
    /// Appends this message, as a JSON object, to `out`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// Encodes a whole request or response body.
pub(super) fn to_vec<T: Encode>(msg: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    msg.encode(&mut out);
    out
}

/// A JSON object being written: `{` on creation, `}` on [`end`](Self::end).
pub(super) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object in `out`.
    pub(super) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, empty: true }
    }

    /// Closes the object.
    pub(super) fn end(self) {
        self.out.push(b'}');
    }

    /// Writes `"key":` (keys are lowerCamelCase identifiers: nothing to escape) and returns
    /// the buffer for the value.
    pub(super) fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A `string` field, omitted when empty.
    pub(super) fn string(&mut self, key: &str, v: &str) {
        if !v.is_empty() {
            write_str(self.key(key), v);
        }
    }

    /// A `bool` field, omitted when false.
    pub(super) fn boolean(&mut self, key: &str, v: bool) {
        if v {
            write_bool(self.key(key), v);
        }
    }

    /// A 64-bit unsigned field (`uint64`, `fixed64`), as a decimal string; omitted when 0.
    pub(super) fn uint64(&mut self, key: &str, v: u64) {
        if v != 0 {
            write_quoted_u64(self.key(key), v);
        }
    }

    /// A 64-bit signed field (`int64`, `sfixed64`), as a decimal string; omitted when 0.
    pub(super) fn int64(&mut self, key: &str, v: i64) {
        if v != 0 {
            write_quoted_i64(self.key(key), v);
        }
    }

    /// A 32-bit unsigned field, as a number; omitted when 0.
    pub(super) fn uint32(&mut self, key: &str, v: u32) {
        if v != 0 {
            write_u64(self.key(key), u64::from(v));
        }
    }

    /// A 32-bit signed field or an enum, as a number; omitted when 0.
    pub(super) fn int32(&mut self, key: &str, v: i32) {
        if v != 0 {
            write_i64(self.key(key), i64::from(v));
        }
    }

    /// A `double` field, omitted when +0.0 (so -0.0 survives).
    pub(super) fn double(&mut self, key: &str, v: f64) {
        if v.to_bits() != 0 {
            write_f64(self.key(key), v);
        }
    }

    /// An `optional double` field, written whenever present.
    pub(super) fn optional_double(&mut self, key: &str, v: Option<f64>) {
        if let Some(v) = v {
            write_f64(self.key(key), v);
        }
    }

    /// A trace or span id, as lowercase hex; omitted when empty.
    pub(super) fn id(&mut self, key: &str, v: &[u8]) {
        if !v.is_empty() {
            write_hex(self.key(key), v);
        }
    }

    /// A message field, written whenever present (even if empty).
    pub(super) fn message<T: Encode>(&mut self, key: &str, v: Option<&T>) {
        if let Some(v) = v {
            v.encode(self.key(key));
        }
    }

    /// A repeated message field, omitted when empty.
    pub(super) fn repeated<T: Encode>(&mut self, key: &str, items: &[T]) {
        self.list(key, items, |out, item| item.encode(out));
    }

    /// A repeated field whose elements are written by `write`; omitted when empty.
    pub(super) fn list<T>(&mut self, key: &str, items: &[T], write: impl Fn(&mut Vec<u8>, &T)) {
        if items.is_empty() {
            return;
        }
        let out = self.key(key);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write(out, item);
        }
        out.push(b']');
    }
}

/// Writing into a `Vec<u8>` cannot fail; this documents (and checks, in debug builds) that
/// the `Result` of a `Write`-based writer is safe to drop.
fn infallible<E: std::fmt::Debug>(result: Result<(), E>) {
    debug_assert!(result.is_ok(), "writing JSON into a Vec failed: {result:?}");
}

/// A JSON string, escaped.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    infallible(serde_json::to_writer(&mut *out, s));
}

/// `true` or `false`.
pub(super) fn write_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

/// A bare JSON number.
pub(super) fn write_u64(out: &mut Vec<u8>, v: u64) {
    infallible(CompactFormatter.write_u64(out, v));
}

/// A bare JSON number.
pub(super) fn write_i64(out: &mut Vec<u8>, v: i64) {
    infallible(CompactFormatter.write_i64(out, v));
}

/// A 64-bit integer as OTLP/JSON wants it: a decimal string.
pub(super) fn write_quoted_u64(out: &mut Vec<u8>, v: u64) {
    out.push(b'"');
    write_u64(out, v);
    out.push(b'"');
}

/// A 64-bit integer as OTLP/JSON wants it: a decimal string.
pub(super) fn write_quoted_i64(out: &mut Vec<u8>, v: i64) {
    out.push(b'"');
    write_i64(out, v);
    out.push(b'"');
}

/// A double: the shortest representation that reads back the same (`1.5`, `3`, `1e-7`),
/// or one of the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub(super) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" });
    } else {
        infallible(CompactFormatter.write_f64(out, v));
        // Whole numbers come out as `3.0`; write `3` like other OTLP/JSON encoders, except
        // for -0.0, which would read back as the integer 0.
        if out.ends_with(b".0") && !(v == 0.0 && v.is_sign_negative()) {
            out.truncate(out.len() - 2);
        }
    }
}

/// Bytes as a lowercase hex string (trace and span ids).
pub(super) fn write_hex(out: &mut Vec<u8>, v: &[u8]) {
    out.reserve(v.len() * 2 + 2);
    out.push(b'"');
    crate::value::extend_hex(out, v);
    out.push(b'"');
}

/// Bytes as a standard, padded base64 string.
pub(super) fn write_base64(out: &mut Vec<u8>, v: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(v).as_bytes());
    out.push(b'"');
}
