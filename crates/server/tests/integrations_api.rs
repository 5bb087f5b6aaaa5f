//! The integrations management API, against the real binary.

mod common;
use common::*;
use serde_json::{Value, json};

fn incoming(name: &str, channel: &str) -> Value {
    json!({"type": "webhook-incoming", "name": name, "enabled": true, "username": "rocket.cat",
           "channel": channel, "scriptEnabled": false})
}

fn outgoing(name: &str, channel: &str) -> Value {
    json!({"type": "webhook-outgoing", "name": name, "enabled": true, "username": "rocket.cat", "event": "sendMessage",
           "channel": channel, "urls": ["http://example.com/hook"], "scriptEnabled": false, "token": "tok"})
}

async fn grant(admin: &Client, permission: &str, roles: &[&str]) {
    let (status, body) =
        admin.post("permissions.update", json!({"permissions": [{"_id": permission, "roles": roles}]})).await;
    assert_eq!(status, 200, "{body}");
}

async fn create(c: &Client, body: Value) -> Value {
    let (status, resp) = c.post("integrations.create", body).await;
    assert_eq!(status, 200, "{resp}");
    resp["integration"].clone()
}

#[tokio::test]
async fn create_incoming_and_outgoing() {
    let server = Server::start();
    let admin = server.admin().await;

    let mut body = incoming("In", "#general, @admin");
    body["alias"] = json!("CI");
    let i = create(&admin, body).await;
    assert_eq!(i["_id"].as_str().unwrap().len(), 24);
    assert_eq!(i["type"], "webhook-incoming");
    assert_eq!(i["channel"], json!(["#general", "@admin"]));
    assert_eq!(i["token"].as_str().unwrap().len(), 48);
    assert!(i["token"].as_str().unwrap().chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(i["userId"], "rocket.cat");
    assert_eq!(i["scriptEngine"], "isolated-vm");
    assert_eq!(i["overrideDestinationChannelEnabled"], false);
    assert_eq!(i["_createdBy"], json!({"_id": admin.user_id(), "username": ADMIN_USER}));
    assert!(i["_createdAt"].is_string() && i["_updatedAt"].is_string());
    assert_eq!(i["alias"], "CI");

    // the post-as user is given the bot role
    let alice = server.user("alice").await;
    create(&admin, json!({"type": "webhook-incoming", "name": "as alice", "enabled": true, "username": "alice", "channel": "#general", "scriptEnabled": false})).await;
    let (_, info) = admin.get("users.info", &[("username", "alice")]).await;
    assert!(info["user"]["roles"].as_array().unwrap().contains(&json!("bot")), "{info}");
    drop(alice);

    let o = create(&admin, json!({"type": "webhook-outgoing", "name": "Out", "enabled": true, "username": "rocket.cat",
        "event": "sendMessage", "channel": "#general", "urls": ["http://a.example/x", " "], "triggerWords": ["!go", " "],
        "scriptEnabled": false, "retryFailedCalls": true, "runOnEdits": false})).await;
    assert_eq!(o["type"], "webhook-outgoing");
    assert_eq!(o["urls"], json!(["http://a.example/x"]));
    assert_eq!(o["triggerWords"], json!(["!go"]));
    assert_eq!(o["retryCount"], 4);
    assert_eq!(o["retryDelay"], "powers-of-ten");
    assert!(o.get("token").is_none(), "outgoing tokens are never generated: {o}");

    let o2 = create(&admin, json!({"type": "webhook-outgoing", "name": "Joined", "enabled": true, "username": "rocket.cat",
        "event": "roomCreated", "channel": "#general", "urls": ["http://a.example/x"], "triggerWords": ["x"], "scriptEnabled": false})).await;
    assert_eq!(o2["channel"], json!([]), "events without channels store none");
    assert!(o2.get("triggerWords").is_none());
}

#[tokio::test]
async fn create_errors() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;

    let mut bad_type = incoming("x", "#general");
    bad_type["type"] = json!("webhook-incoming-invalid");
    assert_failure(&admin.post("integrations.create", bad_type).await, "Invalid integration type.", None);

    let r = alice.post("integrations.create", incoming("x", "#general")).await;
    assert_failure(&r, "Unauthorized [not_authorized]", Some("not_authorized"));
    assert_eq!(r.1["details"], json!({"method": "addIncomingIntegration"}));
    assert_failure(
        &alice.post("integrations.create", outgoing("x", "#general")).await,
        "[not_authorized]",
        Some("not_authorized"),
    );

    let r = admin.post("integrations.create", json!({"type": "webhook-incoming", "name": "x"})).await;
    assert_eq!(r.0, 400);
    assert_eq!(r.1["errorType"], "error-invalid-params");
    assert!(r.1["error"].as_str().unwrap().contains("must match exactly one schema in oneOf"), "{}", r.1);
    let mut extra = incoming("x", "#general");
    extra["bogus"] = json!(1);
    assert!(
        admin.post("integrations.create", extra).await.1["error"]
            .as_str()
            .unwrap()
            .contains("must NOT have additional properties")
    );

    let cases = [
        (incoming("x", "  "), "Invalid channel [error-invalid-channel]"),
        (incoming("x", "general"), "Invalid channel. Start with @ or # [error-invalid-channel-start-with-chars]"),
        (incoming("x", "#nope"), "Invalid room [error-invalid-room]"),
        (
            json!({"type": "webhook-incoming", "name": "x", "enabled": true, "username": "ghost", "channel": "#general", "scriptEnabled": false}),
            "Invalid user [error-invalid-user]",
        ),
        (
            json!({"type": "webhook-incoming", "name": "x", "enabled": true, "username": "", "channel": "#general", "scriptEnabled": false}),
            "Invalid username [error-invalid-username]",
        ),
    ];
    for (body, error) in cases {
        let r = admin.post("integrations.create", body).await;
        assert_eq!(r.0, 400, "{}", r.1);
        assert_eq!(r.1["error"], error);
    }
    let mut o = outgoing("x", "#general");
    o["event"] = json!("nope");
    let r = admin.post("integrations.create", o).await;
    assert_failure(&r, "Invalid event type [error-invalid-event-type]", Some("error-invalid-event-type"));
    assert!(r.1["details"]["function"].as_str().unwrap().starts_with("validateOutgoing"));
    let mut o = outgoing("x", "#general");
    o["urls"] = json!([]);
    assert_failure(
        &admin.post("integrations.create", o).await,
        "Invalid URLs [error-invalid-urls]",
        Some("error-invalid-urls"),
    );
    let mut o = outgoing("x", "#general");
    o["event"] = json!("userCreated");
    assert_failure(
        &admin.post("integrations.create", o).await,
        "Invalid Target Room [error-invalid-targetRoom]",
        Some("error-invalid-targetRoom"),
    );
    assert_failure(
        &admin.post("integrations.create", outgoing("x", "general")).await,
        "Invalid Channel. Start with @ or # [error-invalid-channel-start-with-chars]",
        Some("error-invalid-channel-start-with-chars"),
    );

    // "own" permission only: must be subscribed to the target
    grant(&admin, "manage-own-incoming-integrations", &["admin", "user"]).await;
    admin.post("channels.create", json!({"name": "private-club"})).await;
    assert_failure(
        &alice.post("integrations.create", incoming("x", "#private-club")).await,
        "Invalid Channel [error-invalid-channel]",
        Some("error-invalid-channel"),
    );
    create(&alice, incoming("mine", "#general")).await;
}

#[tokio::test]
async fn scripts_are_compiled_on_save() {
    let server = Server::start();
    let admin = server.admin().await;
    let mut ok = incoming("ok", "#general");
    ok["scriptEnabled"] = json!(true);
    ok["script"] =
        json!("class Script { process_incoming_request({ request }) { return { content: { text: 'x' } }; } }");
    let i = create(&admin, ok).await;
    assert!(i["scriptCompiled"].as_str().unwrap().contains("class Script"));
    assert!(i.get("scriptError").is_none());

    let mut bad = incoming("bad", "#general");
    bad["scriptEnabled"] = json!(true);
    bad["script"] = json!("class Script { process_incoming_request( { ");
    let b = create(&admin, bad).await;
    assert!(b.get("scriptCompiled").is_none(), "{b}");
    assert_eq!(b["scriptError"]["name"], "SyntaxError");
    assert!(b["scriptError"]["message"].is_string());

    // fixing it through update replaces the error by the compiled script
    let id = b["_id"].as_str().unwrap();
    let (status, upd) = admin
        .put(
            "integrations.update",
            json!({"type": "webhook-incoming", "integrationId": id, "name": "bad",
        "enabled": true, "channel": "#general", "scriptEnabled": true, "script": "class Script {}"}),
        )
        .await;
    assert_eq!(status, 200, "{upd}");
    assert!(upd["integration"].get("scriptError").is_none());
    assert_eq!(upd["integration"]["scriptCompiled"], "class Script {}");
}

#[tokio::test]
async fn get_update_remove() {
    let server = Server::start();
    let admin = server.admin().await;
    let i = create(&admin, incoming("In", "#general")).await;
    let id = i["_id"].as_str().unwrap().to_owned();

    let (status, got) = admin.get("integrations.get", &[("integrationId", &id)]).await;
    assert_eq!(status, 200);
    assert_eq!(got["integration"], i);
    let r = admin.get("integrations.get", &[]).await;
    assert_failure(&r, "must have required property 'integrationId'", Some("error-invalid-params"));
    assert_failure(
        &admin.get("integrations.get", &[("integrationId", "")]).await,
        "The query parameter \"integrationId\" is required.",
        None,
    );
    assert_failure(
        &admin.get("integrations.get", &[("integrationId", "nope")]).await,
        "The integration does not exists.",
        None,
    );
    assert_failure(
        &admin.get("integrations.get", &[("integrationId", &id), ("createdBy", "someone-else")]).await,
        "The integration does not exists.",
        None,
    );

    grant(&admin, "manage-own-incoming-integrations", &["admin", "user"]).await;
    let alice = server.user("alice").await;
    assert_failure(&alice.get("integrations.get", &[("integrationId", &id)]).await, "not-authorized", None);

    // update incoming: token never changes; _updatedBy set
    let (status, upd) = admin
        .put(
            "integrations.update",
            json!({"type": "webhook-incoming", "integrationId": id, "name": "Renamed",
        "enabled": false, "channel": "#general", "scriptEnabled": false, "alias": "A"}),
        )
        .await;
    assert_eq!(status, 200, "{upd}");
    let u = &upd["integration"];
    assert_eq!(
        (u["name"].clone(), u["enabled"].clone(), u["alias"].clone()),
        (json!("Renamed"), json!(false), json!("A"))
    );
    assert_eq!(u["token"], i["token"]);
    assert_eq!(u["_updatedBy"]["_id"], admin.user_id());
    assert_failure(
        &admin.put("integrations.update", json!({"type": "webhook-incoming", "integrationId": "nope", "name": "x", "enabled": true, "channel": "#general", "scriptEnabled": false})).await,
        "No integration found.",
        None,
    );

    // outgoing: update needs the token; lookup by target_url
    let o = create(&admin, outgoing("Out", "#general")).await;
    let oid = o["_id"].as_str().unwrap().to_owned();
    let mut upd = outgoing("Out2", "#general");
    upd["integrationId"] = json!(oid);
    upd["token"] = json!("");
    assert_failure(
        &admin.put("integrations.update", upd.clone()).await,
        "Invalid token [error-invalid-token]",
        Some("error-invalid-token"),
    );
    upd.as_object_mut().unwrap().remove("integrationId");
    upd["target_url"] = json!("http://example.com/hook");
    upd["token"] = json!("new-token");
    let (status, body) = admin.put("integrations.update", upd).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["integration"]["name"], "Out2");
    assert_eq!(body["integration"]["token"], "new-token");

    // remove
    let r = admin.post("integrations.remove", json!({"type": "webhook-nothing", "integrationId": id})).await;
    assert_eq!(r.0, 400);
    assert!(r.1["error"].as_str().unwrap().contains("must match exactly one schema in oneOf"));
    let r = admin
        .post("integrations.remove", json!({"type": "webhook-outgoing", "integrationId": oid, "target_url": "x"}))
        .await;
    assert!(
        r.1["error"].as_str().unwrap().contains("must match exactly one schema in oneOf"),
        "both keys match two branches"
    );
    assert_failure(
        &admin.post("integrations.remove", json!({"type": "webhook-incoming", "integrationId": "nope"})).await,
        "No integration found.",
        None,
    );
    let r = alice.post("integrations.remove", json!({"type": "webhook-incoming", "integrationId": id})).await;
    assert_failure(&r, "Invalid integration [error-invalid-integration]", Some("error-invalid-integration"));
    let (status, removed) =
        admin.post("integrations.remove", json!({"type": "webhook-incoming", "integrationId": id})).await;
    assert_eq!(status, 200);
    assert_eq!(removed["integration"]["_id"], id.as_str());
    assert_failure(
        &admin.get("integrations.get", &[("integrationId", &id)]).await,
        "The integration does not exists.",
        None,
    );
    let (status, _) = admin
        .post("integrations.remove", json!({"type": "webhook-outgoing", "target_url": "http://example.com/hook"}))
        .await;
    assert_eq!(status, 200);
    grant(&admin, "manage-own-incoming-integrations", &["admin"]).await;
    let r = server
        .user("bob")
        .await
        .post("integrations.remove", json!({"type": "webhook-incoming", "integrationId": "x"}))
        .await;
    assert_eq!(r.0, 403, "bob has none of the four permissions");
}

fn names(body: &Value) -> Vec<String> {
    body["integrations"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn list_scoping_by_permission() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    for p in ["manage-own-incoming-integrations", "manage-own-outgoing-integrations"] {
        grant(&admin, p, &["admin", "user"]).await;
    }
    create(&alice, incoming("alice-in", "#general")).await;
    create(&alice, outgoing("alice-out", "#general")).await;
    create(&bob, incoming("bob-in", "#general")).await;
    create(&bob, outgoing("bob-out", "#general")).await;
    create(&admin, incoming("admin-in", "#general")).await;

    let (_, all) = admin.get("integrations.list", &[]).await;
    assert_eq!(names(&all), ["alice-in", "alice-out", "bob-in", "bob-out", "admin-in"]);
    assert_eq!(
        (all["total"].clone(), all["items"].clone(), all["count"].clone(), all["offset"].clone()),
        (json!(5), json!(5), json!(5), json!(0))
    );

    let (_, own) = alice.get("integrations.list", &[]).await;
    assert_eq!(names(&own), ["alice-in", "alice-out"]);

    // own incoming only
    grant(&admin, "manage-own-outgoing-integrations", &["admin"]).await;
    let (_, own_in) = alice.get("integrations.list", &[]).await;
    assert_eq!(names(&own_in), ["alice-in"]);
    // hostile queries cannot widen the scope
    for q in [
        r#"{"$or":[{"_createdBy._id":{"$ne":"x"}},{"type":"webhook-outgoing"}]}"#,
        r#"{"_createdBy._id":{"$ne":"nobody"}}"#,
        r#"{"$or":[{"name":{"$regex":"."}}]}"#,
        r#"{"$nor":[{"_createdBy._id":"x"}]}"#,
    ] {
        let (status, body) = alice.get("integrations.list", &[("query", q)]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(names(&body), ["alice-in"], "query {q} must only narrow");
    }
    let (status, body) = alice.get("integrations.list", &[("query", r#"{"$where":"1"}"#)]).await;
    assert_eq!(status, 400);
    assert_eq!(body["errorType"], "error-invalid-query");
    assert!(body["error"].as_str().unwrap().contains("$where"), "{body}");

    // all incoming + own outgoing
    grant(&admin, "manage-incoming-integrations", &["admin", "user"]).await;
    grant(&admin, "manage-own-outgoing-integrations", &["admin", "user"]).await;
    grant(&admin, "manage-own-incoming-integrations", &["admin"]).await;
    let (_, mixed) = alice.get("integrations.list", &[]).await;
    assert_eq!(names(&mixed), ["alice-in", "alice-out", "bob-in", "admin-in"]);

    // nothing at all: 403
    for p in ["manage-incoming-integrations", "manage-own-outgoing-integrations"] {
        grant(&admin, p, &["admin"]).await;
    }
    let (status, body) = alice.get("integrations.list", &[]).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "User does not have the permissions required for this action [error-unauthorized]");
}

#[tokio::test]
async fn list_parameters() {
    let server = Server::start();
    let admin = server.admin().await;
    for i in 0..120 {
        let body = if i % 3 == 0 {
            outgoing(&format!("Hook {i:03}"), "#general")
        } else {
            incoming(&format!("hook {i:03}"), "#general")
        };
        create(&admin, body).await;
    }
    // default 50, clamp at 100, count=0 = all, disjoint pages
    let (_, first) = admin.get("integrations.list", &[]).await;
    assert_eq!((first["count"].clone(), first["total"].clone()), (json!(50), json!(120)));
    let (_, big) = admin.get("integrations.list", &[("count", "1000")]).await;
    assert_eq!(big["count"], 100);
    let (_, all) = admin.get("integrations.list", &[("count", "0")]).await;
    assert_eq!(all["count"], 120);
    let (_, p2) = admin.get("integrations.list", &[("count", "50"), ("offset", "50")]).await;
    let a: std::collections::HashSet<_> =
        first["integrations"].as_array().unwrap().iter().map(|i| i["_id"].clone()).collect();
    assert!(p2["integrations"].as_array().unwrap().iter().all(|i| !a.contains(&i["_id"])));
    assert_eq!(p2["offset"], 50);
    let r = admin.get("integrations.list", &[("count", "-1")]).await;
    assert_eq!((r.0.as_u16(), r.1["errorType"].clone()), (400, json!("error-invalid-params")));
    let r = admin.get("integrations.list", &[("bogus", "1")]).await;
    assert_eq!((r.0.as_u16(), r.1["errorType"].clone()), (400, json!("error-invalid-params")));

    // name (case-insensitive substring, regex characters literal), type
    let (_, named) = admin.get("integrations.list", &[("name", "HOOK 00"), ("count", "0")]).await;
    assert_eq!(named["total"], 10);
    let (_, none) = admin.get("integrations.list", &[("name", ".*")]).await;
    assert_eq!(none["total"], 0);
    let (_, typed) = admin.get("integrations.list", &[("type", "webhook-outgoing"), ("count", "0")]).await;
    assert_eq!(typed["total"], 40);

    // sort
    let (_, sorted) = admin.get("integrations.list", &[("sort", r#"{"name":-1}"#), ("count", "3")]).await;
    assert_eq!(names(&sorted), ["hook 119", "hook 118", "hook 116"]);
    let (_, by_type) = admin.get("integrations.list", &[("sort", r#"{"type":1,"name":1}"#), ("count", "1")]).await;
    assert_eq!(names(&by_type), ["hook 001"]);
    let r = admin.get("integrations.list", &[("sort", r#"{"name":2}"#)]).await;
    assert_failure(
        &r,
        r#"Invalid sort parameter provided: "{"name":2}" [error-invalid-sort]"#,
        Some("error-invalid-sort"),
    );

    // fields
    let (_, projected) = admin.get("integrations.list", &[("fields", r#"{"name":1}"#), ("count", "1")]).await;
    let keys: Vec<&String> = projected["integrations"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["_id", "name"]);
    let r = admin.get("integrations.list", &[("fields", r#"{"name":"x"}"#)]).await;
    assert_failure(
        &r,
        r#"Invalid fields parameter provided: "{"name":"x"}" [error-invalid-fields]"#,
        Some("error-invalid-fields"),
    );

    // query
    let (_, q) = admin
        .get("integrations.list", &[("query", r#"{"name":{"$regex":"^HOOK 01","$options":"i"}}"#), ("count", "0")])
        .await;
    assert_eq!(q["total"], 10);
    let (_, q) =
        admin.get("integrations.list", &[("query", r#"{"$or":[{"name":"hook 001"},{"name":"Hook 003"}]}"#)]).await;
    assert_eq!(names(&q), ["hook 001", "Hook 003"]);
    let (_, q) = admin.get("integrations.list", &[("query", r#"{"token":{"$exists":false}}"#), ("count", "0")]).await;
    assert_eq!(q["total"], 0, "every integration has a token here (outgoing ones were given one)");
    let r = admin.get("integrations.list", &[("query", "{bad json")]).await;
    assert_failure(
        &r,
        r#"Invalid query parameter provided: "{bad json" [error-invalid-query]"#,
        Some("error-invalid-query"),
    );
}

#[tokio::test]
async fn query_and_fields_can_be_switched_off() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_API_Allow_Query_And_Fields", "false"),
    ]);
    let admin = server.admin().await;
    create(&admin, incoming("a", "#general")).await;
    create(&admin, incoming("b", "#general")).await;
    let (status, body) =
        admin.get("integrations.list", &[("query", r#"{"name":"a"}"#), ("fields", r#"{"name":1}"#)]).await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 2, "ignored, as Rocket.Chat 7 does");
    assert!(body["integrations"][0].get("token").is_some());
}

#[tokio::test]
async fn room_integration_listings() {
    let server = Server::start();
    let admin = server.admin().await;
    admin.post("channels.create", json!({"name": "ops"})).await;
    let (_, g) = admin.post("groups.create", json!({"name": "secret-ops"})).await;
    let gid = g["group"]["_id"].as_str().unwrap().to_owned();
    create(&admin, incoming("to-ops", "#ops")).await;
    create(&admin, outgoing("all-public", "all_public_channels")).await;
    create(&admin, incoming("to-general", "#general")).await;
    create(&admin, incoming("to-group", "#secret-ops")).await;
    create(&admin, outgoing("all-private", "all_private_groups")).await;

    let (status, body) =
        admin.get("channels.getIntegrations", &[("roomName", "ops"), ("offset", "0"), ("count", "50")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(&body), ["to-ops", "all-public"]);
    assert!(body.get("items").is_none());
    assert_eq!(body["total"], 2);
    let (_, only) =
        admin.get("channels.getIntegrations", &[("roomName", "ops"), ("includeAllPublicChannels", "")]).await;
    assert_eq!(names(&only), ["to-ops"], "present but not \"true\" means false");
    let (_, sorted) =
        admin.get("channels.getIntegrations", &[("roomName", "ops"), ("sort", r#"{"_createdAt":-1}"#)]).await;
    assert_eq!(names(&sorted), ["all-public", "to-ops"]);
    let not_found =
        "The required \"roomId\" or \"roomName\" param provided does not match any channel [error-room-not-found]";
    assert_failure(&admin.get("channels.getIntegrations", &[]).await, not_found, Some("error-room-not-found"));
    assert_failure(
        &admin.get("channels.getIntegrations", &[("roomId", "")]).await,
        not_found,
        Some("error-room-not-found"),
    );
    assert_failure(
        &admin.get("channels.getIntegrations", &[("roomId", &gid)]).await,
        not_found,
        Some("error-room-not-found"),
    );

    let (status, body) = admin.get("groups.getIntegrations", &[("roomId", &gid)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(&body), ["to-group", "all-private"]);
    let (_, only) = admin.get("groups.getIntegrations", &[("roomId", &gid), ("includeAllPrivateGroups", "")]).await;
    assert_eq!(names(&only), ["to-group", "all-private"], "an empty value keeps the default");
    let (_, only) =
        admin.get("groups.getIntegrations", &[("roomId", &gid), ("includeAllPrivateGroups", "false")]).await;
    assert_eq!(names(&only), ["to-group"]);
    assert_failure(
        &admin.get("groups.getIntegrations", &[]).await,
        "The parameter \"roomId\" or \"roomName\" is required [error-room-param-not-provided]",
        Some("error-room-param-not-provided"),
    );
    let group_not_found =
        "The required \"roomId\" or \"roomName\" param provided does not match any group [error-room-not-found]";
    assert_failure(
        &admin.get("groups.getIntegrations", &[("roomName", "ops")]).await,
        group_not_found,
        Some("error-room-not-found"),
    );

    // a user who may manage integrations but is not in the group does not see it
    grant(&admin, "manage-own-incoming-integrations", &["admin", "user"]).await;
    let alice = server.user("alice").await;
    assert_failure(
        &alice.get("groups.getIntegrations", &[("roomId", &gid)]).await,
        group_not_found,
        Some("error-room-not-found"),
    );
    let (_, mine) = alice.get("channels.getIntegrations", &[("roomName", "ops")]).await;
    assert_eq!(mine["total"], 0, "scoped to her own integrations");
    let bob = server.user("bob").await;
    assert_eq!(
        bob.get("channels.getIntegrations", &[("roomName", "ops")]).await.0,
        200,
        "bob holds the own-incoming permission through `user`"
    );
    grant(&admin, "manage-own-incoming-integrations", &["admin"]).await;
    assert_eq!(bob.get("channels.getIntegrations", &[("roomName", "ops")]).await.0, 403);
}

#[tokio::test]
async fn history_endpoint() {
    let server = Server::start();
    let admin = server.admin().await;
    let o = create(&admin, outgoing("Out", "#general")).await;
    let id = o["_id"].as_str().unwrap();
    let (status, body) = admin.get("integrations.history", &[("id", id)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["history"], json!([]));
    assert_eq!((body["total"].clone(), body["items"].clone()), (json!(0), json!(0)));
    let r = admin.get("integrations.history", &[]).await;
    assert_failure(&r, "must have required property 'id'", Some("error-invalid-params"));
    assert_failure(&admin.get("integrations.history", &[("id", " ")]).await, "Invalid integration id.", None);
    let alice = server.user("alice").await;
    assert_eq!(alice.get("integrations.history", &[("id", id)]).await.0, 403);

    let (status, _) = admin.post("integrations.clearHistory", json!({"integrationId": id})).await;
    assert_eq!(status, 200);
    assert_failure(
        &admin.post("integrations.clearHistory", json!({"integrationId": "nope"})).await,
        "Invalid integration [error-invalid-integration]",
        Some("error-invalid-integration"),
    );
    let r = alice.post("integrations.clearHistory", json!({"integrationId": id})).await;
    assert_eq!((r.0.as_u16(), r.1["errorType"].clone()), (400, json!("not_authorized")));
}
