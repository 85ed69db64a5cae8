//! Exponential backoff with jitter, as the Collector's `retry_on_failure` computes it.

use std::time::Duration;

use rand::Rng;

use super::RetryConfig;

/// The backoff state of one request's retries.
pub struct Backoff {
    cfg: RetryConfig,
    current: Duration,
}

impl Backoff {
    /// Starts at `initial_interval`.
    pub fn new(cfg: &RetryConfig) -> Self {
        Backoff { cfg: cfg.clone(), current: cfg.initial_interval }
    }

    /// The next delay: the current interval with jitter, at least `throttle` if the server
    /// asked for one; the interval then grows by `multiplier` up to `max_interval`.
    pub fn next_delay(&mut self, throttle: Option<Duration>) -> Duration {
        let r = self.cfg.randomization_factor;
        let factor = if r > 0.0 { rand::rng().random_range(1.0 - r..=1.0 + r) } else { 1.0 };
        // Config validation keeps these finite; the cap guards against a server's huge Retry-After.
        const CAP: Duration = Duration::from_secs(3600);
        let jittered = self.current.mul_f64(factor).min(CAP);
        self.current = self.current.mul_f64(self.cfg.multiplier).min(self.cfg.max_interval);
        throttle.map_or(jittered, |t| t.max(jittered)).min(CAP)
    }
}
