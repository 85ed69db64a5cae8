//! The `file_storage` extension: where persistent sending queues live.
//!
//! Field names and defaults are the Collector's. Each exporter queue (one per exporter and
//! signal) is a directory `<directory>/exporter_<type>_<name>_<signal>/` holding our own
//! segment write-ahead log (see `switchyard_core::storage`), not a bbolt file. The log
//! reclaims space by deleting fully acknowledged segments, so the `compaction` settings are
//! accepted for compatibility and have nothing to do.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde::Deserialize;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, Extension, ExtensionFactory, FieldError, Host, Settings, Stability,
    StartError,
};
use switchyard_core::storage::{Capacity, QueueStorage, Recovered, Wal, WalError, WalOptions};

/// The Collector type string.
pub const TYPE: &str = "file_storage";

/// Largest segment file; smaller when a byte capacity needs finer-grained reclaiming.
const SEGMENT_BYTES: u64 = 16 << 20;

/// `compaction`: accepted for compatibility (the log needs no compaction).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompactionConfig {
    /// Ignored.
    pub on_start: bool,
    /// Ignored.
    pub on_rebound: bool,
    /// Ignored.
    pub directory: Option<String>,
    /// Ignored.
    pub max_transaction_size: Option<u64>,
    /// Ignored.
    pub rebound_needed_threshold_mib: Option<u64>,
    /// Ignored.
    pub rebound_trigger_threshold_mib: Option<u64>,
    /// Ignored.
    #[serde(with = "humantime_serde")]
    pub check_interval: Option<Duration>,
    /// Ignored.
    pub cleanup_on_start: bool,
}

/// The file_storage extension's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileStorageConfig {
    /// Where queues are kept (default `/var/lib/otelcol/file_storage`).
    pub directory: PathBuf,
    /// How long to wait for a queue's lock held by another process (default 1s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Sync every write to the device before acknowledging it (default false: written to the
    /// OS, which survives a process crash but not a power loss).
    pub fsync: bool,
    /// Create `directory` if missing (default false).
    pub create_directory: bool,
    /// Permissions of a created directory, octal (default "0750").
    pub directory_permissions: String,
    /// Accepted; nothing to do.
    pub compaction: CompactionConfig,
    /// Accepted for compatibility: a damaged queue is never deleted wholesale, damaged
    /// records are skipped and reported instead.
    pub recreate: bool,
}

impl Default for FileStorageConfig {
    fn default() -> Self {
        FileStorageConfig {
            directory: PathBuf::from("/var/lib/otelcol/file_storage"),
            timeout: Duration::from_secs(1),
            fsync: false,
            create_directory: false,
            directory_permissions: "0750".into(),
            compaction: CompactionConfig::default(),
            recreate: false,
        }
    }
}

impl ComponentConfig for FileStorageConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if u32::from_str_radix(&self.directory_permissions, 8).is_err() {
            e.push(FieldError::new("directory_permissions", "must be an octal mode such as \"0750\""));
        }
        if !self.create_directory && !self.directory.is_dir() {
            e.push(FieldError::new(
                "directory",
                format!(
                    "directory {} does not exist: create it, or set create_directory: true",
                    self.directory.display()
                ),
            ));
        }
        e
    }
}

/// Creates file_storage extensions.
pub struct FileStorageExtensionFactory;

impl ExtensionFactory for FileStorageExtensionFactory {
    type Config = FileStorageConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self) -> Stability {
        Stability::Beta
    }
    fn create(&self, _set: Settings, cfg: &FileStorageConfig) -> Result<Arc<dyn Extension>, BuildError> {
        Ok(Arc::new(FileStorage { cfg: cfg.clone() }))
    }
}

/// A running file_storage extension. Besides persistent queues, components that keep
/// their own small state files (the filelog receiver's read offsets) find its directory here.
pub struct FileStorage {
    cfg: FileStorageConfig,
}

impl FileStorage {
    /// The directory this extension keeps its files in.
    pub fn directory(&self) -> &std::path::Path {
        &self.cfg.directory
    }

    /// True when writes are to be synced to the device before being relied on.
    pub fn fsync(&self) -> bool {
        self.cfg.fsync
    }
}

impl Component for FileStorage {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let dir = &self.cfg.directory;
            if self.cfg.create_directory && !dir.is_dir() {
                let mode = u32::from_str_radix(&self.cfg.directory_permissions, 8).unwrap_or(0o750);
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(mode)
                    .create(dir)
                    .map_err(|e| StartError::new(format!("cannot create directory {}: {e}", dir.display())))?;
            }
            if !dir.is_dir() {
                return Err(StartError::new(format!("directory {} does not exist", dir.display())));
            }
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

impl Extension for FileStorage {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn queue_storage(&self) -> Option<&dyn QueueStorage> {
        Some(self)
    }
}

impl QueueStorage for FileStorage {
    fn open_queue(&self, name: &str, capacity: Capacity) -> Result<(Wal, Recovered), WalError> {
        let segment_bytes = match capacity {
            // Fine-grained segments, so that acknowledged space comes back soon.
            Capacity::DiskBytes(cap) => (cap / 8).clamp(4096, SEGMENT_BYTES),
            _ => SEGMENT_BYTES,
        };
        let opts = WalOptions { fsync: self.cfg.fsync, segment_bytes, capacity };
        let dir = self.cfg.directory.join(name);
        let deadline = Instant::now() + self.cfg.timeout;
        loop {
            match Wal::open(&dir, opts.clone()) {
                // Another process (an old instance still stopping) holds it: wait up to `timeout`.
                Err(WalError::Locked(_)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                r => return r,
            }
        }
    }
    fn fsync(&self) -> bool {
        self.cfg.fsync
    }
}
