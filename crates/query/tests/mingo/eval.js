// Evaluates queries with mingo for the query crate's differential test.
// Usage: node eval.js <input.json>   (input: {"docs": [...], "queries": [...]})
// Prints a JSON array with, per query, a string of '0'/'1' per document, or
// "E:<message>" when mingo rejects the query.
"use strict";
const fs = require("fs");
const path = require("path");
const { Query } = require(path.join(__dirname, "node_modules", "mingo"));

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// Extended JSON dates in queries become Date objects.
function convQuery(v) {
  if (Array.isArray(v)) return v.map(convQuery);
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$date") return new Date(v.$date);
    const out = {};
    for (const k of keys) out[k] = convQuery(v[k]);
    return out;
  }
  return v;
}

// Stored dates: the `ts` field is a date field (as `_createdAt` is for the
// server); its ISO strings are dates for every operator, so mingo gets `Date`s.
function convDoc(d) {
  if (typeof d.ts === "string" && ISO.test(d.ts)) return { ...d, ts: new Date(d.ts) };
  return d;
}

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const docs = input.docs.map(convDoc);
const out = input.queries.map((q) => {
  try {
    const query = new Query(convQuery(q));
    return docs.map((d) => (query.test(d) ? "1" : "0")).join("");
  } catch (e) {
    return "E:" + e.message;
  }
});
process.stdout.write(JSON.stringify(out));
