//! The receiver's config, decoding and consumer properties; and the round trip exporter →
//! Kafka → receiver, against librdkafka's in-process mock cluster (always) and against a
//! real broker when `SWITCHYARD_KAFKA=host:port` is set (`#[ignore]`d otherwise).

use std::time::Duration;

use prost::Message;
use switchyard_core::component::{ComponentConfig, Kind, ReceiverFactory, ReceiverOutputs};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue};
use switchyard_pdata::{Logs, Signal, SignalData, Traces};

use super::decode::{decode, extract_headers, request_context};
use super::*;
use crate::otlp_signal::OtlpSignal;

fn parse(yaml: &str) -> Result<KafkaReceiverConfig, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "kafka").map_err(|e| e.to_string())
}

fn cfg(yaml: &str) -> KafkaReceiverConfig {
    match parse(yaml) {
        Ok(c) => c,
        Err(e) => panic!("config: {e}"),
    }
}

fn fields(c: &KafkaReceiverConfig) -> Vec<(String, String)> {
    c.validate().into_iter().map(|e| (e.field, e.message)).collect()
}

#[test]
fn defaults_are_the_collectors() {
    let c = cfg("{}");
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    assert_eq!(c.topics_for(Signal::Traces), vec!["otlp_spans"]);
    assert_eq!(c.topics_for(Signal::Metrics), vec!["otlp_metrics"]);
    assert_eq!(c.topics_for(Signal::Logs), vec!["otlp_logs"]);
    assert_eq!(c.encoding_for(Signal::Traces), Ok(ReceiveEncoding::OtlpProto));
    assert_eq!(c.group_id, "otel-collector");
    assert_eq!(c.initial_offset, "latest");
    assert_eq!(c.session_timeout, Duration::from_secs(10));
    assert_eq!(c.heartbeat_interval, Duration::from_secs(3));
    assert!(c.autocommit.enable);
    assert!(!c.error_backoff.enabled);
    assert!(c.message_marking.skip_permanent());
    assert!(!c.message_marking.skip_exhausted());
}

#[test]
fn the_seed_configs_deprecated_topic_and_encoding_apply_to_every_signal() {
    // From "Collector with Kafka" (seed 001).
    let c = cfg("brokers:\n  - kafka-0:9092\ntopic: telemetry-traces\nencoding: otlp_proto\ngroup_id: otel-consumer\n");
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    assert_eq!(c.topics_for(Signal::Traces), vec!["telemetry-traces"]);
    assert_eq!(c.topics_for(Signal::Logs), vec!["telemetry-traces"]);
    assert_eq!(c.deprecations().len(), 2);
    let p = c.consumer_config(None);
    assert_eq!(p.get("group.id"), Some("otel-consumer"));
    assert_eq!(p.get("bootstrap.servers"), Some("kafka-0:9092"));
    let c = cfg("topic: all\nencoding: raw\nlogs:\n  topics: [a, ^b-.*]\n");
    assert_eq!(c.topics_for(Signal::Logs), vec!["a", "^b-.*"]);
    assert_eq!(c.encoding_for(Signal::Logs), Ok(ReceiveEncoding::Raw));
    assert!(c.encoding_for(Signal::Traces).is_err());
    // A traces pipeline cannot take `raw`: the receiver is not built.
    let sink = switchyard_core::testing::SinkConsumer::<Traces>::new();
    let out = ReceiverOutputs { traces: Some(sink), ..Default::default() };
    let set = switchyard_core::testing::settings(Kind::Receiver, "kafka");
    let err = KafkaReceiverFactory.create(set, &c, out).err().expect("refused");
    assert!(err.message.contains("traces::encoding"), "{err}");
}

#[test]
fn consumer_properties_make_offsets_explicit() {
    let c = cfg(
        "client_id: gw\ngroup_id: g\ninitial_offset: earliest\nsession_timeout: 30s\nheartbeat_interval: 5s\ngroup_instance_id: pod-1\nmin_fetch_size: 10\nmax_fetch_size: 2000000\nmax_partition_fetch_size: 500000\nmax_fetch_wait: 100ms\nautocommit:\n  interval: 2s\nrack_id: r1\nmetadata:\n  refresh_interval: 1m\n",
    );
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    let p = c.consumer_config(Some("traces"));
    if let Err(e) = p.create_native_config() {
        panic!("librdkafka refused: {e}");
    }
    for (k, v) in [
        ("client.id", "gw"),
        ("group.id", "g"),
        ("auto.offset.reset", "earliest"),
        ("session.timeout.ms", "30000"),
        ("heartbeat.interval.ms", "5000"),
        ("enable.auto.offset.store", "false"),
        ("enable.auto.commit", "true"),
        ("auto.commit.interval.ms", "2000"),
        ("max.poll.interval.ms", "300000"),
        ("group.instance.id", "pod-1-traces"),
        ("partition.assignment.strategy", "cooperative-sticky"),
        ("fetch.min.bytes", "10"),
        ("fetch.max.bytes", "2000000"),
        ("max.partition.fetch.bytes", "500000"),
        ("fetch.wait.max.ms", "100"),
        ("client.rack", "r1"),
        ("topic.metadata.refresh.interval.ms", "60000"),
    ] {
        assert_eq!(p.get(k), Some(v), "{k}");
    }
    let p =
        cfg("autocommit:\n  enable: false\nmax_fetch_size: 500000\ngroup_rebalance_strategies: [range, roundrobin]\n")
            .consumer_config(None);
    assert_eq!(p.get("enable.auto.commit"), Some("false"));
    assert_eq!(p.get("partition.assignment.strategy"), Some("range,roundrobin"));
    assert_eq!(p.get("message.max.bytes"), Some("500000"));
    assert!(p.create_native_config().is_ok());
}

#[test]
fn invalid_values_are_reported_by_field() {
    let c = cfg(
        "initial_offset: newest\ntraces:\n  encoding: zipkin_thrift\n  exclude_topics: [x]\nlogs:\n  encoding: text_shift_jis\ngroup_rebalance_strategies: [sticky]\nheartbeat_interval: 20s\nauth:\n  sasl:\n    mechanism: OAUTHBEARER\n",
    );
    let e = fields(&c);
    let names: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    for want in [
        "initial_offset",
        "traces::encoding",
        "traces::exclude_topics",
        "logs::encoding",
        "group_rebalance_strategies",
        "heartbeat_interval",
        "auth::sasl::mechanism",
    ] {
        assert!(names.contains(&want), "{want} missing from {e:?}");
    }
    let e = parse("autocomit:\n  enable: false\n").expect_err("refused");
    assert!(e.contains("did you mean \"autocommit\""), "{e}");
    let e = parse("message_marking:\n  on_eror: true\n").expect_err("refused");
    assert!(e.contains("did you mean \"on_error\""), "{e}");
    let c = cfg("error_backoff:\n  enabled: true\n  multiplier: 0.5\n");
    assert_eq!(fields(&c)[0].0, "error_backoff::multiplier");
}

#[test]
fn message_marking_decides_what_a_refused_message_becomes() {
    let m =
        |after, on_error, on_perm: Option<bool>| MessageMarkingConfig { after, on_error, on_permanent_error: on_perm };
    assert!(m(false, false, None).skip_permanent());
    assert!(!m(true, false, None).skip_permanent());
    assert!(m(true, true, None).skip_permanent());
    assert!(m(true, false, Some(true)).skip_permanent());
    assert!(!m(true, true, Some(false)).skip_permanent());
    assert!(m(true, true, None).skip_exhausted());
    assert!(!m(false, true, None).skip_exhausted());
}

#[test]
fn values_decode_per_encoding() {
    let traces = switchyard_core::testing::traces(3);
    let proto = traces.request().encode_to_vec();
    let from_proto = decode::<Traces>(ReceiveEncoding::OtlpProto, &proto).expect("proto");
    assert!(from_proto.is_encoded(), "otlp_proto keeps the message's bytes until someone reads the fields");
    assert_eq!(from_proto.item_count(), 3);
    assert_eq!(*from_proto.request(), *traces.request());
    let json = Traces::encode_json(traces.request()).expect("json");
    assert_eq!(*decode::<Traces>(ReceiveEncoding::OtlpJson, &json).expect("json").request(), *traces.request());
    assert!(decode::<Traces>(ReceiveEncoding::OtlpProto, b"\xff\xff\xff").is_err());
    assert!(decode::<Traces>(ReceiveEncoding::OtlpJson, b"{").is_err());
    assert_eq!(
        *decode::<Traces>(ReceiveEncoding::OtlpProto, b"").expect("empty").request(),
        ExportTraceServiceRequest::default()
    );

    let body = |r: &ExportLogsServiceRequest| r.resource_logs[0].scope_logs[0].log_records[0].body.clone();
    let raw = decode::<Logs>(ReceiveEncoding::Raw, b"\x00abc").expect("raw").into_request();
    assert_eq!(body(&raw), Some(AnyValue { value: Some(any_value::Value::BytesValue(b"\x00abc".to_vec())) }));
    let text = decode::<Logs>(ReceiveEncoding::Text, "héllo".as_bytes()).expect("text").into_request();
    assert_eq!(body(&text), Some(AnyValue { value: Some(any_value::Value::StringValue("héllo".into())) }));
    assert!(text.resource_logs[0].scope_logs[0].log_records[0].observed_time_unix_nano > 0);
    let json = decode::<Logs>(ReceiveEncoding::Json, br#"{"n": 1, "s": "x", "l": [true, null]}"#)
        .expect("json")
        .into_request();
    let Some(any_value::Value::KvlistValue(kv)) = body(&json).and_then(|b| b.value) else { panic!("not a map") };
    let get = |k: &str| kv.values.iter().find(|v| v.key == k).and_then(|v| v.value.clone()).and_then(|v| v.value);
    assert_eq!(get("n"), Some(any_value::Value::DoubleValue(1.0)));
    assert_eq!(get("s"), Some(any_value::Value::StringValue("x".into())));
    assert!(matches!(get("l"), Some(any_value::Value::ArrayValue(a)) if a.values.len() == 2));
    assert!(decode::<Logs>(ReceiveEncoding::Json, b"[1]").is_err());
    assert!(decode::<Traces>(ReceiveEncoding::Raw, b"x").is_err());
}

#[test]
fn headers_become_resource_attributes_and_client_metadata() {
    let mut req = switchyard_core::testing::traces(1).request().clone();
    req.resource_spans.push(req.resource_spans[0].clone());
    req.resource_spans[1].resource = None;
    let headers = vec![("tenant".to_string(), b"acme".to_vec()), ("bad header".to_string(), b"x".to_vec())];
    let wanted = vec!["tenant".to_string(), "absent".to_string()];
    let missing = extract_headers::<Traces>(&mut req, &wanted, &headers);
    assert_eq!(missing, vec!["absent"]);
    for rs in &req.resource_spans {
        let attrs = &rs.resource.as_ref().expect("resource").attributes;
        let v = attrs.iter().find(|kv| kv.key == "kafka.header.tenant").and_then(|kv| kv.value.clone());
        assert_eq!(v, Some(AnyValue { value: Some(any_value::Value::StringValue("acme".into())) }));
    }
    let cx = request_context(&headers);
    assert_eq!(cx.metadata_values("tenant"), vec!["acme"]);
    assert!(request_context(&[]).metadata.is_none());
}

#[tokio::test]
async fn starts_and_stops_without_a_broker() {
    let c = cfg("brokers: [127.0.0.1:1]\n");
    let out = || ReceiverOutputs {
        traces: Some(switchyard_core::testing::SinkConsumer::<Traces>::new()),
        logs: Some(switchyard_core::testing::SinkConsumer::<Logs>::new()),
        ..Default::default()
    };
    let set = switchyard_core::testing::settings(Kind::Receiver, "kafka");
    let started = KafkaReceiverFactory.create(set.clone(), &c, out()).expect("create");
    let never = KafkaReceiverFactory.create(set, &c, out()).expect("create");
    let check = switchyard_core::testing::lifecycle_check(started.as_ref(), never.as_ref());
    tokio::time::timeout(Duration::from_secs(20), check).await.expect("start and shutdown must not hang");
}

#[cfg(feature = "exporter-kafka")]
mod round_trip {
    //! Exporter → Kafka → receiver. With librdkafka's mock cluster always; with a real
    //! broker (`SWITCHYARD_KAFKA=127.0.0.1:19192`, e.g. tansu from
    //! `scripts/backends/kafka-start.sh`) in the `#[ignore]`d variant.

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use rdkafka::ClientConfig;
    use switchyard_core::component::{Component, Host, Kind, ReceiverFactory, ReceiverOutputs};
    use switchyard_core::consumer::{ConsumeError, RequestContext};
    use switchyard_core::exporterhelper::Sender;
    use switchyard_core::telemetry::Telemetry;
    use switchyard_core::testing::SinkConsumer;
    use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
    use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use switchyard_pdata::{SignalData, Traces};

    use super::super::{KafkaReceiverConfig, KafkaReceiverFactory};
    use crate::exporters::kafka::{standalone_sender, KafkaExporterConfig};

    fn unique(prefix: &str) -> String {
        let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("{prefix}-{n}")
    }

    fn from_yaml<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
        let node = switchyard_core::config::parse("t.yaml", yaml).expect("yaml");
        switchyard_core::config::from_node(&node, "kafka").expect("config")
    }

    /// `traces` traces of `spans` spans each, trace ids starting at `first`.
    fn batch(first: u8, traces: u8, spans: u8) -> Traces {
        let spans = (0..traces)
            .flat_map(|t| {
                (0..spans).map(move |s| Span {
                    trace_id: vec![first + t; 16],
                    span_id: vec![s + 1; 8],
                    name: format!("t{}s{s}", first + t),
                    ..Default::default()
                })
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            }],
        }
        .into()
    }

    async fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(start.elapsed() < limit, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn receiver(
        servers: &str,
        topic: &str,
        group: &str,
        telemetry: &Telemetry,
        sink: Arc<SinkConsumer<Traces>>,
    ) -> Box<dyn Component> {
        // A short session: the mock cluster waits up to it for members to rejoin a rebalance.
        let cfg: KafkaReceiverConfig = from_yaml(&format!(
            "brokers: [{servers}]\ngroup_id: {group}\ninitial_offset: earliest\nsession_timeout: 6s\nheartbeat_interval: 1s\ntraces:\n  topics: [{topic}]\nheader_extraction:\n  extract_headers: true\n  headers: [otelcol.signal]\nautocommit:\n  interval: 100ms\n"
        ));
        let mut set = switchyard_core::testing::settings(Kind::Receiver, "kafka");
        set.telemetry = telemetry.clone();
        let out = ReceiverOutputs { traces: Some(sink), ..Default::default() };
        KafkaReceiverFactory.create(set, &cfg, out).expect("create")
    }

    /// `flush_max_messages: 1`: one message per record batch. tansu 0.6.0 answers a fetch
    /// from an offset inside a record batch with the batches after it, skipping the rest of
    /// that batch (Kafka returns the whole batch), which a consumer resuming mid-batch (after
    /// a pause, a rebalance or a commit) would otherwise hit.
    fn exporter_with(servers: &str, topic: &str, extra: &str) -> Box<dyn Sender<Traces>> {
        let cfg: KafkaExporterConfig = from_yaml(&format!(
            "brokers: [{servers}]\ntimeout: 10s\nsignal_header: true\nproducer:\n  flush_max_messages: 1\ntraces:\n  topic: {topic}\n{extra}"
        ));
        standalone_sender::<Traces>(&cfg).expect("sender")
    }

    fn exporter(servers: &str, topic: &str) -> Box<dyn Sender<Traces>> {
        exporter_with(servers, topic, "partition_traces_by_id: true\n")
    }

    fn gauge(t: &Telemetry, name: &str) -> Option<f64> {
        t.metrics.render(false).lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
    }

    /// The scenario, on any broker where `topic` exists (3 partitions).
    async fn scenario(servers: &str, topic: &str) {
        let group = unique("sy-group");
        let sender = exporter(servers, topic);
        let cx = RequestContext::default();
        let mut produced = 0;
        for i in 0..5u8 {
            let b = batch(1 + i * 3, 3, 2);
            produced += b.item_count();
            if let Err(e) = sender.send(&cx, &b).await {
                panic!("produce: {e}");
            }
        }

        // The pipeline pushes back at first: nothing may be lost, the consumer pauses.
        let telemetry = Telemetry::default();
        let sink = SinkConsumer::<Traces>::new();
        sink.fail_with(Some(ConsumeError::retryable("sending queue is full")));
        let r = receiver(servers, topic, &group, &telemetry, sink.clone());
        r.start(&Host::default()).await.expect("start");
        wait_for("the consumer to pause", Duration::from_secs(30), || {
            gauge(&telemetry, "switchyard_receiver_kafka_paused") == Some(1.0)
        })
        .await;
        assert_eq!(sink.item_count(), 0);
        sink.fail_with(None);
        wait_for("every span", Duration::from_secs(30), || sink.item_count() >= produced).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sink.item_count(), produced, "no duplicates without a restart");
        for (cx, b) in sink.contexts().iter().zip(sink.batches()) {
            assert_eq!(cx.metadata_values("otelcol.signal"), vec!["traces"]);
            let attrs = &b.request().resource_spans[0].resource.as_ref().expect("resource").attributes;
            assert!(attrs.iter().any(|kv| kv.key == "kafka.header.otelcol.signal"));
        }
        assert_eq!(gauge(&telemetry, "switchyard_receiver_kafka_paused"), Some(0.0));
        r.shutdown().await;

        // Offsets were committed: the same group restarts after them.
        let sink2 = SinkConsumer::<Traces>::new();
        let r2 = receiver(servers, topic, &group, &Telemetry::default(), sink2.clone());
        r2.start(&Host::default()).await.expect("start");
        let last = batch(100, 1, 2);
        if let Err(e) = sender.send(&cx, &last).await {
            panic!("produce: {e}");
        }
        wait_for("the new batch", Duration::from_secs(30), || sink2.item_count() >= 2).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(sink2.item_count(), 2, "only what was produced after the commit");
        r2.shutdown().await;
    }

    fn span_names(sinks: &[&Arc<SinkConsumer<Traces>>]) -> std::collections::BTreeSet<String> {
        sinks
            .iter()
            .flat_map(|s| s.batches())
            .flat_map(|b| {
                b.request()
                    .resource_spans
                    .iter()
                    .flat_map(|rs| &rs.scope_spans)
                    .flat_map(|ss| &ss.spans)
                    .map(|s| s.name.clone())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// A consumer paused by backpressure still serves a rebalance: a second member of the
    /// group gets its share of partitions while the first is still paused, and nothing is
    /// lost.
    async fn rebalance_while_paused(servers: &str, topic: &str) {
        let group = unique("sy-group");
        // Unkeyed messages spread at random: every partition gets some.
        let sender = exporter_with(servers, topic, "record_partitioner:\n  round_robin: {}\n");
        let mut produced = 0;
        for i in 0..32u8 {
            let b = batch(1 + i, 1, 1);
            produced += b.item_count();
            if let Err(e) = sender.send(&RequestContext::default(), &b).await {
                panic!("produce: {e}");
            }
        }
        let ta = Telemetry::default();
        let a = SinkConsumer::<Traces>::new();
        a.fail_with(Some(ConsumeError::retryable("memory limit")));
        let ra = receiver(servers, topic, &group, &ta, a.clone());
        ra.start(&Host::default()).await.expect("start");
        wait_for("A to pause", Duration::from_secs(30), || gauge(&ta, "switchyard_receiver_kafka_paused") == Some(1.0))
            .await;
        let b = SinkConsumer::<Traces>::new();
        let rb = receiver(servers, topic, &group, &Telemetry::default(), b.clone());
        rb.start(&Host::default()).await.expect("start");
        // Rebalances on librdkafka's mock cluster are slow and take a varying number of
        // rounds: each round waits `session_timeout` - 1 s (5 s here) for members to join,
        // cooperative-sticky needs two rounds (A gives partitions up, then B gets them), and
        // the mock answers INVALID_REQUEST to a SyncGroup that arrives after it left the
        // syncing state, which costs another round. 10-25 s on an idle machine (librdkafka
        // `debug: cgrp`); it failed CI once at 30 s.
        wait_for("B to get partitions from the paused A", Duration::from_secs(90), || b.item_count() > 0).await;
        assert_eq!(a.item_count(), 0);
        a.fail_with(None);
        wait_for("every span, from A or B", Duration::from_secs(30), || span_names(&[&a, &b]).len() == produced).await;
        ra.shutdown().await;
        rb.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rebalance_while_paused_on_the_mock_cluster() {
        let mock = MockCluster::new(1).expect("mock cluster");
        let topic = unique("sy-rebalance");
        mock.create_topic(&topic, 4, 1).expect("topic");
        rebalance_while_paused(&mock.bootstrap_servers(), &topic).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn round_trip_on_the_mock_cluster() {
        let mock = MockCluster::new(1).expect("mock cluster");
        let topic = unique("sy-spans");
        mock.create_topic(&topic, 3, 1).expect("topic");
        scenario(&mock.bootstrap_servers(), &topic).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn undecodable_messages_are_skipped_and_counted() {
        let mock = MockCluster::new(1).expect("mock cluster");
        let servers = mock.bootstrap_servers();
        let topic = unique("sy-poison");
        mock.create_topic(&topic, 1, 1).expect("topic");
        let producer: FutureProducer =
            ClientConfig::new().set("bootstrap.servers", &servers).create().expect("producer");
        let good = batch(1, 1, 3).request().clone();
        use prost::Message;
        for value in [b"\xff\xff not protobuf".to_vec(), good.encode_to_vec()] {
            producer
                .send(FutureRecord::<(), _>::to(&topic).payload(&value), Duration::from_secs(5))
                .await
                .map_err(|(e, _)| e)
                .expect("produce");
        }
        let telemetry = Telemetry::default();
        let sink = SinkConsumer::<Traces>::new();
        let r = receiver(&servers, &topic, &unique("sy-group"), &telemetry, sink.clone());
        r.start(&Host::default()).await.expect("start");
        wait_for("the good message", Duration::from_secs(30), || sink.item_count() == 3).await;
        let skipped = telemetry.metrics.render(false).lines().any(|l| {
            l.starts_with("switchyard_receiver_kafka_skipped_messages")
                && l.contains("undecodable")
                && l.ends_with(" 1")
        });
        assert!(skipped, "{}", telemetry.metrics.render(false));
        r.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn permanent_refusals_are_skipped_or_hold_the_partition() {
        let mock = MockCluster::new(1).expect("mock cluster");
        let servers = mock.bootstrap_servers();
        let topic = unique("sy-refused");
        mock.create_topic(&topic, 1, 1).expect("topic");
        let sender = exporter(&servers, &topic);
        for i in 0..3u8 {
            if let Err(e) = sender.send(&RequestContext::default(), &batch(1 + i, 1, 1)).await {
                panic!("produce: {e}");
            }
        }
        let rendered = |t: &Telemetry| t.metrics.render(false);
        // Default marking: refused for good = skipped and counted.
        let telemetry = Telemetry::default();
        let sink = SinkConsumer::<Traces>::new();
        sink.fail_with(Some(ConsumeError::permanent("bad data")));
        let r = receiver(&servers, &topic, &unique("sy-group"), &telemetry, sink.clone());
        r.start(&Host::default()).await.expect("start");
        wait_for("three skipped messages", Duration::from_secs(30), || {
            rendered(&telemetry).lines().any(|l| {
                l.starts_with(super::super::SKIPPED_MESSAGES) && l.contains("permanent_error") && l.ends_with(" 3")
            })
        })
        .await;
        r.shutdown().await;

        // `after: true` without on_error: the partition stops at the first message.
        let group = unique("sy-group");
        let held = |t: &Telemetry, sink: Arc<SinkConsumer<Traces>>| {
            let cfg: KafkaReceiverConfig = from_yaml(&format!(
                "brokers: [{servers}]\ngroup_id: {group}\ninitial_offset: earliest\ntraces:\n  topics: [{topic}]\nmessage_marking:\n  after: true\n"
            ));
            let mut set = switchyard_core::testing::settings(Kind::Receiver, "kafka");
            set.telemetry = t.clone();
            KafkaReceiverFactory
                .create(set, &cfg, ReceiverOutputs { traces: Some(sink), ..Default::default() })
                .expect("create")
        };
        let telemetry = Telemetry::default();
        let sink = SinkConsumer::<Traces>::new();
        sink.fail_with(Some(ConsumeError::permanent("bad data")));
        let r = held(&telemetry, sink.clone());
        r.start(&Host::default()).await.expect("start");
        wait_for("the partition to be held", Duration::from_secs(30), || {
            gauge(&telemetry, super::super::BLOCKED_PARTITIONS) == Some(1.0)
        })
        .await;
        sink.fail_with(None);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(sink.item_count(), 0, "nothing after the held message");
        r.shutdown().await;
        // Nothing was committed: a restart delivers all three.
        let sink = SinkConsumer::<Traces>::new();
        let r = held(&Telemetry::default(), sink.clone());
        r.start(&Host::default()).await.expect("start");
        wait_for("all three", Duration::from_secs(30), || sink.item_count() == 3).await;
        r.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs a Kafka broker: SWITCHYARD_KAFKA=host:port"]
    async fn round_trip_on_a_real_broker() {
        let Ok(servers) = std::env::var("SWITCHYARD_KAFKA") else {
            panic!("set SWITCHYARD_KAFKA=host:port");
        };
        let topic = unique("sy-spans");
        let admin: AdminClient<DefaultClientContext> =
            ClientConfig::new().set("bootstrap.servers", &servers).create().expect("admin");
        let results = admin
            .create_topics(&[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))], &AdminOptions::new())
            .await
            .expect("create topics");
        for r in results {
            r.map_err(|(t, e)| format!("{t}: {e}")).expect("topic created");
        }
        scenario(&servers, &topic).await;
        let topic = unique("sy-rebalance");
        let results = admin
            .create_topics(&[NewTopic::new(&topic, 4, TopicReplication::Fixed(1))], &AdminOptions::new())
            .await
            .expect("create topics");
        for r in results {
            r.map_err(|(t, e)| format!("{t}: {e}")).expect("topic created");
        }
        rebalance_while_paused(&servers, &topic).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs a Kafka broker without topic auto-creation: SWITCHYARD_KAFKA=host:port"]
    async fn a_missing_topic_is_named_in_the_error() {
        let Ok(servers) = std::env::var("SWITCHYARD_KAFKA") else {
            panic!("set SWITCHYARD_KAFKA=host:port");
        };
        let topic = unique("sy-missing");
        let cfg: KafkaExporterConfig =
            from_yaml(&format!("brokers: [{servers}]\ntimeout: 4s\ntraces:\n  topic: {topic}\n"));
        let sender = standalone_sender::<Traces>(&cfg).expect("sender");
        let started = Instant::now();
        let r = sender.send(&RequestContext::default(), &batch(1, 1, 1)).await;
        let elapsed = started.elapsed();
        match r {
            Err(switchyard_core::exporterhelper::ExportError::Retryable { message, .. }) => {
                assert!(message.contains(&format!("topic \"{topic}\"")), "{message}");
                eprintln!("after {elapsed:?}: {message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs a Kafka broker: SWITCHYARD_KAFKA=host:port"]
    async fn a_topic_created_later_is_consumed() {
        let Ok(servers) = std::env::var("SWITCHYARD_KAFKA") else {
            panic!("set SWITCHYARD_KAFKA=host:port");
        };
        let topic = unique("sy-later");
        let sink = SinkConsumer::<Traces>::new();
        // librdkafka notices the new topic at the next metadata refresh.
        let cfg: KafkaReceiverConfig = from_yaml(&format!(
            "brokers: [{servers}]\ngroup_id: {}\ninitial_offset: earliest\nmetadata:\n  refresh_interval: 3s\ntraces:\n  topics: [{topic}]\n",
            unique("sy-group")
        ));
        let set = switchyard_core::testing::settings(Kind::Receiver, "kafka");
        let out = ReceiverOutputs { traces: Some(sink.clone()), ..Default::default() };
        let r = KafkaReceiverFactory.create(set, &cfg, out).expect("create");
        r.start(&Host::default()).await.expect("start");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let admin: AdminClient<DefaultClientContext> =
            ClientConfig::new().set("bootstrap.servers", &servers).create().expect("admin");
        for r in admin
            .create_topics(&[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))], &AdminOptions::new())
            .await
            .expect("create topics")
        {
            r.map_err(|(t, e)| format!("{t}: {e}")).expect("topic created");
        }
        if let Err(e) = exporter(&servers, &topic).send(&RequestContext::default(), &batch(1, 1, 2)).await {
            panic!("produce: {e}");
        }
        let t0 = Instant::now();
        wait_for("the message", Duration::from_secs(30), || sink.item_count() == 2).await;
        eprintln!("consumed {:?} after the topic was created", t0.elapsed());
        r.shutdown().await;
    }
}
