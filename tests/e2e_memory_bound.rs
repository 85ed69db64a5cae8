//! Memory you can predict (docs/memory.md), with the real binary: `switchyard validate`
//! prints every component's declared worst case and the total, and warns when the total
//! passes the `memory_limiter` limit; under overload (a dead backend, more load than it can
//! export) the gateway's peak RSS stays under that printed total plus its baseline.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{free_port, gen, Gateway};

/// Runs `switchyard validate` on `yaml`: (exit ok, stdout, stderr).
fn validate(yaml: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = support::write(dir.path(), "c.yaml", yaml);
    let out = support::switchyard(&["validate", "--config", &cfg.display().to_string()]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The total of validate's table, in bytes (`  total ... 152.0 MiB`).
fn printed_total(table: &str) -> u64 {
    let line = table.lines().find(|l| l.trim_start().starts_with("total")).expect("a total line");
    let mut words = line.split_whitespace().rev();
    let unit = words.next().expect("unit");
    let value: f64 = words.next().expect("value").parse().expect("number");
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1048576.0,
        "GiB" => 1073741824.0,
        other => panic!("unit {other}"),
    };
    (value * scale) as u64
}

#[test]
fn validate_prints_the_table_and_warns_over_the_memory_limiter() {
    let yaml = "receivers: {otlp: {protocols: {grpc: {endpoint: \"127.0.0.1:0\"}}}}\n\
        processors:\n  memory_limiter: {check_interval: 1s, limit_mib: 64}\n  batch:\n  attributes: {actions: [{key: a, value: b, action: upsert}]}\n\
        exporters: {otlp: {endpoint: \"127.0.0.1:1\"}, debug: }\n\
        service: {pipelines: {traces: {receivers: [otlp], processors: [memory_limiter, attributes, batch], exporters: [otlp, debug]}}}\n";
    let (ok, out, err) = validate(yaml);
    assert!(ok, "a memory warning keeps exit code 0:\n{out}\n{err}");
    assert!(err.contains("configuration is valid: 1 pipeline(s)"), "{err}");
    for row in [
        "receiver/otlp",
        "processor/batch",
        "pending and outgoing batches (max_held_bytes 64.0 MiB)",
        "exporter/otlp",
        "sending queue (queue_size 1000 requests x 64.0 MiB largest request)",
        "exporter/debug",
        "nothing between requests",
        "undeclared (no bound stated, not counted): processor/attributes",
        "limit: processor/memory_limiter limit_mib 64 = 64.0 MiB",
    ] {
        assert!(out.contains(row), "missing {row:?} in:\n{out}");
    }
    assert!(printed_total(&out) > 64 << 20, "{out}");
    assert!(
        out.contains("warning: the declared worst case (")
            && out.contains("exceeds the processor/memory_limiter limit"),
        "{out}"
    );

    // Bounded settings under the limit: no warning.
    let small = "receivers: {otlp: {protocols: {grpc: {endpoint: \"127.0.0.1:0\", max_recv_msg_size_mib: 1}}}}\n\
        processors:\n  memory_limiter: {check_interval: 1s, limit_mib: 2048}\n  batch: {max_held_bytes: 8388608}\n\
        exporters: {otlp: {endpoint: \"127.0.0.1:1\", sending_queue: {sizer: bytes, queue_size: 33554432}}}\n\
        service: {pipelines: {traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}}}\n";
    let (ok, out, _) = validate(small);
    assert!(ok && !out.contains("warning:"), "{out}");
}

#[test]
fn under_overload_peak_rss_stays_under_the_printed_total() {
    let (http, grpc, dead) = (free_port(), free_port(), free_port());
    // No memory_limiter: only the components' own caps hold memory down. The backend port
    // is closed, so everything accepted stays in the gateway until the queue refuses.
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{http}", max_request_body_size: 1048576}}
      grpc: {{endpoint: "127.0.0.1:{grpc}", max_recv_msg_size_mib: 1}}
processors:
  batch: {{send_batch_size: 4000, max_held_bytes: 8388608}}
exporters:
  otlp:
    endpoint: "127.0.0.1:{dead}"
    tls: {{insecure: true}}
    sending_queue: {{sizer: bytes, queue_size: 33554432, num_consumers: 2}}
    retry_on_failure: {{initial_interval: 1s, max_interval: 2s, max_elapsed_time: 0s}}
service:
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [otlp]}}
"#
    );
    let (ok, table, err) = validate(&yaml);
    assert!(ok, "{err}");
    let total = printed_total(&table);
    eprintln!("{table}");

    let gw = Gateway::start(&yaml, http);
    std::thread::sleep(Duration::from_millis(500));
    let baseline_mib = gw.peak_rss_mib();
    let declared = gw.metric("switchyard_component_memory_declared_bytes");
    assert!(
        (declared - total as f64).abs() <= total as f64 * 0.001,
        "the declared-bytes metric sums to the printed total: {declared} vs {total}"
    );

    // Four senders over HTTP for 20 s, 2000 spans per request: far more than the queue holds.
    let endpoint = format!("http://127.0.0.1:{http}");
    let r = gen(&[
        "traces",
        "--protocol",
        "http",
        "--endpoint",
        &endpoint,
        "--batch-size",
        "2000",
        "--workers",
        "4",
        "--duration",
        "20s",
    ]);
    // The batch processor answers clients once data is batched (the Collector's semantics),
    // so the overflow shows at the exporter: its full queue refused batches.
    let overflow = gw.metric("otelcol_exporter_enqueue_failed");
    assert!(overflow > 0.0, "the load must exceed what the gateway can hold: {r}\n{}", gw.logs());
    let queue_used = gw.metric_with("switchyard_component_memory_used_bytes", &["component=\"exporter/otlp\""]);
    let queue_declared = gw.metric_with("switchyard_component_memory_declared_bytes", &["component=\"exporter/otlp\""]);
    assert!(queue_used > 0.0 && queue_used <= queue_declared, "queue used {queue_used} of {queue_declared}");
    let peak_mib = gw.peak_rss_mib();
    let total_mib = total >> 20;
    eprintln!(
        "memory bound: declared total {total_mib} MiB, baseline RSS {baseline_mib} MiB, peak RSS {peak_mib} MiB, \
         queue used {:.1} MiB, {overflow} items refused by the full queue; gen: {r}",
        queue_used / 1048576.0
    );
    assert!(
        peak_mib <= total_mib + baseline_mib,
        "peak RSS {peak_mib} MiB over the declared {total_mib} MiB + baseline {baseline_mib} MiB\n{}",
        gw.logs()
    );
}
