//! Batching inside the sending queue (`sending_queue.batch`): requests taken off the queue
//! are merged until `min_size` is reached or `flush_timeout` passes, and batches above
//! `max_size` are split. A merged batch reports its outcome to every request in it.

use std::time::Duration;

use switchyard_pdata::{Signal, SignalData};
use tokio_util::sync::CancellationToken;

use super::exporter::Queue;
use super::request::{Done, Queued, SharedDone};
use super::{QueueConfig, Sizer};

/// The batch settings, resolved.
pub(crate) struct Batching {
    pub flush_timeout: Duration,
    pub min_size: u64,
    /// 0 = no splitting.
    pub max_size: u64,
    pub sizer: Sizer,
}

impl Batching {
    /// `None` when batching is off (or for profiles, which are passed through unmerged).
    pub fn new(cfg: &QueueConfig, signal: Signal) -> Option<Batching> {
        let b = cfg.batch.get()?;
        (signal != Signal::Profiles).then(|| Batching {
            flush_timeout: b.flush_timeout,
            min_size: b.min_size,
            max_size: b.max_size,
            sizer: cfg.batch_sizer(),
        })
    }
}

fn measure<S: SignalData>(data: &S, sizer: Sizer) -> u64 {
    match sizer {
        Sizer::Bytes => data.encoded_len() as u64,
        _ => data.item_count() as u64,
    }
}

/// Merges requests from the queue into `first` until the batch is big enough or the flush
/// timeout passes. Returns the batch, and a request that could not be merged (if any).
pub(crate) async fn gather<S: SignalData>(
    b: &Batching,
    first: Queued<S>,
    queue: &Queue<S>,
    stop: &CancellationToken,
) -> (Queued<S>, Option<Queued<S>>) {
    let deadline = tokio::time::Instant::now() + b.flush_timeout;
    let mut acc = first;
    let mut size = measure(&acc.data, b.sizer);
    while size < b.min_size {
        let next = tokio::select! {
            q = queue.pop(stop) => q,
            _ = tokio::time::sleep_until(deadline) => None,
        };
        let Some(q) = next else { break };
        let added = measure(&q.data, b.sizer);
        match acc.data.append(q.data) {
            Ok(()) => {
                acc.done.extend(q.done);
                size += added;
            }
            Err(data) => return (acc, Some(Queued { data, cx: q.cx, done: q.done })),
        }
    }
    (acc, None)
}

/// Splits a batch above `max_size` into parts that share its completion.
pub(crate) fn split<S: SignalData>(batch: Queued<S>, max: Option<(u64, Sizer)>) -> Vec<Queued<S>> {
    let Some((max_size, sizer)) = max.filter(|(m, _)| *m > 0) else { return vec![batch] };
    let size = measure(&batch.data, sizer);
    let items = batch.data.item_count() as u64;
    if size <= max_size || items <= 1 {
        return vec![batch];
    }
    let per_part = match sizer {
        Sizer::Bytes => (max_size * items / size.max(1)).max(1),
        _ => max_size,
    } as usize;
    let Queued { mut data, cx, done } = batch;
    let mut parts = Vec::new();
    while data.item_count() > per_part {
        parts.push(data.split_off_front(per_part));
    }
    parts.push(data);
    let shared = SharedDone::new(parts.len(), done);
    parts.into_iter().map(|data| Queued { data, cx: cx.clone(), done: vec![Done::Shared(shared.clone())] }).collect()
}
