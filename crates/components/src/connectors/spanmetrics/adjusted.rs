//! How many spans one span stands for: a span sampled with an OTEP 235 threshold
//! (`tracestate: ot=th:…`, as the probabilistic sampler writes it) counts as its adjusted
//! count, 1 / sampling probability, rounded stochastically to a whole number so the sum
//! stays right on average. Any other span counts once. This is the Collector's
//! `GetStochasticAdjustedCount`; the tracestate grammar is the probabilistic sampler's.

use crate::processors::probabilistic_sampler::tracestate::TraceState;

/// Parses tracestates (remembering the last one: spans of a trace share it) and draws the
/// stochastic rounding.
#[derive(Debug)]
pub struct AdjustedCounter {
    last: Option<(String, f64)>,
    rng: u64,
}

impl AdjustedCounter {
    /// A counter with a seed from the clock (rounding needs no reproducibility).
    pub fn new() -> Self {
        let seed = crate::connectors::metricagg::now_unix_nanos() | 1;
        AdjustedCounter { last: None, rng: seed }
    }

    /// The count for a span with tracestate `raw`, and whether it was adjusted (a valid
    /// threshold was present).
    pub fn count(&mut self, raw: &str) -> (u64, bool) {
        if raw.is_empty() {
            return (1, false);
        }
        let weight = match &self.last {
            Some((s, w)) if s == raw => *w,
            _ => {
                let w = adjusted_count(raw);
                self.last = Some((raw.to_string(), w));
                w
            }
        };
        if weight <= 0.0 {
            return (1, false);
        }
        (self.round(weight), true)
    }

    /// `weight` rounded down, plus one with probability equal to its fraction.
    fn round(&mut self, weight: f64) -> u64 {
        let floor = weight.floor();
        let frac = weight - floor;
        let mut n = floor as u64;
        if frac > 0.0 {
            // xorshift64*: fast, and plenty for a coin weighted by `frac`.
            let mut x = self.rng;
            x ^= x << 12;
            x ^= x >> 25;
            x ^= x << 27;
            self.rng = x;
            let draw = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            if draw < frac {
                n += 1;
            }
        }
        n
    }
}

/// 1 / probability of the threshold in `raw`; 0 when there is none, it is invalid, or it
/// says "never sampled".
pub fn adjusted_count(raw: &str) -> f64 {
    let Ok(ts) = TraceState::parse(raw) else { return 0.0 };
    ts.threshold().map_or(0.0, |t| t.adjusted_count())
}
