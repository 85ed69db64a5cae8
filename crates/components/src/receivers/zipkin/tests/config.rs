use switchyard_core::component::ComponentConfig;

use super::super::{ZipkinReceiverConfig, DEFAULT_ENDPOINT};

fn config_from(yaml: &str) -> Result<ZipkinReceiverConfig, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "zipkin").map_err(|e| e.to_string())
}

#[test]
fn defaults_are_the_collectors() {
    let c = config_from("{}").expect("config");
    assert_eq!(c.http().endpoint, DEFAULT_ENDPOINT);
    assert_eq!(DEFAULT_ENDPOINT, "localhost:9411");
    assert!(!c.parse_string_tags);
    assert_eq!(c.http().max_request_body_size, 20 * 1024 * 1024);
    assert!(c.validate().is_empty());
}

#[test]
fn the_top_level_form_and_the_protocols_form_both_work() {
    // The Collector's testdata/config.yaml cases.
    let c = config_from("endpoint: localhost:8765\n").expect("config");
    assert_eq!(c.http().endpoint, "localhost:8765");
    let c = config_from("protocols:\n  http:\n    endpoint: localhost:8765\n").expect("config");
    assert_eq!(c.http().endpoint, "localhost:8765");
    let c = config_from("parse_string_tags: true\n").expect("config");
    assert!(c.parse_string_tags);
    assert_eq!(c.http().endpoint, DEFAULT_ENDPOINT);
    // Both: protocols.http wins.
    let c =
        config_from("endpoint: localhost:8766\nprotocols:\n  http:\n    endpoint: localhost:8765\n").expect("config");
    assert_eq!(c.http().endpoint, "localhost:8765");
    // An empty protocols.http turns the server on with its defaults.
    let c = config_from("protocols:\n  http:\n").expect("config");
    assert_eq!(c.http().endpoint, DEFAULT_ENDPOINT);
    let c = config_from(
        "endpoint: 0.0.0.0:9411\ntls:\n  cert_file: c.pem\n  key_file: k.pem\ncors:\n  allowed_origins: ['*']\n",
    )
    .expect("config");
    assert!(c.http().tls.is_some());
}

#[test]
fn bad_values_and_unknown_keys_are_reported() {
    let err = config_from("endpont: localhost:1\n").expect_err("unknown key");
    assert!(err.contains("endpont") && err.contains("endpoint"), "{err}");
    let err = config_from("protocols:\n  http:\n    endpont: x\n").expect_err("unknown key");
    assert!(err.contains("endpont"), "{err}");
    let c = config_from("endpoint: localhost\n").expect("config");
    let errors = c.validate();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "endpoint");
    let c = config_from("protocols:\n  http:\n    endpoint: nope\n").expect("config");
    assert_eq!(c.validate()[0].field, "protocols::http::endpoint");
    let c = config_from("endpoint: ''\n").expect("config");
    assert!(c.validate()[0].message.contains("at least one protocol"), "{:?}", c.validate());
}
