//! The write-ahead log against crashes, damage and full disks, including property tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use proptest::prelude::*;

use super::*;

fn opts(capacity: Capacity, segment_bytes: u64) -> WalOptions {
    WalOptions { fsync: false, segment_bytes, capacity }
}

fn payload(id: u32) -> Vec<u8> {
    // Varying sizes, content derived from the id so that mix-ups show.
    let len = 16 + (id as usize * 37) % 300;
    (0..len).map(|i| (id as usize + i) as u8).collect()
}

fn append(wal: &Wal, id: u32) -> Result<u64, WalError> {
    let mut buf = Wal::record_buffer(0);
    buf.extend_from_slice(&id.to_le_bytes());
    buf.extend_from_slice(&payload(id));
    wal.append(id % 7 + 1, &mut buf)
}

fn id_of(r: &Record) -> u32 {
    let id = u32::from_le_bytes([r.payload[0], r.payload[1], r.payload[2], r.payload[3]]);
    assert_eq!(&r.payload[4..], payload(id).as_slice(), "payload of record {id} came back different");
    id
}

/// Reads everything available; returns the records and the damage reported.
fn drain(wal: &Wal) -> (Vec<Record>, Vec<Damage>) {
    let (mut recs, mut damage) = (Vec::new(), Vec::new());
    for _ in 0..100_000 {
        match wal.next().expect("next") {
            Next::Record(r) => recs.push(r),
            Next::Skipped(d) => damage.push(d),
            Next::Empty => return (recs, damage),
        }
    }
    panic!("reader never ran dry");
}

fn segment_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    v.sort();
    v
}

/// Opens the log in `dir` with room for 1000 records.
fn open(dir: &Path, segment_bytes: u64) -> (Wal, Recovered) {
    Wal::open(dir, opts(Capacity::Records(1000), segment_bytes)).unwrap()
}

/// Writes records `0..n` into a fresh log in `dir`, closes it, and returns its one segment file.
fn one_segment_of(dir: &Path, n: u32) -> std::path::PathBuf {
    let (wal, _) = open(dir, 1 << 20);
    for id in 0..n {
        append(&wal, id).unwrap();
    }
    drop(wal);
    let segs = segment_files(dir);
    assert_eq!(segs.len(), 1, "{segs:?}");
    segs[0].clone()
}

#[test]
fn records_come_back_in_order_and_acked_segments_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, rec) = open(dir.path(), 1024);
    assert_eq!(rec.records, 0);
    for id in 0..40 {
        append(&wal, id).unwrap();
    }
    assert!(segment_files(dir.path()).len() > 3, "1 KiB segments should rotate");
    let (recs, damage) = drain(&wal);
    assert!(damage.is_empty());
    assert_eq!(recs.iter().map(id_of).collect::<Vec<_>>(), (0..40).collect::<Vec<_>>());
    for r in &recs {
        wal.ack(r.seq, r.items).unwrap();
    }
    assert_eq!(wal.usage().records, 0);
    assert!(segment_files(dir.path()).len() <= 1, "acknowledged segments must be deleted");
}

#[test]
fn restart_redelivers_unacked_and_counts_in_flight_as_redelivered() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (wal, _) = open(dir.path(), 4096);
        for id in 0..10 {
            append(&wal, id).unwrap();
        }
        let (recs, _) = drain(&wal);
        // 0..5 sent and acknowledged, 5..7 handed out but never acknowledged (crash).
        for r in &recs[..5] {
            wal.ack(r.seq, r.items).unwrap();
        }
    }
    let (wal, rec) = open(dir.path(), 4096);
    assert_eq!(rec.records, 5);
    assert_eq!(rec.redelivered_records, 5, "everything handed out and not acknowledged is redelivered");
    let (recs, _) = drain(&wal);
    assert_eq!(recs.iter().map(id_of).collect::<Vec<_>>(), vec![5, 6, 7, 8, 9]);
}

#[test]
fn a_flipped_byte_loses_one_record_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let seg = &one_segment_of(dir.path(), 20);
    let mut bytes = fs::read(seg).unwrap();
    // Find the 8th record and damage a payload byte.
    let mut off = 0usize;
    for _ in 0..7 {
        let len = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
        off += HEADER_LEN + len;
    }
    bytes[off + HEADER_LEN + 3] ^= 0xff;
    fs::write(seg, &bytes).unwrap();

    let (wal, rec) = open(dir.path(), 1 << 20);
    assert_eq!(rec.records, 20, "the header is intact, so the damaged record is still counted until read");
    let (recs, damage) = drain(&wal);
    let ids: Vec<u32> = recs.iter().map(id_of).collect();
    assert_eq!(ids, (0..20).filter(|i| *i != 7).collect::<Vec<_>>());
    assert_eq!(damage.len(), 1);
    assert_eq!(damage[0].items, Some(1), "record 7 holds 7 % 7 + 1 items");
    drop(wal);
    // Reported once: after another restart the damaged record is gone for good.
    let (wal, rec) = open(dir.path(), 1 << 20);
    assert_eq!(rec.records, 19);
    let (_, damage) = drain(&wal);
    assert!(damage.is_empty());
}

#[test]
fn a_damaged_header_skips_to_the_next_good_record() {
    let dir = tempfile::tempdir().unwrap();
    let seg = &one_segment_of(dir.path(), 10);
    let mut bytes = fs::read(seg).unwrap();
    let len0 = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    bytes[HEADER_LEN + len0 + 5] ^= 0x01; // length field of record 1
    fs::write(seg, &bytes).unwrap();
    let (wal, _) = open(dir.path(), 1 << 20);
    let (recs, damage) = drain(&wal);
    assert_eq!(recs.iter().map(id_of).collect::<Vec<_>>(), vec![0, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(damage.len(), 1);
    assert_eq!(damage[0].items, None);
}

#[test]
fn a_torn_tail_is_ignored_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let seg = &one_segment_of(dir.path(), 5);
    let mut bytes = fs::read(seg).unwrap();
    let cut = bytes.len() - 10;
    bytes.truncate(cut); // the last write was cut short: never acknowledged to anyone
    fs::write(seg, &bytes).unwrap();
    let (wal, rec) = open(dir.path(), 1 << 20);
    assert_eq!(rec.records, 4);
    assert!(rec.torn_bytes > 0);
    append(&wal, 99).unwrap();
    let (recs, damage) = drain(&wal);
    assert!(damage.is_empty(), "a torn tail is not damage: {damage:?}");
    assert_eq!(recs.iter().map(id_of).collect::<Vec<_>>(), vec![0, 1, 2, 3, 99]);
}

#[test]
fn capacity_refuses_clearly_and_recovers_when_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), opts(Capacity::DiskBytes(4096), 1024)).unwrap();
    let mut n = 0;
    let err = loop {
        match append(&wal, n) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
        assert!(n < 1000);
    };
    assert!(matches!(err, WalError::Full(_)), "{err}");
    assert!(err.to_string().contains("persistent queue is full"), "{err}");
    assert!(wal.usage().disk_bytes <= 4096);
    let (recs, _) = drain(&wal);
    for r in &recs {
        wal.ack(r.seq, r.items).unwrap();
    }
    append(&wal, 1000).expect("room again once acknowledged");
    let mut big = Wal::record_buffer(0);
    big.resize(5000, 1);
    assert!(matches!(wal.append(1, &mut big), Err(WalError::TooLarge(_))));
}

#[test]
fn a_second_process_cannot_open_the_same_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (_wal, _) = Wal::open(dir.path(), opts(Capacity::Records(10), 1024)).unwrap();
    assert!(matches!(Wal::open(dir.path(), opts(Capacity::Records(10), 1024)), Err(WalError::Locked(_))));
}

#[test]
fn queue_names_escape_like_the_collector() {
    assert_eq!(queue_name("exporter", "otlp", "", "traces"), "exporter_otlp__traces");
    assert_eq!(queue_name("exporter", "otlp", "a/b c", "logs"), "exporter_otlp_a~002Fb~0020c_logs");
}

#[derive(Clone, Debug)]
enum Op {
    Append,
    /// Hand out the next record.
    Next,
    /// Acknowledge the i-th (mod len) record handed out and not yet acknowledged.
    Ack(usize),
    /// Drop the log without any cleanup and open it again (what `kill -9` leaves is the same:
    /// every completed write is in the files).
    Restart,
    /// A crash mid-append: garbage half-record at the end of the newest segment, then reopen.
    TornRestart(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Append),
        3 => Just(Op::Next),
        3 => (0usize..64).prop_map(Op::Ack),
        1 => Just(Op::Restart),
        1 => any::<u8>().prop_map(Op::TornRestart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the sequence of appends, reads, acknowledgements, restarts and crashes,
    /// every appended record that was not acknowledged is still delivered, exactly as
    /// written, and nothing acknowledged comes back.
    #[test]
    fn nothing_appended_is_lost(ops in proptest::collection::vec(op(), 1..120), segment in 200u64..2000) {
        let dir = tempfile::tempdir().unwrap();
        let o = opts(Capacity::Records(100_000), segment);
        let (mut wal, _) = Wal::open(dir.path(), o.clone()).unwrap();
        let mut next_id = 0u32;
        let mut pending: BTreeSet<u32> = BTreeSet::new(); // appended, not acknowledged
        let mut handed: BTreeMap<u32, (u64, u32)> = BTreeMap::new(); // id -> (seq, items)
        for op in ops {
            match op {
                Op::Append => {
                    append(&wal, next_id).unwrap();
                    pending.insert(next_id);
                    next_id += 1;

                }
                Op::Next => {
                    if let Next::Record(r) = wal.next().unwrap() {
                        let id = id_of(&r);
                        prop_assert!(pending.contains(&id), "record {} came back after its ack", id);
                        prop_assert!(handed.insert(id, (r.seq, r.items)).is_none(), "record {} handed out twice", id);
                    }
                }
                Op::Ack(i) => {
                    if !handed.is_empty() {
                        let id = *handed.keys().nth(i % handed.len()).unwrap();
                        let (seq, items) = handed.remove(&id).unwrap();
                        wal.ack(seq, items).unwrap();
                        pending.remove(&id);
                    }
                }
                Op::Restart | Op::TornRestart(_) => {
                    // A write can only be cut short in the segment being appended to.
                    let writer = wal.writer_path();
                    drop(wal);
                    if let (Op::TornRestart(n), Some(last)) = (&op, writer) {
                        let n = *n;
                        {
                            // The prefix of a real record, as a write cut short leaves it.
                            let body = payload(u32::from(n));
                            let h = super::record::Header {
                                len: body.len() as u32,
                                seq: 1 << 40,
                                items: 1,
                                payload_crc: crc32fast::hash(&body),
                            };
                            let mut rec = vec![0u8; HEADER_LEN];
                            h.write(&mut rec);
                            rec.extend_from_slice(&body);
                            rec.truncate(1 + n as usize % (rec.len() - 1));
                            let mut f = fs::OpenOptions::new().append(true).open(last).unwrap();
                            std::io::Write::write_all(&mut f, &rec).unwrap();
                        }
                    }
                    let (w, rec) = Wal::open(dir.path(), o.clone()).unwrap();
                    prop_assert_eq!(rec.records, pending.len() as u64);
                    prop_assert_eq!(rec.redelivered_records, handed.len() as u64);
                    wal = w;
                    handed.clear();

                }
            }
        }
        let (recs, damage) = drain(&wal);
        prop_assert!(damage.is_empty(), "unexpected damage: {:?}", damage);
        let mut got: BTreeSet<u32> = recs.iter().map(id_of).collect();
        got.extend(handed.keys());
        prop_assert_eq!(got, pending);
    }
}
