// Consistent snapshots against a live writer: while a dump runs, a writer commits small transactions
// through POST /query that keep invariants (a fixed total balance, UNIQUE emails, foreign keys) and
// exercise what copy-on-write must get right (primary key changes, REPLACE and UPSERT on a key and on
// another UNIQUE index, cascades, a WITHOUT ROWID composite key, AUTOINCREMENT, a generated column, the
// application's own trigger, values over 1 MB). Each transaction also logs its number, so the restored
// file says which transactions it holds: it must hold 1..N exactly, and equal, cell for cell, the seed
// plus transactions 1..N replayed by sqlite3.

import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ApiClient, DumpStatus, Statement } from "../../scripts/lib/api-client.mjs";
import { compareDatabases, fileSide, formatMismatches } from "../../scripts/lib/compare.mjs";
import { querySql, restoreDump, runSql } from "../../scripts/lib/sqlite-cli.mjs";
import { client, workDir, type StorageKind } from "./round-trip";

const SCHEMA = `
CREATE TABLE account (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE,
  balance INTEGER NOT NULL,
  note BLOB,
  label TEXT GENERATED ALWAYS AS (email || ':' || balance) VIRTUAL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE ON UPDATE CASCADE,
  amount REAL NOT NULL
);
CREATE INDEX orders_account ON orders(account_id);
CREATE TABLE pair (a TEXT NOT NULL, b INTEGER NOT NULL, tag TEXT UNIQUE, v, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE stats (id INTEGER PRIMARY KEY, balance_updates INTEGER NOT NULL);
CREATE TRIGGER count_balance_updates AFTER UPDATE OF balance ON account BEGIN
  UPDATE stats SET balance_updates = balance_updates + 1 WHERE id = 1;
END;
CREATE TABLE txlog (n INTEGER PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;
`;

const ACCOUNTS = 3000;
const BIG_NOTES = 12; // 1.2 MB each: the account table takes several chunk steps
const BIG_NOTE_BYTES = 1_200_000;

/** A BLOB of `bytes` (even) copies of one character. (A Durable Object's printf() stops at 100,000 characters.) */
function bigNote(character: string, bytes: number): string {
  return `CAST(replace(hex(zeroblob(${bytes / 2})), '0', ${character}) AS BLOB)`;
}

const SEED = [
  `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ACCOUNTS})
   INSERT INTO account (email, balance, note) SELECT 'user' || i || '@example.com', 1000,
     CASE WHEN i % ${Math.floor(ACCOUNTS / BIG_NOTES)} = 0 THEN ${bigNote(`char(64 + i % 26)`, BIG_NOTE_BYTES)} ELSE X'00FF' END FROM c`,
  `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ACCOUNTS * 2})
   INSERT INTO orders (id, account_id, amount) SELECT i, 1 + (i * 7) % ${ACCOUNTS}, i / 3.0 FROM c`,
  `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500)
   INSERT INTO pair (a, b, tag, v) SELECT 'k' || (i % 50), i, 'tag' || i, i * 0.1 FROM c`,
  "INSERT INTO stats VALUES (1, 0)",
];

/** A small deterministic PRNG, so that a failing run can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Transaction number `n`: the same statements whatever the database holds; guards make them no-ops where needed. */
function transaction(n: number, random: () => number): { kind: string; statements: Statement[] } {
  const pick = () => 1 + Math.floor(random() * ACCOUNTS);
  const a = pick();
  const b = pick() === a ? (a % ACCOUNTS) + 1 : pick();
  const both = `(SELECT count(*) FROM account WHERE id IN (${a}, ${b})) = 2 AND ${a} <> ${b}`;
  const kinds: Array<[string, Statement[]]> = [
    [
      "move money",
      [{ sql: `UPDATE account SET balance = balance + CASE id WHEN ${a} THEN -7 ELSE 7 END WHERE id IN (${a}, ${b}) AND ${both}` }],
    ],
    [
      "swap emails",
      [
        { sql: `UPDATE account SET email = email || '|' || (SELECT email FROM account WHERE id = ${b}) WHERE id = ${a} AND ${both}` },
        {
          sql: `UPDATE account SET email = (SELECT substr(email, 1, instr(email, '|') - 1) FROM account WHERE id = ${a}) WHERE id = ${b} AND (SELECT instr(email, '|') FROM account WHERE id = ${a}) > 0`,
        },
        { sql: `UPDATE account SET email = substr(email, instr(email, '|') + 1) WHERE id = ${a} AND instr(email, '|') > 0` },
      ],
    ],
    ["change a primary key", [{ sql: `UPDATE account SET id = ${1_000_000 + n} WHERE id = ${a}` }]],
    [
      "add an account with an order",
      [
        { sql: `INSERT INTO account (email, balance) VALUES ('new${n}@example.com', 0)` },
        { sql: `INSERT INTO orders (id, account_id, amount) VALUES (${100_000 + n}, last_insert_rowid(), ${n} / 7.0)` },
      ],
    ],
    [
      "remove an account and its orders",
      [
        { sql: `UPDATE account SET balance = balance + (SELECT balance FROM account WHERE id = ${a}) WHERE id = ${b} AND ${both}` },
        { sql: `DELETE FROM account WHERE id = ${a} AND (SELECT count(*) FROM account WHERE id = ${b}) = 1 AND ${a} <> ${b}` },
      ],
    ],
    [
      "delete and insert the same order",
      [
        { sql: `DELETE FROM orders WHERE id = ${a}` },
        { sql: `INSERT INTO orders (id, account_id, amount) SELECT ${a}, id, ${n} * 1.5 FROM account WHERE id = ${b}` },
      ],
    ],
    [
      "replace a pair by its UNIQUE tag",
      [{ sql: `INSERT OR REPLACE INTO pair (a, b, tag, v) VALUES ('r${n}', ${n}, 'tag' || ${1 + (a % 500)}, X'0102')` }],
    ],
    [
      "upsert a pair by its key",
      [{ sql: `INSERT INTO pair (a, b, tag, v) VALUES ('k${a % 50}', ${1 + (a % 500)}, 'u${n}', ${n}) ON CONFLICT (a, b) DO UPDATE SET v = excluded.v + 0.5` }],
    ],
    [
      "rewrite a large note",
      [{ sql: `UPDATE account SET note = ${bigNote(`char(${97 + (n % 26)})`, BIG_NOTE_BYTES + 2 * n)} WHERE id = (SELECT id FROM account WHERE length(note) > 1000 ORDER BY id LIMIT 1 OFFSET ${n % 3})` }],
    ],
  ];
  const weights = [4, 3, 1, 2, 1, 2, 1, 1, 1];
  let roll = random() * weights.reduce((x, y) => x + y);
  let index = 0;
  while (roll >= weights[index]) roll -= weights[index++];
  const [kind, statements] = kinds[index];
  return { kind, statements: [...statements, { sql: "INSERT INTO txlog (n, kind) VALUES (?, ?)", params: [n, kind] }] };
}

interface Writer {
  /** The transactions that committed, in order. */
  committed: Array<{ n: number; statements: Statement[] }>;
  stop(): Promise<void>;
}

/** Commits transactions one after another until stopped. */
function startWriter(api: ApiClient, database: string, seed: number): Writer {
  const random = prng(seed);
  const committed: Writer["committed"] = [];
  let running = true;
  const done = (async () => {
    for (let n = 1; running; n++) {
      const { statements } = transaction(n, random);
      try {
        await api.transaction(statements, { database });
        committed.push({ n, statements });
      } catch (error) {
        // A transaction the database refuses (a constraint) is rolled back whole: it is not in the log.
        if (!/constraint/i.test(String(error))) throw error;
      }
    }
  })();
  return {
    committed,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

function sqlLiteral(value: unknown): string {
  if (value === null) return "NULL";
  if (typeof value === "number") return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

/** Statements with their parameters inlined, for the sqlite3 shell. */
function inline(statement: Statement): string {
  let i = 0;
  return statement.sql.replace(/\?/g, () => sqlLiteral(statement.params?.[i++])) + ";";
}

async function seedService(api: ApiClient, database: string) {
  const statements = SCHEMA.split(/;\s*\n(?=CREATE|$)/).filter((s) => s.trim()).map((sql) => ({ sql }));
  await api.transaction(statements, { database });
  for (const sql of SEED) await api.query(sql, [], { database });
}

describe("a dump is the database at one instant while a writer commits", () => {
  const api = client();
  const work = workDir("snapshot");
  afterAll(() => work.remove());
  let seeded: string | null = null;

  /** The seed as a database file, made once. */
  async function seedFile(): Promise<string> {
    if (seeded) return seeded;
    const path = join(work.dir, "seed.db");
    await runSql(path, `PRAGMA foreign_keys=ON;\n${SCHEMA}\n${SEED.join(";\n")};`);
    seeded = path;
    return path;
  }

  async function dumpDuringWrites(
    storage: StorageKind,
    breathingMs: number,
    label: string,
    during?: (dumpId: string) => Promise<void>,
  ): Promise<{ status: DumpStatus; committed: number }> {
    const database = `snapshot-${label}`;
    await seedService(api, database);
    const writer = startWriter(api, database, label.length * 7919);
    // Let the writer get going, so that the instant falls between its transactions.
    while (writer.committed.length < 5) await new Promise((r) => setTimeout(r, 20));
    let status: DumpStatus;
    try {
      const { dumpId } = await api.startDump({ database, options: { storage, breathingMs } });
      if (during) await during(dumpId);
      status = await api.waitForDump(dumpId, { timeoutMs: 240_000 });
    } finally {
      await writer.stop();
    }
    expect(status.status, `${status.error}`).toBe("completed");
    const dumpPath = join(work.dir, `${label}.sql`);
    await api.downloadDump(status.dumpId, work.dir).then(({ path }) => copyFileSync(path, dumpPath));
    const restored = join(work.dir, `${label}.db`);
    await restoreDump(dumpPath, restored);

    // Which transactions the file holds: exactly 1..N of those that committed.
    const logged = (await querySql(restored, "SELECT n FROM txlog ORDER BY n")).map((r) => Number(r.n));
    const committed = writer.committed.map((t) => t.n);
    expect(logged).toEqual(committed.slice(0, logged.length));
    expect(logged.length, "the writer committed after the snapshot instant").toBeLessThan(committed.length);

    // The database as of that instant: the seed plus those transactions, replayed by sqlite3.
    const expected = join(work.dir, `${label}-expected.db`);
    copyFileSync(await seedFile(), expected);
    const replay = writer.committed.slice(0, logged.length).map((t) => `BEGIN;\n${t.statements.map(inline).join("\n")}\nCOMMIT;`);
    await runSql(expected, `PRAGMA foreign_keys=ON;\n${replay.join("\n")}`);
    expect(formatMismatches(await compareDatabases(fileSide(expected), fileSide(restored)))).toBe("");

    // The invariants, checked directly too.
    const [check] = await querySql(
      restored,
      `SELECT (SELECT sum(balance) FROM account) AS total, (SELECT count(*) FROM pragma_foreign_key_check) AS orphans,
              (SELECT count(*) FROM txlog WHERE kind = 'add an account with an order') AS added,
              (SELECT count(*) FROM txlog WHERE kind = 'remove an account and its orders') AS removed`,
    );
    expect(Number(check.orphans)).toBe(0);
    expect(Number(check.total)).toBe(ACCOUNTS * 1000);
    const leftovers = await api.query("SELECT name FROM sqlite_master WHERE name LIKE '\\_dumpsnap\\_%' ESCAPE '\\'", [], { database });
    expect(leftovers, "the snapshot's tables and triggers are dropped").toEqual([]);
    expect(status.snapshot).toMatchObject({ endedAt: expect.any(String), exceptions: [] });
    return { status, committed: writer.committed.length };
  }

  it.each([
    ["do", 200],
    ["r2", 0],
  ] as const)("storage %s, breathing %i ms", async (storage, breathingMs) => {
    await dumpDuringWrites(storage, breathingMs, `${storage}-${breathingMs}`);
  });

  it("storage r2 with default breathing, paused and resumed in the middle", async () => {
    await dumpDuringWrites("r2", 200, "paused", async (dumpId) => {
      await api.dumps.pause(dumpId);
      // Writes go on while it is paused; the snapshot keeps their old rows.
      await new Promise((r) => setTimeout(r, 1500));
      const paused = await api.dumpStatus(dumpId);
      expect(["paused", "in_progress", "queued"]).toContain(paused.status);
      await api.dumps.resume(dumpId).catch((error: unknown) => {
        // It may have finished its step and be waiting to pause, or have completed: both are fine.
        if (!/cannot resume/.test(String(error))) throw error;
      });
    });
  });
});
