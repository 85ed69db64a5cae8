//! `probabilistic`: FNV-1a 64 over the salt's bytes then the 16 raw trace-id bytes,
//! sampled when the hash is at most a threshold derived from the percentage exactly as
//! upstream computes it (Go's `big.Float`: `MaxUint64 × ratio` rounded to a 64-bit
//! mantissa, to nearest even, then truncated to an integer and saturated), so a trace is
//! kept here exactly when a Collector with the same salt keeps it.

use super::config::ProbabilisticCfg;
use super::Decision;

/// The salt used when `hash_salt` is empty.
pub const DEFAULT_HASH_SALT: &str = "default-hash-seed";

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 of `salt` followed by `trace_id`.
pub fn hash_trace_id(salt: &str, trace_id: &[u8]) -> u64 {
    salt.as_bytes().iter().chain(trace_id).fold(FNV_OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// The hash threshold for `ratio` (a percentage / 100): 0 for ratio <= 0 or NaN,
/// `u64::MAX` from ratio 1 up.
pub fn threshold(ratio: f64) -> u64 {
    if ratio.is_nan() || ratio <= 0.0 {
        return 0;
    }
    if ratio.is_infinite() {
        return u64::MAX;
    }
    // ratio = mantissa × 2^exp exactly.
    let bits = ratio.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if raw_exp == 0 { (frac, -1074) } else { (frac | (1u64 << 52), raw_exp - 1075) };
    // The exact product (at most 117 bits), rounded to 64 significant bits.
    let mut product = u128::from(u64::MAX) * u128::from(mantissa);
    let width = 128 - product.leading_zeros();
    if width > 64 {
        let shift = width - 64;
        let mut kept = product >> shift;
        let rest = product & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rest > half || (rest == half && kept & 1 == 1) {
            kept += 1;
        }
        product = kept << shift;
    }
    // × 2^exp, truncated toward zero, saturated.
    let value = if exp >= 0 {
        if product.leading_zeros() < exp as u32 {
            return u64::MAX;
        }
        product << exp
    } else if -exp >= 128 {
        0
    } else {
        product >> (-exp)
    };
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// A compiled `probabilistic` policy.
#[derive(Debug)]
pub(super) struct Probabilistic {
    salt: String,
    threshold: u64,
}

impl Probabilistic {
    pub(super) fn compile(cfg: &ProbabilisticCfg) -> Self {
        let salt = if cfg.hash_salt.is_empty() { DEFAULT_HASH_SALT } else { cfg.hash_salt.as_str() };
        Probabilistic { salt: salt.to_string(), threshold: threshold(cfg.sampling_percentage / 100.0) }
    }

    pub(super) fn evaluate(&self, trace_id: &[u8; 16]) -> Decision {
        if hash_trace_id(&self.salt, trace_id) <= self.threshold {
            Decision::Sampled
        } else {
            Decision::NotSampled
        }
    }
}
