#!/usr/bin/env bash
# /hooks throughput with Prometheus metrics disabled and enabled, in one run: ROUNDS rounds,
# each starting a fresh SQLite server with metrics off, then one with metrics on (scraped once
# a second during the load, as Prometheus would), so drift in the machine's load hits both
# alike. Prints the median of each and their ratio.
#
# Environment: ROUNDS (default 3), DURATION (s, default 10), CONNS (default 64), WRK_THREADS
# (default 1), CARGO_TARGET_DIR. Installs wrk with apt-get when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
BODY=${BODY:-'{"text":"Build #1234 of liftoff passed","attachments":[{"title":"CI","title_link":"https://ci.example.com/1234","text":"all 312 tests green","color":"#36a64f"}]}'}
export BODY CONNS WRK_THREADS
. "$ROOT/bench/hooks/lib.sh"
need_wrk
build_release

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# one <off|on> <round>: prints hooks/s of one fresh server.
one() {
  local mode=$1 round=$2 extra=() port scraper=""
  if [ "$mode" = on ]; then
    port=$(free_port)
    extra=(OVERWRITE_SETTING_Prometheus_Enabled=true "OVERWRITE_SETTING_Prometheus_Port=$port")
  fi
  start_liftoff "$mode-$round" "sqlite://$WORK/$mode-$round.db" "${extra[@]}"
  local base=$URL pid=$PID
  login "$base"
  create_hook "$base" bench
  if [ "$mode" = on ]; then
    (while true; do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null || true; sleep 1; done) &
    scraper=$!
  fi
  wrk_run "$base$HOOK_PATH" 2 >/dev/null
  local json
  json=$(wrk_run "$base$HOOK_PATH" "$DURATION")
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null
  stop "$pid"
  field "$json" "(d['requests'] - d['non2xx']) / (d['duration_us'] / 1e6)"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
OFF=() ON=()
for r in $(seq 1 "$ROUNDS"); do
  OFF+=("$(one off "$r")"); log "round $r metrics off: ${OFF[-1]}"
  ON+=("$(one on "$r")"); log "round $r metrics on: ${ON[-1]}"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$LOAD_BEFORE" "$LOAD_AFTER" "$(nproc)" "$DURATION" "${#OFF[@]}" "${OFF[@]}" "${ON[@]}" <<'PY'
import statistics, sys
before, after, nproc, duration, n = sys.argv[1:6]
values = [float(v) for v in sys.argv[6:]]
off, on = values[:int(n)], values[int(n):]
print()
print(f"{nproc} cores; load average before {before}, after {after}; {n} rounds of wrk {duration}s each")
print()
print("| metrics | hooks/s per round | median |")
print("| --- | --- | ---: |")
print(f"| disabled | {', '.join(f'{v:,.0f}' for v in off)} | {statistics.median(off):,.0f} |")
print(f"| enabled, scraped every second | {', '.join(f'{v:,.0f}' for v in on)} | {statistics.median(on):,.0f} |")
print()
print(f"enabled / disabled: {statistics.median(on) / statistics.median(off) * 100:.1f}%")
PY
