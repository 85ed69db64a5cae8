//! The `filelog` receiver (alias `file_log`): tails files matched by globs, cuts them into
//! records, runs stanza operators over them and sends the result as logs, as the
//! Collector's contrib `receiver/filelogreceiver` (with `pkg/stanza/fileconsumer`) does.
//! Offsets advance only after the pipeline accepted a poll's records, and with `storage:`
//! they are saved in the file_storage extension's directory, so a restart (even after
//! kill -9) neither loses nor repeats lines (see `checkpoint.rs`).

mod checkpoint;
mod config;
mod emit;
mod glob;
mod reader;
mod split;
#[cfg(test)]
mod tests;

pub use crate::stanza::config::parse_byte_size;
pub use checkpoint::{Checkpoint, CheckpointError, Known};
pub use config::{Encoding, FileLogReceiverConfig, MultilineConfig, RetryOnFailure};
pub use glob::Pattern;
pub use reader::{Poll, Record, Tracker, TrackerOptions};
pub use split::Splitter;

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use switchyard_core::component::{
    BuildError, Component, Host, ReceiverFactory, ReceiverOutputs, Settings, Stability, StartError,
};
use switchyard_core::consumer::{DynConsumer, RequestContext};
use switchyard_core::telemetry::{Counter, Gauge, LogThrottle, ReceiverObs};
use switchyard_pdata::{Logs, Signal, SignalData};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::extensions::file_storage::FileStorage;
use crate::stanza::Pipeline;

/// The Collector type string.
pub const TYPE: &str = "filelog";

/// Files that matched `include` but could not be opened (each counted once until it opens).
pub const UNREADABLE_FILES: &str = "switchyard_receiver_filelog_unreadable_files";
/// Files followed now.
pub const OPEN_FILES: &str = "switchyard_receiver_filelog_open_files";

/// Creates filelog receivers.
pub struct FileLogReceiverFactory;

impl ReceiverFactory for FileLogReceiverFactory {
    type Config = FileLogReceiverConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["file_log"]
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Logs).then_some(Stability::Beta)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &FileLogReceiverConfig,
        out: ReceiverOutputs,
    ) -> Result<Box<dyn Component>, BuildError> {
        // Build once here so a bad operator fails the build, not the first record.
        crate::stanza::build(&cfg.operators).map_err(|m| BuildError::new(&set, m))?;
        Splitter::new(cfg).map_err(|m| BuildError::new(&set, m))?;
        Ok(Box::new(FileLogReceiver {
            set,
            cfg: cfg.clone(),
            out: out.logs,
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }))
    }
}

/// A running (or ready to run) filelog receiver.
pub struct FileLogReceiver {
    set: Settings,
    cfg: FileLogReceiverConfig,
    out: Option<DynConsumer<Logs>>,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Counters of one receiver.
struct Obs {
    receiver: ReceiverObs,
    unreadable: Counter,
    open_files: Gauge,
}

impl FileLogReceiver {
    fn checkpoint(&self, host: &Host) -> Result<Option<Checkpoint>, StartError> {
        let Some(id) = &self.cfg.storage else { return Ok(None) };
        let who = format!("receiver \"{}\"", self.set.id);
        let id = config::storage_id(id).map_err(|m| StartError::new(format!("{who}: storage: {m}")))?;
        let ext = host.extension(&id).ok_or_else(|| {
            StartError::new(format!("{who}: storage extension \"{id}\" is not in service::extensions"))
        })?;
        let fs = ext
            .as_any()
            .downcast_ref::<FileStorage>()
            .ok_or_else(|| StartError::new(format!("{who}: extension \"{id}\" is not a file_storage extension")))?;
        Ok(Some(Checkpoint::new(fs.directory(), self.set.id.name().unwrap_or(""), fs.fsync())))
    }
}

impl Component for FileLogReceiver {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let who = format!("receiver \"{}\"", self.set.id);
            let Some(out) = self.out.clone() else { return Ok(()) };
            let checkpoint = self.checkpoint(host)?;
            let known = match &checkpoint {
                Some(c) => c.load().map_err(|e| StartError::new(format!("{who}: {e}")))?,
                None => Vec::new(),
            };
            let pattern = |p: &String| Pattern::new(p).map_err(|m| StartError::new(format!("{who}: {p:?}: {m}")));
            let opts = TrackerOptions {
                include: self.cfg.include.iter().map(pattern).collect::<Result<_, _>>()?,
                exclude: self.cfg.exclude.iter().map(pattern).collect::<Result<_, _>>()?,
                fingerprint_size: usize::try_from(self.cfg.fingerprint_size).unwrap_or(1000),
                from_beginning: self.cfg.from_beginning(),
                flush_after: self.cfg.force_flush_period,
                max_files: self.cfg.max_concurrent_files,
                delete_after_read: self.cfg.delete_after_read,
            };
            let splitter = Splitter::new(&self.cfg).map_err(|m| StartError::new(format!("{who}: {m}")))?;
            let tracker = Tracker::new(opts, splitter, known);
            let pipeline =
                crate::stanza::build(&self.cfg.operators).map_err(|m| StartError::new(format!("{who}: {m}")))?;
            let id = self.set.id.to_string();
            let t = &self.set.telemetry;
            let obs = Obs {
                receiver: ReceiverObs::new(t, &self.set.id, "file"),
                unreadable: t.metrics.counter(
                    UNREADABLE_FILES,
                    "Files matched by include that could not be opened.",
                    &[("receiver", id.as_str())],
                ),
                open_files: t.metrics.gauge(
                    OPEN_FILES,
                    "Files the filelog receiver follows.",
                    &[("receiver", id.as_str())],
                ),
            };
            let worker = Worker {
                id,
                cfg: Arc::new(self.cfg.clone()),
                out,
                tracker: Some(tracker),
                pipeline,
                checkpoint,
                obs,
                refused_log: LogThrottle::new(std::time::Duration::from_secs(10)),
                stop: self.stop.clone(),
            };
            *self.task.lock().await = Some(tokio::spawn(worker.run()));
            Ok(())
        })
    }

    /// Stops polling after the batch in flight and saves the offsets.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            if let Some(t) = self.task.lock().await.take() {
                let _ = t.await;
            }
        })
    }
}

struct Worker {
    id: String,
    cfg: Arc<FileLogReceiverConfig>,
    out: DynConsumer<Logs>,
    tracker: Option<Tracker>,
    pipeline: Pipeline,
    checkpoint: Option<Checkpoint>,
    obs: Obs,
    /// A refused batch is retried every poll: say so once in a while, not every 200ms.
    refused_log: LogThrottle,
    stop: CancellationToken,
}

impl Worker {
    async fn run(mut self) {
        tracing::info!(receiver = %self.id, include = ?self.cfg.include, "Filelog receiver started.");
        loop {
            let more = self.poll_once().await;
            if self.stop.is_cancelled() {
                break;
            }
            if !more {
                tokio::select! {
                    _ = self.stop.cancelled() => break,
                    _ = tokio::time::sleep(self.cfg.poll_interval) => {}
                }
            }
        }
        // Entries operators still hold (recombine, partial container lines) go out now.
        let mut held = Vec::new();
        self.pipeline.flush(Instant::now(), true, &mut held);
        if !held.is_empty() {
            let logs = emit::to_logs(held);
            let n = logs.item_count();
            let ok = self.out.consume(&RequestContext::default(), logs).await.is_ok();
            self.obs.receiver.record(Signal::Logs, n, ok);
        }
    }

    /// One poll: read, transform, send, commit. True when files have more to read now.
    async fn poll_once(&mut self) -> bool {
        let Some(mut tracker) = self.tracker.take() else { return false };
        let now = Instant::now();
        let joined = tokio::task::spawn_blocking(move || {
            let p = tracker.poll(now);
            (tracker, p)
        })
        .await;
        let Ok((mut tracker, poll)) = joined else {
            tracing::error!(receiver = %self.id, "The file reader task failed; the receiver stops.");
            self.stop.cancel();
            return false;
        };
        for (path, e) in &poll.unreadable {
            self.obs.unreadable.add(1);
            tracing::warn!(receiver = %self.id, path = %path.display(), error = %e, "Cannot open a log file; skipping it.");
        }
        self.obs.open_files.set(i64::try_from(tracker.open_files()).unwrap_or(i64::MAX));
        let mut entries = emit::entries(&self.cfg, &poll, &mut self.pipeline);
        self.pipeline.flush(now, false, &mut entries);
        let more = poll.more;
        if entries.is_empty() {
            // Nothing to send (blank lines, everything filtered): the offsets still advance.
            tracker.commit();
            self.save(&tracker);
            self.tracker = Some(tracker);
            return more;
        }
        let logs = emit::to_logs(entries);
        let n = logs.item_count();
        let result = self.out.consume(&RequestContext::default(), logs).await;
        self.obs.receiver.record(Signal::Logs, n, result.is_ok());
        match result {
            Ok(()) => {
                tracker.commit();
                self.save(&tracker);
            }
            Err(e) => {
                if let Some(suppressed) = self.refused_log.allow() {
                    tracing::warn!(receiver = %self.id, error = %e, records = n, suppressed,
                        "The pipeline refused log records; reading them again at the next poll.");
                }
                tracker.rollback();
            }
        }
        self.tracker = Some(tracker);
        more
    }

    fn save(&self, tracker: &Tracker) {
        if let Some(c) = &self.checkpoint {
            if let Err(e) = c.save(&tracker.known()) {
                tracing::warn!(receiver = %self.id, error = %e, "Cannot save read offsets.");
            }
        }
    }
}
