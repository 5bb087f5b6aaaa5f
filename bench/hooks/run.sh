#!/usr/bin/env bash
# Load benchmark of the /hooks receiver over loopback.
#
# In one run, on this machine:
#   1. the plain HTTP ceiling: crates/server/examples/plain_http.rs (same axum/tokio, a route
#      shaped like a hook URL that reads the body and answers {"success":true}, no storage);
#   2. sustained POST /hooks/<id>/<token> throughput on liftoff (SQLite, synchronous=FULL,
#      group commit: every message is committed before its 200);
#   3. the same for a script-enabled hook (process_incoming_request builds the message);
#   4. latency (p50/p99) at a fixed rate of $RATE requests/s (oha, latency-corrected);
#   5. resident memory of liftoff under that load, and a check that the database holds at
#      least as many hook messages as there were 200 answers.
#
# Installs what it needs: wrk (apt-get) and oha (cargo install, into $TOOLS). Closed-loop
# throughput uses wrk (cheapest client, leaves the most CPU to the server); the fixed-rate run
# uses oha. Both share the 2 cores with the server, for the ceiling and the hooks alike.
#
# Environment: DURATION (s, default 15), CONNS (default 64), WRK_THREADS (default 1),
# RATE (default 5000), LATENCY_DURATION (s, default 20), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-15}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
RATE=${RATE:-5000}
LATENCY_DURATION=${LATENCY_DURATION:-20}
BODY=${BODY:-'{"text":"Build #1234 of liftoff passed","attachments":[{"title":"CI","title_link":"https://ci.example.com/1234","text":"all 312 tests green","color":"#36a64f"}]}'}
export BODY CONNS WRK_THREADS
. "$ROOT/bench/hooks/lib.sh"
TOOLS=${TOOLS:-$TARGET_DIR/bench-tools}

# --- tools ---------------------------------------------------------------------------------
need_wrk
OHA=$(command -v oha || true)
if [ -z "$OHA" ]; then
  OHA="$TOOLS/bin/oha"
  if [ ! -x "$OHA" ]; then
    log "installing oha (cargo install, a few minutes)"
    CARGO_TARGET_DIR="$TARGET_DIR/oha-build" cargo install oha --locked --root "$TOOLS" >&2
  fi
fi
build_release

# rss_watch <pid> <file>: samples VmRSS (kB) every 0.2 s into <file> until killed.
rss_watch() {
  while kill -0 "$1" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$1/status" >>"$2" 2>/dev/null || true
    sleep 0.2
  done
}
max_of() { sort -n "$1" | tail -1; }

# --- machine -------------------------------------------------------------------------------
CPU=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
NPROC=$(nproc)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine: $NPROC cores, $CPU, load $LOAD_BEFORE"

# --- 1. plain HTTP ceiling ------------------------------------------------------------------
start plain env PORT=0 BIND_IP=127.0.0.1 "$PLAIN"
PLAIN_URL="$URL/hooks/abc/def"
log "plain HTTP ceiling: wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s POST $PLAIN_URL"
wrk_run "$PLAIN_URL" 2 >/dev/null
PLAIN_JSON=$(wrk_run "$PLAIN_URL" "$DURATION")
stop "$PID"
echo "$PLAIN_JSON" >&2

# --- liftoff --------------------------------------------------------------------------------
start_liftoff liftoff "sqlite://$WORK/liftoff.db"
LIFTOFF_URL=$URL
LIFTOFF_PID=$PID
RSS_IDLE=$(awk '/VmRSS/ {print $2}' "/proc/$LIFTOFF_PID/status")

login "$LIFTOFF_URL"
create_hook "$LIFTOFF_URL" bench
HOOK_URL="$LIFTOFF_URL$HOOK_PATH"
PLAIN_ID=$HOOK_ID
SCRIPT='class Script { process_incoming_request({ request }) { const c = request.content; return { content: { text: "[" + request.headers["content-type"] + "] " + c.text, attachments: c.attachments } }; } }'
create_hook "$LIFTOFF_URL" bench-script "$SCRIPT"
SCRIPT_URL="$LIFTOFF_URL$HOOK_PATH"
SCRIPT_ID=$HOOK_ID
curl -sf -X POST "$SCRIPT_URL" -H 'content-type: application/json' -d "$BODY" >/dev/null

RSS_FILE="$WORK/rss"
rss_watch "$LIFTOFF_PID" "$RSS_FILE" &
RSS_WATCH=$!
PIDS+=("$RSS_WATCH")

# --- 2. hooks sustained ---------------------------------------------------------------------
log "hooks: wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s POST /hooks/<id>/<token>"
WARM_JSON=$(wrk_run "$HOOK_URL" 2)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$LIFTOFF_PID/stat"; }
CPU0=$(cpu_ticks)
HOOK_JSON=$(wrk_run "$HOOK_URL" "$DURATION")
CPU_HOOK=$(( $(cpu_ticks) - CPU0 ))
echo "$HOOK_JSON" >&2

# --- 3. script hooks sustained --------------------------------------------------------------
log "script hooks: wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s"
SWARM_JSON=$(wrk_run "$SCRIPT_URL" 2)
CPU0=$(cpu_ticks)
SCRIPT_JSON=$(wrk_run "$SCRIPT_URL" "$DURATION")
CPU_SCRIPT=$(( $(cpu_ticks) - CPU0 ))
echo "$SCRIPT_JSON" >&2

# --- 4. latency at a fixed rate -------------------------------------------------------------
oha_run() { # oha_run <url>: JSON
  "$OHA" -z "${LATENCY_DURATION}s" -q "$RATE" -c "$CONNS" --latency-correction --no-tui --output-format json \
    -m POST -H 'content-type: application/json' -d "$BODY" "$1"
}
log "latency: oha -q $RATE -c $CONNS -z ${LATENCY_DURATION}s --latency-correction (plain hook)"
: >"$RSS_FILE.fixed"
rss_watch "$LIFTOFF_PID" "$RSS_FILE.fixed" &
PIDS+=("$!")
LAT_JSON=$("$OHA" --version >/dev/null; oha_run "$HOOK_URL")
log "latency: same, script hook"
SLAT_JSON=$(oha_run "$SCRIPT_URL")
kill "$RSS_WATCH" 2>/dev/null || true

RSS_MAX=$(max_of "$RSS_FILE")
RSS_FIXED=$(max_of "$RSS_FILE.fixed")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 5. durability check --------------------------------------------------------------------
stop "$LIFTOFF_PID"
python3 - "$WORK/liftoff.db" "$PLAIN_ID" "$SCRIPT_ID" "$WARM_JSON" "$HOOK_JSON" "$SWARM_JSON" "$SCRIPT_JSON" \
  "$LAT_JSON" "$SLAT_JSON" "$PLAIN_JSON" "$RSS_IDLE" "$RSS_MAX" "$RSS_FIXED" "$CPU" "$NPROC" "$LOAD_BEFORE" "$LOAD_AFTER" \
  "$RATE" "$CONNS" "$WRK_THREADS" "$DURATION" "$LATENCY_DURATION" "$CPU_HOOK" "$CPU_SCRIPT" "$(getconf CLK_TCK)" <<'PY'
import json, sqlite3, sys
(db, hook_id, script_id, warm, hook, swarm, script, lat, slat, plain, rss_idle, rss_max, rss_fixed,
 cpu, nproc, load_before, load_after, rate, conns, wrk_threads, duration, lat_duration,
 cpu_hook, cpu_script, clk) = sys.argv[1:]
warm, hook, swarm, script, plain = map(json.loads, (warm, hook, swarm, script, plain))
lat, slat = json.loads(lat), json.loads(slat)

def ok(w):
    return w["requests"] - w["non2xx"]

def rps(w):
    return ok(w) / (w["duration_us"] / 1e6)

def oha_ok(o):
    return o.get("statusCodeDistribution", {}).get("200", 0)

con = sqlite3.connect(db)
def count(i):
    return con.execute("SELECT count(*) FROM messages WHERE json_extract(doc, '$.bot.i') = ?", (i,)).fetchone()[0]
stored_hook, stored_script = count(hook_id), count(script_id)
answered_hook = ok(warm) + ok(hook) + oha_ok(lat)
answered_script = 1 + ok(swarm) + ok(script) + oha_ok(slat)

def pct(o, p):
    return o["latencyPercentiles"][p] * 1000

plain_rps, hook_rps, script_rps = rps(plain), rps(hook), rps(script)
rows = [
    ("plain HTTP ceiling (no storage)", f"{plain_rps:,.0f}/s", f"{plain['p50_us']/1000:.2f} / {plain['p99_us']/1000:.2f} ms", "", f"{plain['non2xx']}"),
    ("POST /hooks (JSON, SQLite, durable)", f"{hook_rps:,.0f}/s", f"{hook['p50_us']/1000:.2f} / {hook['p99_us']/1000:.2f} ms", f"{hook_rps/plain_rps*100:.0f}%", f"{hook['non2xx']}"),
    ("POST /hooks, script-enabled", f"{script_rps:,.0f}/s", f"{script['p50_us']/1000:.2f} / {script['p99_us']/1000:.2f} ms", f"{script_rps/plain_rps*100:.0f}%", f"{script['non2xx']}"),
]
print()
print(f"Machine: {nproc} cores, {cpu}; load average before {load_before}, after {load_after}")
print(f"Closed loop: wrk -t{wrk_threads} -c{conns} -d{duration}s; fixed rate: oha -q {rate} -c {conns} -z {lat_duration}s --latency-correction")
print()
print("| run | sustained | p50 / p99 (closed loop) | of ceiling | non-2xx |")
print("| --- | ---: | ---: | ---: | ---: |")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print(f"| fixed rate {int(rate):,}/s | achieved | p50 | p99 | p99.9 | max | success |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, o in (("POST /hooks", lat), ("POST /hooks, script-enabled", slat)):
    s = o["summary"]
    print(f"| {name} | {s['requestsPerSec']:,.0f}/s | {pct(o,'p50'):.2f} ms | {pct(o,'p99'):.2f} ms | {pct(o,'p99.9'):.2f} ms | {s['slowest']*1000:.2f} ms | {s['successRate']*100:.2f}% |")
print()
def cpu_us(ticks, w):
    return int(ticks) / int(clk) * 1e6 / w["requests"]
print(f"CPU time of liftoff per request: {cpu_us(cpu_hook, hook):.0f} µs (hooks), {cpu_us(cpu_script, script):.0f} µs (script-enabled hooks)")
print(f"Resident memory of liftoff: {int(rss_idle)/1024:.0f} MiB idle after start, {int(rss_max)/1024:.0f} MiB max under load, {int(rss_fixed)/1024:.0f} MiB max at {int(rate):,}/s")
print(f"Durability: plain hook {stored_hook} messages stored for {answered_hook} 200 answers; script hook {stored_script} for {answered_script}")
if stored_hook < answered_hook or stored_script < answered_script:
    print("FAIL: fewer stored messages than 200 answers")
    sys.exit(1)
PY
