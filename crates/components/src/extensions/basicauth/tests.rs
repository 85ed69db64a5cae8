use super::*;

fn ext(cfg: BasicAuthConfig) -> Arc<dyn Extension> {
    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Extension, TYPE);
    BasicAuthExtensionFactory.create(set, &cfg).expect("created")
}

fn basic(user: &str, password: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, basic_header(user, password).expect("header"));
    h
}

#[test]
fn htpasswd_formats_plain_sha_ssha_and_bcrypt() {
    use sha1::Digest;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sha = b64.encode(sha1::Sha1::digest(b"pw-sha"));
    let mut salted = sha1::Sha1::digest(b"pw-sshasalt").to_vec();
    salted.extend_from_slice(b"salt");
    let ssha = b64.encode(salted);
    let bcrypt = bcrypt::hash("pw-bcrypt", 4).expect("bcrypt");
    let inline = format!("# users\nplain:pw-plain\nsha:{{SHA}}{sha}\nssha:{{SSHA}}{ssha}\nbc:{bcrypt}\n");
    let e =
        ext(BasicAuthConfig { htpasswd: Some(HtpasswdConfig { file: None, inline: Some(inline) }), client_auth: None });
    let a = e.server_authenticator().expect("server mode");
    assert!(e.client_authenticator().is_none(), "one mode per instance");
    for (user, pw) in [("plain", "pw-plain"), ("sha", "pw-sha"), ("ssha", "pw-ssha"), ("bc", "pw-bcrypt")] {
        assert!(a.authenticate(&basic(user, pw)).is_ok(), "{user}");
        assert!(a.authenticate(&basic(user, pw)).is_ok(), "{user} (remembered)");
        assert!(a.authenticate(&basic(user, "wrong")).is_err(), "{user} wrong password");
    }
    assert!(a.authenticate(&basic("nobody", "pw-plain")).is_err());
    let mut garbage = HeaderMap::new();
    garbage.insert(AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
    assert!(a.authenticate(&garbage).is_err());
    assert!(a.authenticate(&HeaderMap::new()).is_err());
}

#[test]
fn md5_entries_are_refused_with_a_clear_message() {
    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Extension, TYPE);
    let cfg = BasicAuthConfig {
        htpasswd: Some(HtpasswdConfig { file: None, inline: Some("u:$apr1$abc$def".into()) }),
        client_auth: None,
    };
    let e = BasicAuthExtensionFactory.create(set, &cfg).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("use bcrypt (htpasswd -B)"), "{e}");
}

#[tokio::test]
async fn client_mode_sets_the_basic_header() {
    let e = ext(BasicAuthConfig {
        htpasswd: None,
        client_auth: Some(ClientAuthSettings { username: "u".into(), password: "p:w".into(), ..Default::default() }),
    });
    e.start(&Host::default()).await.expect("started");
    let mut h = HeaderMap::new();
    e.client_authenticator().expect("client mode").apply(&RequestContext::default(), &mut h).expect("applied");
    assert_eq!(h.get(AUTHORIZATION).and_then(|v| v.to_str().ok()), Some("Basic dTpwOnc="));
    assert!(e.server_authenticator().is_none());
    let both = BasicAuthConfig { htpasswd: Some(HtpasswdConfig::default()), client_auth: Some(Default::default()) };
    assert_eq!(both.validate().len(), 1);
}
