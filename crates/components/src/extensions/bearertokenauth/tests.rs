use super::*;

fn ext(cfg: BearerTokenAuthConfig) -> Arc<dyn Extension> {
    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Extension, TYPE);
    BearerTokenAuthExtensionFactory.create(set, &cfg).expect("created")
}

fn headers(name: &str, value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(HeaderName::try_from(name).expect("name"), HeaderValue::try_from(value).expect("value"));
    h
}

#[test]
fn server_accepts_only_the_configured_tokens_with_the_scheme() {
    let e =
        ext(BearerTokenAuthConfig { token: Some("s3cret".into()), tokens: vec!["other".into()], ..Default::default() });
    let a = e.server_authenticator().expect("server side");
    assert!(a.authenticate(&headers("authorization", "Bearer s3cret")).is_ok());
    assert!(a.authenticate(&headers("authorization", "Bearer other")).is_ok());
    assert!(a.authenticate(&headers("authorization", "Bearer wrong")).is_err());
    assert!(a.authenticate(&headers("authorization", "s3cret")).is_err());
    assert!(a.authenticate(&headers("authorization", "Basic s3cret")).is_err());
    assert!(a.authenticate(&HeaderMap::new()).is_err());
    assert!(a.authenticate(&headers("authorization", "Bearer ")).is_err());
}

#[test]
fn empty_tokens_are_refused_by_validation_and_never_match() {
    let cfg = BearerTokenAuthConfig { tokens: vec!["".into()], scheme: "".into(), ..Default::default() };
    let fields: Vec<String> = cfg.validate().into_iter().map(|f| f.field).collect();
    assert_eq!(fields, vec!["tokens".to_string()]);
    let e = ext(cfg);
    let a = e.server_authenticator().expect("server side");
    assert!(a.authenticate(&headers("authorization", "")).is_err());
}

#[test]
fn client_sends_scheme_and_first_token_in_the_configured_header() {
    let e = ext(BearerTokenAuthConfig {
        token: Some("abc".into()),
        header: "X-Api-Key".into(),
        scheme: "".into(),
        ..Default::default()
    });
    let mut h = HeaderMap::new();
    e.client_authenticator().expect("client side").apply(&RequestContext::default(), &mut h).expect("applied");
    assert_eq!(h.get("x-api-key").and_then(|v| v.to_str().ok()), Some("abc"));
}

#[test]
fn token_file_lines_and_validation() {
    assert_eq!(parse_token_file(b"tok1 comment\n\n  tok2\n").ok(), Some(vec!["tok1".to_string(), "tok2".to_string()]));
    assert!(parse_token_file(b"\n  \n").is_err());
    let fields: Vec<String> = BearerTokenAuthConfig::default().validate().into_iter().map(|f| f.field).collect();
    assert_eq!(fields, vec!["token".to_string()]);
}

#[tokio::test]
async fn a_rotated_token_file_is_picked_up_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "first\n").expect("write");
    let e = ext(BearerTokenAuthConfig { filename: Some(path.clone()), ..Default::default() });
    e.start(&Host::default()).await.expect("started");
    let a = e.server_authenticator().expect("server side");
    assert!(a.authenticate(&headers("authorization", "Bearer first")).is_ok());
    std::fs::write(&path, "second\n").expect("rotate");
    let mut rotated = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if a.authenticate(&headers("authorization", "Bearer second")).is_ok() {
            rotated = true;
            break;
        }
    }
    assert!(rotated, "new token accepted within 5 s");
    assert!(a.authenticate(&headers("authorization", "Bearer first")).is_err(), "old token refused");
    e.shutdown().await;
}
