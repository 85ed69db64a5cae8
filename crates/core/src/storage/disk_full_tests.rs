//! The write-ahead log on a real full disk: a 1 MiB tmpfs mounted by the test. Needs
//! root (CI runs as root); where `mount` is not permitted the test says so and skips.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// A tmpfs mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn record(id: u32, len: usize) -> Vec<u8> {
    let mut buf = Wal::record_buffer(len);
    buf.extend_from_slice(&id.to_le_bytes());
    buf.extend((0..len).map(|i| (id as usize * 31 + i) as u8));
    buf
}

fn id_checked(r: &Record, len: usize) -> u32 {
    let id = u32::from_le_bytes([r.payload[0], r.payload[1], r.payload[2], r.payload[3]]);
    let want: Vec<u8> = (0..len).map(|i| (id as usize * 31 + i) as u8).collect();
    assert_eq!(&r.payload[4..], want.as_slice(), "record {id} came back different");
    id
}

fn is_enospc(e: &WalError) -> bool {
    matches!(e, WalError::Io { source, .. } if source.raw_os_error() == Some(28))
}

/// Fills what is left of the disk; returns the filler's path (delete it to give the space back).
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = fs::File::create(&path).expect("filler");
    let chunk = [0u8; 4096];
    for _ in 0..100_000 {
        if f.write(&chunk).map_or(true, |n| n == 0) {
            break;
        }
    }
    // Byte by byte up to the very end, so even a 9-byte append needs space.
    for _ in 0..4096 {
        if f.write(&[0u8]).map_or(true, |n| n == 0) {
            break;
        }
    }
    path
}

#[test]
fn a_full_disk_refuses_appends_keeps_everything_and_resumes() {
    let disk = match SmallDisk::mount("1m") {
        Ok(d) => d,
        Err(why) => {
            eprintln!("SKIPPED a_full_disk_refuses_appends_keeps_everything_and_resumes: cannot mount a tmpfs here ({why}); it needs root");
            return;
        }
    };
    let dir = disk.path().join("queue");
    fs::create_dir(&dir).expect("queue dir");
    let opts = WalOptions { fsync: true, segment_bytes: 128 << 10, capacity: Capacity::Records(10_000) };
    const LEN: usize = 20_000;

    // Appends until the disk is full: the one that hits ENOSPC is refused with the OS
    // error (the exporter answers it retryably), and nothing before it is harmed.
    let (wal, _) = Wal::open(&dir, opts.clone()).expect("open");
    let mut appended = 0u32;
    let err = loop {
        match wal.append(1, &mut record(appended, LEN)) {
            Ok(_) => appended += 1,
            Err(e) => break e,
        }
        assert!(appended < 1000, "a 1 MiB disk never filled up");
    };
    assert!(is_enospc(&err), "the refusal carries the OS error: {err}");
    assert!(err.to_string().contains("No space left on device"), "{err}");
    assert!(appended >= 30, "most of the disk was used: {appended} records");
    assert_eq!(wal.usage().records, u64::from(appended), "the refused append is not counted");

    // Deliver a few while the disk is completely full: the acknowledgements cannot be
    // written yet, but the records are done (room is freed in memory).
    let filler = fill(disk.path());
    let mut delivered = Vec::new();
    let mut ack_errors = 0;
    for _ in 0..3 {
        let Next::Record(r) = wal.next().expect("read on a full disk") else { panic!("a record") };
        assert_eq!(id_checked(&r, LEN), delivered.len() as u32, "in order");
        if wal.ack(r.seq, r.items).is_err() {
            ack_errors += 1;
        }
        delivered.push(r.seq);
    }
    assert!(ack_errors > 0, "with no byte left, an ack log write fails");
    assert_eq!(wal.usage().records, u64::from(appended) - 3);
    assert!(wal.append(1, &mut record(9_999, LEN)).is_err(), "still full");

    // Space comes back (the filler goes, and delivering the rest of the first segment
    // deletes it): appends resume, and the next acknowledgements carry the ones that could
    // not be written.
    fs::remove_file(&filler).expect("free the space");
    for id in 3..6 {
        let Next::Record(r) = wal.next().expect("next") else { panic!("a record") };
        assert_eq!(id_checked(&r, LEN), id);
        wal.ack(r.seq, r.items).expect("ack log writable again");
        delivered.push(r.seq);
    }
    wal.append(1, &mut record(appended, LEN)).expect("appends resume when space returns");
    appended += 1;
    drop(wal);

    // After a restart: the six delivered records stay delivered, every other one comes
    // back whole, in order, with no damage and no torn bytes.
    let (wal, rec) = Wal::open(&dir, opts).expect("reopen");
    assert_eq!(rec.records, u64::from(appended) - 6, "{rec:?}");
    assert_eq!(rec.torn_bytes, 0, "the refused append was cut off: {rec:?}");
    let mut next_id = 6;
    for _ in 0..10_000 {
        match wal.next().expect("next") {
            Next::Record(r) => {
                assert_eq!(id_checked(&r, LEN), next_id);
                next_id += 1;
            }
            Next::Skipped(d) => panic!("damage after a full disk: {d:?}"),
            Next::Empty => break,
        }
    }
    assert_eq!(next_id, appended, "every record not delivered came back");
}

/// With segments larger than the disk, everything sits in the writer segment: once it is
/// all delivered, the append that finds the disk full frees that segment and goes through.
#[test]
fn a_drained_writer_segment_is_freed_for_the_append_that_finds_the_disk_full() {
    let Ok(disk) = SmallDisk::mount("1m").map_err(|why| {
        eprintln!("SKIPPED a_drained_writer_segment_is_freed...: cannot mount a tmpfs here ({why}); it needs root")
    }) else {
        return;
    };
    let opts = WalOptions { fsync: false, segment_bytes: 64 << 20, capacity: Capacity::Records(10_000) };
    let (wal, _) = Wal::open(disk.path(), opts).expect("open");
    const LEN: usize = 20_000;
    let mut appended = 0u32;
    while wal.append(1, &mut record(appended, LEN)).is_ok() {
        appended += 1;
        assert!(appended < 1000, "a 1 MiB disk never filled up");
    }
    for id in 0..appended {
        let Next::Record(r) = wal.next().expect("next") else { panic!("a record") };
        assert_eq!(id_checked(&r, LEN), id);
        wal.ack(r.seq, r.items).expect("ack");
    }
    wal.append(1, &mut record(appended, LEN)).expect("the drained segment made room");
    let Next::Record(r) = wal.next().expect("next") else { panic!("the new record") };
    assert_eq!(id_checked(&r, LEN), appended);
}
