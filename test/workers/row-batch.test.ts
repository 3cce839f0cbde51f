// The row batch (shared/row-batch.ts) inside a real Durable Object's SQLite, which authorizes less than
// sql.js and formats floats differently: MATERIALIZED rows, octet_length, node:buffer's isUtf8. Every
// page must be written by SQLite (none declined) and equal the per-cell read byte for byte.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dumpPlan } from "../../shared/dump-plan";
import { liveRows } from "../../shared/dump-read";
import { runSync } from "../../shared/query-program";
import { beginSnapshot, checkSnapshotSchema, snapshotRows } from "../../shared/snapshot";
import { compareReads } from "../row-batch-compare";
import { planTables } from "../snapshot-harness";
import { randomDoubles } from "../random";
import { uniqueName } from "./helpers";

describe("rows read as one text inside a Durable Object", () => {
  it("equals the per-cell read for plain and WITHOUT ROWID tables and for a snapshot's merged read", async () => {
    const stub = env.DATABASE.get(env.DATABASE.idFromName(uniqueName("batch")));
    const outcome = await runInDurableObject(stub, (_instance, state) => {
      const db = state.storage;
      db.sql.exec(`
        CREATE TABLE t(id INTEGER PRIMARY KEY, score REAL, note TEXT, data BLOB, big INTEGER, any_value);
        CREATE TABLE w(k TEXT, r REAL, v, PRIMARY KEY(k, r)) WITHOUT ROWID;`);
      randomDoubles(500, 21).forEach((d, i) => {
        const note = i % 5 === 0 ? `it's\r\n${i}` : i % 11 === 0 ? `nul\u0000é😀 ${i}` : `text ${i} 'quoted'`;
        db.sql.exec("INSERT INTO t VALUES (?, ?, ?, randomblob(?), 9223372036854775807 - CAST(? AS INTEGER), ?)", i + 1, d, note, i % 40, i, i % 2 ? d : `v${i}`);
        db.sql.exec("INSERT INTO w VALUES (?, ?, ?)", `key ${i % 9}`, d, i % 3 ? i / 7 : null);
      });
      const plan = runSync(db.sql, dumpPlan("batch", 0));
      const plain = plan.tables.flatMap((table) =>
        [1, 37, 1000].map((limit) => compareReads(db.sql, table, limit, liveRows(table))),
      );
      const plans = planTables(db);
      beginSnapshot(db, "rb", plans, { totalBytes: -1 });
      db.sql.exec("UPDATE t SET score = 0.5, note = 'new' WHERE id % 3 = 0; DELETE FROM t WHERE id % 7 = 0; INSERT INTO t(id) VALUES (9000)");
      const snapshot = checkSnapshotSchema(db, "rb", 0);
      const merged = [1, 64].map((limit) => compareReads(db.sql, plans[0], limit, snapshotRows(plans[0], snapshot)));
      return { plain, merged, method: snapshot.method };
    });
    expect(outcome.method).toBe("copy-on-write");
    for (const comparison of [...outcome.plain, ...outcome.merged]) {
      expect(comparison.mismatches).toEqual([]);
      expect(comparison.declined).toBe(0);
    }
  });
});
