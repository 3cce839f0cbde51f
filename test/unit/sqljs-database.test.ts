import { describe, expect, it } from "vitest";
import { sqlJsDatabase } from "./sqljs-database";

describe("sql.js behind SqlDatabase", () => {
  it("runs scripts, binds values, returns blobs as ArrayBuffer and rolls back failed transactions", () => {
    const database = sqlJsDatabase();
    database.sql.exec("CREATE TABLE t(a, b); CREATE INDEX t_a ON t(a)");
    database.sql.exec("INSERT INTO t VALUES (?, ?)", 1, new Uint8Array([0, 255]).buffer);
    const row = database.sql.exec<{ a: number; b: ArrayBuffer }>("SELECT a, b FROM t").one();
    expect(row.a).toBe(1);
    expect([...new Uint8Array(row.b)]).toEqual([0, 255]);
    expect(() =>
      database.transactionSync(() => {
        database.sql.exec("INSERT INTO t VALUES (2, NULL)");
        throw new Error("stop");
      }),
    ).toThrow("stop");
    expect([...database.sql.exec("SELECT a FROM t").raw()]).toEqual([[1]]);
    expect(database.sql.databaseSize).toBeGreaterThan(0);
    database.kv.put("k", 3);
    expect(database.kv.get("k")).toBe(3);
  });
});
