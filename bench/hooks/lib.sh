# Shared pieces of the /hooks benchmarks (sourced by the scripts beside it).
#
# Expects ROOT (the checkout) to be set. Provides: TARGET_DIR, WORK (a temporary directory
# removed on exit with every started process), log, need_wrk, build_release, start, wrk_run,
# stop, start_liftoff, field, login, create_hook.

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LIFTOFF=${LIFTOFF:-$TARGET_DIR/release/liftoff}
PLAIN="$TARGET_DIR/release/examples/plain_http"

log() { printf '\n== %s\n' "$*" >&2; }

need_wrk() {
  if ! command -v wrk >/dev/null; then
    log "installing wrk"
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
  fi
  command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
}

build_release() {
  log "building liftoff and plain_http (release)"
  (cd "$ROOT" && cargo build --release -p liftoff --bin liftoff --example plain_http >&2)
}

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start <name> <cmd...>: runs it with stdout to $WORK/<name>.out, waits for "listening on",
# sets URL and PID.
start() {
  local name=$1; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 400); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$WORK/$name.out" 2>/dev/null | sed 's/listening on //' || true)
    [ -n "$URL" ] && return 0
    sleep 0.05
  done
  echo "$name did not start" >&2; cat "$WORK/$name.err" >&2; exit 1
}

# stop <pid>: SIGTERM and wait, so that a server commits what it answered and exits.
stop() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }

# start_liftoff <name> <database url> [VAR=value...]: a release liftoff with an administrator
# (admin / bench-pass), the REST rate limiter off and warnings-only logs. LAUNCH, an array, is
# put before the command when set (backends.sh starts nodes in a CPU budget with it).
LAUNCH=()
start_liftoff() {
  local name=$1 db=$2; shift 2
  start "$name" "${LAUNCH[@]}" env -i PATH="$PATH" PORT=0 BIND_IP=127.0.0.1 DATABASE_URL="$db" \
    ADMIN_USERNAME=admin ADMIN_PASS=bench-pass ADMIN_EMAIL=admin@example.com RUST_LOG=warn \
    OVERWRITE_SETTING_API_Enable_Rate_Limiter=false "$@" "$LIFTOFF"
}

# wrk_run <url> <seconds>: prints the WRK_JSON summary line of a closed-loop POST run.
wrk_run() {
  wrk -t"${WRK_THREADS:-1}" -c"${CONNS:-64}" -d"$2"s --latency -s "$ROOT/bench/hooks/post.lua" "$1" \
    | grep '^WRK_JSON' | sed 's/^WRK_JSON //'
}

field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

# login <base url>: sets ADMIN_ID and ADMIN_TOKEN.
login() {
  local answer
  answer=$(curl -sf -X POST "$1/api/v1/login" -H 'content-type: application/json' -d '{"user":"admin","password":"bench-pass"}')
  ADMIN_ID=$(field "$answer" "d['data']['userId']")
  ADMIN_TOKEN=$(field "$answer" "d['data']['authToken']")
}

# create_hook <base url> <name> [script]: creates an incoming hook posting to #general as
# rocket.cat (script-enabled when a script is given) and sets HOOK_ID and HOOK_PATH
# (/hooks/<id>/<token>). Needs ADMIN_ID/ADMIN_TOKEN.
create_hook() {
  local body made
  body=$(python3 -c 'import json,sys; s=sys.argv[2] if len(sys.argv) > 2 else ""; print(json.dumps({"type":"webhook-incoming","name":sys.argv[1],"enabled":True,"username":"rocket.cat","channel":"#general","scriptEnabled":bool(s),**({"script":s} if s else {})}))' "${@:2}")
  made=$(curl -sf -X POST "$1/api/v1/integrations.create" -H 'content-type: application/json' \
    -H "X-User-Id: $ADMIN_ID" -H "X-Auth-Token: $ADMIN_TOKEN" -d "$body")
  HOOK_ID=$(field "$made" "d['integration']['_id']")
  HOOK_PATH=$(field "$made" "'/hooks/' + d['integration']['_id'] + '/' + d['integration']['token']")
}
