//! Client TLS: a rustls `ClientConfig` from configtls fields, and a connector for tonic
//! channels that does TCP then (optionally) TLS with that config.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{
    err, parse_certs, parse_key, provider, read_pem, roots, versions, warn_old_min, ClientTlsConfig, TlsError,
};

/// Builds the client config. `alpn`: `h2` for gRPC; `h2` and `http/1.1` for HTTP.
pub fn client_config(cfg: &ClientTlsConfig, alpn: Vec<Vec<u8>>) -> Result<rustls::ClientConfig, TlsError> {
    warn_old_min(cfg.min_version.as_deref());
    let provider = provider(&cfg.cipher_suites, &cfg.curve_preferences)?;
    let versions = versions(cfg.min_version.as_deref(), cfg.max_version.as_deref())?;
    let verifier: Arc<dyn ServerCertVerifier> = if cfg.insecure_skip_verify {
        Arc::new(NoVerification(provider.clone()))
    } else {
        let mut store = match read_pem(&cfg.ca_file, &cfg.ca_pem, "ca_file")? {
            Some(pem) => roots(&pem, "ca_file")?,
            None => rustls::RootCertStore::empty(),
        };
        if store.is_empty() || cfg.include_system_ca_certs_pool {
            let native = rustls_native_certs::load_native_certs();
            for e in &native.errors {
                tracing::debug!(error = %e, "Skipping an unreadable system CA certificate.");
            }
            let (added, _) = store.add_parsable_certificates(native.certs);
            if added == 0 && store.is_empty() {
                return Err(err("no CA certificates: the system has none and ca_file is not set"));
            }
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .map_err(|e| err(format!("ca_file: {e}")))?;
        match &cfg.server_name_override {
            Some(name) if !name.is_empty() => {
                let name = ServerName::try_from(name.clone())
                    .map_err(|e| err(format!("server_name_override \"{name}\": {e}")))?;
                Arc::new(NameOverride { inner: webpki, name })
            }
            _ => webpki,
        }
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| err(format!("TLS settings: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let cert = read_pem(&cfg.cert_file, &cfg.cert_pem, "cert_file")?;
    let key = read_pem(&cfg.key_file, &cfg.key_pem, "key_file")?;
    let mut config = match (cert, key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(parse_certs(&cert, "cert_file")?, parse_key(&key, "key_file")?)
            .map_err(|e| err(format!("client certificate and key do not fit: {e}")))?,
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn;
    Ok(config)
}

/// `insecure_skip_verify`: any certificate is accepted; handshake signatures are still
/// checked, so the peer holds the key of the certificate it showed.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `server_name_override`: the certificate is checked against this name, whatever host
/// the endpoint names (the HTTP client still sends the endpoint's host as SNI).
#[derive(Debug)]
struct NameOverride {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NameOverride {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner.verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Connects TCP, then TLS when configured: the transport of a tonic channel (whose own
/// TLS has no `insecure_skip_verify`, versions or suites).
#[derive(Clone)]
pub struct TlsConnector {
    tls: Option<(tokio_rustls::TlsConnector, Option<ServerName<'static>>)>,
}

impl TlsConnector {
    /// Plaintext when `config` is `None`.
    pub fn new(config: Option<rustls::ClientConfig>, server_name_override: Option<&str>) -> Result<Self, TlsError> {
        let name = server_name_override
            .filter(|n| !n.is_empty())
            .map(|n| ServerName::try_from(n.to_string()).map_err(|e| err(format!("server_name_override: {e}"))))
            .transpose()?;
        Ok(TlsConnector { tls: config.map(|c| (tokio_rustls::TlsConnector::from(Arc::new(c)), name)) })
    }
}

impl tower::Service<http::Uri> for TlsConnector {
    type Response = TokioIo<TlsConnectorStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let tls = self.tls.clone();
        Box::pin(async move {
            let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
            let port = uri.port_u16().unwrap_or(if tls.is_some() { 443 } else { 80 });
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let stream = match tls {
                None => TlsConnectorStream::Plain(tcp),
                Some((connector, name)) => {
                    let name = match name {
                        Some(n) => n,
                        None => {
                            ServerName::try_from(host).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?
                        }
                    };
                    TlsConnectorStream::Tls(Box::new(connector.connect(name, tcp).await?))
                }
            };
            Ok(TokioIo::new(stream))
        })
    }
}

/// A client connection, plain or TLS.
pub enum TlsConnectorStream {
    /// Plaintext.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for TlsConnectorStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TlsConnectorStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            TlsConnectorStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TlsConnectorStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TlsConnectorStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            TlsConnectorStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            TlsConnectorStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            TlsConnectorStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            TlsConnectorStream::Plain(s) => s.is_write_vectored(),
            TlsConnectorStream::Tls(s) => s.is_write_vectored(),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TlsConnectorStream::Plain(s) => Pin::new(s).poll_flush(cx),
            TlsConnectorStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            TlsConnectorStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            TlsConnectorStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
