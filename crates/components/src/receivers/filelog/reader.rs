//! The file tracker (the Collector's `fileconsumer`): each poll matches the globs, opens
//! the files, tells them apart by fingerprint (their first `fingerprint_size` bytes, so a
//! renamed file keeps its offset and a truncated or recreated one starts over) and reads
//! complete records from each file's offset. Offsets advance only when the caller commits
//! a poll's records, after the pipeline accepted them.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::checkpoint::Known;
use super::glob::Pattern;
use super::split::Splitter;

/// Bytes read from one file per poll; a file with more waits for the next poll.
pub const READ_BUDGET: usize = 4 << 20;

/// Polls a file may stay unmatched before it is forgotten (it may come back: a rename
/// out of and into the glob).
const ARCHIVE_POLLS: u32 = 3;

/// One record read from a file.
#[derive(Debug)]
pub struct Record {
    /// The text.
    pub text: String,
    /// Index into the poll's file list (for the file attributes).
    pub file: usize,
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// 1-based record number in the file.
    pub number: u64,
}

/// A file being followed.
struct Tracked {
    path: PathBuf,
    file: File,
    fingerprint: Vec<u8>,
    /// Next byte to read, as committed.
    offset: u64,
    records: u64,
    /// After the records handed out by the last poll (committed on success).
    pending: Option<(u64, u64)>,
    /// When the unterminated tail at `offset` was first seen, and the size then.
    tail_since: Option<(Instant, u64)>,
    unseen: u32,
    matched: bool,
    /// Device and inode: a file rewritten in place (copytruncate, then new lines) has a
    /// new fingerprint but is the same file, whose old handle must not be read as a
    /// rotated-away file.
    inode: (u64, u64),
}

#[cfg(unix)]
fn inode(f: &File) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    f.metadata().map(|m| (m.dev(), m.ino())).unwrap_or((0, 0))
}

#[cfg(not(unix))]
fn inode(_f: &File) -> (u64, u64) {
    (0, 0)
}

/// What the caller needs to describe a file in records.
#[derive(Clone, Debug)]
pub struct FileInfo {
    /// The path matched.
    pub path: PathBuf,
}

/// The result of one poll.
#[derive(Default)]
pub struct Poll {
    /// Files records came from.
    pub files: Vec<FileInfo>,
    /// Records, file by file, in file order.
    pub records: Vec<Record>,
    /// Paths that could not be opened this poll (reported once each).
    pub unreadable: Vec<(PathBuf, std::io::Error)>,
    /// True when some file had more than the read budget.
    pub more: bool,
}

/// The tracker of one receiver.
pub struct Tracker {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
    fingerprint_size: usize,
    from_beginning: bool,
    flush_after: Duration,
    max_files: usize,
    delete_after_read: bool,
    splitter: Splitter,
    tracked: Vec<Tracked>,
    /// Offsets known from a checkpoint, not matched to an open file yet.
    known: Vec<Known>,
    first_poll: bool,
    warned: HashSet<PathBuf>,
}

fn fingerprint(f: &mut File, n: usize) -> std::io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::with_capacity(n);
    f.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Same file: one fingerprint starts with the other (the file grew, or was rewritten
/// from the start with the same first bytes).
fn same(a: &[u8], b: &[u8]) -> bool {
    !a.is_empty() && !b.is_empty() && (a.starts_with(b) || b.starts_with(a))
}

/// Settings of a [`Tracker`].
pub struct TrackerOptions {
    /// include globs.
    pub include: Vec<Pattern>,
    /// exclude globs.
    pub exclude: Vec<Pattern>,
    /// fingerprint_size.
    pub fingerprint_size: usize,
    /// start_at: beginning.
    pub from_beginning: bool,
    /// force_flush_period (zero: never).
    pub flush_after: Duration,
    /// max_concurrent_files.
    pub max_files: usize,
    /// delete_after_read.
    pub delete_after_read: bool,
}

impl Tracker {
    /// A tracker that knows the offsets of `known` (from a checkpoint).
    pub fn new(o: TrackerOptions, splitter: Splitter, known: Vec<Known>) -> Tracker {
        Tracker {
            include: o.include,
            exclude: o.exclude,
            fingerprint_size: o.fingerprint_size,
            from_beginning: o.from_beginning,
            flush_after: o.flush_after,
            max_files: o.max_files.max(1),
            delete_after_read: o.delete_after_read,
            splitter,
            tracked: Vec::new(),
            known,
            first_poll: true,
            warned: HashSet::new(),
        }
    }

    fn matching_paths(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.include.iter().flat_map(Pattern::find).collect();
        v.sort();
        v.dedup();
        v.retain(|p| !self.exclude.iter().any(|x| x.matches(p)));
        v.truncate(self.max_files);
        v
    }

    /// Matches the globs and reads what is new. Records are not committed yet: call
    /// [`Tracker::commit`] once they are accepted, or [`Tracker::rollback`].
    pub fn poll(&mut self, now: Instant) -> Poll {
        let mut poll = Poll::default();
        for t in &mut self.tracked {
            t.matched = false;
        }
        for path in self.matching_paths() {
            let mut file = match File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    if self.warned.insert(path.clone()) {
                        poll.unreadable.push((path, e));
                    }
                    continue;
                }
            };
            self.warned.remove(&path);
            let fp = match fingerprint(&mut file, self.fingerprint_size) {
                Ok(fp) if !fp.is_empty() => fp,
                _ => continue,
            };
            let ino = inode(&file);
            if let Some(t) = self.tracked.iter_mut().find(|t| !t.matched && same(&t.fingerprint, &fp)) {
                if fp.len() > t.fingerprint.len() {
                    t.fingerprint = fp;
                }
                t.path = path;
                t.file = file;
                t.matched = true;
                t.unseen = 0;
                t.inode = ino;
                continue;
            }
            if let Some(t) = self.tracked.iter_mut().find(|t| !t.matched && ino != (0, 0) && t.inode == ino) {
                // Same file, new first bytes: truncated and written again. Start over.
                t.fingerprint = fp;
                t.path = path;
                t.file = file;
                t.matched = true;
                t.unseen = 0;
                t.offset = 0;
                t.records = 0;
                t.tail_since = None;
                continue;
            }
            let (offset, records) = match self.known.iter().position(|k| same(&k.fingerprint, &fp)) {
                Some(i) => {
                    let k = self.known.swap_remove(i);
                    (k.offset, k.records)
                }
                None if self.first_poll && !self.from_beginning => (file.metadata().map(|m| m.len()).unwrap_or(0), 0),
                None => (0, 0),
            };
            self.tracked.push(Tracked {
                path,
                file,
                fingerprint: fp,
                offset,
                records,
                pending: None,
                tail_since: None,
                unseen: 0,
                matched: true,
                inode: ino,
            });
        }
        if self.first_poll {
            // Checkpointed files not found at the first poll are gone; forget them, as the
            // Collector forgets known files after a few polls.
            self.known.clear();
        }
        self.first_poll = false;
        for i in 0..self.tracked.len() {
            // A file no longer matched (rotated away, deleted) is read to its end through
            // the handle still open, so lines written just before the rename are kept.
            let gone = !self.tracked[i].matched;
            let file = poll.files.len();
            let (records, more) = self.read(i, now, gone);
            if !records.is_empty() {
                poll.files.push(FileInfo { path: self.tracked[i].path.clone() });
                poll.records.extend(records.into_iter().map(|mut r| {
                    r.file = file;
                    r
                }));
            }
            poll.more |= more;
        }
        poll
    }

    fn read(&mut self, i: usize, now: Instant, gone: bool) -> (Vec<Record>, bool) {
        let flush_after = self.flush_after;
        let t = &mut self.tracked[i];
        let size = t.file.metadata().map(|m| m.len()).unwrap_or(0);
        if size < t.offset {
            // Truncated in place (copytruncate): start over.
            t.offset = 0;
            t.records = 0;
            t.tail_since = None;
        }
        if size == t.offset {
            return (Vec::new(), false);
        }
        let want = usize::try_from(size - t.offset).unwrap_or(usize::MAX).min(READ_BUDGET);
        let mut buf = Vec::with_capacity(want);
        let read =
            t.file.seek(SeekFrom::Start(t.offset)).and_then(|_| (&mut t.file).take(want as u64).read_to_end(&mut buf));
        if let Err(e) = read {
            tracing::warn!(path = %t.path.display(), error = %e, "Cannot read a log file.");
            return (Vec::new(), false);
        }
        let more = (buf.len() as u64) < size - t.offset;
        // The tail is flushed once the file has not grown for force_flush_period.
        let tail = t.tail_since;
        let flush = match tail {
            _ if gone => true,
            Some((since, s)) if s == size => !flush_after.is_zero() && now.duration_since(since) >= flush_after,
            _ => {
                t.tail_since = Some((now, size));
                false
            }
        };
        let (tokens, consumed) = self.splitter.split(&buf, flush && !more);
        let t = &mut self.tracked[i];
        let mut records = Vec::with_capacity(tokens.len());
        let mut n = t.records;
        for tok in tokens {
            let text = self.splitter.decode(&buf[tok.start..tok.end]);
            if text.is_empty() {
                continue;
            }
            n += 1;
            records.push(Record { text, file: 0, offset: t.offset + tok.start as u64, number: n });
        }
        t.pending = Some((t.offset + consumed as u64, n));
        (records, more)
    }

    /// The last poll's records were accepted: advance offsets, forget files gone for a
    /// while, delete files read to the end if `delete_after_read`.
    pub fn commit(&mut self) {
        let delete = self.delete_after_read;
        for t in &mut self.tracked {
            if let Some((off, n)) = t.pending.take() {
                if off != t.offset {
                    t.tail_since = None;
                }
                t.offset = off;
                t.records = n;
            }
            if !t.matched {
                t.unseen += 1;
            }
        }
        if delete {
            self.tracked.retain(|t| {
                let done = t.file.metadata().is_ok_and(|m| m.len() == t.offset);
                if done && t.matched {
                    if let Err(e) = std::fs::remove_file(&t.path) {
                        tracing::warn!(path = %t.path.display(), error = %e, "Cannot delete a file read to its end.");
                    }
                    return false;
                }
                true
            });
        }
        self.tracked.retain(|t| t.unseen <= ARCHIVE_POLLS);
    }

    /// The last poll's records were refused: they are read again next poll.
    pub fn rollback(&mut self) {
        for t in &mut self.tracked {
            t.pending = None;
        }
    }

    /// What to checkpoint: every followed file's committed offset, and checkpointed
    /// offsets not matched yet.
    pub fn known(&self) -> Vec<Known> {
        let mut v: Vec<Known> = self
            .tracked
            .iter()
            .map(|t| Known {
                fingerprint: t.fingerprint.clone(),
                offset: t.offset,
                records: t.records,
                path: t.path.to_string_lossy().into_owned(),
            })
            .collect();
        v.extend(self.known.iter().cloned());
        v
    }

    /// Files followed now.
    pub fn open_files(&self) -> usize {
        self.tracked.len()
    }
}

/// The path as a file name (for `log.file.name`).
pub fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
