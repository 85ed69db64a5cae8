//! The receiver's config, the Thrift decoders, both translations, and the receiver serving
//! Thrift over HTTP and UDP in process.

mod proto;
mod receiver;
mod thrift;

use switchyard_core::component::ComponentConfig;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::KeyValue;

use super::JaegerReceiverConfig;

fn parse(yaml: &str) -> Result<JaegerReceiverConfig, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "jaeger").map_err(|e| e.to_string())
}

fn cfg(yaml: &str) -> JaegerReceiverConfig {
    parse(yaml).unwrap_or_else(|e| panic!("config: {e}"))
}

fn errors(c: &JaegerReceiverConfig) -> Vec<String> {
    c.validate().into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect()
}

/// An attribute's value, as text, for assertions.
fn attr(a: &[KeyValue], key: &str) -> Option<String> {
    let v = switchyard_pdata::attrs::get(a, key)?;
    Some(match &v.value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => format!("bytes:{}", b.len()),
        other => format!("{other:?}"),
    })
}

fn keys(a: &[KeyValue]) -> Vec<&str> {
    a.iter().map(|kv| kv.key.as_str()).collect()
}

#[test]
fn protocols_turn_on_with_the_collectors_defaults() {
    let c = cfg("protocols:\n  grpc:\n  thrift_http:\n  thrift_compact:\n  thrift_binary:\n");
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    let p = &c.protocols;
    assert_eq!(p.grpc.get().map(|g| g.endpoint.as_str()), Some("localhost:14250"));
    assert_eq!(p.thrift_http.get().map(|h| h.endpoint.as_str()), Some("localhost:14268"));
    let compact = p.thrift_compact.get().expect("compact");
    assert_eq!(
        (
            compact.endpoint.as_str(),
            compact.queue_size,
            compact.max_packet_size,
            compact.workers,
            compact.socket_buffer_size
        ),
        ("localhost:6831", 1000, 65000, 10, 0)
    );
    assert_eq!(p.thrift_binary.get().map(|u| u.endpoint.as_str()), Some("localhost:6832"));
    // Only the protocols named are on.
    let c = cfg("protocols:\n  thrift_http:\n    endpoint: 0.0.0.0:1234\n");
    assert!(c.protocols.grpc.get().is_none() && c.protocols.thrift_compact.get().is_none());
    let c = cfg("protocols:\n  thrift_binary:\n    endpoint: 0.0.0.0:6832\n    queue_size: 5000\n    max_packet_size: 131072\n    workers: 50\n    socket_buffer_size: 8388608\n");
    let b = c.protocols.thrift_binary.get().expect("binary");
    assert_eq!((b.queue_size, b.max_packet_size, b.workers, b.socket_buffer_size), (5000, 131072, 50, 8388608));
}

#[test]
fn config_errors_are_the_collectors() {
    let e = errors(&cfg("protocols: {}\n"));
    assert_eq!(e, vec!["protocols: must specify at least one protocol when using the Jaeger receiver"]);
    let e = errors(&cfg(
        "protocols:\n  grpc:\n    endpoint: localhost\n  thrift_compact:\n    endpoint: localhost:70000\n",
    ));
    assert!(e[0].contains("invalid port number for the gRPC endpoint: endpoint is not formatted correctly"), "{e:?}");
    assert!(e[1].contains("Thrift UDP Compact endpoint: port number must be between 1 and 65535"), "{e:?}");
    let e = errors(&cfg("protocols:\n  grpc:\nremote_sampling:\n  host_endpoint: localhost:5778\n"));
    assert!(e[0].contains("use the `jaegerremotesampling` extension instead"), "{e:?}");
    let Err(err) = parse("protocols:\n  thrift_compact:\n    queue_sise: 1\n") else { panic!("unknown key") };
    assert!(err.contains("queue_sise") && err.contains("queue_size"), "{err}");
}
