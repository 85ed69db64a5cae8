//! The component that runs the watches, shared by the processor's instances.
//!
//! The graph creates a processor once per pipeline. Instances with the same id and the same
//! config share one [`WatchCore`] (found through a process-wide table of weak references),
//! so one cache and one set of watches serve every pipeline. The watches run while at least
//! one instance is started: the first `start` spawns them, the last `shutdown` stops them.
//! A config reload that builds the new graph before stopping the old one finds the running
//! core (same id and config) and keeps it; a changed config gets a core of its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_core::component::{Component, Host, StartError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::cache::PodCache;
use super::watch::{self, Shared, WatchPlan};
use crate::k8s::ApiConfig;

/// Live cores by id and config.
static CORES: LazyLock<Mutex<HashMap<String, Weak<WatchCore>>>> = LazyLock::new(Default::default);

/// The running core for `key`, if any instance still holds it.
pub(super) fn lookup(key: &str) -> Option<Arc<WatchCore>> {
    CORES.lock().unwrap_or_else(PoisonError::into_inner).get(key).and_then(Weak::upgrade)
}

/// Makes `core` the one for `key` (dropping entries whose cores are gone).
pub(super) fn register(key: String, core: WatchCore) -> Arc<WatchCore> {
    let core = Arc::new(core);
    let mut cores = CORES.lock().unwrap_or_else(PoisonError::into_inner);
    cores.retain(|_, w| w.strong_count() > 0);
    cores.insert(key, Arc::downgrade(&core));
    core
}

/// The watches and cache of one processor id and config.
pub(crate) struct WatchCore {
    id: String,
    api: ApiConfig,
    plan: WatchPlan,
    shared: Shared,
    wait: Option<Duration>,
    run: tokio::sync::Mutex<Run>,
}

#[derive(Default)]
struct Run {
    users: usize,
    stop: Option<CancellationToken>,
    tasks: Vec<JoinHandle<()>>,
}

impl WatchCore {
    pub(super) fn new(id: String, api: ApiConfig, plan: WatchPlan, shared: Shared, wait: Option<Duration>) -> Self {
        WatchCore { id, api, plan, shared, wait, run: tokio::sync::Mutex::new(Run::default()) }
    }

    pub(super) fn cache(&self) -> Arc<PodCache> {
        self.shared.cache.clone()
    }

    /// Spawns the watches unless they run already.
    async fn start(&self) -> Result<(), StartError> {
        let mut run = self.run.lock().await;
        if run.users == 0 {
            let client = crate::k8s::client(&self.api)
                .await
                .map_err(|e| StartError::new(format!("processor \"{}\": kubernetes client: {e}", self.id)))?;
            let stop = CancellationToken::new();
            let shared = Shared { stop: stop.clone(), ..self.shared.clone() };
            shared.synced.send_replace(0);
            run.tasks = watch::spawn(client, &self.plan, &shared);
            run.stop = Some(stop);
        }
        run.users += 1;
        Ok(())
    }

    /// Waits until every watch has listed once, at most `timeout`.
    async fn wait_synced(&self, timeout: Duration) -> Result<(), StartError> {
        let want = self.plan.watch_count();
        let mut rx = self.shared.synced.subscribe();
        let synced = tokio::time::timeout(timeout, rx.wait_for(|n| *n >= want)).await.is_ok_and(|r| r.is_ok());
        if synced {
            return Ok(());
        }
        Err(StartError::new(format!(
            "processor \"{}\": failed to wait for caches to be synced (wait_for_metadata_timeout {})",
            self.id,
            humantime::format_duration(timeout)
        )))
    }

    /// One user fewer; the last one stops the watches.
    async fn release(&self) {
        let mut run = self.run.lock().await;
        run.users = run.users.saturating_sub(1);
        if run.users > 0 {
            return;
        }
        if let Some(stop) = run.stop.take() {
            stop.cancel();
        }
        for t in std::mem::take(&mut run.tasks) {
            let _ = t.await;
        }
    }
}

/// What the graph starts and stops: one per processor instance.
pub(crate) struct Watcher {
    core: Arc<WatchCore>,
    started: AtomicBool,
}

impl Watcher {
    pub(super) fn new(core: Arc<WatchCore>) -> Self {
        Watcher { core, started: AtomicBool::new(false) }
    }

    /// Whether `self` and `other` share their cache and watches.
    #[cfg(test)]
    pub(super) fn shares_with(&self, other: &Watcher) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }
}

impl Component for Watcher {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            if self.started.load(Ordering::Acquire) {
                return Err(StartError::new(format!("processor \"{}\" started twice", self.core.id)));
            }
            self.core.start().await?;
            self.started.store(true, Ordering::Release);
            match self.core.wait {
                Some(timeout) => self.core.wait_synced(timeout).await,
                None => Ok(()),
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if self.started.swap(false, Ordering::AcqRel) {
                self.core.release().await;
            }
        })
    }
}
