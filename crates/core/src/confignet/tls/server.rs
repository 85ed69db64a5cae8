//! Server TLS with hot reload: the newest `ServerConfig` sits behind an `ArcSwap`; each
//! handshake loads it, so a rotated certificate applies to new connections while live
//! ones keep theirs.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::{
    err, parse_certs, parse_key, provider, read_pem, roots, versions, warn_old_min, ServerTlsConfig, TlsError,
};

/// Everything read from files; compared to decide whether to rebuild.
#[derive(PartialEq)]
struct Material {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

fn read_material(cfg: &ServerTlsConfig) -> Result<Material, TlsError> {
    let cert = read_pem(&cfg.cert_file, &cfg.cert_pem, "cert_file")?.ok_or_else(|| err("cert_file is required"))?;
    let key = read_pem(&cfg.key_file, &cfg.key_pem, "key_file")?.ok_or_else(|| err("key_file is required"))?;
    let client_ca = read_pem(&cfg.client_ca_file, &None, "client_ca_file")?;
    Ok(Material { cert, key, client_ca })
}

fn build(cfg: &ServerTlsConfig, m: &Material, alpn: &[Vec<u8>]) -> Result<rustls::ServerConfig, TlsError> {
    let provider = provider(&cfg.cipher_suites, &cfg.curve_preferences)?;
    let versions = versions(cfg.min_version.as_deref(), cfg.max_version.as_deref())?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| err(format!("TLS settings: {e}")))?;
    let builder = match &m.client_ca {
        Some(pem) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(pem, "client_ca_file")?), provider)
                    .build()
                    .map_err(|e| err(format!("client_ca_file: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let certs = parse_certs(&m.cert, "cert_file")?;
    let key = parse_key(&m.key, "key_file")?;
    let mut config =
        builder.with_single_cert(certs, key).map_err(|e| err(format!("certificate and key do not fit: {e}")))?;
    config.alpn_protocols = alpn.to_vec();
    Ok(config)
}

/// A receiver's TLS: the current config, reloaded in the background when asked to.
#[derive(Clone)]
pub struct ServerTls {
    current: Arc<ArcSwap<rustls::ServerConfig>>,
}

impl ServerTls {
    /// Reads the files and builds the config; starts the reload task (until `stop`) when
    /// `reload_interval` or `client_ca_file_reload` is set. `alpn`: e.g. `h2`, `http/1.1`.
    pub fn new(
        cfg: &ServerTlsConfig,
        alpn: Vec<Vec<u8>>,
        who: String,
        stop: CancellationToken,
    ) -> Result<ServerTls, TlsError> {
        warn_old_min(cfg.min_version.as_deref());
        let material = read_material(cfg)?;
        let current = Arc::new(ArcSwap::from_pointee(build(cfg, &material, &alpn)?));
        let every = cfg.reload_interval.or(cfg.client_ca_file_reload.then_some(Duration::from_secs(10)));
        if let Some(every) = every {
            let (cfg, current) = (cfg.clone(), current.clone());
            tokio::spawn(reload_loop(cfg, material, alpn, current, every, who, stop));
        }
        Ok(ServerTls { current })
    }

    /// An acceptor with the newest config.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.load_full())
    }
}

async fn reload_loop(
    cfg: ServerTlsConfig,
    mut last: Material,
    alpn: Vec<Vec<u8>>,
    current: Arc<ArcSwap<rustls::ServerConfig>>,
    every: Duration,
    who: String,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        // A half-written rotation (new cert, old key) fails to build: the old config stays
        // and the next tick tries again.
        let outcome = read_material(&cfg).and_then(|m| {
            if m == last {
                return Ok(None);
            }
            let built = build(&cfg, &m, &alpn)?;
            Ok(Some((m, built)))
        });
        match outcome {
            Ok(None) => {}
            Ok(Some((m, built))) => {
                current.store(Arc::new(built));
                last = m;
                tracing::info!(component = %who, "TLS certificate reloaded.");
            }
            Err(e) => {
                tracing::warn!(component = %who, error = %e, "TLS reload failed; keeping the previous certificate.")
            }
        }
    }
}
