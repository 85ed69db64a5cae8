//! Tests of the OTLP/JSON codec: round trips of fully populated requests, the spec examples,
//! leniency of the decoder, errors with their paths, and the exact encoder output.

mod decode;
mod encode;
mod fixtures;
mod roundtrip;

/// Compares two prost messages through their protobuf encoding, which is deterministic and
/// compares doubles bit for bit (so NaN equals NaN, and -0.0 differs from 0.0).
fn assert_same<T: prost::Message + std::fmt::Debug>(left: &T, right: &T) {
    assert_eq!(left.encode_to_vec(), right.encode_to_vec(), "\nleft:  {left:?}\nright: {right:?}");
}

/// The JSON as a string, for readable assertions.
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("the encoder writes UTF-8")
}

#[test]
fn traces_round_trip() {
    let req = fixtures::traces();
    let json = super::encode_traces(&req);
    let back = super::decode_traces(&json).expect("decodes");
    assert_same(&req, &back);
    assert_eq!(text(&super::encode_traces(&back)), text(&json));
}

#[test]
fn metrics_round_trip() {
    let req = fixtures::metrics();
    let json = super::encode_metrics(&req);
    let back = super::decode_metrics(&json).expect("decodes");
    assert_same(&req, &back);
    assert_eq!(text(&super::encode_metrics(&back)), text(&json));
}

#[test]
fn logs_round_trip() {
    let req = fixtures::logs();
    let json = super::encode_logs(&req);
    let back = super::decode_logs(&json).expect("decodes");
    assert_same(&req, &back);
    assert_eq!(text(&super::encode_logs(&back)), text(&json));
}

#[test]
fn empty_requests_round_trip() {
    assert_eq!(text(&super::encode_traces(&Default::default())), "{}");
    assert_eq!(text(&super::encode_metrics(&Default::default())), "{}");
    assert_eq!(text(&super::encode_logs(&Default::default())), "{}");
    assert_same(&super::decode_traces(b"{}").expect("decodes"), &Default::default());
    assert_same(&super::decode_metrics(b"{}").expect("decodes"), &Default::default());
    assert_same(&super::decode_logs(b" { } ").expect("decodes"), &Default::default());
}

#[test]
fn nesting_depth_is_counted_outside_strings() {
    assert!(!super::nesting_exceeds(br#"{"a":[{"b":"[[[[{{{{"}]}"#, 3));
    assert!(super::nesting_exceeds(br#"{"a":[{"b":[1]}]}"#, 3));
    assert!(!super::nesting_exceeds(br#"{"a":"\"[[[[[\\"}"#, 1));
    let deep = "[".repeat(100_000);
    assert!(super::nesting_exceeds(deep.as_bytes(), 64));
}
