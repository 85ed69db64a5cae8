//! Decisions remembered after a trace leaves the buffer, so its late spans follow them.

use std::collections::{HashMap, VecDeque};

use tokio::time::Instant;

/// A bounded map of trace id to decision; past its capacity the oldest entry goes
/// (insertion order: a trace is decided once, so this is the Collector's LRU for every
/// trace that is not looked up again).
pub struct DecisionRing {
    map: HashMap<[u8; 16], Remembered>,
    order: VecDeque<[u8; 16]>,
    cap: usize,
}

/// A decision and when it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remembered {
    pub sampled: bool,
    pub at: Instant,
}

impl DecisionRing {
    /// A ring of `cap` entries; 0 remembers nothing.
    pub fn new(cap: usize) -> DecisionRing {
        DecisionRing { map: HashMap::new(), order: VecDeque::new(), cap }
    }

    pub fn insert(&mut self, id: [u8; 16], r: Remembered) {
        if self.cap == 0 {
            return;
        }
        if self.map.insert(id, r).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    pub fn get(&self, id: &[u8; 16]) -> Option<Remembered> {
        self.map.get(id).copied()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries_up_to_its_capacity() {
        let at = Instant::now();
        let mut r = DecisionRing::new(2);
        for i in 0..3u8 {
            r.insert([i; 16], Remembered { sampled: i % 2 == 0, at });
        }
        assert_eq!(r.len(), 2);
        assert!(r.get(&[0; 16]).is_none(), "the oldest went");
        assert_eq!(r.get(&[2; 16]).map(|d| d.sampled), Some(true));
        let mut off = DecisionRing::new(0);
        off.insert([1; 16], Remembered { sampled: true, at });
        assert!(off.get(&[1; 16]).is_none());
    }
}
