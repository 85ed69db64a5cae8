//! Tail sampling with the real binary: spans of each trace sent in several requests to two
//! receivers, decided together; what reaches the OTLP sink is checked trace by trace
//! against the Collector's rules (every error trace whole; healthy traces exactly where the
//! Collector's probabilistic hash keeps them).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::traces::{collector_keeps, hex, received, request, trace_id, S};
use support::{free_port, http_post_json, wait_until, Gateway, Sink};

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

/// Seed 002: "keep 100% of error spans, 5% of healthy traffic". 2,000 traces of 3 spans,
/// each span in its own request, alternating between the two receivers; one in ten has
/// an error on its last span, which arrives last. The same traces go to a second gateway,
/// which must decide the same (the hash is deterministic).
#[test]
fn seed_002_keeps_every_error_trace_whole_and_the_collectors_5_percent_of_the_rest() {
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
    let sinks = [Sink::start(&[]), Sink::start(&[])];
    let ports = [(free_port(), free_port()), (free_port(), free_port())];
    let gws: Vec<Gateway> =
        (0..2).map(|g| Gateway::start(&gateway_config(ports[g], &sinks[g], processor), ports[g].0)).collect();
    let run = format!("ts{}", std::process::id());
    let n = 2000u32;
    let ids: Vec<[u8; 16]> = (0..n).map(|i| trace_id(std::process::id(), i)).collect();
    for span in 1..=3u8 {
        for chunk in ids.chunks(100).enumerate() {
            let spans: Vec<S> = chunk
                .1
                .iter()
                .enumerate()
                .map(|(k, t)| S {
                    trace: *t,
                    span,
                    error: span == 3 && (chunk.0 * 100 + k) % 10 == 0,
                    start_ms: u64::from(span) * 10,
                    dur_ms: 5,
                })
                .collect();
            let body = request(&run, &spans);
            for p in &ports {
                let port = if span == 2 { p.1 } else { p.0 };
                assert_eq!(http_post_json(&format!("127.0.0.1:{port}"), "/v1/traces", &body), 200, "accepted");
            }
        }
    }
    let errors = (n / 10) as usize;
    let expected: BTreeSet<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, t)| i % 10 == 0 || collector_keeps(t, "default-hash-seed", 5.0))
        .map(|(_, t)| hex(t))
        .collect();
    let healthy_kept = (expected.len() - errors) as f64 / f64::from(n - n / 10);
    assert!((0.035..=0.065).contains(&healthy_kept), "3.5-6.5% of the healthy traces: {healthy_kept}");
    for (sink, gw) in sinks.iter().zip(&gws) {
        let arrived = wait_until(Duration::from_secs(30), || {
            let got = received(sink, &run);
            got.len() >= expected.len() && got.values().all(|s| s.len() == 3)
        });
        std::thread::sleep(Duration::from_millis(500));
        let got = received(sink, &run);
        assert!(arrived, "not all kept traces arrived whole: {} of {}\n{}", got.len(), expected.len(), gw.logs());
        let got_ids: BTreeSet<String> = got.keys().cloned().collect();
        assert_eq!(got_ids, expected, "exactly the Collector's decisions, on both gateways");
        assert!(got.values().all(|s| s.len() == 3), "every kept trace arrived whole");
        assert_eq!(sink.items("traces", Some(&run)), 3 * expected.len(), "no span twice");
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
            errors as f64
        );
    }
    eprintln!(
        "kept {} of {n} traces ({errors} with errors, {:.1}% of the healthy)",
        expected.len(),
        healthy_kept * 100.0
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
