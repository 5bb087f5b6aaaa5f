//! The admin web page: served by the binary (shell, assets, headers) and driven end to end in
//! headless Chromium through WebDriver, the way an administrator uses it.
//!
//! The browser test needs Debian's `chromium` and `chromium-driver`; without them it prints a
//! notice and passes, unless `CI=true`, where it fails. Set `LIFTOFF_SCREENSHOT_DIR` to save the
//! README's screenshots while it runs.

#[path = "admin_ui/browser.rs"]
mod browser;
mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use browser::{Browser, page_errors, xpath_str};
use common::{ADMIN_PASS, ADMIN_USER, Client, Server};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn root_redirects_and_admin_paths_serve_the_shell_with_a_strict_policy() {
    let server = Server::start();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let root = http.get(format!("{}/", server.url)).send().await.unwrap();
    assert!(root.status().is_redirection(), "{}", root.status());
    assert_eq!(root.headers()["location"], "/admin/integrations");

    for path in ["/admin/integrations", "/admin/integrations/edit/outgoing/abc", "/admin/anything/else"] {
        let resp = http.get(format!("{}{path}", server.url)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = resp.text().await.unwrap();
        assert!(html.contains(r#"<script type="module" src="/admin-assets/main.js">"#), "{html}");
        // No inline script or style: every script tag has a src and there is no style element.
        assert_eq!(html.matches("<script").count(), html.matches("<script type=\"module\" src=").count());
        assert!(!html.contains("<style") && !html.contains("style="), "{html}");
    }

    let js = http.get(format!("{}/admin-assets/main.js", server.url)).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let vendor = http.get(format!("{}/admin-assets/vendor/htm-preact.js", server.url)).send().await.unwrap();
    assert_eq!(vendor.status(), 200);

    let icon = http.get(format!("{}/favicon.ico", server.url)).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    assert_eq!(&icon.bytes().await.unwrap()[..4], &[0, 0, 1, 0], "an ICO file");

    let missing = http.get(format!("{}/admin-assets/nope.js", server.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    // The API keeps its own JSON 404 for unknown paths.
    let (status, body) = server.client().get("/nothing-here", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body["success"], false);
}

/// An HTTP endpoint on 127.0.0.1 that records the bodies the outgoing webhook sends it.
#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        async fn hit(State(r): State<Receiver>, body: Bytes) -> &'static str {
            r.bodies.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            ""
        }
        let app = Router::new().route("/echo", post(hit)).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/echo", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    fn count(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }
}

async fn create_incoming(admin: &Client, name: &str) {
    let body = json!({"type": "webhook-incoming", "name": name, "enabled": true, "username": "rocket.cat",
        "channel": "#general", "scriptEnabled": false});
    let (status, body) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{body}");
}

async fn general_has_message(admin: &Client, text: &str) -> bool {
    let (status, body) = admin.get("channels.messages", &[("roomId", "GENERAL"), ("count", "50")]).await;
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().unwrap().iter().any(|m| m["msg"] == text)
}

fn shot_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("LIFTOFF_SCREENSHOT_DIR").map(Into::into)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_manages_webhooks_in_the_browser() {
    let Some((chromium, driver)) = browser::tools() else {
        return;
    };
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
    ]);
    let admin = server.admin().await;
    create_incoming(&admin, "Grafana alerts").await;
    create_incoming(&admin, "CI builds").await;
    let receiver = Receiver::default();
    let receiver_url = receiver.start().await;
    let b = Browser::start(&chromium, &driver).await;
    let mut console = Vec::new();

    // `/` leads to the login form.
    b.goto(&format!("{}/", server.url)).await;
    b.field("Username or email").await;
    assert_eq!(b.path().await, "/admin/integrations");

    // A failed login shows the API's message and keeps the form.
    b.fill("Username or email", ADMIN_USER).await;
    b.fill("Password", "wrong-password").await;
    b.click_button("Login").await;
    assert_eq!(b.alert_text().await, "Unauthorized");
    b.field("Password").await;

    b.fill("Password", ADMIN_PASS).await;
    b.click_button("Login").await;
    b.wait_xpath("//h1[normalize-space(.)='Integrations']").await;
    // The token is kept in the browser, never in the address.
    b.client.refresh().await.unwrap();
    b.wait_xpath("//h1[normalize-space(.)='Integrations']").await;
    assert!(!b.client.current_url().await.unwrap().as_str().contains("token"));
    b.wait_xpath("//*[@role='table']//a[normalize-space(.)='Grafana alerts']").await;
    console.extend(b.console().await);

    // A new incoming webhook: first a validation error from the API, then a good one.
    b.click_button("New").await;
    b.field("Post to Channel").await;
    assert_eq!(b.path().await, "/admin/integrations/new/incoming");
    b.set_checked("Enabled", true).await;
    b.fill("Name", "Deploy notices").await;
    b.fill("Post to Channel", "general").await;
    b.fill("Post as", "rocket.cat").await;
    b.fill("Alias", "Deploy bot").await;
    b.fill("Emoji", ":rocket:").await;
    b.click_button("Save").await;
    let alert = b.alert_text().await;
    assert!(alert.contains("Invalid channel. Start with @ or #"), "{alert}");
    b.fill("Post to Channel", "#general").await;
    b.click_button("Save").await;
    let url_input = b.field("Webhook URL").await;
    let hook_url = url_input.prop("value").await.unwrap().unwrap();
    let incoming_id = b.path().await.rsplit('/').next().unwrap().to_owned();
    assert!(hook_url.contains(&format!("/hooks/{incoming_id}/")), "{hook_url}");
    let token = b.field("Token").await.prop("value").await.unwrap().unwrap();
    assert!(hook_url.ends_with(&format!("/{token}")), "{hook_url}");
    let curl = b.field("Example curl command").await.prop("value").await.unwrap().unwrap();
    assert!(curl.starts_with("curl ") && curl.contains(&hook_url), "{curl}");
    b.button("Copy").await;
    assert_eq!(b.field("Alias").await.prop("value").await.unwrap().as_deref(), Some("Deploy bot"));

    // Posting to the shown URL puts a message in #general.
    let http = reqwest::Client::new();
    let resp = http.post(&hook_url).json(&json!({"text": "deployed from the admin page test"})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(general_has_message(&admin, "deployed from the admin page test").await);

    // Disabled, the hook answers 503.
    b.set_checked("Enabled", false).await;
    b.click_button("Save").await;
    b.wait_xpath("//*[@role='status'][contains(., 'saved')]").await;
    let resp = http.post(&hook_url).json(&json!({"text": "not posted"})).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let (_, got) = admin.get("integrations.get", &[("integrationId", &incoming_id)]).await;
    assert_eq!(got["integration"]["enabled"], false, "{got}");
    console.extend(b.console().await);

    // Search filters the list by name, case-insensitively, through the API.
    b.goto(&format!("{}/admin/integrations", server.url)).await;
    b.wait_xpath("//*[@role='table']//a[normalize-space(.)='Deploy notices']").await;
    b.fill("Search", "GRAF").await;
    b.wait_gone("//*[@role='table']//a[normalize-space(.)='Deploy notices']").await;
    b.wait_xpath("//*[@role='table']//a[normalize-space(.)='Grafana alerts']").await;
    b.fill("Search", "deploy").await;
    b.wait_gone("//*[@role='table']//a[normalize-space(.)='Grafana alerts']").await;
    b.wait_xpath("//*[@role='table']//a[normalize-space(.)='Deploy notices']").await;
    b.wait_xpath("//*[@role='table']//td[normalize-space(.)='admin']").await;

    // Outgoing: the fields follow the event, as in Rocket.Chat.
    b.wait_xpath("//*[@role='tab'][normalize-space(.)='Outgoing']").await.click().await.unwrap();
    b.wait_xpath("//*[@role='tab'][normalize-space(.)='Outgoing'][@aria-selected='true']").await;
    b.click_button("New").await;
    b.field("Event Trigger").await;
    assert_eq!(b.path().await, "/admin/integrations/new/outgoing");
    assert!(b.has_field("Trigger Words").await && b.has_field("Channel").await);
    assert!(!b.has_field("Target Room").await);
    b.field("Event Trigger").await.select_by_label("User Created").await.unwrap();
    b.field("Target Room").await;
    assert!(!b.has_field("Channel").await && !b.has_field("Trigger Words").await);
    b.field("Event Trigger").await.select_by_label("Message Sent").await.unwrap();
    b.field("Trigger Words").await;
    b.fill("Name", "Echo").await;
    b.fill("Channel", "#general").await;
    b.fill("Trigger Words", "ping").await;
    b.fill("URLs", &receiver_url).await;
    b.fill("Post as", "rocket.cat").await;
    if let Some(dir) = shot_dir() {
        b.client.execute("document.activeElement.blur(); window.scrollTo(0, 0)", vec![]).await.unwrap();
        b.screenshot(&dir.join("admin-outgoing-form.png")).await;
    }
    b.click_button("Save").await;
    b.wait_xpath("//h1[normalize-space(.)='Edit outgoing webhook']").await;
    let outgoing_id = b.path().await.rsplit('/').next().unwrap().to_owned();
    let (_, got) = admin.get("integrations.get", &[("integrationId", &outgoing_id)]).await;
    assert_eq!(got["integration"]["urls"], json!([receiver_url]), "{got}");
    assert_eq!(got["integration"]["triggerWords"], json!(["ping"]), "{got}");
    assert!(got["integration"]["token"].as_str().is_some_and(|t| t.len() >= 20), "{got}");
    console.extend(b.console().await);

    // History: a call made after the page is open shows up without a reload.
    b.wait_xpath("//a[normalize-space(.)='History']").await.click().await.unwrap();
    b.wait_xpath("//p[contains(., 'No calls recorded yet')]").await;
    assert_eq!(b.path().await, format!("/admin/integrations/history/outgoing/{outgoing_id}"));
    let (status, body) =
        admin.post("chat.postMessage", json!({"channel": "#general", "text": "ping the receiver"})).await;
    assert_eq!(status, 200, "{body}");
    b.until("the receiver's first call", || async { receiver.count() >= 1 }).await;
    let summary = b.wait_xpath("//details//summary[contains(., 'Success')]").await;
    summary.click().await.unwrap();
    let details = b.wait_xpath("//details[@open]").await.text().await.unwrap();
    assert!(details.contains("Data sent") && details.contains("ping the receiver"), "{details}");
    assert!(details.contains("HTTP status") && details.contains("200"), "{details}");
    if let Some(dir) = shot_dir() {
        b.screenshot(&dir.join("admin-history.png")).await;
    }

    // Replay calls the receiver a second time.
    b.click_button("Replay").await;
    b.until("the replayed call", || async { receiver.count() >= 2 }).await;
    assert_eq!(receiver.bodies.lock().unwrap()[1]["text"], "ping the receiver");
    // The replay is a record of its own; clearing waits until it has finished.
    b.until("the replay's record", || async {
        let done = b.client.find_all(fantoccini::Locator::XPath("//details//summary[contains(., 'Success')]")).await;
        done.map(|v| v.len() >= 2).unwrap_or(false)
    })
    .await;

    // Clear History, after confirming.
    b.click_button("Clear History").await;
    let dialog = b.wait_xpath("//*[@role='dialog']").await;
    let clear =
        dialog.find(fantoccini::Locator::XPath(".//button[contains(translate(., 'CLEAR', 'clear'), 'clear')]")).await;
    clear.unwrap().click().await.unwrap();
    b.wait_xpath("//p[contains(., 'No calls recorded yet')]").await;
    let (_, hist) = admin.get("integrations.history", &[("id", &outgoing_id)]).await;
    assert_eq!(hist["total"], 0, "{hist}");
    console.extend(b.console().await);

    // The list shows both types, who made them and when.
    b.goto(&format!("{}/admin/integrations/outgoing", server.url)).await;
    b.wait_xpath("//*[@role='table']//a[normalize-space(.)='Echo']").await;
    b.wait_xpath("//*[@role='tab'][normalize-space(.)='Incoming']").await.click().await.unwrap();
    b.wait_xpath("//*[@role='table']//a[normalize-space(.)='Deploy notices']").await;
    if let Some(dir) = shot_dir() {
        b.screenshot(&dir.join("admin-integrations-list.png")).await;
    }

    // Delete both, each after the confirmation dialog.
    for (kind, id, name) in [("outgoing", &outgoing_id, "Echo"), ("incoming", &incoming_id, "Deploy notices")] {
        b.goto(&format!("{}/admin/integrations/{kind}", server.url)).await;
        b.wait_xpath(&format!("//*[@role='table']//a[normalize-space(.)={}]", xpath_str(name)))
            .await
            .click()
            .await
            .unwrap();
        b.field("Name").await;
        assert_eq!(b.path().await, format!("/admin/integrations/edit/{kind}/{id}"));
        b.click_button("Delete").await;
        let dialog = b.wait_xpath("//*[@role='dialog']").await;
        dialog
            .find(fantoccini::Locator::XPath(".//button[normalize-space(.)='Yes, delete it!']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_xpath("//h1[normalize-space(.)='Integrations']").await;
        b.wait_gone(&format!("//*[@role='table']//a[normalize-space(.)={}]", xpath_str(name))).await;
        let (status, body) = admin.get("integrations.get", &[("integrationId", id)]).await;
        assert_eq!(status, 400, "{body}");
    }

    // Logout forgets the token: a reload shows the login form.
    b.click_button("Logout").await;
    b.field("Username or email").await;
    b.client.refresh().await.unwrap();
    b.field("Username or email").await;
    console.extend(b.console().await);

    // The log is really read: the failed login's 401 is in it (and is not a page error).
    assert!(
        console
            .iter()
            .any(|e| { e["message"].as_str().is_some_and(|m| m.contains("/api/v1/login") && m.contains("401")) })
    );
    let errors = page_errors(&console);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_only_what_the_users_permissions_allow() {
    let Some((chromium, driver)) = browser::tools() else {
        return;
    };
    let server = Server::start();
    let admin = server.admin().await;
    let user = server.user("plainuser").await;
    create_incoming(&admin, "Owned by admin").await;
    let b = Browser::start(&chromium, &driver).await;

    // No integration permission: the page says so with the API's message.
    b.goto(&format!("{}/admin/integrations", server.url)).await;
    b.fill("Username or email", "plainuser").await;
    b.fill("Password", "pw-123").await;
    b.click_button("Login").await;
    let alert = b.alert_text().await;
    assert!(alert.contains("permissions required"), "{alert}");

    // With only manage-own-incoming-integrations, only the user's own integrations are listed.
    let grant = json!({"permissions": [{"_id": "manage-own-incoming-integrations", "roles": ["admin", "user"]}]});
    let (status, body) = admin.post("permissions.update", grant).await;
    assert_eq!(status, 200, "{body}");
    let mine = json!({"type": "webhook-incoming", "name": "Owned by plainuser", "enabled": true,
        "username": "plainuser", "channel": "#general", "scriptEnabled": false});
    let (status, body) = user.post("integrations.create", mine).await;
    assert_eq!(status, 200, "{body}");
    b.client.refresh().await.unwrap();
    b.wait_xpath("//*[@role='table']//a[normalize-space(.)='Owned by plainuser']").await;
    assert!(
        b.client.find_all(fantoccini::Locator::XPath("//*[contains(., 'Owned by admin')]")).await.unwrap().is_empty()
    );

    let errors = page_errors(&b.console().await);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}
