//! Real backends for the exporters' end-to-end tests, started with the project's own
//! scripts (`scripts/backends/*-start.sh`) on free loopback ports, each test its own.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::{free_port, root, wait_until};

/// One running backend (Prometheus, VictoriaMetrics, the Loki stand-in, the Kafka broker).
pub struct Backend {
    kind: &'static str,
    dir: tempfile::TempDir,
    port: u16,
    env: Vec<(String, String)>,
    /// Base URL (`http://127.0.0.1:PORT`), or `127.0.0.1:PORT` for Kafka.
    pub url: String,
}

impl Backend {
    /// `kind`: `prometheus`, `victoriametrics`, `loki`, `kafka`.
    pub fn start(kind: &'static str, env: &[(&str, &str)]) -> Backend {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut b = Backend { kind, dir, port: free_port(), env, url: String::new() };
        b.url = b.run_start();
        b
    }

    fn script(&self, what: &str) -> PathBuf {
        root().join(format!("scripts/backends/{}-{what}.sh", self.kind))
    }

    fn run_start(&self) -> String {
        let out = Command::new("bash")
            .arg(self.script("start"))
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("run start script");
        assert!(out.status.success(), "{} did not start:\n{}", self.kind, String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Stops it (SIGTERM, data kept).
    pub fn stop(&self) {
        let _ = Command::new("bash").arg(self.script("stop")).arg(self.dir.path()).output();
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.url = self.run_start();
    }

    /// The data directory (for `kafka-topic.sh`).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Percent-encodes a query parameter.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GET `url` (http only) and parse the JSON answer.
pub fn get_json(url: &str) -> Value {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (addr, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let (status, body) = super::http_get(addr, &path);
    let body = dechunk(&body);
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("GET {url}: {status} {body}"))
}

/// Undoes `Transfer-Encoding: chunked` if the body looks chunked.
fn dechunk(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// One instant-query result: labels and value.
#[derive(Debug, Clone)]
pub struct PromSample {
    /// Every label, `__name__` included when the query keeps it.
    pub labels: serde_json::Map<String, Value>,
    /// The value as a float.
    pub value: f64,
}

impl PromSample {
    /// A label's value, "" if absent.
    pub fn label(&self, k: &str) -> &str {
        self.labels.get(k).and_then(Value::as_str).unwrap_or("")
    }
}

/// Runs a PromQL instant query (Prometheus and VictoriaMetrics speak the same API).
pub fn promql(base: &str, query: &str) -> Vec<PromSample> {
    let v = get_json(&format!("{base}/api/v1/query?query={}", encode(query)));
    assert_eq!(v["status"], "success", "query {query}: {v}");
    v["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| PromSample {
            labels: r["metric"].as_object().cloned().unwrap_or_default(),
            value: r["value"][1].as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN),
        })
        .collect()
}

/// Polls a query until `ok` holds on its result (VictoriaMetrics shows samples after a flush).
pub fn promql_until(base: &str, query: &str, timeout: Duration, ok: impl Fn(&[PromSample]) -> bool) -> Vec<PromSample> {
    let mut last = Vec::new();
    wait_until(timeout, || {
        // VictoriaMetrics: make the newest samples searchable (Prometheus answers 404: fine).
        let _ = super::http_get(base.trim_start_matches("http://"), "/internal/force_flush");
        last = promql(base, query);
        ok(&last)
    });
    last
}
