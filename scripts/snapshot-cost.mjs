#!/usr/bin/env node
// What a snapshot costs, measured with sql.js (SQLite 3.54 in wasm) in Node: how long beginSnapshot and
// endSnapshot hold the database for 10 and 1,000 tables, the cost a single-row write pays for the
// triggers, and chunk reads with and without the merge. Figures only; a Durable Object's SQLite is
// native and faster, so read them as ratios.  Usage: node scripts/snapshot-cost.mjs

import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "..");

/** The TypeScript modules, bundled for Node (sql.js stays an ordinary import). */
async function load() {
  const entry = `
    export * from ${JSON.stringify(join(root, "shared/snapshot.ts"))};
    export { chunkSelect } from ${JSON.stringify(join(root, "shared/dump-sql.ts"))};
    export { planTables } from ${JSON.stringify(join(root, "test/snapshot-harness.ts"))};
    export { sqlJsDatabase } from ${JSON.stringify(join(root, "test/unit/sqljs-database.ts"))};`;
  const out = await build({
    stdin: { contents: entry, resolveDir: root, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "node",
    external: ["sql.js"],
    write: false,
  });
  const dir = mkdtempSync(join(root, "node_modules", ".snapshot-cost-"));
  const file = join(dir, "bundle.mjs");
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const m = await load();

/** `SELECT value FROM …` for 1..n (sql.js has no generate_series). */
const series = (n) => `(WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < ${n}) SELECT value FROM s)`;

function ms(work) {
  const start = performance.now();
  const result = work();
  return { ms: performance.now() - start, result };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function tablesDatabase(count) {
  const db = m.sqlJsDatabase();
  const statements = [];
  for (let i = 0; i < count; i++) {
    statements.push(`CREATE TABLE t${i}(id INTEGER PRIMARY KEY, email TEXT UNIQUE, balance INTEGER, note TEXT)`);
    statements.push(`INSERT INTO t${i} SELECT value, 'e' || value, 100, 'note' FROM ${series(10)}`);
  }
  db.sql.exec(statements.join(";"));
  return db;
}

// Warm up: the first snapshot of a process pays for compiling the code paths.
const warm = tablesDatabase(10);
m.endSnapshot(warm, m.beginSnapshot(warm, "warm", m.planTables(warm)).snapshotId);
console.log("beginSnapshot / endSnapshot (median of 3; the database is held for this long)");
for (const [count, how, limits] of [
  [10, "small tables copied (default)", {}],
  [1000, "small tables copied (default)", {}],
  [10, "triggers on every table", { totalBytes: -1 }],
  [1000, "triggers on every table", { totalBytes: -1 }],
]) {
  const begins = [];
  const ends = [];
  let objects = 0;
  for (let run = 0; run < 3; run++) {
    const db = tablesDatabase(count);
    const plans = m.planTables(db);
    const begin = ms(() => m.beginSnapshot(db, "cost", plans, limits));
    objects = begin.result.created.length;
    begins.push(begin.ms);
    ends.push(ms(() => m.endSnapshot(db, "cost")).ms);
    db.db.close();
  }
  console.log(
    `  ${String(count).padStart(5)} tables, ${how}: begin ${median(begins).toFixed(1)} ms, end ${median(ends).toFixed(1)} ms (${objects} objects)`,
  );
}

const ROWS = 100_000;
const WRITES = 20_000;

function rowsDatabase() {
  const db = m.sqlJsDatabase();
  db.sql.exec(
    `CREATE TABLE acct(id INTEGER PRIMARY KEY, email TEXT UNIQUE, balance INTEGER, note TEXT);
     INSERT INTO acct SELECT value, 'e' || value || '@example.com', 100, 'a note of some length' FROM ${series(ROWS)}`,
  );
  return db;
}

/** Microseconds per single-row statement, over WRITES statements; `key(i, random)` binds the key. */
function perWrite(db, sql, key) {
  const statement = db.db.prepare(sql);
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
  const { ms: total } = ms(() => {
    for (let i = 0; i < WRITES; i++) {
      statement.bind([key(i, next())]);
      statement.step();
      statement.reset();
    }
  });
  statement.free();
  return ((total / WRITES) * 1000).toFixed(1);
}

const update = "UPDATE acct SET balance = balance + 1 WHERE id = ?";
const randomKey = (_i, r) => 1 + (r % ROWS);
console.log(`\nsingle-row UPDATE by key, µs per statement (${WRITES} on random keys of ${ROWS} rows)`);
{
  const db = rowsDatabase();
  console.log(`  no snapshot:                                 ${perWrite(db, update, randomKey)}`);
  m.beginSnapshot(db, "w", m.planTables(db));
  console.log(`  snapshot, keys beyond the cursor (1st touch): ${perWrite(db, update, randomKey)}`);
  console.log(`  snapshot, keys beyond, saved already:         ${perWrite(db, update, randomKey)}`);
  console.log(`  bytes held after those writes:               ${m.snapshotHeldBytes(db, "w")}`);
  m.advanceSnapshot(db, "w", 0, [String(ROWS)]);
  console.log(`  snapshot, keys already dumped:               ${perWrite(db, update, randomKey)}`);
  m.advanceSnapshot(db, "w", 0, "done");
  console.log(`  snapshot, table finished:                    ${perWrite(db, update, randomKey)}`);
  m.endSnapshot(db, "w");
  console.log(`  after endSnapshot:                           ${perWrite(db, update, randomKey)}`);
  db.db.close();
}
{
  const insert = "INSERT INTO acct(email, balance, note) VALUES ('x' || ?, 1, 'n')";
  const db = rowsDatabase();
  const plain = perWrite(db, insert, (i) => `a${i}`);
  m.beginSnapshot(db, "i", m.planTables(db));
  console.log(`  INSERT of a new row:                         ${plain} without, ${perWrite(db, insert, (i) => `b${i}`)} with the snapshot`);
  db.db.close();
}

const CHUNK = 1000;
function readAll(db, select) {
  let after = null;
  let rows = 0;
  for (;;) {
    const s = select(after);
    const page = [...db.sql.exec(s.sql, ...s.params).raw()];
    rows += page.length;
    if (page.length < CHUNK) return rows;
    after = page[page.length - 1].slice(0, s.keyWidth);
  }
}

console.log(`\nreading ${ROWS} rows in chunks of ${CHUNK}`);
{
  const db = rowsDatabase();
  const [plan] = m.planTables(db);
  const plain = ms(() => readAll(db, (after) => m.chunkSelect(plan, after, CHUNK)));
  const start = m.beginSnapshot(db, "r", [plan]);
  const empty = ms(() => readAll(db, (after) => m.snapshotChunkSelect(plan, start.tables[0], after, CHUNK)));
  db.sql.exec(`UPDATE acct SET balance = 0 WHERE id % 10 = 0`);
  const saved = ms(() => readAll(db, (after) => m.snapshotChunkSelect(plan, start.tables[0], after, CHUNK)));
  console.log(`  plain chunkSelect:                 ${plain.ms.toFixed(0)} ms (${plain.result} rows)`);
  console.log(`  snapshot, nothing saved:           ${empty.ms.toFixed(0)} ms (${(plain.ms / empty.ms).toFixed(2)}× the plain throughput)`);
  console.log(`  snapshot, 10% of the rows saved:   ${saved.ms.toFixed(0)} ms (${(plain.ms / saved.ms).toFixed(2)}× the plain throughput)`);
  db.db.close();
}
