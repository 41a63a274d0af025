//! TLS set-up for servers and clients: self-signed certificates for tests and the demo,
//! PEM files for real use, and a client config that accepts any certificate (`--insecure`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Errors setting up TLS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Generating a self-signed certificate failed.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls rejected the configuration.
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// A PEM file could not be read or parsed.
    #[error("PEM: {0}")]
    Pem(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate for `names` (e.g. `["localhost", "127.0.0.1"]`), as DER.
pub fn self_signed(names: &[&str]) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names)?;
    let cert = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    Ok((cert, key))
}

/// A self-signed certificate with its key, in DER (for rustls) and PEM (for configuration
/// files of servers that read them, such as the MTA's `[tls]`).
#[derive(Debug)]
pub struct SelfSigned {
    /// The certificate, DER.
    pub cert: CertificateDer<'static>,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key, PEM.
    pub key_pem: String,
    key_der: Vec<u8>,
}

impl SelfSigned {
    /// A fresh certificate for `names` (DNS names or IP addresses).
    pub fn generate(names: &[&str]) -> Result<SelfSigned, TlsError> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let ck = rcgen::generate_simple_self_signed(names)?;
        Ok(SelfSigned {
            cert: ck.cert.der().clone(),
            cert_pem: ck.cert.pem(),
            key_pem: ck.signing_key.serialize_pem(),
            key_der: ck.signing_key.serialize_der(),
        })
    }

    /// A server config presenting this certificate.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        server_config(vec![self.cert.clone()], PrivateKeyDer::Pkcs8(self.key_der.clone().into()))
    }
}

/// A server config presenting a fresh self-signed certificate for localhost / 127.0.0.1.
pub fn self_signed_server_config() -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let (cert, key) = self_signed(&["localhost", "127.0.0.1"])?;
    server_config(vec![cert], key)
}

/// A server config from a certificate chain and key.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(cfg))
}

/// A server config from PEM files.
pub fn server_config_from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem(e.to_string()))?;
    server_config(chain, key)
}

/// A client config that trusts exactly `roots` (e.g. the oracle's self-signed certificate).
pub fn client_config_trusting(roots: &[CertificateDer<'static>]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add(r.clone())?;
    }
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// A client config that accepts any server certificate: for `--insecure` against test
/// servers with self-signed certificates, and for an MTA relaying opportunistically
/// (RFC 3207 §4.1 allows a client to proceed when the certificate cannot be verified).
pub fn insecure_client_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let p = provider();
    let cfg = rustls::ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(p)))
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
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

/// A `ServerName` for `host` (a DNS name or an IP address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_string()).map_err(|e| TlsError::Pem(format!("bad server name {host:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{DriverConfig, MaybeTls, TlsSide};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn self_signed_handshake_with_insecure_client() {
        let server_cfg = self_signed_server_config().unwrap();
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let srv = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut s = MaybeTls::Plain(tcp).upgrade(&TlsSide::Server(server_cfg)).await.unwrap();
            s.write_all(b"hello").await.unwrap();
            s.shutdown().await.unwrap();
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let side = TlsSide::Client(insecure_client_config().unwrap(), server_name("localhost").unwrap());
        let mut c = MaybeTls::Plain(tcp).upgrade(&side).await.unwrap();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got).await;
        assert_eq!(got, b"hello");
        srv.await.unwrap();
        let _ = DriverConfig::default();
    }

    #[tokio::test]
    async fn a_client_trusting_the_self_signed_cert_verifies_it_by_ip() {
        let ss = SelfSigned::generate(&["localhost", "127.0.0.1"]).unwrap();
        assert!(ss.cert_pem.contains("BEGIN CERTIFICATE") && ss.key_pem.contains("PRIVATE KEY"));
        let server_cfg = ss.server_config().unwrap();
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let srv = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut s = MaybeTls::Plain(tcp).upgrade(&TlsSide::Server(server_cfg)).await.unwrap();
            s.write_all(b"ok").await.unwrap();
            s.shutdown().await.unwrap();
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let side = TlsSide::Client(client_config_trusting(std::slice::from_ref(&ss.cert)).unwrap(), server_name("127.0.0.1").unwrap());
        let mut c = MaybeTls::Plain(tcp).upgrade(&side).await.unwrap();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got).await;
        assert_eq!(got, b"ok");
        srv.await.unwrap();
    }
}
