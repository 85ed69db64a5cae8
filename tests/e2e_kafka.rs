//! Kafka as the bus between a gateway tier and a consumer tier: traces, metrics and logs →
//! gateway A (`kafka` exporter) → a real Kafka-protocol broker (tansu) → gateway B (`kafka`
//! receiver) → OTLP sink. The consumer gateway is killed mid-stream and restarted: nothing
//! is lost (at-least-once: duplicates are counted and reported).

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use support::backends::Backend;
use support::{accepted_seqs, free_port, gen, gen_span_seqs, items_of, root, sdk_client, wait_until, Gateway, Sink};

fn create_topics(broker: &Backend, topics: &[&str]) {
    for t in topics {
        let out = Command::new("bash")
            .arg(root().join("scripts/backends/kafka-topic.sh"))
            .arg(broker.dir())
            .args(["create", t, "2"])
            .output()
            .expect("kafka-topic.sh");
        assert!(out.status.success(), "create topic {t}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

fn producer(grpc: u16, http: u16, broker: &str, extra: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
processors:
  batch:
    timeout: 100ms
exporters:
  kafka:
    brokers: [{broker}]
    # One OTLP batch per Kafka record batch: tansu 0.6 skips the rest of a record batch when
    # a consumer resumes from an offset inside it (Kafka does not); see scripts/backends/README.md.
    producer:
      flush_max_messages: 1
{extra}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
"#
    )
}

/// The consumer tier. Its exporter has no in-memory queue, so an offset is committed only
/// once the sink has the data (what at-least-once across a crash needs). Static membership
/// (`group_instance_id`): tansu 0.6 never evicts a member that died without leaving, so a
/// restarted consumer with a new member id would get no partitions (Kafka evicts it after
/// `session_timeout`); with the same instance id it takes the dead member's place.
fn consumer(health: u16, broker: &str, sink: &Sink, signals: &[&str]) -> String {
    let pipelines: String =
        signals.iter().map(|s| format!("    {s}:\n      receivers: [kafka]\n      exporters: [otlp]\n")).collect();
    format!(
        r#"
receivers:
  kafka:
    brokers: [{broker}]
    group_id: switchyard-e2e
    group_instance_id: e2e-consumer-1
    initial_offset: earliest
exporters:
  otlp:
    endpoint: {}
    tls:
      insecure: true
    sending_queue:
      enabled: false
extensions:
  health_check:
    endpoint: 127.0.0.1:{health}
service:
  extensions: [health_check]
  pipelines:
{pipelines}"#,
        sink.grpc_endpoint()
    )
}

#[test]
fn traces_metrics_and_logs_cross_kafka_to_a_second_gateway_unchanged() {
    let broker = Backend::start("kafka", &[]);
    create_topics(&broker, &["otlp_spans", "otlp_metrics", "otlp_logs"]);
    let sink = Sink::start(&[]);
    let (grpc, http, health) = (free_port(), free_port(), free_port());
    let a = Gateway::start(&producer(grpc, http, &broker.url, ""), grpc);
    let b = Gateway::start(&consumer(health, &broker.url, &sink, &["traces", "metrics", "logs"]), health);
    let n = 30;
    let rid = format!("kafka{}", std::process::id());
    let out = sdk_client("grpc", &format!("http://127.0.0.1:{grpc}"), n, &rid, &[]);
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));

    let arrived = wait_until(Duration::from_secs(30), || {
        sink.items("traces", Some(&rid)) >= n
            && sink.items("metrics", Some(&rid)) >= 3 * n
            && sink.items("logs", Some(&rid)) >= n
    });
    assert!(
        arrived,
        "sink got {}/{}/{}\nA:\n{}\nB:\n{}",
        sink.items("traces", Some(&rid)),
        sink.items("metrics", Some(&rid)),
        sink.items("logs", Some(&rid)),
        a.logs(),
        b.logs()
    );
    std::thread::sleep(Duration::from_millis(500));
    // Exact counts: nothing lost, nothing doubled.
    assert_eq!(sink.items("traces", Some(&rid)), n);
    assert_eq!(sink.items("metrics", Some(&rid)), 3 * n);
    assert_eq!(sink.items("logs", Some(&rid)), n);
    // Content: every span and log record with its attributes, resource and ids.
    for signal in ["traces", "logs"] {
        let items: Vec<_> = sink
            .requests()
            .iter()
            .filter(|r| r["signal"] == signal)
            .flat_map(|r| items_of(&r["request"], Some(&rid)))
            .collect();
        let seqs: BTreeSet<String> = items.iter().filter_map(|i| i.attr("seq")).collect();
        assert_eq!(seqs.len(), n, "{signal}: {seqs:?}");
        assert!(items.iter().all(|i| i.resource_attr("service.name").as_deref() == Some("e2e-client")));
        if signal == "traces" {
            assert!(items.iter().all(|i| i.item["traceId"].as_str().map(str::len) == Some(32)), "{signal}");
            assert!(items
                .iter()
                .all(|i| i.item["events"][0]["name"] == "work" || i.attr("seq").as_deref() == Some("0")));
        } else {
            assert!(items.iter().all(|i| i.item["body"]["stringValue"].as_str().is_some_and(|b| b.contains(&rid))));
        }
    }
    assert!(a.has_metric("otelcol_exporter_send_failed_spans"), "{}", a.logs());
    assert_eq!(a.metric("otelcol_exporter_send_failed_spans"), 0.0, "{}", a.logs());
}

#[test]
fn killing_the_consumer_gateway_mid_stream_loses_nothing() {
    let broker = Backend::start("kafka", &[]);
    create_topics(&broker, &["otlp_spans"]);
    let sink = Sink::start(&[]);
    let (grpc, http, health) = (free_port(), free_port(), free_port());
    let _a = Gateway::start(&producer(grpc, http, &broker.url, ""), http);
    let consumer_cfg = consumer(health, &broker.url, &sink, &["traces"]);
    let mut b = Gateway::start(&consumer_cfg, health);
    let dir = tempfile::tempdir().expect("tempdir");
    let acc = dir.path().join("accepted.txt");
    let producer = {
        let (endpoint, acc) = (format!("http://127.0.0.1:{http}"), acc.clone());
        std::thread::spawn(move || {
            gen(&[
                "traces",
                "--protocol",
                "http",
                "--endpoint",
                &endpoint,
                "--rate",
                "3000",
                "--batch-size",
                "50",
                "--workers",
                "2",
                "--duration",
                "10s",
                "--accepted-file",
                &acc.display().to_string(),
            ])
        })
    };
    // Kill the consumer (SIGKILL: no shutdown, no final commit) while data flows, then restart it.
    let flowing = wait_until(Duration::from_secs(8), || gen_span_seqs(&sink).len() >= 2000);
    assert!(flowing, "the consumer delivered nothing before the kill:\n{}", b.logs());
    let before_kill = gen_span_seqs(&sink).len();
    b.kill();
    std::thread::sleep(Duration::from_secs(1));
    let b2 = Gateway::start(&consumer_cfg, health);
    let report = producer.join().expect("producer");
    let want: BTreeSet<u64> = accepted_seqs(&acc).into_iter().collect();
    assert!(want.len() >= 10_000, "producer sent too little: {report}");
    let ok = wait_until(Duration::from_secs(60), || {
        let got: BTreeSet<u64> = gen_span_seqs(&sink).into_iter().collect();
        want.is_subset(&got)
    });
    let got = gen_span_seqs(&sink);
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    let missing = want.difference(&unique).count();
    assert!(
        ok && missing == 0,
        "{missing} of {} accepted spans never arrived\nB after restart:\n{}",
        want.len(),
        b2.logs()
    );
    let duplicates = got.len() - unique.len();
    eprintln!(
        "kafka consumer killed after {before_kill} spans: {} accepted, all delivered, {duplicates} duplicates (at-least-once redelivery)",
        want.len()
    );
    assert!(before_kill > 0, "the consumer was killed mid-stream, not before it started");
}

#[test]
fn the_seed_kafka_producer_and_consumer_examples_run_as_shipped() {
    let broker = Backend::start("kafka", &[]);
    create_topics(&broker, &["telemetry-traces"]);
    let sink = Sink::start(&[]);
    let grpc = free_port();
    let example = |name: &str| std::fs::read_to_string(root().join("examples").join(name)).expect("example");
    // Only the endpoints change: the seed's three brokers become the one test broker.
    let producer_cfg = example("kafka-producer.yaml").replace("0.0.0.0:4317", &format!("127.0.0.1:{grpc}")).replace(
        "      - kafka-0:9092\n      - kafka-1:9092\n      - kafka-2:9092",
        &format!("      - {}", broker.url),
    );
    let _a = Gateway::start(&producer_cfg, grpc);
    let consumer_cfg = example("kafka-consumer.yaml")
        .replace("kafka-0:9092", &broker.url)
        .replace("backend:4317", &sink.grpc_endpoint());
    let b = Gateway::start(&consumer_cfg, 0);
    let rid = format!("seedkafka{}", std::process::id());
    let n = 40;
    let out = sdk_client("grpc", &format!("http://127.0.0.1:{grpc}"), n, &rid, &["--signals", "traces"]);
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));
    let ok = wait_until(Duration::from_secs(30), || sink.items("traces", Some(&rid)) >= n);
    assert!(ok, "sink got {} of {n}\n{}", sink.items("traces", Some(&rid)), b.logs());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sink.items("traces", Some(&rid)), n);
}
