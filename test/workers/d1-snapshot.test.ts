// A D1 source's dump reads a snapshot too: taken by one batch guarded against schema changes, read by
// merged SELECTs, and removed from the D1 database when the dump completes.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { D1DumpDatabase } from "../../storage/d1-database";
import { downloadText, expectJson, lastInstance, postJson, runDumpToCompletion, watchInstances, type DumpStarted } from "./helpers";

async function snapshotObjects(db: D1Database): Promise<unknown[]> {
  return (await db.prepare("SELECT name FROM sqlite_master WHERE substr(name, 1, 10) = '_dumpsnap_' AND name NOT LIKE '_dumpsnap_restore%' AND name NOT LIKE '_dumpsnap_plan%'").all()).results;
}

describe("a D1 source's snapshot", () => {
  it("leaves out writes made after the dump started, and nothing of itself in the database", async () => {
    const db = env.ANALYTICS;
    await db.batch([
      db.prepare("CREATE TABLE snap_small (id INTEGER PRIMARY KEY, label TEXT)"),
      db.prepare("INSERT INTO snap_small VALUES (1, 's1'), (2, 's2')"),
      db.prepare("CREATE TABLE snap_big (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT NOT NULL, x REAL)"),
      db.prepare(
        "INSERT INTO snap_big (id, label, x) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050) SELECT i, 'b' || i, i / 3.0 FROM n",
      ),
    ]);
    const dumps = await watchInstances(env.DUMP_WORKFLOW);
    const started = (await expectJson<{ result: DumpStarted }>(await postJson("/export/dump?source=analytics", { storage: "do", breathingMs: 1500 }), 202)).result;
    await lastInstance(dumps).waitForStepResult({ name: 'table "snap_small" · chunk 1' });
    expect((await snapshotObjects(db)).length).toBeGreaterThan(0);
    // While the dump sleeps before the big table: change, delete and add rows, and move the sequence.
    await db.batch([
      db.prepare("UPDATE snap_big SET label = 'changed' WHERE id <= 100"),
      db.prepare("DELETE FROM snap_big WHERE id > 10000"),
      db.prepare("INSERT INTO snap_big (label) VALUES ('new')"),
      db.prepare("UPDATE snap_small SET label = 'changed'"),
    ]);
    const status = await runDumpToCompletion(started.dumpId);
    expect(status.snapshot).toMatchObject({ copiedTables: 1, trackedTables: 1, exceptions: [], endedAt: expect.any(String) });
    const sql = await downloadText(started.dumpId);
    expect(sql).toContain(`VALUES(1,'b1',`);
    expect(sql).toContain(`VALUES(10050,'b10050',`);
    expect(sql).toContain(`VALUES(1,'s1');`);
    expect(sql).not.toContain("changed");
    expect(sql).not.toContain("'new'");
    expect(sql).toContain(`INSERT INTO sqlite_sequence VALUES('snap_big',10050);`);
    expect(await snapshotObjects(db)).toEqual([]);
  });

  it("takes no snapshot when the schema changes between its reads and its batch, and says so", async () => {
    const db = env.ANALYTICS;
    await db.prepare("CREATE TABLE IF NOT EXISTS guarded (id INTEGER PRIMARY KEY, v)").run();
    const d1 = new D1DumpDatabase(db);
    // Each read of sqlite_master by the snapshot's preparation is followed by a schema change.
    let changes = 0;
    const changing = new Proxy(db, {
      get(target, key) {
        if (key !== "prepare") return Reflect.get(target, key);
        return (sql: string) => {
          if (sql.includes("json_group_array") && !sql.startsWith("SELECT CASE")) {
            changes += 1;
            return { bind: (...params: unknown[]) => ({ raw: async () => {
              const rows = await target.prepare(sql).bind(...params).raw();
              await target.prepare(`ALTER TABLE guarded ADD COLUMN c${changes}`).run();
              return rows;
            } }) };
          }
          return target.prepare(sql);
        };
      },
    });
    const unstable = new D1DumpDatabase(changing as D1Database);
    await expect(unstable.sqlDumpStart("source:analytics", "20990101-000000-guarded", { tables: ["guarded"] }, "guarded1")).rejects.toThrow(
      /schema changed 3 times while the snapshot was being taken; retry the dump/,
    );
    expect(await snapshotObjects(db)).toEqual([]);
    const steady = await d1.sqlDumpStart("source:analytics", "20990101-000000-guarded", { tables: ["guarded"] }, "guarded2");
    expect(steady.snapshot).toMatchObject({ copiedTables: 1 });
    expect(await d1.sqlDumpEndSnapshot("guarded2")).toBeGreaterThan(0);
    expect(await snapshotObjects(db)).toEqual([]);
  });
});
