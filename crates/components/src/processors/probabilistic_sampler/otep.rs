//! OTEP 235 consistent-probability sampling arithmetic (the contrib `pkg/sampling`
//! package's rules): 56-bit thresholds and randomness, their hex encodings (`th`, `rv`),
//! probability → threshold with a precision in hex digits, and the legacy FNV hash turned
//! into randomness so the `hash_seed` mode can speak the same language.
//!
//! Everything here is plain integer work on `u64`s and fixed stack buffers: the per-span
//! decision path allocates nothing.

use std::fmt;

/// 2^56: the number of distinct randomness values; a threshold equal to it never samples.
pub const MAX_ADJUSTED_COUNT: u64 = 1 << 56;
/// Hex digits in a full threshold or randomness value.
pub const NUM_HEX_DIGITS: usize = 14;
/// The smallest probability a threshold can express (2^-56).
pub const MIN_SAMPLING_PROBABILITY: f64 = 1.0 / MAX_ADJUSTED_COUNT as f64;

/// Rejection threshold: of the 2^56 randomness values, those below it are not sampled.
/// 0 samples everything; [`Threshold::NEVER`] samples nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(u64);

/// 56 bits of randomness, from the trace id's last 7 bytes, an `rv`, or the legacy hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Randomness(u64);

/// Why a `th`/`rv` value or a probability was refused; the texts are upstream's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtepError {
    /// More than 14 hex digits in a threshold.
    TValueSize,
    /// An empty threshold.
    TValueEmpty,
    /// A randomness value that is not exactly 14 hex digits.
    RValueSize,
    /// A character that is not a hex digit.
    Syntax,
    /// A probability outside [2^-56, 1].
    ProbabilityRange,
}

impl fmt::Display for OtepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OtepError::TValueSize => "t-value exceeds 14 hex digits",
            OtepError::TValueEmpty => "t-value is empty",
            OtepError::RValueSize => "r-value must have 14 hex digits",
            OtepError::Syntax => "invalid syntax",
            OtepError::ProbabilityRange => "sampling probability out of the range [1/MaxAdjustedCount, 1]",
        })
    }
}

/// Parses hex digits (either case, nothing else: no sign, no underscore), as Go's
/// `strconv.ParseUint(s, 16, 64)` does for the lengths that reach it here.
fn parse_hex(s: &str) -> Result<u64, OtepError> {
    let mut v: u64 = 0;
    for b in s.bytes() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(OtepError::Syntax),
        };
        v = (v << 4) | u64::from(d);
    }
    Ok(v)
}

/// Writes the 14-digit lower-case hex form of `v` (< 2^56) into `buf`.
fn hex14(v: u64, buf: &mut [u8; NUM_HEX_DIGITS]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, slot) in buf.iter_mut().enumerate() {
        let shift = 4 * (NUM_HEX_DIGITS - 1 - i);
        *slot = DIGITS[((v >> shift) & 0xf) as usize];
    }
}

impl Threshold {
    /// Samples everything (`th:0`).
    pub const ALWAYS: Threshold = Threshold(0);
    /// Samples nothing (no `th` can express it).
    pub const NEVER: Threshold = Threshold(MAX_ADJUSTED_COUNT);

    /// From a rejection count; `None` at or above 2^56.
    pub fn from_unsigned(v: u64) -> Option<Threshold> {
        (v < MAX_ADJUSTED_COUNT).then_some(Threshold(v))
    }

    /// Parses a `th` value: 1 to 14 hex digits, trailing zeros omitted.
    pub fn parse(s: &str) -> Result<Threshold, OtepError> {
        if s.len() > NUM_HEX_DIGITS {
            return Err(OtepError::TValueSize);
        }
        if s.is_empty() {
            return Err(OtepError::TValueEmpty);
        }
        let v = parse_hex(s)?;
        Ok(Threshold(v << (4 * (NUM_HEX_DIGITS - s.len()))))
    }

    /// The `th` encoding into `buf`: `"0"` for always, empty for never, otherwise 14 digits
    /// with trailing zeros removed. Returns the text (borrowing `buf`).
    pub fn encode(self, buf: &mut [u8; NUM_HEX_DIGITS]) -> &str {
        if self == Threshold::ALWAYS {
            return "0";
        }
        if self.0 >= MAX_ADJUSTED_COUNT {
            return "";
        }
        hex14(self.0, buf);
        let len = buf.iter().rposition(|&b| b != b'0').map_or(0, |p| p + 1);
        // Only ASCII hex digits were written.
        std::str::from_utf8(&buf[..len]).unwrap_or("")
    }

    /// The `th` encoding as an owned string (for attributes and tests).
    pub fn tvalue(self) -> String {
        let mut buf = [0u8; NUM_HEX_DIGITS];
        self.encode(&mut buf).to_string()
    }

    /// Whether an item with randomness `r` is kept: `T <= R`.
    pub fn should_sample(self, r: Randomness) -> bool {
        self.0 <= r.0
    }

    /// The sampling probability, in [2^-56, 1] (0 for never).
    pub fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0.min(MAX_ADJUSTED_COUNT)) as f64 / MAX_ADJUSTED_COUNT as f64
    }

    /// 1 / probability; 0 for never (the item should not have been sampled): how many items
    /// a sampled one stands for (the `spanmetrics` connector counts spans by it).
    pub fn adjusted_count(self) -> f64 {
        if self == Threshold::NEVER {
            return 0.0;
        }
        1.0 / self.probability()
    }

    /// The threshold for `fraction` rounded to `precision` significant hex digits (0 =
    /// full precision), with extra digits near 0 and 1 so relative error stays small, as
    /// upstream's `ProbabilityToThresholdWithPrecision`.
    pub fn from_probability(fraction: f64, precision: usize) -> Result<Threshold, OtepError> {
        let precision = if precision == 0 { NUM_HEX_DIGITS } else { precision };
        if !(MIN_SAMPLING_PROBABILITY..=1.0).contains(&fraction) {
            return Err(OtepError::ProbabilityRange);
        }
        if fraction == 1.0 {
            return Ok(Threshold::ALWAYS);
        }
        // Each leading hex 0 (near 0) or f (near 1) earns one more digit: Go's
        // `precision + exp/-4` with truncating division, exp from Frexp (<= 0 here).
        let extra_f = (-frexp_exp(fraction)) / 4;
        let extra_r = (-frexp_exp(1.0 - fraction)) / 4;
        let precision = (precision as i64 + i64::from(extra_f.max(extra_r))).min(NUM_HEX_DIGITS as i64);
        let scaled = (fraction * MAX_ADJUSTED_COUNT as f64).round() as u64;
        let mut threshold = MAX_ADJUSTED_COUNT - scaled;
        let digits_dropped = NUM_HEX_DIGITS as i64 - precision;
        if digits_dropped > 0 {
            let shift = (4 * digits_dropped) as u32;
            if shift >= 64 {
                threshold = 0;
            } else {
                threshold += 1 << (shift - 1);
                threshold >>= shift;
                threshold <<= shift;
            }
        }
        Ok(Threshold(threshold))
    }
}

/// The binary exponent Go's `math.Frexp` returns (`f = frac * 2^exp`, frac in [0.5, 1)) for a
/// positive finite `f`.
fn frexp_exp(f: f64) -> i32 {
    if f == 0.0 || !f.is_finite() {
        return 0;
    }
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first.
        return frexp_exp(f * (1u64 << 54) as f64) - 54;
    }
    biased - 1022
}

impl Randomness {
    /// Sampled at every probability (`ffffffffffffff`): what "no randomness" uses.
    pub const ALL_PROBABILITIES: Randomness = Randomness(MAX_ADJUSTED_COUNT - 1);

    /// Parses an `rv` value: exactly 14 hex digits.
    pub fn parse(s: &str) -> Result<Randomness, OtepError> {
        if s.len() != NUM_HEX_DIGITS {
            return Err(OtepError::RValueSize);
        }
        parse_hex(s).map(Randomness)
    }

    /// The last 7 bytes of the trace id (W3C trace-context level 2 randomness).
    pub fn from_trace_id(id: &[u8; 16]) -> Randomness {
        let mut v = 0u64;
        for &b in &id[9..] {
            v = (v << 8) | u64::from(b);
        }
        Randomness(v)
    }

    /// The `rv` encoding (14 lower-case hex digits) into `buf`.
    pub fn encode(self, buf: &mut [u8; NUM_HEX_DIGITS]) -> &str {
        hex14(self.0, buf);
        std::str::from_utf8(buf).unwrap_or("")
    }

    /// The `rv` encoding as an owned string.
    pub fn rvalue(self) -> String {
        let mut buf = [0u8; NUM_HEX_DIGITS];
        self.encode(&mut buf).to_string()
    }
}

/// FNV-1a 32 over the seed's 4 little-endian bytes, then `bytes`: the hash the processor
/// has always used (`computeHash`), so a tier of gateways and Collectors agree.
pub fn fnv1a32_seeded(seed: u32, bytes: &[u8]) -> u32 {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let mut h = OFFSET;
    for &b in seed.to_le_bytes().iter().chain(bytes) {
        h ^= u32::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// Buckets of the legacy hash (14 bits).
pub const NUM_HASH_BUCKETS: u32 = 0x4000;

/// The legacy hash turned into 56-bit randomness so that `threshold <= randomness` gives
/// exactly the old `hash & 0x3fff < scaled_rate` decision: the top 14 bits are
/// `0x3fff - bucket`, the middle 28 mix the hash's 18 unused bits, the low 14 are the bucket.
pub fn randomness_from_hash(bytes: &[u8], seed: u32) -> Randomness {
    let h = fnv1a32_seeded(seed, bytes);
    let bucket = u64::from(h & (NUM_HASH_BUCKETS - 1));
    let rprime = u64::from(NUM_HASH_BUCKETS - 1) - bucket;
    let unused18 = u64::from(h >> 14);
    let mixed28 = unused18 ^ (unused18 << 10);
    Randomness((rprime << 42) | (mixed28 << 14) | bucket)
}

/// The `hash_seed` mode's threshold for a percentage (already capped at 100): the old
/// `uint32(pct * 163.84)` in 32-bit float arithmetic, truncated, as a rejection threshold.
/// `None` when it rounds to zero buckets (nothing sampled).
pub fn hash_seed_threshold(pct: f32) -> Option<Threshold> {
    let scaled = (pct * (NUM_HASH_BUCKETS as f32 / 100.0)) as u32;
    if scaled == 0 {
        return None;
    }
    let reject = u64::from(NUM_HASH_BUCKETS.saturating_sub(scaled));
    Threshold::from_unsigned(reject << 42)
}
