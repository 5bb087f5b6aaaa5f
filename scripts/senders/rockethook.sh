#!/usr/bin/env bash
# Real sender: the PyPI package `rockethook` (Slack-style `payload=` form posts) against
# liftoff. Installs it into a virtualenv of its own; exits non-zero if the messages do not
# arrive as sent.
source "$(dirname "$0")/common.sh"

say "installing rockethook into a virtualenv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q rockethook >&2
"$WORK/venv/bin/pip" show rockethook | grep -E '^(Name|Version)' >&2

say "posting with rockethook"
"$WORK/venv/bin/python" - "$LIFTOFF_URL" "$HOOK_ID/$HOOK_TOKEN" "$HOOK_ID/wrong-token" <<'PY'
import sys
import rockethook

server, token, wrong = sys.argv[1:]
hook = rockethook.Webhook(server, token)
hook.quick_post("Hello from rockethook & friends: 100% plain text")

msg = rockethook.Message(icon_url="http://example.com/icon.png")
msg.append_text("First line.")
msg.append_text("Second line.")
msg.add_attachment(title="Attach", title_link="http://example.com", image_url="http://example.com/img.png", color="#764FA5")
hook.post(msg)

try:
    rockethook.Webhook(server, wrong).quick_post("must not arrive")
except rockethook.WebhookError as e:
    print("wrong token refused:", e.message)
    assert e.status == 404, e.status
    assert "Invalid integration id or token provided." in e.message
else:
    raise SystemExit("a wrong token was accepted")
PY

MESSAGES=$(general_messages)
python3 - "$MESSAGES" "$HOOK_ID" <<'PY'
import json, sys
msgs, hook_id = json.loads(sys.argv[1]), sys.argv[2]
assert len(msgs) == 2, msgs
second, first = msgs
assert first["msg"] == "Hello from rockethook & friends: 100% plain text", first
assert second["msg"] == "First line.\nSecond line.", second
assert second["avatar"] == "http://example.com/icon.png", second
att = second["attachments"][0]
assert att == {"title": "Attach", "title_link": "http://example.com", "image_url": "http://example.com/img.png", "color": "#764FA5"}, att
for m in msgs:
    assert m["bot"] == {"i": hook_id} and m["u"]["username"] == "rocket.cat", m
print("rockethook: 2 messages arrived as sent; a wrong token got 404")
PY
