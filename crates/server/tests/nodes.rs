//! Several nodes on one PostgreSQL database: first start together, tokens and changes seen by
//! every node within a second, incoming hooks through any node, outgoing deliveries made once
//! whichever node enqueued them, and finished by the survivor when a node dies. Runs only when
//! `TEST_DATABASE_URL` is set (each test makes its own database).
mod common;
use common::receiver::{Receiver, Reply};
use common::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn two_nodes() -> Option<(Server, Server)> {
    two_nodes_with(&[])
}

fn two_nodes_with(extra: &[(&str, &str)]) -> Option<(Server, Server)> {
    let mut env = vec![("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")];
    env.extend_from_slice(extra);
    match Server::start_nodes(2, &env) {
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

/// Outgoing webhooks may call the loopback receiver; retries come after 1% of Rocket.Chat's delays.
const OUTGOING: &[(&str, &str)] = &[
    ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
    ("OVERWRITE_SETTING_Integrations_Outgoing_Retry_Delay_Percent", "1"),
];

async fn create_outgoing(admin: &Client, url: &str, trigger: &str) -> String {
    let (status, created) = admin
        .post(
            "integrations.create",
            json!({"type": "webhook-outgoing", "name": trigger, "enabled": true, "username": "rocket.cat",
                   "event": "sendMessage", "channel": "#general", "urls": [url], "triggerWords": [trigger],
                   "scriptEnabled": false, "retryFailedCalls": true, "retryCount": 5,
                   "retryDelay": "increments-of-two"}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    created["integration"]["_id"].as_str().unwrap().to_owned()
}

/// Posts `count` messages "<trigger> <i>" to #general at once, through each client in turn.
async fn post_through(clients: &[&Client], trigger: &str, count: usize) {
    post_to(clients, "GENERAL", trigger, count).await;
}

/// Posts `count` messages "<prefix> <i>" to room `rid` at once, through each client in turn;
/// returns their ids.
async fn post_to(clients: &[&Client], rid: &str, prefix: &str, count: usize) -> Vec<String> {
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..count {
        let via = clients[i % clients.len()].clone();
        let body = json!({"roomId": rid, "text": format!("{prefix} {i}")});
        posts.spawn(async move {
            let (status, body) = via.post("chat.postMessage", body).await;
            assert_eq!(status, 200, "{body}");
            body["message"]["_id"].as_str().unwrap().to_owned()
        });
    }
    let mut ids = Vec::with_capacity(count);
    while let Some(done) = posts.join_next().await {
        ids.push(done.unwrap());
    }
    ids
}

/// `msgs`, `lm` and `lastMessage` of room `rid` as `channels.info` and `rooms.info` on `c` give them
/// (asserted equal), with the stored messages of the room.
async fn counters_and_messages(c: &Client, rid: &str) -> (i64, Value, Value, Vec<Value>) {
    let (status, info) = c.get("channels.info", &[("roomId", rid)]).await;
    assert_eq!(status, 200, "{info}");
    let (status, room) = c.get("rooms.info", &[("roomId", rid)]).await;
    assert_eq!(status, 200, "{room}");
    let (ch, room) = (&info["channel"], &room["room"]);
    for key in ["msgs", "lm", "lastMessage"] {
        assert_eq!(ch[key], room[key], "{key}: channels.info and rooms.info differ");
    }
    let (status, page) = c.get("channels.messages", &[("roomId", rid), ("count", "0")]).await;
    assert_eq!(status, 200, "{page}");
    (
        ch["msgs"].as_i64().unwrap(),
        ch["lm"].clone(),
        ch["lastMessage"].clone(),
        page["messages"].as_array().unwrap().clone(),
    )
}

/// Asserts on both nodes that room `rid` counts `msgs` messages, one for each stored message, and
/// that its `lastMessage` is the latest stored one, `lm` its time.
async fn assert_counters(nodes: &[&Client], rid: &str, msgs: i64) {
    for c in nodes {
        let (counted, lm, last, stored) = counters_and_messages(c, rid).await;
        assert_eq!(counted, msgs, "msgs");
        assert_eq!(stored.len() as i64, msgs, "one stored message per counted one");
        let latest = stored.iter().map(|m| m["ts"].as_str().unwrap()).max().unwrap();
        assert_eq!(last["ts"], latest, "lastMessage is the latest message: {last}");
        assert!(stored.iter().any(|m| m["_id"] == last["_id"] && m["msg"] == last["msg"]), "{last}");
        assert_eq!(lm, last["ts"], "lm is the time of the last message");
    }
}

#[tokio::test]
async fn room_counters_stay_right_when_both_nodes_post_and_delete_at_once() {
    let Some((a, b)) = two_nodes() else { return };
    let admin_a = a.admin().await;
    let mut admin_b = b.client();
    admin_b.auth = admin_a.auth.clone();
    let (status, created) = admin_a.post("channels.create", json!({"name": "counted"})).await;
    assert_eq!(status, 200, "{created}");
    let rid = created["channel"]["_id"].as_str().unwrap().to_owned();
    let (initial, ..) = counters_and_messages(&admin_a, &rid).await;

    // Both nodes commit batches to the room at once, while a member joins (its system message
    // written alone) and the room's topic changes (the room rewritten, with a system message).
    let alice = b.user("alice").await;
    let both = [&admin_a, &admin_b];
    let (posted, joined, topic) = tokio::join!(
        post_to(&both, &rid, "counted", 400),
        alice.post("channels.join", json!({"roomId": rid})),
        admin_a.post("channels.setTopic", json!({"roomId": rid, "topic": "counting"}))
    );
    assert_eq!(joined.0, 200, "{}", joined.1);
    assert_eq!(topic.0, 200, "{}", topic.1);
    let (with_join, ..) = counters_and_messages(&admin_b, &rid).await;
    assert_eq!(with_join, initial + 402, "400 messages, the join and the topic change");
    assert_counters(&[&admin_a, &admin_b], &rid, with_join).await;

    // Deletions through both nodes at once take one each off the count (the oldest messages,
    // so the last one stays).
    let (.., stored) = counters_and_messages(&admin_a, &rid).await;
    assert!(posted.iter().all(|id| stored.iter().any(|m| m["_id"] == id.as_str())), "every post is stored");
    let mut oldest: Vec<&Value> = stored.iter().filter(|m| m["msg"].as_str().unwrap().starts_with("counted")).collect();
    oldest.sort_by_key(|m| m["ts"].as_str().unwrap().to_owned());
    let mut deletions = tokio::task::JoinSet::new();
    for (i, m) in oldest.iter().take(50).enumerate() {
        let via = if i % 2 == 0 { admin_a.clone() } else { admin_b.clone() };
        let body = json!({"roomId": rid, "msgId": m["_id"]});
        deletions.spawn(async move { via.post("chat.delete", body).await });
    }
    while let Some(done) = deletions.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let after_delete = with_join - 50;
    assert_counters(&[&admin_a, &admin_b], &rid, after_delete).await;

    // One more through each node: counted, and the latest of them is the last message.
    post_to(&[&admin_b, &admin_a], &rid, "after", 2).await;
    assert_counters(&[&admin_a, &admin_b], &rid, after_delete + 2).await;
}

/// How many hits each message text got.
fn hits_per_text(hits: &[common::receiver::Hit]) -> HashMap<String, usize> {
    let mut per = HashMap::new();
    for h in hits {
        *per.entry(h.body["text"].as_str().unwrap_or_default().to_owned()).or_insert(0) += 1;
    }
    per
}

#[tokio::test]
async fn deliveries_enqueued_through_both_nodes_arrive_exactly_once() {
    let Some((a, b)) = two_nodes_with(OUTGOING) else { return };
    let rx = Receiver::start().await;
    let admin_a = a.admin().await;
    create_outgoing(&admin_a, &rx.url("/once"), "ping").await;
    // Node B knows the new integration within a second (the coherence promise).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut admin_b = b.client();
    admin_b.auth = admin_a.auth.clone();

    post_through(&[&admin_a, &admin_b], "ping", 200).await;
    rx.wait("/once", 200, Duration::from_secs(60)).await;
    // Anything delivered twice would arrive within this.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = rx.hits("/once");
    let per = hits_per_text(&hits);
    for i in 0..200 {
        assert_eq!(per.get(&format!("ping {i}")), Some(&1), "ping {i}");
    }
    assert_eq!(hits.len(), 200);
    let ids: std::collections::HashSet<&str> = hits.iter().map(|h| h.body["message_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 200, "one delivery per message");
}

/// Every history record of an integration, a page at a time.
async fn all_history(admin: &Client, integration: &str) -> Vec<Value> {
    let mut records = Vec::new();
    loop {
        let offset = records.len().to_string();
        let (status, page) =
            admin.get("integrations.history", &[("id", integration), ("count", "100"), ("offset", &offset)]).await;
        assert_eq!(status, 200, "{page}");
        let found = page["history"].as_array().unwrap();
        records.extend(found.iter().cloned());
        if found.is_empty() || records.len() as u64 >= page["total"].as_u64().unwrap() {
            return records;
        }
    }
}

#[tokio::test]
async fn a_killed_node_leaves_its_pending_deliveries_to_the_other() {
    let mut env = OUTGOING.to_vec();
    env.extend([
        ("OVERWRITE_SETTING_Integrations_Outgoing_Claim_Lease", "3000"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Timeout", "1000"),
    ]);
    let Some((mut a, b)) = two_nodes_with(&env) else { return };
    let rx = Receiver::start().await;
    // Each delivery fails twice, slowly, before it goes through: attempts are in flight and
    // retries pending when node A dies.
    rx.fail_first_attempts("/flaky", 2, Reply::text(503, "busy").after(Duration::from_millis(200)));
    let admin_a = a.admin().await;
    let integration = create_outgoing(&admin_a, &rx.url("/flaky"), "flaky").await;
    const COUNT: usize = 40;
    post_through(&[&admin_a], "flaky", COUNT).await;
    rx.wait("/flaky", COUNT / 2, Duration::from_secs(30)).await;
    a.kill9();

    let start = Instant::now();
    loop {
        let per = hits_per_text(&rx.hits("/flaky"));
        if (0..COUNT).all(|i| per.get(&format!("flaky {i}")).is_some_and(|n| *n >= 3)) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "not every delivery went through: {per:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let admin_b = b.admin().await;
    let start = Instant::now();
    let records = loop {
        let records = all_history(&admin_b, &integration).await;
        let done = records.iter().filter(|r| r["error"] != true).count();
        if done >= COUNT {
            // A second completion of any delivery would be recorded within this.
            tokio::time::sleep(Duration::from_millis(500)).await;
            break all_history(&admin_b, &integration).await;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{done} of {COUNT} completed attempts recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut completed: HashMap<&str, usize> = HashMap::new();
    for r in records.iter().filter(|r| r["error"] != true) {
        assert_eq!(r["step"], "after-http-call", "{r}");
        *completed.entry(r["deliveryId"].as_str().unwrap()).or_insert(0) += 1;
    }
    assert_eq!(completed.len(), COUNT, "{completed:?}");
    assert!(completed.values().all(|n| *n == 1), "a delivery completed twice: {completed:?}");
}
