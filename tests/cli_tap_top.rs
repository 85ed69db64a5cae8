//! `switchyard tap` and `switchyard top` against the real binary while `switchyard gen`
//! sends spans through `otlp → attributes/mark → batch → otlp/sink`: the tap shows the
//! attribute the processor inserted (so its point is after that processor) and nothing of
//! it at the receiver, honours --limit and --rate; `top` runs in a real terminal (tmux),
//! shows every component with numbers that move, and quits on `q`.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, wait_until, Gateway, Sink, Traffic};

fn config(otlp: u16, zp: u16, sink: &Sink) -> String {
    format!(
        r#"
receivers:
  otlp: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{otlp}"}}}}}}
processors:
  attributes/mark:
    actions: [{{key: tap.mark, value: after-attributes, action: insert}}]
  batch: {{timeout: 200ms}}
exporters:
  otlp/sink: {{endpoint: "{sink}", tls: {{insecure: true}}}}
extensions:
  zpages: {{endpoint: "127.0.0.1:{zp}"}}
service:
  extensions: [zpages]
  pipelines:
    traces: {{receivers: [otlp], processors: [attributes/mark, batch], exporters: [otlp/sink]}}
"#,
        sink = sink.grpc_endpoint()
    )
}

/// Runs `switchyard tap` (bounded by `timeout`, so a tap that never stops fails the test).
fn tap(zp: u16, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .args(["tap", "--endpoint", &format!("http://127.0.0.1:{zp}")])
        .args(args)
        .output()
        .expect("run switchyard tap");
    (out, start.elapsed())
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn tap_shows_the_data_after_the_processor_and_stops_at_the_limit() {
    let sink = Sink::start(&[]);
    let (otlp, zp) = (free_port(), free_port());
    let gw = Gateway::start(&config(otlp, zp, &sink), zp);
    let _traffic = Traffic::start(otlp, 200);
    assert!(wait_until(Duration::from_secs(20), || sink.items("traces", None) > 0), "no spans:\n{}", gw.logs());

    // After the attributes processor: every span carries the inserted attribute.
    let (out, _) = tap(zp, &["--component", "processors/attributes/mark", "--pipeline", "traces", "--limit", "5"]);
    assert!(out.status.success(), "tap failed: {}", String::from_utf8_lossy(&out.stderr));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 5, "--limit 5 prints five spans: {lines:?}");
    for l in &lines {
        assert!(l.contains(" span \"gen-span-") && l.contains("tap.mark=after-attributes"), "{l}");
        assert!(l.contains(" switchyard-gen span "), "service.name shown: {l}");
    }

    // At the receiver, before the processor: the same spans without it.
    let (out, _) = tap(zp, &["--component", "receivers/otlp", "--limit", "3"]);
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?} {}", String::from_utf8_lossy(&out.stderr));
    assert!(lines.iter().all(|l| l.contains(" span \"gen-span-") && !l.contains("tap.mark")), "{lines:?}");

    // OTLP/JSON, one export request per line, at most 1 batch/s: three lines take ~2 s, and
    // the gateway counts what it skipped (gen sends ~20 batches/s).
    let (out, took) =
        tap(zp, &["--component", "processors/attributes/mark", "--format", "json", "--rate", "1", "--limit", "3"]);
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?} {}", String::from_utf8_lossy(&out.stderr));
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        let attrs = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
        let marked = attrs.as_array().is_some_and(|a| {
            a.iter().any(|kv| kv["key"] == "tap.mark" && kv["value"]["stringValue"] == "after-attributes")
        });
        assert!(marked, "OTLP/JSON span with the attribute: {l}");
    }
    assert!(took >= Duration::from_millis(1500), "rate 1/s: 3 batches came in {took:?}");
    let skipped = gw.metric_with("switchyard_tap_skipped_batches", &["reason=\"rate\""]);
    assert!(skipped > 0.0, "batches over the rate are counted: {skipped}");

    // A component that is not there: a clear error and exit 1.
    let (out, _) = tap(zp, &["--component", "processors/nope", "--limit", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("404") && err.contains("processors/attributes/mark in traces"), "{err}");
}

/// A tmux server of this test's own (its own socket), killed at the end.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("run tmux (Debian package tmux)")
    }
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "top"]).stdout).into_owned()
    }
    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", "top"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The whitespace-separated cells of the screen row of component `id`.
fn row(screen: &str, id: &str) -> Vec<String> {
    screen
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn top_in_a_terminal_shows_every_component_with_moving_numbers_and_quits_on_q() {
    let sink = Sink::start(&[]);
    let (otlp, zp) = (free_port(), free_port());
    let gw = Gateway::start(&config(otlp, zp, &sink), zp);
    let metrics = format!("http://127.0.0.1:{}/metrics", gw.metrics_port.expect("metrics port"));
    let _traffic = Traffic::start(otlp, 200);
    assert!(wait_until(Duration::from_secs(20), || sink.items("traces", None) > 0), "no spans:\n{}", gw.logs());

    let tmux = Tmux { socket: format!("switchyard-top-{}", std::process::id()) };
    let cmd = format!("{} top --metrics {metrics}", env!("CARGO_BIN_EXE_switchyard"));
    let started = tmux.run(&["new-session", "-d", "-s", "top", "-x", "160", "-y", "40", &cmd]);
    assert!(started.status.success(), "tmux: {}", String::from_utf8_lossy(&started.stderr));

    let ready = |s: &str| row(s, "otlp").len() == 10 && row(s, "attributes/mark").len() == 10;
    assert!(wait_until(Duration::from_secs(10), || ready(&tmux.screen())), "top screen:\n{}", tmux.screen());
    std::thread::sleep(Duration::from_millis(1500));
    let first = tmux.screen();
    std::thread::sleep(Duration::from_millis(2500));
    let second = tmux.screen();
    for id in ["otlp", "attributes/mark", "batch", "otlp/sink"] {
        assert_eq!(row(&second, id).len(), 10, "{id} has a full row:\n{second}");
    }
    assert!(first.contains("COMPONENT") && first.contains("IN/s") && first.contains("QUEUE"), "{first}");
    // Receiver: IN/s is a rate near gen's 200/s; IN is a total that grows between snapshots.
    let (r1, r2) = (row(&first, "otlp"), row(&second, "otlp"));
    assert_eq!(r2[1], "receiver");
    let rate: f64 = r2[2].parse().unwrap_or_else(|_| panic!("IN/s of otlp: {r2:?}"));
    assert!(rate > 50.0, "about 200 spans/s in: {r2:?}");
    let (in1, in2): (f64, f64) = (r1[7].parse().expect("IN"), r2[7].parse().expect("IN"));
    assert!(in2 > in1, "the IN total moves: {in1} then {in2}\n{first}\n{second}");
    let sent: f64 = row(&second, "otlp/sink")[8].parse().expect("OUT of the exporter");
    assert!(sent > 0.0, "{second}");

    tmux.run(&["send-keys", "-t", "top", "q"]);
    assert!(wait_until(Duration::from_secs(5), || !tmux.alive()), "q did not quit:\n{}", tmux.screen());
}

#[test]
fn top_without_a_terminal_prints_tables_and_stops_after_its_iterations() {
    let sink = Sink::start(&[]);
    let (otlp, zp) = (free_port(), free_port());
    let gw = Gateway::start(&config(otlp, zp, &sink), zp);
    let metrics = format!("http://127.0.0.1:{}/metrics", gw.metrics_port.expect("metrics port"));
    let out = Command::new("timeout")
        .args(["30", env!("CARGO_BIN_EXE_switchyard"), "top", "--metrics", &metrics])
        .args(["--iterations", "2", "--interval", "300ms"])
        .stdin(Stdio::null())
        .output()
        .expect("run top");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("COMPONENT").count(), 2, "two refreshes:\n{text}");
    assert!(!text.contains('\x1b'), "no escapes when not on a terminal:\n{text}");
    assert_eq!(row(&text, "otlp/sink")[1], "exporter", "{text}");

    let dead = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["top", "--metrics", &format!("http://127.0.0.1:{}/metrics", free_port()), "--iterations", "1"])
        .stdin(Stdio::null())
        .output()
        .expect("run top");
    assert!(String::from_utf8_lossy(&dead.stdout).contains("cannot reach"), "says why the screen is empty");
}
