//! The last warnings and errors the process logged, kept in memory for the status page
//! ("recent errors"): an operator sees why an exporter fails or requests are refused
//! without access to the process's log stream.
//!
//! Fed by a `tracing` layer the binary installs (WARN and above); bounded, so a storm of
//! messages costs a fixed amount of memory (the components also throttle their repeated
//! warnings with [`super::LogThrottle`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

/// How many events the status page keeps by default.
pub const RECENT_EVENTS_CAPACITY: usize = 50;

/// One logged warning or error.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentEvent {
    /// When it was logged.
    pub time: SystemTime,
    /// `WARN` or `ERROR`.
    pub level: &'static str,
    /// The component it names (`exporter otlp/tempo`), if any.
    pub component: Option<String>,
    /// The message, followed by its other fields (`error=...`).
    pub message: String,
}

/// A ring of the last [`RecentEvent`]s.
pub struct RecentEvents {
    capacity: usize,
    events: Mutex<VecDeque<RecentEvent>>,
    total: AtomicU64,
}

impl Default for RecentEvents {
    fn default() -> Self {
        RecentEvents::new(RECENT_EVENTS_CAPACITY)
    }
}

impl RecentEvents {
    /// Keeps the last `capacity` events (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        RecentEvents { capacity, events: Mutex::new(VecDeque::with_capacity(capacity)), total: AtomicU64::new(0) }
    }

    /// Records one event, forgetting the oldest when full.
    pub fn push(&self, event: RecentEvent) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut ev = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if ev.len() == self.capacity {
            ev.pop_front();
        }
        ev.push_back(event);
    }

    /// The events kept, newest first.
    pub fn newest_first(&self) -> Vec<RecentEvent> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).iter().rev().cloned().collect()
    }

    /// Events recorded since start, including those no longer kept.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(m: &str) -> RecentEvent {
        RecentEvent { time: SystemTime::now(), level: "WARN", component: None, message: m.into() }
    }

    #[test]
    fn keeps_the_newest_and_counts_all() {
        let r = RecentEvents::new(2);
        for m in ["a", "b", "c"] {
            r.push(ev(m));
        }
        let got: Vec<String> = r.newest_first().into_iter().map(|e| e.message).collect();
        assert_eq!(got, ["c", "b"]);
        assert_eq!(r.total(), 3);
    }
}
