//! The `/hooks` receiver against the real binary: routes and authentication, body forms,
//! payload fields, destinations, delivery permissions, scripts and rate limiting.

mod common;
use common::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const INVALID: &str = "Invalid integration id or token provided.";
const OVERRIDE_DISABLED: &str = "overriding destination channel is disabled for this integration";

/// Creates an incoming integration posting as `rocket.cat` to `#general`; `extra` overrides fields.
async fn create_hook(admin: &Client, extra: Value) -> Value {
    let mut body = json!({
        "type": "webhook-incoming", "name": "hook", "enabled": true,
        "username": "rocket.cat", "channel": "#general", "scriptEnabled": false,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, created) = admin.post("integrations.create", body).await;
    assert_eq!(status, 200, "{created}");
    created["integration"].clone()
}

fn path(i: &Value) -> String {
    format!("/hooks/{}/{}", i["_id"].as_str().unwrap(), i["token"].as_str().unwrap())
}

async fn hook(c: &Client, i: &Value, body: Value) -> (StatusCode, Value) {
    c.post(&path(i), body).await
}

/// Status, headers and JSON body of a raw request.
async fn raw(req: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The user messages (no system messages) of a public channel, oldest first.
async fn channel_messages(c: &Client, rid: &str) -> Vec<Value> {
    room_messages(c, "channels.messages", rid).await
}

async fn room_messages(c: &Client, endpoint: &str, rid: &str) -> Vec<Value> {
    let (status, body) = c.get(endpoint, &[("roomId", rid), ("count", "100")]).await;
    assert_eq!(status, 200, "{body}");
    let mut list: Vec<Value> =
        body["messages"].as_array().unwrap().iter().filter(|m| m.get("t").is_none()).cloned().collect();
    list.sort_by(|a, b| a["ts"].as_str().cmp(&b["ts"].as_str()));
    list
}

async fn last_general(c: &Client) -> Value {
    channel_messages(c, "GENERAL").await.pop().expect("a message in #general")
}

fn ok(r: &(StatusCode, Value)) {
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["success"], true, "{}", r.1);
}

#[tokio::test]
async fn routes_and_authentication() {
    let server = Server::start();
    let admin = server.admin().await;
    let anon = server.client();
    let a = create_hook(&admin, json!({"name": "a"})).await;
    let b = create_hook(&admin, json!({"name": "b"})).await;
    assert_eq!(a["token"].as_str().unwrap().len(), 48);

    let r = hook(&anon, &a, json!({"text": "hello"})).await;
    assert_eq!(r.1, json!({"success": true}));
    let m = last_general(&admin).await;
    assert_eq!(m["msg"], "hello");
    assert_eq!(m["u"]["username"], "rocket.cat");
    assert_eq!(m["bot"], json!({"i": a["_id"]}));
    assert_eq!(m["rid"], "GENERAL");

    // The `userId` segment is accepted and ignored.
    let with_user = format!("/hooks/{}/anything/{}", a["_id"].as_str().unwrap(), a["token"].as_str().unwrap());
    ok(&anon.post(&with_user, json!({"text": "via user path"})).await);
    assert_eq!(last_general(&admin).await["msg"], "via user path");

    // GET executes too; a bodiless GET posts nothing.
    let before = channel_messages(&admin, "GENERAL").await.len();
    ok(&anon.get(&path(&a), &[]).await);
    assert_eq!(channel_messages(&admin, "GENERAL").await.len(), before);

    // Unknown id, wrong token, another integration's token.
    let a_id = a["_id"].as_str().unwrap();
    let b_token = b["token"].as_str().unwrap();
    for p in [
        format!("/hooks/{a_id}/{}", "x".repeat(48)),
        format!("/hooks/nope/{}", a["token"].as_str().unwrap()),
        format!("/hooks/{a_id}/{b_token}"),
        format!("/hooks/{a_id}/u/{b_token}"),
        format!("/hooks/info/{a_id}/{b_token}"),
    ] {
        let r = anon.post(&p, json!({"text": "x"})).await;
        assert_eq!(r.0, 404, "{p}: {}", r.1);
        assert_eq!(r.1, json!({"success": false, "error": INVALID}));
    }
    assert_eq!(channel_messages(&admin, "GENERAL").await.len(), before);
    let r = anon.get("/hooks/only-one-segment", &[]).await;
    assert_eq!(r.0, 404);

    // info and sample.
    let info = format!("/hooks/info/{a_id}/{}", a["token"].as_str().unwrap());
    assert_eq!(anon.get(&info, &[]).await, (StatusCode::OK, json!({"success": true})));
    let (status, sample) = anon.get(&format!("/hooks/sample/{a_id}/{}", a["token"].as_str().unwrap()), &[]).await;
    assert_eq!(status, 200);
    let sample = sample.as_array().unwrap();
    assert_eq!(sample.len(), 3);
    assert_eq!(sample[0]["text"], "Sample text 1");
    assert_eq!(sample[2]["channel_name"], "general");

    // Disabled → 503 (info still answers); enabled again → posts.
    let update = |enabled: bool| {
        json!({"type": "webhook-incoming", "integrationId": a_id, "name": "a", "enabled": enabled,
               "username": "rocket.cat", "channel": "#general", "scriptEnabled": false})
    };
    let (status, body) = admin.put("integrations.update", update(false)).await;
    assert_eq!(status, 200, "{body}");
    let r = hook(&anon, &a, json!({"text": "while disabled"})).await;
    assert_eq!(r, (StatusCode::SERVICE_UNAVAILABLE, json!({"success": false, "error": "Service Unavailable"})));
    assert_eq!(anon.get(&info, &[]).await.0, 200);
    admin.put("integrations.update", update(true)).await;
    ok(&hook(&anon, &a, json!({"text": "enabled again"})).await);

    // Removed → 404 at once (the cache is invalidated).
    let (status, _) =
        admin.post("integrations.remove", json!({"type": "webhook-incoming", "integrationId": a_id})).await;
    assert_eq!(status, 200);
    assert_eq!(hook(&anon, &a, json!({"text": "gone"})).await.0, 404);

    // An outgoing integration's token opens nothing.
    let (status, out) = admin
        .post(
            "integrations.create",
            json!({"type": "webhook-outgoing", "name": "o", "enabled": true, "username": "rocket.cat",
                   "channel": "#general", "event": "sendMessage", "urls": ["http://127.0.0.1:9/x"],
                   "scriptEnabled": false, "token": "outgoing-token-123"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let r = anon
        .post(
            &format!("/hooks/{}/outgoing-token-123", out["integration"]["_id"].as_str().unwrap()),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(r.0, 404);

    // The post-as user deleted → 401.
    server.user("poster").await;
    let p = create_hook(&admin, json!({"username": "poster"})).await;
    ok(&hook(&anon, &p, json!({"text": "from poster"})).await);
    let (status, _) = admin.post("users.delete", json!({"username": "poster"})).await;
    assert_eq!(status, 200);
    // The post-as user is cached with the hook for at most Integrations_Hooks_Cache_TTL (500 ms);
    // the wait allows far more than that, so that a loaded machine does not fail the test, while
    // a cache that never expires still does.
    let deleted = std::time::Instant::now();
    let r = loop {
        let r = hook(&anon, &p, json!({"text": "after delete"})).await;
        if r.0 != 200 || deleted.elapsed() > std::time::Duration::from_secs(10) {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(r.0, 401, "{}", r.1);
    assert_eq!(
        r.1,
        json!({"success": false, "error": "You must be logged in to do this.", "status": "error", "message": "You must be logged in to do this."})
    );
}

/// With the hook cache off, every call sees changes at once.
#[tokio::test]
async fn no_cache_sees_changes_at_once() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Hooks_Cache_TTL", "0"),
    ]);
    let admin = server.admin().await;
    let anon = server.client();
    server.user("poster").await;
    let p = create_hook(&admin, json!({"username": "poster"})).await;
    ok(&hook(&anon, &p, json!({"text": "from poster"})).await);
    admin.post("users.delete", json!({"username": "poster"})).await;
    assert_eq!(hook(&anon, &p, json!({"text": "after delete"})).await.0, 401);

    let (_, ch) = admin.post("channels.create", json!({"name": "soon-ro"})).await;
    let rid = ch["channel"]["_id"].as_str().unwrap().to_owned();
    let h = create_hook(&admin, json!({"channel": "#soon-ro"})).await;
    ok(&hook(&anon, &h, json!({"text": "before"})).await);
    let (status, body) = admin.post("channels.delete", json!({"roomId": rid})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        hook(&anon, &h, json!({"text": "after"})).await.1,
        json!({"success": false, "error": "invalid-channel"})
    );
}

/// The hook's own destinations are resolved once and cached, but access is checked per call.
#[tokio::test]
async fn cached_destinations_still_check_access() {
    let server = Server::start();
    let admin = server.admin().await;
    let anon = server.client();
    let (_, g) = admin.post("groups.create", json!({"name": "private-dest"})).await;
    let gid = g["group"]["_id"].as_str().unwrap().to_owned();
    let h = create_hook(&admin, json!({"channel": "#private-dest"})).await;
    for _ in 0..2 {
        let r = hook(&anon, &h, json!({"text": "x"})).await;
        assert_eq!(r, (StatusCode::BAD_REQUEST, json!({"success": false, "error": "error-not-allowed"})));
    }
    admin.post("groups.invite", json!({"roomId": gid, "username": "rocket.cat"})).await;
    ok(&hook(&anon, &h, json!({"text": "invited"})).await);
    assert_eq!(room_messages(&admin, "groups.messages", &gid).await.last().unwrap()["msg"], "invited");
    // Several configured destinations: all or nothing, like the general path.
    let (_, ch) = admin.post("channels.create", json!({"name": "second"})).await;
    let second = ch["channel"]["_id"].as_str().unwrap().to_owned();
    let (_, g2) = admin.post("groups.create", json!({"name": "closed"})).await;
    assert_eq!(g2["success"], true);
    let both = create_hook(&admin, json!({"channel": "#second,#closed"})).await;
    for _ in 0..2 {
        assert_eq!(hook(&anon, &both, json!({"text": "x"})).await.1["error"], "error-not-allowed");
    }
    assert!(channel_messages(&admin, &second).await.is_empty());
}

#[tokio::test]
async fn body_forms() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Hooks_Max_Body_Size", "4096"),
    ]);
    let admin = server.admin().await;
    let c = server.client();
    let i = create_hook(&admin, json!({})).await;
    let p = path(&i);
    let form = "application/x-www-form-urlencoded";

    ok(&c.post_raw(&p, "application/json", r#"{"text":"json body"}"#).await);
    assert_eq!(last_general(&admin).await["msg"], "json body");

    // Slack style: a single payload=<json> field.
    let slack = format!("payload={}", urlencode(r#"{"text":"slack style","username":"alertbot"}"#));
    ok(&c.post_raw(&p, form, slack).await);
    let m = last_general(&admin).await;
    assert_eq!((m["msg"].clone(), m["alias"].clone()), (json!("slack style"), json!("alertbot")));
    ok(&c
        .post_raw(&p, &format!("{form}; charset=utf-8"), format!("payload={}", urlencode(r#"{"text":"with charset"}"#)))
        .await);
    assert_eq!(last_general(&admin).await["msg"], "with charset");

    // A form-typed body that is really JSON (curl -d without a content type).
    ok(&c.post_raw(&p, form, r#"{"text":"json as form & more"}"#).await);
    assert_eq!(last_general(&admin).await["msg"], "json as form & more");

    // Plain form fields.
    ok(&c.post_raw(&p, form, "text=plain+form+fields").await);
    assert_eq!(last_general(&admin).await["msg"], "plain form fields");

    // multipart/form-data fields, and a multipart payload field.
    let mp = |name: &str, value: &str| {
        format!("--BOUNDARY\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n--BOUNDARY--\r\n")
    };
    ok(&c.post_raw(&p, "multipart/form-data; boundary=BOUNDARY", mp("text", "multipart field")).await);
    assert_eq!(last_general(&admin).await["msg"], "multipart field");
    ok(&c
        .post_raw(&p, "multipart/form-data; boundary=BOUNDARY", mp("payload", r#"{"text":"multipart payload"}"#))
        .await);
    assert_eq!(last_general(&admin).await["msg"], "multipart payload");
    // Invalid JSON → 400 with the parse error, nothing posted.
    let before = channel_messages(&admin, "GENERAL").await.len();
    for (ct, body) in [
        ("application/json", r#"{"text": "#.to_owned()),
        (form, format!("payload={}", urlencode("{not json"))),
        (form, "{\"text\": tru}".to_owned()),
        ("multipart/form-data; boundary=BOUNDARY", mp("payload", "[1,")),
    ] {
        let r = c.post_raw(&p, ct, body.clone()).await;
        assert_eq!(r.0, 400, "{ct} {body}: {}", r.1);
        assert_eq!(r.1["success"], false);
        assert!(r.1["error"].as_str().unwrap().starts_with("Invalid JSON: "), "{}", r.1);
    }
    let r = c.post_raw(&p, "multipart/form-data", "no boundary").await;
    assert_eq!(r.0, 400, "{}", r.1);
    // PostgreSQL cannot store a NUL character: refused on every backend.
    for (ct, body) in [("application/json", r#"{"text":"a\u0000b"}"#), (form, "text=a%00b")] {
        let r = c.post_raw(&p, ct, body).await;
        assert_eq!(r.0, 400, "{ct} {body}: {}", r.1);
        assert_eq!(r.1["errorType"], "error-invalid-params", "{}", r.1);
    }
    // Empty, `{}` and non-object bodies: 200, nothing posted.
    for body in ["", "{}", "[1,2]", "\"text\""] {
        ok(&c.post_raw(&p, "application/json", body).await);
    }
    assert_eq!(channel_messages(&admin, "GENERAL").await.len(), before);

    // Over the body limit → 413, declared or streamed.
    let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(5000));
    let r = c.post_raw(&p, "application/json", big.clone()).await;
    assert_eq!(r.0, 413, "{}", r.1);
    assert_eq!(r.1, json!({"success": false, "error": "Request body is too large"}));
    let (status, body) = chunked_post(&c.base, &p, &[&big[..3000], &big[3000..]]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(channel_messages(&admin, "GENERAL").await.len(), before);
}

/// A chunked POST (no Content-Length) over a raw socket: status and body text.
async fn chunked_post(base: &str, path: &str, chunks: &[&str]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.strip_prefix("http://").unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for c in chunks {
        req.push_str(&format!("{:x}\r\n{c}\r\n", c.len()));
    }
    req.push_str("0\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

fn urlencode(s: &str) -> String {
    url_escape(s)
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test]
async fn payload_fields() {
    let server = Server::start();
    let admin = server.admin().await;
    let c = server.client();
    let i = create_hook(&admin, json!({})).await;

    ok(&hook(&c, &i, json!({"msg": "  via msg  "})).await);
    let m = last_general(&admin).await;
    assert_eq!(m["msg"], "via msg");
    assert_eq!(m["parseUrls"], true);
    assert_eq!(m["groupable"], false);
    assert!(m.get("avatar").is_none() && m.get("emoji").is_none());

    // Slack attachments keep their fields; an attachment's `msg` becomes `text`.
    let attachment = json!({
        "title": "Alert", "title_link": "https://example.com/a", "color": "#ff0000", "text": "details",
        "fields": [{"title": "sev", "value": "high", "short": true}], "image_url": "https://example.com/i.png",
        "author_name": "mon", "footer": "f", "ts": 123, "mrkdwn_in": ["text"],
    });
    ok(&hook(&c, &i, json!({"text": "with attachments", "attachments": [attachment, {"msg": " moved "}]})).await);
    let m = last_general(&admin).await;
    assert_eq!(m["attachments"][0], attachment);
    assert_eq!(m["attachments"][1], json!({"text": "moved"}));
    assert_eq!(m["parseUrls"], false);
    // A non-array `attachments` is dropped.
    ok(&hook(&c, &i, json!({"text": "bad attachments", "attachments": "nope"})).await);
    assert_eq!(last_general(&admin).await["attachments"], json!([]));

    // username → alias (wins over alias), icon_url → avatar (wins over icon_emoji).
    ok(&hook(
        &c,
        &i,
        json!({"text": "a", "username": "ci", "alias": "other", "icon_url": "https://x/y.png", "icon_emoji": ":x:"}),
    )
    .await);
    let m = last_general(&admin).await;
    assert_eq!(
        (m["alias"].clone(), m["avatar"].clone(), m.get("emoji").cloned()),
        (json!("ci"), json!("https://x/y.png"), None)
    );
    ok(&hook(&c, &i, json!({"text": "b", "alias": "al", "avatar": "https://x/z.png"})).await);
    let m = last_general(&admin).await;
    assert_eq!((m["alias"].clone(), m["avatar"].clone()), (json!("al"), json!("https://x/z.png")));
    ok(&hook(&c, &i, json!({"text": "c", "icon_emoji": ":ghost:"})).await);
    assert_eq!(last_general(&admin).await["emoji"], ":ghost:");
    ok(&hook(&c, &i, json!({"text": "d", "emoji": ":smile:"})).await);
    assert_eq!(last_general(&admin).await["emoji"], ":smile:");

    // parseUrls, groupable, customFields, tmid.
    ok(&hook(&c, &i, json!({"text": "e", "parseUrls": false, "groupable": true, "customFields": {"k": "v"}})).await);
    let m = last_general(&admin).await;
    assert_eq!(
        (m["parseUrls"].clone(), m["groupable"].clone(), m["customFields"].clone()),
        (json!(false), json!(true), json!({"k": "v"}))
    );
    let parent = m["_id"].as_str().unwrap().to_owned();
    ok(&hook(&c, &i, json!({"text": "reply", "tmid": parent})).await);
    assert_eq!(last_general(&admin).await["tmid"], parent.as_str());

    // Integration defaults: alias, avatar, emoji (the payload wins).
    let d = create_hook(&admin, json!({"alias": "Default Alias", "emoji": ":robot:"})).await;
    ok(&hook(&c, &d, json!({"text": "defaults"})).await);
    let m = last_general(&admin).await;
    assert_eq!((m["alias"].clone(), m["emoji"].clone()), (json!("Default Alias"), json!(":robot:")));
    ok(&hook(&c, &d, json!({"text": "own", "username": "mine", "icon_emoji": ":cat:"})).await);
    let m = last_general(&admin).await;
    assert_eq!(
        (m["alias"].clone(), m["emoji"].clone(), m["bot"].clone()),
        (json!("mine"), json!(":cat:"), json!({"i": d["_id"]}))
    );
    let av = create_hook(&admin, json!({"avatar": "https://x/default.png", "emoji": ":robot:"})).await;
    ok(&hook(&c, &av, json!({"text": "avatar default"})).await);
    let m = last_general(&admin).await;
    assert_eq!((m["avatar"].clone(), m.get("emoji").cloned()), (json!("https://x/default.png"), None));

    // Too long → error, nothing posted.
    let r = hook(&c, &i, json!({"text": "x".repeat(5001)})).await;
    assert_eq!(r, (StatusCode::BAD_REQUEST, json!({"success": false, "error": "error-message-size-exceeded"})));

    // message-impersonate is required for alias/avatar: take it from `bot`.
    let (status, body) = admin
        .post("permissions.update", json!({"permissions": [{"_id": "message-impersonate", "roles": ["app"]}]}))
        .await;
    assert_eq!(status, 200, "{body}");
    let r = hook(&c, &i, json!({"text": "x", "username": "fake"})).await;
    assert_eq!(r, (StatusCode::BAD_REQUEST, json!({"success": false, "error": "Not enough permission"})));
    let r = hook(&c, &i, json!({"text": "x", "icon_url": "https://x/y.png"})).await;
    assert_eq!(r.1["error"], "Not enough permission");
    ok(&hook(&c, &i, json!({"text": "no impersonation", "icon_emoji": ":x:"})).await);
}

#[tokio::test]
async fn destinations() {
    let server = Server::start();
    let admin = server.admin().await;
    let bob = server.user("bob").await;
    let c = server.client();
    let (_, ch) = admin.post("channels.create", json!({"name": "ops"})).await;
    let ops = ch["channel"]["_id"].as_str().unwrap().to_owned();

    // Override disabled: channel/roomId refused; an empty channel is falsy and allowed.
    let fixed = create_hook(&admin, json!({})).await;
    for body in [
        json!({"text": "x", "channel": "#ops"}),
        json!({"text": "x", "roomId": ops}),
        json!({"text": "x", "channel": []}),
    ] {
        let r = hook(&c, &fixed, body).await;
        assert_eq!(r, (StatusCode::BAD_REQUEST, json!({"success": false, "error": OVERRIDE_DISABLED})));
    }
    ok(&hook(&c, &fixed, json!({"text": "empty channel", "channel": ""})).await);
    assert_eq!(last_general(&admin).await["msg"], "empty channel");

    // Several configured channels: each gets the message.
    let multi = create_hook(&admin, json!({"channel": "#general, #ops"})).await;
    ok(&hook(&c, &multi, json!({"text": "to both"})).await);
    assert_eq!(last_general(&admin).await["msg"], "to both");
    assert_eq!(channel_messages(&admin, &ops).await.last().unwrap()["msg"], "to both");

    let open = create_hook(&admin, json!({"overrideDestinationChannelEnabled": true})).await;
    for (target, text) in [
        (json!("#ops"), "by #name"),
        (json!(format!("#{ops}")), "by #id"),
        (json!("ops"), "by bare name"),
        (json!(ops.clone()), "by bare id"),
    ] {
        ok(&hook(&c, &open, json!({"text": text, "channel": target})).await);
        assert_eq!(channel_messages(&admin, &ops).await.last().unwrap()["msg"], text);
    }
    ok(&hook(&c, &open, json!({"text": "by roomId", "roomId": ops})).await);
    assert_eq!(channel_messages(&admin, &ops).await.last().unwrap()["msg"], "by roomId");

    // @user: the direct room is created, then reused; a bare user id also reaches it.
    let r = hook(&c, &open, json!({"text": "dm 1", "channel": "@bob", "separateResponse": true})).await;
    ok(&r);
    let rid = r.1["responses"][0]["message"]["rid"].as_str().unwrap().to_owned();
    assert_eq!(r.1["responses"][0]["channel"], "@bob");
    let r =
        hook(&c, &open, json!({"text": "dm 2", "channel": format!("@{}", bob.user_id()), "separateResponse": true}))
            .await;
    assert_eq!(r.1["responses"][0]["message"]["rid"], rid.as_str());
    let r = hook(&c, &open, json!({"text": "dm 3", "channel": bob.user_id(), "separateResponse": true})).await;
    assert_eq!(r.1["responses"][0]["message"]["rid"], rid.as_str());
    let msg_id = r.1["responses"][0]["message"]["_id"].as_str().unwrap();
    let (status, got) = bob.get("chat.getMessage", &[("msgId", msg_id)]).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["message"]["msg"], "dm 3");

    // Unknown destinations.
    for target in ["#nope", "@ghost", "nope"] {
        let r = hook(&c, &open, json!({"text": "x", "channel": target})).await;
        assert_eq!(r, (StatusCode::BAD_REQUEST, json!({"success": false, "error": "invalid-channel"})), "{target}");
    }
    // Without separateResponse one bad destination aborts before anything is posted.
    let before = channel_messages(&admin, &ops).await.len();
    let r = hook(&c, &open, json!({"text": "all or nothing", "channel": ["#ops", "#nope"]})).await;
    assert_eq!(r.1["error"], "invalid-channel");
    assert_eq!(channel_messages(&admin, &ops).await.len(), before);
    // With separateResponse each destination answers for itself; duplicates are merged.
    let r =
        hook(&c, &open, json!({"text": "separate", "channel": ["#ops", "#nope", "#ops"], "separateResponse": true}))
            .await;
    ok(&r);
    let responses = r.1["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0]["channel"], "#ops");
    assert_eq!(responses[0]["message"]["msg"], "separate");
    assert_eq!(responses[0]["message"]["bot"], json!({"i": open["_id"]}));
    assert_eq!(responses[1], json!({"channel": "#nope", "error": "invalid-channel"}));
    let r = hook(&c, &open, json!({"text": "x", "channel": ["#nope", "@ghost"], "separateResponse": true})).await;
    assert_eq!(r.0, 400);
    assert_eq!(
        r.1,
        json!({"success": false, "responses": [{"channel": "#nope", "error": "invalid-channel"}, {"channel": "@ghost", "error": "invalid-channel"}]})
    );
    // An empty list is truthy: nothing to post.
    let r = hook(&c, &open, json!({"text": "x", "channel": []})).await;
    assert_eq!(r.1, json!({"success": false, "error": "unknown-error"}));
    let r = hook(&c, &open, json!({"text": "x", "channel": 12})).await;
    assert_eq!(r.1, json!({"success": false, "error": "invalid-channel"}));
}

#[tokio::test]
async fn delivery_permissions() {
    let server = Server::start();
    let admin = server.admin().await;
    let c = server.client();
    let open = create_hook(&admin, json!({"overrideDestinationChannelEnabled": true})).await;

    // A public channel the bot is not in: it joins, then posts.
    let (_, ch) = admin.post("channels.create", json!({"name": "pub"})).await;
    let pub_id = ch["channel"]["_id"].as_str().unwrap().to_owned();
    ok(&hook(&c, &open, json!({"text": "joined and posted", "channel": "#pub"})).await);
    let (_, members) = admin.get("channels.members", &[("roomId", &pub_id)]).await;
    let names: Vec<Value> = members["members"].as_array().unwrap().iter().map(|m| m["username"].clone()).collect();
    assert!(names.contains(&json!("rocket.cat")), "{members}");
    assert_eq!(channel_messages(&admin, &pub_id).await.last().unwrap()["msg"], "joined and posted");

    // A private group the bot is not in → error-not-allowed; after an invite it posts.
    let (_, g) = admin.post("groups.create", json!({"name": "secret"})).await;
    let gid = g["group"]["_id"].as_str().unwrap().to_owned();
    let r = hook(&c, &open, json!({"text": "x", "channel": "#secret"})).await;
    assert_eq!(r, (StatusCode::BAD_REQUEST, json!({"success": false, "error": "error-not-allowed"})));
    assert!(room_messages(&admin, "groups.messages", &gid).await.is_empty());
    let (status, body) = admin.post("groups.invite", json!({"roomId": gid, "username": "rocket.cat"})).await;
    assert_eq!(status, 200, "{body}");
    ok(&hook(&c, &open, json!({"text": "member now", "channel": "#secret"})).await);
    assert_eq!(room_messages(&admin, "groups.messages", &gid).await.last().unwrap()["msg"], "member now");

    // A public channel of a private team the bot is not a member of → error-not-allowed.
    let (status, team) = admin.post("teams.create", json!({"name": "hidden-team", "type": 1})).await;
    assert_eq!(status, 200, "{team}");
    let team_id = team["team"]["_id"].as_str().unwrap();
    let (status, tc) =
        admin.post("channels.create", json!({"name": "team-pub", "extraData": {"teamId": team_id}})).await;
    assert_eq!(status, 200, "{tc}");
    let r = hook(&c, &open, json!({"text": "x", "channel": "#team-pub"})).await;
    assert_eq!(r, (StatusCode::BAD_REQUEST, json!({"success": false, "error": "error-not-allowed"})));
    // …while a public team's channel is joined like any public channel.
    admin.post("teams.create", json!({"name": "open-team", "type": 0})).await;
    let (_, open_team) = admin.get("teams.info", &[("teamName", "open-team")]).await;
    let open_team_id = open_team["teamInfo"]["_id"].as_str().unwrap();
    let (status, body) =
        admin.post("channels.create", json!({"name": "open-team-pub", "extraData": {"teamId": open_team_id}})).await;
    assert_eq!(status, 200, "{body}");
    ok(&hook(&c, &open, json!({"text": "public team", "channel": "#open-team-pub"})).await);

    // A read-only channel refuses a user without post-readonly.
    let (_, ro) = admin.post("channels.create", json!({"name": "announce", "readOnly": true})).await;
    assert_eq!(ro["channel"]["ro"], true, "{ro}");
    let r = hook(&c, &open, json!({"text": "x", "channel": "#announce"})).await;
    assert_eq!(r.0, 400, "{}", r.1);
}

async fn script_hook(admin: &Client, script: &str, extra: Value) -> Value {
    let mut body = json!({"scriptEnabled": true, "script": script});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    create_hook(admin, body).await
}

const TRANSFORM: &str = r#"
class Script {
  process_incoming_request({ request }) {
    const c = request.content;
    console.log('transforming', c.event);
    return {
      content: {
        text: `${c.event} by ${c.who} [${request.headers['x-source']}] q=${request.url.query.q} user=${request.user.username}`
          + ` raw=${request.content_raw.length} id=${request.url_params.integrationId === undefined ? 'none' : 'ok'}`,
        attachments: [{ title: request.url.pathname.startsWith('/hooks/') ? 'path ok' : 'path bad' }],
      },
    };
  }
}"#;

#[tokio::test]
async fn scripts() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Script_Timeout", "500"),
    ]);
    let admin = server.admin().await;
    let c = server.client();
    server.user("alice").await;

    // Transform: request fields in, message out.
    let t = script_hook(&admin, TRANSFORM, json!({})).await;
    assert!(t.get("scriptError").is_none(), "{t}");
    assert!(t["scriptCompiled"].as_str().is_some(), "{t}");
    let body = r#"{"event":"deploy","who":"ci"}"#;
    let r = c
        .send(
            c.http
                .post(format!("{}{}?q=42", c.base, path(&t)))
                .header("content-type", "application/json")
                .header("X-Source", "gh")
                .body(body),
        )
        .await;
    ok(&r);
    assert_eq!(r.1, json!({"success": true}));
    let m = last_general(&admin).await;
    assert_eq!(m["msg"], format!("deploy by ci [gh] q=42 user=rocket.cat raw={} id=ok", body.len()));
    assert_eq!(m["attachments"][0]["title"], "path ok");
    assert_eq!(m["bot"], json!({"i": t["_id"]}));

    // {error}: a string or an object body; falsy: nothing posted; response: the answer.
    let s = script_hook(&admin, r#"
class Script {
  process_incoming_request({ request }) {
    const c = request.content;
    switch (c.mode) {
      case 'error': return { error: 'bad input' };
      case 'error-object': return { error: { code: 7, reason: 'nope' } };
      case 'falsy': return false;
      case 'undefined': return;
      case 'response': return { content: { text: 'with response' }, response: { accepted: true, n: 1 } };
      case 'no-content': return { response: { ignored: true } };
      case 'as-alice': return { content: { text: 'as alice' }, user: { username: 'alice' } };
      case 'as-ghost': return { content: { text: 'x' }, user: { _id: 'ghost' } };
      case 'throw': throw new Error('boom');
      case 'sandbox': return { content: { text: [typeof require, typeof process, typeof fetch, typeof XMLHttpRequest, typeof std, typeof os].join(',') } };
      case 'count': return { content: { text: 'count ' + Store.set('n', (Store.get('n') || 0) + 1) } };
      case 'separate': return { content: { text: 'sep', channel: ['#general'] } };
      case 'override': return { content: { text: 'x', channel: '#general' } };
    }
    return { content: { text: 'default ' + c.mode } };
  }
}"#, json!({})).await;
    let mode = |m: &str| json!({"mode": m});
    assert_eq!(
        hook(&c, &s, mode("error")).await,
        (StatusCode::BAD_REQUEST, json!({"success": false, "error": "bad input"}))
    );
    assert_eq!(
        hook(&c, &s, mode("error-object")).await,
        (StatusCode::BAD_REQUEST, json!({"code": 7, "reason": "nope", "success": false}))
    );
    let before = channel_messages(&admin, "GENERAL").await.len();
    for m in ["falsy", "undefined", "no-content"] {
        assert_eq!(hook(&c, &s, mode(m)).await, (StatusCode::OK, json!({"success": true})), "{m}");
    }
    assert_eq!(channel_messages(&admin, "GENERAL").await.len(), before);
    assert_eq!(
        hook(&c, &s, mode("response")).await,
        (StatusCode::OK, json!({"accepted": true, "n": 1, "success": true}))
    );
    assert_eq!(last_general(&admin).await["msg"], "with response");
    ok(&hook(&c, &s, mode("as-alice")).await);
    let m = last_general(&admin).await;
    assert_eq!((m["msg"].clone(), m["u"]["username"].clone()), (json!("as alice"), json!("alice")));
    assert_eq!(hook(&c, &s, mode("as-ghost")).await.1, json!({"success": false, "error": "error-invalid-user"}));
    assert_eq!(
        hook(&c, &s, mode("throw")).await,
        (StatusCode::BAD_REQUEST, json!({"success": false, "error": "error-running-script"}))
    );
    ok(&hook(&c, &s, mode("sandbox")).await);
    // Only Rocket.Chat 7's fetch is there; no modules, process or other host objects.
    assert_eq!(last_general(&admin).await["msg"], "undefined,undefined,function,undefined,undefined,undefined");
    // The per-integration Store lives as long as the compiled script.
    for n in 1..=3 {
        ok(&hook(&c, &s, mode("count")).await);
        assert_eq!(last_general(&admin).await["msg"], format!("count {n}"));
    }
    // The script's content is checked like a body: override disabled.
    assert_eq!(hook(&c, &s, mode("override")).await.1["error"], OVERRIDE_DISABLED);
    // The original body's separateResponse is copied into the content.
    let r = hook(&c, &s, json!({"mode": "other", "separateResponse": true})).await;
    ok(&r);
    assert_eq!(r.1["responses"][0]["message"]["msg"], "default other");
    // A bodiless GET does not run the script: nothing posted.
    assert_eq!(c.get(&path(&s), &[]).await, (StatusCode::OK, json!({"success": true})));

    // Runaway loop and memory bomb: stopped, error-running-script, the server stays healthy.
    let lp = script_hook(&admin, "class Script { process_incoming_request() { while (true) {} } }", json!({})).await;
    let bomb = script_hook(
        &admin,
        "class Script { process_incoming_request() { const a = []; while (true) { a.push('x'.repeat(1024) + a.length); } } }",
        json!({}),
    )
    .await;
    // The loop never ends by itself: any answer shows it was stopped.
    assert_eq!(
        hook(&c, &lp, json!({"text": "x"})).await,
        (StatusCode::BAD_REQUEST, json!({"success": false, "error": "error-running-script"}))
    );
    assert_eq!(
        hook(&c, &bomb, json!({"text": "x"})).await,
        (StatusCode::BAD_REQUEST, json!({"success": false, "error": "error-running-script"}))
    );
    // Calls for other integrations (and the same ones, rebuilt) keep working.
    ok(&hook(&c, &s, mode("after")).await);
    assert_eq!(last_general(&admin).await["msg"], "default after");
    assert_eq!(hook(&c, &lp, json!({"text": "x"})).await.1["error"], "error-running-script");
    let (status, _) = admin.get("integrations.list", &[]).await;
    assert_eq!(status, 200);

    // A syntax error is stored as scriptError; the hook then posts the body as it is.
    let broken = script_hook(&admin, "class Script { process_incoming_request( { ", json!({})).await;
    assert_eq!(broken["scriptError"]["name"], "SyntaxError", "{broken}");
    assert!(broken.get("scriptCompiled").is_none());
    ok(&hook(&c, &broken, json!({"text": "raw body"})).await);
    assert_eq!(last_general(&admin).await["msg"], "raw body");
    // A script without process_incoming_request: nothing posted.
    let none = script_hook(&admin, "class Script { other() {} }", json!({})).await;
    let before = channel_messages(&admin, "GENERAL").await.len();
    ok(&hook(&c, &none, json!({"text": "x"})).await);
    assert_eq!(channel_messages(&admin, "GENERAL").await.len(), before);

    // Compiled once per version: an update takes effect on the next call.
    let id = t["_id"].as_str().unwrap();
    let (status, body) = admin
        .put(
            "integrations.update",
            json!({"type": "webhook-incoming", "integrationId": id, "name": "t", "enabled": true, "username": "rocket.cat",
                   "channel": "#general", "scriptEnabled": true,
                   "script": "class Script { process_incoming_request({ request }) { return { content: { text: 'v2 ' + request.content.event } }; } }"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    ok(&hook(&c, &t, json!({"event": "e"})).await);
    assert_eq!(last_general(&admin).await["msg"], "v2 e");
}

/// Starts the binary on an existing database with extra environment; returns it and its URL.
fn spawn_on(database_url: &str, env: &[(&str, &str)]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_liftoff"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("BIND_IP", "127.0.0.1")
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().strip_prefix("liftoff listening on ").unwrap().to_owned())
}

#[tokio::test]
async fn script_policy() {
    let mut server = Server::start();
    let admin = server.admin().await;
    let s = script_hook(
        &admin,
        "class Script { process_incoming_request() { return { content: { text: 'from script' } }; } }",
        json!({}),
    )
    .await;
    ok(&hook(&server.client(), &s, json!({"text": "body"})).await);
    assert_eq!(last_general(&admin).await["msg"], "from script");
    server.stop();

    // DISABLE_INTEGRATION_SCRIPTS: scripts never run; the body is posted as it is.
    let (mut child, url) = spawn_on(
        &server.database_url(),
        &[("DISABLE_INTEGRATION_SCRIPTS", "true"), ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")],
    );
    let admin2 = Client::new(&url).login(ADMIN_USER, ADMIN_PASS).await;
    ok(&Client::new(&url).post(&path(&s), json!({"text": "body while disabled"})).await);
    assert_eq!(last_general(&admin2).await["msg"], "body while disabled");
    child.kill().unwrap();
    child.wait().unwrap();

    // FREEZE_INTEGRATION_SCRIPTS: no new scripts, but the stored ones still run.
    let (mut child, url) = spawn_on(
        &server.database_url(),
        &[("FREEZE_INTEGRATION_SCRIPTS", "true"), ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")],
    );
    let admin3 = Client::new(&url).login(ADMIN_USER, ADMIN_PASS).await;
    ok(&Client::new(&url).post(&path(&s), json!({"text": "body while frozen"})).await);
    assert_eq!(last_general(&admin3).await["msg"], "from script");
    let r = admin3
        .post(
            "integrations.create",
            json!({"type": "webhook-incoming", "name": "n", "enabled": true, "username": "rocket.cat",
                   "channel": "#general", "scriptEnabled": true, "script": "class Script {}"}),
        )
        .await;
    assert_eq!(r.0, 400, "{}", r.1);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn rate_limits() {
    let server = Server::start_with(&[("OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default", "3")]);
    let admin = server.admin().await;
    let c = server.client();
    let i = create_hook(&admin, json!({})).await;
    let url = format!("{}{}", c.base, path(&i));

    for n in 0..3 {
        let (status, headers, body) = raw(c.http.post(&url).json(&json!({"text": format!("rl {n}")}))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["x-ratelimit-limit"], "3");
        assert_eq!(headers["x-ratelimit-remaining"], (2 - n).to_string().as_str());
        let reset: i64 = headers["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset > 1_600_000_000_000, "reset is epoch ms: {reset}");
    }
    let (status, headers, body) = raw(c.http.post(&url).json(&json!({"text": "too many"}))).await;
    assert_eq!(status, 429);
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("Error, too many requests. Please slow down. You must wait "), "{error}");
    assert!(error.ends_with(" seconds before trying this endpoint again. [error-too-many-requests]"), "{error}");
    assert_eq!(body["success"], false);
    assert_ne!(last_general(&admin).await["msg"], "too many");
    // Another URL (the query string counts) and another method have their own windows.
    let (status, _, _) = raw(c.http.post(format!("{url}?x=1")).json(&json!({"text": "other url"}))).await;
    assert_eq!(status, 200);
    let (status, _, _) = raw(c.http.get(&url)).await;
    assert_eq!(status, 200);
    // Another hook too.
    let j = create_hook(&admin, json!({})).await;
    ok(&hook(&c, &j, json!({"text": "other hook"})).await);

    // Switched off.
    let off = Server::start();
    let admin = off.admin().await;
    let k = create_hook(&admin, json!({})).await;
    for _ in 0..15 {
        let (status, headers, _) =
            raw(off.client().http.post(format!("{}{}", off.url, path(&k))).json(&json!({"text": "x"}))).await;
        assert_eq!(status, 200);
        assert!(headers.get("x-ratelimit-limit").is_none());
    }

    // Liftoff's own per-integration limit counts every client and URL.
    let own = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Hooks_Rate_Limit_Calls", "2"),
    ]);
    let admin = own.admin().await;
    let h = create_hook(&admin, json!({})).await;
    let base = format!("{}{}", own.url, path(&h));
    for (n, q) in ["?a", "?b"].iter().enumerate() {
        let (status, headers, _) = raw(own.client().http.post(format!("{base}{q}")).json(&json!({"text": "x"}))).await;
        assert_eq!(status, 200);
        assert_eq!(headers["x-ratelimit-remaining"], (1 - n).to_string().as_str());
    }
    let (status, _, body) = raw(own.client().http.post(format!("{base}?c")).json(&json!({"text": "x"}))).await;
    assert_eq!(status, 429, "{body}");
    let other = create_hook(&admin, json!({})).await;
    ok(&hook(&own.client(), &other, json!({"text": "x"})).await);
}
