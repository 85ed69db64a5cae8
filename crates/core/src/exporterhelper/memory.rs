//! The memory an exporter's `sending_queue` may hold, from its settings (docs/memory.md).
//!
//! Two parts: what waits in the queue (memory queue only: a persistent queue keeps it on
//! disk), and what the workers hold while sending and retrying (every queue). A queue
//! counted in `requests` or `items` holds at most its capacity in requests (an item is at
//! least one per request), each at most the largest request of the configuration; the
//! `bytes` sizer counts the encoded size itself. These caps are the queue's own
//! (`queue_size` with its sizer): a push past them is refused with a retryable error, or
//! waits with `block_on_overflow`.

use crate::component::{BoundContext, HumanBytes, MemoryBound, MemoryPart};

use super::{QueueConfig, Sizer};

impl QueueConfig {
    /// The queue's worst case for an exporter whose largest incoming request is
    /// `cx.largest_request`; a disabled queue holds nothing (the caller's request is sent inline).
    pub fn memory_bound(&self, cx: &BoundContext) -> MemoryBound {
        if !self.enabled {
            return MemoryBound::nothing();
        }
        let largest = cx.largest_request;
        let request = match self.sizer() {
            Sizer::Bytes => largest.min(self.queue_size),
            _ => largest,
        };
        let mut parts = Vec::new();
        if self.storage.is_none() {
            let (bytes, how) = match self.sizer() {
                Sizer::Bytes => (self.queue_size, format!("queue_size {} bytes", self.queue_size)),
                s => (
                    self.queue_size.saturating_mul(largest),
                    format!("queue_size {} {} x {} largest request", self.queue_size, s.unit(), HumanBytes(largest)),
                ),
            };
            parts.push(MemoryPart::new(format!("sending queue ({how})"), bytes));
        }
        // A worker holds one request (or one in-queue batch) and the encoded body it keeps for retries.
        let (per_worker, how) = match self.batch.get() {
            None => (request, "1 request".to_string()),
            Some(b) => match self.batch_sizer() {
                Sizer::Bytes => {
                    (b.min_size.saturating_add(request), format!("batch min_size {} bytes + 1 request", b.min_size))
                }
                _ => (b.min_size.saturating_mul(request), format!("batch min_size {} items x 1 request", b.min_size)),
            },
        };
        parts.push(MemoryPart::new(
            format!("being sent ({} consumers x {how}, data and encoded body)", self.num_consumers),
            (self.num_consumers as u64).saturating_mul(per_worker).saturating_mul(2),
        ));
        MemoryBound::parts(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(largest: u64) -> BoundContext {
        BoundContext { largest_request: largest }
    }

    #[test]
    fn requests_sizer_multiplies_by_the_largest_request() {
        let q = QueueConfig::default(); // 1000 requests, 10 consumers
        let b = q.memory_bound(&cx(4 << 20));
        assert_eq!(b.total(), Some(1000 * (4 << 20) + 10 * (4 << 20) * 2));
    }

    #[test]
    fn bytes_sizer_is_its_queue_size_and_disabled_holds_nothing() {
        let q = QueueConfig { sizer: Some(Sizer::Bytes), queue_size: 8 << 20, num_consumers: 2, ..Default::default() };
        assert_eq!(
            q.memory_bound(&cx(64 << 20)).total(),
            Some((8 << 20) + 2 * (8 << 20) * 2),
            "a request fits the queue"
        );
        assert_eq!(q.memory_bound(&cx(1 << 20)).total(), Some((8 << 20) + 2 * (1 << 20) * 2));
        let off = QueueConfig { enabled: false, ..Default::default() };
        assert_eq!(off.memory_bound(&cx(1 << 20)).total(), Some(0));
    }

    #[test]
    fn a_persistent_queue_counts_only_what_the_workers_hold() {
        let q = QueueConfig { storage: Some("file_storage".into()), num_consumers: 3, ..Default::default() };
        let b = q.memory_bound(&cx(1 << 20));
        assert_eq!(b.total(), Some(3 * (1 << 20) * 2));
    }
}
