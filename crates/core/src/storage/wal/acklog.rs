//! The ack log (`acks.log`): 9-byte entries, "acknowledged" (`A` + sequence number) or
//! "handed to a sender" (`D`), appended as records are delivered and read back on open.
//! Kept apart from the segments so that an acknowledgement is one small append, never a
//! rewrite of data. Entries are always whole: a write cut short (disk full) is cut back.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use super::{io_err, State, Wal, WalError};

pub(super) const ACK: u8 = b'A';
pub(super) const DISPATCHED: u8 = b'D';
pub(super) const ACK_ENTRY: usize = 9;
/// Rewrite the ack log when it holds this many more entries than needed.
pub(super) const ACKLOG_COMPACT_AT: u64 = 64 * 1024;

impl Wal {
    /// Makes the acknowledgements written so far durable (`fsync` of the ack log). Without
    /// it, a power loss can bring back records that were already delivered; the file
    /// handle is synced outside the lock, so appends and reads go on meanwhile.
    pub fn sync_acks(&self) -> Result<(), WalError> {
        let file = {
            let mut st = self.lock();
            if !st.acks_unsynced {
                return Ok(());
            }
            st.acks_unsynced = false;
            st.acklog.try_clone()
        };
        let path = self.dir.join("acks.log");
        let synced = file.and_then(|f| f.sync_data());
        if synced.is_err() {
            self.lock().acks_unsynced = true;
        }
        synced.map_err(io_err("cannot sync", &path))
    }

    /// Whether acknowledgements were written since the last [`Wal::sync_acks`].
    pub fn acks_unsynced(&self) -> bool {
        self.lock().acks_unsynced
    }

    /// "Handed to a sender" marks only count redeliveries after a restart: a mark that
    /// cannot be written (disk full) is kept and written with the next entry.
    pub(super) fn mark_dispatched(&self, st: &mut State, seq: u64) {
        if let Err(e) = self.log_entry(st, DISPATCHED, seq) {
            tracing::debug!(error = %e, seq, "Cannot write a persistent queue dispatch mark yet.");
        }
    }

    /// Appends an entry (after any that could not be written before). A write cut short
    /// is cut back to whole entries, so the log never holds a torn entry in its middle.
    pub(super) fn log_entry(&self, st: &mut State, kind: u8, seq: u64) -> Result<(), WalError> {
        st.unlogged.push(kind);
        st.unlogged.extend_from_slice(&seq.to_le_bytes());
        match st.acklog.write_all(&st.unlogged) {
            Ok(()) => {
                st.acklog_len += st.unlogged.len() as u64;
                st.acklog_entries = st.acklog_entries.saturating_add((st.unlogged.len() / ACK_ENTRY) as u64);
                st.acks_unsynced |= st.unlogged.chunks_exact(ACK_ENTRY).any(|e| e[0] == ACK);
                st.unlogged.clear();
                Ok(())
            }
            Err(e) => {
                let _ = st.acklog.set_len(st.acklog_len);
                Err(WalError::Io { context: "cannot write", path: self.dir.join("acks.log"), source: e })
            }
        }
    }

    /// Replaces the ack log with only what live segments need (write, rename: atomic).
    pub(super) fn rewrite_acklog(&self, st: &mut State) -> Result<(), WalError> {
        let path = self.dir.join("acks.log");
        let tmp = self.dir.join("acks.log.tmp");
        let mut buf = Vec::with_capacity((st.acked.len() + st.in_flight.len()) * ACK_ENTRY);
        for (kind, seqs) in [(ACK, &st.acked), (DISPATCHED, &st.in_flight)] {
            for s in seqs {
                buf.push(kind);
                buf.extend_from_slice(&s.to_le_bytes());
            }
        }
        let written = File::create(&tmp).map_err(io_err("cannot create", &tmp)).and_then(|mut f| {
            f.write_all(&buf).map_err(io_err("cannot write", &tmp))?;
            if self.opts.fsync {
                f.sync_all().map_err(io_err("cannot sync", &tmp))?;
            }
            Ok(())
        });
        if let Err(e) = written {
            // A full disk: give back the space of the partial copy; the old log stays.
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, &path).map_err(io_err("cannot replace", &path))?;
        if self.opts.fsync {
            File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io_err("cannot sync", &self.dir))?;
        }
        st.acklog = OpenOptions::new().append(true).open(&path).map_err(io_err("cannot open", &path))?;
        st.acklog_entries = (st.acked.len() + st.in_flight.len()) as u64;
        st.acklog_len = buf.len() as u64;
        // Everything in memory is in the new file (synced with `fsync`).
        st.unlogged.clear();
        st.acks_unsynced = false;
        Ok(())
    }
}

type AckLog = (HashSet<u64>, HashSet<u64>, Option<u64>);

/// Acknowledged and dispatched sequence numbers, and the largest seen. A torn last entry is ignored.
pub(super) fn read_acklog(path: &Path) -> Result<AckLog, WalError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes).map_err(io_err("cannot read", path))?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WalError::Io { context: "cannot open", path: path.to_path_buf(), source: e }),
    }
    let (mut acked, mut dispatched, mut max) = (HashSet::new(), HashSet::new(), None);
    for e in bytes.chunks_exact(ACK_ENTRY) {
        let mut s = [0u8; 8];
        s.copy_from_slice(&e[1..]);
        let seq = u64::from_le_bytes(s);
        match e[0] {
            ACK => acked.insert(seq),
            DISPATCHED => dispatched.insert(seq),
            _ => continue,
        };
        max = max.max(Some(seq));
    }
    Ok((acked, dispatched, max))
}
