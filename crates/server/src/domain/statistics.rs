//! Workspace statistics (`getStatistics`): counts of users, rooms and messages taken when
//! asked, with the workspace's identity (`uniqueId`, `installedAt`, deployment fingerprint).

use super::str_of;
use crate::error::ApiResult;
use crate::state::AppState;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::ids::{now_iso, object_id, random_id};
use store::{Doc, DocQuery};

/// The workspace's id, made once and kept as Rocket.Chat's `uniqueID` setting.
async fn unique_id(state: &AppState) -> ApiResult<String> {
    if let Some(id) =
        state.settings.get("uniqueID").and_then(|v| v.as_str().map(str::to_owned)).filter(|s| !s.is_empty())
    {
        return Ok(id);
    }
    let id = random_id(17);
    state.settings.set(state.store(), "uniqueID", json!(id)).await?;
    Ok(id)
}

fn count_where(docs: &[Doc], pred: impl Fn(&Doc) -> bool) -> usize {
    docs.iter().filter(|d| pred(d)).count()
}

/// A statistics snapshot as Rocket.Chat's `statistics` endpoint returns it (the counts
/// Liftoff keeps; the rest of Rocket.Chat's long list is left out).
pub async fn statistics(state: &AppState, version: &str) -> ApiResult<Value> {
    let store = state.store();
    let unique_id = unique_id(state).await?;
    let users = store.users().await?;
    let humans: Vec<Doc> =
        users.into_iter().filter(|u| str_of(u, "type") != "bot" && str_of(u, "type") != "app").collect();
    let active = count_where(&humans, |u| u.get("active").and_then(Value::as_bool) != Some(false));
    let status = |s: &'static str| {
        count_where(&humans, move |u| u.get("status").and_then(Value::as_str).unwrap_or("offline") == s)
    };
    let installed_at = store.user_by_id("rocket.cat").await?.and_then(|u| u.get("createdAt").cloned());
    let (c, p, d) = (store.rooms_by_type("c").await?, store.rooms_by_type("p").await?, store.rooms_by_type("d").await?);
    let rooms: Vec<&Doc> = c.iter().chain(p.iter()).chain(d.iter()).collect();
    let messages: i64 = rooms.iter().map(|r| r.get("msgs").and_then(Value::as_i64).unwrap_or(0)).sum();
    let by_type = |list: &[Doc]| list.iter().map(|r| r.get("msgs").and_then(Value::as_i64).unwrap_or(0)).sum::<i64>();
    let threads = store.find_messages(DocQuery::all(query::Filter::exists("tcount", true))).await?.1;
    let site_url = state.settings.string("Site_Url");
    let fingerprint = hex::encode(Sha256::digest(format!("{site_url}{unique_id}").as_bytes()));
    let now = now_iso();
    Ok(json!({
        "_id": object_id(),
        "wizard": {},
        "uniqueId": unique_id,
        "installedAt": installed_at,
        "deploymentFingerprintHash": fingerprint,
        "deploymentFingerprintVerified": true,
        "version": version,
        "totalUsers": humans.len(),
        "activeUsers": active,
        "activeGuests": 0,
        "nonActiveUsers": humans.len() - active,
        "appUsers": 0,
        "onlineUsers": status("online"),
        "awayUsers": status("away"),
        "busyUsers": status("busy"),
        "offlineUsers": status("offline"),
        "totalConnectedUsers": 0,
        "totalRooms": rooms.len(),
        "totalChannels": c.len(),
        "totalPrivateGroups": p.len(),
        "totalDirect": d.len(),
        "totalLivechat": 0,
        "totalDiscussions": count_where(&c, |r| r.contains_key("prid")) + count_where(&p, |r| r.contains_key("prid")),
        "totalThreads": threads,
        "totalTeams": store.teams().await?.len(),
        "totalMessages": messages,
        "totalChannelMessages": by_type(&c),
        "totalPrivateGroupMessages": by_type(&p),
        "totalDirectMessages": by_type(&d),
        "totalLivechatMessages": 0,
        "createdAt": now,
        "_updatedAt": now,
    }))
}
