//! Roles and permissions: the defaults created on first start and an in-memory
//! permission → roles map that every check reads, refreshed as soon as it changes.

use crate::domain::integration_kinds::{INCOMING, OUTGOING, creator};
use crate::domain::str_of;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::RwLock;
use store::{Doc, Store, StoreError, StoreResult};

/// `(role, scope, description)` of the protected roles.
pub const DEFAULT_ROLES: &[(&str, &str, &str)] = &[
    ("admin", "Users", "Admin"),
    ("moderator", "Subscriptions", "Moderator"),
    ("leader", "Subscriptions", "Leader"),
    ("owner", "Subscriptions", "Owner"),
    ("user", "Users", ""),
    ("bot", "Users", ""),
    ("app", "Users", ""),
    ("guest", "Users", ""),
    ("anonymous", "Users", ""),
    ("livechat-agent", "Users", "Livechat Agent"),
    ("livechat-manager", "Users", "Livechat Manager"),
];

/// Default permission → roles, as Rocket.Chat ships them.
pub const DEFAULT_PERMISSIONS: &[(&str, &[&str])] = &[
    ("access-permissions", &["admin"]),
    ("add-all-to-room", &["admin"]),
    ("add-team-channel", &["admin", "owner", "moderator"]),
    ("add-team-member", &["admin", "owner", "moderator"]),
    ("add-user-to-any-c-room", &["admin"]),
    ("add-user-to-any-p-room", &[]),
    ("add-user-to-joined-room", &["admin", "owner", "moderator"]),
    ("api-bypass-rate-limit", &["admin", "bot", "app"]),
    ("archive-room", &["admin", "owner"]),
    ("assign-admin-role", &["admin"]),
    ("bypass-time-limit-edit-and-delete", &["bot", "app"]),
    ("clean-channel-history", &["admin"]),
    ("convert-team", &["admin", "owner"]),
    ("create-c", &["admin", "user", "bot", "app"]),
    ("create-d", &["admin", "user", "bot", "app"]),
    ("create-p", &["admin", "user", "bot", "app"]),
    ("create-personal-access-tokens", &["admin", "user"]),
    ("create-team", &["admin", "user"]),
    ("create-team-channel", &["admin", "owner", "moderator"]),
    ("create-team-group", &["admin", "owner", "moderator"]),
    ("create-user", &["admin"]),
    ("delete-c", &["admin", "owner"]),
    ("delete-d", &["admin"]),
    ("delete-message", &["admin", "owner", "moderator"]),
    ("delete-own-message", &["admin", "user"]),
    ("delete-p", &["admin", "owner"]),
    ("delete-team", &["admin", "owner"]),
    ("delete-team-channel", &["admin", "owner", "moderator"]),
    ("delete-team-group", &["admin", "owner", "moderator"]),
    ("delete-user", &["admin"]),
    ("edit-message", &["admin", "owner", "moderator"]),
    ("edit-other-user-active-status", &["admin"]),
    ("edit-other-user-info", &["admin"]),
    ("edit-privileged-setting", &["admin"]),
    ("edit-room", &["admin", "owner", "moderator"]),
    ("edit-team", &["admin", "owner"]),
    ("edit-team-channel", &["admin", "owner", "moderator"]),
    ("edit-team-member", &["admin", "owner", "moderator"]),
    ("force-delete-message", &["admin", "owner"]),
    ("join-without-join-code", &["admin", "bot", "app"]),
    ("leave-c", &["admin", "user", "bot", "anonymous", "app"]),
    ("leave-p", &["admin", "user", "bot", "anonymous", "app"]),
    ("manage-incoming-integrations", &["admin"]),
    ("manage-outgoing-integrations", &["admin"]),
    ("manage-own-incoming-integrations", &["admin"]),
    ("manage-own-outgoing-integrations", &["admin"]),
    ("message-impersonate", &["bot", "app"]),
    ("move-room-to-team", &["admin", "owner", "moderator"]),
    ("pin-message", &["owner", "moderator", "admin"]),
    ("post-readonly", &["admin", "owner", "moderator"]),
    ("preview-c-room", &["admin", "user", "anonymous"]),
    ("remove-team-channel", &["admin", "owner", "moderator"]),
    ("remove-user", &["admin", "owner", "moderator"]),
    ("send-many-messages", &["admin", "bot", "app"]),
    ("set-leader", &["admin", "owner"]),
    ("set-moderator", &["admin", "owner"]),
    ("set-owner", &["admin", "owner"]),
    ("start-discussion", &["admin", "user", "guest", "app"]),
    ("start-discussion-other-user", &["admin", "user", "owner", "app"]),
    ("toggle-room-e2e-encryption", &["owner", "admin"]),
    ("unarchive-room", &["admin"]),
    ("user-generate-access-token", &["admin"]),
    ("view-all-team-channels", &["admin", "owner"]),
    ("view-all-teams", &["admin"]),
    ("view-broadcast-member-list", &["admin", "owner", "moderator"]),
    ("view-c-room", &["admin", "user", "bot", "app", "anonymous"]),
    ("view-d-room", &["admin", "user", "bot", "app", "guest"]),
    ("view-full-other-user-info", &["admin"]),
    ("view-joined-room", &["guest", "bot", "app", "anonymous"]),
    ("view-other-user-channels", &["admin"]),
    ("view-outside-room", &["admin", "owner", "moderator", "user"]),
    ("view-p-room", &["admin", "user", "anonymous", "guest"]),
    ("view-privileged-setting", &["admin"]),
    ("view-room-administration", &["admin"]),
    ("view-statistics", &["admin"]),
];

pub fn default_role_docs(now: &str) -> Vec<Doc> {
    DEFAULT_ROLES
        .iter()
        .map(|(name, scope, description)| {
            doc(json!({"_id": name, "name": name, "scope": scope, "description": description,
                       "mandatory2fa": false, "protected": true, "_updatedAt": now}))
        })
        .collect()
}

pub fn default_permission_docs(now: &str) -> Vec<Doc> {
    DEFAULT_PERMISSIONS.iter().map(|(id, roles)| doc(json!({"_id": id, "roles": roles, "_updatedAt": now}))).collect()
}

fn doc(v: Value) -> Doc {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("literal objects"),
    }
}

/// The permission → roles map every check reads.
#[derive(Default)]
pub struct Permissions {
    roles_by_permission: RwLock<HashMap<String, Vec<String>>>,
}

impl Permissions {
    pub async fn load(store: &dyn Store) -> StoreResult<Self> {
        let this = Self::default();
        this.reload(store).await?;
        Ok(this)
    }

    pub async fn reload(&self, store: &dyn Store) -> StoreResult<()> {
        let mut map = HashMap::new();
        for p in store.permissions().await? {
            let Some(id) = p.get("_id").and_then(Value::as_str) else {
                return Err(StoreError::Backend("permission without _id".into()));
            };
            let roles = crate::domain::strings(p.get("roles"));
            map.insert(id.to_owned(), roles);
        }
        *self.roles_by_permission.write().expect("permissions lock") = map;
        Ok(())
    }

    pub fn exists(&self, permission: &str) -> bool {
        self.roles_by_permission.read().expect("permissions lock").contains_key(permission)
    }

    /// Whether any of `roles` is granted `permission`. There is no admin bypass: admins pass
    /// because `admin` is in the permission's role list.
    pub fn granted<S: AsRef<str>>(&self, roles: &[S], permission: &str) -> bool {
        let map = self.roles_by_permission.read().expect("permissions lock");
        map.get(permission).is_some_and(|allowed| roles.iter().any(|r| allowed.iter().any(|a| a == r.as_ref())))
    }
}

/// The caller's four integration permissions.
#[derive(Clone, Copy, Debug)]
pub struct Grants {
    pub all_in: bool,
    pub own_in: bool,
    pub all_out: bool,
    pub own_out: bool,
}

impl Grants {
    /// The grants of a user with these global roles.
    pub fn of<S: AsRef<str>>(permissions: &Permissions, roles: &[S]) -> Self {
        Self {
            all_in: permissions.granted(roles, "manage-incoming-integrations"),
            own_in: permissions.granted(roles, "manage-own-incoming-integrations"),
            all_out: permissions.granted(roles, "manage-outgoing-integrations"),
            own_out: permissions.granted(roles, "manage-own-outgoing-integrations"),
        }
    }

    pub fn any(&self) -> bool {
        self.all_in || self.own_in || self.all_out || self.own_out
    }

    /// May the caller manage `integration` (all, or own and created it)?
    pub fn may_manage(&self, integration: &Doc, me: &str) -> bool {
        let own = creator(integration) == Some(me);
        if str_of(integration, "type") == INCOMING {
            self.all_in || (self.own_in && own)
        } else {
            self.all_out || (self.own_out && own)
        }
    }

    /// `mountIntegrationQueryBasedOnPermissions`.
    pub fn scope(&self, me: &str) -> query::Filter {
        use query::Filter;
        if self.all_out && self.all_in {
            return Filter::all();
        }
        if self.own_out && self.own_in {
            return Filter::eq("_createdBy._id", me);
        }
        let mut branches = Vec::new();
        if self.all_out {
            branches.push(Filter::eq("type", OUTGOING));
        }
        if self.all_in {
            branches.push(Filter::eq("type", INCOMING));
        }
        if self.own_out {
            branches.push(Filter::and(vec![Filter::eq("_createdBy._id", me), Filter::eq("type", OUTGOING)]));
        }
        if self.own_in {
            branches.push(Filter::and(vec![Filter::eq("_createdBy._id", me), Filter::eq("type", INCOMING)]));
        }
        if branches.is_empty() { Filter::none() } else { Filter::or(branches) }
    }
}
