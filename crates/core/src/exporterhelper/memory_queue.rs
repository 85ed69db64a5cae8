//! The in-memory sending queue, bounded in its sizer's unit.

use std::sync::Arc;

use switchyard_pdata::SignalData;
use tokio::sync::{mpsc, Mutex, Semaphore, TryAcquireError};

use super::request::Queued;
use super::PushError;
use crate::component::MemoryUse;
use crate::telemetry::Gauge;

/// Capacity is a semaphore of `queue_size` units: a request takes its size in permits when
/// it enters and gives them back when a worker takes it out. Its encoded bytes are counted
/// into the exporter's memory-used series while it waits.
pub(crate) struct MemoryQueue<S: SignalData> {
    capacity: u64,
    block_on_overflow: bool,
    room: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<(Queued<S>, u32, i64)>,
    rx: Mutex<mpsc::UnboundedReceiver<(Queued<S>, u32, i64)>>,
    size: Gauge,
    memory: MemoryUse,
}

impl<S: SignalData> MemoryQueue<S> {
    pub fn new(capacity: u64, block_on_overflow: bool, size: Gauge, memory: MemoryUse) -> Self {
        let capacity = capacity.min(u64::from(u32::MAX));
        let (tx, rx) = mpsc::unbounded_channel();
        MemoryQueue {
            capacity,
            block_on_overflow,
            room: Arc::new(Semaphore::new(capacity as usize)),
            tx,
            rx: Mutex::new(rx),
            size,
            memory,
        }
    }

    /// Adds a request of `size` units; waits for room with `block_on_overflow`.
    pub async fn push(&self, q: Queued<S>, size: u64) -> Result<(), PushError> {
        if size > self.capacity {
            return Err(PushError::TooLarge(format!("{size} units, capacity {}", self.capacity)));
        }
        let units = size as u32;
        let permit = if self.block_on_overflow {
            self.room.acquire_many(units).await.map_err(|_| PushError::Closed)?
        } else {
            match self.room.try_acquire_many(units) {
                Ok(p) => p,
                Err(TryAcquireError::NoPermits) => {
                    self.memory.cap_reached();
                    let used = self.capacity - self.room.available_permits() as u64;
                    return Err(PushError::Full(format!("{used} of {} used", self.capacity)));
                }
                Err(TryAcquireError::Closed) => return Err(PushError::Closed),
            }
        };
        permit.forget();
        self.size.add(i64::from(units));
        let bytes = i64::try_from(q.data.encoded_len()).unwrap_or(i64::MAX);
        self.memory.add(bytes);
        self.tx.send((q, units, bytes)).map_err(|_| PushError::Closed)
    }

    /// The next request, waiting for one.
    pub async fn pop(&self) -> Option<Queued<S>> {
        let item = self.rx.lock().await.recv().await;
        item.map(|(q, units, bytes)| self.taken(q, units, bytes))
    }

    /// The next request if there is one (draining at shutdown).
    pub async fn try_pop(&self) -> Option<Queued<S>> {
        let item = self.rx.lock().await.try_recv().ok();
        item.map(|(q, units, bytes)| self.taken(q, units, bytes))
    }

    fn taken(&self, q: Queued<S>, units: u32, bytes: i64) -> Queued<S> {
        self.room.add_permits(units as usize);
        self.size.add(-i64::from(units));
        self.memory.add(-bytes);
        q
    }

    /// Refuses further pushes (those waiting for room are told so).
    pub fn close(&self) {
        self.room.close();
    }
}
