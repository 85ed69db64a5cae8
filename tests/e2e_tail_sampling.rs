//! Tail sampling with the real binary: spans of each trace sent in several requests to two
//! receivers, decided together; what reaches the OTLP sink is checked trace by trace
//! against the Collector's rules (every error trace whole; healthy traces exactly where the
//! Collector's probabilistic hash keeps them).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use support::{free_port, http_post_json, items_of, wait_until, Gateway, Sink};

/// The Collector's `probabilistic` policy: FNV-1a 64 over the salt then the 16 id bytes,
/// kept when the hash is at most MaxUint64 × percentage / 100.
fn collector_keeps(trace_id: &[u8; 16], salt: &str, pct: f64) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in salt.as_bytes().iter().chain(trace_id) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let threshold = (u64::MAX as f64 * pct / 100.0) as u64;
    h <= threshold
}

/// A pseudo-random but fixed trace id per index.
fn trace_id(run: u32, i: u32) -> [u8; 16] {
    let mut id = [0u8; 16];
    let mut x = u64::from(run) << 32 | u64::from(i);
    for chunk in id.chunks_mut(8) {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        chunk.copy_from_slice(&(x ^ (x >> 29)).to_be_bytes());
    }
    id
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One span as OTLP/JSON.
struct S {
    trace: [u8; 16],
    span: u8,
    error: bool,
    start_ms: u64,
    dur_ms: u64,
}

fn request(run: &str, spans: &[S]) -> String {
    let base: u64 = 1_700_000_000_000;
    let spans: Vec<String> = spans
        .iter()
        .map(|s| {
            let mut sid = [0u8; 8];
            sid[..4].copy_from_slice(&s.trace[..4]);
            sid[7] = s.span;
            let mut parent = sid;
            parent[7] = 1;
            let parent = if s.span == 1 { String::new() } else { hex(&parent) };
            let start = (base + s.start_ms) * 1_000_000;
            let end = start + s.dur_ms * 1_000_000;
            format!(
                r#"{{"traceId":"{}","spanId":"{}","parentSpanId":"{parent}","name":"op{}","kind":2,"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}","status":{{"code":{}}}}}"#,
                hex(&s.trace),
                hex(&sid),
                s.span,
                if s.error { 2 } else { 0 }
            )
        })
        .collect();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"checkout"}}}},{{"key":"run.id","value":{{"stringValue":"{run}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"t"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

/// Spans per trace id received by the sink.
fn received(sink: &Sink, run: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in sink.requests().iter().filter(|r| r["signal"] == "traces") {
        for i in items_of(&r["request"], Some(run)) {
            let tid = i.item["traceId"].as_str().unwrap_or_default().to_string();
            m.entry(tid).or_default().insert(i.item["spanId"].as_str().unwrap_or_default().to_string());
        }
    }
    m
}

fn gateway_config(ports: (u16, u16), sink: &Sink, processor: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{a}
  otlp/second:
    protocols:
      http:
        endpoint: 127.0.0.1:{b}
processors:
{processor}
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp, otlp/second]
      processors: [tail_sampling]
      exporters: [otlp]
"#,
        a = ports.0,
        b = ports.1,
        sink = sink.grpc_endpoint()
    )
}

/// Seed 002: "keep 100% of error spans, 5% of healthy traffic". 400 traces of 3 spans,
/// each span in its own request, alternating between the two receivers; one in ten has
/// an error on its last span, which arrives last.
#[test]
fn seed_002_keeps_every_error_trace_whole_and_the_collectors_5_percent_of_the_rest() {
    let sink = Sink::start(&[]);
    let ports = (free_port(), free_port());
    let processor = r#"  tail_sampling:
    decision_wait: 2s
    policies:
      - name: errors
        type: status_code
        status_code:
          status_codes: [ERROR]
      - name: healthy-5-percent
        type: probabilistic
        probabilistic:
          sampling_percentage: 5
"#;
    let gw = Gateway::start(&gateway_config(ports, &sink, processor), ports.0);
    let run = format!("ts{}", std::process::id());
    let n = 400u32;
    let ids: Vec<[u8; 16]> = (0..n).map(|i| trace_id(std::process::id(), i)).collect();
    for span in 1..=3u8 {
        let port = if span == 2 { ports.1 } else { ports.0 };
        for chunk in ids.chunks(50).enumerate() {
            let spans: Vec<S> = chunk
                .1
                .iter()
                .enumerate()
                .map(|(k, t)| S {
                    trace: *t,
                    span,
                    error: span == 3 && (chunk.0 * 50 + k) % 10 == 0,
                    start_ms: u64::from(span) * 10,
                    dur_ms: 5,
                })
                .collect();
            let status = http_post_json(&format!("127.0.0.1:{port}"), "/v1/traces", &request(&run, &spans));
            assert_eq!(status, 200, "request accepted");
        }
    }
    let expected: BTreeSet<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, t)| i % 10 == 0 || collector_keeps(t, "default-hash-seed", 5.0))
        .map(|(_, t)| hex(t))
        .collect();
    let healthy_kept = expected.len() - 40;
    assert!((4..=45).contains(&healthy_kept), "about 5% of 360 healthy traces: {healthy_kept}");
    let arrived = wait_until(Duration::from_secs(20), || {
        let got = received(&sink, &run);
        got.len() >= expected.len() && got.values().all(|s| s.len() == 3)
    });
    std::thread::sleep(Duration::from_millis(500));
    let got = received(&sink, &run);
    assert!(arrived, "not all kept traces arrived whole: {} of {}\n{}", got.len(), expected.len(), gw.logs());
    let got_ids: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(got_ids, expected, "exactly the Collector's decisions");
    assert!(got.values().all(|s| s.len() == 3), "every kept trace arrived whole");
    assert_eq!(gw.metric("otelcol_processor_tail_sampling_new_trace_id_received"), f64::from(n));
    assert_eq!(
        gw.metric_with("otelcol_processor_tail_sampling_global_count_traces_sampled", &["sampled=\"true\""]),
        expected.len() as f64
    );
    assert_eq!(
        gw.metric_with(
            "otelcol_processor_tail_sampling_count_traces_sampled",
            &["policy=\"errors\"", "sampled=\"true\""]
        ),
        40.0
    );
}

/// Seed 001's block as written (30 s wait, 100000 traces, errors / slow / 10%): stopping
/// the gateway decides what is still waiting, so the error and slow traces arrive.
#[test]
fn seed_001_policies_decide_pending_traces_at_shutdown() {
    let sink = Sink::start(&[]);
    let ports = (free_port(), free_port());
    let processor = r#"  tail_sampling:
    decision_wait: 30s
    num_traces: 100000
    policies:
      - name: errors
        type: status_code
        status_code:
          status_codes: [ERROR]
      - name: slow-requests
        type: latency
        latency:
          threshold_ms: 1000
      - name: probabilistic
        type: probabilistic
        probabilistic:
          sampling_percentage: 10
"#;
    let mut gw = Gateway::start(&gateway_config(ports, &sink, processor), ports.0);
    let run = format!("ts1-{}", std::process::id());
    let ids: Vec<[u8; 16]> = (0..100).map(|i| trace_id(std::process::id() + 7, i)).collect();
    // Trace 0: an error; trace 1: slow (root 1.5 s); the rest healthy and fast.
    let spans: Vec<S> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            [1u8, 2].map(|span| S {
                trace: *t,
                span,
                error: i == 0 && span == 2,
                start_ms: 0,
                dur_ms: if i == 1 && span == 1 { 1500 } else { 20 },
            })
        })
        .collect();
    assert_eq!(http_post_json(&format!("127.0.0.1:{}", ports.1), "/v1/traces", &request(&run, &spans)), 200);
    std::thread::sleep(Duration::from_millis(500));
    assert!(received(&sink, &run).is_empty(), "held for decision_wait");
    assert!(gw.stop().is_some_and(|s| s.success()), "clean stop:\n{}", gw.logs());
    let expected: BTreeSet<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, t)| *i < 2 || collector_keeps(t, "default-hash-seed", 10.0))
        .map(|(_, t)| hex(t))
        .collect();
    let got = received(&sink, &run);
    assert_eq!(got.keys().cloned().collect::<BTreeSet<_>>(), expected, "decided at shutdown as the Collector would");
    assert!(got.values().all(|s| s.len() == 2));
}
