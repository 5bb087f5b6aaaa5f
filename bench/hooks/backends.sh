#!/usr/bin/env bash
# /hooks durable throughput on SQLite, on PostgreSQL with one node, and on PostgreSQL with two
# nodes sharing one database, in one run on this machine.
#
#   1. liftoff on SQLite (synchronous=FULL, group commit), wrk closed loop on one hook;
#   2. liftoff on a fresh PostgreSQL database (synchronous_commit as the server has it, `on`
#      by default: every message is committed before its 200), same load;
#   3. two liftoff nodes on one fresh PostgreSQL database, the hook created through the first;
#      two wrk processes at the same time, half the connections each, one per node.
# Every run is checked afterwards: the database holds at least as many hook messages as there
# were 200 answers; on PostgreSQL the table also gives the messages stored per WAL flush
# (`pg_stat_wal.wal_sync` around the run). ROUNDS rounds run the three one after the other each time, so drift in the
# machine's load hits all three; the table gives each round and the median.
#
# NODE_CPUS (cores, e.g. 0.5) gives each liftoff process a CPU budget of its own, enforced by a
# cgroup (v1 or v2 `cpu` controller; needs root): a model of nodes on machines of their own,
# with PostgreSQL and wrk on the rest of the machine. Unset, every process shares every core,
# so a second node adds no CPU, only a second committer.
#
# PG_URL (default postgres://postgres@127.0.0.1:5432) is a server where this user may create
# and drop databases. Environment: ROUNDS (default 1), DURATION (s, default 15), CONNS (default
# 64), WRK_THREADS (default 1), NODE_CPUS, CARGO_TARGET_DIR. Installs wrk with apt-get when
# missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-1}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
BODY=${BODY:-'{"text":"Build #1234 of liftoff passed","attachments":[{"title":"CI","title_link":"https://ci.example.com/1234","text":"all 312 tests green","color":"#36a64f"}]}'}
export BODY CONNS WRK_THREADS
. "$ROOT/bench/hooks/lib.sh"
need_wrk
command -v psql >/dev/null || { echo "psql is required" >&2; exit 1; }
build_release

# The databases this script makes are named liftoff_bench_*; dropped at exit (fresh_database
# runs in a subshell, so they are found by name rather than remembered).
drop_databases() {
  for d in $(psql "$PG_URL/postgres" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'liftoff\_bench\_%'"); do
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap 'cleanup; drop_databases; drop_budgets' EXIT
fresh_database() { # fresh_database <name>: prints its URL
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $1" >/dev/null
  echo "$PG_URL/$1"
}
SYNC=$(psql "$PG_URL/postgres" -Atc 'show synchronous_commit')

# CPU budgets: one cgroup per node, named liftoff_bench_<node>, created on first use. Periods
# of 10 ms, so a node over its budget pauses for milliseconds, not for most of the default
# 100 ms period (which stalls every request in flight and makes the figure about throttling).
NODE_CPUS=${NODE_CPUS:-}
if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cgroup.procs ]; then CGROUPS=v1; CG_ROOT=/sys/fs/cgroup/cpu
elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then CGROUPS=v2; CG_ROOT=/sys/fs/cgroup
else CGROUPS=; fi
PERIOD_US=10000
budget() { # budget <node number>: prints the cgroup.procs file of that node's budget
  local dir="$CG_ROOT/liftoff_bench_$1" quota
  quota=$(python3 -c 'import sys; print(round(float(sys.argv[1]) * int(sys.argv[2])))' "$NODE_CPUS" "$PERIOD_US")
  mkdir -p "$dir"
  if [ "$CGROUPS" = v1 ]; then
    echo "$PERIOD_US" >"$dir/cpu.cfs_period_us" && echo "$quota" >"$dir/cpu.cfs_quota_us"
  else
    grep -qw cpu "$CG_ROOT/cgroup.subtree_control" || echo +cpu >"$CG_ROOT/cgroup.subtree_control"
    echo "$quota $PERIOD_US" >"$dir/cpu.max"
  fi
  echo "$dir/cgroup.procs"
}
in_budget() { echo "$BASHPID" >"$1" && exec "${@:2}"; } # in_budget <procs file> <cmd...>
drop_budgets() { rmdir "$CG_ROOT"/liftoff_bench_* 2>/dev/null || true; }
if [ -n "$NODE_CPUS" ]; then
  [ -n "$CGROUPS" ] || { echo "NODE_CPUS needs a cgroup cpu controller under /sys/fs/cgroup" >&2; exit 1; }
  budget 1 >/dev/null || { echo "NODE_CPUS: cannot create a cgroup under $CG_ROOT (run as root)" >&2; exit 1; }
fi

# run <label> <url...>: warms up, then drives each url with its share of the connections at
# the same time; prints one JSON line {label, ok, seconds, p50_us, p99_us, non2xx}.
run() {
  local label=$1; shift
  local n=$# i=0 pids=()
  for u in "$@"; do CONNS=$((CONNS / n)) wrk_run "$u" 2 >/dev/null & pids+=($!); done
  wait "${pids[@]}"
  pids=()
  for u in "$@"; do
    i=$((i + 1))
    (CONNS=$((CONNS / n)) wrk_run "$u" "$DURATION" >"$WORK/$label.$i.json") & pids+=($!)
  done
  wait "${pids[@]}"
  python3 - "$label" "$WORK/$label".*.json <<'PY'
import json, sys
label, runs = sys.argv[1], [json.load(open(p)) for p in sys.argv[2:]]
ok = sum(r["requests"] - r["non2xx"] for r in runs)
seconds = max(r["duration_us"] for r in runs) / 1e6
print(json.dumps({"label": label, "ok": ok, "seconds": seconds, "rps": ok / seconds,
                  "p50_us": max(r["p50_us"] for r in runs), "p99_us": max(r["p99_us"] for r in runs),
                  "non2xx": sum(r["non2xx"] for r in runs)}))
PY
}

# wal_flushes <database url>: PostgreSQL's WAL flushes so far (server-wide; 0 on SQLite). Taken
# around a run (warm-up included), with the messages stored it gives messages per flush.
wal_flushes() {
  case $1 in
    sqlite://*) echo 0 ;;
    *) psql "$1" -Atc 'SELECT wal_sync FROM pg_stat_wal' ;;
  esac
}

# stored <database url> <hook id>: messages the hook posted.
stored() {
  case $1 in
    sqlite://*) python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM messages WHERE json_extract(doc, \"$.bot.i\") = ?", (sys.argv[2],)).fetchone()[0])' "${1#sqlite://}" "$2" ;;
    *) psql "$1" -Atc "SELECT count(*) FROM messages WHERE doc->'bot'->>'i' = '$2'" ;;
  esac
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=()
# measure <label> <database url> <nodes>
measure() {
  local label=$1 db=$2 nodes=$3 urls=() node_pids=()
  for n in $(seq 1 "$nodes"); do
    [ -z "$NODE_CPUS" ] || LAUNCH=(in_budget "$(budget "$n")")
    start_liftoff "$label-$n" "$db"
    urls+=("$URL"); node_pids+=("$PID")
  done
  login "${urls[0]}"
  create_hook "${urls[0]}" "bench-$label"
  local targets=()
  for u in "${urls[@]}"; do targets+=("$u$HOOK_PATH"); done
  log "$label: $nodes node(s), wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s in all"
  local line flushes_before
  flushes_before=$(wal_flushes "$db")
  line=$(run "$label" "${targets[@]}")
  for p in "${node_pids[@]}"; do stop "$p"; done
  local kept flushes
  kept=$(stored "$db" "$HOOK_ID")
  flushes=$(($(wal_flushes "$db") - flushes_before))
  RESULTS+=("$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["stored"]=int(sys.argv[2]); d["flushes"]=int(sys.argv[3]); print(json.dumps(d))' "$line" "$kept" "$flushes")")
  echo "${RESULTS[-1]}" >&2
}

for r in $(seq 1 "$ROUNDS"); do
  measure sqlite "sqlite://$WORK/bench-$r.db" 1
  measure postgres-1-node "$(fresh_database liftoff_bench_one_$r)" 1
  measure postgres-2-nodes "$(fresh_database liftoff_bench_two_$r)" 2
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$(nproc)" "$LOAD_BEFORE" "$LOAD_AFTER" "$SYNC" "$CONNS" "$WRK_THREADS" "$DURATION" "$NODE_CPUS" "${RESULTS[@]}" <<'PY'
import json, statistics, sys
nproc, before, after, sync, conns, threads, duration, node_cpus = sys.argv[1:9]
runs = [json.loads(r) for r in sys.argv[9:]]
labels = list(dict.fromkeys(r["label"] for r in runs))
by_label = {l: [r for r in runs if r["label"] == l] for l in labels}
median = {l: statistics.median(r["rps"] for r in rs) for l, rs in by_label.items()}
print()
print(f"{nproc} cores; load average before {before}, after {after}; PostgreSQL synchronous_commit={sync}")
print(f"wrk -t{threads} -c{conns} -d{duration}s in all (split evenly over the nodes), {len(by_label[labels[0]])} round(s)")
print(f"each liftoff process limited to {node_cpus} cores (cgroup)" if node_cpus else "every process shares every core")
print()
print("| run | hooks/s (median) | per round | of SQLite | p50 / p99 (worst round) | non-2xx | stored / answered | messages per WAL flush |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
failed = False
for l, rs in by_label.items():
    rounds = " / ".join(f"{r['rps']:,.0f}" for r in rs)
    p50, p99 = max(r["p50_us"] for r in rs), max(r["p99_us"] for r in rs)
    stored, ok = sum(r["stored"] for r in rs), sum(r["ok"] for r in rs)
    flushes = sum(r["flushes"] for r in rs)
    per_flush = f"{stored / flushes:.1f}" if flushes else "-"
    print(f"| {l} | {median[l]:,.0f} | {rounds} | {median[l] / median[labels[0]] * 100:.0f}% | {p50 / 1000:.2f} / {p99 / 1000:.2f} ms | {sum(r['non2xx'] for r in rs)} | {stored:,} / {ok:,}+ | {per_flush} |")
    failed |= any(r["stored"] < r["ok"] for r in rs)
if len(labels) == 3:
    print(f"\ntwo nodes / one node (medians): {median[labels[2]] / median[labels[1]] * 100:.0f}%")
if failed:
    print("FAIL: fewer stored messages than 200 answers")
    sys.exit(1)
PY
