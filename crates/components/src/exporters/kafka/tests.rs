//! The exporter without a broker: config parsing and checks, librdkafka properties, topics,
//! keys, encodings and size splitting. (`receivers::kafka::tests` has the broker round trip.)

use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use switchyard_core::component::{ComponentConfig, ExporterFactory, Kind};
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::{ExportError, Sender};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue, KeyValueList};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::value::hex_id as hex;
use switchyard_pdata::{Logs, Metrics, Signal, SignalData, Traces};

use super::marshal::{raw_body, resource_hash, Plan};
use super::producer::{classify, KafkaSender};
use super::*;
use crate::otlp_signal::OtlpSignal;

fn parse(yaml: &str) -> Result<KafkaExporterConfig, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "kafka").map_err(|e| e.to_string())
}

fn cfg(yaml: &str) -> KafkaExporterConfig {
    match parse(yaml) {
        Ok(c) => c,
        Err(e) => panic!("config: {e}"),
    }
}

fn errors(c: &KafkaExporterConfig) -> Vec<(String, String)> {
    c.validate().into_iter().map(|e| (e.field, e.message)).collect()
}

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) })
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: s(v), ..Default::default() }
}

fn span(trace: u8, id: u8) -> Span {
    Span { trace_id: vec![trace; 16], span_id: vec![id; 8], name: format!("s{id}"), ..Default::default() }
}

/// Two resources; trace 1 spans both, trace 2 only the first, trace 3 only the second.
fn mixed_traces() -> Traces {
    let rs = |svc: &str, spans: Vec<Span>| ResourceSpans {
        resource: Some(Resource { attributes: vec![kv("service.name", svc)], ..Default::default() }),
        scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![rs("a", vec![span(1, 1), span(2, 2), span(1, 3)]), rs("b", vec![span(3, 4), span(1, 5)])],
    }
    .into()
}

fn logs_with(bodies: Vec<Option<AnyValue>>, trace_ids: Vec<Vec<u8>>) -> Logs {
    let records = bodies
        .into_iter()
        .zip(trace_ids)
        .map(|(body, trace_id)| LogRecord { body, trace_id, ..Default::default() })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource { attributes: vec![kv("service.name", "svc")], ..Default::default() }),
            scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}

fn cx_with(pairs: &[(&str, &str)]) -> RequestContext {
    let mut m = http::HeaderMap::new();
    for (k, v) in pairs {
        m.append(http::header::HeaderName::from_bytes(k.as_bytes()).expect("name"), v.parse().expect("value"));
    }
    RequestContext::with_metadata(Some(Arc::new(m)))
}

#[test]
fn defaults_are_the_collectors() {
    let c = cfg("{}");
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    assert_eq!(c.brokers, vec!["localhost:9092"]);
    assert_eq!(c.client_id, "otel-collector");
    assert_eq!(c.topic_for(Signal::Traces), "otlp_spans");
    assert_eq!(c.topic_for(Signal::Metrics), "otlp_metrics");
    assert_eq!(c.topic_for(Signal::Logs), "otlp_logs");
    assert_eq!(c.topic_for(Signal::Profiles), "otlp_profiles");
    assert_eq!(c.encoding_for(Signal::Logs), Ok(ExportEncoding::OtlpProto));
    assert_eq!(c.timeout, Duration::from_secs(5));
    assert_eq!(c.producer.max_message_bytes, 1_000_000);
    assert_eq!(c.producer.required_acks, RequiredAcks(1));
    assert_eq!(c.producer.linger, Duration::from_millis(10));
    assert!(c.producer.allow_auto_topic_creation);
    assert!(c.deprecations().is_empty());
}

#[test]
fn the_seed_configs_deprecated_topic_and_encoding_apply_to_every_signal() {
    // From "Collector with Kafka" (seed 001).
    let c = cfg(
        "brokers:\n  - kafka-0:9092\n  - kafka-1:9092\n  - kafka-2:9092\ntopic: telemetry-traces\nencoding: otlp_proto\n",
    );
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    assert_eq!(c.topic_for(Signal::Traces), "telemetry-traces");
    assert_eq!(c.topic_for(Signal::Logs), "telemetry-traces");
    assert_eq!(c.encoding_for(Signal::Metrics), Ok(ExportEncoding::OtlpProto));
    assert_eq!(c.deprecations().len(), 2);
    assert_eq!(producer_config(&c).get("bootstrap.servers"), Some("kafka-0:9092,kafka-1:9092,kafka-2:9092"));
    // A signal's own field wins over the deprecated one.
    let c = cfg("topic: all\nencoding: raw\nlogs:\n  topic: only-logs\ntraces:\n  encoding: otlp_json\n");
    assert_eq!(c.topic_for(Signal::Logs), "only-logs");
    assert_eq!(c.topic_for(Signal::Traces), "all");
    assert_eq!(c.encoding_for(Signal::Traces), Ok(ExportEncoding::OtlpJson));
    assert_eq!(c.encoding_for(Signal::Logs), Ok(ExportEncoding::Raw));
    // ... and a top-level `raw` does not suit metrics: the metrics exporter cannot be built.
    assert!(c.encoding_for(Signal::Metrics).is_err());
    let set = switchyard_core::testing::settings(Kind::Exporter, "kafka");
    let err = KafkaExporterFactory.create(set, &c, Signal::Metrics).err().expect("refused");
    assert!(err.message.contains("metrics::encoding"), "{err}");
}

#[test]
fn unknown_keys_get_a_suggestion() {
    let e = parse("partition_trace_by_id: true\n").expect_err("refused");
    assert!(e.contains("did you mean \"partition_traces_by_id\""), "{e}");
    let e = parse("producer:\n  compresion: gzip\n").expect_err("refused");
    assert!(e.contains("did you mean \"compression\""), "{e}");
    let e = parse("auth:\n  sasl:\n    mechanisms: PLAIN\n").expect_err("refused");
    assert!(e.contains("did you mean \"mechanism\""), "{e}");
}

#[test]
fn invalid_values_are_reported_by_field() {
    let c = cfg(
        "brokers: []\nprotocol_version: 2.1\nproducer:\n  compression: brotli\n  required_acks: 2\ntraces:\n  encoding: jaeger_proto\nmetrics:\n  encoding: raw\npartition_logs_by_resource_attributes: true\npartition_logs_by_trace_id: true\nrecord_partitioner:\n  least_backup: {}\nauth:\n  sasl:\n    mechanism: AWS_MSK_IAM_OAUTHBEARER\n",
    );
    let e = errors(&c);
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    for want in [
        "brokers",
        "protocol_version",
        "producer::compression",
        "producer::required_acks",
        "traces::encoding",
        "metrics::encoding",
        "partition_logs_by_trace_id",
        "record_partitioner::least_backup",
        "auth::sasl::mechanism",
    ] {
        assert!(fields.contains(&want), "{want} missing from {e:?}");
    }
    let sasl = e.iter().find(|(f, _)| f == "auth::sasl::mechanism").map(|(_, m)| m.as_str()).unwrap_or_default();
    assert!(sasl.contains("not supported"), "{sasl}");
    let c = cfg("partition_traces_by_id: true\ntraces:\n  message_key_from_metadata_key: tenant\n");
    assert_eq!(errors(&c)[0].0, "traces::message_key_from_metadata_key");
    let c = cfg("auth:\n  kerberos:\n    realm: EXAMPLE.COM\n");
    assert!(errors(&c)[0].1.contains("Kerberos"), "{:?}", errors(&c));
    let c = cfg("timeout: 5ms\nproducer:\n  linger: 10ms\n");
    assert_eq!(errors(&c)[0].0, "timeout");
}

#[test]
fn producer_settings_map_to_librdkafka_properties() {
    let c = cfg(
        "client_id: gw\ntimeout: 7s\nproducer:\n  required_acks: all\n  compression: zstd\n  compression_params:\n    level: 3\n  max_message_bytes: 2000000\n  flush_max_messages: 500\n  linger: 25ms\n  allow_auto_topic_creation: false\nauth:\n  sasl:\n    username: u\n    password: p\n    mechanism: SCRAM-SHA-256\nrecord_partitioner:\n  sticky_key:\n    hasher: murmur2\n",
    );
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    let p = producer_config(&c);
    if let Err(e) = p.create_native_config() {
        panic!("librdkafka refused: {e}");
    }
    let want = [
        ("client.id", "gw"),
        ("acks", "all"),
        ("compression.type", "zstd"),
        ("compression.level", "3"),
        ("batch.size", "2000000"),
        ("message.max.bytes", "104857600"),
        ("batch.num.messages", "500"),
        ("linger.ms", "25"),
        ("allow.auto.create.topics", "false"),
        ("message.timeout.ms", "7000"),
        ("enable.idempotence", "false"),
        ("partitioner", "murmur2_random"),
        ("security.protocol", "sasl_plaintext"),
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.username", "u"),
        ("sasl.password", "p"),
    ];
    for (k, v) in want {
        assert_eq!(p.get(k), Some(v), "{k}");
    }
    let d = producer_config(&cfg("producer:\n  required_acks: 0\n"));
    assert_eq!(d.get("acks"), Some("0"));
    assert_eq!(d.get("compression.type"), Some("none"));
    assert_eq!(d.get("partitioner"), Some("fnv1a_random"));
    assert!(d.create_native_config().is_ok());
    let rr = producer_config(&cfg("record_partitioner:\n  round_robin: {}\n"));
    assert_eq!(rr.get("partitioner"), Some("random"));
    assert_eq!(rr.get("sticky.partitioning.linger.ms"), Some("0"));
    let tls = producer_config(&cfg("tls:\n  ca_file: /ca.pem\n  cert_file: /c.pem\n  key_file: /k.pem\n"));
    assert_eq!(tls.get("security.protocol"), Some("ssl"));
    assert_eq!(tls.get("ssl.ca.location"), Some("/ca.pem"));
    assert_eq!(tls.get("ssl.certificate.location"), Some("/c.pem"));
    assert_eq!(tls.get("ssl.key.location"), Some("/k.pem"));
}

#[test]
fn otlp_proto_and_json_values_decode_back_to_the_batch() {
    let data = mixed_traces();
    let cx = RequestContext::default();
    let m = Plan::new(&cfg("{}"), Signal::Traces).expect("plan").marshal(&cx, &data, 0).expect("marshal");
    assert_eq!(m.records.len(), 1);
    assert_eq!(m.records[0].topic, "otlp_spans");
    assert_eq!(m.records[0].key, None);
    assert_eq!(ExportTraceServiceRequest::decode(m.records[0].value.as_slice()).expect("proto"), *data.request());
    let m = Plan::new(&cfg("traces:\n  encoding: otlp_json\n"), Signal::Traces)
        .expect("plan")
        .marshal(&cx, &data, 0)
        .expect("marshal");
    assert_eq!(Traces::decode_json(&m.records[0].value).expect("json"), *data.request());
    let metrics = Metrics::default();
    let m = Plan::new(&cfg("{}"), Signal::Metrics).expect("plan").marshal(&cx, &metrics, 0).expect("marshal");
    assert_eq!(m.records[0].topic, "otlp_metrics");
}

#[test]
fn partition_traces_by_id_gives_one_message_per_trace_keyed_by_its_hex_id() {
    let data = mixed_traces();
    let plan = Plan::new(&cfg("partition_traces_by_id: true\n"), Signal::Traces).expect("plan");
    let m = plan.marshal(&RequestContext::default(), &data, 0).expect("marshal");
    assert_eq!(m.records.len(), 3);
    let keys: Vec<String> =
        m.records.iter().map(|r| String::from_utf8(r.key.clone().expect("keyed")).expect("utf8")).collect();
    assert_eq!(keys, vec![hex(&[1; 16]), hex(&[2; 16]), hex(&[3; 16])]);
    assert_eq!(keys[0], "01010101010101010101010101010101");
    let mut total = 0;
    for (r, trace) in m.records.iter().zip([1u8, 2, 3]) {
        let req = ExportTraceServiceRequest::decode(r.value.as_slice()).expect("proto");
        for rs in &req.resource_spans {
            assert!(rs.resource.is_some(), "resource kept");
            for s in rs.scope_spans.iter().flat_map(|ss| &ss.spans) {
                assert_eq!(s.trace_id, vec![trace; 16]);
                total += 1;
            }
        }
        // Trace 1 spans two resources: both envelopes kept, in order.
        if trace == 1 {
            let svcs: Vec<_> =
                req.resource_spans.iter().map(|rs| rs.resource.as_ref().map(|r| r.attributes[0].clone())).collect();
            assert_eq!(svcs, vec![Some(kv("service.name", "a")), Some(kv("service.name", "b"))]);
            assert_eq!(req.resource_spans[0].scope_spans[0].spans.len(), 2);
        }
    }
    assert_eq!(total, data.item_count());
}

#[test]
fn partition_logs_by_trace_id_leaves_logs_without_trace_unkeyed() {
    let logs = logs_with(vec![s("a"), s("b"), s("c")], vec![vec![9; 16], vec![], vec![9; 16]]);
    let plan = Plan::new(&cfg("partition_logs_by_trace_id: true\n"), Signal::Logs).expect("plan");
    let m = plan.marshal(&RequestContext::default(), &logs, 0).expect("marshal");
    assert_eq!(m.records.len(), 2);
    assert_eq!(m.records[0].key.as_deref(), Some(hex(&[9; 16]).as_bytes()));
    assert_eq!(m.records[1].key, None);
    let first = ExportLogsServiceRequest::decode(m.records[0].value.as_slice()).expect("proto");
    assert_eq!(first.resource_logs[0].scope_logs[0].log_records.len(), 2);
}

#[test]
fn resource_partitioning_keys_equal_attribute_sets_alike() {
    let a = vec![kv("service.name", "x"), kv("host", "h")];
    let b = vec![kv("host", "h"), kv("service.name", "x")];
    assert_eq!(resource_hash(&a), resource_hash(&b));
    assert_ne!(resource_hash(&a), resource_hash(&[kv("service.name", "y"), kv("host", "h")]));
    let rl = |attrs: Vec<KeyValue>| ResourceLogs {
        resource: Some(Resource { attributes: attrs, ..Default::default() }),
        scope_logs: vec![ScopeLogs { log_records: vec![LogRecord::default()], ..Default::default() }],
        ..Default::default()
    };
    let logs: Logs =
        ExportLogsServiceRequest { resource_logs: vec![rl(a.clone()), rl(vec![kv("service.name", "y")]), rl(b)] }
            .into();
    let plan = Plan::new(&cfg("partition_logs_by_resource_attributes: true\n"), Signal::Logs).expect("plan");
    let m = plan.marshal(&RequestContext::default(), &logs, 0).expect("marshal");
    assert_eq!(m.records.len(), 2);
    assert_eq!(m.records[0].key.as_deref(), Some(&resource_hash(&a)[..]));
    let first = ExportLogsServiceRequest::decode(m.records[0].value.as_slice()).expect("proto");
    assert_eq!(first.resource_logs.len(), 2, "both resources with the same attributes");
}

#[test]
fn topics_and_keys_from_metadata_and_attributes() {
    let c = cfg("topic_from_attribute: kafka.topic\ntraces:\n  topic_from_metadata_key: x-topic\n  message_key_from_metadata_key: x-key\n");
    let plan = Plan::new(&c, Signal::Traces).expect("plan");
    let data = mixed_traces();
    let m = plan.marshal(&cx_with(&[("x-topic", "from-meta"), ("x-key", "k1")]), &data, 0).expect("marshal");
    assert_eq!(m.records.len(), 1);
    assert_eq!(m.records[0].topic, "from-meta");
    assert_eq!(m.records[0].key.as_deref(), Some(&b"k1"[..]));
    // Without the metadata: the resource attribute decides, one message per value.
    let mut req = data.request().clone();
    if let Some(r) = req.resource_spans[1].resource.as_mut() {
        r.attributes.push(kv("kafka.topic", "special"));
    }
    let m = plan.marshal(&RequestContext::default(), &Traces::from_request(req), 0).expect("marshal");
    let topics: Vec<&str> = m.records.iter().map(|r| r.topic.as_str()).collect();
    assert_eq!(topics, vec!["otlp_spans", "special"]);
}

#[test]
fn raw_logs_are_one_message_per_record_body() {
    let map = AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList { values: vec![kv("z", "1"), kv("a", "2")] })),
    };
    let bytes = AnyValue { value: Some(any_value::Value::BytesValue(vec![0, 159, 146, 150])) };
    let logs = logs_with(vec![Some(bytes), s("hello"), None, Some(map)], vec![vec![]; 4]);
    let plan = Plan::new(&cfg("logs:\n  encoding: raw\n"), Signal::Logs).expect("plan");
    let m = plan.marshal(&RequestContext::default(), &logs, 0).expect("marshal");
    let values: Vec<Vec<u8>> = m.records.iter().map(|r| r.value.clone()).collect();
    assert_eq!(values, vec![vec![0, 159, 146, 150], b"\"hello\"".to_vec(), br#"{"a":"2","z":"1"}"#.to_vec()]);
    assert_eq!(raw_body(None), Vec::<u8>::new());
    let int = AnyValue { value: Some(any_value::Value::IntValue(42)) };
    assert_eq!(raw_body(Some(&int)), b"42");
}

#[test]
fn batches_over_max_message_bytes_are_split_and_oversized_items_left_out() {
    let data = switchyard_core::testing::traces(200);
    let whole = data.encoded_len();
    let c = cfg(&format!("producer:\n  max_message_bytes: {}\n  max_broker_write_bytes: 104857600\n", whole / 3));
    let plan = Plan::new(&c, Signal::Traces).expect("plan");
    let m = plan.marshal(&RequestContext::default(), &data, 0).expect("marshal");
    assert!(m.records.len() >= 3, "{}", m.records.len());
    let mut spans = 0;
    for r in &m.records {
        assert!(r.value.len() <= whole / 3);
        spans +=
            Traces::from_request(ExportTraceServiceRequest::decode(r.value.as_slice()).expect("proto")).item_count();
    }
    assert_eq!(spans, 200);
    assert_eq!(m.dropped_items, 0);
    // Headers count against the limit too.
    let m = plan.marshal(&RequestContext::default(), &data, whole / 3).expect("marshal");
    assert_eq!((m.records.len(), m.dropped_items), (0, 200));
    // One span larger than the limit.
    let mut big = switchyard_core::testing::traces(3);
    big.make_mut().resource_spans[0].scope_spans[0].spans[1].name = "x".repeat(5000);
    let plan = Plan::new(&cfg("producer:\n  max_message_bytes: 2000\n"), Signal::Traces).expect("plan");
    let m = plan.marshal(&RequestContext::default(), &big, 0).expect("marshal");
    assert_eq!(m.dropped_items, 1);
    assert!(m.dropped_largest > 5000);
    let sent: usize = m
        .records
        .iter()
        .map(|r| {
            Traces::from_request(ExportTraceServiceRequest::decode(r.value.as_slice()).expect("proto")).item_count()
        })
        .sum();
    assert_eq!(sent, 2);
}

#[test]
fn headers_carry_static_signal_and_metadata_values() {
    let c = cfg("record_headers:\n  env: prod\nsignal_header: true\ninclude_metadata_keys: [x-tenant]\n");
    let sender = KafkaSender::<Logs>::new(switchyard_core::component::ComponentId::new("kafka"), &c).expect("sender");
    let h = sender.headers(&cx_with(&[("x-tenant", "t1"), ("x-tenant", "t2"), ("other", "o")]));
    let h: Vec<(&str, &[u8])> = h.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
    assert_eq!(
        h,
        vec![("env", &b"prod"[..]), (SIGNAL_HEADER, &b"logs"[..]), ("x-tenant", &b"t1"[..]), ("x-tenant", &b"t2"[..])]
    );
}

#[test]
fn delivery_errors_are_classified() {
    use rdkafka::error::{KafkaError, RDKafkaErrorCode as C};
    let p = |code| matches!(classify(&KafkaError::MessageProduction(code), "t"), ExportError::Permanent { .. });
    assert!(p(C::MessageSizeTooLarge));
    assert!(p(C::InvalidRecord));
    assert!(!p(C::MessageTimedOut));
    assert!(!p(C::NotLeaderForPartition));
    let e = classify(&KafkaError::MessageProduction(C::UnknownTopicOrPartition), "otlp_spans");
    assert!(
        matches!(&e, ExportError::Retryable { message, .. } if message.contains("topic \"otlp_spans\" does not exist")),
        "{e}"
    );
}

#[tokio::test]
async fn an_unreachable_broker_fails_the_attempt_within_the_timeout() {
    // Nothing listens on port 1: the attempt must end (retryable) after `timeout`, not hang.
    let c = cfg("brokers: [127.0.0.1:1]\ntimeout: 1s\n");
    let sender = standalone_sender::<Traces>(&c).expect("sender");
    let started = std::time::Instant::now();
    let r = sender.send(&RequestContext::default(), &switchyard_core::testing::traces(2)).await;
    assert!(matches!(r, Err(ExportError::Retryable { .. })), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn tls_files_are_checked_when_the_exporter_starts() {
    let c = cfg("brokers: [127.0.0.1:1]\ntls:\n  ca_file: /nonexistent/ca.pem\n");
    let sender = KafkaSender::<Traces>::new(switchyard_core::component::ComponentId::new("kafka"), &c).expect("sender");
    let e = sender.start(&switchyard_core::component::Host::default()).expect_err("refused");
    assert!(e.contains("ca.pem") || e.contains("ssl"), "{e}");
}

#[tokio::test]
async fn the_exporter_is_built_for_every_signal_and_starts_without_a_broker() {
    let c = cfg("brokers: [127.0.0.1:1]\n");
    for signal in Signal::ALL {
        let set = switchyard_core::testing::settings(Kind::Exporter, "kafka");
        let (_, started) = KafkaExporterFactory.create(set.clone(), &c, signal).expect("create");
        let (_, never) = KafkaExporterFactory.create(set, &c, signal).expect("create");
        switchyard_core::testing::lifecycle_check(started.as_ref(), never.as_ref()).await;
    }
}
