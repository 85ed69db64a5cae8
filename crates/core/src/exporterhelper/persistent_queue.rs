//! The persistent sending queue: requests go to a write-ahead log before the pipeline is
//! answered, and leave it only once delivered or dropped for good.
//!
//! Record payload: a version byte, the client metadata (count, then name and value of each
//! header), then the OTLP protobuf export request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use switchyard_pdata::SignalData;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::request::{Done, Queued};
use super::{PushError, Sizer};
use crate::component::ComponentId;
use crate::consumer::RequestContext;
use crate::storage::{Next, Recovered, Usage, Wal, WalError};
use crate::telemetry::{DropReason, ExporterObs, LogThrottle};

const FORMAT_VERSION: u8 = 1;

/// The log and what must follow each acknowledgement.
pub(crate) struct WalHandle {
    wal: Wal,
    fsync: bool,
    sizer: Sizer,
    room: Notify,
    obs: ExporterObs,
    /// A sync of the ack log is scheduled or running.
    ack_sync_pending: AtomicBool,
    ack_log: LogThrottle,
}

/// With `fsync`, acknowledgements are synced at most this long after they are written:
/// a power loss resends at most the records acknowledged in the last interval (and those
/// being sent), where a sync per acknowledgement would cost one more device flush per
/// exported request.
pub(crate) const ACK_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

impl WalHandle {
    /// Acknowledges a record (delivered or dropped): frees its room.
    pub fn ack(self: &Arc<Self>, seq: u64, items: u32) {
        if let Err(e) = self.wal.ack(seq, items) {
            // Done here all the same; the entry is written with the next one. Until then a
            // restart sends the record again: a duplicate, not a loss.
            if let Some(n) = self.ack_log.allow() {
                tracing::error!(error = %e, seq, similar_since_last_report = n,
                    "Cannot write a persistent queue acknowledgement (it is retried with the next).");
            }
        }
        if self.fsync {
            self.schedule_ack_sync();
        }
        self.update_size();
        self.room.notify_waiters();
    }

    /// Syncs the ack log [`ACK_SYNC_INTERVAL`] from now, off the async threads; acks
    /// written meanwhile ride along. Again while acks keep coming.
    fn schedule_ack_sync(self: &Arc<Self>) {
        if self.ack_sync_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.sync_acks_now();
            self.ack_sync_pending.store(false, Ordering::Release);
            return;
        };
        let h = self.clone();
        rt.spawn(async move {
            loop {
                tokio::time::sleep(ACK_SYNC_INTERVAL).await;
                let h2 = h.clone();
                let _ = tokio::task::spawn_blocking(move || h2.sync_acks_now()).await;
                h.ack_sync_pending.store(false, Ordering::Release);
                // Acks written while syncing go in the next round, unless a new ack
                // already scheduled one.
                if !h.wal.acks_unsynced() || h.ack_sync_pending.swap(true, Ordering::AcqRel) {
                    break;
                }
            }
        });
    }

    fn sync_acks_now(&self) {
        if let Err(e) = self.wal.sync_acks() {
            if let Some(n) = self.ack_log.allow() {
                tracing::error!(error = %e, similar_since_last_report = n, "Cannot sync persistent queue acknowledgements.");
            }
        }
    }

    fn update_size(&self) {
        let u: Usage = self.wal.usage();
        self.obs.queue_size.set(match self.sizer {
            Sizer::Requests => u.records,
            Sizer::Items => u.items,
            Sizer::Bytes => u.disk_bytes,
        } as i64);
    }
}

/// Requests kept in memory after being written, so that a queue that keeps up with its
/// input sends them without reading and decoding them back. Only when the reader is close
/// behind (a backlog is read from disk: holding it in memory would defeat the point).
const RECENT_MAX_ENTRIES: usize = 8;
const RECENT_MAX_BYTES: usize = 16 << 20;

pub(crate) struct PersistentQueue<S: SignalData> {
    id: ComponentId,
    handle: Arc<WalHandle>,
    recent: std::sync::Mutex<Recent<S>>,
    block_on_overflow: bool,
    data_ready: Notify,
    closed: AtomicBool,
    damage_log: LogThrottle,
    _signal: std::marker::PhantomData<fn() -> S>,
}

impl<S: SignalData> PersistentQueue<S> {
    /// Wraps an opened log; reports what was found in it.
    pub fn new(
        id: ComponentId,
        wal: Wal,
        recovered: &Recovered,
        fsync: bool,
        sizer: Sizer,
        block_on_overflow: bool,
        obs: ExporterObs,
    ) -> Self {
        if recovered.records > 0 {
            tracing::info!(exporter = %id, signal = %S::SIGNAL, dir = %wal.dir().display(), requests = recovered.records,
                items = recovered.items, "Resuming the persistent queue.");
        }
        if recovered.redelivered_records > 0 {
            obs.redelivered.add(recovered.redelivered_items);
            tracing::warn!(exporter = %id, signal = %S::SIGNAL, requests = recovered.redelivered_records,
                items = recovered.redelivered_items,
                "Requests that were being sent when the gateway stopped will be sent again (possible duplicates).");
        }
        if recovered.torn_bytes > 0 {
            tracing::info!(exporter = %id, bytes = recovered.torn_bytes,
                "Ignoring the end of a write cut short when the gateway stopped (it was never acknowledged).");
        }
        let handle = Arc::new(WalHandle {
            wal,
            fsync,
            sizer,
            room: Notify::new(),
            obs,
            ack_sync_pending: AtomicBool::new(false),
            ack_log: LogThrottle::default(),
        });
        handle.update_size();
        PersistentQueue {
            id,
            handle,
            recent: std::sync::Mutex::new(Recent { entries: std::collections::HashMap::new(), bytes: 0 }),
            block_on_overflow,
            data_ready: Notify::new(),
            closed: AtomicBool::new(false),
            damage_log: LogThrottle::default(),
            _signal: std::marker::PhantomData,
        }
    }

    /// Writes the request to disk; returns once it is there (synced with `fsync`).
    pub async fn push(&self, cx: &RequestContext, data: &S) -> Result<(), PushError> {
        let items = u32::try_from(data.item_count()).unwrap_or(u32::MAX);
        let mut record = encode(cx, data);
        let encoded = record.len();
        loop {
            // Enabled before trying, so that an acknowledgement in between is not missed
            // (`notify_waiters` only wakes futures that are already waiting).
            let room = self.handle.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            let result = if self.handle.fsync {
                // The sync waits for the device: off the async threads, buffer moved and back.
                let h = self.handle.clone();
                let task = tokio::task::spawn_blocking(move || {
                    let r = h.wal.append(items, &mut record);
                    (r, record)
                });
                match task.await {
                    Ok((r, rec)) => {
                        record = rec;
                        r
                    }
                    Err(e) => return Err(PushError::Storage(format!("append task failed: {e}"))),
                }
            } else {
                self.handle.wal.append(items, &mut record)
            };
            match result {
                Ok(seq) => {
                    self.remember(seq, cx, data, encoded);
                    self.handle.update_size();
                    self.data_ready.notify_one();
                    return Ok(());
                }
                Err(WalError::Full(_)) if self.block_on_overflow && !self.closed.load(Ordering::Acquire) => {
                    room.as_mut().await;
                }
                Err(WalError::Full(m)) => return Err(PushError::Full(m)),
                Err(WalError::TooLarge(m)) => return Err(PushError::TooLarge(m)),
                Err(e) => return Err(PushError::Storage(e.to_string())),
            }
        }
    }

    /// The next record to send, waiting for one; `None` once `stop` fires.
    pub async fn pop(&self, stop: &CancellationToken) -> Option<Queued<S>> {
        loop {
            if stop.is_cancelled() {
                return None;
            }
            let next = {
                let recent = self.recent_lock();
                self.handle.wal.next_unless_held(|seq| recent.entries.contains_key(&seq))
            };
            match next {
                Ok(Next::Record(r)) => {
                    let held = self.recent_lock().take_through(r.seq);
                    match held.or_else(|| decode::<S>(&r.payload)) {
                        Some((cx, data)) => {
                            let done = Done::Ack { handle: self.handle.clone(), seq: r.seq, items: r.items };
                            return Some(Queued { data, cx, done: vec![done] });
                        }
                        None => {
                            self.handle.ack(r.seq, r.items);
                            self.damaged(Some(r.items), &format!("record {} does not decode", r.seq));
                        }
                    }
                }
                Ok(Next::Skipped(d)) => {
                    self.damaged(
                        d.items,
                        &format!("{} damaged bytes at offset {} of {}", d.bytes, d.offset, d.segment.display()),
                    );
                }
                Ok(Next::Empty) => {
                    tokio::select! {
                        _ = self.data_ready.notified() => {}
                        _ = stop.cancelled() => return None,
                    }
                }
                Err(e) => {
                    tracing::error!(exporter = %self.id, error = %e, "Cannot read the persistent queue; retrying in 1s.");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        _ = stop.cancelled() => return None,
                    }
                }
            }
        }
    }

    fn recent_lock(&self) -> std::sync::MutexGuard<'_, Recent<S>> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps a just-written request in memory if there is room (a reference, not a copy).
    fn remember(&self, seq: u64, cx: &RequestContext, data: &S, bytes: usize) {
        let mut r = self.recent_lock();
        let close_behind = self.handle.wal.unread() <= RECENT_MAX_ENTRIES as u64;
        if close_behind && r.entries.len() < RECENT_MAX_ENTRIES && r.bytes + bytes <= RECENT_MAX_BYTES {
            r.bytes += bytes;
            r.entries.insert(seq, (cx.clone(), data.clone(), bytes));
        }
    }

    fn damaged(&self, items: Option<u32>, what: &str) {
        let obs = &self.handle.obs;
        obs.corrupt_records.add(1);
        if let Some(items) = items {
            obs.dropped(DropReason::CorruptRecord).add(u64::from(items));
        }
        if let Some(held_back) = self.damage_log.allow() {
            tracing::error!(exporter = %self.id, items_lost = ?items, similar_since_last_report = held_back,
                "Skipping a damaged persistent queue record: {what}.");
        }
    }

    /// Refuses further pushes; what is on disk stays for the next start.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.handle.room.notify_waiters();
    }
}

struct Recent<S> {
    entries: std::collections::HashMap<u64, (RequestContext, S, usize)>,
    bytes: usize,
}

impl<S> Recent<S> {
    /// Takes the entry of `seq`, and forgets older ones: the reader is past them (they were
    /// remembered after the reader had already read them from disk).
    fn take_through(&mut self, seq: u64) -> Option<(RequestContext, S)> {
        let found = self.entries.remove(&seq);
        if let Some((_, _, bytes)) = &found {
            self.bytes -= bytes;
        }
        if self.entries.keys().any(|s| *s < seq) {
            self.entries.retain(|s, _| *s > seq);
            self.bytes = self.entries.values().map(|e| e.2).sum();
        }
        found.map(|(cx, data, _)| (cx, data))
    }
}

fn encode<S: SignalData>(cx: &RequestContext, data: &S) -> Vec<u8> {
    let mut buf = Wal::record_buffer(data.encoded_len() + 64);
    buf.push(FORMAT_VERSION);
    let headers: Vec<(&str, &[u8])> =
        cx.metadata.iter().flat_map(|m| m.iter()).map(|(k, v)| (k.as_str(), v.as_bytes())).collect();
    buf.extend_from_slice(&(headers.len() as u32).to_le_bytes());
    for (k, v) in headers {
        buf.extend_from_slice(&(k.len() as u32).to_le_bytes());
        buf.extend_from_slice(k.as_bytes());
        buf.extend_from_slice(&(v.len() as u32).to_le_bytes());
        buf.extend_from_slice(v);
    }
    // The bytes the batch arrived as, when nobody changed it: no encode on the way to disk.
    data.encode_to(&mut buf);
    buf
}

fn decode<S: SignalData>(payload: &[u8]) -> Option<(RequestContext, S)> {
    let (&version, mut rest) = payload.split_first()?;
    if version != FORMAT_VERSION {
        return None;
    }
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = (rest.get(..n)?, rest.get(n..)?);
        rest = tail;
        Some(head)
    };
    let read_u32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let count = read_u32(take(4)?);
    let mut metadata = None;
    if count > 0 {
        let mut map = http::HeaderMap::with_capacity(count);
        for _ in 0..count {
            let klen = read_u32(take(4)?);
            let k = http::HeaderName::from_bytes(take(klen)?).ok()?;
            let vlen = read_u32(take(4)?);
            let v = http::HeaderValue::from_bytes(take(vlen)?).ok()?;
            map.append(k, v);
        }
        metadata = Some(Arc::new(map));
    }
    // Walked, not decoded: a replayed batch is forwarded from its bytes like a received one.
    let data = S::from_encoded(bytes::Bytes::copy_from_slice(rest)).ok()?;
    Some((RequestContext::with_metadata(metadata), data))
}

#[cfg(test)]
mod tests {
    use switchyard_pdata::Traces;

    use super::*;

    #[test]
    fn records_keep_data_and_client_metadata() {
        let mut h = http::HeaderMap::new();
        h.append("x-tenant", "acme".parse().unwrap());
        h.append("x-tenant", "second".parse().unwrap());
        let cx = RequestContext::with_metadata(Some(Arc::new(h.clone())));
        let data = crate::testing::traces(3);
        let rec = encode(&cx, &data);
        let (cx2, data2): (RequestContext, Traces) = decode(&rec[crate::storage::HEADER_LEN..]).unwrap();
        assert_eq!(data2, data);
        assert_eq!(cx2.metadata.as_deref(), Some(&h));
        assert!(decode::<Traces>(&rec[crate::storage::HEADER_LEN..rec.len() - 3]).is_none());
    }

    /// With `fsync`, an acknowledgement is written at once and synced about
    /// [`ACK_SYNC_INTERVAL`] later, in one sync for every ack of that interval.
    #[tokio::test(start_paused = true)]
    async fn acknowledgements_are_synced_shortly_after_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let opts = crate::storage::WalOptions {
            fsync: true,
            segment_bytes: 1 << 20,
            capacity: crate::storage::Capacity::Records(100),
        };
        let (wal, recovered) = Wal::open(dir.path(), opts).unwrap();
        let obs = ExporterObs::new(
            &crate::telemetry::Telemetry::default(),
            &ComponentId::new("otlp"),
            switchyard_pdata::Signal::Traces,
        );
        let q: PersistentQueue<Traces> =
            PersistentQueue::new(ComponentId::new("otlp"), wal, &recovered, true, Sizer::Requests, false, obs);
        let cx = RequestContext::default();
        for _ in 0..3 {
            q.push(&cx, &crate::testing::traces(2)).await.unwrap();
        }
        let stop = CancellationToken::new();
        for _ in 0..3 {
            let item = q.pop(&stop).await.unwrap();
            for d in item.done {
                d.complete(&super::super::request::Outcome::Delivered);
            }
        }
        // No await since the acks (the clock is paused): the sync is scheduled, not done.
        assert!(q.handle.wal.acks_unsynced(), "written at once, synced a little later");
        let started = std::time::Instant::now();
        while q.handle.wal.acks_unsynced() && started.elapsed() < std::time::Duration::from_secs(10) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(!q.handle.wal.acks_unsynced(), "synced after the interval");
        assert_eq!(q.handle.wal.usage().records, 0);
    }
}
