//! A base-2 exponential histogram as the OpenTelemetry data model defines it, with the
//! behaviour of the Go aggregator the Collector's connectors use (`lightstep/go-expohisto`):
//! it starts at the finest scale (20) and lowers the scale, merging neighbouring buckets,
//! whenever a value would make either sign's buckets span more than `max_size` indices.
//!
//! At scale `s` the base is `2^(2^-s)` and bucket `i` holds the values in
//! `(base^i, base^(i+1)]`; exact powers of two sit at the top of their bucket.

use std::collections::VecDeque;

/// The finest scale, where a new histogram starts.
pub const MAX_SCALE: i32 = 20;
/// The coarsest scale (base 2^1024 covers every f64).
pub const MIN_SCALE: i32 = -10;

/// Buckets of one sign: `counts[k]` is the count of index `offset + k`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Buckets {
    offset: i32,
    counts: VecDeque<u64>,
}

impl Buckets {
    /// The index range after adding `index`.
    fn range_with(&self, index: i32) -> (i32, i32) {
        if self.counts.is_empty() {
            return (index, index);
        }
        let high = self.offset + self.counts.len() as i32 - 1;
        (self.offset.min(index), high.max(index))
    }

    /// Adds `n` at `index`, growing at either end; the caller made sure it fits.
    fn add(&mut self, index: i32, n: u64) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push_back(n);
            return;
        }
        while index < self.offset {
            self.counts.push_front(0);
            self.offset -= 1;
        }
        let k = (index - self.offset) as usize;
        while self.counts.len() <= k {
            self.counts.push_back(0);
        }
        self.counts[k] += n;
    }

    /// Merges buckets for a scale `by` steps coarser: index `i` becomes `i >> by`.
    fn downscale(&mut self, by: u32) {
        if by == 0 || self.counts.is_empty() {
            return;
        }
        let old = std::mem::take(&mut self.counts);
        let old_offset = self.offset;
        self.offset = old_offset >> by;
        for (k, c) in old.into_iter().enumerate() {
            let i = ((old_offset + k as i32) >> by) - self.offset;
            while self.counts.len() <= i as usize {
                self.counts.push_back(0);
            }
            self.counts[i as usize] += c;
        }
    }
}

/// The histogram: scale, zero bucket, buckets per sign, and count, sum, min, max.
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialHistogram {
    max_size: usize,
    scale: i32,
    zero_count: u64,
    positive: Buckets,
    negative: Buckets,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl ExponentialHistogram {
    /// An empty histogram keeping at most `max_size` buckets per sign (at least 2).
    pub fn new(max_size: usize) -> Self {
        ExponentialHistogram {
            max_size: max_size.max(2),
            scale: MAX_SCALE,
            zero_count: 0,
            positive: Buckets::default(),
            negative: Buckets::default(),
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Records `value` `n` times; NaN and infinities are ignored (they have no bucket).
    pub fn observe(&mut self, value: f64, n: u64) {
        if !value.is_finite() || n == 0 {
            return;
        }
        self.count += n;
        self.sum += value * n as f64;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if value == 0.0 {
            self.zero_count += n;
            return;
        }
        let abs = value.abs();
        let index = map_to_index(abs, self.scale);
        let buckets = if value > 0.0 { &self.positive } else { &self.negative };
        let (low, high) = buckets.range_with(index);
        let change = self.change_to_fit(low, high);
        if change > 0 {
            self.positive.downscale(change);
            self.negative.downscale(change);
            self.scale -= change as i32;
        }
        let index = map_to_index(abs, self.scale);
        let buckets = if value > 0.0 { &mut self.positive } else { &mut self.negative };
        buckets.add(index, n);
    }

    /// How many scale steps make `low..=high` fit in `max_size` buckets.
    fn change_to_fit(&self, mut low: i32, mut high: i32) -> u32 {
        let mut change = 0;
        while (i64::from(high) - i64::from(low) + 1) as usize > self.max_size && self.scale - change as i32 > MIN_SCALE
        {
            low >>= 1;
            high >>= 1;
            change += 1;
        }
        change
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Sum of the values.
    pub fn sum(&self) -> f64 {
        self.sum
    }
    /// Smallest value (infinite when empty).
    pub fn min(&self) -> f64 {
        self.min
    }
    /// Largest value (negative infinite when empty).
    pub fn max(&self) -> f64 {
        self.max
    }
    /// Current scale.
    pub fn scale(&self) -> i32 {
        self.scale
    }
    /// Values equal to zero.
    pub fn zero_count(&self) -> u64 {
        self.zero_count
    }
    /// Positive buckets: offset and counts.
    pub fn positive(&self) -> (i32, Vec<u64>) {
        (self.positive.offset, self.positive.counts.iter().copied().collect())
    }
    /// Negative buckets (of the absolute values): offset and counts.
    pub fn negative(&self) -> (i32, Vec<u64>) {
        (self.negative.offset, self.negative.counts.iter().copied().collect())
    }
    /// Heap bytes of the buckets.
    pub fn heap_bytes(&self) -> usize {
        (self.positive.counts.capacity() + self.negative.counts.capacity()) * 8
    }
}

/// The bucket index of a positive, finite, non-zero `value` at `scale`.
pub fn map_to_index(value: f64, scale: i32) -> i32 {
    let bits = value.to_bits();
    let exp_field = ((bits >> 52) & 0x7ff) as i32;
    let mantissa = bits & ((1u64 << 52) - 1);
    // Subnormals: their exponent is below every normal one; log2 is exact enough there.
    let (exponent, power_of_two) = if exp_field == 0 {
        let e = value.log2();
        (e.floor() as i32, e.fract() == 0.0)
    } else {
        (exp_field - 1023, mantissa == 0)
    };
    if scale <= 0 {
        // The scale-0 index: an exact power 2^e is the top of bucket e-1.
        let index0 = if power_of_two { exponent - 1 } else { exponent };
        return index0 >> -scale;
    }
    if power_of_two {
        return (exponent << scale) - 1;
    }
    let scale_factor = f64::from(1u32 << scale.min(30)) / std::f64::consts::LN_2;
    let index = (value.ln() * scale_factor).floor();
    // Keep rounding at a bucket edge on the right side: the index never leaves the
    // binade the exponent says the value is in.
    let low = i64::from(exponent) << scale;
    let high = (i64::from(exponent + 1) << scale) - 1;
    (index as i64).clamp(low, high) as i32
}

/// The lower bound of bucket `index` at `scale` (for tests and readers).
pub fn lower_bound(index: i32, scale: i32) -> f64 {
    (f64::from(index) * (-f64::from(scale)).exp2()).exp2()
}
