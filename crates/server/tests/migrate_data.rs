//! `liftoff migrate-data`: a populated workspace copied SQLite → PostgreSQL → SQLite and served
//! again each time with the same ids, the same login tokens and its pending deliveries; a
//! non-empty target is refused and left as it was. The round trip needs `TEST_DATABASE_URL`.
mod common;
use common::migrate::{counts, migrate};
use common::pg::TestDatabase;
use common::receiver::{Receiver, unused_address};
use common::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

const ENV: &[(&str, &str)] = &[
    ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
    ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
];
const WAIT: Duration = Duration::from_secs(30);

fn line<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout.lines().find(|l| l.starts_with(&format!("{label}: "))).unwrap_or_else(|| panic!("no {label} in {stdout}"))
}

fn id(v: &Value) -> String {
    v["_id"].as_str().unwrap_or_else(|| panic!("no _id in {v}")).to_owned()
}

async fn ok(c: &Client, path: &str, body: Value) -> Value {
    let (status, reply) = c.post(path, body).await;
    assert_eq!(status, 200, "{path}: {reply}");
    reply
}

/// Posts "a", NUL, "b" to #general through an incoming script and returns the message's id.
async fn nul_message(admin: &Client) -> String {
    let script = "class Script { process_incoming_request() { return { content: { text: 'a' + String.fromCharCode(0) + 'b' } }; } }";
    let made = ok(
        admin,
        "integrations.create",
        json!({"type": "webhook-incoming", "name": "nul", "enabled": true, "username": "rocket.cat",
               "channel": "#general", "scriptEnabled": true, "script": script}),
    )
    .await;
    let hook = format!("/hooks/{}/{}", id(&made["integration"]), made["integration"]["token"].as_str().unwrap());
    assert_eq!(admin.post(&hook, json!({})).await.0, 200);
    let page = get_ok(admin, "channels.messages", &[("roomId", "GENERAL"), ("count", "100")]).await;
    let found = page["messages"].as_array().unwrap().iter().find(|m| m["msg"] == "a\u{0}b").expect("the NUL message");
    id(found)
}

async fn get_ok(c: &Client, path: &str, query: &[(&str, &str)]) -> Value {
    let (status, reply) = c.get(path, query).await;
    assert_eq!(status, 200, "{path}: {reply}");
    reply
}

/// Everything the test created, to find again on every server.
struct Workspace {
    alice: Client,
    group: String,
    team: String,
    team_room: String,
    hook: String,
    general_messages: Vec<String>,
    nul_message: String,
    /// A message alice deleted from #general (its trash record travels too).
    deleted_message: String,
    /// Outgoing integrations: (id, receiver address, trigger word).
    outgoing: Vec<(String, String, &'static str)>,
}

impl Workspace {
    async fn create(server: &Server) -> Self {
        let admin = server.admin().await;
        let alice = server.user("alice").await;
        let group = id(&ok(&admin, "groups.create", json!({"name": "secret", "members": ["alice"]})).await["group"]);
        let team = ok(&admin, "teams.create", json!({"name": "crew", "type": 0, "members": [alice.user_id()]})).await;
        let (team, team_room) = (id(&team["team"]), team["team"]["roomId"].as_str().unwrap().to_owned());
        let mut general_messages = Vec::new();
        for (who, text) in [(&admin, "hello"), (&alice, "hi there"), (&admin, "welcome")] {
            let posted = ok(who, "chat.postMessage", json!({"roomId": "GENERAL", "text": text})).await;
            general_messages.push(id(&posted["message"]));
        }
        ok(&alice, "chat.postMessage", json!({"roomId": team_room, "text": "team talk"})).await;
        let deleted = ok(&alice, "chat.postMessage", json!({"roomId": "GENERAL", "text": "oops"})).await;
        let deleted_message = id(&deleted["message"]);
        ok(&alice, "chat.delete", json!({"roomId": "GENERAL", "msgId": deleted_message})).await;
        let reported = json!({"messageId": general_messages[0], "description": "rude"});
        ok(&alice, "chat.reportMessage", reported).await;
        // PostgreSQL cannot store NUL: the copy into it replaces it. Requests may not carry one
        // (400), but a script can produce one.
        let nul = nul_message(&admin).await;
        let incoming = ok(
            &admin,
            "integrations.create",
            json!({"type": "webhook-incoming", "name": "in", "enabled": true, "username": "rocket.cat",
                   "channel": "#general", "scriptEnabled": false}),
        )
        .await;
        let hook =
            format!("/hooks/{}/{}", id(&incoming["integration"]), incoming["integration"]["token"].as_str().unwrap());
        assert_eq!(admin.post(&hook, json!({"text": "from the hook"})).await.0, 200);
        let mut outgoing = Vec::new();
        for trigger in ["now", "later"] {
            // Nothing listens there yet: attempts fail and are retried (2 s, 4 s, ...).
            let address = unused_address();
            let created = ok(
                &admin,
                "integrations.create",
                json!({"type": "webhook-outgoing", "name": trigger, "enabled": true, "username": "rocket.cat",
                       "event": "sendMessage", "channel": "#general", "urls": [format!("http://{address}/{trigger}")],
                       "triggerWords": [trigger], "scriptEnabled": false, "retryFailedCalls": true,
                       "retryCount": 5, "retryDelay": "increments-of-two"}),
            )
            .await;
            outgoing.push((id(&created["integration"]), address, trigger));
        }
        Workspace { alice, group, team, team_room, hook, general_messages, nul_message: nul, deleted_message, outgoing }
    }

    /// Posts the trigger word of outgoing integration `n` and waits for its first failed attempt.
    async fn leave_pending_delivery(&self, server: &Server, n: usize) {
        let admin = server.admin().await;
        let (integration, _, trigger) = &self.outgoing[n];
        ok(&admin, "chat.postMessage", json!({"roomId": "GENERAL", "text": format!("{trigger} please")})).await;
        wait_for(&format!("a failed attempt of {trigger}"), || async {
            history(&admin, integration).await.iter().any(|h| h["error"] == true)
        })
        .await;
    }

    /// Users and messages as the server counts them.
    async fn totals(server: &Server) -> (u64, u64) {
        let admin = server.admin().await;
        let users = get_ok(&admin, "users.list", &[("count", "1")]).await["total"].as_u64().unwrap();
        let mut messages = 0;
        let rooms =
            [("channels.list", "channels", "channels.messages"), ("groups.listAll", "groups", "groups.messages")];
        for (list, key, endpoint) in rooms {
            let listed = get_ok(&admin, list, &[("count", "100")]).await;
            for room in listed[key].as_array().unwrap() {
                let page = get_ok(&admin, endpoint, &[("roomId", &id(room)), ("count", "1")]).await;
                messages += page["total"].as_u64().unwrap();
            }
        }
        (users, messages)
    }

    /// `msgs`, `lm` and the last message's id of #general and of the team's room, as `server`
    /// serves them.
    async fn room_counters(&self, server: &Server) -> Vec<(Value, Value, Value)> {
        let admin = server.admin().await;
        let mut found = Vec::new();
        for rid in ["GENERAL", self.team_room.as_str()] {
            let room = &get_ok(&admin, "rooms.info", &[("roomId", rid)]).await["room"];
            assert!(room["msgs"].as_u64().is_some_and(|n| n > 0), "{room}");
            found.push((room["msgs"].clone(), room["lm"].clone(), room["lastMessage"]["_id"].clone()));
        }
        found
    }

    /// Everything created is there under the same ids, and alice's old token still works.
    async fn check_served_by(&self, server: &Server) {
        let mut alice = server.client();
        alice.auth = self.alice.auth.clone();
        let me = get_ok(&alice, "me", &[]).await;
        assert_eq!((me["_id"].as_str(), me["username"].as_str()), (Some(self.alice.user_id()), Some("alice")));
        let group = get_ok(&alice, "groups.info", &[("roomId", &self.group)]).await;
        assert_eq!(group["group"]["name"], "secret");
        let team = get_ok(&alice, "teams.info", &[("teamId", &self.team)]).await;
        assert_eq!(
            (team["teamInfo"]["name"].as_str(), team["teamInfo"]["roomId"].as_str()),
            (Some("crew"), Some(&*self.team_room))
        );
        let page = get_ok(&alice, "channels.messages", &[("roomId", "GENERAL"), ("count", "100")]).await;
        let ids: Vec<String> = page["messages"].as_array().unwrap().iter().map(id).collect();
        assert!(
            self.general_messages.iter().all(|m| ids.contains(m)),
            "{ids:?} lacks some of {:?}",
            self.general_messages
        );
        let nul = get_ok(&alice, "chat.getMessage", &[("msgId", &self.nul_message)]).await;
        assert_eq!(nul["message"]["msg"], "a\u{FFFD}b");
        let since = [("roomId", "GENERAL"), ("since", "2000-01-01T00:00:00.000Z")];
        let deleted = get_ok(&alice, "chat.getDeletedMessages", &since).await;
        assert_eq!(deleted["messages"], json!([{"_id": self.deleted_message}]));
        let admin = server.admin().await;
        for (integration, _, _) in &self.outgoing {
            get_ok(&admin, "integrations.get", &[("integrationId", integration)]).await;
        }
        assert_eq!(server.client().post(&self.hook, json!({"text": "hook after the move"})).await.0, 200);
    }

    /// Starts the receiver outgoing integration `n` calls, down so far.
    async fn start_receiver(&self, n: usize) -> Receiver {
        Receiver::start_at(&self.outgoing[n].1).await
    }

    /// The pending delivery of outgoing integration `n` reaches its receiver once, and one
    /// successful attempt joins the `copied` history records.
    async fn check_delivery(&self, server: &Server, n: usize, receiver: &Receiver, copied: u64) {
        let (integration, _, trigger) = &self.outgoing[n];
        let hits = receiver.wait(&format!("/{trigger}"), 1, WAIT).await;
        assert_eq!(hits[0].body["text"], format!("{trigger} please"));
        let admin = server.admin().await;
        let start = Instant::now();
        let records = loop {
            let records = history(&admin, integration).await;
            if records.len() as u64 > copied || start.elapsed() > WAIT {
                break records;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(records.len() as u64, copied + 1, "{copied} records copied, then {records:#?}");
        let done: Vec<&Value> = records.iter().filter(|h| h["error"] != true).collect();
        assert_eq!(done.len(), 1, "{records:#?}");
        assert_eq!(done[0]["step"], "after-http-call", "{records:#?}");
        assert_eq!(receiver.hits(&format!("/{trigger}")).len(), 1);
    }
}

async fn history(admin: &Client, integration: &str) -> Vec<Value> {
    let page = get_ok(admin, "integrations.history", &[("id", integration), ("count", "100")]).await;
    page["history"].as_array().unwrap().clone()
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < WAIT, "{what}: not after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks the report of a copy against the workspace the source served.
fn check_report(stdout: &str, (users, messages): (u64, u64), pending: u64) -> HashMap<String, u64> {
    let found = counts(stdout);
    assert_eq!(found.get("users"), Some(&users), "{stdout}");
    assert_eq!(found.get("messages"), Some(&messages), "{stdout}");
    assert_eq!(found.get("teams"), Some(&1), "{stdout}");
    assert_eq!(found.get("integrations"), Some(&4), "{stdout}");
    assert_eq!(found.get("pending deliveries"), Some(&pending), "{stdout}");
    assert_eq!(found.get("deleted messages"), Some(&1), "{stdout}");
    assert_eq!(found.get("moderation reports"), Some(&1), "{stdout}");
    assert!(found.get("login tokens").is_some_and(|n| *n >= 2), "{stdout}");
    assert!(found.get("integration history").is_some_and(|n| *n >= 1), "{stdout}");
    assert!(stdout.contains("every count matches the source"), "{stdout}");
    found
}

#[tokio::test]
async fn sqlite_to_postgresql_and_back_serves_the_same_workspace() {
    let Some(pg) = TestDatabase::create() else {
        eprintln!("TEST_DATABASE_URL is not set: skipping the SQLite ⇄ PostgreSQL migration test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = format!("sqlite://{}", dir.path().join("first.db").display());
    let last = format!("sqlite://{}", dir.path().join("last.db").display());

    let mut server = Server::start_on(&first, ENV);
    let workspace = Workspace::create(&server).await;
    workspace.leave_pending_delivery(&server, 0).await;
    let totals = Workspace::totals(&server).await;
    let counters = workspace.room_counters(&server).await;
    assert!(server.stop().success());

    // SQLite → PostgreSQL.
    let (success, stdout, stderr) = migrate(&first, &pg.url);
    assert!(success, "{stdout}\n{stderr}");
    let found = check_report(&stdout, totals, 1);
    assert!(line(&stdout, "messages").contains("(1 with NUL replaced by U+FFFD)"), "{stdout}");
    let receiver = workspace.start_receiver(0).await;
    let mut server = Server::start_on(&pg.url, ENV);
    assert_eq!(workspace.room_counters(&server).await, counters, "room counters copied");
    workspace.check_served_by(&server).await;
    // Only the first outgoing integration has been used: the history copied is its own.
    workspace.check_delivery(&server, 0, &receiver, found["integration history"]).await;

    // PostgreSQL → SQLite.
    workspace.leave_pending_delivery(&server, 1).await;
    let totals = Workspace::totals(&server).await;
    let admin = server.admin().await;
    let first_history = history(&admin, &workspace.outgoing[0].0).await.len() as u64;
    // Messages posted since the copy added to the counter rows: rooms go out with the totals.
    let counters = workspace.room_counters(&server).await;
    assert!(server.stop().success());
    let (success, stdout, stderr) = migrate(&pg.url, &last);
    assert!(success, "{stdout}\n{stderr}");
    let found = check_report(&stdout, totals, 1);
    let later_history = found["integration history"] - first_history;
    let receiver = workspace.start_receiver(1).await;
    let server = Server::start_on(&last, ENV);
    assert_eq!(workspace.room_counters(&server).await, counters, "room counters copied");
    workspace.check_served_by(&server).await;
    workspace.check_delivery(&server, 1, &receiver, later_history).await;
}

#[tokio::test]
async fn a_non_empty_target_is_refused_and_left_as_it_was() {
    let pg = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let source_url = pg.as_ref().map_or_else(|| sqlite("source.db"), |db| db.url.clone());
    let target_url = sqlite("target.db");

    let mut source = Server::start_on(&source_url, ENV);
    source.user("zed").await;
    assert!(source.stop().success());
    let mut target = Server::start_on(&target_url, ENV);
    let users = |s: &Server| {
        let url = s.url.clone();
        async move {
            let admin = Client::new(&url).login(ADMIN_USER, ADMIN_PASS).await;
            let listed = get_ok(&admin, "users.list", &[("count", "100")]).await;
            let mut names: Vec<String> = listed["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            names
        }
    };
    let before = users(&target).await;
    assert!(target.stop().success());

    let (success, stdout, stderr) = migrate(&source_url, &target_url);
    assert!(!success, "{stdout}\n{stderr}");
    assert!(stderr.contains("the target database is not empty"), "{stderr}");
    assert!(stderr.contains("users"), "{stderr}");
    assert!(counts(&stdout).is_empty(), "nothing is reported copied: {stdout}");

    target.restart();
    assert_eq!(users(&target).await, before, "the refused target was changed");
    assert!(!before.contains(&"zed".to_owned()));

    let (success, _, stderr) = migrate(&source_url, "mysql://somewhere/db");
    assert!(!success);
    assert!(stderr.contains("unsupported DATABASE_URL"), "{stderr}");
}

#[test]
fn help_lists_the_subcommand() {
    let out = Command::new(env!("CARGO_BIN_EXE_liftoff")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(help.contains("migrate-data"), "{help}");
}
