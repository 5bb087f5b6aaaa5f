#!/usr/bin/env bash
# Filter benchmark: the query crate (release build) against mingo in node,
# same 100,000 documents, same three filters. Installs mingo if needed.
# Usage: crates/query/bench/run.sh [docs] [rust-reps] [mingo-reps]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(dirname "$here")"
root="$(cd "$crate/../.." && pwd)"
docs_n="${1:-100000}"
rust_reps="${2:-20}"
mingo_reps="${3:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if [ ! -f "$crate/tests/mingo/node_modules/mingo/package.json" ]; then
  npm ci --no-audit --no-fund --loglevel=error --prefix "$crate/tests/mingo"
fi
(cd "$root" && cargo build --release -q -p query --example bench_filter)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); node $(node --version); mingo $(node -p "require('$crate/tests/mingo/node_modules/mingo/package.json').version")"
"$CARGO_TARGET_DIR/release/examples/bench_filter" --docs "$docs_n" --reps "$rust_reps" --write-docs "$work/docs.json" --json "$work/rust.json"
node "$here/bench_mingo.js" "$work/docs.json" "$work/rust.json" "$mingo_reps"
