import { describe, expect, it } from "vitest";
import { runSync, selectAll } from "../../shared/query-program";
import { applyStatements, beginRestore, endRestore, userObjectCount, type ExclusiveAccess } from "../../shared/restore-apply";
import { restoreMarkerKey, type RestoreBatch } from "../../shared/restore-record";
import { sqlJsDatabase, type SqlJsDatabase } from "./sqljs-database";

/** In Node nothing else runs on the database in between, and sql.js commits as it goes. */
const access: ExclusiveAccess = { exclusive: (work) => work(), flush: async () => undefined };

/** A database that enforces foreign keys, as a Durable Object does by default. */
function target(): SqlJsDatabase {
  const database = sqlJsDatabase();
  database.sql.exec("PRAGMA foreign_keys=ON");
  return database;
}

function values(database: SqlJsDatabase, sql: string): unknown[][] {
  return runSync(database.sql, selectAll(sql));
}

function batch(from: number, to: number, statements: string[], foreignKeys = false): RestoreBatch {
  return { restoreId: "r1", from, to, foreignKeys, statements: statements.map((sql) => ({ sql })) };
}

describe("restore batches", () => {
  it("applies a batch once and records its end", async () => {
    const database = target();
    expect(await beginRestore(database, access, "r1", "empty")).toEqual({ ok: true, dropped: 0 });
    const first = batch(0, 100, ["CREATE TABLE t (id INTEGER PRIMARY KEY, v)", "INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b') RETURNING id"]);
    expect(await applyStatements(database, access, first)).toEqual({ status: "applied", statements: 3 });
    expect(database.kv.get(restoreMarkerKey("r1"))).toBe(100);
    // A retried step sends the same batch again: nothing runs twice.
    expect(await applyStatements(database, access, first)).toEqual({ status: "already-applied" });
    expect(values(database, "SELECT id, v FROM t ORDER BY id")).toEqual([[1, "a"], [2, "b"]]);
  });

  it("keeps nothing of a batch that fails, and says which statement failed", async () => {
    const database = target();
    await beginRestore(database, access, "r1", "empty");
    await applyStatements(database, access, batch(0, 10, ["CREATE TABLE t (id INTEGER PRIMARY KEY)"]));
    const failing = batch(10, 20, ["INSERT INTO t VALUES (1)", "CREATE TABLE u (a)", "INSERT INTO nope VALUES (1)", "INSERT INTO t VALUES (2)"]);
    expect(await applyStatements(database, access, failing)).toEqual({ status: "failed", index: 2, message: expect.stringContaining("no such table: nope") });
    expect(values(database, "SELECT count(*) FROM t")).toEqual([[0]]);
    expect(values(database, "SELECT count(*) FROM sqlite_master WHERE name = 'u'")).toEqual([[0]]);
    expect(database.kv.get(restoreMarkerKey("r1"))).toBe(10);
    // The same range can be tried again once fixed.
    expect(await applyStatements(database, access, batch(10, 20, ["INSERT INTO t VALUES (1)"]))).toEqual({ status: "applied", statements: 1 });
  });

  it("runs statements several per call and keeps each CREATE's own text, also after a comment", async () => {
    const database = target();
    await beginRestore(database, access, "r1", "empty");
    const statements = [
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v) -- note; not a statement",
      "CREATE TABLE u (a)",
      ...Array.from({ length: 50 }, (_, i) => `INSERT INTO t VALUES (${i}, 'row ${i}; --')`),
      "CREATE VIEW w AS SELECT v FROM t",
    ];
    expect(await applyStatements(database, access, batch(0, 10, statements))).toEqual({ status: "applied", statements: 53 });
    expect(values(database, "SELECT count(*), max(v) FROM t")).toEqual([[50, "row 9; --"]]);
    expect(values(database, "SELECT name, sql FROM sqlite_master ORDER BY name")).toEqual([
      ["t", "CREATE TABLE t (id INTEGER PRIMARY KEY, v)"],
      ["u", "CREATE TABLE u (a)"],
      ["w", "CREATE VIEW w AS SELECT v FROM t"],
    ]);
  });

  it("refuses batches out of order and batches of a restore it has no record of", async () => {
    const database = target();
    expect(await applyStatements(database, access, batch(0, 10, ["CREATE TABLE t (a)"]))).toEqual({
      status: "failed",
      index: -1,
      message: "the batch starts at byte 0 but the target has no record of this restore",
    });
    await beginRestore(database, access, "r1", "empty");
    expect(await applyStatements(database, access, batch(50, 60, ["CREATE TABLE t (a)"]))).toEqual({
      status: "failed",
      index: -1,
      message: "the batch starts at byte 50 but the target is at byte 0",
    });
    expect(runSync(database.sql, userObjectCount())).toBe(0);
  });

  it("treats a batch the target has gone past as applied: a retried step whose first batches committed", async () => {
    const database = target();
    await beginRestore(database, access, "r1", "empty");
    const first = batch(0, 10, ["CREATE TABLE t (id INTEGER PRIMARY KEY)"]);
    const second = batch(10, 20, ["INSERT INTO t VALUES (1)"]);
    await applyStatements(database, access, first);
    await applyStatements(database, access, second);
    // The step is retried from its start: both batches are sent again, then the rest.
    expect(await applyStatements(database, access, first)).toEqual({ status: "already-applied" });
    expect(await applyStatements(database, access, second)).toEqual({ status: "already-applied" });
    expect(await applyStatements(database, access, batch(20, 30, ["INSERT INTO t VALUES (2)"]))).toEqual({ status: "applied", statements: 1 });
    expect(values(database, "SELECT id FROM t ORDER BY id")).toEqual([[1], [2]]);
    // A batch that starts inside what was applied is not one this restore made: refused.
    expect(await applyStatements(database, access, batch(25, 40, ["INSERT INTO t VALUES (3)"]))).toEqual({
      status: "failed",
      index: -1,
      message: "the batch starts at byte 25 but the target is at byte 30",
    });
  });

  it("runs a statement marked onlyIfTableExists only when that table exists", async () => {
    const database = target();
    await beginRestore(database, access, "r1", "empty");
    const statements = [
      { sql: "DELETE FROM sqlite_sequence", onlyIfTableExists: "sqlite_sequence" },
      { sql: "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)" },
      { sql: "INSERT INTO t VALUES (5)" },
      { sql: "DELETE FROM sqlite_sequence", onlyIfTableExists: "sqlite_sequence" },
    ];
    expect(await applyStatements(database, access, { restoreId: "r1", from: 0, to: 1, foreignKeys: false, statements })).toEqual({
      status: "applied",
      statements: 3,
    });
    expect(values(database, "SELECT count(*) FROM sqlite_sequence")).toEqual([[0]]);
  });

  it("loads children before parents with foreign keys off, enforces them when the file asks, and turns them back on", async () => {
    const database = target();
    await beginRestore(database, access, "r1", "empty");
    const first = batch(0, 10, [
      "CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id))",
      "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
      "INSERT INTO child VALUES (1, 42)",
    ]);
    expect(await applyStatements(database, access, first)).toEqual({ status: "applied", statements: 3 });
    expect(values(database, "PRAGMA foreign_keys")).toEqual([[1]]);
    const enforced = batch(10, 20, ["INSERT INTO child VALUES (2, 43)"], true);
    expect(await applyStatements(database, access, enforced)).toMatchObject({ status: "failed", index: 0, message: expect.stringContaining("FOREIGN KEY") });
    expect(values(database, "SELECT id, p FROM child")).toEqual([[1, 42]]);
  });

  it("refuses a batch when foreign keys cannot be turned off (inside a transaction)", async () => {
    const database = target();
    await beginRestore(database, access, "r1", "empty");
    const outcome = await database.transactionSync(() => applyStatements(database, access, batch(0, 10, ["CREATE TABLE t (a)"])));
    expect(outcome).toEqual({ status: "failed", index: -1, message: "foreign keys could not be turned off for the restore" });
  });
});

describe("beginning and ending a restore", () => {
  const schema = `
    CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT);
    CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id));
    CREATE VIEW children AS SELECT * FROM child;
    CREATE TRIGGER touch AFTER INSERT ON parent BEGIN SELECT 1; END;
    CREATE VIRTUAL TABLE docs USING fts4(body);
    INSERT INTO parent VALUES (1);
    INSERT INTO child VALUES (1, 1);
  `;

  it("mode empty refuses a database with tables or views, and leaves it as it was", async () => {
    const database = target();
    database.sql.exec(schema);
    expect(runSync(database.sql, userObjectCount())).toBe(4);
    expect(await beginRestore(database, access, "r1", "empty")).toEqual({
      ok: false,
      reason: 'the target database has 4 tables or views; restore with mode "replace" to drop them first',
    });
    expect(database.kv.get(restoreMarkerKey("r1"))).toBeUndefined();
    expect(values(database, "SELECT count(*) FROM child")).toEqual([[1]]);
  });

  it("mode replace drops every user table, view and trigger once, however often it is retried", async () => {
    const database = target();
    database.sql.exec(schema);
    expect(await beginRestore(database, access, "r1", "replace")).toEqual({ ok: true, dropped: 5 });
    expect(values(database, "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite%'")).toEqual([]);
    expect(values(database, "PRAGMA foreign_keys")).toEqual([[1]]);
    await applyStatements(database, access, batch(0, 10, ["CREATE TABLE kept (a)"]));
    // A retried begin finds the restore's marker and drops nothing more.
    expect(await beginRestore(database, access, "r1", "replace")).toEqual({ ok: true, dropped: 0 });
    expect(runSync(database.sql, userObjectCount())).toBe(1);
    endRestore(database, "r1");
    expect(database.kv.get(restoreMarkerKey("r1"))).toBeUndefined();
    expect(await beginRestore(database, access, "r1", "empty")).toMatchObject({ ok: false });
  });
});
