//! Request body compression as the Collector's confighttp handles it, with every
//! decompressor bounded: a body that inflates past `limit` is refused after producing at
//! most `limit + 1` bytes, so a 1 GiB gzip bomb costs milliseconds and `limit` memory.

use std::io::Read;

/// Why a body could not be decompressed.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// `Content-Encoding` we do not know.
    #[error(
        "unsupported Content-Encoding \"{0}\" (supported: gzip, zstd, deflate, zlib, snappy, x-snappy-framed, lz4)"
    )]
    Unsupported(String),
    /// Inflated past the limit.
    #[error("request body exceeds the limit of {0} bytes after decompression")]
    TooLarge(usize),
    /// Corrupt data.
    #[error("cannot decompress {encoding} body: {message}")]
    Corrupt {
        /// The encoding.
        encoding: String,
        /// The decoder's message.
        message: String,
    },
}

const SNAPPY_FRAMED_MAGIC: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// Decompresses `body` per `encoding` (empty or `identity` = as is), at most `limit` bytes out.
pub fn decompress(encoding: &str, body: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let enc = encoding.trim().to_ascii_lowercase();
    let corrupt = |e: std::io::Error| DecompressError::Corrupt { encoding: enc.clone(), message: e.to_string() };
    match enc.as_str() {
        "" | "identity" => {
            if body.len() > limit {
                return Err(DecompressError::TooLarge(limit));
            }
            Ok(body.to_vec())
        }
        "gzip" | "x-gzip" => read_bounded(flate2::read::MultiGzDecoder::new(body), limit).map_err(corrupt)?,
        "deflate" | "zlib" => read_bounded(flate2::read::ZlibDecoder::new(body), limit).map_err(corrupt)?,
        "zstd" => {
            let mut d = zstd::stream::read::Decoder::new(body).map_err(corrupt)?;
            d.window_log_max(27).map_err(corrupt)?; // at most 128 MiB of window memory
            read_bounded(d, limit).map_err(corrupt)?
        }
        "lz4" => read_bounded(lz4_flex::frame::FrameDecoder::new(body), limit).map_err(corrupt)?,
        "x-snappy-framed" => read_bounded(snap::read::FrameDecoder::new(body), limit).map_err(corrupt)?,
        "snappy" => {
            if body.starts_with(SNAPPY_FRAMED_MAGIC) {
                return decompress("x-snappy-framed", body, limit);
            }
            let len = snap::raw::decompress_len(body)
                .map_err(|e| DecompressError::Corrupt { encoding: enc.clone(), message: e.to_string() })?;
            if len > limit {
                return Err(DecompressError::TooLarge(limit));
            }
            snap::raw::Decoder::new()
                .decompress_vec(body)
                .map_err(|e| DecompressError::Corrupt { encoding: enc.clone(), message: e.to_string() })
        }
        _ => Err(DecompressError::Unsupported(encoding.to_string())),
    }
}

fn read_bounded(r: impl Read, limit: usize) -> std::io::Result<Result<Vec<u8>, DecompressError>> {
    let mut out = Vec::new();
    r.take(limit as u64 + 1).read_to_end(&mut out)?;
    if out.len() > limit {
        return Ok(Err(DecompressError::TooLarge(limit)));
    }
    Ok(Ok(out))
}

/// A body an exporter holds while its request is in flight and retried. A compressed body
/// is written into a buffer sized by a guess; spare room over an eighth of the body is given
/// back (jemalloc shrinks a large allocation in place, without a copy).
pub fn held_body(mut body: Vec<u8>) -> bytes::Bytes {
    if body.capacity() - body.len() > body.len() / 8 {
        body.shrink_to_fit();
    }
    bytes::Bytes::from(body)
}

/// gzip at the given level (the OTLP exporters' default compression).
pub fn gzip(body: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4 + 64), flate2::Compression::new(level));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_bounds() {
        let data = vec![b'x'; 10_000];
        assert_eq!(decompress("gzip", &gzip(&data, 1), 20_000).unwrap(), data);
        assert!(matches!(decompress("gzip", &gzip(&data, 1), 100), Err(DecompressError::TooLarge(100))));
        let z = zstd::encode_all(&data[..], 1).unwrap();
        assert_eq!(decompress("zstd", &z, 20_000).unwrap(), data);
        let s = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(decompress("snappy", &s, 20_000).unwrap(), data);
        assert!(matches!(decompress("snappy", &s, 10), Err(DecompressError::TooLarge(10))));
        assert!(matches!(decompress("br", &data, 10), Err(DecompressError::Unsupported(_))));
        assert!(matches!(decompress("gzip", b"not gzip", 10), Err(DecompressError::Corrupt { .. })));
    }

    #[test]
    fn gzip_bomb_is_refused_with_bounded_output() {
        let bomb = gzip(&vec![0u8; 64 << 20], 9);
        assert!(bomb.len() < 1 << 20);
        assert!(matches!(decompress("gzip", &bomb, 4 << 20), Err(DecompressError::TooLarge(_))));
    }
}
