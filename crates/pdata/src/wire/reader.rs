//! Protobuf wire primitives (varint, key, length prefix, fixed widths), each bounded by the
//! end of the enclosing message.
//!
//! Every rule mirrors prost 0.14's `encoding.rs`, which is what the decoder will later apply
//! to the same bytes. prost reads a nested message's fields from the whole remaining buffer
//! and only afterwards checks that it stopped exactly at the message's end; any read that
//! crosses that end therefore fails there ("delimited length exceeded"). Bounding every read
//! by the end up front refuses the same buffers, one step earlier.

use super::WireError;

/// Wire type 0.
pub(crate) const VARINT: u8 = 0;
/// Wire type 1.
pub(crate) const FIXED64: u8 = 1;
/// Wire type 2.
pub(crate) const LEN: u8 = 2;
/// Wire type 3.
pub(crate) const START_GROUP: u8 = 3;
/// Wire type 4.
pub(crate) const END_GROUP: u8 = 4;
/// Wire type 5.
pub(crate) const FIXED32: u8 = 5;

#[cold]
pub(crate) fn malformed(offset: usize, reason: &'static str) -> WireError {
    WireError::Malformed { offset, reason }
}

/// Reads a varint at `*pos`, which must end before `end`.
///
/// As prost's `decode_varint`: at most 10 bytes; the 10th byte must be 0 or 1 (anything
/// larger overflows u64, including a continuation bit); running out of bytes is an error.
#[inline]
pub(crate) fn varint(buf: &[u8], pos: &mut usize, end: usize) -> Result<u64, WireError> {
    let start = *pos;
    let bytes = buf.get(start..end).unwrap_or_default();
    match bytes.first() {
        Some(&b) if b < 0x80 => {
            *pos = start + 1;
            return Ok(u64::from(b));
        }
        Some(_) => {}
        None => return Err(malformed(start, "truncated varint")),
    }
    let mut value = 0u64;
    for (i, &b) in bytes.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            if i == 9 && b >= 0x02 {
                return Err(malformed(start, "varint overflows 64 bits"));
            }
            *pos = start + i + 1;
            return Ok(value);
        }
    }
    if bytes.len() >= 10 {
        Err(malformed(start, "varint longer than 10 bytes"))
    } else {
        Err(malformed(start, "truncated varint"))
    }
}

/// Reads a field key: returns (field number, wire type).
///
/// As prost's `decode_key`: the key must fit in 32 bits, the wire type must be 0..=5 and the
/// field number must not be 0.
#[inline]
pub(crate) fn key(buf: &[u8], pos: &mut usize, end: usize) -> Result<(u32, u8), WireError> {
    let start = *pos;
    let key = varint(buf, pos, end)?;
    let Ok(key) = u32::try_from(key) else {
        return Err(malformed(start, "field key exceeds 32 bits"));
    };
    let wire_type = (key & 7) as u8;
    if wire_type > FIXED32 {
        return Err(malformed(start, "invalid wire type (6 or 7)"));
    }
    let number = key >> 3;
    if number == 0 {
        return Err(malformed(start, "field number 0"));
    }
    Ok((number, wire_type))
}

/// Reads a length prefix and returns the payload's range; it must fit before `end`.
#[inline]
pub(crate) fn len_delimited(buf: &[u8], pos: &mut usize, end: usize) -> Result<(usize, usize), WireError> {
    let start = *pos;
    let len = varint(buf, pos, end)?;
    let room = end - *pos;
    match usize::try_from(len) {
        Ok(len) if len <= room => {
            let from = *pos;
            *pos = from + len;
            Ok((from, from + len))
        }
        _ => Err(malformed(start, "length-delimited field runs past the end of its message")),
    }
}

/// Skips `width` bytes (a fixed32 or fixed64 value).
#[inline]
pub(crate) fn fixed(pos: &mut usize, end: usize, width: usize) -> Result<(), WireError> {
    if end - *pos < width {
        return Err(malformed(*pos, "fixed-width value runs past the end of its message"));
    }
    *pos += width;
    Ok(())
}
