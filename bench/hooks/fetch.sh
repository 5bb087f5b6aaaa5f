#!/usr/bin/env bash
# Script hooks that await one loopback fetch, beside plain script hooks, in one run.
#
#   1. starts crates/server/examples/plain_http (answers {"success":true}) as the API the
#      scripts fetch, and liftoff with Integrations_Outgoing_Allow_Private_Addresses=true;
#   2. creates two script hooks: one whose process_incoming_request builds the message at once,
#      one that first awaits fetch(<plain_http>).json() and puts the answer in the message;
#   3. drives each with wrk (closed loop) for $DURATION s and prints hooks/s, p50 and p99.
#
# Installs wrk with apt-get when missing. Environment: DURATION (s, default 10), CONNS
# (default 64), WRK_THREADS (default 1), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BODY=${BODY:-'{"text":"Build #1234 of liftoff passed"}'}
export BODY

log() { printf '\n== %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

log "building liftoff and plain_http (release)"
(cd "$ROOT" && cargo build --release -p liftoff --bin liftoff --example plain_http >&2)
LIFTOFF="$TARGET_DIR/release/liftoff"
PLAIN="$TARGET_DIR/release/examples/plain_http"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # start <name> <cmd...>: waits for "listening on", sets URL and PID
  local name=$1; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 200); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$WORK/$name.out" 2>/dev/null | sed 's/listening on //' || true)
    [ -n "$URL" ] && return 0
    sleep 0.05
  done
  echo "$name did not start" >&2; cat "$WORK/$name.err" >&2; exit 1
}
wrk_run() { # wrk_run <url> <seconds>: the WRK_JSON summary
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"$2"s --latency -s "$ROOT/bench/hooks/post.lua" "$1" | grep '^WRK_JSON' | sed 's/^WRK_JSON //'
}
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
start api env PORT=0 BIND_IP=127.0.0.1 "$PLAIN"
API_URL="$URL/hooks/api/lookup"
start liftoff env -i PATH="$PATH" PORT=0 BIND_IP=127.0.0.1 DATABASE_URL="sqlite://$WORK/liftoff.db" \
  ADMIN_USERNAME=admin ADMIN_PASS=bench-pass ADMIN_EMAIL=admin@example.com RUST_LOG=warn \
  OVERWRITE_SETTING_API_Enable_Rate_Limiter=false \
  OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses=true "$LIFTOFF"
LIFTOFF_URL=$URL

LOGIN=$(curl -sf -X POST "$LIFTOFF_URL/api/v1/login" -H 'content-type: application/json' -d '{"user":"admin","password":"bench-pass"}')
ADMIN_ID=$(field "$LOGIN" "d['data']['userId']")
ADMIN_TOKEN=$(field "$LOGIN" "d['data']['authToken']")
create() { # create <name> <script>: the hook URL
  local body
  body=$(python3 -c 'import json,sys; print(json.dumps({"type":"webhook-incoming","name":sys.argv[1],"enabled":True,"username":"rocket.cat","channel":"#general","scriptEnabled":True,"script":sys.argv[2]}))' "$1" "$2")
  local made
  made=$(curl -sf -X POST "$LIFTOFF_URL/api/v1/integrations.create" -H 'content-type: application/json' \
    -H "X-User-Id: $ADMIN_ID" -H "X-Auth-Token: $ADMIN_TOKEN" -d "$body")
  field "$made" "'$LIFTOFF_URL/hooks/' + d['integration']['_id'] + '/' + d['integration']['token']"
}
PLAIN_SCRIPT='class Script { process_incoming_request({ request }) { return { content: { text: "[plain] " + request.content.text } }; } }'
FETCH_SCRIPT="class Script { async process_incoming_request({ request }) { const r = await fetch('$API_URL', { method: 'POST', body: { q: request.content.text } }); const j = await r.json(); return { content: { text: '[fetched ' + j.success + '] ' + request.content.text } }; } }"
PLAIN_URL=$(create bench-script "$PLAIN_SCRIPT")
FETCH_URL=$(create bench-fetch "$FETCH_SCRIPT")
for u in "$PLAIN_URL" "$FETCH_URL"; do
  answer=$(curl -s -X POST "$u" -H 'content-type: application/json' -d "$BODY")
  [ "$answer" = '{"success":true}' ] || { echo "hook check failed: $answer" >&2; exit 1; }
done

log "plain script hooks: wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s"
wrk_run "$PLAIN_URL" 2 >/dev/null
PLAIN_JSON=$(wrk_run "$PLAIN_URL" "$DURATION")
log "script hooks awaiting one loopback fetch: same"
wrk_run "$FETCH_URL" 2 >/dev/null
FETCH_JSON=$(wrk_run "$FETCH_URL" "$DURATION")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$PLAIN_JSON" "$FETCH_JSON" "$LOAD_BEFORE" "$LOAD_AFTER" "$(nproc)" "$CONNS" "$WRK_THREADS" "$DURATION" <<'PY'
import json, sys
plain, fetch = json.loads(sys.argv[1]), json.loads(sys.argv[2])
load_before, load_after, nproc, conns, threads, duration = sys.argv[3:]
print()
print(f"{nproc} cores; load average before {load_before}, after {load_after}; wrk -t{threads} -c{conns} -d{duration}s")
print()
print("| hook | hooks/s | p50 | p99 | non-2xx / errors |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, w in (("script hook", plain), ("script hook awaiting one loopback fetch", fetch)):
    ok = w["requests"] - w["non2xx"]
    errors = w["connect"] + w["read"] + w["write"] + w["timeout"]
    print(f"| {name} | {ok / (w['duration_us'] / 1e6):,.0f} | {w['p50_us'] / 1000:.2f} ms | {w['p99_us'] / 1000:.2f} ms | {w['non2xx']} / {errors} |")
PY
