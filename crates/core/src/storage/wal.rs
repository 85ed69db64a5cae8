//! A segmented write-ahead log used as a persistent queue.
//!
//! Records are appended to segment files (`<first seq>.wal`) and read back in order by one
//! reader. Acknowledgements and "handed to a sender" marks go to a small append-only log
//! (`acks.log`, 9-byte entries). A segment is deleted (one `unlink`, atomic) once it is
//! sealed and every record in it is acknowledged. On open, only headers are scanned, so a
//! large queue is not loaded into memory; payloads are read one at a time as they are sent.
//!
//! Crash safety: a record is complete on disk (in the page cache, or on the device with
//! `fsync`) before `append` returns, so a killed process loses nothing it acknowledged. A
//! record handed out but not acknowledged before a crash is handed out again after restart
//! (at-least-once) and counted as redelivered. A damaged record is skipped and reported; a
//! record cut short by a crash was never acknowledged to anyone and is ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::record::{read_payload, read_slot, Header, Slot, HEADER_LEN};

mod acklog;
use acklog::{read_acklog, ACK, ACKLOG_COMPACT_AT, ACK_ENTRY};

/// How the queue's capacity is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    /// Records not yet acknowledged.
    Records(u64),
    /// Items (spans, points, log records) not yet acknowledged.
    Items(u64),
    /// Bytes of segment files on disk.
    DiskBytes(u64),
}

/// Options of one log.
#[derive(Clone, Debug)]
pub struct WalOptions {
    /// `fsync` each append (and new segment files) before returning.
    pub fsync: bool,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// Refuse appends beyond this.
    pub capacity: Capacity,
}

/// Why the log could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// The queue is at capacity; retry later.
    #[error("persistent queue is full ({0})")]
    Full(String),
    /// This one record exceeds the whole capacity.
    #[error("request is larger than the persistent queue's whole capacity ({0})")]
    TooLarge(String),
    /// Another process holds the directory.
    #[error("queue directory {0} is in use by another process")]
    Locked(PathBuf),
    /// A file operation failed (disk full, permissions...).
    #[error("{context} {path}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

fn io_err<'a>(context: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WalError + 'a {
    move |source| WalError::Io { context, path: path.to_path_buf(), source }
}

/// A record read back for sending.
#[derive(Debug)]
pub struct Record {
    /// Its sequence number (pass it to [`Wal::ack`]).
    pub seq: u64,
    /// Items it holds, as given to `append`.
    pub items: u32,
    /// The bytes given to `append`.
    pub payload: Vec<u8>,
}

/// What the reader found next.
#[derive(Debug)]
pub enum Next {
    /// A record to send.
    Record(Record),
    /// Damaged bytes were skipped (already acknowledged, so they are not read again).
    Skipped(Damage),
    /// Nothing to read until the next append.
    Empty,
}

/// Damage found and skipped.
#[derive(Debug, Clone)]
pub struct Damage {
    /// The segment file.
    pub segment: PathBuf,
    /// Where the damage starts.
    pub offset: u64,
    /// Bytes skipped.
    pub bytes: u64,
    /// Items lost, when the header was intact (payload checksum mismatch).
    pub items: Option<u32>,
}

/// What `open` found on disk.
#[derive(Debug, Default, Clone)]
pub struct Recovered {
    /// Records waiting to be sent.
    pub records: u64,
    /// Their items.
    pub items: u64,
    /// Records that were being sent when the process stopped: sent again, maybe duplicates.
    pub redelivered_records: u64,
    /// Their items.
    pub redelivered_items: u64,
    /// Bytes at segment ends left by an interrupted write (never acknowledged to a client).
    pub torn_bytes: u64,
}

/// Current occupancy.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Records not yet acknowledged.
    pub records: u64,
    /// Their items.
    pub items: u64,
    /// Bytes of segment files.
    pub disk_bytes: u64,
}

struct Segment {
    path: PathBuf,
    /// Bytes of complete records (the file may hold a torn tail beyond).
    len: u64,
    /// Bytes the file takes (counted against a disk capacity).
    file_len: u64,
    /// Damage found when the log was opened: report it before deleting the segment.
    damaged: bool,
    /// No more appends; deletable once `outstanding` is 0.
    sealed: bool,
    /// Records not yet acknowledged (read or not).
    outstanding: u64,
}

struct State {
    segments: BTreeMap<u64, Segment>,
    /// The segment appends go to: (base seq, file).
    writer: Option<(u64, File)>,
    next_seq: u64,
    acklog: File,
    acklog_entries: u64,
    /// Bytes of whole entries in the ack log: a failed write is cut back to this.
    acklog_len: u64,
    /// Entries whose write failed (disk full), written before the next one.
    unlogged: Vec<u8>,
    /// Acknowledgements written since the last `fsync` of the ack log.
    acks_unsynced: bool,
    /// Acknowledged records in live segments (kept to rewrite the ack log).
    acked: BTreeSet<u64>,
    /// Handed out, not yet acknowledged.
    in_flight: BTreeSet<u64>,
    /// Reader position: segment base and offset, and that segment's open file.
    read_pos: Option<(u64, u64)>,
    read_file: Option<(u64, File)>,
    usage: Usage,
}

/// A persistent queue's log. All methods do blocking file I/O: call them from blocking
/// context when `fsync` is on.
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    state: Mutex<State>,
    _lock: File,
}

impl Wal {
    /// Opens (creating if needed) the log in `dir`, which it locks for this process.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, Recovered), WalError> {
        fs::create_dir_all(dir).map_err(io_err("cannot create queue directory", dir))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("cannot open", &lock_path))?;
        if lock.try_lock().is_err() {
            return Err(WalError::Locked(dir.to_path_buf()));
        }
        let acklog_path = dir.join("acks.log");
        let (acked_before, dispatched_before, max_acklog_seq) = read_acklog(&acklog_path)?;
        let mut rec = Recovered::default();
        let mut segments = BTreeMap::new();
        let mut usage = Usage::default();
        let mut acked = BTreeSet::new();
        let mut max_seq = max_acklog_seq;
        for (base, path) in list_segments(dir)? {
            let file = File::open(&path).map_err(io_err("cannot open", &path))?;
            let file_len = file.metadata().map_err(io_err("cannot stat", &path))?.len();
            let mut seg =
                Segment { path: path.clone(), len: file_len, file_len, damaged: false, sealed: true, outstanding: 0 };
            // New segments are named after their first seq: never reuse an existing name.
            max_seq = max_seq.max(Some(base));
            let mut offset = 0;
            while offset < file_len {
                match read_slot(&file, offset, file_len).map_err(io_err("cannot read", &path))? {
                    Slot::Record(h) => {
                        max_seq = max_seq.max(Some(h.seq));
                        if acked_before.contains(&h.seq) {
                            acked.insert(h.seq);
                        } else {
                            seg.outstanding += 1;
                            usage.records += 1;
                            usage.items += u64::from(h.items);
                            if dispatched_before.contains(&h.seq) {
                                rec.redelivered_records += 1;
                                rec.redelivered_items += u64::from(h.items);
                            }
                        }
                        offset += h.record_len();
                    }
                    Slot::Torn => {
                        rec.torn_bytes += file_len - offset;
                        seg.len = offset;
                        break;
                    }
                    // Reported when the reader reaches it.
                    Slot::Damaged { next } => {
                        seg.damaged = true;
                        match next {
                            Some(n) => offset = n,
                            None => break,
                        }
                    }
                }
            }
            usage.disk_bytes += file_len;
            segments.insert(base, seg);
        }
        rec.records = usage.records;
        rec.items = usage.items;
        let acklog = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&acklog_path)
            .map_err(io_err("cannot open", &acklog_path))?;
        let state = State {
            segments,
            writer: None,
            next_seq: max_seq.map_or(0, |s| s + 1),
            acklog,
            acklog_entries: u64::MAX, // forces a rewrite below
            acklog_len: 0,
            unlogged: Vec::new(),
            acks_unsynced: false,
            acked,
            in_flight: BTreeSet::new(),
            read_pos: None,
            read_file: None,
            usage,
        };
        let wal = Wal { dir: dir.to_path_buf(), opts, state: Mutex::new(state), _lock: lock };
        {
            let mut st = wal.lock();
            let done: Vec<u64> =
                st.segments.iter().filter(|(_, s)| s.outstanding == 0 && !s.damaged).map(|(b, _)| *b).collect();
            for base in done {
                wal.delete_segment(&mut st, base)?;
            }
            // Rewrite the ack log: entries of deleted segments go, and records handed out
            // before the restart are no longer in flight (they will be handed out again).
            // On a full disk the old log is kept, cut to whole entries.
            if let Err(e) = wal.rewrite_acklog(&mut st) {
                let len = st.acklog.metadata().map(|m| m.len()).unwrap_or(0) / ACK_ENTRY as u64 * ACK_ENTRY as u64;
                st.acklog.set_len(len).map_err(|_| e)?;
                st.acklog_len = len;
                st.acklog_entries = len / ACK_ENTRY as u64;
            }
        }
        Ok((wal, rec))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough state: files are the truth.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current occupancy.
    pub fn usage(&self) -> Usage {
        self.lock().usage
    }

    /// Records written and not yet handed out.
    pub fn unread(&self) -> u64 {
        let st = self.lock();
        st.usage.records.saturating_sub(st.in_flight.len() as u64)
    }

    /// The directory of this log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment being appended to, if any (tests simulate torn writes there).
    #[cfg(test)]
    pub(crate) fn writer_path(&self) -> Option<PathBuf> {
        let st = self.lock();
        st.writer.as_ref().and_then(|(b, _)| st.segments.get(b)).map(|s| s.path.clone())
    }

    /// A buffer to build a record in: [`HEADER_LEN`] reserved bytes, then append the payload.
    pub fn record_buffer(capacity: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(HEADER_LEN + capacity);
        buf.resize(HEADER_LEN, 0);
        buf
    }

    /// Appends a record built in a [`Wal::record_buffer`]; returns its sequence number once
    /// it is written (and synced with `fsync`).
    /// The header is written into the buffer's reserved bytes; the caller keeps the buffer,
    /// so a refused append can be tried again without rebuilding it.
    pub fn append(&self, items: u32, record: &mut [u8]) -> Result<u64, WalError> {
        let size = record.len() as u64;
        let payload_len = u32::try_from(record.len().saturating_sub(HEADER_LEN))
            .ok()
            .filter(|l| *l <= super::record::MAX_PAYLOAD)
            .ok_or_else(|| WalError::TooLarge(format!("{size} bytes")))?;
        let mut st = self.lock();
        self.check_capacity(&st.usage, items, size)?;
        let seq = st.next_seq;
        let h = Header { len: payload_len, seq, items, payload_crc: crc32fast::hash(&record[HEADER_LEN..]) };
        h.write(&mut record[..HEADER_LEN]);

        let mut retried = false;
        let base = loop {
            let needs_new = match &st.writer {
                None => true,
                Some((base, _)) => {
                    let len = st.segments.get(base).map_or(0, |s| s.len);
                    len > 0 && len + size > self.opts.segment_bytes
                }
            };
            if needs_new {
                self.new_writer(&mut st, seq)?;
            }
            let Some((base, file)) = &st.writer else { unreachable!("writer was just ensured") };
            let base = *base;
            let seg_len = st.segments.get(&base).map_or(0, |s| s.len);
            let written =
                file.write_all_at(record, seg_len)
                    .and_then(|()| if self.opts.fsync { file.sync_data() } else { Ok(()) });
            let Err(e) = written else { break base };
            // Cut off whatever part was written, so the segment stays readable.
            let _ = file.set_len(seg_len);
            // A full disk whose writer segment holds only delivered records: delete it to
            // free its space (it is kept while it drains, to save creating files) and try
            // once more in a new one.
            let drained = st.segments.get(&base).is_some_and(|s| s.outstanding == 0 && s.len > 0);
            if drained && !retried {
                retried = true;
                self.seal_writer(&mut st)?;
                continue;
            }
            let path = st.segments.get(&base).map(|s| s.path.clone()).unwrap_or_default();
            return Err(WalError::Io { context: "cannot write to segment", path, source: e });
        };
        if let Some(seg) = st.segments.get_mut(&base) {
            seg.len += size;
            seg.file_len += size;
            seg.outstanding += 1;
        }
        st.next_seq += 1;
        st.usage.records += 1;
        st.usage.items += u64::from(items);
        st.usage.disk_bytes += size;
        Ok(seq)
    }

    /// Seals the current writer segment and starts a new one whose first record is `seq`.
    fn new_writer(&self, st: &mut State, seq: u64) -> Result<(), WalError> {
        self.seal_writer(st)?;
        let path = self.dir.join(format!("{seq:020}.wal"));
        let file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .read(true)
            .open(&path)
            .map_err(io_err("cannot create segment", &path))?;
        if self.opts.fsync {
            File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io_err("cannot sync", &self.dir))?;
        }
        st.segments.insert(seq, Segment { path, len: 0, file_len: 0, damaged: false, sealed: false, outstanding: 0 });
        st.writer = Some((seq, file));
        Ok(())
    }

    fn check_capacity(&self, u: &Usage, items: u32, size: u64) -> Result<(), WalError> {
        let (used, need, cap, unit) = match self.opts.capacity {
            Capacity::Records(c) => (u.records, 1, c, "requests"),
            Capacity::Items(c) => (u.items, u64::from(items), c, "items"),
            Capacity::DiskBytes(c) => (u.disk_bytes, size, c, "bytes on disk"),
        };
        if need > cap {
            return Err(WalError::TooLarge(format!("{need} {unit}, capacity {cap}")));
        }
        if used + need > cap {
            return Err(WalError::Full(format!("{used} of {cap} {unit} used")));
        }
        Ok(())
    }

    fn seal_writer(&self, st: &mut State) -> Result<(), WalError> {
        if let Some((base, _)) = st.writer.take() {
            let done = st.segments.get_mut(&base).map(|s| {
                s.sealed = true;
                s.outstanding == 0
            });
            if done == Some(true) {
                self.delete_segment(st, base)?;
            }
        }
        Ok(())
    }

    /// The next record to send, damage skipped on the way, or [`Next::Empty`].
    pub fn next(&self) -> Result<Next, WalError> {
        self.next_unless_held(|_| false)
    }

    /// Like [`Wal::next`], but for a record whose sequence number `held` accepts, the
    /// payload is not read (the caller still has the data in memory) and comes back empty.
    pub fn next_unless_held(&self, held: impl Fn(u64) -> bool) -> Result<Next, WalError> {
        let mut guard = self.lock();
        let st = &mut *guard;
        loop {
            let (base, offset) = match st.read_pos {
                Some(p) if st.segments.contains_key(&p.0) => p,
                // Start, or the segment was deleted under the reader (all acknowledged): go on
                // with the next one.
                prev => match st.segments.range(prev.map_or(0, |p| p.0 + 1)..).next() {
                    Some((b, _)) => (*b, 0),
                    None => return Ok(Next::Empty),
                },
            };
            st.read_pos = Some((base, offset));
            let (len, sealed, path, outstanding) = {
                let s = &st.segments[&base];
                (s.len, s.sealed, s.path.clone(), s.outstanding)
            };
            if offset >= len {
                if !sealed {
                    return Ok(Next::Empty);
                }
                if outstanding == 0 {
                    // Only damage or acknowledged records were left in it.
                    self.delete_segment(st, base)?;
                }
                match st.segments.range(base + 1..).next() {
                    Some((b, _)) => {
                        st.read_pos = Some((*b, 0));
                        continue;
                    }
                    None => return Ok(Next::Empty),
                }
            }
            if st.read_file.as_ref().is_none_or(|(b, _)| *b != base) {
                let f = File::open(&path).map_err(io_err("cannot open", &path))?;
                st.read_file = Some((base, f));
            }
            let Some((_, file)) = &st.read_file else { unreachable!("read file was just opened") };
            match read_slot(file, offset, len).map_err(io_err("cannot read", &path))? {
                Slot::Record(h) => {
                    st.read_pos = Some((base, offset + h.record_len()));
                    if st.acked.contains(&h.seq) {
                        continue;
                    }
                    if held(h.seq) {
                        st.in_flight.insert(h.seq);
                        self.mark_dispatched(st, h.seq);
                        return Ok(Next::Record(Record { seq: h.seq, items: h.items, payload: Vec::new() }));
                    }
                    let payload = read_payload(file, offset, &h).map_err(io_err("cannot read", &path))?;
                    let Some(payload) = payload else {
                        // Acknowledge it so that it is not counted or reported again. A failed
                        // ack log write is retried with the next entry.
                        let _ = self.ack_locked(st, h.seq, h.items);
                        return Ok(Next::Skipped(Damage {
                            segment: path,
                            offset,
                            bytes: h.record_len(),
                            items: Some(h.items),
                        }));
                    };
                    st.in_flight.insert(h.seq);
                    self.mark_dispatched(st, h.seq);
                    return Ok(Next::Record(Record { seq: h.seq, items: h.items, payload }));
                }
                Slot::Torn => {
                    // Only a write cut short at the end of a segment; not data anyone was promised.
                    st.read_pos = Some((base, len));
                }
                Slot::Damaged { next } => {
                    let to = next.unwrap_or(len);
                    st.read_pos = Some((base, to));
                    return Ok(Next::Skipped(Damage { segment: path, offset, bytes: to - offset, items: None }));
                }
            }
        }
    }

    /// Marks a record done (sent, or dropped for good). Frees its segment when it was the last.
    /// The record is done in this process even when the error says the ack log could not be
    /// written (disk full): the entry is written with the next one, and until then a
    /// restart would send the record again (a duplicate, never a loss).
    pub fn ack(&self, seq: u64, items: u32) -> Result<(), WalError> {
        let mut st = self.lock();
        self.ack_locked(&mut st, seq, items)
    }

    fn ack_locked(&self, st: &mut State, seq: u64, items: u32) -> Result<(), WalError> {
        if !st.acked.insert(seq) {
            return Ok(());
        }
        st.in_flight.remove(&seq);
        let logged = self.log_entry(st, ACK, seq);
        st.usage.records = st.usage.records.saturating_sub(1);
        st.usage.items = st.usage.items.saturating_sub(u64::from(items));
        let Some((&base, seg)) = st.segments.range_mut(..=seq).next_back() else { return Ok(()) };
        seg.outstanding = seg.outstanding.saturating_sub(1);
        let (drained, len, damaged) = (seg.outstanding == 0, seg.len, seg.damaged);
        if drained {
            let is_writer = st.writer.as_ref().is_some_and(|(b, _)| *b == base);
            let unread_damage = damaged && st.read_pos.is_none_or(|(b, o)| b < base || (b == base && o < len));
            if unread_damage {
                // The reader deletes it once it has reported the damage.
            } else if !is_writer {
                self.delete_segment(st, base)?;
            } else if len >= self.opts.segment_bytes / 4 {
                // A drained writer segment of some size: start afresh so its space is freed.
                self.seal_writer(st)?;
            }
        }
        if logged.is_ok() && st.acklog_entries > ACKLOG_COMPACT_AT + 2 * (st.acked.len() + st.in_flight.len()) as u64 {
            self.rewrite_acklog(st)?;
        }
        logged
    }

    fn delete_segment(&self, st: &mut State, base: u64) -> Result<(), WalError> {
        let Some(seg) = st.segments.remove(&base) else { return Ok(()) };
        if st.read_file.as_ref().is_some_and(|(b, _)| *b == base) {
            st.read_file = None;
        }
        match fs::remove_file(&seg.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(WalError::Io { context: "cannot delete segment", path: seg.path, source: e }),
        }
        st.usage.disk_bytes = st.usage.disk_bytes.saturating_sub(seg.file_len);
        let end = st.segments.range(base + 1..).next().map_or(u64::MAX, |(b, _)| *b);
        let gone: Vec<u64> = st.acked.range(base..end).copied().collect();
        for s in gone {
            st.acked.remove(&s);
        }
        Ok(())
    }
}

impl Drop for Wal {
    /// With `fsync`, acknowledgements written since the last sync are synced on close, so
    /// a clean stop followed by a power loss resends nothing already delivered.
    fn drop(&mut self) {
        if self.opts.fsync {
            let _ = self.sync_acks();
        }
    }
}

/// `(base seq, path)` of every segment file, oldest first.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("cannot list", dir))? {
        let path = entry.map_err(io_err("cannot list", dir))?.path();
        let base = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(base) = base {
            out.push((base, path));
        }
    }
    out.sort();
    Ok(out)
}
