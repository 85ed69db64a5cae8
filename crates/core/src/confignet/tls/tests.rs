use super::*;

#[test]
fn versions_follow_min_and_max() {
    assert_eq!(versions(None, None).map(|v| v.len()).ok(), Some(2));
    assert_eq!(versions(Some("1.3"), None).map(|v| v.len()).ok(), Some(1));
    assert_eq!(versions(Some("1.0"), Some("1.2")).map(|v| v.len()).ok(), Some(1));
    assert!(versions(None, Some("1.1")).is_err());
    assert!(versions(Some("1.3"), Some("1.2")).is_err());
    assert!(versions(Some("2.0"), None).is_err());
}

#[test]
fn cipher_suites_use_go_names() {
    let p = provider(&["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into()], &[]).expect("known suite");
    let tls12: Vec<String> = p.cipher_suites.iter().filter(|c| c.tls13().is_none()).map(suite_name).collect();
    assert_eq!(tls12, vec!["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".to_string()]);
    assert!(p.cipher_suites.iter().any(|c| suite_name(c) == "TLS_AES_128_GCM_SHA256"));
    let e = provider(&["TLS_RSA_WITH_RC4_128_SHA".into()], &[]).err().map(|e| e.0).unwrap_or_default();
    assert!(e.contains("unknown or unsupported cipher suite \"TLS_RSA_WITH_RC4_128_SHA\""), "{e}");
    assert!(provider(&[], &["P256".into(), "X25519".into()]).is_ok());
    assert!(provider(&[], &["P999".into()]).is_err());
}

fn self_signed(name: &str) -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec![name.to_string()]).expect("cert");
    (c.cert.pem(), c.signing_key.serialize_pem())
}

#[tokio::test]
async fn server_config_from_pem_and_bad_key_is_refused() {
    let (cert, key) = self_signed("localhost");
    let (_, other_key) = self_signed("localhost");
    let cfg = ServerTlsConfig { cert_pem: Some(cert.clone()), key_pem: Some(key), ..Default::default() };
    assert!(cfg.validate("tls").is_empty());
    let stop = tokio_util::sync::CancellationToken::new();
    assert!(ServerTls::new(&cfg, vec![b"h2".to_vec()], "t".into(), stop.clone()).is_ok());
    let bad = ServerTlsConfig { cert_pem: Some(cert), key_pem: Some(other_key), ..Default::default() };
    let e = ServerTls::new(&bad, vec![], "t".into(), stop).err().map(|e| e.0).unwrap_or_default();
    assert!(e.contains("do not fit"), "{e}");
    let missing = ServerTlsConfig { cert_file: Some("/nonexistent/cert.pem".into()), ..Default::default() };
    let fields: Vec<String> = missing.validate("tls").into_iter().map(|f| f.field).collect();
    assert_eq!(fields, vec!["tls::key_file".to_string()]);
}

#[test]
fn client_config_needs_both_cert_and_key() {
    let cfg = ClientTlsConfig { cert_file: Some("c.pem".into()), ..Default::default() };
    let fields: Vec<String> = cfg.validate("tls").into_iter().map(|f| f.field).collect();
    assert_eq!(fields, vec!["tls::key_file".to_string()]);
    let (cert, _) = self_signed("backend.example");
    let ok = ClientTlsConfig {
        ca_pem: Some(cert),
        server_name_override: Some("backend.example".into()),
        ..Default::default()
    };
    assert!(client_config(&ok, vec![]).is_ok());
}
