//! TLS, mutual TLS and authentication on the real binary, with certificates made at test
//! time: handshakes refused for missing, unknown-CA and expired client certificates;
//! bearer and basic credentials over gRPC and HTTP; token file and certificate rotation
//! without restart or failed requests; exporters to a mutual-TLS backend and to one with a
//! certificate they must not trust. Clients: `switchyard gen` (our TLS client), reqwest
//! (rustls) and the OpenTelemetry Python SDK (grpcio / requests TLS).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::pki::{write_pair, Ca, CertFiles};
use support::{gen, sdk_client, wait_until, Gateway, Sink};

fn yaml_tls(server: &CertFiles, client_ca: Option<&Ca>) -> String {
    let mut s = format!("{{cert_file: {}, key_file: {}", server.cert.display(), server.key.display());
    if let Some(ca) = client_ca {
        s.push_str(&format!(", client_ca_file: {}", ca.cert.display()));
    }
    s.push('}');
    s
}

/// A rustls client config trusting `ca`, presenting `identity` if any.
fn rustls_client(ca: &Ca, identity: Option<&CertFiles>, alpn: &[&[u8]]) -> rustls::ClientConfig {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&ca.cert).expect("ca") {
        roots.add(c.expect("ca cert")).expect("add");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(id) => {
            let certs: Vec<_> = CertificateDer::pem_file_iter(&id.cert).expect("cert").map(|c| c.expect("c")).collect();
            let key = PrivateKeyDer::from_pem_file(&id.key).expect("key");
            builder.with_client_auth_cert(certs, key).expect("identity")
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// A reqwest client presenting `identity` (if any), trusting `ca`.
fn https_client(ca: &Ca, identity: Option<&CertFiles>) -> reqwest::Client {
    let config = rustls_client(ca, identity, &[]);
    reqwest::Client::builder().use_preconfigured_tls(config).build().expect("client")
}

fn traces_body() -> Vec<u8> {
    use prost::Message;
    use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
    use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let span = Span { trace_id: vec![1; 16], span_id: vec![2; 8], name: "tls-span".into(), ..Default::default() };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans { spans: vec![span], ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

async fn post(client: &reqwest::Client, port: u16, headers: &[(&str, &str)]) -> Result<u16, String> {
    let mut req = client
        .post(format!("https://127.0.0.1:{port}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(traces_body());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.map(|r| r.status().as_u16()).map_err(|e| format!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_bad_client_certificates_and_serves_good_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new(dir.path(), "trusted");
    let rogue = Ca::new(dir.path(), "rogue");
    let server = ca.server("server");
    let good = ca.client("client");
    let expired = ca.expired_client("expired");
    let unknown = rogue.client("unknown");
    let sink = Sink::start(&[]);
    let (g, h) = (support::free_port(), support::free_port());
    let tls = yaml_tls(&server, Some(&ca));
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{g}", tls: {tls}}}
      http: {{endpoint: "127.0.0.1:{h}", tls: {tls}}}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp]}}
"#,
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&config, h);

    // HTTP: no certificate, an unknown CA, an expired certificate: no HTTP answer at all.
    for (what, id) in [("no certificate", None), ("unknown CA", Some(&unknown)), ("expired", Some(&expired))] {
        let r = post(&https_client(&ca, id), h, &[]).await;
        assert!(r.is_err(), "{what}: the request must fail in the handshake, got HTTP {r:?}");
    }
    assert_eq!(post(&https_client(&ca, Some(&good)), h, &[]).await, Ok(200), "valid certificate accepted");

    // gRPC with our client: the same checks, and plaintext to the TLS port.
    let ca_file = ca.cert.display().to_string();
    let (cert, key) = (good.cert.display().to_string(), good.key.display().to_string());
    let grpc = format!("https://127.0.0.1:{g}");
    let no_cert = gen(&["traces", "--endpoint", &grpc, "--count", "10", "--tls-ca", &ca_file]);
    assert_eq!(no_cert["accepted_items"], 0, "{no_cert}");
    let plaintext = gen(&["traces", "--endpoint", &format!("http://127.0.0.1:{g}"), "--count", "10"]);
    assert_eq!(plaintext["accepted_items"], 0, "plaintext to a TLS port: {plaintext}");
    let (ex_cert, ex_key) = (expired.cert.display().to_string(), expired.key.display().to_string());
    let old = gen(&[
        "traces",
        "--endpoint",
        &grpc,
        "--count",
        "10",
        "--tls-ca",
        &ca_file,
        "--tls-cert",
        &ex_cert,
        "--tls-key",
        &ex_key,
    ]);
    assert_eq!(old["accepted_items"], 0, "{old}");
    let ok = gen(&[
        "traces",
        "--endpoint",
        &grpc,
        "--count",
        "100",
        "--tls-ca",
        &ca_file,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    assert_eq!(ok["accepted_items"], 100, "the gateway keeps serving good clients: {ok}");

    // The OpenTelemetry SDK (grpcio) over mutual TLS.
    let sdk = sdk_client(
        "grpc",
        &format!("127.0.0.1:{g}"),
        20,
        "mtls-run",
        &["--signals", "traces", "--ca", &ca_file, "--client-cert", &cert, "--client-key", &key],
    );
    assert!(sdk.status.success(), "SDK over mTLS: {}", String::from_utf8_lossy(&sdk.stderr));
    assert!(wait_until(Duration::from_secs(10), || sink.items("traces", Some("mtls-run")) == 20), "SDK spans arrive");
    assert!(wait_until(Duration::from_secs(10), || sink.items("traces", None) >= 121), "all accepted spans arrive");

    let refused = gw.metric_with("switchyard_receiver_refused_connections", &["reason=\"tls_handshake\""]);
    assert!(refused >= 6.0, "handshake failures counted: {refused}\n{}", gw.logs());
    assert!(gw.logs().contains("TLS handshake failed"), "and logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_and_basic_credentials_over_grpc_and_http_with_token_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new(dir.path(), "auth");
    let server = ca.server("server");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "first-token\n").expect("token");
    let sink = Sink::start(&[]);
    let ports: Vec<u16> = (0..4).map(|_| support::free_port()).collect();
    let (bg, bh, sg, sh) = (ports[0], ports[1], ports[2], ports[3]);
    let tls = yaml_tls(&server, None);
    let config = format!(
        r#"
extensions:
  bearertokenauth:
    filename: {token}
  basicauth/server:
    htpasswd:
      inline: |
        alice:wonderland
receivers:
  otlp/bearer:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{bg}", tls: {tls}, auth: {{authenticator: bearertokenauth}}}}
      http: {{endpoint: "127.0.0.1:{bh}", tls: {tls}, auth: {{authenticator: bearertokenauth}}}}
  otlp/basic:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{sg}", tls: {tls}, auth: {{authenticator: basicauth/server}}}}
      http: {{endpoint: "127.0.0.1:{sh}", tls: {tls}, auth: {{authenticator: basicauth/server}}}}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  extensions: [bearertokenauth, basicauth/server]
  pipelines:
    traces: {{receivers: [otlp/bearer, otlp/basic], exporters: [otlp]}}
"#,
        token = token_file.display(),
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&config, sh);
    let ca_file = ca.cert.display().to_string();
    let send = |proto: &str, port: u16, header: &str| {
        let endpoint = format!("https://127.0.0.1:{port}");
        gen(&[
            "traces",
            "--protocol",
            proto,
            "--endpoint",
            &endpoint,
            "--count",
            "5",
            "--tls-ca",
            &ca_file,
            "--headers",
            header,
        ])
    };
    let basic_ok = "authorization=Basic YWxpY2U6d29uZGVybGFuZA=="; // alice:wonderland
    let basic_bad = "authorization=Basic YWxpY2U6cmFiYml0"; // alice:rabbit
    let mut expected = 0;
    for (proto, bearer_port, basic_port) in [("grpc", bg, sg), ("http", bh, sh)] {
        for (what, port, header, accepted) in [
            ("missing bearer", bearer_port, "", false),
            ("wrong bearer", bearer_port, "authorization=Bearer nope", false),
            ("right bearer", bearer_port, "authorization=Bearer first-token", true),
            ("missing basic", basic_port, "", false),
            ("wrong basic", basic_port, basic_bad, false),
            ("right basic", basic_port, basic_ok, true),
        ] {
            let r = send(proto, port, header);
            if accepted {
                assert_eq!(r["accepted_items"], 5, "{proto} {what}: {r}");
                expected += 5;
            } else {
                assert_eq!(r["accepted_items"], 0, "{proto} {what}: {r}");
                let err = r["first_error"].as_str().unwrap_or_default().to_string();
                let named = if proto == "grpc" { err.contains("Unauthenticated") } else { err.contains("401") };
                assert!(named, "{proto} {what}: the client is told why: {err}");
            }
        }
    }
    let refused = gw.metric_with("switchyard_receiver_rejected_requests", &["reason=\"unauthenticated\""]);
    assert!(refused >= 8.0, "refusals counted: {refused}");
    assert!(gw.logs().contains("authentication failed"), "and logged");

    // The SDK (HTTP exporter, requests) with a bearer header.
    let sdk = sdk_client(
        "http",
        &format!("https://127.0.0.1:{bh}"),
        10,
        "bearer-run",
        &["--signals", "traces", "--ca", &ca_file, "--header", "authorization=Bearer first-token"],
    );
    assert!(sdk.status.success(), "SDK with bearer: {}", String::from_utf8_lossy(&sdk.stderr));
    expected += 10;

    // Rotate the token file: the new token works and the old one stops, without a restart.
    std::fs::write(&token_file, "second-token # rotated\n").expect("rotate");
    let rotated = wait_until(Duration::from_secs(10), || {
        send("grpc", bg, "authorization=Bearer second-token")["accepted_items"] == 5
    });
    assert!(rotated, "new token accepted after rotation:\n{}", gw.logs());
    expected += 5;
    for proto_port in [("grpc", bg), ("http", bh)] {
        let old = send(proto_port.0, proto_port.1, "authorization=Bearer first-token");
        assert_eq!(old["accepted_items"], 0, "old token refused over {}: {old}", proto_port.0);
    }
    assert!(
        wait_until(Duration::from_secs(10), || sink.items("traces", None) == expected),
        "every accepted span arrived"
    );
}

#[test]
fn certificate_rotation_while_a_client_streams_fails_no_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new(dir.path(), "rotate");
    let live = ca.server("live");
    let next = ca.server("next");
    let sink = Sink::start(&[]);
    let g = support::free_port();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "127.0.0.1:{g}"
        tls: {{cert_file: {cert}, key_file: {key}, reload_interval: 500ms}}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp]}}
"#,
        cert = live.cert.display(),
        key = live.key.display(),
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&config, g);
    let ca_file = ca.cert.display().to_string();
    let endpoint = format!("https://127.0.0.1:{g}");
    let accepted = dir.path().join("accepted");
    let client = std::thread::spawn({
        let (ca_file, endpoint, accepted) = (ca_file.clone(), endpoint.clone(), accepted.display().to_string());
        move || {
            gen(&[
                "traces",
                "--endpoint",
                &endpoint,
                "--duration",
                "6s",
                "--rate",
                "2000",
                "--batch-size",
                "20",
                "--workers",
                "2",
                "--tls-ca",
                &ca_file,
                "--accepted-file",
                &accepted,
            ])
        }
    });
    // Meanwhile, short-lived clients make a new connection (and handshake) every few
    // hundred milliseconds, before, during and after the rotation.
    let reconnecting = std::thread::spawn({
        let (ca_file, endpoint) = (ca_file.clone(), endpoint.clone());
        move || {
            let until = Instant::now() + Duration::from_secs(5);
            let mut runs = Vec::new();
            while Instant::now() < until {
                runs.push(gen(&["traces", "--endpoint", &endpoint, "--count", "20", "--tls-ca", &ca_file]));
            }
            runs
        }
    });
    std::thread::sleep(Duration::from_secs(2));
    let new_pem = next.cert_pem();
    write_pair(&live, &new_pem, &std::fs::read_to_string(&next.key).expect("key"));
    let report = client.join().expect("client");
    assert_eq!(report["refused_items"], 0, "no request of the streaming client failed: {report}");
    assert!(report["accepted_items"].as_u64().unwrap_or(0) > 5000, "{report}");
    let runs = reconnecting.join().expect("reconnecting clients");
    assert!(runs.len() >= 5, "{} short clients", runs.len());
    for r in &runs {
        assert_eq!(r["accepted_items"], 20, "a client connecting around the rotation: {r}");
    }
    assert!(gw.logs().contains("TLS certificate reloaded"), "{}", gw.logs());

    // A new connection now sees the new certificate.
    let presented = presented_certificate(g, &ca);
    let expected = der_of(&new_pem);
    assert_eq!(presented, expected, "the rotated certificate is served");
    let n = report["accepted_items"].as_u64().unwrap_or(0) as usize + 20 * runs.len();
    assert!(wait_until(Duration::from_secs(15), || sink.items("traces", None) == n), "all {n} spans delivered");
}

fn der_of(pem: &str) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).expect("pem").to_vec()
}

/// The leaf certificate a fresh TLS connection to `port` gets.
fn presented_certificate(port: u16, ca: &Ca) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    rt.block_on(async {
        let config = rustls_client(ca, None, &[b"h2"]);
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("handshake");
        tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).unwrap_or_default()
    })
}

#[test]
fn exporters_reach_a_mutual_tls_backend_and_refuse_an_untrusted_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new(dir.path(), "backend");
    let rogue = Ca::new(dir.path(), "rogue");
    let backend_cert = ca.server("backend");
    let exporter_id = ca.client("exporter");
    let untrusted_cert = rogue.server("untrusted");
    let secure = Sink::start(&[
        "--tls-cert",
        &backend_cert.cert.display().to_string(),
        "--tls-key",
        &backend_cert.key.display().to_string(),
        "--client-ca",
        &ca.cert.display().to_string(),
    ]);
    let untrusted = Sink::start(&[
        "--tls-cert",
        &untrusted_cert.cert.display().to_string(),
        "--tls-key",
        &untrusted_cert.key.display().to_string(),
    ]);
    let (g, g2) = (support::free_port(), support::free_port());
    let client_tls = format!(
        "{{ca_file: {}, cert_file: {}, key_file: {}}}",
        ca.cert.display(),
        exporter_id.cert.display(),
        exporter_id.key.display()
    );
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{g}"}}
  otlp/untrusted:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{g2}"}}
exporters:
  otlp/mtls:
    endpoint: 127.0.0.1:{sg}
    tls: {client_tls}
  otlphttp/mtls:
    endpoint: https://127.0.0.1:{sh}
    tls: {client_tls}
  otlp/untrusted:
    endpoint: 127.0.0.1:{ug}
    tls: {{ca_file: {ca}}}
    sending_queue: {{enabled: false}}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 1s}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp/mtls, otlphttp/mtls]}}
    traces/untrusted: {{receivers: [otlp/untrusted], exporters: [otlp/untrusted]}}
"#,
        sg = secure.grpc_port,
        sh = secure.http_port,
        ug = untrusted.grpc_port,
        ca = ca.cert.display(),
    );
    let gw = Gateway::start(&config, g2);
    let r = gen(&["traces", "--endpoint", &format!("http://127.0.0.1:{g}"), "--count", "200", "--batch-size", "20"]);
    assert_eq!(r["accepted_items"], 200, "{r}");
    let both = || {
        let reqs = secure.requests();
        let n = |t: &str| -> usize {
            reqs.iter().filter(|q| q["transport"] == t).map(|q| support::items_of(&q["request"], None).len()).sum()
        };
        n("grpc") == 200 && n("http") == 200
    };
    assert!(wait_until(Duration::from_secs(15), both), "200 spans over gRPC and over HTTP, mutual TLS:\n{}", gw.logs());

    // A backend whose certificate does not chain to the configured CA: refused, retried, logged, counted.
    let started = Instant::now();
    let r = gen(&["traces", "--endpoint", &format!("http://127.0.0.1:{g2}"), "--count", "10"]);
    assert_eq!(r["accepted_items"], 0, "without a queue the client sees the failure: {r}");
    // Retried (100-200 ms apart) until the next wait would pass max_elapsed_time (1 s).
    assert!(started.elapsed() >= Duration::from_millis(500), "retried for {:?}", started.elapsed());
    assert!(untrusted.requests().is_empty(), "nothing reached the untrusted backend");
    let logs = gw.logs();
    assert!(logs.contains("certificate") || logs.contains("UnknownIssuer"), "the TLS error is logged:\n{logs}");
    assert!(logs.contains("Will retry"), "the failure was retried:\n{logs}");
    assert!(gw.metric_with("otelcol_exporter_send_failed_spans", &["exporter=\"otlp/untrusted\""]) >= 10.0);
}

#[test]
fn the_secure_gateway_example_runs_with_tls_and_a_token_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new(dir.path(), "example");
    let server = ca.server("gateway");
    let sink = Sink::start(&[]);
    let (g, h, health) = (support::free_port(), support::free_port(), support::free_port());
    // The example as shipped, with only its addresses and certificate paths adapted.
    let example = std::fs::read_to_string(support::root().join("examples/secure-gateway.yaml")).expect("example");
    let config = example
        .replace("0.0.0.0:4317", &format!("127.0.0.1:{g}"))
        .replace("0.0.0.0:4318", &format!("127.0.0.1:{h}"))
        .replace("0.0.0.0:13133", &format!("127.0.0.1:{health}"))
        .replace("/etc/switchyard/tls/tls.crt", &server.cert.display().to_string())
        .replace("/etc/switchyard/tls/tls.key", &server.key.display().to_string())
        .replace("https://openlit.example.internal:4318", &sink.http_url())
        .replace("https://tempo.example.internal:4318", &sink.http_url());
    assert!(!config.contains("example.internal") && !config.contains("0.0.0.0"), "every address adapted");
    let gw = Gateway::start_with_env(&config, h, &[("GATEWAY_TOKEN", "gw-token"), ("OPENLIT_TOKEN", "openlit-token")]);
    let ca_file = ca.cert.display().to_string();
    for (proto, port) in [("grpc", g), ("http", h)] {
        let endpoint = format!("https://127.0.0.1:{port}");
        let denied = gen(&["logs", "--protocol", proto, "--endpoint", &endpoint, "--count", "5", "--tls-ca", &ca_file]);
        assert_eq!(denied["accepted_items"], 0, "{proto} without the token: {denied}");
        let ok = gen(&[
            "traces",
            "--protocol",
            proto,
            "--endpoint",
            &endpoint,
            "--count",
            "50",
            "--tls-ca",
            &ca_file,
            "--headers",
            "authorization=Bearer gw-token",
        ]);
        assert_eq!(ok["accepted_items"], 50, "{proto} with the token: {ok}");
    }
    // Traces fan out to both exporters; the OpenLIT one carries its token from the environment.
    let to_openlit = || {
        sink.requests()
            .iter()
            .filter(|r| r["signal"] == "traces" && r["headers"]["authorization"] == "Bearer openlit-token")
            .map(|r| support::items_of(&r["request"], None).len())
            .sum::<usize>()
    };
    assert!(
        wait_until(Duration::from_secs(15), || to_openlit() == 100 && sink.items("traces", None) == 200),
        "{}",
        gw.logs()
    );
}

#[test]
fn exporters_add_credentials_and_propagate_the_tenant_from_the_client() {
    // Gateway B checks a bearer token (HTTP) and basic credentials (gRPC); gateway A receives
    // from clients (keeping their headers), batches per tenant, and exports to B with
    // bearertokenauth over HTTP and basicauth over gRPC, and to the sink with headers_setter
    // copying X-Tenant-ID into X-Scope-OrgID (the Mimir/Loki tenant header).
    let sink = Sink::start(&[]);
    let (a, b, bg) = (support::free_port(), support::free_port(), support::free_port());
    let gateway_b = format!(
        r#"
extensions:
  bearertokenauth: {{token: "tier-token"}}
  basicauth:
    htpasswd: {{inline: "gateway-a:a-password"}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{b}", auth: {{authenticator: bearertokenauth}}}}
      grpc: {{endpoint: "127.0.0.1:{bg}", auth: {{authenticator: basicauth}}}}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  extensions: [bearertokenauth, basicauth]
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp]}}
"#,
        sink = sink.grpc_endpoint()
    );
    let gateway_a = format!(
        r#"
extensions:
  bearertokenauth/tier: {{token: "tier-token"}}
  basicauth/tier:
    client_auth: {{username: gateway-a, password: a-password}}
  headers_setter:
    headers:
      - {{key: X-Scope-OrgID, from_context: X-Tenant-ID, default_value: anonymous}}
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{a}", include_metadata: true}}
processors:
  batch: {{metadata_keys: [X-Tenant-ID], timeout: 100ms}}
exporters:
  otlphttp/tier:
    endpoint: http://127.0.0.1:{b}
    auth: {{authenticator: bearertokenauth/tier}}
  otlp/tier:
    endpoint: 127.0.0.1:{bg}
    tls: {{insecure: true}}
    auth: {{authenticator: basicauth/tier}}
  otlphttp/tenant:
    endpoint: {sink}
    auth: {{authenticator: headers_setter}}
service:
  extensions: [bearertokenauth/tier, basicauth/tier, headers_setter]
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [otlphttp/tier, otlp/tier, otlphttp/tenant]}}
"#,
        sink = sink.http_url()
    );
    let tier = Gateway::start(&gateway_b, bg);
    let gw = Gateway::start(&gateway_a, a);
    let endpoint = format!("http://127.0.0.1:{a}");
    for (tenant, n) in [("acme", "30"), ("globex", "20")] {
        let r = gen(&["traces", "--endpoint", &endpoint, "--count", n, "--headers", &format!("x-tenant-id={tenant}")]);
        assert_eq!(r["accepted_items"].to_string(), n, "{r}");
    }
    let r = gen(&["traces", "--endpoint", &endpoint, "--count", "10"]);
    assert_eq!(r["accepted_items"], 10, "{r}");
    let per = |transport: &str, header: &str, value: &str| -> usize {
        sink.requests()
            .iter()
            .filter(|q| q["transport"] == transport && q["headers"][header] == value)
            .map(|q| support::items_of(&q["request"], None).len())
            .sum()
    };
    let arrived = || {
        per("http", "x-scope-orgid", "acme") == 30
            && per("http", "x-scope-orgid", "globex") == 20
            && per("http", "x-scope-orgid", "anonymous") == 10
            && sink.items("traces", None) == 180
    };
    assert!(wait_until(Duration::from_secs(15), arrived), "tenants propagated, tier delivered:\n{}", gw.logs());
    // Everything that went through gateway B (twice: HTTP with a token, gRPC with basic
    // credentials) passed its checks; B exports to the sink over gRPC.
    let via_b: usize = sink
        .requests()
        .iter()
        .filter(|q| q["transport"] == "grpc")
        .map(|q| support::items_of(&q["request"], None).len())
        .sum();
    assert_eq!(via_b, 120);
    assert_eq!(tier.metric_with("switchyard_receiver_rejected_requests", &["reason=\"unauthenticated\""]), 0.0);
}
