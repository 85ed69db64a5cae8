//! The `filelog` receiver end to end with the release binary: files written and appended
//! while the gateway runs, a rename rotation, a copytruncate, an unreadable file, and a
//! kill -9 with restart from the file_storage checkpoint. Every line must reach the OTLP
//! sink exactly once (no loss, no repeat), parsed by the configured operators.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use support::{items_of, wait_until, Gateway, Sink};

fn config(dir: &Path, sink: &Sink) -> String {
    format!(
        r#"
receivers:
  filelog:
    include: [{logs}/*.log]
    exclude: [{logs}/ignored*.log]
    start_at: beginning
    include_file_path: true
    storage: file_storage
    operators:
      - type: regex_parser
        regex: '^(?P<seq>\d+) (?P<msg>.*)$'
      - type: move
        from: attributes.msg
        to: body
      - type: add
        field: resource["service.name"]
        value: filelog-e2e
extensions:
  file_storage:
    directory: {storage}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
    sending_queue: {{enabled: false}}
service:
  extensions: [file_storage]
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [otlp]
"#,
        logs = dir.join("logs").display(),
        storage = dir.join("storage").display(),
        sink = sink.grpc_endpoint(),
    )
}

fn append(p: &Path, seqs: impl IntoIterator<Item = u64>) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(p).expect("open log for append");
    for s in seqs {
        writeln!(f, "{s} message number {s} of {}", p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
            .expect("append");
    }
}

/// How many times each `seq` arrived, and one record to look at.
fn received(sink: &Sink) -> (BTreeMap<u64, usize>, Option<support::Item>) {
    let mut counts = BTreeMap::new();
    let mut sample = None;
    for r in sink.requests().iter().filter(|r| r["signal"] == "logs") {
        for item in items_of(&r["request"], None) {
            if let Some(seq) = item.attr("seq").and_then(|s| s.parse::<u64>().ok()) {
                *counts.entry(seq).or_default() += 1;
                sample.get_or_insert(item);
            }
        }
    }
    (counts, sample)
}

fn wait_for(sink: &Sink, want: &[u64]) -> bool {
    wait_until(Duration::from_secs(15), || {
        let (c, _) = received(sink);
        want.iter().all(|s| c.contains_key(s))
    })
}

#[test]
fn lines_arrive_once_through_appends_rotation_truncation_and_kill_9() {
    let sink = Sink::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
    std::fs::create_dir_all(dir.path().join("storage")).expect("storage dir");
    let logs = dir.path().join("logs");
    let (a, b) = (logs.join("a.log"), logs.join("b.log"));
    let mut expected: Vec<u64> = Vec::new();

    // Present before the start (start_at: beginning), plus an excluded and an unreadable file.
    append(&a, 1..=100);
    expected.extend(1..=100);
    append(&logs.join("ignored.log"), 9000..9010);
    // A dangling symlink (a container log link whose pod is gone): matched, cannot be opened.
    std::os::unix::fs::symlink(dir.path().join("gone/0.log"), logs.join("broken.log")).expect("symlink");

    let cfg = config(dir.path(), &sink);
    let mut gw = Gateway::start(&cfg, 0);
    assert!(wait_for(&sink, &expected), "initial lines: {:?}\n{}", received(&sink).0.len(), gw.logs());

    // Appended while running, to two files.
    for chunk in 0..5 {
        append(&a, 101 + chunk * 20..121 + chunk * 20);
        append(&b, 1001 + chunk * 10..1011 + chunk * 10);
        std::thread::sleep(Duration::from_millis(60));
    }
    expected.extend(101..=200);
    expected.extend(1001..=1050);
    assert!(wait_for(&sink, &expected), "appended lines\n{}", gw.logs());

    // Rename rotation: the last lines of the old file and the new file's lines.
    append(&a, 201..=210);
    std::fs::rename(&a, logs.join("a.log.1")).expect("rotate");
    append(&a, 211..=220);
    expected.extend(201..=220);
    assert!(wait_for(&sink, &expected), "rotation\n{}", gw.logs());

    // copytruncate of b.log, then new lines.
    std::fs::File::create(&b).expect("truncate");
    append(&b, 1051..=1060);
    expected.extend(1051..=1060);
    assert!(wait_for(&sink, &expected), "truncation\n{}", gw.logs());

    // The unreadable file was logged and counted once, and did not hold the others up.
    assert_eq!(gw.metric("switchyard_receiver_filelog_unreadable_files"), 1.0, "{}", gw.logs());
    assert!(gw.logs().contains("Cannot open a log file"), "{}", gw.logs());

    // kill -9 while lines are being written; restart from the checkpoint.
    let writer_path = a.clone();
    let writer = std::thread::spawn(move || {
        for chunk in 0..30u64 {
            append(&writer_path, 300 + chunk * 10..310 + chunk * 10);
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    gw.kill();
    std::thread::sleep(Duration::from_millis(300));
    let gw2 = Gateway::start(&cfg, 0);
    writer.join().expect("writer");
    expected.extend(300..600);
    assert!(wait_for(&sink, &expected), "after kill -9\n{}", gw2.logs());
    std::thread::sleep(Duration::from_millis(500));

    let (counts, sample) = received(&sink);
    let missing: Vec<u64> = expected.iter().copied().filter(|s| !counts.contains_key(s)).collect();
    let repeated: Vec<(u64, usize)> = counts.iter().filter(|(_, n)| **n > 1).map(|(s, n)| (*s, *n)).collect();
    let extra: Vec<u64> = counts.keys().copied().filter(|s| !expected.contains(s)).collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    assert!(repeated.is_empty(), "repeated: {repeated:?}");
    assert!(extra.is_empty(), "unexpected (ignored or unreadable files read?): {extra:?}");

    // The operators ran: body is the message, resource set, file attributes present.
    let item = sample.expect("a record");
    assert!(item.item["body"]["stringValue"].as_str().is_some_and(|b| b.starts_with("message number")), "{item:?}");
    assert_eq!(item.resource_attr("service.name").as_deref(), Some("filelog-e2e"));
    assert!(item.attr("log.file.path").is_some_and(|p| p.ends_with(".log")), "{item:?}");
    assert_eq!(item.attr("log.file.name").as_deref(), Some("a.log"));
    assert!(item.item["observedTimeUnixNano"].as_str().is_some_and(|t| t != "0"), "{item:?}");
}
