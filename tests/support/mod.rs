//! Helpers for the end-to-end tests: the real `switchyard` binary, the OTLP sink
//! (`scripts/backends/otlp_sink.py`, grpcio + opentelemetry-proto) and the OpenTelemetry
//! Python SDK client, all on 127.0.0.1. Every process is ended by PID when its guard drops.

#![allow(dead_code)]

pub mod backends;
pub mod dns;
pub mod pki;
pub mod scraped;
pub mod traces;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv Python with the OpenTelemetry SDK (scripts/test.sh sets SWITCHYARD_PY).
pub fn python() -> PathBuf {
    let p = std::env::var("SWITCHYARD_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/tmp/otel-venv/bin/python"));
    assert!(p.exists(), "{} not found: run scripts/test.sh (it creates the venv) or set SWITCHYARD_PY", p.display());
    p
}

pub use switchyard_core::testing::free_port;

/// Polls `f` every 50 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

fn terminate(child: &mut Child) -> Option<std::process::ExitStatus> {
    // SIGTERM by PID (the process we started), then wait; SIGKILL if it does not exit.
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let end = Instant::now() + Duration::from_secs(15);
    while Instant::now() < end {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().ok();
    None
}

/// A running gateway.
pub struct Gateway {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
    /// The self-metrics port the harness chose (when the config sets none).
    pub metrics_port: Option<u16>,
}

impl Gateway {
    /// Starts the binary with this config; waits until `ready_port` accepts connections.
    pub fn start(config: &str, ready_port: u16) -> Gateway {
        Gateway::start_with_env(config, ready_port, &[])
    }

    /// Like [`Gateway::start`], with extra environment variables (for `${env:X}` in the config).
    /// `ready_port` 0: wait for the self-metrics port instead.
    pub fn start_with_env(config: &str, ready_port: u16, env: &[(&str, &str)]) -> Gateway {
        // The self-metrics port is picked here and can be taken by another test process
        // before the gateway binds it: then start again on another one.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut gw = Gateway::spawn(config, env);
            // Port 0: a gateway without a listening receiver; its self-metrics port says it is up.
            let ready = if ready_port == 0 { gw.metrics_port.expect("a self-metrics port") } else { ready_port };
            let up = wait_until(Duration::from_secs(20), || port_open(ready) || gw.exited());
            if up && !gw.exited() {
                return gw;
            }
            let logs = gw.logs();
            let metrics_clash = gw
                .metrics_port
                .is_some_and(|p| logs.contains("Address already in use") && logs.contains(&p.to_string()));
            assert!(metrics_clash && attempt < 4, "gateway did not start:\n{logs}");
        }
    }

    fn spawn(config: &str, env: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("config.yaml");
        std::fs::write(&cfg, config).expect("write config");
        let log = dir.path().join("gateway.log");
        let out = std::fs::File::create(&log).expect("log file");
        // Parallel gateways must not all take the default self-metrics port 8888.
        let metrics_port = (!config.contains("telemetry:")).then(free_port);
        let metrics = match metrics_port {
            None => Vec::new(),
            Some(p) => vec!["--set".to_string(), format!("service.telemetry.metrics.address=127.0.0.1:{p}")],
        };
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("--config")
            .arg(&cfg)
            .args(metrics)
            .envs(env.iter().copied())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("spawn switchyard");
        Gateway { child: Some(child), dir, log, metrics_port }
    }

    fn exited(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// The gateway's process id (0 once stopped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Peak resident memory of the gateway so far, in MiB (VmHWM).
    pub fn peak_rss_mib(&self) -> u64 {
        let pid = self.child.as_ref().map(|c| c.id()).unwrap_or(0);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    /// The gateway's log so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sum of the self-metric samples whose line starts with `prefix` (name and optionally
    /// the start of its labels), 0 if none.
    pub fn metric(&self, prefix: &str) -> f64 {
        let Some(port) = self.metrics_port else { return 0.0 };
        let (_, text) = http_get(&format!("127.0.0.1:{port}"), "/metrics");
        text.lines().filter(|l| l.starts_with(prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
    }

    /// Sum of the samples of metric `name` whose labels contain every one of `labels`
    /// (`reason="timeout"`), 0 if none.
    pub fn metric_with(&self, name: &str, labels: &[&str]) -> f64 {
        let Some(port) = self.metrics_port else { return 0.0 };
        let (_, text) = http_get(&format!("127.0.0.1:{port}"), "/metrics");
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
            .filter(|l| labels.iter().all(|want| l.contains(want)))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Whether the self-metrics have a line for `name` (so a `0.0` from [`Gateway::metric`]
    /// means zero, not "missing").
    pub fn has_metric(&self, name: &str) -> bool {
        let Some(port) = self.metrics_port else { return false };
        let (_, text) = http_get(&format!("127.0.0.1:{port}"), "/metrics");
        text.lines().any(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
    }

    /// Current resident memory of the gateway, in MiB (VmRSS).
    pub fn rss_mib(&self) -> u64 {
        let pid = self.child.as_ref().map(|c| c.id()).unwrap_or(0);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    /// Sends `signal` (`HUP`, `TERM`...) to the gateway process with kill(1).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().map(|c| c.id()).expect("gateway running");
        let status = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().expect("kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// SIGKILL, as a crash or the OOM killer would: no shutdown at all.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(terminate).inspect(|_| self.child = None)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            terminate(c);
        }
    }
}

/// A running OTLP sink (gRPC + HTTP), dumping every request.
pub struct Sink {
    child: Child,
    pub dir: tempfile::TempDir,
    pub grpc_port: u16,
    pub http_port: u16,
}

impl Sink {
    /// Starts `otlp_sink.py --dump` with extra flags (`--fail-status 503`...).
    pub fn start(extra: &[&str]) -> Sink {
        Sink::start_on(extra, free_port(), free_port())
    }

    /// Like [`Sink::start`], on given ports (a backend coming back where it was).
    pub fn start_on(extra: &[&str], grpc_port: u16, http_port: u16) -> Sink {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("sink.log")).expect("log");
        let child = Command::new(python())
            .arg(root().join("scripts/backends/otlp_sink.py"))
            .args(["--data-dir", &dir.path().display().to_string()])
            .args(["--grpc-port", &grpc_port.to_string(), "--http-port", &http_port.to_string(), "--dump"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn otlp_sink.py");
        let sink = Sink { child, dir, grpc_port, http_port };
        assert!(
            wait_until(Duration::from_secs(30), || port_open(http_port) && port_open(grpc_port)),
            "sink did not start: {}",
            std::fs::read_to_string(sink.dir.path().join("sink.log")).unwrap_or_default()
        );
        sink
    }

    /// What the sink printed (its start line, tracebacks).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sink.log")).unwrap_or_default()
    }

    /// `host:port` of the gRPC side.
    pub fn grpc_endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.grpc_port)
    }

    /// Base URL of the HTTP side.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Every request received so far: `{signal, transport, headers, request}` (OTLP/JSON, hex ids).
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Items received of a signal, optionally only those with `run.id` = `run`.
    pub fn items(&self, signal: &str, run: Option<&str>) -> usize {
        self.requests().iter().filter(|r| r["signal"] == signal).map(|r| items_of(&r["request"], run).len()).sum()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// Every item (span, data point, log record) of an OTLP/JSON request with its resource and
/// scope, filtered by `run.id` (resource or item attribute) when given.
pub fn items_of(req: &Value, run: Option<&str>) -> Vec<Item> {
    let mut out = Vec::new();
    for (rkey, skey, ikey) in [("resourceSpans", "scopeSpans", "spans"), ("resourceLogs", "scopeLogs", "logRecords")] {
        for r in req[rkey].as_array().into_iter().flatten() {
            for s in r[skey].as_array().into_iter().flatten() {
                for i in s[ikey].as_array().into_iter().flatten() {
                    out.push(Item { resource: r["resource"].clone(), scope: s["scope"].clone(), item: i.clone() });
                }
            }
        }
    }
    for r in req["resourceMetrics"].as_array().into_iter().flatten() {
        for s in r["scopeMetrics"].as_array().into_iter().flatten() {
            for m in s["metrics"].as_array().into_iter().flatten() {
                for kind in ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] {
                    for p in m[kind]["dataPoints"].as_array().into_iter().flatten() {
                        let mut item = p.clone();
                        item["metricName"] = m["name"].clone();
                        out.push(Item { resource: r["resource"].clone(), scope: s["scope"].clone(), item });
                    }
                }
            }
        }
    }
    out.retain(|i| {
        run.is_none_or(|run| {
            i.attr("run.id").as_deref() == Some(run) || i.resource_attr("run.id").as_deref() == Some(run)
        })
    });
    out
}

/// One item with its envelope.
#[derive(Debug, Clone)]
pub struct Item {
    pub resource: Value,
    pub scope: Value,
    pub item: Value,
}

fn attr(list: &Value, key: &str) -> Option<String> {
    list.as_array()?.iter().find(|kv| kv["key"] == key).map(|kv| {
        let v = &kv["value"];
        v.get("stringValue")
            .or(v.get("intValue"))
            .or(v.get("boolValue"))
            .or(v.get("doubleValue"))
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    })
}

impl Item {
    /// An attribute of the item, as text.
    pub fn attr(&self, key: &str) -> Option<String> {
        attr(&self.item["attributes"], key)
    }
    /// A resource attribute, as text.
    pub fn resource_attr(&self, key: &str) -> Option<String> {
        attr(&self.resource["attributes"], key)
    }
}

/// Runs the OpenTelemetry Python SDK client (`otel_sdk_client.py`): N spans, 3N points, N logs.
pub fn sdk_client(protocol: &str, endpoint: &str, n: usize, run_id: &str, extra: &[&str]) -> Output {
    Command::new(python())
        .arg(root().join("scripts/backends/otel_sdk_client.py"))
        .args(["--protocol", protocol, "--endpoint", endpoint, "-n", &n.to_string(), "--run-id", run_id])
        .args(["--service-name", "e2e-client", "--timeout", "10"])
        .args(extra)
        // requests prefers these over the CA the exporter is given (`--ca`).
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .expect("run otel_sdk_client.py")
}

/// Runs `sdk_red_client.py` (a client service calling a server service, known latencies
/// and failures); returns its JSON summary, asserting every span was exported.
pub fn red_client(endpoint: &str, calls: usize, extra: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(root().join("scripts/backends/sdk_red_client.py"))
        .args(["--endpoint", endpoint, "-n", &calls.to_string()])
        .args(extra)
        .output()
        .expect("run sdk_red_client.py");
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("client output: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "client failed: {summary}\n{}", String::from_utf8_lossy(&out.stderr));
    summary
}

/// Runs `switchyard` with arguments and returns its output.
pub fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).output().expect("run switchyard")
}

/// Writes a file into `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    p
}

/// A plain HTTP/1.1 GET; returns status and body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(addr) else { return (0, String::new()) };
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(c, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    let status = buf.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Runs `switchyard gen` and returns its JSON report.
pub fn gen(args: &[&str]) -> Value {
    let out = switchyard(&[&["gen"], args].concat());
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("gen output: {}", String::from_utf8_lossy(&out.stderr)))
}

/// The sequence numbers in `gen-span-N` span names of every traces request a sink got.
pub fn gen_span_seqs(sink: &Sink) -> Vec<u64> {
    let mut out = Vec::new();
    for r in sink.requests().iter().filter(|r| r["signal"] == "traces") {
        for item in items_of(&r["request"], None) {
            if let Some(n) = item.item["name"].as_str().and_then(|n| n.strip_prefix("gen-span-")) {
                out.extend(n.parse::<u64>().ok());
            }
        }
    }
    out
}

/// The sequence numbers `switchyard gen --accepted-file` recorded as accepted.
pub fn accepted_seqs(file: &Path) -> Vec<u64> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (a, n) = l.split_once(' ')?;
            let (a, n) = (a.parse::<u64>().ok()?, n.parse::<u64>().ok()?);
            Some(a..a + n)
        })
        .flatten()
        .collect()
}

/// A plain HTTP/1.1 POST of a JSON body; returns the status.
pub fn http_post_json(addr: &str, path: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(addr) else { return 0 };
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(
        c,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    buf.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Spans flowing into a gateway until dropped (a `switchyard gen` process for up to 60 s,
/// ended by PID).
pub struct Traffic(Child);

impl Traffic {
    /// `rate` spans/s: the page test needs only moving counters; a profile needs the gateway
    /// busy enough that a 100 Hz CPU sampler sees it (at 200 spans/s it sleeps through).
    pub fn start(otlp_port: u16, rate: u32) -> Traffic {
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["gen", "traces", "--endpoint", &format!("http://127.0.0.1:{otlp_port}")])
            .args(["--rate", &rate.to_string(), "--duration", "60s"])
            .args(["--batch-size", if rate >= 10_000 { "100" } else { "10" }])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn switchyard gen");
        Traffic(child)
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}
