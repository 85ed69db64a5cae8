//! Logging a recurring problem once per interval, with how often it happened in between,
//! so that a dead backend or a full queue cannot flood the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Lets one message through per interval and counts the rest.
pub struct LogThrottle {
    interval_ms: u64,
    /// Milliseconds since [`epoch`] of the last message let through, plus 1 (0 = never).
    last: AtomicU64,
    suppressed: AtomicU64,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl LogThrottle {
    /// One message per `interval`.
    pub fn new(interval: Duration) -> Self {
        LogThrottle { interval_ms: interval.as_millis() as u64, last: AtomicU64::new(0), suppressed: AtomicU64::new(0) }
    }

    /// `Some(n)` when this occurrence should be logged, `n` being how many were held back
    /// since the last one; `None` to stay quiet.
    pub fn allow(&self) -> Option<u64> {
        let now = epoch().elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now < last + self.interval_ms {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match self.last.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => Some(self.suppressed.swap(0, Ordering::Relaxed)),
            Err(_) => {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

impl Default for LogThrottle {
    /// Once every 10 seconds.
    fn default() -> Self {
        LogThrottle::new(Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_passes_then_quiet_then_reports_what_it_held_back() {
        let t = LogThrottle::new(Duration::from_millis(50));
        assert_eq!(t.allow(), Some(0));
        assert_eq!(t.allow(), None);
        assert_eq!(t.allow(), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(t.allow(), Some(2));
    }
}
