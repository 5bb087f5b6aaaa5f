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
BODY=${BODY:-'{"text":"Build #1234 of liftoff passed"}'}
export BODY CONNS WRK_THREADS
. "$ROOT/bench/hooks/lib.sh"
need_wrk
build_release

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
start api env PORT=0 BIND_IP=127.0.0.1 "$PLAIN"
API_URL="$URL/hooks/api/lookup"
start_liftoff liftoff "sqlite://$WORK/liftoff.db" OVERWRITE_SETTING_Integrations_Outgoing_Allow_Private_Addresses=true
LIFTOFF_URL=$URL
login "$LIFTOFF_URL"
PLAIN_SCRIPT='class Script { process_incoming_request({ request }) { return { content: { text: "[plain] " + request.content.text } }; } }'
FETCH_SCRIPT="class Script { async process_incoming_request({ request }) { const r = await fetch('$API_URL', { method: 'POST', body: { q: request.content.text } }); const j = await r.json(); return { content: { text: '[fetched ' + j.success + '] ' + request.content.text } }; } }"
create_hook "$LIFTOFF_URL" bench-script "$PLAIN_SCRIPT"
PLAIN_URL="$LIFTOFF_URL$HOOK_PATH"
create_hook "$LIFTOFF_URL" bench-fetch "$FETCH_SCRIPT"
FETCH_URL="$LIFTOFF_URL$HOOK_PATH"
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
