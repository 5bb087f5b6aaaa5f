//! The host side of scripts' `fetch`: makes the HTTP request with the same address guard as
//! outgoing webhooks (`Integrations_Outgoing_Allow_Private_Addresses`, checked on the URL, after
//! DNS and on every redirect), honours `allowSelfSignedCertificate` per call, and stops reading
//! a response at `Integrations_Script_Max_Fetch_Bytes`.

use crate::outbound_http::{GuardedResolver, check_url, error_text, redirect_policy};
use crate::state::{AppState, WeakState};
use script::{FetchFuture, FetchRequest, FetchResponse, Fetcher};
use std::sync::OnceLock;
use std::time::Duration;

/// Makes scripts' requests on the server's runtime.
pub struct HostFetcher {
    state: WeakState,
    runtime: tokio::runtime::Handle,
    clients: OnceLock<Clients>,
}

/// Guarded or open, strict or accepting self-signed certificates; built on first use.
struct Clients {
    guarded: reqwest::Client,
    open: reqwest::Client,
    guarded_insecure: reqwest::Client,
    open_insecure: reqwest::Client,
}

fn client(guard: bool, insecure: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .user_agent(crate::outbound_http::USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(64)
        .no_proxy()
        .redirect(redirect_policy(guard))
        .danger_accept_invalid_certs(insecure);
    if guard {
        b = b.dns_resolver(GuardedResolver);
    }
    b.build().expect("build the script fetch HTTP client")
}

impl Clients {
    fn new() -> Self {
        Clients {
            guarded: client(true, false),
            open: client(false, false),
            guarded_insecure: client(true, true),
            open_insecure: client(false, true),
        }
    }

    fn pick(&self, guard: bool, insecure: bool) -> &reqwest::Client {
        match (guard, insecure) {
            (true, false) => &self.guarded,
            (false, false) => &self.open,
            (true, true) => &self.guarded_insecure,
            (false, true) => &self.open_insecure,
        }
    }
}

impl HostFetcher {
    /// Must be called on the server's runtime: requests run there, not on the script threads.
    pub fn new(state: &AppState) -> Self {
        HostFetcher { state: state.downgrade(), runtime: tokio::runtime::Handle::current(), clients: OnceLock::new() }
    }
}

/// Aborts the request on the server runtime when the script stops waiting for it.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Fetcher for HostFetcher {
    fn fetch(&self, request: FetchRequest) -> FetchFuture {
        let Some(state) = self.state.upgrade() else {
            return Box::pin(async { Err("the server is shutting down".to_owned()) });
        };
        let guard = !state.settings.bool("Integrations_Outgoing_Allow_Private_Addresses");
        let client = self.clients.get_or_init(Clients::new).pick(guard, request.allow_self_signed).clone();
        let task = self.runtime.spawn(send(client, guard, request));
        Box::pin(async move {
            let abort = AbortOnDrop(task.abort_handle());
            let result = task.await.map_err(|e| format!("request task failed: {e}"));
            drop(abort);
            result?
        })
    }
}

async fn send(client: reqwest::Client, guard: bool, r: FetchRequest) -> Result<FetchResponse, String> {
    let url = reqwest::Url::parse(&r.url).map_err(|e| format!("invalid URL {:?}: {e}", r.url))?;
    check_url(&url, guard).map_err(|refused| refused.0)?;
    let requested = url.to_string();
    let method =
        reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|_| format!("invalid method {:?}", r.method))?;
    let mut req = client.request(method, url).timeout(r.timeout);
    for (k, v) in &r.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if let Some(body) = r.body {
        req = req.body(body);
    }
    let mut resp = req.send().await.map_err(|e| error_text(&e))?;
    let too_big = || format!("the response is larger than {} bytes (Integrations_Script_Max_Fetch_Bytes)", r.max_bytes);
    if resp.content_length().is_some_and(|n| n > r.max_bytes as u64) {
        return Err(too_big());
    }
    let status = resp.status();
    let final_url = resp.url().to_string();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| error_text(&e))? {
        if body.len() + chunk.len() > r.max_bytes {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(FetchResponse {
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or_default().to_owned(),
        redirected: final_url != requested,
        url: final_url,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
