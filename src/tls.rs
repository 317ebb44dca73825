//! TLS for the client [`ClientBuilder::build`](crate::ClientBuilder::build) makes: rustls, the
//! platform's certificate verifier (the OS trust store, as reqwest does by default), and the
//! *ring* crypto provider.
//!
//! reqwest's default provider is aws-lc-rs, whose C build (and cmake on some targets) is the
//! longest step of a clean build of this crate; *ring*'s is a fraction of it (BENCHMARKS.md,
//! "Build weight"). An application that installs its own process-wide provider
//! ([`rustls::crypto::CryptoProvider::install_default`]) gets that one instead, and one that
//! passes its own `reqwest::Client` to the builder keeps whatever TLS it configured.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;
use rustls_platform_verifier::BuilderVerifierExt as _;

/// The rustls configuration of the default HTTP client: the process-wide provider if one is
/// installed, else *ring*; the platform verifier; ALPN offering HTTP/2 then HTTP/1.1.
pub(crate) fn client_config() -> Result<ClientConfig, rustls::Error> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    // What reqwest offers itself when it builds the configuration (`http2` feature on).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_a_handshake_offering_http2_then_http1() {
        let config = client_config().expect("a TLS configuration");
        assert_eq!(config.alpn_protocols, [&b"h2"[..], &b"http/1.1"[..]]);
        let name = "api.lowcodeapi.com".try_into().expect("a server name");
        let mut connection =
            rustls::ClientConnection::new(Arc::new(config), name).expect("a TLS connection");
        // The first flight is a ClientHello: a TLS handshake record.
        let mut hello = Vec::new();
        connection.write_tls(&mut hello).expect("a ClientHello");
        assert_eq!(hello.first(), Some(&0x16), "{hello:02x?}");
        assert!(hello.windows(2).any(|w| w == b"h2"));
    }

    #[test]
    fn uses_ring_unless_the_application_installed_a_provider() {
        let config = client_config().expect("a TLS configuration");
        if CryptoProvider::get_default().is_none() {
            // rustls names each provider's key loader after the provider.
            let keys = format!("{:?}", config.crypto_provider().key_provider);
            assert_eq!(keys, "Ring");
        }
    }
}
