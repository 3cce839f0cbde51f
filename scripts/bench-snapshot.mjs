#!/usr/bin/env node
// What a consistent snapshot costs a live database, measured through the real service (scripts/serve.mjs):
//
//   node scripts/bench-snapshot.mjs [--rows 300000] [--tables 10,1000] [--seconds 4] [--writers 4] [--out file.json]
//
// 1. seeds `--rows` rows of about 230 bytes (the issue-14 row shape) into one table, through POST /query;
// 2. runs `--writers` concurrent loops of small write transactions (one UPDATE of a random row and one
//    INSERT, through POST /query) for `--seconds` while idle, and records each transaction's latency;
// 3. does the same during a dump with the snapshot and during one without ("snapshot": false), both with the
//    default breathing, and reports the write latency, the dump's time, and the most bytes the snapshot held;
// 4. times dumps with breathing 0 and no writer, with and without the snapshot (best of 2 each);
// 5. times whole dumps of databases of `--tables` small tables (two rows each), with and without the snapshot.
// Prints a table of figures and ratios; nothing is asserted.

import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { ApiClient } from "./lib/api-client.mjs";
import { startWorker } from "./lib/worker-process.mjs";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "300000" },
    tables: { type: "string", default: "10,1000" },
    seconds: { type: "string", default: "4" },
    writers: { type: "string", default: "4" },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log("node scripts/bench-snapshot.mjs [--rows 300000] [--tables 10,1000] [--seconds 4] [--writers 4] [--out file.json]");
  process.exit(0);
}
const ROWS = Number(args.rows);
const SECONDS = Number(args.seconds);
const WRITERS = Number(args.writers);
const DATABASE = "bench-snapshot";

const worker = await startWorker({});
const api = new ApiClient(worker.url);
const results = { rows: ROWS, writers: WRITERS, seconds: SECONDS };

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function seedRows(database, rows) {
  await api.query(
    "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, body TEXT, n INTEGER, x REAL, b BLOB)",
    [],
    { database },
  );
  await api.query("CREATE INDEX IF NOT EXISTS items_n ON items(n)", [], { database });
  for (let start = 0; start < rows; start += 50_000) {
    const end = Math.min(rows, start + 50_000);
    await api.query(
      `WITH RECURSIVE c(i) AS (SELECT ${start + 1} UNION ALL SELECT i + 1 FROM c WHERE i < ${end})
       INSERT INTO items SELECT i, 'name ' || i, substr(hex(randomblob(80)), 1, 160), i * 7, i / 3.0, randomblob(16) FROM c`,
      [],
      { database },
    );
  }
}

/** Ids of the rows the writers insert, above the seeded ones. */
let next = ROWS + 1_000_000;

/** Small write transactions from `WRITERS` loops until `until()` is true; returns their latencies in ms. */
async function writeLoad(until) {
  const latencies = [];
  const loop = async () => {
    while (!until()) {
      const id = 1 + Math.floor(Math.random() * ROWS);
      const started = performance.now();
      await api.transaction(
        [
          { sql: "UPDATE items SET n = n + 1, x = x * 1.0000001 WHERE id = ?", params: [id] },
          { sql: "INSERT INTO items (id, name, n) VALUES (?, 'w', 0)", params: [next++] },
        ],
        { database: DATABASE },
      );
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, loop));
  return latencies;
}

function latencySummary(latencies) {
  return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) };
}

/** A dump with the writers running; the most bytes its snapshot held, polled from the status. */
async function dumpDuringWrites(snapshot) {
  let finished = false;
  const writes = writeLoad(() => finished);
  await new Promise((r) => setTimeout(r, 500));
  const started = performance.now();
  const { dumpId } = await api.startDump({ database: DATABASE, options: { storage: "do", snapshot } });
  let heldBytes = 0;
  const status = await api.waitForDump(dumpId, {
    timeoutMs: 1_800_000,
    intervalMs: 100,
    onProgress: (s) => (heldBytes = Math.max(heldBytes, s.snapshot?.heldBytes ?? 0)),
  });
  const dumpMs = performance.now() - started;
  finished = true;
  const latencies = await writes;
  if (status.status !== "completed") throw new Error(`dump ${dumpId} ${status.status}: ${status.error}`);
  await api.deleteDump(dumpId);
  return { dumpMs, size: status.size, heldBytes, writes: latencySummary(latencies) };
}

async function quietDump(snapshot) {
  let best = Infinity;
  let size = 0;
  for (let run = 0; run < 2; run++) {
    const started = performance.now();
    const { dumpId } = await api.startDump({ database: DATABASE, options: { storage: "do", breathingMs: 0, snapshot } });
    const status = await api.waitForDump(dumpId, { timeoutMs: 1_800_000, intervalMs: 50 });
    if (status.status !== "completed") throw new Error(`dump ${dumpId} ${status.status}: ${status.error}`);
    best = Math.min(best, performance.now() - started);
    size = status.size;
    await api.deleteDump(dumpId);
  }
  return { ms: best, mbPerSecond: size / 1e6 / (best / 1000) };
}

/** Time from the start request to the first chunk's progress, for a database of `tables` small tables. */
async function planTime(tables, snapshot) {
  const database = `bench-snapshot-tables-${tables}`;
  const existing = await api.query("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name GLOB 't[0-9]*'", [], { database });
  if (existing[0].n < tables) {
    for (let start = existing[0].n; start < tables; start += 100) {
      const statements = [];
      for (let i = start; i < Math.min(tables, start + 100); i++) {
        statements.push({ sql: `CREATE TABLE t${i} (id INTEGER PRIMARY KEY, a TEXT, b REAL)` });
        statements.push({ sql: `INSERT INTO t${i} VALUES (1, 'x', 1.5), (2, 'y', 2.5)` });
      }
      await api.transaction(statements, { database });
    }
  }
  const started = performance.now();
  const { dumpId } = await api.startDump({ database, options: { storage: "do", breathingMs: 0, snapshot } });
  const status = await api.waitForDump(dumpId, { timeoutMs: 1_800_000, intervalMs: 50 });
  const totalMs = performance.now() - started;
  if (status.status !== "completed") throw new Error(`dump ${dumpId} ${status.status}: ${status.error}`);
  await api.deleteDump(dumpId);
  return { totalMs };
}

try {
  console.error(`seeding ${ROWS} rows…`);
  await seedRows(DATABASE, ROWS);
  console.error("idle writes…");
  const idleUntil = performance.now() + SECONDS * 1000;
  results.idle = latencySummary(await writeLoad(() => performance.now() > idleUntil));
  console.error("dump with the snapshot, writers running…");
  results.withSnapshot = await dumpDuringWrites(true);
  console.error("dump without the snapshot, writers running…");
  results.withoutSnapshot = await dumpDuringWrites(false);
  console.error("quiet dumps…");
  results.quiet = { withSnapshot: await quietDump(true), withoutSnapshot: await quietDump(false) };
  console.error("many tables…");
  results.tables = {};
  for (const tables of args.tables.split(",").map(Number)) {
    results.tables[tables] = { withSnapshot: await planTime(tables, true), withoutSnapshot: await planTime(tables, false) };
  }
} finally {
  await worker.stop();
}

const f = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const w = (s) => `p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms, max ${f(s.max)} ms (${s.count} txns)`;
console.log(`\nsnapshot cost, ${ROWS} rows, ${WRITERS} writers of small transactions`);
console.log(`writes idle:                     ${w(results.idle)}`);
console.log(`writes during dump, snapshot:    ${w(results.withSnapshot.writes)}  p99 ${f(results.withSnapshot.writes.p99 / results.idle.p99, 2)}× idle`);
console.log(`writes during dump, no snapshot: ${w(results.withoutSnapshot.writes)}  p99 ${f(results.withoutSnapshot.writes.p99 / results.idle.p99, 2)}× idle`);
console.log(
  `dump during writes (breathing default): snapshot ${f(results.withSnapshot.dumpMs / 1000, 2)} s, ` +
    `held at most ${f(results.withSnapshot.heldBytes / 1e6, 2)} MB of saved rows; no snapshot ${f(results.withoutSnapshot.dumpMs / 1000, 2)} s`,
);
console.log(
  `quiet dump (breathing 0): snapshot ${f(results.quiet.withSnapshot.mbPerSecond)} MB/s, no snapshot ${f(results.quiet.withoutSnapshot.mbPerSecond)} MB/s, ` +
    `ratio ${f(results.quiet.withSnapshot.mbPerSecond / results.quiet.withoutSnapshot.mbPerSecond, 2)}×`,
);
for (const [tables, t] of Object.entries(results.tables)) {
  console.log(`${tables} small tables, whole dump: snapshot ${f(t.withSnapshot.totalMs)} ms, no snapshot ${f(t.withoutSnapshot.totalMs)} ms`);
}
if (args.out) writeFileSync(args.out, JSON.stringify(results, null, 2));
