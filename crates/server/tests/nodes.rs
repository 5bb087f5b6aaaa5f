//! Several nodes on one PostgreSQL database: first start together, tokens and changes seen by
//! every node within a second, incoming hooks through any node. Runs only when
//! `TEST_DATABASE_URL` is set (each test makes its own database).
mod common;
use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn two_nodes() -> Option<(Server, Server)> {
    match Server::start_nodes(2, &[("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")]) {
        Some(mut nodes) => {
            let b = nodes.pop().unwrap();
            let a = nodes.pop().unwrap();
            Some((a, b))
        }
        None => {
            eprintln!("TEST_DATABASE_URL is not set: skipping the multi-node test");
            None
        }
    }
}

/// Polls `check` for up to one second (the coherence promise), then asserts it once more.
async fn within_1s<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(check().await, "{what} not in force on the other node within 1 s");
}

#[tokio::test]
async fn concurrent_first_start_creates_everything_once() {
    let Some((a, b)) = two_nodes() else { return };
    let admin = a.admin().await;
    let (status, users) = admin.get("users.list", &[("count", "100")]).await;
    assert_eq!(status, 200, "{users}");
    let users = users["users"].as_array().unwrap().clone();
    let named = |n: &str| users.iter().filter(|u| u["username"] == n).count();
    assert_eq!(named(ADMIN_USER), 1, "{users:?}");
    assert_eq!(named("rocket.cat"), 1, "{users:?}");
    let admins = users.iter().filter(|u| u["roles"].as_array().is_some_and(|r| r.iter().any(|x| x == "admin"))).count();
    assert_eq!(admins, 1, "{users:?}");
    let (_, channels) = admin.get("channels.list", &[("count", "100")]).await;
    let general = channels["channels"].as_array().unwrap().iter().filter(|c| c["name"] == "general").count();
    assert_eq!(general, 1, "{channels}");
    // Both nodes answer with the same roles and permissions.
    let (_, pa) = admin.get("permissions.listAll", &[]).await;
    let (_, pb) = b.admin().await.get("permissions.listAll", &[]).await;
    let ids = |p: &Value| {
        let mut v: Vec<String> =
            p["update"].as_array().unwrap().iter().map(|x| x["_id"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    assert!(!ids(&pa).is_empty());
    assert_eq!(ids(&pa), ids(&pb));
    let mut sorted = ids(&pa);
    sorted.dedup();
    assert_eq!(sorted.len(), ids(&pa).len(), "a permission was created twice");
}

#[tokio::test]
async fn tokens_and_logout_work_across_nodes() {
    let Some((a, b)) = two_nodes() else { return };
    let on_a = a.admin().await;
    let mut on_b = b.client();
    on_b.auth = on_a.auth.clone();
    let (status, me) = on_b.get("me", &[]).await;
    assert_eq!(status, 200, "a token from node A works on node B: {me}");
    assert_eq!(me["username"], ADMIN_USER);
    let (status, _) = on_a.post("logout", json!({})).await;
    assert_eq!(status, 200);
    within_1s("logout", || async { on_b.get("me", &[]).await.0 == 401 }).await;
}

#[tokio::test]
async fn user_deletion_and_permission_changes_reach_the_other_node() {
    let Some((a, b)) = two_nodes() else { return };
    let admin_a = a.admin().await;
    let alice_b = b.user("alice").await;
    let alice_id = alice_b.user_id().to_owned();

    // Permission: users may not list integrations until node A grants them a manage permission.
    let list = |c: Client| async move { c.get("integrations.list", &[]).await.0 };
    assert_eq!(list(alice_b.clone()).await, 403);
    let (status, body) = admin_a
        .post(
            "permissions.update",
            json!({"permissions": [{"_id": "manage-incoming-integrations", "roles": ["admin", "user"]}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    within_1s("permissions.update", || list(alice_b.clone()).then_is(200)).await;

    // Deletion: alice's token stops working on node B.
    let (status, body) = admin_a.post("users.delete", json!({"userId": alice_id})).await;
    assert_eq!(status, 200, "{body}");
    within_1s("users.delete", || async { alice_b.get("me", &[]).await.0 == 401 }).await;
}

#[tokio::test]
async fn integrations_changed_on_one_node_are_in_force_on_the_other() {
    let Some((a, b)) = two_nodes() else { return };
    let admin_a = a.admin().await;
    let (status, created) = admin_a
        .post(
            "integrations.create",
            json!({"type": "webhook-incoming", "name": "h", "enabled": true, "username": "rocket.cat", "channel": "#general", "scriptEnabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let i = created["integration"].clone();
    let path = format!("/hooks/{}/{}", i["_id"].as_str().unwrap(), i["token"].as_str().unwrap());
    let via_b = b.client();
    // Created on A, posting through B (which may have cached the miss only if asked before).
    let (status, body) = via_b.post(&path, json!({"text": "through node B"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, page) = admin_a.get("channels.messages", &[("roomId", "GENERAL")]).await;
    assert!(page["messages"].as_array().unwrap().iter().any(|m| m["msg"] == "through node B"), "{page}");

    // Disabled on A: B refuses within a second.
    let (status, body) = admin_a
        .put(
            "integrations.update",
            json!({"type": "webhook-incoming", "integrationId": i["_id"], "name": "h", "enabled": false, "username": "rocket.cat", "channel": "#general", "scriptEnabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    within_1s("integrations.update (disable)", || {
        let c = via_b.clone();
        let p = path.clone();
        async move { c.post(&p, json!({"text": "x"})).await.0 != 200 }
    })
    .await;

    // Removed on A: B refuses within a second.
    let (status, created) = admin_a
        .post(
            "integrations.create",
            json!({"type": "webhook-incoming", "name": "h2", "enabled": true, "username": "rocket.cat", "channel": "#general", "scriptEnabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let j = created["integration"].clone();
    let path2 = format!("/hooks/{}/{}", j["_id"].as_str().unwrap(), j["token"].as_str().unwrap());
    assert_eq!(via_b.post(&path2, json!({"text": "ok"})).await.0, 200);
    let (status, body) =
        admin_a.post("integrations.remove", json!({"type": "webhook-incoming", "integrationId": j["_id"]})).await;
    assert_eq!(status, 200, "{body}");
    within_1s("integrations.remove", || {
        let c = via_b.clone();
        let p = path2.clone();
        async move { c.post(&p, json!({"text": "x"})).await.0 != 200 }
    })
    .await;
}

/// Names of the integrations whose name starts with "listed", as `integrations.list` on `c`
/// gives them (answered from the node's in-memory index).
async fn listed(c: &Client) -> Vec<String> {
    let (status, body) =
        c.get("integrations.list", &[("query", r#"{"name":{"$regex":"^listed","$options":"i"}}"#)]).await;
    assert_eq!(status, 200, "{body}");
    body["integrations"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn listings_follow_changes_made_on_the_other_node() {
    let Some((a, b)) = two_nodes() else { return };
    let (admin_a, admin_b) = (a.admin().await, b.admin().await);
    // B lists first, so its index is loaded before A changes anything.
    assert!(listed(&admin_b).await.is_empty());
    let incoming = |name: &str, id: Option<&Value>| {
        let mut body = json!({"type": "webhook-incoming", "name": name, "enabled": true, "username": "rocket.cat", "channel": "#general", "scriptEnabled": false});
        if let Some(id) = id {
            body["integrationId"] = id.clone();
        }
        body
    };
    let (status, created) = admin_a.post("integrations.create", incoming("Listed one", None)).await;
    assert_eq!(status, 200, "{created}");
    let id = created["integration"]["_id"].clone();
    within_1s("integrations.create in listings", || async { listed(&admin_b).await == ["Listed one"] }).await;
    let (status, body) = admin_a.put("integrations.update", incoming("Listed two", Some(&id))).await;
    assert_eq!(status, 200, "{body}");
    within_1s("integrations.update in listings", || async { listed(&admin_b).await == ["Listed two"] }).await;
    let (status, page) = admin_b.get("channels.getIntegrations", &[("roomName", "general")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page["integrations"].as_array().unwrap().iter().any(|i| i["_id"] == id), "{page}");
    let (status, body) =
        admin_a.post("integrations.remove", json!({"type": "webhook-incoming", "integrationId": id})).await;
    assert_eq!(status, 200, "{body}");
    within_1s("integrations.remove in listings", || async { listed(&admin_b).await.is_empty() }).await;
}

/// `future.then_is(status)`: whether the status a request future yields is `status`.
trait ThenIs {
    fn then_is(self, status: u16) -> impl std::future::Future<Output = bool>;
}

impl<F: std::future::Future<Output = reqwest::StatusCode>> ThenIs for F {
    async fn then_is(self, status: u16) -> bool {
        self.await.as_u16() == status
    }
}
