// Copy-on-write snapshots (issue 11) in a real SQLite: every case captures the database's content in the
// same call that begins the snapshot, writes between chunk reads of a few rows (so writes land before,
// at and beyond the cursor), and compares what the reads return with that content, literal for literal.

import { describe, expect, it } from "vitest";
import {
  advanceSnapshot,
  beginSnapshot,
  checkSnapshotSchema,
  endSnapshot,
  indexTerms,
  listSnapshots,
  prepareSnapshot,
  schemaGuard,
  schemaOfTables,
  SnapshotError,
  snapshotExceptions,
  snapshotHeldBytes,
  snapshotIdForDump,
  type CopyLimits,
} from "../../shared/snapshot";
import { seededRandom } from "../random";
import { beginCapturing, planTables, readContent, SnapshotReader, type Instant } from "../snapshot-harness";
import { sqlJsDatabase, type SqlJsDatabase } from "./sqljs-database";
import { runSync } from "../../shared/query-program";

type Write = string | ((db: SqlJsDatabase) => void);

/** Copy no table at the instant, so that every table gets the triggers under test. */
const NO_COPIES = { totalBytes: -1 };

function database(schemaAndRows: string): SqlJsDatabase {
  const db = sqlJsDatabase();
  db.sql.exec("PRAGMA foreign_keys = ON");
  db.sql.exec(schemaAndRows);
  return db;
}

function run(db: SqlJsDatabase, write: Write | undefined): void {
  if (typeof write === "string") db.sql.exec(write);
  else write?.(db);
}

/**
 * Begins snapshot `id`, runs writes[0] before the first read and writes[j] after the j-th chunk read of
 * `limit` rows, and returns what the reads gave next to the instant's content.
 */
function dumpWhileWriting(db: SqlJsDatabase, writes: Write[], limit = 2): { instant: Instant; reader: SnapshotReader } {
  return dumpWhileWritingWith(db, NO_COPIES, writes, limit);
}

function dumpWhileWritingWith(db: SqlJsDatabase, copyLimits: Partial<CopyLimits>, writes: Write[], limit = 2): { instant: Instant; reader: SnapshotReader } {
  const instant = beginCapturing(db, "s1", copyLimits);
  const reader = new SnapshotReader(db, instant);
  let next = 0;
  run(db, writes[next++]);
  while (!reader.finished) {
    reader.step(limit);
    run(db, writes[next++]);
  }
  expect(next, "every write ran during the dump").toBeGreaterThanOrEqual(writes.length);
  return { instant, reader };
}

/** The reads equal the instant, and the writes did change the database (or the test proves nothing). */
function expectSnapshot(db: SqlJsDatabase, { instant, reader }: { instant: Instant; reader: SnapshotReader }): void {
  for (const [name, rows] of instant.content) expect(reader.rows.get(name) ?? [], `table ${name}`).toEqual(rows);
  expect(instant.start.sequences).toEqual(instant.sequences);
  expect(readContent(db, instant.plans), "the writes changed the database").not.toEqual(instant.content);
}

/** One case: the schema and rows, then writes between chunk reads of 2 rows; the reads must equal the instant. */
function snapshotCase(name: string, schemaAndRows: string, writes: Write[]): void {
  it(name, () => {
    const db = database(schemaAndRows);
    expectSnapshot(db, dumpWhileWriting(db, writes));
  });
}

/** Moves money between two accounts; the application's triggers keep the ledger and the total. */
function move(from: number, to: number, amount: number): string {
  return `UPDATE account SET balance = balance - ${amount} WHERE id = ${from}; UPDATE account SET balance = balance + ${amount} WHERE id = ${to}`;
}

function rowsSql(count: number, row: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => row(i + 1)).join(", ");
}

describe("a snapshot read while the database is written equals the database at the instant", () => {
  snapshotCase(
    "follows UPDATEs that change the rowid or the INTEGER PRIMARY KEY, in both directions across the cursor",
    `
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO t VALUES ${rowsSql(12, (i) => `(${i}, 'v${i}')`)};
    CREATE TABLE r(v TEXT);
    INSERT INTO r(rowid, v) VALUES ${rowsSql(12, (i) => `(${i * 10}, 'r${i}')`)};`,
    [
      "UPDATE t SET id = 20 WHERE id = 9; UPDATE r SET rowid = 5 WHERE rowid = 110",
      "UPDATE t SET id = -1 WHERE id = 8",
      "UPDATE t SET id = 30 WHERE id = 1; UPDATE t SET id = 0 WHERE id = 3; UPDATE t SET id = 9 WHERE id = 4",
      "UPDATE t SET id = 40 WHERE id = 20; UPDATE t SET id = 8 WHERE id = 11",
      "UPDATE r SET rowid = 1 WHERE rowid = 120; UPDATE r SET rowid = 200 WHERE rowid = 10",
      "UPDATE r SET rowid = 25 WHERE rowid = 90; UPDATE r SET rowid = 95 WHERE rowid = 30",
      "UPDATE r SET rowid = rowid + 1000",
    ],
  );

  snapshotCase(
    "keeps a row that is deleted and inserted again with the same key",
    `
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO t VALUES ${rowsSql(10, (i) => `(${i}, 'v${i}')`)};
    CREATE TABLE r(v TEXT);
    INSERT INTO r(v) VALUES ${rowsSql(10, (i) => `('r${i}')`)};`,
    [
      "DELETE FROM t WHERE id = 7; INSERT INTO t VALUES (7, 'again'); DELETE FROM r WHERE rowid = 10",
      "DELETE FROM t WHERE id = 2; INSERT INTO t VALUES (2, 'again')",
      "DELETE FROM t WHERE id = 4; INSERT INTO t VALUES (4, 'again'); DELETE FROM t WHERE id = 9; INSERT INTO t VALUES (9, 'x')",
      "INSERT INTO r(v) VALUES ('reuses rowid 10')",
      "DELETE FROM r WHERE rowid = 8; INSERT INTO r(rowid, v) VALUES (8, 'again')",
    ],
  );

  snapshotCase(
    "keeps rows that INSERT OR REPLACE, REPLACE, UPSERT and UPDATE OR REPLACE delete through the key or another UNIQUE index",
    `
    CREATE TABLE u(id INTEGER PRIMARY KEY, email TEXT UNIQUE, n INTEGER);
    INSERT INTO u VALUES ${rowsSql(12, (i) => `(${i}, 'e${i}', ${i})`)};
    CREATE TABLE w(code TEXT PRIMARY KEY, k TEXT UNIQUE ON CONFLICT REPLACE COLLATE NOCASE, n);
    INSERT INTO w VALUES ${rowsSql(8, (i) => `('c${i}', 'k${i}', ${i})`)};
    CREATE TABLE x(id INTEGER PRIMARY KEY, name TEXT, active INTEGER);
    CREATE UNIQUE INDEX x_lower ON x(lower(name)) WHERE active;
    INSERT INTO x VALUES ${rowsSql(8, (i) => `(${i}, 'N${i}', 1)`)};`,
    [
      "INSERT OR REPLACE INTO u VALUES (8, 'x8', 0); INSERT OR REPLACE INTO u VALUES (50, 'e9', 1)",
      "INSERT INTO u VALUES (7, 'e7b', 5) ON CONFLICT(id) DO UPDATE SET n = n + 100",
      "INSERT INTO u VALUES (60, 'e6', 5) ON CONFLICT(email) DO UPDATE SET n = n + 100; REPLACE INTO u VALUES (1, 'e10', 2)",
      "UPDATE OR REPLACE u SET email = 'e12' WHERE id = 2; INSERT INTO w VALUES ('c0', 'K7', 0)",
      "INSERT OR REPLACE INTO w VALUES ('c8', 'k1', 9); UPDATE w SET k = 'K6' WHERE code = 'c2'",
      "INSERT OR REPLACE INTO x VALUES (20, 'n7', 1); UPDATE OR REPLACE x SET name = 'N8' WHERE id = 1",
      "UPDATE x SET active = 0 WHERE id = 5; INSERT INTO x VALUES (21, 'n5', 1); UPDATE OR REPLACE x SET active = 1 WHERE id = 5",
    ],
  );

  snapshotCase(
    "keeps children that ON DELETE CASCADE and ON UPDATE CASCADE change, parents and children both dumped",
    `
    CREATE TABLE parent(id INTEGER PRIMARY KEY, code TEXT UNIQUE);
    CREATE TABLE child(id INTEGER PRIMARY KEY, code TEXT REFERENCES parent(code) ON DELETE CASCADE ON UPDATE CASCADE, v);
    CREATE TABLE nullable(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) ON DELETE SET NULL);
    INSERT INTO parent VALUES ${rowsSql(6, (i) => `(${i}, 'p${i}')`)};
    INSERT INTO child VALUES ${rowsSql(12, (i) => `(${i}, 'p${((i - 1) % 6) + 1}', ${i})`)};
    INSERT INTO nullable VALUES ${rowsSql(6, (i) => `(${i}, ${i})`)};`,
    [
      "DELETE FROM parent WHERE id = 5",
      "UPDATE parent SET code = 'p3b' WHERE id = 3",
      "INSERT OR REPLACE INTO parent VALUES (1, 'p1new')", // REPLACE deletes parent 1: its children cascade
      "DELETE FROM parent WHERE id = 2; UPDATE parent SET code = 'p4b' WHERE id = 4",
      "DELETE FROM parent WHERE id = 6",
      "UPDATE parent SET code = 'p3c' WHERE id = 3",
    ],
  );

  it("reads WITHOUT ROWID tables with composite keys, NOCASE and REAL key columns", () => {
    const reals = [0.1, 1 / 3, -2.5e-300, 1e22, 5e-324, 123456789.125];
    const db = database(`
      CREATE TABLE k(a TEXT COLLATE NOCASE, b INTEGER, v, PRIMARY KEY(a, b)) WITHOUT ROWID;
      INSERT INTO k VALUES ${["A", "b", "C", "d", "E", "f"].flatMap((a, i) => [`('${a}', 1, ${i})`, `('${a}', 2, ${i})`]).join(", ")};
      CREATE TABLE kr(x REAL, y TEXT, v BLOB, PRIMARY KEY(x, y)) WITHOUT ROWID;`);
    for (const [i, x] of reals.entries()) db.sql.exec("INSERT INTO kr VALUES (?, ?, ?)", x, `y${i}`, new Uint8Array([i]).buffer);
    const result = dumpWhileWriting(db, [
      "UPDATE k SET a = 'z' WHERE a = 'b' AND b = 2; UPDATE k SET v = 'changed' WHERE a = 'e'",
      "UPDATE k SET a = '0' WHERE a = 'e' AND b = 1; DELETE FROM k WHERE a = 'D' AND b = 1",
      "INSERT INTO k VALUES ('d', 1, 'back, lower case'); INSERT OR REPLACE INTO k VALUES ('F', 2, 'replaced')",
      "UPDATE k SET a = 'aa' WHERE a = 'z'; UPDATE k SET b = b + 10",
      (d) => d.sql.exec("UPDATE kr SET y = 'moved', x = ? WHERE x = ?", -1, 1e22),
      (d) => d.sql.exec("DELETE FROM kr WHERE x = ?", 5e-324),
      "INSERT INTO kr VALUES (2.5, 'new', NULL); UPDATE kr SET v = X'FF'",
    ]);
    expectSnapshot(db, result);
  });

  it("keeps sqlite_sequence and the rows of AUTOINCREMENT tables as of the instant", () => {
    const db = database(`
      CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
      INSERT INTO a(v) VALUES ${rowsSql(8, (i) => `('v${i}')`)};
      DELETE FROM a WHERE id = 8;`);
    const result = dumpWhileWriting(db, [
      "INSERT INTO a(v) VALUES ('new'); DELETE FROM a WHERE id = 7",
      "INSERT INTO a(v) VALUES ('new'), ('new')",
      "UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'a'; INSERT INTO a(v) VALUES ('after 1000')",
    ]);
    expectSnapshot(db, result);
    expect(result.instant.start.sequences).toEqual([{ name: "a", seq: "8" }]);
  });

  snapshotCase(
    "reads tables with virtual and stored generated columns, one of them UNIQUE",
    `
    CREATE TABLE g(id INTEGER PRIMARY KEY, x INTEGER, twice AS (x * 2) VIRTUAL, label TEXT AS ('x' || x) STORED UNIQUE, note);
    INSERT INTO g(id, x, note) VALUES ${rowsSql(10, (i) => `(${i}, ${i}, 'n${i}')`)};`,
    [
      "UPDATE g SET x = x + 100 WHERE id > 6",
      "UPDATE OR REPLACE g SET x = 9 WHERE id = 3", // label x9 now conflicts with row 9's... which moved to x109
      "UPDATE OR REPLACE g SET x = 10 WHERE id = 1; INSERT OR REPLACE INTO g(id, x) VALUES (50, 5)",
      "DELETE FROM g WHERE id = 6; UPDATE g SET note = 'changed'",
    ],
  );

  snapshotCase(
    "follows the application's own triggers that write to other dumped tables",
    `
    CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER, touched INTEGER DEFAULT 0);
    CREATE TABLE ledger(id INTEGER PRIMARY KEY AUTOINCREMENT, account INTEGER, delta INTEGER);
    CREATE TABLE total(id INTEGER PRIMARY KEY CHECK (id = 1), sum INTEGER);
    INSERT INTO account(id, balance) VALUES ${rowsSql(10, (i) => `(${i}, 100)`)};
    INSERT INTO total VALUES (1, 1000);
    CREATE TRIGGER account_moves AFTER UPDATE OF balance ON account BEGIN
      INSERT INTO ledger(account, delta) VALUES (NEW.id, NEW.balance - OLD.balance);
      UPDATE total SET sum = sum + NEW.balance - OLD.balance;
      UPDATE account SET touched = touched + 1 WHERE id = NEW.id;
    END;
    CREATE TRIGGER account_closes BEFORE DELETE ON account BEGIN
      UPDATE total SET sum = sum - OLD.balance;
      DELETE FROM ledger WHERE account = OLD.id;
    END;
    UPDATE account SET balance = 90 WHERE id = 1;
    UPDATE account SET balance = 110 WHERE id = 2;`,
    [
      move(9, 1, 5),
      move(2, 10, 7),
      "DELETE FROM account WHERE id = 2",
      move(3, 8, 1),
      "DELETE FROM account WHERE id = 9",
      move(1, 4, 2),
      move(5, 6, 3),
    ],
  );

  it("reads BLOB and TEXT values over 1 MB through the large-value queries, saved images included", () => {
    const big = (seed: number) => {
      const bytes = new Uint8Array(1_200_000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + seed) & 0xff;
      return bytes.buffer;
    };
    const text = (seed: number) => `${String.fromCharCode(65 + seed)}${"é\u0000\r\n".repeat(300_000)}`;
    const db = database("CREATE TABLE big(id INTEGER PRIMARY KEY, t TEXT, b BLOB)");
    for (let i = 1; i <= 5; i++) db.sql.exec("INSERT INTO big VALUES (?, ?, ?)", i, text(i), big(i));
    const result = dumpWhileWriting(
      db,
      [
        (d) => d.sql.exec("UPDATE big SET t = ?, b = ? WHERE id = 4", text(9), big(9)),
        (d) => d.sql.exec("UPDATE big SET b = ? WHERE id = 2", big(10)),
        (d) => d.sql.exec("DELETE FROM big WHERE id = 5"),
        (d) => d.sql.exec("INSERT INTO big VALUES (?, ?, ?)", 6, text(11), big(11)),
      ],
      1,
    );
    expectSnapshot(db, result);
    // The values did go through the large-value path: TEXT with NUL bytes as CAST(X'…' AS TEXT), BLOB as X'…'.
    const lengths = result.reader.rows.get("big")!.map((row) => [row[2].length, row[3].length]);
    expect(lengths).toEqual(Array(5).fill([2 * 1_500_001 + 17, 2 * 1_200_000 + 3]));
  });

  it("returns the same rows to a retried read, with writes in between", () => {
    const db = database(`
      CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, u TEXT UNIQUE);
      INSERT INTO t VALUES ${rowsSql(10, (i) => `(${i}, 'v${i}', 'u${i}')`)};`);
    const instant = beginCapturing(db, "retry", NO_COPIES);
    const reader = new SnapshotReader(db, instant);
    reader.step(3);
    const first = reader.read(3);
    db.sql.exec("UPDATE t SET v = 'changed' WHERE id IN (3, 4, 5, 6); DELETE FROM t WHERE id = 5; UPDATE t SET id = 0 WHERE id = 6");
    db.sql.exec("INSERT OR REPLACE INTO t VALUES (40, 'x', 'u4'); INSERT INTO t VALUES (5, 'new', 'u5')");
    expect(reader.read(3)).toEqual(first);
    expect(first).toEqual(instant.content.get("t")!.slice(3, 6));
    while (!reader.finished) reader.step(3);
    expect(reader.rows.get("t")).toEqual(instant.content.get("t"));
  });

  it("keeps both of two snapshots exact when they overlap", () => {
    const db = database(`
      CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE);
      INSERT INTO t VALUES ${rowsSql(10, (i) => `(${i}, 'v${i}')`)};`);
    const first = beginCapturing(db, "one", NO_COPIES);
    const firstReader = new SnapshotReader(db, first);
    firstReader.step(2);
    db.sql.exec("UPDATE t SET v = 'w' || id WHERE id % 2 = 0; DELETE FROM t WHERE id = 7");
    const second = beginCapturing(db, "two", NO_COPIES);
    const secondReader = new SnapshotReader(db, second);
    expect(second.plans.map((p) => p.name)).toEqual(["t"]);
    let turn = 0;
    while (!firstReader.finished || !secondReader.finished) {
      (turn % 2 ? secondReader : firstReader).step(2);
      db.sql.exec(`INSERT OR REPLACE INTO t VALUES (${turn + 3}, 'v${turn}'); UPDATE t SET id = id + 100 WHERE id = ${turn + 1}`);
      turn++;
    }
    expect(firstReader.rows.get("t")).toEqual(first.content.get("t"));
    expect(secondReader.rows.get("t")).toEqual(second.content.get("t"));
    expect(first.content.get("t")).not.toEqual(second.content.get("t"));
    expect(listSnapshots(db)).toEqual(["one", "two"]);
  });

  it("passes a seeded random mix of write transactions and chunk reads over several tables", { timeout: 120_000 }, () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const db = database(`
        CREATE TABLE acct(id INTEGER PRIMARY KEY, email TEXT UNIQUE COLLATE NOCASE, balance INTEGER);
        CREATE TABLE ord(id INTEGER PRIMARY KEY AUTOINCREMENT, acct INTEGER REFERENCES acct(id) ON DELETE CASCADE ON UPDATE CASCADE, amount REAL);
        CREATE TABLE tag(name TEXT COLLATE NOCASE, n INTEGER, note, PRIMARY KEY(name, n)) WITHOUT ROWID;
        CREATE TABLE plain(rowid_copy INTEGER, v TEXT UNIQUE);
        INSERT INTO acct VALUES ${rowsSql(30, (i) => `(${i * 2}, 'e${i}@x', 100)`)};
        INSERT INTO ord(acct, amount) VALUES ${rowsSql(40, (i) => `(${(i % 30) * 2 + 2}, ${i / 7})`)};
        INSERT INTO tag VALUES ${rowsSql(30, (i) => `('t${i % 7}', ${i}, ${i})`)};
        INSERT INTO plain(rowid, rowid_copy, v) VALUES ${rowsSql(30, (i) => `(${i * 3}, ${i * 3}, 'p${i}')`)};`);
      const id = () => 2 * (1 + pick(40));
      const transactions: (() => string)[] = [
        () => `UPDATE acct SET balance = balance - 5 WHERE id = ${id()}; UPDATE acct SET balance = balance + 5 WHERE id = ${id()}`,
        () => `UPDATE OR IGNORE acct SET id = ${id() + 1} WHERE id = ${id()}`,
        () => `INSERT OR REPLACE INTO acct VALUES (${id()}, 'E${pick(40)}@X', ${pick(100)})`,
        () => `INSERT INTO acct VALUES (${id()}, 'e${pick(40)}@x', 1) ON CONFLICT DO UPDATE SET balance = balance + 1`,
        () => `DELETE FROM acct WHERE id = ${id()}`,
        () => `INSERT OR IGNORE INTO ord(acct, amount) VALUES (${id()}, ${random()})`,
        () => `UPDATE ord SET id = id + ${pick(60) - 30} WHERE id = ${1 + pick(50)} AND id + ${pick(60) - 30} NOT IN (SELECT id FROM ord)`,
        () => `INSERT OR REPLACE INTO tag VALUES ('T${pick(7)}', ${pick(40)}, 'r${seed}')`,
        () => `UPDATE OR REPLACE tag SET name = 'T${pick(9)}', n = ${pick(40)} WHERE n = ${pick(40)}`,
        () => `DELETE FROM tag WHERE name = 't${pick(7)}' AND n < ${pick(40)}`,
        () => `INSERT OR REPLACE INTO plain(rowid, rowid_copy, v) VALUES (${pick(120)}, ${pick(120)}, 'p${pick(40)}')`,
        () => `UPDATE OR REPLACE plain SET rowid = ${pick(120)}, v = 'p${pick(40)}' WHERE rowid = ${pick(120)}`,
        () => `DELETE FROM plain WHERE rowid % ${2 + pick(9)} = 0 AND rowid > ${pick(120)}`,
      ];
      const writes: Write[] = Array.from({ length: 60 }, () => (d: SqlJsDatabase) => {
        const statements = Array.from({ length: 1 + pick(3) }, () => transactions[pick(transactions.length)]());
        try {
          d.transactionSync(() => d.sql.exec(statements.join("; ")));
        } catch {
          // A constraint failed (a foreign key, say): the transaction rolled back, trigger writes included.
        }
      });
      // Odd seeds: triggers on every table. Even seeds: the tables of at most 30 rows are copied instead.
      const instant = beginCapturing(db, `seed${seed}`, seed % 2 ? NO_COPIES : { maxRows: 30 });
      const reader = new SnapshotReader(db, instant);
      let next = 0;
      while (!reader.finished) {
        reader.step(1 + pick(5));
        for (let n = pick(3); n > 0; n--) run(db, writes[next++ % writes.length]);
      }
      for (const [name, rows] of instant.content) expect(reader.rows.get(name), `seed ${seed}, table ${name}`).toEqual(rows);
      expect(instant.start.sequences, `seed ${seed}`).toEqual(instant.sequences);
      expect(readContent(db, instant.plans), `seed ${seed} wrote something`).not.toEqual(instant.content);
      expect(endSnapshot(db, `seed${seed}`)).toBeGreaterThan(0);
    }
  });
});

describe("schema changes during a snapshot", () => {
  const schema = `
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    CREATE TABLE other(id INTEGER PRIMARY KEY);
    INSERT INTO t VALUES ${rowsSql(6, (i) => `(${i}, 'v${i}')`)};`;

  for (const [change, words] of [
    ["ALTER TABLE t ADD COLUMN extra TEXT", "was altered"],
    ["DROP TABLE t", "was dropped or renamed"],
    ["ALTER TABLE t RENAME TO renamed", "was dropped or renamed"],
    ["CREATE UNIQUE INDEX t_v ON t(v)", "UNIQUE index"],
    ["DROP TRIGGER _dumpsnap_s1_0_u", "triggers"],
    ["DROP TABLE _dumpsnap_s1_0", "side table"],
  ]) {
    it(`${change}: the next read fails with an error that names the table and says to retry`, () => {
      const db = database(schema);
      const reader = new SnapshotReader(db, beginCapturing(db, "s1", NO_COPIES));
      reader.step(2);
      db.sql.exec(change);
      let error: unknown;
      try {
        reader.step(2);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SnapshotError);
      expect((error as Error).message).toContain('table "t"');
      expect((error as Error).message).toContain(words);
      expect((error as Error).message).toContain("retry the dump");
    });
  }

  it("a plain index created or dropped changes nothing: the reads are still the snapshot", () => {
    const db = database(`${schema} CREATE INDEX t_old ON t(v);`);
    const result = dumpWhileWriting(db, ["CREATE INDEX t_new ON t(v, id); DROP INDEX t_old", "UPDATE t SET v = 'x'"]);
    expectSnapshot(db, result);
  });

  it("ALTER TABLE DROP COLUMN is refused while the table's triggers use the column, and works after the snapshot", () => {
    const db = database(schema);
    beginSnapshot(db, "s1", planTables(db), NO_COPIES);
    expect(() => db.sql.exec("ALTER TABLE t DROP COLUMN v")).toThrow(/_dumpsnap_s1_0_/);
    endSnapshot(db, "s1");
    db.sql.exec("ALTER TABLE t DROP COLUMN v");
  });

  it("a snapshot ended under a dump makes the next read fail clearly", () => {
    const db = database(schema);
    const reader = new SnapshotReader(db, beginCapturing(db, "s1", NO_COPIES));
    reader.step(2);
    endSnapshot(db, "s1");
    expect(() => reader.step(2)).toThrow(/snapshot s1 no longer exists .*retry the dump/);
  });
});

describe("snapshot objects and bookkeeping", () => {
  it("endSnapshot leaves no _dumpsnap_ object behind, and ending twice is harmless", () => {
    const db = database(`
      CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE);
      CREATE TABLE k(a, b, PRIMARY KEY(a, b)) WITHOUT ROWID;
      CREATE VIRTUAL TABLE docs USING fts4(body);
      INSERT INTO t VALUES (1, 'a'); INSERT INTO docs(body) VALUES ('hello');`);
    const schemaBefore = db.sql.exec("SELECT type, name, sql FROM sqlite_master ORDER BY name").toArray();
    const start = beginSnapshot(db, "gone", planTables(db), NO_COPIES);
    expect(start.created.length).toBeGreaterThan(5);
    expect(listSnapshots(db)).toEqual(["gone"]);
    db.sql.exec("UPDATE t SET v = 'b'; DELETE FROM k");
    expect(endSnapshot(db, "gone")).toBe(start.created.length);
    expect(db.sql.exec("SELECT name FROM sqlite_master WHERE name LIKE '%dumpsnap%'").toArray()).toEqual([]);
    expect(db.sql.exec("SELECT type, name, sql FROM sqlite_master ORDER BY name").toArray()).toEqual(schemaBefore);
    expect(listSnapshots(db)).toEqual([]);
    expect(endSnapshot(db, "gone")).toBe(0);
  });

  it("beginning an existing id again replaces it with a new instant", () => {
    const db = database("CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    const first = beginSnapshot(db, "again", planTables(db), NO_COPIES);
    db.sql.exec("UPDATE t SET v = 'changed'");
    const second = beginCapturing(db, "again", NO_COPIES);
    expect(second.start.created).toEqual(first.created);
    const reader = new SnapshotReader(db, second);
    while (!reader.finished) reader.step(1);
    expect(reader.rows.get("t")).toEqual([["1", "1", "'changed'"], ["2", "2", "'changed'"]]);
  });

  it("counts the bytes held by saved rows and frees them as the cursor passes and when a table is done", () => {
    const db = database("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
    for (let i = 1; i <= 20; i++) db.sql.exec("INSERT INTO t VALUES (?, zeroblob(1000))", i);
    beginSnapshot(db, "held", planTables(db), NO_COPIES);
    expect(snapshotHeldBytes(db, "held")).toBe(0);
    db.sql.exec("UPDATE t SET v = zeroblob(10)");
    const held = snapshotHeldBytes(db, "held");
    expect(held).toBeGreaterThanOrEqual(20 * 1000);
    expect(held).toBeLessThan(20 * 1100);
    advanceSnapshot(db, "held", 0, ["10"]);
    expect(snapshotHeldBytes(db, "held")).toBeLessThan(held / 2 + 500);
    advanceSnapshot(db, "held", 0, ["10"]); // a retried step: nothing changes
    expect(() => advanceSnapshot(db, "held", 0, ["5"])).toThrow(/cannot move back/);
    advanceSnapshot(db, "held", 0, "done");
    expect(snapshotHeldBytes(db, "held")).toBe(0);
    db.sql.exec("UPDATE t SET v = zeroblob(5)");
    expect(snapshotHeldBytes(db, "held")).toBe(0);
    expect(() => advanceSnapshot(db, "held", 0, ["11"])).toThrow(/already finished/);
  });

  it("copies small tables within the byte budget and triggers the others", () => {
    const db = database(`
      CREATE TABLE a(v); CREATE TABLE b(v); CREATE TABLE c(v);
      INSERT INTO a VALUES (zeroblob(1000)); INSERT INTO b VALUES (zeroblob(1000)); INSERT INTO c VALUES (zeroblob(1000));`);
    const result = dumpWhileWritingWith(db, { totalBytes: 2500 }, ["UPDATE a SET v = 1; UPDATE c SET v = 2", "DELETE FROM b"]);
    expect(result.instant.start.tables.map((t) => t.method)).toEqual(["copied", "copied", "copy-on-write"]);
    expectSnapshot(db, result);
  });

  it("copies small virtual tables at the instant, reads large ones live and says so, skips rebuilt ones", () => {
    const db = database(`
      CREATE VIRTUAL TABLE small USING fts4(body);
      CREATE VIRTUAL TABLE large USING fts4(body);
      CREATE TABLE content(id INTEGER PRIMARY KEY, body TEXT);
      CREATE VIRTUAL TABLE indexed USING fts4(content="content", body);
      INSERT INTO small(body) VALUES ${rowsSql(5, (i) => `('small ${i}')`)};
      INSERT INTO large(body) VALUES ${rowsSql(8, (i) => `('large ${i}')`)};
      INSERT INTO content VALUES (1, 'one');`);
    const instant = beginCapturing(db, "vt", { maxRows: 5 });
    expect(instant.start.tables.map((t) => [t.name, t.method])).toEqual([
      ["small", "copied"],
      ["large", "live"],
      ["content", "copied"],
      ["indexed", "rebuilt"],
    ]);
    expect(snapshotExceptions(instant.start.tables)).toEqual([
      'virtual table "large" cannot have triggers and was too large to copy at the snapshot instant: ' +
        "its rows are read as they are when each chunk is read, not as of the snapshot",
    ]);
    const reader = new SnapshotReader(db, instant);
    reader.step(2);
    db.sql.exec("DELETE FROM small WHERE rowid = 4; INSERT INTO small(body) VALUES ('later'); UPDATE small SET body = 'x' WHERE rowid = 5");
    while (!reader.finished) reader.step(2);
    expect(reader.rows.get("small")).toEqual(instant.content.get("small"));
    expect(reader.rows.get("large")).toEqual(instant.content.get("large"));
  });

  it("checkSnapshotSchema returns the table's record while nothing changed", () => {
    const db = database("CREATE TABLE t(id INTEGER PRIMARY KEY); CREATE TABLE k(a TEXT COLLATE RTRIM PRIMARY KEY) WITHOUT ROWID");
    const start = beginSnapshot(db, "ok", planTables(db));
    expect(checkSnapshotSchema(db, "ok", 1)).toEqual(start.tables[1]);
    expect(start.tables[1].collations).toEqual(["RTRIM"]);
    expect(() => beginSnapshot(db, "not ok!", [])).toThrow(/letters or digits/);
    expect(snapshotIdForDump("20261125-093000-1a2b3c4d")).toBe("202611250930001a2b3c4d");
  });

  it("refuses, naming it, a table too wide for a side table in a Durable Object, and creates nothing", () => {
    const columns = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`).join(", ");
    const db = database(`CREATE TABLE fits(id INTEGER PRIMARY KEY, ${columns(97)}); CREATE TABLE wide(${columns(99)})`);
    expect(() => beginSnapshot(db, "wide", planTables(db))).toThrow(
      'table "wide" has 99 columns: a snapshot of it needs a side table of 101, more than the 100 a Durable Object allows; dump with "snapshot": false',
    );
    expect(listSnapshots(db)).toEqual([]);
    expect(beginSnapshot(db, "fits", planTables(db).slice(0, 1), NO_COPIES).tables[0].method).toBe("copy-on-write");
  });

  it("taken as one batch after reads (D1), commits only while the schema of its tables is what was read", () => {
    const db = database(
      "CREATE TABLE a(id INTEGER PRIMARY KEY, v); CREATE TABLE b(id INTEGER PRIMARY KEY, w); CREATE INDEX b_w ON b(w);" +
        "INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1, 'y')",
    );
    /** Reads, then a change, then the batch: statements and guard in one transaction, as D1 runs a batch. */
    const takeAfter = (id: string, change: string | null) => {
      const schemas = runSync(db.sql, schemaOfTables());
      const preparation = runSync(db.sql, prepareSnapshot(id, planTables(db), NO_COPIES, schemas));
      if (change) db.sql.exec(change);
      db.transactionSync(() => {
        for (const statement of [...preparation.statements, schemaGuard(id)]) db.sql.exec(statement.sql, ...statement.params);
      });
    };
    takeAfter("same", null);
    expect(checkSnapshotSchema(db, "same", 1).name).toBe("b");
    endSnapshot(db, "same");
    for (const change of ["ALTER TABLE a ADD COLUMN extra", "CREATE UNIQUE INDEX b_id_w ON b(id, w)", "DROP INDEX b_w", "CREATE TRIGGER t AFTER INSERT ON b BEGIN SELECT 1; END"]) {
      expect(() => takeAfter("changed", change), change).toThrow(/malformed JSON|JSON/);
      expect(listSnapshots(db), change).toEqual([]);
      db.sql.exec(change.startsWith("ALTER") ? "SELECT 1" : change.startsWith("CREATE UNIQUE") ? "DROP INDEX b_id_w" : change.startsWith("DROP") ? "CREATE INDEX b_w ON b(w)" : "DROP TRIGGER t");
    }
  });

  it("indexTerms reads the terms of a CREATE INDEX", () => {
    expect(indexTerms(`CREATE UNIQUE INDEX "a(b" ON t(lower(name), "x,y" COLLATE NOCASE DESC, substr(a, 1, 2)) WHERE a > ','`)).toEqual([
      "lower(name)",
      `"x,y" COLLATE NOCASE`,
      "substr(a, 1, 2)",
    ]);
  });
});
