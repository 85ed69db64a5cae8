//! Storage for persistent sending queues: the [`QueueStorage`] capability a storage
//! extension (`file_storage`) offers, and the segment write-ahead log behind it.

mod record;
mod wal;

#[cfg(test)]
mod disk_full_tests;
#[cfg(test)]
mod tests;

pub use record::HEADER_LEN;
pub use wal::{Capacity, Damage, Next, Record, Recovered, Usage, Wal, WalError, WalOptions};

/// A storage extension as the exporter helper sees it.
pub trait QueueStorage: Send + Sync {
    /// Opens the queue called `name` (one per exporter and signal), creating it if new.
    /// `capacity` bounds it; the extension decides the rest (directory, fsync).
    fn open_queue(&self, name: &str, capacity: Capacity) -> Result<(Wal, Recovered), WalError>;
    /// Whether appends are synced to the device (they then run on a blocking thread).
    fn fsync(&self) -> bool;
}

/// The Collector's storage-client name for an exporter's queue: `exporter_<type>_<name>_<signal>`,
/// with characters unsafe in file names replaced by `~XXXX` (hex code point).
pub fn queue_name(kind: &str, component_type: &str, name: &str, signal: &str) -> String {
    let raw = format!("{kind}_{component_type}_{name}_{signal}");
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            out.push(c);
        } else {
            out.push_str(&format!("~{:04X}", c as u32));
        }
    }
    out
}
