//! Every request decompressor with a small output limit: no panic, and never more than the
//! limit out (the bound that makes compression bombs cheap).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_core::confignet::compression::{decompress, DecompressError};

const ENCODINGS: [&str; 8] = ["gzip", "deflate", "zlib", "zstd", "snappy", "x-snappy-framed", "lz4", "identity"];
const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let encoding = ENCODINGS[selector as usize % ENCODINGS.len()];
    match decompress(encoding, body, LIMIT) {
        Ok(out) => assert!(out.len() <= LIMIT, "{encoding}: {} bytes out", out.len()),
        Err(DecompressError::TooLarge(l)) => assert_eq!(l, LIMIT),
        Err(_) => {}
    }
});
