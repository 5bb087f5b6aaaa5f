# Shared by the real-sender checks: builds and starts liftoff on a fresh database, logs in
# as admin and creates an incoming hook. Source it; it defines:
#   LIFTOFF_URL, HOOK_ID, HOOK_TOKEN, HOOK_URL, WORK, api_get <path> [query], api_post <path> <json>,
#   general_messages (JSON of #general's user messages, newest first), finish (stops and cleans).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d)
LIFTOFF_PID=

say() { printf '== %s\n' "$*" >&2; }
finish() {
  [ -n "$LIFTOFF_PID" ] && kill "$LIFTOFF_PID" 2>/dev/null || true
  [ -n "${EXTRA_PIDS:-}" ] && kill $EXTRA_PIDS 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap finish EXIT

json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

say "building liftoff"
(cd "$ROOT" && cargo build -q -p liftoff --bin liftoff >&2)
env -i PATH="$PATH" PORT=0 BIND_IP=127.0.0.1 DATABASE_URL="sqlite://$WORK/liftoff.db" \
  ADMIN_USERNAME=admin ADMIN_PASS=sender-pass ADMIN_EMAIL=admin@example.com RUST_LOG=warn \
  OVERWRITE_SETTING_API_Enable_Rate_Limiter=false \
  "$TARGET_DIR/debug/liftoff" >"$WORK/liftoff.out" 2>"$WORK/liftoff.err" &
LIFTOFF_PID=$!
for _ in $(seq 1 200); do
  LIFTOFF_URL=$(grep -o 'http://[0-9.:]*' "$WORK/liftoff.out" 2>/dev/null || true)
  [ -n "$LIFTOFF_URL" ] && break
  sleep 0.05
done
[ -n "$LIFTOFF_URL" ] || { cat "$WORK/liftoff.err" >&2; exit 1; }
say "liftoff on $LIFTOFF_URL"

LOGIN=$(curl -sf -X POST "$LIFTOFF_URL/api/v1/login" -H 'content-type: application/json' -d '{"user":"admin","password":"sender-pass"}')
ADMIN_ID=$(json "$LOGIN" "d['data']['userId']")
ADMIN_TOKEN=$(json "$LOGIN" "d['data']['authToken']")
api_post() { curl -sf -X POST "$LIFTOFF_URL/api/v1/$1" -H 'content-type: application/json' -H "X-User-Id: $ADMIN_ID" -H "X-Auth-Token: $ADMIN_TOKEN" -d "$2"; }
api_get() { curl -sf -G "$LIFTOFF_URL/api/v1/$1" ${2:+--data "$2"} -H "X-User-Id: $ADMIN_ID" -H "X-Auth-Token: $ADMIN_TOKEN"; }
general_messages() {
  local all
  all=$(api_get channels.messages "roomId=GENERAL&count=100")
  json "$all" "json.dumps(sorted([m for m in d['messages'] if 't' not in m], key=lambda m: m['ts'], reverse=True))"
}

HOOK=$(api_post integrations.create '{"type":"webhook-incoming","name":"sender check","enabled":true,"username":"rocket.cat","channel":"#general","scriptEnabled":false}')
HOOK_ID=$(json "$HOOK" "d['integration']['_id']")
HOOK_TOKEN=$(json "$HOOK" "d['integration']['token']")
HOOK_URL="$LIFTOFF_URL/hooks/$HOOK_ID/$HOOK_TOKEN"
say "hook $HOOK_URL"
