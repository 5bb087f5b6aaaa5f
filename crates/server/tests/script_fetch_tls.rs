//! Scripts' `fetch` over real TLS: a loopback HTTPS server with a self-signed certificate is
//! refused unless the call passes `allowSelfSignedCertificate`, and reached when it does.

mod common;
use common::*;
use serde_json::json;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `{"value":"over-tls"}` to every request on an HTTPS port with a fresh self-signed
/// certificate for 127.0.0.1; returns the base URL.
async fn self_signed_https() -> String {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let chain = vec![cert.cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the client distrusts the certificate) ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"value":"over-tls"}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificates_only_when_the_call_allows_them() {
    let base = self_signed_https().await;
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
    ]);
    let admin = server.admin().await;
    let script = format!(
        "class Script {{ async process_incoming_request() {{ \
           const out = []; \
           for (const allow of [false, undefined, true]) {{ \
             try {{ const r = await fetch('{base}/value', {{}}, allow); const j = await r.json(); out.push(allow + ': ' + j.value); }} \
             catch (e) {{ out.push(allow + ': ' + e.name); }} \
           }} \
           return {{ content: {{ text: out.join(' | ') }} }}; }} }}"
    );
    let (status, created) = admin
        .post(
            "integrations.create",
            json!({
                "type": "webhook-incoming", "name": "tls", "enabled": true, "username": "rocket.cat",
                "channel": "#general", "scriptEnabled": true, "script": script,
            }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let i = &created["integration"];
    let hook = format!("/hooks/{}/{}", i["_id"].as_str().unwrap(), i["token"].as_str().unwrap());
    let (status, answer) = admin.post(&hook, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, messages) = admin.get("channels.messages", &[("roomId", "GENERAL"), ("count", "5")]).await;
    assert_eq!(status, 200, "{messages}");
    let texts: Vec<&str> = messages["messages"].as_array().unwrap().iter().filter_map(|m| m["msg"].as_str()).collect();
    assert!(
        texts.contains(&"false: TypeError | undefined: TypeError | true: over-tls"),
        "the certificate is refused by default and accepted when allowed: {texts:?}"
    );
}
