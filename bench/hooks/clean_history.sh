#!/usr/bin/env bash
# `rooms.cleanHistory` of a room with many messages, on SQLite and on PostgreSQL: posts
# MESSAGES messages to #general through an incoming hook (16 at a time), then times one
# rooms.cleanHistory call deleting all of them (each leaves its room's count and keeps its
# trash record). Prints one line per backend: messages deleted and seconds.
#
# PG_URL (default postgres://postgres@127.0.0.1:5432) is a server where this user may create
# and drop databases; without psql only SQLite runs. Environment: MESSAGES (default 5000),
# LIFTOFF (a binary to measure instead of the release build), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MESSAGES=${MESSAGES:-5000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
GIVEN=${LIFTOFF:-}
. "$ROOT/bench/hooks/lib.sh"
[ -n "$GIVEN" ] || build_release
DB_NAME=liftoff_bench_clean
trap 'cleanup; command -v psql >/dev/null && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

measure() { # measure <label> <database url>
  start_liftoff "$1" "$2"
  login "$URL"
  create_hook "$URL" "clean-$1"
  python3 - "$URL$HOOK_PATH" "$MESSAGES" <<'PY'
import concurrent.futures, sys, urllib.request
url, n = sys.argv[1], int(sys.argv[2])
def post(_):
    req = urllib.request.Request(url, data=b'{"text":"to be cleaned"}', headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(post, range(n)))
PY
  local body started answer
  body='{"roomId":"GENERAL","oldest":"2000-01-01T00:00:00.000Z","latest":"2999-01-01T00:00:00.000Z"}'
  started=$(date +%s.%N)
  answer=$(curl -sf -X POST "$URL/api/v1/rooms.cleanHistory" -H 'content-type: application/json' \
    -H "X-User-Id: $ADMIN_ID" -H "X-Auth-Token: $ADMIN_TOKEN" -d "$body")
  python3 -c 'import json,sys; n = json.loads(sys.argv[2])["count"]; print(f"{sys.argv[1]}: {n:,} messages deleted in {float(sys.argv[4]) - float(sys.argv[3]):.3f} s")' \
    "$1" "$answer" "$started" "$(date +%s.%N)"
  stop "$PID"
}

measure sqlite "sqlite://$WORK/clean.db"
if command -v psql >/dev/null; then
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB_NAME" >/dev/null
  measure postgres "$PG_URL/$DB_NAME"
fi
