//! `wss://`: the relay terminates TLS 1.3 itself, and refuses older TLS and plain WebSocket on
//! its TLS port.

use std::sync::Arc;

use rustls::{
    ClientConfig, RootCertStore,
    crypto::ring,
    pki_types::ServerName,
    version::{TLS12, TLS13},
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::client_async_with_config;

use crate::support::{Client, key, peer, relay_with};

fn connector(
    roots: &RootCertStore,
    version: &'static rustls::SupportedProtocolVersion,
) -> TlsConnector {
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn wss_with_tls13_only() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let (_server, addr, aud) = relay_with(|cfg| {
        cfg.tls_cert = Some(cert_path);
        cfg.tls_key = Some(key_path);
    })
    .await;
    assert_eq!(aud.as_str(), format!("wss://{addr}"));

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut clients = Vec::new();
    for n in 1..=2 {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let tls = connector(&roots, &TLS13)
            .connect(name.clone(), tcp)
            .await
            .unwrap();
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        let mut c = Client::over(Box::new(tls), addr, "wss", &aud).await;
        c.join(&key(1), peer(n)).await;
        clients.push(c);
    }
    let [a, b] = &mut clients[..] else {
        unreachable!()
    };
    a.send_to(peer(2), b"over tls").await;
    b.expect_deliver(peer(1), b"over tls").await;

    // A client that speaks at most TLS 1.2 gets no connection.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let refused = connector(&roots, &TLS12).connect(name.clone(), tcp).await;
    assert!(refused.is_err());
    // Nor does plain WebSocket on the TLS port.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let plain = client_async_with_config(format!("ws://{addr}/v1/ws"), tcp, None).await;
    assert!(plain.is_err());
}
