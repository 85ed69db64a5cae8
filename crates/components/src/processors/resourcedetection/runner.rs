//! Starting and stopping the detection: the first `start` of any pipeline sharing it runs
//! the detection (the others wait for that same run), the refresh task lives while at
//! least one sharing pipeline is started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_core::component::{Component, Host, StartError};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use super::detect::Detection;

/// One detection and its refresh task, shared by the pipelines of one processor.
pub struct Shared {
    pub(crate) detection: Arc<Detection>,
    refresh: Duration,
    /// The detection at start: run once, whichever pipeline starts first.
    initial: OnceCell<Result<(), String>>,
    /// Started pipelines and the refresh task.
    state: Mutex<RefreshState>,
}

#[derive(Default)]
struct RefreshState {
    active: usize,
    task: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

impl Shared {
    /// Nothing detected, nothing running.
    pub fn new(detection: Detection, refresh: Duration) -> Self {
        Shared { detection: Arc::new(detection), refresh, initial: OnceCell::new(), state: Mutex::default() }
    }

    /// One more started pipeline; the first starts the refresh task.
    fn acquire(&self) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.active += 1;
        if st.task.is_some() || self.refresh.is_zero() {
            return;
        }
        let (detection, period, stop) = (self.detection.clone(), self.refresh, CancellationToken::new());
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = ticker.tick() => {
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            _ = detection.run(false) => {}
                        }
                    }
                }
            }
        });
        st.task = Some((token, task));
    }

    /// Whether the refresh task runs (tests).
    #[cfg(test)]
    pub fn refreshing(&self) -> bool {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).task.is_some()
    }

    /// One fewer; the last stops the refresh task (returned, to be awaited).
    fn release(&self) -> Option<tokio::task::JoinHandle<()>> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.active = st.active.saturating_sub(1);
        if st.active > 0 {
            return None;
        }
        let (stop, task) = st.task.take()?;
        stop.cancel();
        Some(task)
    }
}

/// The component of one pipeline's processor instance.
pub struct DetectionRunner {
    shared: Arc<Shared>,
    started: AtomicBool,
}

impl DetectionRunner {
    /// A runner over `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        DetectionRunner { shared, started: AtomicBool::new(false) }
    }
}

impl Component for DetectionRunner {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let detection = &self.shared.detection;
            let result = self.shared.initial.get_or_init(|| detection.run(true)).await;
            if let Err(e) = result {
                return Err(StartError::new(format!(
                    "processor \"{}\": resource detection failed (fail_on_missing_metadata is set): {e}",
                    detection.id
                )));
            }
            if !self.started.swap(true, Ordering::SeqCst) {
                self.shared.acquire();
            }
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if !self.started.swap(false, Ordering::SeqCst) {
                return;
            }
            if let Some(task) = self.shared.release() {
                let _ = task.await;
            }
        })
    }
}
