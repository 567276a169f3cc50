//! Test certificates: a fresh CA and a server certificate it issued, as PEM files (for a
//! child process) and in memory (for an in-process server).

use std::path::{Path, PathBuf};

/// A CA and a server certificate for `names`, written under a directory.
#[derive(Debug)]
pub struct Issued {
    /// The CA's certificate, to trust.
    pub ca_file: PathBuf,
    /// The server's certificate (PEM).
    pub cert_file: PathBuf,
    /// The server's private key (PEM, PKCS#8).
    pub key_file: PathBuf,
    pub cert_der: rustls::pki_types::CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

/// Issues a server certificate for `names` (host names or IP addresses) from a fresh CA,
/// and writes `ca.pem`, `cert.pem` and `key.pem` into `dir`.
pub fn issue(dir: &Path, names: &[&str]) -> Issued {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mobieus test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("a server key");
    let leaf_params =
        rcgen::CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("server params");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("issue the server certificate");
    let issued = Issued {
        ca_file: dir.join("ca.pem"),
        cert_file: dir.join("cert.pem"),
        key_file: dir.join("key.pem"),
        cert_der: leaf.der().clone(),
        key_der: leaf_key.serialize_der(),
    };
    std::fs::write(&issued.ca_file, ca_cert.pem()).expect("write the CA file");
    std::fs::write(&issued.cert_file, leaf.pem()).expect("write the certificate");
    std::fs::write(&issued.key_file, leaf_key.serialize_pem()).expect("write the key");
    issued
}
