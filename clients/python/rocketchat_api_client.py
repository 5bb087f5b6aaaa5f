"""Drives a running Liftoff with the `rocketchat_API` client from PyPI, as its users would.

Usage: python rocketchat_api_client.py <server-url> <admin-user> <admin-password>
Exits non-zero (with the failing assertion) if anything behaves unlike Rocket.Chat.
"""
import sys
import uuid

from rocketchat_API.rocketchat import RocketChat
from rocketchat_API.APIExceptions.RocketExceptions import RocketApiException


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main(url, user, password):
    admin = RocketChat(user, password, server_url=url)
    me = admin.me()
    check(me["success"] and me["username"] == user, f"me: {me}")
    check(admin.info()["success"], "info")

    # users, channels, groups, messages
    suffix = uuid.uuid4().hex[:6]
    username = f"py-{suffix}"
    created = admin.users_create(f"{username}@example.com", "Py User", "py-pass", username)
    check(created["success"] and created["user"]["username"] == username, f"users_create: {created}")
    py = RocketChat(username, "py-pass", server_url=url)
    check(py.me()["username"] == username, "login as the new user")

    channel = admin.channels_create(f"py-chan-{suffix}")
    check(channel["success"], f"channels_create: {channel}")
    rid = channel["channel"]["_id"]
    group = admin.groups_create(f"py-group-{suffix}")
    check(group["success"] and group["group"]["t"] == "p", f"groups_create: {group}")
    gid = group["group"]["_id"]

    posted = admin.chat_post_message("hello from python", room_id=rid)
    check(posted["success"] and posted["message"]["msg"] == "hello from python", f"chat_post_message: {posted}")
    history = list(admin.channels_history(rid))
    check(history[0]["msg"] == "hello from python", f"channels_history: {history}")
    try:
        py.chat_post_message("not a member", room_id=gid)
        raise AssertionError("a non-member posted into a private group")
    except RocketApiException as e:
        check(e.response_json.get("error") == "error-not-allowed", f"group refusal: {e.response_json}")
    admin.chat_post_message("in the group", room_id=gid)
    group_history = list(admin.groups_history(gid))
    check(group_history[0]["msg"] == "in the group", f"groups_history: {group_history}")

    # integrations
    inc = admin.integrations_create(
        "webhook-incoming", f"py-in-{suffix}", True, "rocket.cat", f"#py-chan-{suffix}", False, alias="py"
    )
    check(inc["success"] and len(inc["integration"]["token"]) == 48, f"integrations_create incoming: {inc}")
    inc_id = inc["integration"]["_id"]
    out = admin.integrations_create(
        "webhook-outgoing", f"py-out-{suffix}", True, "rocket.cat", f"#py-group-{suffix}", False,
        event="sendMessage", urls=["http://example.com/py"], token="py-token",
    )
    check(out["success"] and out["integration"]["event"] == "sendMessage", f"integrations_create outgoing: {out}")
    out_id = out["integration"]["_id"]

    got = admin.integrations_get(inc_id)
    check(got["integration"]["name"] == f"py-in-{suffix}", f"integrations_get: {got}")
    upd = admin.integrations_update(
        "webhook-incoming", f"py-in-renamed-{suffix}", False, "rocket.cat", f"#py-chan-{suffix}", False, inc_id
    )
    check(upd["success"] and upd["integration"]["enabled"] is False, f"integrations_update: {upd}")

    # both are paginated iterators in the client: they send offset and count
    per_channel = list(admin.channels_get_integrations(rid))
    check([i["_id"] for i in per_channel] == [inc_id], f"channels_get_integrations: {per_channel}")
    per_group = list(admin.groups_get_integrations(gid))
    check([i["_id"] for i in per_group] == [out_id], f"groups_get_integrations: {per_group}")
    hist = list(admin.integrations_history(out_id))
    check(hist == [], f"integrations_history: {hist}")

    # paginated iteration over more than one page (the client asks 50 at a time)
    for n in range(60):
        admin.integrations_create(
            "webhook-incoming", f"py-bulk-{suffix}-{n:02d}", True, "rocket.cat", "#general", False
        )
    listed = list(admin.integrations_list())
    ids = [i["_id"] for i in listed]
    check(len(ids) == len(set(ids)), "pages overlap")
    bulk = [i for i in listed if i["name"].startswith(f"py-bulk-{suffix}")]
    check(len(bulk) == 60, f"paginated integrations_list saw {len(bulk)} of 60")

    removed = admin.integrations_remove("webhook-incoming", inc_id)
    check(removed["success"] and removed["integration"]["_id"] == inc_id, f"integrations_remove: {removed}")
    removed = admin.integrations_remove("webhook-outgoing", out_id)
    check(removed["success"], f"integrations_remove outgoing: {removed}")
    try:
        admin.integrations_get(inc_id)
        raise AssertionError("a removed integration is still there")
    except RocketApiException as e:
        check(e.response_json.get("error") == "The integration does not exists.", f"{e.response_json}")

    admin.logout()
    print("rocketchat_API client: all checks passed")


if __name__ == "__main__":
    main(*sys.argv[1:4])
