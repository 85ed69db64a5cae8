//! Delivery guarantees end to end, with the real binary, `switchyard gen` as the client
//! (it records which spans the gateway accepted) and `otlp_sink.py` as the backend:
//! a backend down for 30 s, throttling with Retry-After, permanent errors, `kill -9` with a
//! persistent queue, a damaged queue file, a full queue directory, and memory overload.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{accepted_seqs, free_port, gen, gen_span_seqs, wait_until, Gateway, Sink};

/// Checks that every accepted span arrived; returns how many arrived more than once.
fn assert_all_delivered(sink: &Sink, accepted: &[u64], gw_logs: &str) -> usize {
    let want: BTreeSet<u64> = accepted.iter().copied().collect();
    assert_eq!(want.len(), accepted.len(), "gen reported a span twice");
    let ok = wait_until(Duration::from_secs(90), || {
        let got: BTreeSet<u64> = gen_span_seqs(sink).into_iter().collect();
        want.is_subset(&got)
    });
    let got = gen_span_seqs(sink);
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    let missing = want.difference(&unique).count();
    assert!(ok, "{missing} of {} accepted spans never arrived\n{gw_logs}", want.len());
    got.len() - unique.len()
}

fn gen_traces(port: u16, extra: &[&str]) -> serde_json::Value {
    let endpoint = format!("http://127.0.0.1:{port}");
    gen(&[&["traces", "--protocol", "http", "--endpoint", &endpoint], extra].concat())
}

#[test]
fn backend_down_for_30s_then_up_loses_nothing_and_duplicates_nothing() {
    let (port, sink_grpc, sink_http) = (free_port(), free_port(), free_port());
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:{port}"}}}}}}
exporters:
  otlp:
    endpoint: "127.0.0.1:{sink_grpc}"
    tls: {{insecure: true}}
    retry_on_failure: {{initial_interval: 1s, max_interval: 5s, max_elapsed_time: 5m}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp]}}
"#
    );
    let gw = Gateway::start(&cfg, port);
    let acc = gw.dir.path().join("accepted.txt");
    let r = gen_traces(
        port,
        &["--count", "5000", "--batch-size", "50", "--workers", "2", "--accepted-file", &acc.display().to_string()],
    );
    assert_eq!(r["accepted_items"], 5000, "{r}");
    std::thread::sleep(Duration::from_secs(30));
    assert_eq!(gw.metric("otelcol_exporter_sent_spans"), 0.0);
    let sink = Sink::start_on(&[], sink_grpc, sink_http);
    let dups = assert_all_delivered(&sink, &accepted_seqs(&acc), &gw.logs());
    assert_eq!(dups, 0, "duplicates after an outage with nothing in flight");
    assert_eq!(gen_span_seqs(&sink).len(), 5000);
    assert!(wait_until(Duration::from_secs(5), || gw.metric("otelcol_exporter_sent_spans") == 5000.0));
    assert_eq!(gw.metric("otelcol_exporter_send_failed_spans"), 0.0);
    assert!(gw.logs().contains("Will retry the request after interval"), "retries are logged");
}

#[test]
fn throttled_backend_is_retried_at_the_pace_it_announces() {
    // 429 with Retry-After: 2 for the first 3 attempts; the configured backoff is 100 ms.
    let sink = Sink::start(&["--fail-status", "429", "--fail-first", "3", "--retry-after", "2"]);
    let port = free_port();
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:{port}"}}}}}}
exporters:
  otlphttp:
    endpoint: "{url}"
    retry_on_failure: {{initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 60s}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlphttp]}}
"#,
        url = sink.http_url()
    );
    let gw = Gateway::start(&cfg, port);
    let r = gen_traces(port, &["--count", "10", "--batch-size", "10"]);
    assert_eq!(r["accepted_items"], 10, "{r}");
    assert!(wait_until(Duration::from_secs(30), || sink.items("traces", None) == 10), "{}", gw.logs());
    let failed = std::fs::read_to_string(sink.dir.path().join("failed.jsonl")).unwrap();
    let times: Vec<f64> = failed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["time"].as_f64().unwrap())
        .collect();
    assert_eq!(times.len(), 3, "{failed}");
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!((1.9..4.0).contains(&gap), "retried after {gap:.2}s, the server asked for 2s");
    }
}

#[test]
fn a_permanent_error_drops_counts_and_logs_and_does_not_block_what_follows() {
    let sink = Sink::start(&["--fail-status", "400", "--fail-first", "1"]);
    let port = free_port();
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:{port}"}}}}}}
exporters:
  otlphttp: {{endpoint: "{url}", sending_queue: {{num_consumers: 1}}}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlphttp]}}
"#,
        url = sink.http_url()
    );
    let gw = Gateway::start(&cfg, port);
    assert_eq!(gen_traces(port, &["--count", "7", "--batch-size", "7"])["accepted_items"], 7);
    assert_eq!(gen_traces(port, &["--count", "200", "--batch-size", "20"])["accepted_items"], 200);
    assert!(wait_until(Duration::from_secs(20), || sink.items("traces", None) == 200), "{}", gw.logs());
    assert!(wait_until(Duration::from_secs(5), || gw
        .metric(r#"switchyard_exporter_dropped_spans{exporter="otlphttp",reason="permanent_error"}"#)
        == 7.0));
    assert_eq!(gw.metric("otelcol_exporter_send_failed_spans"), 7.0);
    let logs = gw.logs();
    assert!(logs.contains("Dropping data") && logs.contains("permanent_error") && logs.contains("400"), "{logs}");
    // Only one 400 was answered: the data was not retried.
    assert_eq!(std::fs::read_to_string(sink.dir.path().join("failed.jsonl")).unwrap().lines().count(), 1);
}

fn persistent_config(port: u16, sink_grpc: u16, queue_dir: &Path, queue: &str) -> String {
    format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:{port}"}}}}}}
extensions:
  file_storage/queue: {{directory: "{dir}", create_directory: true}}
exporters:
  otlp:
    endpoint: "127.0.0.1:{sink_grpc}"
    tls: {{insecure: true}}
    sending_queue: {{storage: file_storage/queue, {queue}}}
    retry_on_failure: {{initial_interval: 500ms, max_interval: 1s, max_elapsed_time: 0s}}
service:
  extensions: [file_storage/queue]
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp]}}
"#,
        dir = queue_dir.display()
    )
}

/// The segment files of the `otlp` exporter's traces queue under a file_storage directory.
fn queue_segments(storage_dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(storage_dir.join("exporter_otlp__traces"))
        .expect("queue directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect()
}

#[test]
fn kill_9_with_a_persistent_queue_loses_no_accepted_span() {
    let (port, sink_grpc, sink_http) = (free_port(), free_port(), free_port());
    let qdir = tempfile::tempdir().unwrap();
    let cfg = persistent_config(port, sink_grpc, qdir.path(), "queue_size: 100000");
    let mut gw = Gateway::start(&cfg, port);
    let acc = gw.dir.path().join("accepted.txt");
    // 20,000 spans/s (100-span requests) for 4 s; the gateway is killed after 2.5 s.
    let client = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["gen", "traces", "--protocol", "http", "--endpoint", &format!("http://127.0.0.1:{port}")])
        .args(["--rate", "20000", "--batch-size", "100", "--workers", "4", "--duration", "4s"])
        .args(["--accepted-file", &acc.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    gw.kill();
    let out = client.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let accepted = accepted_seqs(&acc);
    assert!(accepted.len() > 30_000, "the load should have reached ~20k spans/s: {report}");
    assert!(report["refused_items"].as_u64().unwrap() > 0, "requests after the kill must fail: {report}");

    // Restart on the same queue directory, then bring the backend up.
    let gw = Gateway::start(&cfg, port);
    let sink = Sink::start_on(&[], sink_grpc, sink_http);
    let dups = assert_all_delivered(&sink, &accepted, &gw.logs());
    // The backend was down before the kill, so nothing had been delivered: no duplicates.
    assert_eq!(dups, 0);
    eprintln!(
        "kill -9: {} spans accepted, all delivered after restart; {dups} duplicates; {} redelivered (in flight at the kill)",
        accepted.len(),
        gw.metric("switchyard_exporter_queue_redelivered_spans")
    );
}

#[test]
fn a_damaged_queue_file_loses_one_request_reports_it_and_delivers_the_rest() {
    let (port, sink_grpc, sink_http) = (free_port(), free_port(), free_port());
    let qdir = tempfile::tempdir().unwrap();
    let cfg = persistent_config(port, sink_grpc, qdir.path(), "queue_size: 1000");
    let mut gw = Gateway::start(&cfg, port);
    assert_eq!(gen_traces(port, &["--count", "1000", "--batch-size", "20"])["accepted_items"], 1000);
    assert!(gw.stop().is_some_and(|s| s.success()), "{}", gw.logs());

    let segments = queue_segments(qdir.path());
    assert_eq!(segments.len(), 1, "{segments:?}");
    let mut bytes = std::fs::read(&segments[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&segments[0], &bytes).unwrap();

    let sink = Sink::start_on(&[], sink_grpc, sink_http);
    let gw = Gateway::start(&cfg, port);
    assert!(wait_until(Duration::from_secs(30), || gen_span_seqs(&sink).len() >= 980), "{}", gw.logs());
    std::thread::sleep(Duration::from_millis(500));
    let got = gen_span_seqs(&sink);
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!((got.len(), unique.len()), (980, 980), "exactly one 20-span request lost, no duplicates");
    assert_eq!(gw.metric("switchyard_exporter_queue_corrupt_records"), 1.0);
    assert!(gw.logs().contains("Skipping a damaged persistent queue record"), "{}", gw.logs());
}

#[test]
fn a_full_queue_directory_refuses_clearly_and_recovers_when_the_backend_returns() {
    let (port, sink_grpc, sink_http) = (free_port(), free_port(), free_port());
    let qdir = tempfile::tempdir().unwrap();
    let cfg = persistent_config(port, sink_grpc, qdir.path(), "sizer: bytes, queue_size: 200000");
    let gw = Gateway::start(&cfg, port);
    let acc = gw.dir.path().join("accepted.txt");
    let r =
        gen_traces(port, &["--count", "20000", "--batch-size", "100", "--accepted-file", &acc.display().to_string()]);
    assert!(r["refused_items"].as_u64().unwrap() > 0, "{r}");
    let err = r["first_error"].as_str().unwrap();
    assert!(err.contains("503") && err.contains("sending queue is full") && err.contains("bytes on disk"), "{err}");
    let on_disk: u64 = queue_segments(qdir.path()).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert!(on_disk <= 200_000, "queue files take {on_disk} bytes, over the 200000 configured");
    assert!(gw.metric("otelcol_exporter_enqueue_failed_spans") > 0.0);

    let sink = Sink::start_on(&[], sink_grpc, sink_http);
    assert_eq!(assert_all_delivered(&sink, &accepted_seqs(&acc), &gw.logs()), 0);
    // Space is back: new data is accepted again.
    let ok = wait_until(Duration::from_secs(30), || {
        gen_traces(port, &["--count", "1000", "--batch-size", "100"])["refused_items"] == 0
    });
    assert!(ok, "{}", gw.logs());
}

#[test]
fn overload_with_memory_limiter_is_refused_retryably_and_rss_stays_bounded() {
    let (port, sink_grpc, sink_http) = (free_port(), free_port(), free_port());
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:{port}"}}}}}}
processors:
  memory_limiter: {{check_interval: 100ms, limit_mib: 100, spike_limit_mib: 20}}
exporters:
  otlp:
    endpoint: "127.0.0.1:{sink_grpc}"
    tls: {{insecure: true}}
    sending_queue: {{queue_size: 100000}}
    retry_on_failure: {{initial_interval: 1s, max_interval: 2s, max_elapsed_time: 0s}}
service:
  pipelines:
    traces: {{receivers: [otlp], processors: [memory_limiter], exporters: [otlp]}}
"#
    );
    let gw = Gateway::start(&cfg, port);
    // The backend is down, so everything accepted stays in memory: far more than 100 MiB offered.
    let started = Instant::now();
    let r = gen_traces(port, &["--batch-size", "2000", "--workers", "4", "--duration", "15s"]);
    let refused = r["refused_items"].as_u64().unwrap();
    assert!(refused > 0, "{r}");
    let err = r["first_error"].as_str().unwrap();
    assert!(err.contains("503") && err.contains("memory"), "refusals must be retryable and say why: {err}");
    let peak = gw.peak_rss_mib();
    eprintln!("overload: {r}\npeak RSS {peak} MiB after {:?}", started.elapsed());
    assert!(peak < 120, "peak RSS {peak} MiB over limit_mib 100 + spike_limit_mib 20");

    // Load drops and the backend returns: the queue drains and data is accepted again.
    let _sink = Sink::start_on(&[], sink_grpc, sink_http);
    let ok = wait_until(Duration::from_secs(90), || {
        gen_traces(port, &["--count", "2000", "--batch-size", "200"])["refused_items"] == 0
    });
    assert!(
        ok,
        "never accepted data again: queue {} requests, RSS {} MiB, sink got {} spans\n{}",
        gw.metric("otelcol_exporter_queue_size"),
        gw.metric("otelcol_process_memory_rss") / 1048576.0,
        _sink.items("traces", None),
        gw.logs()
    );
}

/// A tmpfs mounted for one test, unmounted when dropped; `None` (the test skips, saying
/// so) where `mount` is not permitted (it needs root; CI runs as root).
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(size: &str, test: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount");
        if out.status.success() {
            return Some(SmallDisk(dir));
        }
        eprintln!("SKIPPED {test}: cannot mount a tmpfs here ({})", String::from_utf8_lossy(&out.stderr).trim());
        None
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_real_full_disk_refuses_retryably_loses_nothing_and_resumes() {
    let Some(disk) = SmallDisk::mount("2m", "a_real_full_disk_refuses_retryably_loses_nothing_and_resumes") else {
        return;
    };
    let (port, sink_grpc, sink_http) = (free_port(), free_port(), free_port());
    // A queue far larger than the disk: the disk fills first. fsync on: what was accepted
    // is on the device.
    let cfg = persistent_config(port, sink_grpc, disk.0.path(), "queue_size: 100000")
        .replace("create_directory: true}", "create_directory: true, fsync: true}");
    let gw = Gateway::start(&cfg, port);
    let acc = gw.dir.path().join("accepted.txt");
    let r =
        gen_traces(port, &["--count", "30000", "--batch-size", "100", "--accepted-file", &acc.display().to_string()]);
    let refused = r["refused_items"].as_u64().unwrap();
    assert!(refused > 0, "a 2 MiB disk cannot hold 30000 spans: {r}");
    let err = r["first_error"].as_str().unwrap();
    assert!(err.contains("503") && err.contains("No space left on device"), "retryable, with the cause: {err}");
    assert!(gw.metric("otelcol_exporter_enqueue_failed_spans") >= refused as f64);
    assert!(gw.logs().contains("No space left on device"), "{}", gw.logs());
    let accepted = accepted_seqs(&acc);
    assert!(accepted.len() > 1000, "the disk held some: {r}");

    // The backend comes up: every accepted span is delivered once, the queue's files are
    // freed, and the same load is accepted again.
    let sink = Sink::start_on(&[], sink_grpc, sink_http);
    assert_eq!(assert_all_delivered(&sink, &accepted, &gw.logs()), 0, "no duplicates");
    let ok = wait_until(Duration::from_secs(30), || {
        gen_traces(port, &["--count", "2000", "--batch-size", "100"])["refused_items"] == 0
    });
    assert!(ok, "appends resume once space is back\n{}", gw.logs());
}
