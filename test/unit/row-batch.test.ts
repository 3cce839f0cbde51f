// A chunk read whose text SQLite writes (shared/row-batch.ts) must give the very bytes the per-cell
// read gives, or decline (null) so that the read goes cell by cell. It wraps the query that selects
// the rows: the plain chunkSelect and a snapshot's merged SELECT. Run in sql.js, the tests' SQLite.

import { describe, expect, it } from "vitest";
import { liveRows, readCells, type RowSource } from "../../shared/dump-read";
import { chunkSelect } from "../../shared/dump-sql";
import { runSync } from "../../shared/query-program";
import { realLiteral } from "../../shared/real-literal";
import { batchTextQuery, readRowBatch, spliceReals, splitsReals } from "../../shared/row-batch";
import { beginSnapshot, checkSnapshotSchema, snapshotRows } from "../../shared/snapshot";
import type { KeyCursor, TablePlan } from "../../shared/types";
import { randomDoubles, seededRandom } from "../random";
import { compareReads } from "../row-batch-compare";
import { planTables } from "../snapshot-harness";
import { sqlJsDatabase, type SqlJsDatabase } from "./sqljs-database";
import { tablePlan } from "./table-plan";

const decoder = new TextDecoder();

/** Pages through the table both ways; returns how many pages the batch declined. */
function compareAll(database: SqlJsDatabase, table: TablePlan, limit: number, source: RowSource = liveRows(table)): number {
  const comparison = compareReads(database.sql, table, limit, source);
  expect(comparison.mismatches).toEqual([]);
  return comparison.declined;
}

/** The per-cell text of the rows `source` selects. */
function cellText(database: SqlJsDatabase, table: TablePlan, after: KeyCursor | null, limit: number): string {
  const request = { table, after, maxRows: limit, maxBytes: Infinity };
  return decoder.decode(runSync(database.sql, readCells(request, liveRows(table), chunkSelect(table, after, limit))).sql);
}

function seeded(createSql: string, rows: unknown[][], insert: string): SqlJsDatabase {
  const database = sqlJsDatabase();
  database.db.run(createSql);
  for (const row of rows) database.db.run(insert, row as never);
  return database;
}

describe("rows read as one text written by SQLite", () => {
  const random = seededRandom(5);
  const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join("");

  it("equals the per-cell text for exact REALs, quotes, NUL and CR text, blobs and 64-bit integers", () => {
    const doubles = randomDoubles(300, 9);
    const rows = doubles.map((d, i) => [
      i % 7 === 0 ? null : d,
      i % 5 === 0 ? `it's ${text(20)}\r\nnext` : i % 11 === 0 ? `nul\u0000inside é😀` : text(30 + (i % 40)),
      i % 3 === 0 ? null : Uint8Array.from({ length: i % 33 }, (_, k) => (k * 37 + i) & 255),
      i % 4 === 0 ? "9223372036854775807" : String(i * 1_000_003),
    ]);
    rows.push([-0, "negative zero", null, "1"], [Infinity, "inf", null, "2"], [-Infinity, "-inf", null, "3"]);
    const database = seeded(
      "CREATE TABLE t(id INTEGER PRIMARY KEY, score REAL, note TEXT, data BLOB, big INTEGER)",
      rows,
      "INSERT INTO t(score, note, data, big) VALUES(?, ?, ?, CAST(? AS INTEGER))",
    );
    const table = tablePlan({ name: "t", createSql: "", columns: ["id", "score", "note", "data", "big"], columnTypes: ["INTEGER", "REAL", "TEXT", "BLOB", "INTEGER"] });
    for (const limit of [1, 7, 64, 1000]) expect(compareAll(database, table, limit)).toBe(0);
  });

  it("splits REALs out of untyped and NUMERIC columns, and declines a REAL in an INTEGER column", () => {
    const database = seeded("CREATE TABLE u(a, b NUMERIC, c INTEGER)", [[1.5, 2.25, 3], ["x", 0.1, 4], [null, 1e300, 5.5], [7, 8, 9]], "INSERT INTO u VALUES(?, ?, ?)");
    const table = tablePlan({ name: "u", createSql: "", columns: ["a", "b", "c"], columnTypes: ["", "NUMERIC", "INTEGER"], insertRowid: true });
    expect([0, 1, 2, 3].map((i) => splitsReals(table, i))).toEqual([false, true, true, false]);
    expect(compareAll(database, table, 1)).toBe(1); // only the row holding 5.5 in c
    expect(compareAll(database, table, 10)).toBe(1);
  });

  it("equals the per-cell text of WITHOUT ROWID tables keyed by text with a CR and by REALs", () => {
    const database = seeded(
      "CREATE TABLE w(k TEXT, r REAL, v ANY, PRIMARY KEY(k, r)) WITHOUT ROWID",
      Array.from({ length: 40 }, (_, i) => [i % 3 ? `key ${i % 5}` : `key\r${i % 5}`, i / 7, i % 2 ? i / 3 : `v${i}`]),
      "INSERT INTO w VALUES(?, ?, ?)",
    );
    const table = tablePlan({ name: "w", createSql: "", columns: ["k", "r", "v"], columnTypes: ["TEXT", "REAL", "ANY"], key: { kind: "primaryKey", columns: ["k", "r"] } });
    for (const limit of [1, 6, 100]) expect(compareAll(database, table, limit)).toBe(0);
  });

  it("declines rows too long for one INSERT and values too large for quote(), which the per-cell read splits", () => {
    const database = seeded("CREATE TABLE l(id INTEGER PRIMARY KEY, body)", [["short"], ["x".repeat(150_000)], ["short again"], ["y".repeat(600_000)]], "INSERT INTO l(body) VALUES(?)");
    const table = tablePlan({ name: "l", createSql: "", columns: ["id", "body"], columnTypes: ["INTEGER", ""] });
    const read = (after: KeyCursor | null, limit: number) => runSync(database.sql, readRowBatch(table, liveRows(table), after, limit));
    expect(read(null, 10)).toBeNull();
    expect(decoder.decode(read(null, 1)!.sql)).toBe(cellText(database, table, null, 1));
    expect(read(["3"], 1)).toBeNull();
  });

  it("declines TEXT that is not UTF-8, whose literal the per-cell read checks against its bytes", () => {
    const database = seeded("CREATE TABLE b(id INTEGER PRIMARY KEY, v TEXT)", [], "SELECT 1");
    database.db.run("INSERT INTO b(v) VALUES ('fine'), (CAST(X'61EDA08062' AS TEXT))");
    const table = tablePlan({ name: "b", createSql: "", columns: ["id", "v"], columnTypes: ["INTEGER", "TEXT"] });
    expect(runSync(database.sql, readRowBatch(table, liveRows(table), null, 1))).not.toBeNull();
    expect(runSync(database.sql, readRowBatch(table, liveRows(table), null, 2))).toBeNull();
  });

  it("reads an empty range as no rows, keeping the cursor", () => {
    const database = seeded("CREATE TABLE e(id INTEGER PRIMARY KEY, x REAL)", [], "SELECT 1");
    const table = tablePlan({ name: "e", createSql: "", columns: ["id", "x"], columnTypes: ["INTEGER", "REAL"] });
    expect(runSync(database.sql, readRowBatch(table, liveRows(table), ["5"], 10))).toEqual({ sql: new Uint8Array(0), rows: 0, lastKey: ["5"] });
  });

  it("wraps a snapshot's merged SELECT: live rows and saved old images, in key order", () => {
    const database = sqlJsDatabase();
    database.sql.exec("CREATE TABLE s(id INTEGER PRIMARY KEY, r REAL, v TEXT)");
    const doubles = randomDoubles(200, 3);
    doubles.forEach((d, i) => database.db.run("INSERT INTO s VALUES(?, ?, ?)", [i + 1, d, `row ${i} 'q'`]));
    const plans = planTables(database);
    beginSnapshot(database, "b1", plans, { totalBytes: -1 });
    // After the instant: updated, deleted and new rows; the snapshot reads the old images of the first two.
    database.sql.exec("UPDATE s SET r = 0.5, v = 'new' WHERE id % 3 = 0; DELETE FROM s WHERE id % 7 = 0; INSERT INTO s VALUES (1000, 2.5, 'later')");
    const snapshot = checkSnapshotSchema(database, "b1", 0);
    expect(snapshot.method).toBe("copy-on-write");
    const source = snapshotRows(plans[0], snapshot);
    for (const limit of [1, 9, 500]) expect(compareAll(database, plans[0], limit, source)).toBe(0);
    const all = runSync(database.sql, readRowBatch(plans[0], source, null, 500))!;
    expect(all.rows).toBe(200);
    expect(decoder.decode(all.sql)).not.toContain("'later'");
    expect(batchTextQuery(plans[0], source, null, 500).sql).toContain(" UNION ALL "); // the merge of live and saved rows
  });

  it("refuses a text whose markers do not match its REALs", () => {
    const bytes = new TextEncoder().encode("a\u0000b\u0000c");
    expect(decoder.decode(spliceReals(bytes, [1.5, 2], realLiteral))).toBe("a1.5b2.0c");
    expect(() => spliceReals(bytes, [1.5], realLiteral)).toThrow(/more REAL markers/);
    expect(() => spliceReals(bytes, [1, 2, 3], realLiteral)).toThrow(/fewer REAL markers/);
  });
});
