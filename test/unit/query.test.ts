import { describe, expect, it } from "vitest";
import { runStatement, runTransaction } from "../../shared/query";
import { sqlJsDatabase } from "./sqljs-database";

describe("the query API's core", () => {
  it("returns rows with blobs as byte arrays, and SQL errors as values", () => {
    const database = sqlJsDatabase();
    expect(runStatement(database.sql, { sql: "CREATE TABLE t (a, b)" })).toEqual({ result: [], error: null });
    expect(runStatement(database.sql, { sql: "INSERT INTO t VALUES (?, X'00FF') RETURNING a, b", params: ["x"] })).toEqual({
      result: [{ a: "x", b: [0, 255] }],
      error: null,
    });
    expect(runStatement(database.sql, { sql: "SELECT nope FROM t" })).toEqual({ result: null, error: expect.stringContaining("no such column: nope") });
  });

  it("runs a transaction whole or not at all", () => {
    const database = sqlJsDatabase();
    database.sql.exec("CREATE TABLE t (a UNIQUE)");
    expect(runTransaction(database, [{ sql: "INSERT INTO t VALUES (1)" }, { sql: "SELECT count(*) AS n FROM t" }])).toEqual({
      result: [[], [{ n: 1 }]],
      error: null,
    });
    const failed = runTransaction(database, [{ sql: "INSERT INTO t VALUES (2)" }, { sql: "INSERT INTO t VALUES (1)" }]);
    expect(failed).toEqual({ result: null, error: expect.stringContaining("UNIQUE constraint failed") });
    expect(runStatement(database.sql, { sql: "SELECT a FROM t" }).result).toEqual([{ a: 1 }]);
  });
});
