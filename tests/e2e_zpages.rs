//! The status page and the Collector's zpages in a real browser (headless Chromium, the
//! Debian `chromium` package), and the pprof extension's CPU profile, against the real
//! binary while `switchyard gen` sends spans through an OTLP pipeline to the OTLP sink.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{free_port, wait_until, Gateway, Sink, Traffic};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs headless Chromium with a fresh profile directory; returns stdout.
fn chromium(args: &[&str], url: &str) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} missing: run scripts/backends/install.sh (Debian package chromium)"
    );
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new("timeout")
        .arg("90")
        .arg(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of the first cell with `class` in the table row of component `id`.
fn cell(dom: &str, kind: &str, id: &str, class: &str) -> f64 {
    let row_start = format!("<tr data-kind=\"{kind}\" data-id=\"{id}\">");
    let row = dom.split(&row_start).nth(1).unwrap_or_else(|| panic!("no row {row_start} in:\n{dom}"));
    let row = row.split("</tr>").next().unwrap_or_default();
    let open = format!("<td class=\"{class}\">");
    let text = row.split(&open).nth(1).and_then(|r| r.split("</td>").next()).unwrap_or_default();
    text.parse().unwrap_or_else(|_| panic!("cell {class} of {id} is {text:?} in row {row}"))
}

fn artifact(name: &str) -> PathBuf {
    let dir = support::root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir.join(name)
}

#[test]
fn the_status_page_in_a_real_browser_shows_the_graph_and_moving_counters() {
    let sink = Sink::start(&[]);
    let (otlp, zp) = (free_port(), free_port());
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{otlp}"}}}}}}
processors:
  batch: {{timeout: 200ms}}
exporters:
  otlp/sink:
    endpoint: "{sink}"
    tls: {{insecure: true}}
    headers: {{x-api-key: "very-secret-key"}}
extensions:
  zpages: {{endpoint: "127.0.0.1:{zp}"}}
service:
  extensions: [zpages]
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [otlp/sink]}}
"#,
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&cfg, zp);
    let _traffic = Traffic::start(otlp, 200);
    let url = format!("http://127.0.0.1:{zp}/debug/statusz");
    let accepted = || {
        let json: serde_json::Value =
            serde_json::from_str(&support::http_get(&format!("127.0.0.1:{zp}"), "/debug/statusz.json").1)
                .unwrap_or_default();
        let otlp = json["components"].as_array().and_then(|c| c.iter().find(|c| c["id"] == "otlp").cloned());
        otlp.and_then(|c| c["totals"]["in"].as_f64()).unwrap_or(0.0)
    };
    assert!(
        wait_until(Duration::from_secs(20), || accepted() > 0.0 && sink.items("traces", None) > 0),
        "spans did not flow:\n{}",
        gw.logs()
    );

    let first = chromium(&["--dump-dom"], &url);
    // The graph: an inline SVG with every component of the pipeline as a node, and edges.
    let svg = first.split("<svg").nth(1).and_then(|s| s.split("</svg>").next()).expect("an inline SVG graph");
    for node in [
        "<g class=\"node receiver\" data-id=\"otlp\">",
        "<g class=\"node processor\" data-id=\"batch\">",
        "<g class=\"node exporter\" data-id=\"otlp/sink\">",
    ] {
        assert!(svg.contains(node), "{node} not in the graph:\n{svg}");
    }
    assert_eq!(svg.matches("class=\"edge\"").count(), 2, "otlp → batch → otlp/sink:\n{svg}");
    assert!(svg.contains("/s in"), "live rates on the nodes:\n{svg}");
    assert!(first.contains("<span class=\"bar\">") && first.contains("/1000</td>"), "queue fill per exporter");
    assert!(!first.contains("very-secret-key") && first.contains("[REDACTED]"), "the config is shown redacted");
    let in1 = cell(&first, "receiver", "otlp", "total-in");
    let sent1 = cell(&first, "exporter", "otlp/sink", "total-out");

    std::thread::sleep(Duration::from_millis(1500));
    let second = chromium(&["--dump-dom"], &url);
    let (in2, sent2) =
        (cell(&second, "receiver", "otlp", "total-in"), cell(&second, "exporter", "otlp/sink", "total-out"));
    assert!(in2 > in1, "accepted spans move while telemetry flows: {in1} then {in2}");
    assert!(sent2 > sent1, "sent spans move: {sent1} then {sent2}");
    assert!(cell(&second, "receiver", "otlp", "rate-in") > 0.0, "items/s in");

    let shot = artifact("zpages-status.png");
    let _ = std::fs::remove_file(&shot);
    chromium(&["--window-size=1400,1000", &format!("--screenshot={}", shot.display())], &url);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot ({} bytes)", png.len());

    let pz = chromium(&["--dump-dom"], &format!("http://127.0.0.1:{zp}/debug/pipelinez"));
    assert!(pz.contains("data-pipeline=\"traces\""), "{pz}");
    assert!(cell(&pz, "receiver", "otlp", "in") >= in2, "pipelinez reads the same counters");
    assert!(cell(&pz, "exporter", "otlp/sink", "out") > 0.0);
    assert_eq!(cell(&pz, "exporter", "otlp/sink", "queue-capacity"), 1000.0, "the Collector's default queue_size");
    for path in ["/debug/servicez", "/debug/extensionz", "/debug/featurez", "/debug/tracez"] {
        let (status, _) = support::http_get(&format!("127.0.0.1:{zp}"), path);
        assert_eq!(status, 200, "{path}");
    }
}

/// A GET returning the raw body bytes (a gzipped profile is not text).
fn get_bytes(addr: &str, path: &str) -> (u16, Vec<u8>) {
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(c, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
    let mut buf = Vec::new();
    c.read_to_end(&mut buf).expect("response");
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("headers") + 4;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = buf[split..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

/// The parts of `perftools.profiles.Profile` the test reads.
#[derive(Clone, PartialEq, prost::Message)]
struct Profile {
    #[prost(message, repeated, tag = "1")]
    sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    sample: Vec<ProfileSample>,
    #[prost(message, repeated, tag = "5")]
    function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    string_table: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ValueType {
    #[prost(int64, tag = "1")]
    r#type: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProfileSample {
    #[prost(uint64, repeated, tag = "1")]
    location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    value: Vec<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Function {
    #[prost(int64, tag = "2")]
    name: i64,
}

fn decode_profile(gz: &[u8]) -> (Profile, Vec<String>) {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).expect("the profile is gzipped, as Go's");
    let p = <Profile as prost::Message>::decode(raw.as_slice()).expect("a pprof Profile");
    let names = p.function.iter().map(|f| p.string_table[f.name as usize].clone()).collect();
    (p, names)
}

#[test]
fn pprof_serves_a_cpu_profile_of_the_gateway_and_saves_the_whole_run() {
    let sink = Sink::start(&[]);
    let (otlp, pp) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("tmp");
    let saved = dir.path().join("run.pprof");
    let cfg = |extra: &str| {
        format!(
            r#"
receivers:
  otlp: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{otlp}"}}}}}}
exporters:
  otlp/sink: {{endpoint: "{sink}", tls: {{insecure: true}}}}
# Work per span in Switchyard's own code, so the samples land there and not only in
# the HTTP/2 and allocator code a forwarding gateway mostly runs.
processors:
  attributes: {{actions: [{{key: profiled, value: "yes", action: upsert}}]}}
extensions:
  pprof: {{endpoint: "127.0.0.1:{pp}", block_profile_fraction: 3{extra}}}
service:
  extensions: [pprof]
  pipelines:
    traces: {{receivers: [otlp], processors: [attributes], exporters: [otlp/sink]}}
"#,
            sink = sink.grpc_endpoint()
        )
    };
    let mut gw = Gateway::start(&cfg(""), pp);
    assert!(gw.logs().contains("block_profile_fraction"), "the Go-only field is named in a warning:\n{}", gw.logs());
    let traffic = Traffic::start(otlp, 50_000);
    assert!(wait_until(Duration::from_secs(20), || sink.items("traces", None) > 0), "spans flow");
    let (status, body) = get_bytes(&format!("127.0.0.1:{pp}"), "/debug/pprof/profile?seconds=2");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let (p, names) = decode_profile(&body);
    assert!(!p.sample.is_empty(), "samples while spans flow");
    assert!(p.sample.iter().all(|s| !s.location_id.is_empty() && s.value.iter().all(|v| *v > 0)), "stacks and counts");
    let types: Vec<&str> = p.sample_type.iter().map(|t| p.string_table[t.r#type as usize].as_str()).collect();
    assert_eq!(types, ["samples", "cpu"], "a sample count and CPU time per stack, as Go's profiles");
    assert!(names.iter().any(|n| n.contains("switchyard_")), "switchyard's functions are named: {names:?}");
    let (status, body) = get_bytes(&format!("127.0.0.1:{pp}"), "/debug/pprof/heap");
    assert_eq!(status, 501, "{}", String::from_utf8_lossy(&body));
    drop(traffic);
    gw.stop();

    // save_to_file: a profile of the whole run, written when the gateway stops.
    let mut gw = Gateway::start(&cfg(&format!(", save_to_file: \"{}\"", saved.display())), pp);
    let traffic = Traffic::start(otlp, 50_000);
    std::thread::sleep(Duration::from_secs(2));
    drop(traffic);
    assert!(gw.stop().is_some_and(|s| s.success()), "clean exit:\n{}", gw.logs());
    let (p, names) = decode_profile(&std::fs::read(&saved).expect("saved at shutdown"));
    assert!(!p.sample.is_empty() && names.iter().any(|n| n.contains("switchyard_")), "{names:?}");
}

#[test]
fn recent_errors_on_the_status_page_name_the_exporter_that_cannot_reach_its_backend() {
    let (otlp, zp, dead) = (free_port(), free_port(), free_port());
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{otlp}"}}}}}}
exporters:
  otlp/dead:
    endpoint: "127.0.0.1:{dead}"
    tls: {{insecure: true}}
    timeout: 1s
    retry_on_failure: {{initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 1s}}
extensions:
  zpages: {{endpoint: "127.0.0.1:{zp}"}}
service:
  extensions: [zpages]
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp/dead]}}
"#
    );
    let gw = Gateway::start(&cfg, zp);
    let url = format!("http://127.0.0.1:{zp}/debug/statusz");
    let (_, before) = support::http_get(&format!("127.0.0.1:{zp}"), "/debug/statusz");
    assert!(before.contains("<h2>Recent errors</h2>") && before.contains("None so far."), "{before}");
    let _traffic = Traffic::start(otlp, 50);
    let logged = || {
        let json: serde_json::Value =
            serde_json::from_str(&support::http_get(&format!("127.0.0.1:{zp}"), "/debug/statusz.json").1)
                .unwrap_or_default();
        json["recent_errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["component"] == "exporter otlp/dead" && e["level"] == "ERROR"))
    };
    assert!(wait_until(Duration::from_secs(30), logged), "no exporter error in recent_errors:\n{}", gw.logs());

    let dom = chromium(&["--dump-dom"], &url);
    let table = dom
        .split("<table id=\"recent-errors\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no recent-errors table in:\n{dom}"));
    let rows: Vec<&str> = table.split("<tr class=\"recent-error\"").skip(1).collect();
    let dead_rows: Vec<&&str> = rows.iter().filter(|r| r.contains("exporter otlp/dead")).collect();
    assert!(!dead_rows.is_empty(), "the failing exporter is named:\n{table}");
    let err = dead_rows.iter().find(|r| r.contains("data-level=\"ERROR\"")).expect("a drop, logged as an error");
    let time = err.split("<td class=\"time\">").nth(1).and_then(|t| t.split("</td>").next()).unwrap_or_default();
    assert!(time.len() >= 20 && time.as_bytes()[4] == b'-' && time.contains('T'), "an RFC 3339 time: {time}");
    assert!(err.contains("dropped_items="), "the message says what was lost: {err}");
    // The same event is in the gateway's own log.
    assert!(gw.logs().contains("otlp/dead"), "{}", gw.logs());
}
