//! Keeps `target_info` moving forward in time.
//!
//! `target_info` is written once per resource per request, stamped with the newest point of
//! that resource in the request. Two pipelines feeding one exporter (spans counted in one,
//! logs in another), or two requests in flight at once, can carry the same resource with
//! stamps that reach the server out of order. Prometheus refuses the older `target_info`
//! sample as "out of order" and rolls back the *whole* write request (HTTP 400, permanent),
//! so every real sample sent with it is lost. The Collector has that weakness. Here a
//! `target_info` sample that is not newer than one already handed to a request is left
//! out: the series is already current, and the data in the request gets through.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use super::proto::TimeSeries;

/// Resources remembered before the memory is cleared (one `target_info` sample may then be
/// sent out of order once more, which costs that request).
const MAX_RESOURCES: usize = 100_000;

/// The newest `target_info` stamp handed out per label set.
pub(super) struct InfoClock {
    /// The `__name__` of `target_info` (it carries the namespace).
    name: String,
    newest: Mutex<HashMap<u64, i64>>,
}

impl InfoClock {
    pub(super) fn new(name: String) -> Self {
        Self { name, newest: Mutex::new(HashMap::new()) }
    }

    /// Removes `target_info` series whose sample is not newer than one already claimed, and
    /// claims the rest; returns how many were removed.
    ///
    /// Claimed when translated, not when delivered: two requests in flight cannot both send
    /// the same resource. A retry of a failed request then goes without its `target_info`,
    /// which the next request brings back.
    pub(super) fn keep_newer(&self, series: &mut Vec<TimeSeries>) -> usize {
        let Ok(mut newest) = self.newest.lock() else {
            return 0;
        };
        let before = series.len();
        series.retain(|s| {
            let is_info = s.labels.iter().any(|l| l.name == "__name__" && l.value == self.name);
            let Some(ts) = s.samples.last().map(|x| x.timestamp).filter(|_| is_info) else {
                return true;
            };
            let mut h = DefaultHasher::new();
            s.labels.hash(&mut h);
            let key = h.finish();
            match newest.get(&key) {
                Some(&last) if ts <= last => false,
                _ => {
                    if newest.len() >= MAX_RESOURCES && !newest.contains_key(&key) {
                        newest.clear();
                    }
                    newest.insert(key, ts);
                    true
                }
            }
        });
        before - series.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::{Label, Sample};
    use super::*;

    fn info(job: &str, ts: i64) -> TimeSeries {
        TimeSeries {
            labels: vec![
                Label { name: "__name__".into(), value: "target_info".into() },
                Label { name: "job".into(), value: job.into() },
            ],
            samples: vec![Sample { value: 1.0, timestamp: ts }],
            ..Default::default()
        }
    }

    fn data(ts: i64) -> TimeSeries {
        TimeSeries {
            labels: vec![Label { name: "__name__".into(), value: "log_record_count".into() }],
            samples: vec![Sample { value: 5.0, timestamp: ts }],
            ..Default::default()
        }
    }

    #[test]
    fn an_older_target_info_is_left_out_and_the_data_with_it_kept() {
        let clock = InfoClock::new("target_info".into());
        let mut newer = vec![info("cart", 2000), data(2000)];
        assert_eq!(clock.keep_newer(&mut newer), 0);
        assert_eq!(newer.len(), 2);
        // The logs' counts, stamped earlier, reach the exporter second.
        let mut older = vec![info("cart", 1000), data(1000)];
        assert_eq!(clock.keep_newer(&mut older), 1);
        assert_eq!(older.len(), 1);
        assert_eq!(older[0].labels[0].value, "log_record_count");
        // The same stamp again is left out too; another resource and a newer stamp go through.
        let mut same = vec![info("cart", 2000), info("checkout", 1000), info("cart", 3000)];
        assert_eq!(clock.keep_newer(&mut same), 1);
        let kept: Vec<(String, i64)> =
            same.iter().map(|s| (s.labels[1].value.clone(), s.samples[0].timestamp)).collect();
        assert_eq!(kept, vec![("checkout".to_string(), 1000), ("cart".to_string(), 3000)]);
    }

    #[test]
    fn a_namespaced_target_info_is_recognised_by_its_name() {
        let clock = InfoClock::new("ns_target_info".into());
        let mut s = vec![info("a", 5)];
        assert_eq!(clock.keep_newer(&mut s), 0, "another name is not target_info here");
        s[0].labels[0].value = "ns_target_info".into();
        assert_eq!(clock.keep_newer(&mut s), 0);
        let mut again = vec![s[0].clone()];
        assert_eq!(clock.keep_newer(&mut again), 1);
    }
}
