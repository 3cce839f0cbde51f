import { describe, expect, it } from "vitest";
import { dumpPlan, listTables, sequences, tableAndViewNames, tableOptions } from "../../shared/dump-plan";
import { runSync, selectAll } from "../../shared/query-program";
import type { DumpPlan } from "../../shared/types";
import { sqlJsDatabase, type SqlJsDatabase } from "./sqljs-database";

function databaseWith(sql: string): SqlJsDatabase {
  const database = sqlJsDatabase();
  database.sql.exec(sql);
  return database;
}

function planOf(database: SqlJsDatabase): DumpPlan {
  return runSync(database.sql, dumpPlan("db", 4096));
}

function table(plan: DumpPlan, name: string) {
  const found = plan.tables.find((t) => t.name === name);
  if (!found) throw new Error(`no table ${name} in the plan`);
  return found;
}

describe("dumpPlan", () => {
  it("puts parents before the tables that reference them, and keeps creation order otherwise", () => {
    const database = databaseWith(`
      CREATE TABLE line (id INTEGER PRIMARY KEY, invoice_id INTEGER REFERENCES invoice(id), track_id INTEGER REFERENCES track(id));
      CREATE TABLE notes (body TEXT);
      CREATE TABLE invoice (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(id));
      CREATE TABLE track (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES track(id));
      CREATE TABLE customer (id INTEGER PRIMARY KEY);
    `);
    const order = planOf(database).tables.map((t) => t.name);
    expect(order.indexOf("customer")).toBeLessThan(order.indexOf("invoice"));
    expect(order.indexOf("invoice")).toBeLessThan(order.indexOf("line"));
    expect(order.indexOf("track")).toBeLessThan(order.indexOf("line"));
    expect(order.slice(3)).toEqual(["line", "notes"]);
  });

  it("keys WITHOUT ROWID tables by their primary key in key order, and others by an unshadowed rowid", () => {
    const database = databaseWith(`
      CREATE TABLE wr (a TEXT, b REAL, c, PRIMARY KEY (b, a)) WITHOUT ROWID;
      CREATE TABLE aliased (id INTEGER PRIMARY KEY, v);
      CREATE TABLE desc_key (id INTEGER, v, PRIMARY KEY (id));
      CREATE TABLE plain (v);
      CREATE TABLE shadowed (rowid TEXT, oid TEXT, v);
      CREATE TABLE text_key (id TEXT PRIMARY KEY, v);
    `);
    const plan = planOf(database);
    expect(table(plan, "wr")).toMatchObject({ key: { kind: "primaryKey", columns: ["b", "a"] }, insertRowid: false, columns: ["a", "b", "c"] });
    expect(table(plan, "aliased")).toMatchObject({ key: { kind: "rowid", column: "rowid" }, insertRowid: false });
    expect(table(plan, "desc_key")).toMatchObject({ key: { kind: "rowid", column: "rowid" }, insertRowid: false });
    expect(table(plan, "plain")).toMatchObject({ key: { kind: "rowid", column: "rowid" }, insertRowid: true });
    expect(table(plan, "shadowed")).toMatchObject({ key: { kind: "rowid", column: "_rowid_" }, insertRowid: true });
    expect(table(plan, "text_key")).toMatchObject({ key: { kind: "rowid", column: "rowid" }, insertRowid: true });
  });

  it("refuses a table whose columns hide every name of its rowid", () => {
    const database = databaseWith("CREATE TABLE hidden_rowid (rowid, _rowid_, oid)");
    expect(() => planOf(database)).toThrow(/rowid, _rowid_ and oid hide its rowid/);
  });

  it("leaves generated columns out of the INSERT, and records STRICT and declared types", () => {
    const database = databaseWith(
      "CREATE TABLE g (a INTEGER, b INTEGER AS (a * 2) VIRTUAL, c text, d INTEGER AS (a + 1) STORED, e ANY) STRICT",
    );
    expect(table(planOf(database), "g")).toMatchObject({
      strict: true,
      columns: ["a", "c", "e"],
      columnTypes: ["INTEGER", "TEXT", "ANY"],
    });
  });

  it("estimates rows from the rowid range, or counts them without a rowid", () => {
    const database = databaseWith(`
      CREATE TABLE r (v);
      INSERT INTO r(rowid, v) VALUES (5, 'a'), (7, 'b'), (12, 'c');
      CREATE TABLE empty (v);
      CREATE TABLE wr (k PRIMARY KEY, v) WITHOUT ROWID;
      INSERT INTO wr VALUES (1, 1), (2, 2);
    `);
    const plan = planOf(database);
    expect(table(plan, "r")).toMatchObject({ minRowid: 5, maxRowid: 12, estimatedRows: 8 });
    expect(table(plan, "empty").estimatedRows).toBe(0);
    expect(table(plan, "empty")).not.toHaveProperty("minRowid");
    expect(table(plan, "wr").estimatedRows).toBe(2);
  });

  it("lists views, then triggers, then indexes, skipping automatic indexes and internal tables", () => {
    const database = databaseWith(`
      CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE);
      CREATE INDEX t_name ON t(name);
      CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN SELECT 1; END;
      CREATE VIEW v AS SELECT * FROM t;
      INSERT INTO t(name) VALUES ('a');
    `);
    const plan = planOf(database);
    expect(plan.tables.map((t) => t.name)).toEqual(["t"]);
    expect(plan.objects.map((o) => [o.type, o.name, o.tableName])).toEqual([
      ["view", "v", "v"],
      ["trigger", "t_touch", "t"],
      ["index", "t_name", "t"],
    ]);
    expect(plan).toMatchObject({ database: "db", hasSequenceTable: true, databaseSize: 4096 });
  });

  it("leaves the objects of tables that are not dumped out", () => {
    const database = databaseWith(`
      CREATE TABLE t (a);
      CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB);
      CREATE INDEX cf_value ON _cf_KV(value);
    `);
    const plan = planOf(database);
    expect(plan.tables.map((t) => t.name)).toEqual(["t"]);
    expect(plan.objects).toEqual([]);
    expect(plan.hasSequenceTable).toBe(false);
  });

  it("leaves out a snapshot's own triggers, which sit on user tables", () => {
    const database = databaseWith(`
      CREATE TABLE t (a);
      CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN SELECT 1; END;
      CREATE TRIGGER _dumpsnap_1_0_bd BEFORE DELETE ON t BEGIN SELECT 1; END;
    `);
    expect(planOf(database).objects.map((o) => o.name)).toEqual(["t_touch"]);
  });

  // sql.js has FTS3/4 but no FTS5; the FTS5 cases run inside workerd (test/workers).
  it("reads FTS rows with their rowid, rebuilds external content and skips contentless and shadow tables", () => {
    const database = databaseWith(`
      CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
      CREATE VIRTUAL TABLE plain_fts USING fts4(body);
      CREATE VIRTUAL TABLE external_fts USING fts4(content="docs", body);
      CREATE VIRTUAL TABLE contentless_fts USING fts4(content="", body);
      INSERT INTO plain_fts(rowid, body) VALUES (3, 'x');
    `);
    const plan = planOf(database);
    expect(plan.tables.map((t) => t.name)).toEqual(["docs", "plain_fts", "external_fts", "contentless_fts"]);
    expect(table(plan, "plain_fts")).toMatchObject({ virtual: true, content: "rows", insertRowid: true, columns: ["body"], estimatedRows: 1 });
    expect(table(plan, "external_fts")).toMatchObject({ content: "rebuild", estimatedRows: 0 });
    expect(table(plan, "contentless_fts")).toMatchObject({ content: "none", estimatedRows: 0 });
    expect(runSync(database.sql, tableAndViewNames()).sort()).toEqual(["contentless_fts", "docs", "external_fts", "plain_fts"]);
  });
});

describe("listTables", () => {
  it("describes every table and view as pragma_table_list does, FTS shadow tables included", () => {
    const database = databaseWith(`
      CREATE TABLE plain (a, "strict" TEXT, b INT CHECK (b > (0)));
      CREATE TABLE keyed (k TEXT PRIMARY KEY, v) /* ) STRICT */ WITHOUT ROWID;
      CREATE TABLE typed (a INTEGER, b TEXT) STRICT;
      CREATE TABLE "both ) strict" (a INTEGER PRIMARY KEY, b ANY) STRICT, WITHOUT ROWID;
      CREATE TABLE copied AS SELECT max(a) AS "strict" FROM plain;
      CREATE VIRTUAL TABLE notes USING fts4(body);
      CREATE TABLE notes_extra (a);
      CREATE VIEW v AS SELECT a FROM plain;
    `);
    const master = runSync(database.sql, selectAll<[string, string, string | null]>("SELECT type, name, sql FROM sqlite_master ORDER BY rowid"));
    const listed = runSync(database.sql, listTables(master.map(([type, name, sql]) => ({ type, name, sql }))));
    const pragma = runSync(database.sql, selectAll<[string, string, number, number]>("SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main'"));
    const expected = new Map(pragma.filter(([name]) => !name.startsWith("sqlite_")).map(([name, type, wr, strict]) => [name, { type, wr, strict }]));
    expect(new Map([...listed].filter(([name]) => !name.startsWith("sqlite_")))).toEqual(expected);
    expect([...expected.values()].filter((t) => t.type === "shadow")).toHaveLength(5);
    expect(listed.get("notes_extra")).toEqual({ type: "table", wr: 0, strict: 0 });
    expect(tableOptions('CREATE TABLE "x" (a) -- STRICT')).toEqual({ withoutRowid: false, strict: false });
  });
});

describe("tableAndViewNames and sequences", () => {
  it("names user tables and views, and reads sequences as exact integers", () => {
    const database = databaseWith(`
      CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE TABLE b (id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE VIEW v AS SELECT 1;
      INSERT INTO a VALUES (9007199254740993);
      INSERT INTO b VALUES (2);
    `);
    expect(runSync(database.sql, tableAndViewNames()).sort()).toEqual(["a", "b", "v"]);
    expect(runSync(database.sql, sequences())).toEqual([
      { name: "a", seq: "9007199254740993" },
      { name: "b", seq: "2" },
    ]);
  });
});
