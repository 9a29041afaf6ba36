//! The device's two rustls certificate verifiers: one that accepts exactly the pinned hub certificate, and one that accepts the certificate an enrollment code names.
//!
//! Neither consults a CA: the hub's certificate is self-signed, and trust comes from the pin
//! (a SHA-256 of the end-entity certificate's DER, learnt at enrollment) or from the code.
//! Both still verify the handshake's signatures with the ring provider's algorithms, so the
//! server must hold the certificate's private key; presenting a copy of the certificate is
//! not enough. Host names are not checked: the pin names one certificate, whatever address
//! the hub is reached at. Each verifier counts its refusals, so the client can tell a pin
//! mismatch from any other connection failure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::hub::code::Code;
use crate::hub::tls::fingerprint;

/// What the certificate must be.
#[derive(Debug)]
enum Expect {
    /// Exactly this SHA-256.
    Pin([u8; 32]),
    /// One whose SHA-256 the code's check names.
    Code(Code),
}

/// A verifier for one hub.
#[derive(Debug)]
pub(super) struct HubVerifier {
    expect: Expect,
    provider: Arc<CryptoProvider>,
    /// Certificates refused so far.
    refused: AtomicU64,
    /// The SHA-256 of the last certificate presented.
    presented: Mutex<Option<[u8; 32]>>,
}

impl HubVerifier {
    pub(super) fn pinned(pin: [u8; 32], provider: Arc<CryptoProvider>) -> HubVerifier {
        HubVerifier::new(Expect::Pin(pin), provider)
    }

    pub(super) fn for_code(code: Code, provider: Arc<CryptoProvider>) -> HubVerifier {
        HubVerifier::new(Expect::Code(code), provider)
    }

    fn new(expect: Expect, provider: Arc<CryptoProvider>) -> HubVerifier {
        HubVerifier {
            expect,
            provider,
            refused: AtomicU64::new(0),
            presented: Mutex::new(None),
        }
    }

    pub(super) fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }

    pub(super) fn presented(&self) -> Option<[u8; 32]> {
        *self.presented.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ServerCertVerifier for HubVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = fingerprint(end_entity);
        *self.presented.lock().unwrap_or_else(|p| p.into_inner()) = Some(fp);
        let ok = match &self.expect {
            Expect::Pin(pin) => crate::accounts::constant_time_eq(pin, &fp),
            Expect::Code(code) => code.names(&fp),
        };
        if ok {
            Ok(ServerCertVerified::assertion())
        } else {
            self.refused.fetch_add(1, Ordering::SeqCst);
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client configuration that trusts only what `verifier` accepts, HTTP/1.1.
pub(super) fn client_config(
    verifier: Arc<HubVerifier>,
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
