//! Channels, groups, teams, rooms.info and chat, against the real binary.

mod common;
use common::*;
use serde_json::json;

const CHANNEL_NOT_FOUND: &str =
    "The required \"roomId\" or \"roomName\" param provided does not match any channel [error-room-not-found]";
const GROUP_NOT_FOUND: &str =
    "The required \"roomId\" or \"roomName\" param provided does not match any group [error-room-not-found]";

#[tokio::test]
async fn channels_lifecycle_and_errors() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let (status, created) = alice.post("channels.create", json!({"name": "dev", "members": ["bob", "ghost"]})).await;
    assert_eq!(status, 200, "{created}");
    let ch = &created["channel"];
    assert_eq!(ch["_id"].as_str().unwrap().len(), 24);
    assert_eq!(
        (ch["name"].clone(), ch["fname"].clone(), ch["t"].clone(), ch["msgs"].clone()),
        (json!("dev"), json!("dev"), json!("c"), json!(0))
    );
    assert_eq!(ch["usersCount"], 2);
    assert_eq!(ch["u"]["username"], "alice");
    assert_eq!(ch["ro"], false);
    let rid = ch["_id"].as_str().unwrap().to_owned();

    let dup = alice.post("channels.create", json!({"name": "dev"})).await;
    assert_failure(
        &dup,
        "A channel with name 'dev' exists [error-duplicate-channel-name]",
        Some("error-duplicate-channel-name"),
    );
    assert_eq!(dup.1["details"], json!({"function": "RocketChat.getValidRoomName", "channel_name": "dev"}));
    assert_failure(
        &alice.post("channels.create", json!({"name": "bad name!"})).await,
        "bad name! is not a valid room name. [error-invalid-room-name]",
        Some("error-invalid-room-name"),
    );
    assert_failure(&alice.post("channels.create", json!({})).await, "Param \"name\" is required", None);
    assert_failure(
        &alice.post("channels.create", json!({"name": "x", "members": "bob"})).await,
        "Param \"members\" must be an array if provided",
        None,
    );

    let (_, info) = bob.get("channels.info", &[("roomName", "dev")]).await;
    assert_eq!(info["channel"]["_id"], rid.as_str());
    assert_failure(
        &bob.get("channels.info", &[("roomName", "nope")]).await,
        CHANNEL_NOT_FOUND,
        Some("error-room-not-found"),
    );
    assert_failure(&bob.get("channels.info", &[]).await, CHANNEL_NOT_FOUND, Some("error-room-not-found"));

    let (_, members) = bob.get("channels.members", &[("roomId", &rid)]).await;
    let names: Vec<_> = members["members"].as_array().unwrap().iter().map(|m| m["username"].clone()).collect();
    assert_eq!(names, vec![json!("alice"), json!("bob")]);
    assert_eq!(members["total"], 2);

    // join / leave / invite each add exactly one system message
    let carol = server.user("carol").await;
    let (status, joined) = carol.post("channels.join", json!({"roomId": rid})).await;
    assert_eq!(status, 200);
    assert_eq!(joined["channel"]["msgs"], 1);
    assert_eq!(joined["channel"]["usersCount"], 3);
    let (_, msgs) = carol.get("channels.messages", &[("roomId", &rid)]).await;
    assert_eq!(msgs["messages"][0]["t"], "uj");
    assert_eq!(msgs["messages"][0]["msg"], "carol");
    let (status, left) = carol.post("channels.leave", json!({"roomId": rid})).await;
    assert_eq!(status, 200, "{left}");
    assert_eq!(left["channel"]["msgs"], 2);
    assert_failure(
        &carol.post("channels.leave", json!({"roomId": rid})).await,
        "You are not in this room [error-user-not-in-room]",
        Some("error-user-not-in-room"),
    );
    let r = bob.post("channels.invite", json!({"roomId": rid, "username": "carol"})).await;
    assert_failure(&r, "Not allowed [error-not-allowed]", Some("error-not-allowed"));
    let (status, inv) = alice.post("channels.invite", json!({"roomId": rid, "username": "carol"})).await;
    assert_eq!(status, 200, "{inv}");
    assert_eq!(inv["channel"]["msgs"], 3);
    assert_failure(
        &alice.post("channels.invite", json!({"roomId": rid, "username": "ghost"})).await,
        "invalid-user-invite-list",
        Some("Cannot invite if no users are provided"),
    );

    // owners
    let r = bob.post("channels.addOwner", json!({"roomId": rid, "username": "carol"})).await;
    assert_failure(&r, "Not allowed [error-not-allowed]", Some("error-not-allowed"));
    let (status, _) = alice.post("channels.addOwner", json!({"roomId": rid, "username": "bob"})).await;
    assert_eq!(status, 200);
    let r = alice.post("channels.addOwner", json!({"roomId": rid, "username": "bob"})).await;
    assert_failure(&r, "User is already an owner [error-user-already-owner]", Some("error-user-already-owner"));
    assert_eq!(r.1["details"], json!({"method": "addRoomOwner"}));

    // history: newest first, latest/oldest bounds
    for i in 0..3 {
        alice.post("chat.postMessage", json!({"roomId": rid, "text": format!("m{i}")})).await;
    }
    let (_, info) = bob.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!(info["channel"]["lastMessage"]["msg"], "m2");
    assert_eq!(info["channel"]["lm"], info["channel"]["lastMessage"]["ts"]);
    assert_eq!(info["channel"]["msgs"], 7, "uj, ul, au, role added and three messages");
    let (_, hist) = bob.get("channels.history", &[("roomId", &rid), ("count", "2")]).await;
    assert_eq!(hist["messages"].as_array().unwrap().len(), 2);
    assert_eq!(hist["messages"][0]["msg"], "m2");
    assert!(hist.get("total").is_none());
    let oldest = hist["messages"][1]["ts"].as_str().unwrap().to_owned();
    let (_, newer) = bob.get("channels.history", &[("roomId", &rid), ("oldest", &oldest)]).await;
    assert_eq!(newer["messages"].as_array().unwrap().len(), 1);
    let (_, all) = bob.get("channels.messages", &[("roomId", &rid)]).await;
    assert_eq!(all["total"], 7, "{all}");
    let r = bob.get("channels.messages", &[]).await;
    assert_failure(&r, "must have required property 'roomId' [invalid-params]", Some("invalid-params"));

    // list: sorted by name, paginated
    let (_, list) = bob.get("channels.list", &[]).await;
    let names: Vec<_> = list["channels"].as_array().unwrap().iter().map(|c| c["name"].clone()).collect();
    assert_eq!(names, vec![json!("dev"), json!("general")]);
    let (_, page) = bob.get("channels.list", &[("count", "1"), ("offset", "1")]).await;
    assert_eq!(page["channels"][0]["name"], "general");
    assert_eq!((page["count"].clone(), page["total"].clone(), page["offset"].clone()), (json!(1), json!(2), json!(1)));

    let (_, q) =
        bob.get("channels.list", &[("query", r#"{"name":{"$regex":"^gen"}}"#), ("fields", r#"{"name":1}"#)]).await;
    assert_eq!(q["total"], 1);
    assert_eq!(q["channels"][0], json!({"_id": "GENERAL", "name": "general"}));
    let (_, desc) = bob.get("channels.list", &[("sort", r#"{"name":-1}"#)]).await;
    assert_eq!(desc["channels"][0]["name"], "general");

    // delete: owners and admins only
    let other = server.user("dora").await;
    let r = other.post("channels.delete", json!({"roomId": rid})).await;
    assert_failure(&r, "Not allowed [error-not-allowed]", Some("error-not-allowed"));
    let (status, _) = alice.post("channels.delete", json!({"roomName": "dev"})).await;
    assert_eq!(status, 200);
    assert_failure(
        &admin.get("channels.info", &[("roomId", &rid)]).await,
        CHANNEL_NOT_FOUND,
        Some("error-room-not-found"),
    );
}

#[tokio::test]
async fn groups_are_private_to_members() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let (status, created) = alice.post("groups.create", json!({"name": "secret"})).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["group"]["t"], "p");
    let gid = created["group"]["_id"].as_str().unwrap().to_owned();
    assert_failure(&alice.post("groups.create", json!({})).await, "Body param \"name\" is required", None);

    for who in [&bob, &admin] {
        assert_failure(
            &who.get("groups.info", &[("roomId", &gid)]).await,
            GROUP_NOT_FOUND,
            Some("error-room-not-found"),
        );
        assert_failure(
            &who.get("groups.messages", &[("roomId", &gid)]).await,
            GROUP_NOT_FOUND,
            Some("error-room-not-found"),
        );
    }
    assert_failure(
        &bob.get("groups.info", &[]).await,
        "The parameter \"roomId\" or \"roomName\" is required [error-room-param-not-provided]",
        Some("error-room-param-not-provided"),
    );
    // a channel is not a group
    assert_failure(
        &alice.get("groups.info", &[("roomId", "GENERAL")]).await,
        GROUP_NOT_FOUND,
        Some("error-room-not-found"),
    );

    // a non-member cannot post there either
    let r = bob.post("chat.postMessage", json!({"roomId": gid, "text": "hi"})).await;
    assert_failure(&r, "error-not-allowed", None);

    let (status, inv) = alice.post("groups.invite", json!({"roomId": gid, "username": "bob"})).await;
    assert_eq!(status, 200, "{inv}");
    assert_failure(
        &alice.post("groups.invite", json!({"roomId": gid, "username": "ghost"})).await,
        "Cannot invite if no valid users are provided [error-empty-invite-list]",
        Some("error-empty-invite-list"),
    );
    let (status, info) = bob.get("groups.info", &[("roomName", "secret")]).await;
    assert_eq!(status, 200);
    assert_eq!(info["group"]["usersCount"], 2);
    let (status, _) = bob.post("chat.postMessage", json!({"roomId": gid, "text": "hi"})).await;
    assert_eq!(status, 200);
    let (_, msgs) = bob.get("groups.messages", &[("roomId", &gid)]).await;
    assert_eq!(msgs["total"], 2, "au + hi: {msgs}");
    let (_, hist) = bob.get("groups.history", &[("roomId", &gid)]).await;
    assert_eq!(hist["messages"][0]["msg"], "hi");
    let (_, list) = bob.get("groups.list", &[]).await;
    assert_eq!(list["groups"][0]["name"], "secret");
    assert_eq!(list["total"], 1);
    let (_, members) = bob.get("groups.members", &[("roomId", &gid)]).await;
    assert_eq!(members["total"], 2);
    let (_, list) = admin.get("groups.list", &[]).await;
    assert_eq!(list["total"], 0);

    assert_failure(
        &bob.post("groups.delete", json!({"roomId": gid})).await,
        "Not allowed [error-not-allowed]",
        Some("error-not-allowed"),
    );
    assert_eq!(alice.post("groups.delete", json!({"roomId": gid})).await.0, 200);
    assert_failure(&alice.get("groups.info", &[("roomId", &gid)]).await, GROUP_NOT_FOUND, Some("error-room-not-found"));
}

#[tokio::test]
async fn teams_and_can_access_room() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let outsider = server.user("olga").await;

    let (status, created) = alice.post("teams.create", json!({"name": "core", "type": 1, "members": ["bob"]})).await;
    assert_eq!(status, 200, "{created}");
    let team = &created["team"];
    assert_eq!(team["type"], 1);
    assert_eq!(team["_id"].as_str().unwrap().len(), 24);
    let team_id = team["_id"].as_str().unwrap().to_owned();
    let main_room = team["roomId"].as_str().unwrap().to_owned();
    let (_, main) = alice.get("groups.info", &[("roomId", &main_room)]).await;
    assert_eq!(main["group"]["teamMain"], true);
    assert_eq!(main["group"]["teamId"], team_id.as_str());

    assert_failure(
        &alice.post("teams.create", json!({"name": "core", "type": 0})).await,
        "room-name-already-exists",
        None,
    );
    assert_failure(
        &alice.post("teams.create", json!({"name": "bob", "type": 0})).await,
        "team-name-already-exists",
        None,
    );

    // a public channel of the private team: team members only
    let (status, ch) =
        alice.post("channels.create", json!({"name": "core-news", "extraData": {"teamId": team_id}})).await;
    assert_eq!(status, 200, "{ch}");
    assert_eq!(ch["channel"]["teamId"], team_id.as_str());
    let rid = ch["channel"]["_id"].as_str().unwrap().to_owned();
    let (status, _) = bob.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!(status, 200, "bob is a team member though not in the room");
    let (status, body) = outsider.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!((status.as_u16(), body["error"].clone()), (403, json!("unauthorized")));
    let r = outsider.post("channels.join", json!({"roomId": rid})).await;
    assert_failure(&r, "Not allowed [error-not-allowed]", Some("error-not-allowed"));
    assert_failure(
        &outsider.post("chat.postMessage", json!({"channel": "#core-news", "text": "x"})).await,
        "error-not-allowed",
        None,
    );
    let (status, body) = outsider.get("rooms.info", &[("roomId", &rid)]).await;
    assert_eq!(
        (status.as_u16(), body["error"].clone(), body["errorType"].clone()),
        (400, json!("not-allowed"), json!("Not Allowed"))
    );
    let (status, info) = bob.get("rooms.info", &[("roomId", &rid)]).await;
    assert_eq!(status, 200);
    assert_eq!(info["team"]["_id"], team_id.as_str());
    // bob posts without joining explicitly: he is joined
    let (status, _) = bob.post("chat.postMessage", json!({"channel": "#core-news", "text": "hello team"})).await;
    assert_eq!(status, 200);

    // an unknown team, and a non-owner creating a team channel
    assert_failure(
        &alice.post("channels.create", json!({"name": "x1", "extraData": {"teamId": "nope"}})).await,
        "The \"teamId\" param provided does not match any team [error-team-not-found]",
        Some("error-team-not-found"),
    );
    let (status, _) = bob.post("channels.create", json!({"name": "x2", "extraData": {"teamId": team_id}})).await;
    assert_eq!(status, 403);

    // delete: only owners; rooms not listed are detached
    let (status, _) = bob.post("teams.delete", json!({"teamId": team_id})).await;
    assert_eq!(status, 403);
    assert_failure(&alice.post("teams.delete", json!({"teamName": "nope"})).await, "team-does-not-exist", None);
    let (status, _) = alice.post("teams.delete", json!({"teamName": "core"})).await;
    assert_eq!(status, 200);
    let (status, detached) = outsider.get("channels.info", &[("roomId", &rid)]).await;
    assert_eq!(status, 200, "the channel stays, detached from the team: {detached}");
    assert!(detached["channel"].get("teamId").is_none());
    assert_failure(
        &alice.get("groups.info", &[("roomId", &main_room)]).await,
        GROUP_NOT_FOUND,
        Some("error-room-not-found"),
    );
}

#[tokio::test]
async fn chat_post_send_update_delete() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let (status, posted) = alice.post("chat.postMessage", json!({"channel": "#general", "text": "  hello  "})).await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["channel"], "#general");
    assert!(posted["ts"].is_number());
    let m = &posted["message"];
    assert_eq!(m["_id"].as_str().unwrap().len(), 24);
    assert_eq!(
        (m["rid"].clone(), m["msg"].clone(), m["alias"].clone(), m["groupable"].clone()),
        (json!("GENERAL"), json!("hello"), json!(""), json!(false))
    );
    assert_eq!(m["u"], json!({"_id": alice.user_id(), "username": "alice", "name": "alice"}));
    assert_eq!(m["parseUrls"], true);
    assert!(m["ts"].as_str().unwrap().ends_with('Z') && m["ts"].as_str().unwrap().len() == 24);
    assert!(m.get("bot").is_none());

    // by roomId, to a DM, with attachments
    let (status, by_id) = alice
        .post(
            "chat.postMessage",
            json!({"roomId": "GENERAL", "text": "x", "attachments": [{"title": "t", "msg": " a "}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_id["message"]["attachments"][0]["text"], "a");
    assert_eq!(by_id["message"]["parseUrls"], false);
    let (status, dm) = alice.post("chat.postMessage", json!({"channel": "@bob", "text": "psst"})).await;
    assert_eq!(status, 200, "{dm}");
    let dm_rid = dm["message"]["rid"].as_str().unwrap().to_owned();
    let (status, again) = bob.post("chat.postMessage", json!({"channel": "@alice", "text": "yes?"})).await;
    assert_eq!(status, 200);
    assert_eq!(again["message"]["rid"], dm_rid.as_str(), "one direct room per pair");

    // errors
    assert_failure(
        &alice.post("chat.postMessage", json!({"channel": "#nope", "text": "x"})).await,
        "[invalid-channel]",
        Some("invalid-channel"),
    );
    assert_failure(
        &alice.post("chat.postMessage", json!({"channel": "#general", "text": "x", "alias": "someone"})).await,
        "Not enough permission",
        None,
    );
    assert_failure(
        &alice.post("chat.postMessage", json!({"channel": "#general", "text": "x".repeat(5001)})).await,
        "error-message-size-exceeded",
        None,
    );
    let r = alice.post("chat.postMessage", json!({"text": "x"})).await;
    assert_eq!(r.0, 400);
    assert_eq!(r.1["errorType"], "invalid-params");

    // sendMessage
    let (status, sent) = alice
        .post("chat.sendMessage", json!({"message": {"rid": "GENERAL", "msg": "via send", "_id": "clientid123"}}))
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["message"]["_id"], "clientid123");
    assert!(sent["message"].get("alias").is_none());
    assert_failure(
        &alice.post("chat.sendMessage", json!({"message": {"msg": "x"}})).await,
        "The 'rid' property on the message object is missing.",
        None,
    );

    // update
    let mid = m["_id"].as_str().unwrap().to_owned();
    let (status, upd) = alice.post("chat.update", json!({"roomId": "GENERAL", "msgId": mid, "text": "edited"})).await;
    assert_eq!(status, 200, "{upd}");
    assert_eq!(upd["message"]["msg"], "edited");
    assert!(upd["message"]["editedAt"].is_string());
    assert_eq!(upd["message"]["editedBy"], json!({"_id": alice.user_id(), "username": "alice"}));
    let r = bob.post("chat.update", json!({"roomId": "GENERAL", "msgId": mid, "text": "mine now"})).await;
    assert_failure(&r, "Message editing not allowed [error-action-not-allowed]", Some("error-action-not-allowed"));
    assert_failure(
        &alice.post("chat.update", json!({"roomId": "GENERAL", "msgId": "nope", "text": "x"})).await,
        "No message found with the id of \"nope\".",
        None,
    );
    assert_failure(
        &alice.post("chat.update", json!({"roomId": dm_rid, "msgId": mid, "text": "x"})).await,
        "The room id provided does not match where the message is from.",
        None,
    );
    let (_, got) = bob.get("chat.getMessage", &[("msgId", &mid)]).await;
    assert_eq!(got["message"]["msg"], "edited");

    // delete
    let r = bob.post("chat.delete", json!({"roomId": "GENERAL", "msgId": mid})).await;
    assert_failure(&r, "Not allowed [error-action-not-allowed]", Some("error-action-not-allowed"));
    let (status, del) = alice.post("chat.delete", json!({"roomId": "GENERAL", "msgId": mid})).await;
    assert_eq!(status, 200, "{del}");
    assert_eq!(del["_id"], mid.as_str());
    assert!(del["ts"].is_string());
    assert_eq!(del["message"]["rid"], "GENERAL");
    let (status, _) = admin.post("chat.delete", json!({"roomId": "GENERAL", "msgId": by_id["message"]["_id"]})).await;
    assert_eq!(status, 200, "admins may delete any message");
    let (_, gone) = bob.get("chat.getMessage", &[("msgId", &mid)]).await;
    assert_eq!(gone["success"], false);
}

#[tokio::test]
async fn bots_may_impersonate() {
    let server = Server::start();
    let admin = server.admin().await;
    let (status, _) = admin
        .post(
            "users.create",
            json!({"username": "ci-bot", "email": "b@example.com", "name": "CI", "password": "pw", "roles": ["bot"]}),
        )
        .await;
    assert_eq!(status, 200);
    let bot = server.client().login("ci-bot", "pw").await;
    let (status, posted) = bot
        .post(
            "chat.postMessage",
            json!({"channel": "#general", "text": "build ok", "alias": "CI", "emoji": ":rocket:"}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["message"]["alias"], "CI");
    assert_eq!(posted["message"]["emoji"], ":rocket:");
}

/// Wrongly typed fields are refused with Rocket.Chat's validation errors, and nothing is posted,
/// edited or created.
#[tokio::test]
async fn wrongly_typed_fields_are_400_and_change_nothing() {
    let server = Server::start_with(&[("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false")]);
    let admin = server.admin().await;
    let count = || async {
        let (_, list) = admin.get("channels.messages", &[("roomId", "GENERAL"), ("count", "100")]).await;
        list["total"].as_u64().unwrap()
    };
    let before = count().await;
    let wrong = [json!({"$gt": ""}), json!(["a"]), json!(5), json!(true)];
    for text in &wrong {
        let r = admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": text})).await;
        assert_eq!(r.0, 400, "{text}: {}", r.1);
        assert_eq!(r.1["success"], false);
        assert_eq!(r.1["errorType"], "invalid-params", "{}", r.1);
        assert!(r.1["error"].as_str().unwrap().starts_with("must be string\n"), "{}", r.1);
        assert!(r.1["error"].as_str().unwrap().ends_with("must match exactly one schema in oneOf [invalid-params]"));
        let r = admin.post("chat.postMessage", json!({"channel": "#general", "text": text})).await;
        assert_eq!(r.0, 400, "{text}: {}", r.1);
    }
    for (field, value) in [
        ("alias", json!(1)),
        ("emoji", json!({})),
        ("attachments", json!({"text": "x"})),
        ("parseUrls", json!("no")),
        ("customFields", json!([])),
    ] {
        let mut body = json!({"roomId": "GENERAL", "text": "ok"});
        body[field] = value;
        let r = admin.post("chat.postMessage", body).await;
        assert_eq!((r.0.as_u16(), r.1["errorType"].clone()), (400, json!("invalid-params")), "{field}: {}", r.1);
    }
    let r = admin.post("chat.postMessage", json!({"channel": ["#general", 5], "text": "x"})).await;
    assert_eq!(r.0, 400, "{}", r.1);

    // chat.sendMessage hands the message to Meteor's check().
    for (field, value, got) in [
        ("msg", json!({"$gt": ""}), "object"),
        ("msg", json!(5), "number"),
        ("rid", json!(7), "number"),
        ("tshow", json!("yes"), "string"),
        ("alias", json!(false), "boolean"),
    ] {
        let mut message = json!({"rid": "GENERAL", "msg": "ok", "tmid": "x"});
        message[field] = value;
        let r = admin.post("chat.sendMessage", json!({"message": message})).await;
        let expected = if field == "tshow" { "boolean" } else { "string" };
        assert_failure(&r, &format!("Match error: Expected {expected}, got {got} in field {field}"), None);
    }
    assert_failure(
        &admin.post("chat.sendMessage", json!({"message": {"rid": false, "msg": "x"}})).await,
        "The 'rid' property on the message object is missing.",
        None,
    );
    assert_eq!(count().await, before, "nothing was posted");

    // chat.update: a typed body.
    let (_, posted) = admin.post("chat.postMessage", json!({"roomId": "GENERAL", "text": "original"})).await;
    let id = posted["message"]["_id"].as_str().unwrap();
    for text in &wrong {
        let r = admin.post("chat.update", json!({"roomId": "GENERAL", "msgId": id, "text": text})).await;
        assert_failure(&r, "/text must be string", Some("invalid-params"));
    }
    let r = admin.post("chat.update", json!({"roomId": "GENERAL", "msgId": 5, "text": "x"})).await;
    assert_failure(&r, "/msgId must be string", Some("invalid-params"));
    let (_, got) = admin.get("chat.getMessage", &[("msgId", id)]).await;
    assert_eq!(got["message"]["msg"], "original");
    assert!(got["message"].get("editedAt").is_none());
    let r = admin.post("chat.delete", json!({"roomId": "GENERAL", "msgId": id, "asUser": "yes"})).await;
    assert_failure(&r, "/asUser must be boolean", Some("invalid-params"));
    assert_eq!(admin.get("chat.getMessage", &[("msgId", id)]).await.0, 200);

    // Other endpoints that read typed fields.
    let r = admin.post("channels.create", json!({"name": "typed", "readOnly": "yes"})).await;
    assert_failure(&r, "Match error: Expected boolean, got string in field readOnly", None);
    let r = admin.post("channels.create", json!({"name": 42})).await;
    assert_failure(&r, "Match error: Expected string, got number in field name", None);
    assert_eq!(admin.get("channels.info", &[("roomName", "typed")]).await.0, 400);
    let r = admin.post("teams.create", json!({"name": "t", "type": 0, "owner": 5})).await;
    assert_failure(&r, "/owner must be string", Some("invalid-params"));
    let r = admin
        .post(
            "users.create",
            json!({"username": "u1", "email": "u1@example.com", "name": "u1", "password": "p", "active": "yes"}),
        )
        .await;
    assert_failure(&r, "/active must be boolean", Some("invalid-params"));
    assert_failure(&admin.get("users.info", &[("username", "u1")]).await, "User not found.", None);
}

#[tokio::test]
async fn a_nul_character_from_a_script_is_stored() {
    let server = Server::start();
    let admin = server.admin().await;
    let script = "class Script { process_incoming_request() { return { content: { text: 'a' + String.fromCharCode(0) + 'b' } }; } }";
    let (status, made) = admin
        .post(
            "integrations.create",
            json!({"type": "webhook-incoming", "name": "nul", "enabled": true, "username": "rocket.cat",
                   "channel": "#general", "scriptEnabled": true, "script": script}),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let i = &made["integration"];
    let hook = format!("/hooks/{}/{}", i["_id"].as_str().unwrap(), i["token"].as_str().unwrap());
    let (status, body) = admin.post(&hook, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = admin.get("channels.messages", &[("roomId", "GENERAL"), ("count", "5")]).await;
    assert_eq!(status, 200, "{page}");
    // PostgreSQL cannot store NUL: it keeps U+FFFD instead.
    let expected = if server.is_sqlite() { "a\u{0}b" } else { "a\u{FFFD}b" };
    assert!(page["messages"].as_array().unwrap().iter().any(|m| m["msg"] == expected), "{page}");
}
