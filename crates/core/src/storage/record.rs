//! The on-disk record format of the write-ahead log.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "SYQ1"
//! 4       4     payload length (LE)
//! 8       8     sequence number (LE)
//! 16      4     item count (LE)
//! 20      4     CRC-32 of the payload
//! 24      4     CRC-32 of bytes 0..24
//! 28      n     payload
//! ```
//!
//! The header has its own checksum so that a damaged header is recognised (and the reader
//! can look for the next good one) instead of sending it off with a wild length.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Marks the start of every record.
pub(crate) const MAGIC: [u8; 4] = *b"SYQ1";
/// Header bytes before each payload.
pub const HEADER_LEN: usize = 28;
/// Largest payload accepted; anything bigger in a header means damage.
pub(crate) const MAX_PAYLOAD: u32 = 1 << 30;

/// A decoded, checksum-verified header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub len: u32,
    pub seq: u64,
    pub items: u32,
    pub payload_crc: u32,
}

impl Header {
    /// Bytes the record takes on disk.
    pub fn record_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.len)
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf`.
    pub fn write(&self, buf: &mut [u8]) {
        buf[0..4].copy_from_slice(&MAGIC);
        buf[4..8].copy_from_slice(&self.len.to_le_bytes());
        buf[8..16].copy_from_slice(&self.seq.to_le_bytes());
        buf[16..20].copy_from_slice(&self.items.to_le_bytes());
        buf[20..24].copy_from_slice(&self.payload_crc.to_le_bytes());
        let crc = crc32fast::hash(&buf[0..24]);
        buf[24..28].copy_from_slice(&crc.to_le_bytes());
    }

    /// Parses and verifies a header; `None` if the magic or checksum is wrong.
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let b = buf.get(0..HEADER_LEN)?;
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if b[0..4] != MAGIC || crc32fast::hash(&b[0..24]) != u32_at(24) {
            return None;
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&b[8..16]);
        let h = Header { len: u32_at(4), seq: u64::from_le_bytes(seq), items: u32_at(16), payload_crc: u32_at(20) };
        (h.len <= MAX_PAYLOAD).then_some(h)
    }
}

/// What is found at an offset of a segment.
#[derive(Debug)]
pub(crate) enum Slot {
    /// A record with a good header that fits in the segment.
    Record(Header),
    /// The segment ends mid-record (a write cut short by a crash).
    Torn,
    /// Not a valid header: damage. `next` is the next offset with a valid header, if any.
    Damaged { next: Option<u64> },
}

/// Reads the slot at `offset` of a segment whose valid length is `len`.
pub(crate) fn read_slot(file: &File, offset: u64, len: u64) -> io::Result<Slot> {
    if offset + HEADER_LEN as u64 > len {
        return Ok(Slot::Torn);
    }
    let mut buf = [0u8; HEADER_LEN];
    file.read_exact_at(&mut buf, offset)?;
    match Header::parse(&buf) {
        Some(h) if offset + h.record_len() <= len => Ok(Slot::Record(h)),
        // A header whose payload runs past the end: the last write was cut short.
        Some(_) => Ok(Slot::Torn),
        None => Ok(Slot::Damaged { next: resync(file, offset + 1, len)? }),
    }
}

/// The first offset at or after `from` holding a valid header, scanning the rest of the segment.
/// Only runs after damage was found, so reading the remainder at once is acceptable.
fn resync(file: &File, from: u64, len: u64) -> io::Result<Option<u64>> {
    if from >= len {
        return Ok(None);
    }
    let mut rest = vec![0u8; (len - from) as usize];
    file.read_exact_at(&mut rest, from)?;
    let mut i = 0;
    while i + HEADER_LEN <= rest.len() {
        if rest[i..i + 4] == MAGIC && Header::parse(&rest[i..]).is_some() {
            return Ok(Some(from + i as u64));
        }
        i += 1;
    }
    Ok(None)
}

/// Reads a record's payload and checks it; `None` if the payload checksum is wrong.
pub(crate) fn read_payload(file: &File, offset: u64, h: &Header) -> io::Result<Option<Vec<u8>>> {
    let mut payload = vec![0u8; h.len as usize];
    file.read_exact_at(&mut payload, offset + HEADER_LEN as u64)?;
    Ok((crc32fast::hash(&payload) == h.payload_crc).then_some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_any_flipped_bit() {
        let h = Header { len: 42, seq: 7, items: 3, payload_crc: 0xdead_beef };
        let mut buf = [0u8; HEADER_LEN];
        h.write(&mut buf);
        assert_eq!(Header::parse(&buf), Some(h));
        for byte in 0..HEADER_LEN {
            let mut damaged = buf;
            damaged[byte] ^= 0x10;
            assert_eq!(Header::parse(&damaged), None, "flipped bit in byte {byte} went unnoticed");
        }
    }
}
