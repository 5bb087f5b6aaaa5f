#!/usr/bin/env bash
# Real sender: Prometheus Alertmanager's Slack notifier (Debian package
# prometheus-alertmanager) with `slack_configs.api_url` pointed at a liftoff hook. Fires one
# alert through Alertmanager's API and waits for it to arrive in #general as a message with
# its Slack attachment; then resolves it and waits for the resolved notice.
source "$(dirname "$0")/common.sh"

if ! command -v prometheus-alertmanager >/dev/null; then
  say "installing prometheus-alertmanager"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager) >/dev/null
fi
prometheus-alertmanager --version 2>&1 | head -1 >&2

AM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/alertmanager.yml" <<YML
route:
  receiver: liftoff
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: liftoff
    slack_configs:
      - api_url: '$HOOK_URL'
        send_resolved: true
        username: 'alertmanager'
        icon_emoji: ':fire:'
        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}'
        text: '{{ range .Alerts }}{{ .Annotations.summary }} (severity {{ .Labels.severity }}){{ end }}'
        fields:
          - title: Instance
            value: '{{ .CommonLabels.instance }}'
            short: true
YML
prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am-data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= --log.level=warn \
  >"$WORK/am.out" 2>"$WORK/am.err" &
EXTRA_PIDS=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null || { cat "$WORK/am.err" >&2; exit 1; }
say "alertmanager on 127.0.0.1:$AM_PORT"

fire() { # fire <endsAt-offset-seconds>
  local ends
  ends=$(python3 -c "import datetime,sys; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=int(sys.argv[1]))).strftime('%Y-%m-%dT%H:%M:%S.000Z'))" "$1")
  curl -sf -X POST "http://127.0.0.1:$AM_PORT/api/v2/alerts" -H 'content-type: application/json' -d "[{
    \"labels\": {\"alertname\": \"DiskFull\", \"severity\": \"critical\", \"instance\": \"db-1:9100\"},
    \"annotations\": {\"summary\": \"Disk /var is 97% full\"},
    \"endsAt\": \"$ends\"}]"
}

wait_for() { # wait_for <python predicate on the newest message m> <what>
  for _ in $(seq 1 60); do
    MESSAGES=$(general_messages)
    if python3 -c "import json,sys; ms=json.loads(sys.argv[1]); sys.exit(0 if ms and ($1) else 1)" "$MESSAGES" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  say "timed out waiting for: $2"; echo "$MESSAGES" >&2; cat "$WORK/am.err" >&2; exit 1
}

say "firing an alert"
fire 3600
wait_for "'FIRING' in json.dumps(ms[0].get('attachments', []))" "the firing alert"
python3 - "$MESSAGES" "$HOOK_ID" <<'PY'
import json, sys
m, hook_id = json.loads(sys.argv[1])[0], sys.argv[2]
att = m["attachments"][0]
print("firing message:", json.dumps({k: m.get(k) for k in ("alias", "emoji", "msg", "bot")}), file=sys.stderr)
print("attachment:", json.dumps(att), file=sys.stderr)
assert m["bot"] == {"i": hook_id}, m
assert m["alias"] == "alertmanager" and m["emoji"] == ":fire:", m
assert att["title"] == "[FIRING] DiskFull", att
assert att["title_link"].endswith("#/alerts?receiver=liftoff") and att["mrkdwn_in"] == ["fallback", "pretext", "text"], att
assert att["text"] == "Disk /var is 97% full (severity critical)", att
assert att["color"] == "danger", att
assert {"title": "Instance", "value": "db-1:9100", "short": True} in att["fields"], att
PY

say "resolving it"
fire -1
wait_for "ms[0]['attachments'][0]['title'] == '[RESOLVED] DiskFull'" "the resolved notice"
python3 -c "import json,sys; a=json.loads(sys.argv[1])[0]['attachments'][0]; assert a['color']=='good', a" "$MESSAGES"
echo "alertmanager: the firing alert and its resolution arrived as messages with their Slack attachments"
