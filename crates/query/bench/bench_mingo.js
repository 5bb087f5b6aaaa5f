// mingo side of bench/run.sh: times the same three filters over the same
// documents, then prints the comparison with the Rust results.
// Usage: node bench_mingo.js <docs.json> <rust-results.json> [reps]
"use strict";
const fs = require("fs");
const path = require("path");
const { Query } = require(path.join(__dirname, "..", "tests", "mingo", "node_modules", "mingo"));

const docs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const rust = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const reps = Number(process.argv[4] || 5);

const rows = [];
for (const r of rust) {
  const q = new Query(r.query);
  let matched = 0;
  for (const d of docs) if (q.test(d)) matched++; // warm-up
  const start = process.hrtime.bigint();
  let total = 0;
  for (let i = 0; i < reps; i++) for (const d of docs) if (q.test(d)) total++;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (total !== matched * reps) throw new Error("unstable result");
  if (matched !== r.matched) throw new Error(`${r.name}: mingo matched ${matched}, rust ${r.matched}`);
  const dps = (docs.length * reps) / secs;
  console.log(`mingo ${r.name.padEnd(16)} matched ${String(matched).padStart(7)} of ${docs.length}  ${dps.toFixed(0).padStart(12)} docs/s  (${reps} reps, ${secs.toFixed(3)}s)`);
  rows.push([r.name, JSON.stringify(r.query), r.matched, r.docset_docs_per_sec, r.value_docs_per_sec, dps]);
}
const fmt = (x) => Math.round(x).toLocaleString("en-US");
console.log("");
console.log("| filter | query | matched | query crate, DocSet (docs/s) | query crate, Value (docs/s) | mingo (docs/s) | DocSet / mingo | Value / mingo |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const [name, q, m, c, v, j] of rows) {
  console.log(`| ${name} | \`${q}\` | ${m} | ${fmt(c)} | ${fmt(v)} | ${fmt(j)} | ${(c / j).toFixed(1)}x | ${(v / j).toFixed(1)}x |`);
}
