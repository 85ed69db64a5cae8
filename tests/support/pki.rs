//! Certificates made at test time with rcgen: a CA, a server certificate for 127.0.0.1 and
//! localhost, client certificates (valid, expired, from an unknown CA), written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and key on disk.
#[derive(Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertFiles {
    /// The certificate PEM text.
    pub fn cert_pem(&self) -> String {
        std::fs::read_to_string(&self.cert).expect("cert")
    }
}

/// A certificate authority that issues certificates into a directory.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pub cert: PathBuf,
    dir: PathBuf,
    name: String,
}

impl Ca {
    /// A new self-signed CA, its certificate written to `dir/<name>-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let issuer = CertifiedIssuer::self_signed(p, KeyPair::generate().expect("key")).expect("CA");
        let cert = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&cert, issuer.pem()).expect("write CA");
        Ca { issuer, cert, dir: dir.to_path_buf(), name: name.to_string() }
    }

    fn issue(&self, file: &str, sans: &[&str], server: bool, expired: bool) -> CertFiles {
        let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("params");
        p.distinguished_name.push(DnType::CommonName, format!("{} {file}", self.name));
        p.extended_key_usages =
            vec![if server { ExtendedKeyUsagePurpose::ServerAuth } else { ExtendedKeyUsagePurpose::ClientAuth }];
        if expired {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().expect("key");
        let cert = p.signed_by(&key, &self.issuer).expect("sign");
        let files =
            CertFiles { cert: self.dir.join(format!("{file}.pem")), key: self.dir.join(format!("{file}-key.pem")) };
        write_pair(&files, &cert.pem(), &key.serialize_pem());
        files
    }

    /// A server certificate for 127.0.0.1 and localhost.
    pub fn server(&self, file: &str) -> CertFiles {
        self.issue(file, &["127.0.0.1", "localhost"], true, false)
    }

    /// A client certificate.
    pub fn client(&self, file: &str) -> CertFiles {
        self.issue(file, &["client.test"], false, false)
    }

    /// A client certificate that expired in 2021.
    pub fn expired_client(&self, file: &str) -> CertFiles {
        self.issue(file, &["client.test"], false, true)
    }
}

/// Writes key then certificate, each by rename, so a reader never sees a half-written file.
pub fn write_pair(files: &CertFiles, cert_pem: &str, key_pem: &str) {
    for (path, text) in [(&files.key, key_pem), (&files.cert, cert_pem)] {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    }
}
