//! The stateful policies: `rate_limiting` and `bytes_limiting` (token buckets, as
//! `golang.org/x/time/rate` runs them) and `composite` (per-second span budgets shared
//! out among sub-policies). Time comes from the caller (`now`), so tests and the runtime's
//! paused clock drive it.
//!
//! The runtime runs one set of policies per shard, so every rate here is already this
//! shard's share of the configured one (see `share` in [`super::Policies::build`]).

use tokio::time::Instant;

use super::Decision;

/// A token bucket: `rate` tokens per second up to `burst`, full at first. A trace costing
/// `n` tokens passes when the bucket holds them (then they are taken); a cost above the
/// burst never passes.
#[derive(Debug)]
pub(super) struct TokenBucket {
    rate: f64,
    burst: u64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    pub(super) fn new(rate: f64, burst: u64) -> Self {
        TokenBucket { rate, burst, tokens: 0.0, last: None }
    }

    /// Takes `n` tokens at `now` if the bucket holds them.
    pub(super) fn allow(&mut self, now: Instant, n: u64) -> bool {
        if self.rate.is_infinite() {
            return true;
        }
        if self.rate <= 0.0 {
            // No refill: the burst is all there will ever be (x/time/rate's limit 0).
            if self.burst >= n {
                self.burst -= n;
                return true;
            }
            return false;
        }
        let (at, mut tokens) = match self.last {
            None => (now, self.burst as f64),
            Some(last) => {
                let last = last.min(now);
                let refill = now.duration_since(last).as_secs_f64() * self.rate;
                (now, (self.tokens + refill).min(self.burst as f64))
            }
        };
        tokens -= n as f64;
        // A deficit worth less than a nanosecond of refill is allowed, as upstream
        // rounds the wait down to whole nanoseconds.
        let wait_ns = if tokens < 0.0 { (-tokens / self.rate * 1e9) as u64 } else { 0 };
        if n <= self.burst && wait_ns == 0 {
            self.last = Some(at);
            self.tokens = tokens;
            true
        } else {
            false
        }
    }
}

/// A rate scaled to this shard: a positive rate stays at least 1.
pub(super) fn scaled_rate(configured: i64, share: f64) -> f64 {
    if configured > 0 {
        (configured as f64 * share).max(1.0)
    } else {
        0.0
    }
}

/// A count (burst, budget) scaled to this shard: a positive count stays at least 1.
pub(super) fn scaled_count(configured: i64, share: f64) -> u64 {
    if configured > 0 {
        ((configured as f64 * share).floor() as u64).max(1)
    } else {
        0
    }
}

/// One `composite` sub-policy's budget.
#[derive(Debug)]
pub(super) struct Budget {
    /// Spans per second it may sample.
    pub(super) allocated: u64,
    /// Spans it sampled in the current second.
    pub(super) used: u64,
}

/// The budgets of a `composite`: counters reset every second (seconds counted from the
/// first evaluation; the Collector uses wall-clock seconds, which only shifts the phase).
#[derive(Debug)]
pub(super) struct Budgets {
    pub(super) max_total: u64,
    pub(super) subs: Vec<Budget>,
    epoch: Option<Instant>,
    second: u64,
}

impl Budgets {
    pub(super) fn new(max_total: u64, allocations: Vec<u64>) -> Self {
        let subs = allocations.into_iter().map(|allocated| Budget { allocated, used: 0 }).collect();
        Budgets { max_total, subs, epoch: None, second: 0 }
    }

    /// Resets the counters when `now` is in a new second.
    pub(super) fn tick(&mut self, now: Instant) {
        let epoch = *self.epoch.get_or_insert(now);
        let second = now.saturating_duration_since(epoch).as_secs();
        if second != self.second {
            self.second = second;
            for s in &mut self.subs {
                s.used = 0;
            }
        }
    }

    /// Sub-policy `i` sampled a trace of `spans` spans: `Sampled` and counted if it fits
    /// the sub-policy's allocation and the total cap (which, as upstream, bounds each
    /// sub-policy's count, not their sum), else `NotSampled` and not counted.
    pub(super) fn take(&mut self, i: usize, spans: u64) -> Decision {
        let max_total = self.max_total;
        let Some(sub) = self.subs.get_mut(i) else { return Decision::NotSampled };
        let after = sub.used.saturating_add(spans);
        if after <= sub.allocated && after <= max_total {
            sub.used = after;
            Decision::Sampled
        } else {
            Decision::NotSampled
        }
    }
}

/// Each sub-policy's allocation, as upstream's `getRateAllocationMap`: a listed policy
/// with `percent > 0` gets that share of `max_total`, one listed with `percent <= 0` an
/// equal share (`max_total / number of sub-policies`), one not listed nothing. Values
/// are truncated to whole spans, as upstream's `int64` conversion does.
pub(super) fn allocations(max_total: i64, names: &[&str], rate_allocation: &[(&str, i64)]) -> Vec<i64> {
    let total = max_total as f64;
    let equal = if names.is_empty() { 0.0 } else { total / names.len() as f64 };
    names
        .iter()
        .map(|name| {
            // The last entry for a name wins, as it overwrites the map upstream.
            rate_allocation.iter().rev().find(|(p, _)| p == name).map_or(0, |(_, pct)| {
                if *pct > 0 {
                    (*pct as f64 / 100.0 * total) as i64
                } else {
                    equal as i64
                }
            })
        })
        .collect()
}
