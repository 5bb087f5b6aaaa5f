//! Outgoing webhooks against the real binary and a real HTTP receiver on loopback: events,
//! channel forms, trigger words, payloads, answers, scripts, retries, history, replay,
//! retention, the address guard, signatures, and delivery across kill -9.

mod common;
use common::receiver::{Receiver, Reply};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn start(extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Retry_Delay_Percent", "1"),
        ("ROOT_URL", "https://chat.example.com"),
    ];
    env.extend_from_slice(extra);
    Server::start_with(&env)
}

/// Creates an outgoing integration (sendMessage on #general by default); `extra` overrides.
async fn create_outgoing(admin: &Client, url: &str, extra: Value) -> Value {
    let mut body = json!({
        "type": "webhook-outgoing", "name": "out", "enabled": true, "username": "rocket.cat",
        "event": "sendMessage", "channel": "#general", "urls": [url], "scriptEnabled": false, "token": "tok",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, created) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{created}");
    created["integration"].clone()
}

fn id(v: &Value) -> String {
    v["_id"].as_str().unwrap().to_owned()
}

async fn post(c: &Client, rid: &str, text: &str) -> Value {
    let (status, body) = c.post("chat.postMessage", json!({"roomId": rid, "text": text})).await;
    assert_eq!(status, 200, "{body}");
    body["message"].clone()
}

/// History of an integration, oldest first.
async fn history(admin: &Client, integration: &str) -> Vec<Value> {
    let (status, body) = admin
        .get("integrations.history", &[("id", integration), ("count", "100"), ("sort", r#"{"_createdAt":1}"#)])
        .await;
    assert_eq!(status, 200, "{body}");
    body["history"].as_array().unwrap().clone()
}

/// Waits until the integration has `n` history records.
async fn wait_history(admin: &Client, integration: &str, n: usize) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let h = history(admin, integration).await;
        if h.len() >= n {
            return h;
        }
        assert!(start.elapsed() < WAIT, "{} of {n} history records: {h:#?}", h.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn steps(h: &[Value]) -> Vec<&str> {
    h.iter().map(|r| r["step"].as_str().unwrap()).collect()
}

/// User messages of a room (system messages left out), oldest first.
async fn messages(c: &Client, endpoint: &str, rid: &str) -> Vec<Value> {
    let (status, body) = c.get(endpoint, &[("roomId", rid), ("count", "100")]).await;
    assert_eq!(status, 200, "{body}");
    let mut list: Vec<Value> =
        body["messages"].as_array().unwrap().iter().filter(|m| m.get("t").is_none()).cloned().collect();
    list.sort_by(|a, b| a["ts"].as_str().cmp(&b["ts"].as_str()));
    list
}

async fn wait_message(c: &Client, endpoint: &str, rid: &str, text: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        if let Some(m) = messages(c, endpoint, rid).await.into_iter().find(|m| m["msg"] == text) {
            return m;
        }
        assert!(start.elapsed() < WAIT, "no message {text:?} in {rid}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Lets in-flight deliveries land before asserting that something did not happen.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn send_message_payload_answer_and_history() {
    let rx = Receiver::start().await;
    rx.reply("/a", vec![Reply::json(200, json!({"text": "pong", "username": "ci", "icon_emoji": ":rocket:"}))]);
    let server = start(&[]);
    let admin = server.admin().await;
    let i = create_outgoing(&admin, &rx.url("/a"), json!({"triggerWords": ["!go", "!gone"]})).await;

    post(&admin, "GENERAL", "hello there").await;
    let m = post(&admin, "GENERAL", "!gone fishing").await;
    let hits = rx.wait("/a", 1, WAIT).await;
    let d = &hits[0].body;
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "token",
            "bot",
            "trigger_word",
            "channel_id",
            "channel_name",
            "message_id",
            "timestamp",
            "user_id",
            "user_name",
            "text",
            "siteUrl"
        ]
    );
    assert_eq!(d["token"], "tok");
    assert_eq!(d["bot"], false);
    assert_eq!(d["trigger_word"], "!go", "the first configured word that matches");
    assert_eq!(d["channel_id"], "GENERAL");
    assert_eq!(d["channel_name"], "general");
    assert_eq!(d["message_id"], m["_id"]);
    assert_eq!(d["timestamp"], m["ts"]);
    assert_eq!(d["user_id"], admin.user_id());
    assert_eq!(d["user_name"], "admin");
    assert_eq!(d["text"], "!gone fishing");
    assert_eq!(d["siteUrl"], "https://chat.example.com");
    let h = &hits[0].headers;
    assert_eq!(h["content-type"], "application/json");
    assert!(h["user-agent"].starts_with("Mozilla/5.0"));
    assert!(h.contains_key("webhook-id"));
    assert!(!h.contains_key("webhook-signature"), "no secret, no signature");

    // The answer is posted back by the integration's user, with the payload's overrides.
    let answer = wait_message(&admin, "channels.messages", "GENERAL", "pong").await;
    assert_eq!(answer["u"]["username"], "rocket.cat");
    assert_eq!(answer["bot"], json!({"i": id(&i)}));
    assert_eq!(answer["alias"], "ci");
    assert_eq!(answer["emoji"], ":rocket:");

    // One history record for the attempt, with the fields Rocket.Chat records.
    let records = wait_history(&admin, &id(&i), 1).await;
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(r["step"], "url-response-sent-message");
    assert_eq!(r["type"], "outgoing-webhook");
    assert_eq!(r["event"], "sendMessage");
    assert_eq!(r["integration"]["_id"], id(&i));
    assert_eq!(r["integration"]["token"], "tok");
    assert_eq!(r["data"], *d);
    assert_eq!(r["triggerWord"], "!go");
    assert_eq!(r["ranPrepareScript"], true);
    assert_eq!(r["finished"], true);
    assert_eq!(r["url"], rx.url("/a"));
    assert_eq!(r["httpCallData"], *d);
    let sent = json!({"text": "pong", "username": "ci", "icon_emoji": ":rocket:"}).to_string();
    assert_eq!(
        r["httpResult"],
        json!(serde_json::to_string(&Value::String(sent)).unwrap()),
        "double-encoded as Rocket.Chat"
    );
    assert_eq!(r["resultMessage"][0]["message"]["msg"], "pong");
    assert_eq!(r["deliveryId"], h["webhook-id"].as_str());
    assert!(r.get("error").is_none() || r["error"] == false, "{r}");
    assert!(r["_createdAt"].is_string() && r["_updatedAt"].is_string());
    assert_eq!(r["_id"].as_str().unwrap().len(), 17);

    // The answer did not trigger the integration again, nor did the message without the word.
    settle().await;
    assert_eq!(rx.hits("/a").len(), 1);
}

#[tokio::test]
async fn trigger_words_anywhere_and_none() {
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    create_outgoing(&admin, &rx.url("/start"), json!({"triggerWords": ["deploy"]})).await;
    create_outgoing(
        &admin,
        &rx.url("/anywhere"),
        json!({"triggerWords": ["deploy", "ship"], "triggerWordAnywhere": true}),
    )
    .await;
    create_outgoing(&admin, &rx.url("/all"), json!({})).await;

    post(&admin, "GENERAL", "please ship and deploy it").await;
    post(&admin, "GENERAL", "deployment now").await;
    post(&admin, "GENERAL", "Deploy (wrong case)").await;
    rx.wait("/all", 3, WAIT).await;
    rx.wait("/anywhere", 2, WAIT).await;
    settle().await;
    let start_hits = rx.hits("/start");
    assert_eq!(start_hits.len(), 1, "prefix match only, case-sensitive, no word boundary");
    assert_eq!(start_hits[0].body["text"], "deployment now");
    assert_eq!(start_hits[0].body["trigger_word"], "deploy");
    let anywhere = rx.hits("/anywhere");
    assert_eq!(anywhere.len(), 2);
    let both = anywhere.iter().find(|h| h.body["text"] == "please ship and deploy it").unwrap();
    assert_eq!(both.body["trigger_word"], "deploy", "first configured word that occurs");
    assert!(rx.hits("/all").iter().all(|h| h.body.get("trigger_word").is_none()));
}

#[tokio::test]
async fn channel_forms() {
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    let bob = server.user("bob").await;
    let (_, ch) = admin.post("channels.create", json!({"name": "ops"})).await;
    let ops = ch["channel"]["_id"].as_str().unwrap().to_owned();
    let (_, g) = admin.post("groups.create", json!({"name": "secret"})).await;
    let secret = g["group"]["_id"].as_str().unwrap().to_owned();

    create_outgoing(&admin, &rx.url("/by-name"), json!({"channel": "#ops"})).await;
    create_outgoing(&admin, &rx.url("/by-id"), json!({"channel": format!("#{ops}")})).await;
    create_outgoing(&admin, &rx.url("/public"), json!({"channel": "all_public_channels"})).await;
    create_outgoing(&admin, &rx.url("/private"), json!({"channel": "all_private_groups"})).await;
    create_outgoing(&admin, &rx.url("/direct"), json!({"channel": "all_direct_messages"})).await;
    create_outgoing(&admin, &rx.url("/to-bob"), json!({"channel": "@bob"})).await;

    post(&admin, &ops, "in ops").await;
    post(&admin, &secret, "in secret").await;
    let (status, dm) = admin.post("chat.postMessage", json!({"channel": "@bob", "text": "hi bob"})).await;
    assert_eq!(status, 200, "{dm}");
    // bob answering in the DM: `@bob` (the sender) is not a candidate, so only all_direct_messages.
    let dm_rid = dm["message"]["rid"].as_str().unwrap().to_owned();
    post(&bob, &dm_rid, "hi admin").await;

    rx.wait("/public", 1, WAIT).await;
    rx.wait("/direct", 2, WAIT).await;
    settle().await;
    // Deliveries arrive in no promised order: compare sorted texts.
    let texts = |p: &str| {
        let mut t = rx.hits(p).iter().map(|h| h.body["text"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        t.sort();
        t
    };
    assert_eq!(texts("/by-name"), ["in ops"]);
    assert_eq!(texts("/by-id"), ["in ops"]);
    assert_eq!(texts("/public"), ["in ops"]);
    assert_eq!(texts("/private"), ["in secret"]);
    assert_eq!(texts("/direct"), ["hi admin", "hi bob"]);
    assert_eq!(texts("/to-bob"), ["hi bob"]);
    let dm_hit = &rx.hits("/direct")[0].body;
    assert_eq!(dm_hit["channel_id"], dm_rid);
    assert!(dm_hit.get("channel_name").is_none(), "direct rooms have no name: {dm_hit}");
    assert_eq!(rx.hits("/private")[0].body["channel_name"], "secret");
}

#[tokio::test]
async fn edits_only_with_run_on_edits_and_disabled_integrations_stay_silent() {
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    create_outgoing(&admin, &rx.url("/edits"), json!({"runOnEdits": true})).await;
    create_outgoing(&admin, &rx.url("/no-edits"), json!({})).await;
    create_outgoing(&admin, &rx.url("/disabled"), json!({"enabled": false})).await;

    let m = post(&admin, "GENERAL", "first").await;
    let (status, body) =
        admin.post("chat.update", json!({"roomId": "GENERAL", "msgId": m["_id"], "text": "second"})).await;
    assert_eq!(status, 200, "{body}");
    // The post and its edit are two deliveries; the server promises no order between them.
    let hits = rx.wait("/edits", 2, WAIT).await;
    let edit = hits.iter().find(|h| h.body["text"] == "second").expect("the edit is delivered");
    assert_eq!(edit.body["isEdited"], true);
    assert_eq!(edit.body["message_id"], m["_id"]);
    let first = hits.iter().find(|h| h.body["text"] == "first").expect("the post is delivered");
    assert!(first.body.get("isEdited").is_none());
    settle().await;
    assert_eq!(rx.hits("/no-edits").len(), 1);
    assert!(rx.hits("/disabled").is_empty());
}

#[tokio::test]
async fn answers_never_retrigger_their_integration() {
    let rx = Receiver::start().await;
    // The answer carries the trigger word: posting it must not call the same integration.
    rx.reply("/echo", vec![Reply::json(200, json!({"text": "!echo again"}))]);
    let server = start(&[]);
    let admin = server.admin().await;
    let i = create_outgoing(&admin, &rx.url("/echo"), json!({"triggerWords": ["!echo"]})).await;
    // A second integration does see the first one's answer (it is a bot message).
    create_outgoing(&admin, &rx.url("/other"), json!({"triggerWords": ["!echo"]})).await;
    post(&admin, "GENERAL", "!echo hi").await;
    wait_message(&admin, "channels.messages", "GENERAL", "!echo again").await;
    let other = rx.wait("/other", 2, WAIT).await;
    settle().await;
    assert_eq!(rx.hits("/echo").len(), 1, "no loop");
    let bot_hit = other.iter().find(|h| h.body["text"] == "!echo again").unwrap();
    assert_eq!(bot_hit.body["bot"], true);
    assert_eq!(wait_history(&admin, &id(&i), 1).await.len(), 1);
}

#[tokio::test]
async fn impersonate_user_and_target_room() {
    let rx = Receiver::start().await;
    rx.reply("/imp", vec![Reply::json(200, json!({"text": "as you"}))]);
    rx.reply("/target", vec![Reply::json(200, json!({"text": "elsewhere"}))]);
    rx.reply("/chan", vec![Reply::json(200, json!({"text": "redirected", "channel": "#ops"}))]);
    let server = start(&[]);
    let admin = server.admin().await;
    let (_, ch) = admin.post("channels.create", json!({"name": "ops"})).await;
    let ops = ch["channel"]["_id"].as_str().unwrap().to_owned();
    let (_, ch) = admin.post("channels.create", json!({"name": "alerts"})).await;
    let alerts = ch["channel"]["_id"].as_str().unwrap().to_owned();
    create_outgoing(&admin, &rx.url("/imp"), json!({"triggerWords": ["!imp"], "impersonateUser": true})).await;
    create_outgoing(&admin, &rx.url("/target"), json!({"triggerWords": ["!target"], "targetRoom": "#alerts"})).await;
    create_outgoing(&admin, &rx.url("/chan"), json!({"triggerWords": ["!chan"], "alias": "Bot", "emoji": ":ghost:"}))
        .await;

    post(&admin, "GENERAL", "!imp").await;
    let m = wait_message(&admin, "channels.messages", "GENERAL", "as you").await;
    assert_eq!(m["u"]["username"], "admin", "posted as the author of the triggering message");
    post(&admin, "GENERAL", "!target").await;
    let m = wait_message(&admin, "channels.messages", &alerts, "elsewhere").await;
    assert_eq!(m["u"]["username"], "rocket.cat");
    post(&admin, "GENERAL", "!chan").await;
    let m = wait_message(&admin, "channels.messages", &ops, "redirected").await;
    assert_eq!(m["alias"], "Bot", "integration defaults apply");
    assert_eq!(m["emoji"], ":ghost:");
}

#[tokio::test]
async fn room_and_user_events() {
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    let ev = |e: &str| json!({"event": e, "channel": "", "triggerWords": []});
    create_outgoing(&admin, &rx.url("/created"), ev("roomCreated")).await;
    create_outgoing(&admin, &rx.url("/archived"), ev("roomArchived")).await;
    create_outgoing(&admin, &rx.url("/joined"), json!({"event": "roomJoined", "channel": "all_public_channels"})).await;
    create_outgoing(&admin, &rx.url("/user"), json!({"event": "userCreated", "channel": "", "targetRoom": "#general"}))
        .await;
    create_outgoing(&admin, &rx.url("/file"), json!({"event": "fileUploaded"})).await;

    let (_, ch) = admin.post("channels.create", json!({"name": "ops"})).await;
    let ops = ch["channel"]["_id"].as_str().unwrap().to_owned();
    create_outgoing(&admin, &rx.url("/left"), json!({"event": "roomLeft", "channel": "#ops"})).await;
    let created = rx.wait("/created", 1, WAIT).await;
    let d = &created[0].body;
    assert_eq!(d["token"], "tok");
    assert_eq!(d["channel_id"], ops);
    assert_eq!(d["channel_name"], "ops");
    assert_eq!(d["user_name"], "admin");
    assert_eq!(d["owner"]["username"], "admin");
    assert!(d["owner"].get("services").is_none());
    assert_eq!(d["room"]["_id"], ops);
    assert_eq!(d["timestamp"], d["room"]["ts"]);

    let bob = server.user("bob").await;
    let users = rx.wait("/user", 1, WAIT).await;
    assert_eq!(users[0].body["user_name"], "bob");
    assert!(users[0].body["user"].get("services").is_none());
    assert_eq!(users[0].body["timestamp"], users[0].body["user"]["createdAt"]);
    assert_eq!(users[0].body["bot"], false);

    let (status, body) = bob.post("channels.join", json!({"roomId": ops})).await;
    assert_eq!(status, 200, "{body}");
    let joined = rx.wait("/joined", 2, WAIT).await; // bob joined #general on creation, then #ops
    let j = joined.iter().find(|h| h.body["channel_id"] == ops.as_str()).unwrap();
    assert_eq!(j.body["user_name"], "bob");
    assert_eq!(j.body["room"]["name"], "ops");

    let (status, body) = bob.post("channels.leave", json!({"roomId": ops})).await;
    assert_eq!(status, 200, "{body}");
    let left = rx.wait("/left", 1, WAIT).await;
    assert_eq!(left[0].body["user_name"], "bob");
    assert_eq!(left[0].body["channel_name"], "ops");

    let (status, body) = bob.post("channels.archive", json!({"roomId": ops})).await;
    assert_failure(&(status, body), "Not authorized [error-not-authorized]", Some("error-not-authorized"));
    let (status, body) = admin.post("channels.archive", json!({"roomId": ops})).await;
    assert_eq!(status, 200, "{body}");
    let archived = rx.wait("/archived", 1, WAIT).await;
    assert_eq!(archived[0].body["room"]["archived"], true);
    assert_eq!(archived[0].body["user_name"], "admin");
    let (_, info) = admin.get("channels.info", &[("roomId", &ops)]).await;
    assert_eq!(info["channel"]["archived"], true);
    let (status, body) = admin.post("channels.archive", json!({"roomId": ops})).await;
    assert_eq!(status, 400, "{body}");

    // groups.archive too; and no uploads exist, so fileUploaded never fires.
    let (_, g) = admin.post("groups.create", json!({"name": "secret"})).await;
    let (status, body) = admin.post("groups.archive", json!({"roomId": g["group"]["_id"]})).await;
    assert_eq!(status, 200, "{body}");
    rx.wait("/archived", 2, WAIT).await;
    assert_eq!(rx.hits("/created").len(), 2);
    settle().await;
    assert!(rx.hits("/file").is_empty());
}

#[tokio::test]
async fn scripts_prepare_and_process() {
    let rx = Receiver::start().await;
    rx.reply("/s", vec![Reply::json(200, json!({"n": 41}))]);
    let server = start(&[]);
    let admin = server.admin().await;
    let script = |body: &str| json!({"scriptEnabled": true, "script": format!("class Script {{ {body} }}")});
    let base = rx.base.clone();
    // prepare rewrites URL, method, headers and data; process turns the answer into a message.
    let mut s = script(&format!(
        r#"prepare_outgoing_request({{ request }}) {{
              return {{ url: "{base}/s", method: "PUT", headers: {{ "X-Custom": "1" }},
                       data: {{ said: request.data.text, by: request.data.user_name }} }};
           }}
           process_outgoing_response({{ request, response }}) {{
              const n = JSON.parse(response.content).n;
              return {{ content: {{ text: "n+1=" + (n + 1) + " " + response.status_code }} }};
           }}"#
    ));
    s["triggerWords"] = json!(["!s"]);
    let i = create_outgoing(&admin, &rx.url("/unused"), s).await;
    post(&admin, "GENERAL", "!s hello").await;
    let hits = rx.wait("/s", 1, WAIT).await;
    assert_eq!(hits[0].body, json!({"said": "!s hello", "by": "admin"}));
    assert_eq!(hits[0].headers["x-custom"], "1");
    wait_message(&admin, "channels.messages", "GENERAL", "n+1=42 200").await;
    let r = &wait_history(&admin, &id(&i), 1).await[0];
    assert_eq!(r["step"], "after-process-send-message");
    assert_eq!(r["processSentMessage"][0]["message"]["msg"], "n+1=42 200");
    assert!(rx.hits("/unused").is_empty());

    // prepare returning nothing cancels; a message from prepare is posted first.
    let mut s = script(
        r#"prepare_outgoing_request({ request }) {
            if (request.data.text.includes("cancel")) return null;
            if (request.data.text.includes("throw")) throw new Error("boom");
            return { message: { text: "prepared" } };
        }
        process_outgoing_response() { return false; }"#,
    );
    s["triggerWords"] = json!(["!p"]);
    let p = create_outgoing(&admin, &rx.url("/p"), s).await;
    post(&admin, "GENERAL", "!p cancel").await;
    post(&admin, "GENERAL", "!p please").await;
    wait_message(&admin, "channels.messages", "GENERAL", "prepared").await;
    post(&admin, "GENERAL", "!p throw").await;
    let records = wait_history(&admin, &id(&p), 3).await;
    let mut got: Vec<&str> = steps(&records);
    got.sort();
    assert_eq!(got, ["after-prepare-no-opts", "after-prepare-no-opts", "after-prepare-no-url_or_method"]);
    let thrown = records.iter().find(|r| r["data"]["text"] == "!p throw").unwrap();
    assert!(thrown["errorStack"].as_str().unwrap().starts_with("  Error: boom"), "{thrown}");
    assert_eq!(thrown["step"], "after-prepare-no-opts");
    assert_eq!(thrown["error"], true);
    let prepared = records.iter().find(|r| r["data"]["text"] == "!p please").unwrap();
    assert_eq!(prepared["prepareSentMessage"][0]["message"]["msg"], "prepared");
    assert!(rx.hits("/p").is_empty());

    // process returning false suppresses the answer; a throwing process falls back to default.
    rx.reply("/f", vec![Reply::json(200, json!({"text": "should not appear"}))]);
    let mut s = script(r#"process_outgoing_response({ response }) { return false; }"#);
    s["triggerWords"] = json!(["!f"]);
    let f = create_outgoing(&admin, &rx.url("/f"), s).await;
    rx.reply("/t", vec![Reply::json(200, json!({"text": "default handling"}))]);
    let mut s = script(r#"process_outgoing_response({ response }) { throw new Error("bad"); }"#);
    s["triggerWords"] = json!(["!t"]);
    let t = create_outgoing(&admin, &rx.url("/t"), s).await;
    post(&admin, "GENERAL", "!f").await;
    post(&admin, "GENERAL", "!t").await;
    assert_eq!(wait_history(&admin, &id(&f), 1).await[0]["step"], "after-process-false-result");
    wait_message(&admin, "channels.messages", "GENERAL", "default handling").await;
    let r = &wait_history(&admin, &id(&t), 1).await[0];
    assert_eq!(r["step"], "url-response-sent-message");
    assert!(r["errorStack"].as_str().unwrap().contains("Error: bad"), "{r}");
    assert_eq!(r["error"], true);
    let all = messages(&admin, "channels.messages", "GENERAL").await;
    assert!(!all.iter().any(|m| m["msg"] == "should not appear"));

    // A script that fails to load leaves the default request.
    let mut s = json!({"scriptEnabled": true, "script": "this is not javascript", "triggerWords": ["!bad"]});
    s["name"] = json!("bad");
    let b = create_outgoing(&admin, &rx.url("/bad"), s).await;
    assert!(b.get("scriptError").is_some(), "{b}");
    post(&admin, "GENERAL", "!bad").await;
    assert_eq!(rx.wait("/bad", 1, WAIT).await[0].body["text"], "!bad");
}

#[tokio::test]
async fn an_exception_in_process_outgoing_response_is_recorded() {
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    let script = r#"class Script {
        process_outgoing_response({ request, response }) { throw new Error('process exploded'); }
    }"#;
    // The receiver answers 200 with a body that is no message: the default handling after the
    // failed script reaches no later step, so the record ends at the script's error step.
    rx.reply("/x", vec![Reply::json(200, json!({"ok": true}))]);
    let body = json!({"scriptEnabled": true, "script": script, "triggerWords": ["!x"]});
    let x = create_outgoing(&admin, &rx.url("/x"), body).await;
    post(&admin, "GENERAL", "!x go").await;
    rx.wait("/x", 1, WAIT).await;
    let r = &wait_history(&admin, &id(&x), 1).await[0];
    assert_eq!(r["step"], "execute-script-error-running-process_outgoing_response", "{r}");
    assert_eq!(r["error"], true, "{r}");
    let stack = r["errorStack"].as_str().unwrap_or_default();
    assert!(stack.starts_with("  Error: process exploded"), "{r}");
    assert_eq!(r["statusCode"], 200, "{r}");
}

fn retrying(schedule: &str, count: u32) -> Value {
    json!({"retryFailedCalls": true, "retryCount": count, "retryDelay": schedule})
}

#[tokio::test]
async fn retry_schedules() {
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    // Two failures then success, on each schedule; delays are 1% of Rocket.Chat's.
    let mut ids = Vec::new();
    for (path, schedule) in [("/ten", "powers-of-ten"), ("/two", "powers-of-two"), ("/inc", "increments-of-two")] {
        rx.reply(path, vec![Reply::text(503, "busy"), Reply::empty(502), Reply::json(200, json!({"ok": true}))]);
        let mut body = retrying(schedule, 4);
        body["triggerWords"] = json!([path]);
        ids.push((path, create_outgoing(&admin, &rx.url(path), body).await));
    }
    // Always failing: retryCount 2 → 3 attempts then too-many-retries.
    rx.reply("/never", vec![Reply::text(503, "down")]);
    let mut body = retrying("powers-of-ten", 2);
    body["triggerWords"] = json!(["/never"]);
    let never = create_outgoing(&admin, &rx.url("/never"), body).await;
    // Not configured to retry.
    rx.reply("/once", vec![Reply::text(503, "down")]);
    let once = create_outgoing(&admin, &rx.url("/once"), json!({"triggerWords": ["/once"]})).await;
    // An unknown schedule name fails at run time.
    rx.reply("/odd", vec![Reply::text(503, "down")]);
    let mut body = retrying("fibonacci", 2);
    body["triggerWords"] = json!(["/odd"]);
    let odd = create_outgoing(&admin, &rx.url("/odd"), body).await;

    for p in ["/ten", "/two", "/inc", "/never", "/once", "/odd"] {
        post(&admin, "GENERAL", p).await;
    }
    for (path, i) in &ids {
        let hits = rx.wait(path, 3, WAIT).await;
        let records = wait_history(&admin, &id(i), 3).await;
        assert_eq!(steps(&records), ["going-to-retry-1", "going-to-retry-2", "after-http-call"], "{path}");
        assert!(records[..2].iter().all(|r| r["error"] == true));
        assert_eq!(records[2]["finished"], true);
        let ids: std::collections::HashSet<_> = hits.iter().map(|h| h.headers["webhook-id"].clone()).collect();
        assert_eq!(ids.len(), 1, "retries keep the delivery id");
        let gap = |a: usize| hits[a + 1].at.duration_since(hits[a].at).as_millis();
        let expected: [u128; 2] = match *path {
            "/ten" => [1, 10],
            "/two" => [20, 40],
            _ => [20, 40],
        };
        assert!(gap(0) >= expected[0] && gap(1) >= expected[1], "{path}: gaps {} {}", gap(0), gap(1));
        assert_eq!(records.iter().map(|r| r["attempt"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    }
    let records = wait_history(&admin, &id(&never), 3).await;
    assert_eq!(steps(&records), ["going-to-retry-1", "going-to-retry-2", "too-many-retries"]);
    assert_eq!(rx.hits("/never").len(), 3);
    let records = wait_history(&admin, &id(&once), 1).await;
    assert_eq!(steps(&records), ["failed-and-not-configured-to-retry"]);
    let records = wait_history(&admin, &id(&odd), 1).await;
    assert_eq!(steps(&records), ["failed-and-retry-delay-is-invalid"]);
    settle().await;
    assert_eq!(rx.hits("/once").len(), 1);
    assert_eq!(rx.hits("/odd").len(), 1);
}

#[tokio::test]
async fn status_410_500_empty_network_and_timeout() {
    let rx = Receiver::start().await;
    rx.reply("/gone", vec![Reply::text(410, "gone")]);
    rx.reply("/err", vec![Reply::text(500, "oops")]);
    rx.reply("/e500", vec![Reply::empty(500), Reply::empty(204)]);
    rx.reply("/empty", vec![Reply::empty(200)]);
    rx.reply(
        "/slow",
        vec![Reply::json(200, json!({"text": "late"})).after(Duration::from_millis(1500)), Reply::empty(200)],
    );
    let server = start(&[("OVERWRITE_SETTING_Integrations_Outgoing_Timeout", "500")]);
    let admin = server.admin().await;
    let r = retrying("powers-of-ten", 3);
    let with = |path: &str| {
        let mut b = r.clone();
        b["triggerWords"] = json!([path]);
        b
    };
    let gone = create_outgoing(&admin, &rx.url("/gone"), with("/gone")).await;
    let err = create_outgoing(&admin, &rx.url("/err"), with("/err")).await;
    let err_empty = create_outgoing(&admin, &rx.url("/e500"), with("/e500")).await;
    let empty = create_outgoing(&admin, &rx.url("/empty"), with("/empty")).await;
    let slow = create_outgoing(&admin, &rx.url("/slow"), with("/slow")).await;
    // Nothing listens on this port.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = create_outgoing(&admin, &format!("http://127.0.0.1:{dead_port}/x"), with("/dead")).await;

    for p in ["/gone", "/err", "/e500", "/empty", "/slow", "/dead"] {
        post(&admin, "GENERAL", p).await;
    }
    let records = wait_history(&admin, &id(&gone), 1).await;
    assert_eq!(steps(&records), ["after-process-http-status-410"]);
    assert_eq!(records[0]["error"], true);
    let (_, got) = admin.get("integrations.get", &[("integrationId", &id(&gone))]).await;
    assert_eq!(got["integration"]["enabled"], false, "410 disables the integration");
    post(&admin, "GENERAL", "/gone again").await;

    assert_eq!(steps(&wait_history(&admin, &id(&err), 1).await), ["after-process-http-status-500"]);
    // A 500 without a body is retried; a 204 ends it.
    assert_eq!(steps(&wait_history(&admin, &id(&err_empty), 2).await), ["going-to-retry-1", "after-http-call"]);
    let e = wait_history(&admin, &id(&empty), 1).await;
    assert_eq!(steps(&e), ["after-http-call"]);
    assert!(e[0].get("error").is_none(), "a 2xx without a body is a success: {}", e[0]);

    let s = wait_history(&admin, &id(&slow), 2).await;
    assert_eq!(steps(&s), ["going-to-retry-1", "after-http-call"]);
    assert!(s[0]["httpError"]["message"].as_str().unwrap().contains("timed out"), "{}", s[0]);

    let d = wait_history(&admin, &id(&dead), 4).await;
    assert_eq!(steps(&d), ["going-to-retry-1", "going-to-retry-2", "going-to-retry-3", "too-many-retries"]);
    assert!(d[0]["httpError"]["message"].is_string());
    assert!(d[0]["httpResult"].is_null());

    settle().await;
    assert_eq!(rx.hits("/gone").len(), 1, "the disabled integration is not called again");
    assert_eq!(rx.hits("/err").len(), 1, "a 500 with a body is not retried");
}

#[tokio::test]
async fn slow_receivers_do_not_slow_posting_or_other_integrations() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // `/slow` holds every call until the test opens the gate; it counts the calls in flight.
    #[derive(Default)]
    struct Slow {
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
        done: AtomicUsize,
    }
    let slow = Arc::new(Slow::default());
    let (open, gate) = tokio::sync::watch::channel(false);
    let base = {
        let slow = slow.clone();
        let app = axum::Router::new().fallback(move || {
            let (slow, mut gate) = (slow.clone(), gate.clone());
            async move {
                let now = slow.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                slow.max_in_flight.fetch_max(now, Ordering::SeqCst);
                let _ = gate.wait_for(|open| *open).await;
                slow.in_flight.fetch_sub(1, Ordering::SeqCst);
                slow.done.fetch_add(1, Ordering::SeqCst);
                ""
            }
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        base
    };
    let rx = Receiver::start().await;
    let server = start(&[("OVERWRITE_SETTING_Integrations_Outgoing_Max_Concurrency_Per_Url", "2")]);
    let admin = server.admin().await;
    create_outgoing(&admin, &format!("{base}/slow"), json!({})).await;
    create_outgoing(&admin, &rx.url("/fast"), json!({})).await;
    // Posting answers while `/slow` holds its calls, and `/fast` gets every message meanwhile.
    for n in 0..20 {
        post(&admin, "GENERAL", &format!("m{n}")).await;
    }
    rx.wait("/fast", 20, WAIT).await;
    let start = std::time::Instant::now();
    while slow.in_flight.load(Ordering::SeqCst) < 2 {
        assert!(start.elapsed() < WAIT, "the slow URL never got two calls at once");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(slow.done.load(Ordering::SeqCst), 0);
    open.send(true).unwrap();
    let start = std::time::Instant::now();
    while slow.done.load(Ordering::SeqCst) < 20 {
        assert!(start.elapsed() < WAIT, "{} of 20 slow deliveries", slow.done.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(slow.max_in_flight.load(Ordering::SeqCst), 2, "at most 2 calls at once to one URL");
}

#[tokio::test]
async fn history_listing_clear_and_replay() {
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    let i = create_outgoing(&admin, &rx.url("/h"), json!({})).await;
    for n in 0..3 {
        post(&admin, "GENERAL", &format!("h{n}")).await;
    }
    wait_history(&admin, &id(&i), 3).await;
    let (status, page) = admin.get("integrations.history", &[("id", &id(&i)), ("count", "2"), ("offset", "1")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 3);
    assert_eq!(page["count"], 2);
    assert_eq!(page["offset"], 1);
    let (_, q) = admin.get("integrations.history", &[("id", &id(&i)), ("query", r#"{"data.text":"h1"}"#)]).await;
    assert_eq!(q["total"], 1, "{q}");
    let record = q["history"][0].clone();

    // replayOutgoing: errors, then a new call with the stored data.
    let replay = |body: Value| {
        let admin = admin.clone();
        async move { admin.post("integrations.replayOutgoing", body).await }
    };
    assert_eq!(server.client().post("integrations.replayOutgoing", json!({})).await.0, 401);
    assert_eq!(replay(json!({"integrationId": id(&i)})).await.0, 400);
    assert_failure(
        &replay(json!({"integrationId": "nope", "historyId": record["_id"]})).await,
        "Invalid integration [error-invalid-integration]",
        Some("error-invalid-integration"),
    );
    assert_failure(
        &replay(json!({"integrationId": id(&i), "historyId": "nope"})).await,
        "Invalid Integration History [error-invalid-integration-history]",
        Some("error-invalid-integration-history"),
    );
    let bob = server.user("bob").await;
    let r = bob.post("integrations.replayOutgoing", json!({"integrationId": id(&i), "historyId": record["_id"]})).await;
    assert_eq!(r.0, 400, "{}", r.1);
    assert_eq!(r.1["errorType"], "not_authorized");
    let (status, body) = replay(json!({"integrationId": id(&i), "historyId": record["_id"]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"success": true}));
    let hits = rx.wait("/h", 4, WAIT).await;
    assert_eq!(hits[3].body, record["data"]);
    wait_history(&admin, &id(&i), 4).await;

    // clearHistory
    let (status, body) = admin.post("integrations.clearHistory", json!({"integrationId": id(&i)})).await;
    assert_eq!(status, 200, "{body}");
    assert!(history(&admin, &id(&i)).await.is_empty());
}

#[tokio::test]
async fn history_retention() {
    let rx = Receiver::start().await;
    let server = start(&[
        ("OVERWRITE_SETTING_Integrations_Outgoing_History_Max_Records", "3"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_History_Prune_Interval", "200"),
    ]);
    let admin = server.admin().await;
    let i = create_outgoing(&admin, &rx.url("/r"), json!({})).await;
    // One message at a time, so that the attempts (and their records) follow the posts: the
    // server promises no order between deliveries in flight together.
    for n in 0..8 {
        post(&admin, "GENERAL", &format!("r{n}")).await;
        rx.wait("/r", n + 1, WAIT).await;
    }
    let start = std::time::Instant::now();
    loop {
        let h = history(&admin, &id(&i)).await;
        // A record is written when its attempt ends, after the receiver's hit: wait for the last.
        if h.len() == 3 && h[2]["data"]["text"] == "r7" {
            let texts: Vec<&str> = h.iter().map(|r| r["data"]["text"].as_str().unwrap()).collect();
            assert_eq!(texts, ["r5", "r6", "r7"], "the newest are kept");
            break;
        }
        assert!(start.elapsed() < WAIT, "history not pruned: {}", h.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn url_guard_refuses_private_addresses() {
    let rx = Receiver::start().await;
    let server = Server::start_with(&[("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")]);
    let admin = server.admin().await;
    let literal = create_outgoing(&admin, &rx.url("/guarded"), json!({"triggerWords": ["!lit"]})).await;
    let port = rx.base.rsplit(':').next().unwrap().to_owned();
    let named =
        create_outgoing(&admin, &format!("http://localhost:{port}/guarded"), json!({"triggerWords": ["!name"]})).await;
    let metadata =
        create_outgoing(&admin, "http://169.254.169.254/latest/meta-data", json!({"triggerWords": ["!meta"]})).await;
    for t in ["!lit", "!name", "!meta"] {
        post(&admin, "GENERAL", t).await;
    }
    for i in [&literal, &named, &metadata] {
        let r = &wait_history(&admin, &id(i), 1).await[0];
        assert_eq!(r["step"], "after-http-call", "{r}");
        assert_eq!(r["error"], true);
        assert_eq!(r["finished"], true);
        assert!(r["httpError"]["message"].as_str().unwrap().contains("outgoing webhooks may"), "{r}");
    }
    settle().await;
    assert!(rx.hits("/guarded").is_empty());
}

#[tokio::test]
async fn redirects_are_followed() {
    // Each hop is checked by the same guard as the first URL (unit tests of `check_url`); a
    // black-box test of a refused hop would need a public address, so this one checks following.
    let rx = Receiver::start().await;
    let target = rx.url("/final");
    rx.reply("/final", vec![Reply::json(200, json!({"text": "followed"}))]);
    let server = start(&[]);
    let admin = server.admin().await;
    // A redirect served by a second tiny server.
    let redirect = {
        use axum::response::Redirect;
        let app = axum::Router::new().fallback(move || {
            let t = target.clone();
            async move { Redirect::temporary(&t) }
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        base
    };
    create_outgoing(&admin, &format!("{redirect}/start"), json!({})).await;
    post(&admin, "GENERAL", "go").await;
    wait_message(&admin, "channels.messages", "GENERAL", "followed").await;
}

#[tokio::test]
async fn signatures_verify_at_the_receiver() {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let rx = Receiver::start().await;
    let server = start(&[]);
    let admin = server.admin().await;
    let i = create_outgoing(&admin, &rx.url("/signed"), json!({})).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (status, body) =
        admin.post("integrations.outgoing.setSigningSecret", json!({"integrationId": id(&i), "secret": secret})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        admin.post("integrations.outgoing.setSigningSecret", json!({"integrationId": "nope", "secret": "x"})).await;
    assert_eq!(status, 400, "{body}");
    post(&admin, "GENERAL", "sign me").await;
    let hit = rx.wait("/signed", 1, WAIT).await.remove(0);
    let (msg_id, ts, sig) =
        (&hit.headers["webhook-id"], &hit.headers["webhook-timestamp"], &hit.headers["webhook-signature"]);
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{msg_id}.{ts}.{}", hit.raw).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(sig, &expected);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - ts.parse::<i64>().unwrap()).abs() < 60);
    assert_eq!(hit.body["token"], "tok", "the body token is still there");
}

/// kill -9 while deliveries are pending and retrying: after a restart every delivery reaches
/// the receiver, and none that completed before the kill is made again.
#[tokio::test]
async fn deliveries_survive_kill_9() {
    let rx = Receiver::start().await;
    // Every delivery fails twice (retried after 100 ms, then 1 s) and then succeeds.
    let mut server = start(&[("OVERWRITE_SETTING_Integrations_Outgoing_Retry_Delay_Percent", "100")]);
    let admin = server.admin().await;
    create_outgoing(&admin, &rx.url("/crash"), retrying("powers-of-ten", 5)).await;
    // The receiver fails the first two calls of each delivery id; it keeps its own count.
    let counts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> = Default::default();
    let flaky = {
        let counts = counts.clone();
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let counts = counts.clone();
            async move {
                let id = headers.get("webhook-id").unwrap().to_str().unwrap().to_owned();
                let mut c = counts.lock().unwrap();
                let n = c.entry(id).or_default();
                *n += 1;
                if *n <= 2 {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy")
                } else {
                    (axum::http::StatusCode::OK, "")
                }
            }
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        base
    };
    let i = create_outgoing(&admin, &format!("{flaky}/flaky"), retrying("powers-of-ten", 5)).await;
    const N: usize = 200;
    for n in 0..N {
        post(&admin, "GENERAL", &format!("crash {n}")).await;
    }
    // Kill while some deliveries have had one try, some two, some none.
    tokio::time::sleep(Duration::from_millis(60)).await;
    server.restart_after_kill();
    let admin = server.admin().await;
    // Every delivery ends with exactly one success at the receiver.
    let start = std::time::Instant::now();
    loop {
        let done = counts.lock().unwrap().values().filter(|n| **n >= 3).count();
        if done == N {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{done} of {N} deliveries completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.len(), N, "one delivery id per message");
    // A success is answered by the third call; a fourth would be a completed delivery repeated.
    // The only allowed extra call is one in flight at the moment of the kill (its result died
    // with the process), which shows as a fourth call of a delivery whose third was answered.
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 3).collect();
    assert!(repeated.len() <= 16, "completed deliveries repeated: {repeated:?}");
    let records = wait_history(&admin, &id(&i), 1).await;
    assert!(!records.is_empty());
    let (_, count) = admin.get("integrations.history", &[("id", &id(&i)), ("count", "1")]).await;
    let successes = {
        let (_, all) = admin
            .get("integrations.history", &[("id", &id(&i)), ("count", "0"), ("query", r#"{"step":"after-http-call"}"#)])
            .await;
        all["total"].as_u64().unwrap() as usize
    };
    assert!(count["total"].as_u64().unwrap() as usize >= N);
    assert_eq!(successes, N, "exactly one completed attempt recorded per delivery");
    assert!(rx.hits("/crash").len() >= N);
}
