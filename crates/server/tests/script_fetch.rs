//! Scripts' `fetch` against the real binary and a loopback HTTP server: awaited JSON in an
//! incoming script, a token fetched by `prepare_outgoing_request`, the address guard, the
//! deadline, the count/size/concurrency caps, and a slow fetch that holds up no other hook.

mod common;
use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

mod api {
    //! The loopback API scripts call: fixed answers, a slow path, a big body, a gated path.
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, Uri};
    use axum::response::{IntoResponse, Response};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::sync::Semaphore;

    pub struct Hit {
        pub path: String,
        pub headers: HeaderMap,
        pub body: String,
    }

    pub struct Api {
        pub base: String,
        pub hits: Mutex<Vec<Hit>>,
        pub gate: Semaphore,
        pub gated_now: AtomicUsize,
        pub gated_max: AtomicUsize,
    }

    async fn handle(State(api): State<Arc<Api>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        let path = uri.path().to_owned();
        let body = String::from_utf8_lossy(&body).into_owned();
        api.hits.lock().unwrap().push(Hit { path: path.clone(), headers, body: body.clone() });
        match path.as_str() {
            "/json" => ([("content-type", "application/json")], r#"{"value":"from-api"}"#).into_response(),
            "/token" => {
                let user = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["user"].as_str().map(str::to_owned));
                let token = format!("tok-{}", user.unwrap_or_default());
                ([("content-type", "application/json")], serde_json::json!({ "token": token }).to_string())
                    .into_response()
            }
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(8)).await;
                "late".into_response()
            }
            "/big" => "x".repeat(4096).into_response(),
            "/gated" => {
                let now = api.gated_now.fetch_add(1, Ordering::SeqCst) + 1;
                api.gated_max.fetch_max(now, Ordering::SeqCst);
                api.gate.acquire().await.unwrap().forget();
                api.gated_now.fetch_sub(1, Ordering::SeqCst);
                "opened".into_response()
            }
            _ => "ok".into_response(),
        }
    }

    pub async fn start() -> Arc<Api> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = Arc::new(Api {
            base: format!("http://{}", listener.local_addr().unwrap()),
            hits: Mutex::default(),
            gate: Semaphore::new(0),
            gated_now: AtomicUsize::new(0),
            gated_max: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(handle).with_state(api.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        api
    }

    impl Api {
        pub fn count(&self, path: &str) -> usize {
            self.hits.lock().unwrap().iter().filter(|h| h.path == path).count()
        }
    }
}

fn start(extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
    ];
    env.extend_from_slice(extra);
    Server::start_with(&env)
}

/// An incoming integration posting to #general with this script.
async fn scripted_hook(admin: &Client, script: &str) -> String {
    let body = json!({
        "type": "webhook-incoming", "name": "fetching", "enabled": true, "username": "rocket.cat",
        "channel": "#general", "scriptEnabled": true, "script": script,
    });
    let (status, created) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{created}");
    let i = &created["integration"];
    assert!(i.get("scriptError").is_none(), "{i}");
    format!("/hooks/{}/{}", i["_id"].as_str().unwrap(), i["token"].as_str().unwrap())
}

/// A script whose incoming method posts the text its async `body` returns.
fn posting(body: &str) -> String {
    format!(
        "class Script {{ async process_incoming_request({{ request }}) {{ const text = await (async () => {{ {body} }})(); return {{ content: {{ text }} }}; }} }}"
    )
}

/// User messages of #general: (id, text).
async fn general(c: &Client) -> Vec<(String, String)> {
    let (status, body) = c.get("channels.messages", &[("roomId", "GENERAL"), ("count", "100")]).await;
    assert_eq!(status, 200, "{body}");
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.get("t").is_none())
        .map(|m| (m["_id"].as_str().unwrap().to_owned(), m["msg"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Calls a hook (200 expected) and returns the text of the one message it posted.
async fn hook_posts(c: &Client, path: &str, body: Value) -> String {
    let before = general(c).await;
    let (status, answer) = c.post(path, body).await;
    assert_eq!(status, 200, "{answer}");
    let new: Vec<String> = general(c).await.into_iter().filter(|m| !before.contains(m)).map(|m| m.1).collect();
    assert_eq!(new.len(), 1, "{new:?}");
    new[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_script_awaits_fetch_json() {
    let api = api::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    let hook = scripted_hook(
        &admin,
        &posting(&format!(
            "const r = await fetch('{}/json', {{ headers: {{ 'X-Asked-By': 'script' }} }}); \
             const j = await r.json(); return 'got ' + j.value + ' ' + r.status + ' ' + r.ok + ' ' + r.headers.get('Content-Type');",
            api.base
        )),
    )
    .await;
    assert_eq!(hook_posts(&admin, &hook, json!({})).await, "got from-api 200 true application/json");
    let hits = api.hits.lock().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].headers["x-asked-by"], "script");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgoing_prepare_fetches_a_token_for_its_header() {
    let api = api::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    let script = format!(
        r#"class Script {{
            async prepare_outgoing_request({{ request }}) {{
                const r = await fetch('{base}/token', {{ method: 'POST', body: {{ user: request.data.user_name }} }});
                const {{ token }} = await r.json();
                request.headers['Authorization'] = 'Bearer ' + token;
                return request;
            }}
        }}"#,
        base = api.base
    );
    let body = json!({
        "type": "webhook-outgoing", "name": "out", "enabled": true, "username": "rocket.cat",
        "event": "sendMessage", "channel": "#general", "urls": [format!("{}/target", api.base)],
        "triggerWords": ["!go"], "scriptEnabled": true, "script": script, "token": "tok",
    });
    let (status, created) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{created}");
    let (status, posted) = admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": "!go now"})).await;
    assert_eq!(status, 200, "{posted}");
    let start = std::time::Instant::now();
    while api.count("/target") == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "the outgoing call never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hits = api.hits.lock().unwrap();
    let token = hits.iter().find(|h| h.path == "/token").expect("token fetched");
    assert_eq!(serde_json::from_str::<Value>(&token.body).unwrap(), json!({"user": "admin"}));
    assert_eq!(token.headers["content-type"], "application/json");
    let target = hits.iter().find(|h| h.path == "/target").unwrap();
    assert_eq!(target.headers["authorization"], "Bearer tok-admin");
    assert_eq!(serde_json::from_str::<Value>(&target.body).unwrap()["text"], "!go now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_refuses_private_addresses() {
    let api = api::start().await;
    // The default: private addresses are off limits.
    let server = Server::start_with(&[("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")]);
    let admin = server.admin().await;
    let port = api.base.rsplit(':').next().unwrap().to_owned();
    let hook = scripted_hook(
        &admin,
        &posting(&format!(
            "const out = []; \
             for (const url of ['{}/json', 'http://localhost:{port}/json', 'http://[::1]:{port}/json', 'file:///etc/passwd']) {{ \
               try {{ await fetch(url); out.push('reached'); }} catch (e) {{ out.push(e.name + ': ' + e.message); }} \
             }} return out.join(' | ');",
            api.base
        )),
    )
    .await;
    let text = hook_posts(&admin, &hook, json!({})).await;
    let parts: Vec<&str> = text.split(" | ").collect();
    assert_eq!(parts.len(), 4, "{text}");
    for p in &parts[..3] {
        assert!(p.starts_with("TypeError: fetch failed:") && p.contains("not an address"), "{text}");
    }
    assert!(parts[3].contains("unsupported URL scheme"), "{text}");
    assert_eq!(api.count("/json"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_past_the_deadline_fails_the_hook() {
    let api = api::start().await;
    let server = start(&[("OVERWRITE_SETTING_Integrations_Script_Timeout", "1000")]);
    let admin = server.admin().await;
    let hook =
        scripted_hook(&admin, &posting(&format!("const r = await fetch('{}/slow'); return await r.text();", api.base)))
            .await;
    let answer = admin.post(&hook, json!({})).await;
    assert_failure(&answer, "error-running-script", None);
    // The integration keeps working.
    let quick = scripted_hook(&admin, &posting("return 'still fine';")).await;
    assert_eq!(hook_posts(&admin, &quick, json!({})).await, "still fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_and_size_caps() {
    let api = api::start().await;
    let server = start(&[
        ("OVERWRITE_SETTING_Integrations_Script_Max_Fetches", "3"),
        ("OVERWRITE_SETTING_Integrations_Script_Max_Fetch_Bytes", "1024"),
    ]);
    let admin = server.admin().await;
    let counted = scripted_hook(
        &admin,
        &posting(&format!(
            "const out = []; \
             for (let i = 0; i < 4; i++) {{ try {{ await fetch('{}/n'); out.push('ok'); }} catch (e) {{ out.push(e.message); }} }} \
             return out.join(' | ');",
            api.base
        )),
    )
    .await;
    let text = hook_posts(&admin, &counted, json!({})).await;
    let parts: Vec<&str> = text.split(" | ").collect();
    assert_eq!(&parts[..3], ["ok", "ok", "ok"], "{text}");
    assert!(parts[3].contains("at most 3 fetches"), "{text}");
    assert_eq!(api.count("/n"), 3);
    // Per run: the next run may fetch again.
    hook_posts(&admin, &counted, json!({})).await;
    assert_eq!(api.count("/n"), 6);

    let sized = scripted_hook(
        &admin,
        &posting(&format!(
            "try {{ const r = await fetch('{}/big'); return 'read ' + (await r.text()).length; }} catch (e) {{ return e.message; }}",
            api.base
        )),
    )
    .await;
    let text = hook_posts(&admin, &sized, json!({})).await;
    assert!(text.contains("larger than 1024 bytes"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_fetch_holds_up_no_other_hook() {
    let api = api::start().await;
    let server = start(&[
        ("OVERWRITE_SETTING_Integrations_Script_Timeout", "20000"),
        ("OVERWRITE_SETTING_Integrations_Script_Max_Concurrent_Fetches", "2"),
    ]);
    let admin = Arc::new(server.admin().await);
    let slow = scripted_hook(
        &admin,
        &posting(&format!("const r = await fetch('{}/gated'); return await r.text();", api.base)),
    )
    .await;
    let other = scripted_hook(&admin, &posting("return 'other answered';")).await;
    let plain = {
        let body = json!({"type": "webhook-incoming", "name": "plain", "enabled": true, "username": "rocket.cat",
                          "channel": "#general", "scriptEnabled": false});
        let (_, created) = admin.post("integrations.create", body).await;
        let i = &created["integration"];
        format!("/hooks/{}/{}", i["_id"].as_str().unwrap(), i["token"].as_str().unwrap())
    };
    let waiting: Vec<_> = (0..4)
        .map(|_| {
            let admin = admin.clone();
            let slow = slow.clone();
            tokio::spawn(async move { admin.post(&slow, json!({})).await })
        })
        .collect();
    let start = std::time::Instant::now();
    while api.gated_now.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(start.elapsed() < Duration::from_secs(20), "the slow fetches never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // While four calls of one integration wait, others answer.
    for i in 0..5 {
        assert_eq!(hook_posts(&admin, &other, json!({})).await, "other answered");
        assert_eq!(hook_posts(&admin, &plain, json!({"text": format!("plain {i}")})).await, format!("plain {i}"));
    }
    assert!(waiting.iter().all(|t| !t.is_finished()));
    api.gate.add_permits(4);
    for t in waiting {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(api.count("/gated"), 4);
    // Never more than the cap in flight for the one integration.
    assert_eq!(api.gated_max.load(std::sync::atomic::Ordering::SeqCst), 2);
    let opened = general(&admin).await.into_iter().filter(|m| m.1 == "opened").count();
    assert_eq!(opened, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_scripts_fetch_nothing() {
    let api = api::start().await;
    let server = start(&[("DISABLE_INTEGRATION_SCRIPTS", "true")]);
    let admin = server.admin().await;
    let hook = scripted_hook(&admin, &posting(&format!("await fetch('{}/json'); return 'ran';", api.base))).await;
    assert_eq!(hook_posts(&admin, &hook, json!({"text": "raw body"})).await, "raw body");
    assert_eq!(api.count("/json"), 0);
}
