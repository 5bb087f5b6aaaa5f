//! Teams beyond create/delete/info: members, rooms, listings and conversions, against the real
//! binary, with the outgoing events membership raises.

mod common;
use common::receiver::{Receiver, outgoing};
use common::*;
use serde_json::{Value, json};

async fn team(c: &Client, name: &str, team_type: i64) -> String {
    let (status, body) = c.post("teams.create", json!({"name": name, "type": team_type})).await;
    assert_eq!(status, 200, "{body}");
    body["team"]["_id"].as_str().unwrap().to_owned()
}

async fn group(c: &Client, name: &str) -> String {
    let (status, body) = c.post("groups.create", json!({"name": name})).await;
    assert_eq!(status, 200, "{body}");
    body["group"]["_id"].as_str().unwrap().to_owned()
}

fn member_ids(body: &Value) -> Vec<String> {
    body["members"].as_array().unwrap().iter().map(|m| m["user"]["_id"].as_str().unwrap().to_owned()).collect()
}

fn room_ids(body: &Value) -> Vec<String> {
    body["rooms"].as_array().unwrap().iter().map(|r| r["_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn members_join_update_and_leave_the_main_room() {
    let server = Server::start_with(&[
        ("OVERWRITE_SETTING_API_Enable_Rate_Limiter", "false"),
        ("OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses", "true"),
    ]);
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let tid = team(&alice, "infra", 0).await;
    let rx = Receiver::start().await;
    outgoing(&admin, format!("{}/joined", rx.base), "roomJoined", "#infra").await;
    outgoing(&admin, format!("{}/left", rx.base), "roomLeft", "#infra").await;

    let (status, body) =
        alice.post("teams.addMembers", json!({"teamName": "infra", "members": [{"userId": bob.user_id()}]})).await;
    assert_eq!(status, 200, "{body}");
    let (_, members) = alice.get("teams.members", &[("teamId", &tid)]).await;
    assert_eq!(member_ids(&members), vec![alice.user_id().to_owned(), bob.user_id().to_owned()]);
    assert_eq!(members["members"][0]["roles"], json!(["owner"]));
    let (_, channel) = bob.get("channels.info", &[("roomName", "infra")]).await;
    assert_eq!(channel["channel"]["usersCount"], 2);
    assert_eq!(rx.bodies("/joined", 1).await[0]["user_name"], "bob");
    // Filters of the member list.
    let (_, only_bob) = alice.get("teams.members", &[("teamId", &tid), ("username", "BO")]).await;
    assert_eq!(member_ids(&only_bob), vec![bob.user_id().to_owned()]);

    let member = json!({"userId": bob.user_id(), "roles": ["owner"]});
    assert_eq!(alice.post("teams.updateMember", json!({"teamId": tid, "member": member})).await.0, 200);
    let (_, members) = alice.get("teams.members", &[("teamId", &tid)]).await;
    assert_eq!(members["members"][1]["roles"], json!(["owner"]));

    // Plain members may not manage members; outsiders do not see them.
    let denied = carol.post("teams.addMembers", json!({"teamId": tid, "members": [{"userId": carol.user_id()}]})).await;
    assert_eq!(denied.0, 403, "{}", denied.1);
    let (_, hidden) = carol.get("teams.members", &[("teamId", &tid)]).await;
    assert_eq!(hidden["total"], 0);

    assert_eq!(alice.post("teams.removeMember", json!({"teamId": tid, "userId": bob.user_id()})).await.0, 200);
    let (_, members) = alice.get("teams.members", &[("teamId", &tid)]).await;
    assert_eq!(member_ids(&members), vec![alice.user_id().to_owned()]);
    assert_eq!(rx.bodies("/left", 1).await[0]["user_name"], "bob");
    assert_failure(
        &alice.post("teams.removeMember", json!({"teamId": tid, "userId": alice.user_id()})).await,
        "last-owner-can-not-be-removed",
        None,
    );
    assert_failure(
        &alice.post("teams.removeMember", json!({"teamId": tid, "userId": bob.user_id()})).await,
        "member-does-not-exist",
        None,
    );
    assert_failure(
        &alice.post("teams.addMembers", json!({"teamId": tid})).await,
        "must have required property 'members' [invalid-params]",
        Some("invalid-params"),
    );
    assert_failure(
        &alice.post("teams.addMembers", json!({"teamId": "nope", "members": [{"userId": bob.user_id()}]})).await,
        "team-does-not-exist",
        None,
    );
}

#[tokio::test]
async fn rooms_move_in_and_out_of_a_team() {
    let server = Server::start();
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let tid = team(&alice, "infra", 1).await;
    let gid = group(&alice, "oncall").await;

    let (status, added) = alice.post("teams.addRooms", json!({"teamId": tid, "rooms": [gid]})).await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["rooms"][0]["teamId"], json!(tid));
    let (_, listed) = alice.get("teams.listRooms", &[("teamName", "infra")]).await;
    assert_eq!(room_ids(&listed), vec![gid.clone()]);
    assert_failure(
        &alice.post("teams.addRooms", json!({"teamId": tid, "rooms": [gid]})).await,
        "room-already-on-team",
        None,
    );
    // A private team's rooms are its members' business.
    assert_failure(&bob.get("teams.listRooms", &[("teamId", &tid)]).await, "user-not-on-private-team", None);

    // Becoming auto-join brings every team member in.
    alice.post("teams.addMembers", json!({"teamId": tid, "members": [{"userId": bob.user_id()}]})).await;
    let (status, updated) = alice.post("teams.updateRoom", json!({"roomId": gid, "isDefault": true})).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["room"]["teamDefault"], true);
    let (_, bobs) = alice.get("teams.listRoomsOfUser", &[("teamId", &tid), ("userId", bob.user_id())]).await;
    assert!(room_ids(&bobs).contains(&gid), "{bobs}");
    let (_, auto) = bob.get("teams.listRooms", &[("teamId", &tid), ("type", "autoJoin")]).await;
    assert_eq!(room_ids(&auto), vec![gid.clone()]);
    let denied = bob.get("teams.listRoomsOfUser", &[("teamId", &tid), ("userId", alice.user_id())]).await;
    assert_eq!(denied.0, 403, "{}", denied.1);

    let (status, removed) = alice.post("teams.removeRoom", json!({"teamId": tid, "roomId": gid})).await;
    assert_eq!(status, 200, "{removed}");
    assert!(removed["room"].get("teamId").is_none(), "{removed}");
    let (_, listed) = alice.get("teams.listRooms", &[("teamId", &tid)]).await;
    assert_eq!(listed["total"], 0);
    assert_failure(
        &alice.post("teams.removeRoom", json!({"teamId": tid, "roomId": gid})).await,
        "room-not-on-team",
        None,
    );
    assert_failure(
        &alice.post("teams.updateRoom", json!({"roomId": gid, "isDefault": true})).await,
        "team-does-not-exist",
        None,
    );
    let denied = bob.post("teams.addRooms", json!({"teamId": tid, "rooms": [gid]})).await;
    assert_eq!(denied.0, 403, "{}", denied.1);
}

#[tokio::test]
async fn listings_and_conversions() {
    let server = Server::start();
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    team(&alice, "infra", 0).await;
    team(&alice, "inner-circle", 1).await;
    team(&bob, "bobs", 0).await;

    let (status, all) = admin.get("teams.listAll", &[]).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"], 3);
    assert_eq!(alice.get("teams.listAll", &[]).await.0, 403);
    let (_, mine) = alice.get("teams.list", &[]).await;
    let names: Vec<&str> = mine["teams"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["infra", "inner-circle"]);
    assert_eq!((mine["teams"][0]["rooms"].clone(), mine["teams"][0]["numberOfUsers"].clone()), (json!(1), json!(1)));

    // Autocomplete: public teams, and private ones the caller is in.
    let (_, found) = bob.get("teams.autocomplete", &[("name", "IN")]).await;
    let names: Vec<&str> = found["teams"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["infra"]);
    let (_, found) = alice.get("teams.autocomplete", &[("name", "in")]).await;
    assert_eq!(found["teams"].as_array().unwrap().len(), 2);
    assert_failure(&alice.get("teams.autocomplete", &[]).await, "Match error: Missing key 'name'", None);

    // A group with a member becomes a private team owned by the converter.
    let (_, g) = alice.post("groups.create", json!({"name": "ops", "members": ["bob"]})).await;
    let gid = g["group"]["_id"].as_str().unwrap().to_owned();
    let (status, converted) = alice.post("groups.convertToTeam", json!({"roomName": "ops"})).await;
    assert_eq!(status, 200, "{converted}");
    assert_eq!((converted["team"]["type"].clone(), converted["team"]["roomId"].clone()), (json!(1), json!(gid)));
    let (_, info) = alice.get("rooms.info", &[("roomId", &gid)]).await;
    assert_eq!(info["room"]["teamMain"], true);
    let (_, members) = alice.get("teams.members", &[("teamName", "ops")]).await;
    assert_eq!(members["total"], 2);
    assert_failure(&alice.post("groups.convertToTeam", json!({"roomId": gid})).await, "team-name-already-exists", None);
    assert_failure(
        &alice.post("groups.convertToTeam", json!({})).await,
        "The parameter \"roomId\" or \"roomName\" is required",
        None,
    );

    let (_, c) = alice.post("channels.create", json!({"name": "lobby", "members": ["bob"]})).await;
    let cid = c["channel"]["_id"].as_str().unwrap().to_owned();
    // bob is a member but holds no `edit-room` there.
    assert_eq!(bob.post("channels.convertToTeam", json!({"channelId": cid})).await.0, 403);
    let (status, converted) = alice.post("channels.convertToTeam", json!({"channelName": "lobby"})).await;
    assert_eq!(status, 200, "{converted}");
    assert_eq!(converted["team"]["type"], 0);
    assert_eq!(alice.post("teams.delete", json!({"teamName": "lobby"})).await.0, 200);
}
