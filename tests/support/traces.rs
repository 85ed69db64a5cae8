//! Traces built span by span for the sampling and load-balancing tests: fixed pseudo-random
//! trace ids, OTLP/JSON requests, what the sink received per trace, and the Collector's
//! probabilistic hash to predict its decisions.

use std::collections::{BTreeMap, BTreeSet};

use super::{items_of, Sink};

/// The Collector's `probabilistic` policy: FNV-1a 64 over the salt then the 16 id bytes,
/// kept when the hash is at most MaxUint64 × percentage / 100.
pub fn collector_keeps(trace_id: &[u8; 16], salt: &str, pct: f64) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in salt.as_bytes().iter().chain(trace_id) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let threshold = (u64::MAX as f64 * pct / 100.0) as u64;
    h <= threshold
}

/// A pseudo-random but fixed trace id per index.
pub fn trace_id(run: u32, i: u32) -> [u8; 16] {
    let mut id = [0u8; 16];
    let mut x = u64::from(run) << 32 | u64::from(i);
    for chunk in id.chunks_mut(8) {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        chunk.copy_from_slice(&(x ^ (x >> 29)).to_be_bytes());
    }
    id
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One span as OTLP/JSON.
pub struct S {
    pub trace: [u8; 16],
    pub span: u8,
    pub error: bool,
    pub start_ms: u64,
    pub dur_ms: u64,
}

pub fn request(run: &str, spans: &[S]) -> String {
    request_as(run, "checkout", spans)
}

/// Like [`request`], from service `service`.
pub fn request_as(run: &str, service: &str, spans: &[S]) -> String {
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
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}},{{"key":"run.id","value":{{"stringValue":"{run}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"t"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

/// Spans per trace id received by the sink.
pub fn received(sink: &Sink, run: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in sink.requests().iter().filter(|r| r["signal"] == "traces") {
        for i in items_of(&r["request"], Some(run)) {
            let tid = i.item["traceId"].as_str().unwrap_or_default().to_string();
            m.entry(tid).or_default().insert(i.item["spanId"].as_str().unwrap_or_default().to_string());
        }
    }
    m
}
