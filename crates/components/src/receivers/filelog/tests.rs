//! Config and tracker tests: defaults, errors, and rotation / truncation / restart
//! against real files in a temporary directory.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use switchyard_core::component::ComponentConfig;

use super::*;

fn config(yaml: &str) -> Result<FileLogReceiverConfig, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "receivers::filelog").map_err(|e| e.to_string())
}

#[test]
fn defaults_are_the_collectors() {
    let c = config("include: [/x/*.log]\n").unwrap();
    assert_eq!(c.start_at, "end");
    assert!(c.include_file_name && !c.include_file_path);
    assert_eq!(c.poll_interval, Duration::from_millis(200));
    assert_eq!(c.max_log_size, 1 << 20);
    assert_eq!(c.fingerprint_size, 1000);
    assert_eq!(c.force_flush_period, Duration::from_millis(500));
    assert_eq!(c.encoding(), Encoding::Utf8);
    assert!(c.validate().is_empty());
}

#[test]
fn durations_sizes_and_public_config_fields() {
    let c = config(
        "include: [/x/*.log]\nforce_flush_period: 0\npoll_interval: 1s\nmax_log_size: 2MiB\nfingerprint_size: 1kb\n\
         storage: file_storage/x\nretry_on_failure: {enabled: true, max_elapsed_time: 0}\nstart_at: beginning\n",
    )
    .unwrap();
    assert_eq!(c.force_flush_period, Duration::ZERO);
    assert_eq!(c.poll_interval, Duration::from_secs(1));
    assert_eq!(c.max_log_size, 2 << 20);
    assert_eq!(c.fingerprint_size, 1000);
    assert_eq!(c.storage.as_deref(), Some("file_storage/x"));
    assert!(c.from_beginning());
}

#[test]
fn mistakes_are_reported() {
    let e = config("include: [/x]\ninclude_file_paht: true\n").unwrap_err();
    assert!(e.contains("include_file_path"), "{e}");
    let c = config("start_at: middle\nencoding: ebcdic\n").unwrap();
    let errs: Vec<String> = c.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(errs, vec!["include", "start_at", "encoding"]);
    let c = config("include: [/x]\noperators: [{type: move, from: body}]\n");
    assert!(c.is_err(), "move without `to`");
    let c = config("include: [/x]\nmultiline: {line_start_pattern: '('}\n").unwrap();
    assert_eq!(c.validate()[0].field, "multiline");
}

fn tracker(dir: &Path, from_beginning: bool, known: Vec<Known>) -> Tracker {
    let cfg = FileLogReceiverConfig::default();
    Tracker::new(
        TrackerOptions {
            include: vec![Pattern::new(&format!("{}/*.log", dir.display())).unwrap()],
            exclude: vec![Pattern::new(&format!("{}/skip*.log", dir.display())).unwrap()],
            fingerprint_size: 1000,
            from_beginning,
            flush_after: Duration::from_millis(500),
            max_files: 100,
            delete_after_read: false,
        },
        Splitter::new(&cfg).unwrap(),
        known,
    )
}

fn append(p: &Path, s: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
    f.write_all(s.as_bytes()).unwrap();
}

fn lines(t: &mut Tracker, now: Instant) -> Vec<String> {
    let p = t.poll(now);
    t.commit();
    p.records.into_iter().map(|r| r.text).collect()
}

#[test]
fn start_at_end_then_new_lines_and_partial_flush() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.log");
    append(&a, "old 1\n");
    append(&d.path().join("skip.log"), "excluded\n");
    let mut t = tracker(d.path(), false, vec![]);
    let now = Instant::now();
    assert!(lines(&mut t, now).is_empty(), "start_at: end skips what is there");
    append(&a, "new 1\nnew 2\npart");
    assert_eq!(lines(&mut t, now), vec!["new 1", "new 2"]);
    assert!(lines(&mut t, now + Duration::from_millis(100)).is_empty(), "partial line waits");
    assert_eq!(lines(&mut t, now + Duration::from_millis(700)), vec!["part"], "then is flushed");
    append(&d.path().join("b.log"), "b first\n");
    assert_eq!(lines(&mut t, now), vec!["b first"], "files appearing later are read from the start");
}

#[test]
fn rotation_truncation_and_restart_from_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.log");
    append(&a, "alpha 1\n");
    let mut t = tracker(d.path(), true, vec![]);
    let now = Instant::now();
    assert_eq!(lines(&mut t, now), vec!["alpha 1"]);
    // Rename rotation: the last lines of the old file are still read.
    append(&a, "alpha 2\n");
    std::fs::rename(&a, d.path().join("a.log.1")).unwrap();
    append(&a, "bravo 1\n");
    let mut got = lines(&mut t, now);
    got.sort();
    assert_eq!(got, vec!["alpha 2", "bravo 1"]);
    // copytruncate: the file starts over.
    std::fs::write(&a, "").unwrap();
    append(&a, "charlie 1\n");
    assert_eq!(lines(&mut t, now), vec!["charlie 1"]);
    // Refused: read again.
    append(&a, "charlie 2\n");
    let p = t.poll(now);
    assert_eq!(p.records.len(), 1);
    t.rollback();
    assert_eq!(lines(&mut t, now), vec!["charlie 2"]);
    // Restart from the saved offsets.
    let c = Checkpoint::new(d.path(), "", false);
    c.save(&t.known()).unwrap();
    append(&a, "charlie 3\n");
    let mut t2 = tracker(d.path(), true, c.load().unwrap());
    assert_eq!(lines(&mut t2, now), vec!["charlie 3"]);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_reported_once_and_others_flow() {
    let d = tempfile::tempdir().unwrap();
    // A dangling symlink (a container log link whose pod is gone) fails to open even for root.
    std::os::unix::fs::symlink(d.path().join("gone/0.log"), d.path().join("broken.log")).unwrap();
    append(&d.path().join("ok.log"), "fine\n");
    let mut t = tracker(d.path(), true, vec![]);
    let p = t.poll(Instant::now());
    assert_eq!(p.unreadable.len(), 1);
    assert_eq!(p.records.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), vec!["fine"]);
    t.commit();
    assert!(t.poll(Instant::now()).unreadable.is_empty(), "reported once");
}

#[test]
fn records_become_log_records_with_file_attributes_and_operators() {
    use switchyard_pdata::SignalData;
    let cfg = config(
        "include: [/x/*.log]\ninclude_file_path: true\ninclude_file_record_number: true\n\
         attributes: {team: core}\nresource: {service.name: svc}\n\
         operators:\n  - type: regex_parser\n    regex: '^(?P<level>\\w+) (?P<msg>.*)$'\n    \
         severity: {parse_from: attributes.level}\n  - type: move\n    from: attributes.msg\n    to: body\n",
    )
    .unwrap();
    let mut pipeline = crate::stanza::build(&cfg.operators).unwrap();
    let poll = Poll {
        files: vec![reader::FileInfo { path: "/x/app.log".into() }],
        records: vec![Record { text: "WARN disk almost full".into(), file: 0, offset: 0, number: 1 }],
        unreadable: vec![],
        more: false,
    };
    let entries = emit::entries(&cfg, &poll, &mut pipeline);
    let logs = emit::to_logs(entries);
    assert_eq!(logs.item_count(), 1);
    let rl = &logs.request().resource_logs[0];
    let res = rl.resource.as_ref().unwrap();
    assert_eq!(switchyard_pdata::attrs::get_str(&res.attributes, "service.name"), Some("svc"));
    let r = &rl.scope_logs[0].log_records[0];
    assert_eq!(switchyard_pdata::value::as_string(r.body.as_ref().unwrap()), "disk almost full");
    assert_eq!((r.severity_number, r.severity_text.as_str()), (13, "WARN"));
    assert!(r.observed_time_unix_nano > 0);
    for (k, v) in [("log.file.name", "app.log"), ("log.file.path", "/x/app.log"), ("team", "core"), ("level", "WARN")] {
        assert_eq!(switchyard_pdata::attrs::get_str(&r.attributes, k), Some(v), "{k}");
    }
    assert_eq!(switchyard_pdata::attrs::get_int(&r.attributes, "log.file.record_number"), Some(1));
}
