// A dump's snapshot over its whole life, through the public API and the real Workflows: it is taken by
// the plan step, refuses a table whose definition changed, and leaves nothing in the source database
// when the dump completes, is cancelled, or is terminated from outside (then the watchdog removes it).

import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { watchdogId } from "../../workflows/snapshot-watchdog";
import {
  api,
  downloadText,
  dumpStatus,
  expectJson,
  lastInstance,
  query,
  runDumpToCompletion,
  runDumpUntilFinished,
  seed,
  startDump,
  uniqueName,
  watchInstances,
} from "./helpers";

/** `small` is copied whole at the instant; `big` (over 10,000 rows) gets triggers and a side table. */
async function seedTwoTables(prefix: string): Promise<string> {
  const database = uniqueName(prefix);
  await seed(database, [
    "CREATE TABLE small (id INTEGER PRIMARY KEY, label TEXT)",
    "INSERT INTO small (id, label) VALUES (1, 's1'), (2, 's2')",
    "CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT NOT NULL)",
    `INSERT INTO big (id, label) WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10050) SELECT x, 'b' || x FROM n`,
  ]);
  return database;
}

async function snapshotObjects(database: string): Promise<string[]> {
  const rows = await query(database, "SELECT name FROM sqlite_master WHERE substr(name, 1, 10) = '_dumpsnap_' ORDER BY name");
  return rows.map((r) => String(r.name));
}

/** Starts a dump that sleeps a minute after each chunk, and waits for its first chunk. */
async function dumpStoppedAfterFirstChunk(database: string) {
  const dumps = await watchInstances(env.DUMP_WORKFLOW);
  const started = await startDump(database, { storage: "do", breathingMs: 60_000 });
  await lastInstance(dumps).waitForStepResult({ name: 'table "small" · chunk 1' });
  return started.dumpId;
}

describe("a dump's snapshot", () => {
  it("is taken by the plan: writes after it are not in the file, and nothing is left afterwards", async () => {
    const database = await seedTwoTables("snap-complete");
    const dumps = await watchInstances(env.DUMP_WORKFLOW);
    const started = await startDump(database, { storage: "do", breathingMs: 1500 });
    await lastInstance(dumps).waitForStepResult({ name: 'table "small" · chunk 1' });
    expect((await snapshotObjects(database)).length).toBeGreaterThan(0);
    const running = await dumpStatus(started.dumpId);
    expect(running.snapshot).toMatchObject({ copiedTables: 1, trackedTables: 1, exceptions: [], endedAt: null });
    // While the dump sleeps after its first table: change and add rows of the second.
    await seed(database, ["UPDATE big SET label = 'changed' WHERE id <= 100", "DELETE FROM big WHERE id > 10000", "INSERT INTO big VALUES (20000, 'new')"]);
    const status = await runDumpToCompletion(started.dumpId);
    expect(status.progress.rowsDumped).toBe(2 + 10050);
    const sql = await downloadText(started.dumpId);
    expect(sql).toContain(`INSERT INTO "big"("id","label") VALUES(1,'b1');`);
    expect(sql).toContain(`INSERT INTO "big"("id","label") VALUES(10050,'b10050');`);
    expect(sql).not.toContain("changed");
    expect(sql).not.toContain("20000");
    expect(sql).not.toContain("_dumpsnap_");
    expect(await snapshotObjects(database)).toEqual([]);
    expect(status.snapshot).toMatchObject({ heldBytes: 0, endedAt: expect.any(String) });
  });

  it("is not taken with \"snapshot\": false, whose file has the later writes", async () => {
    const database = await seedTwoTables("snap-off");
    const dumps = await watchInstances(env.DUMP_WORKFLOW);
    const started = await startDump(database, { storage: "do", breathingMs: 1500, snapshot: false });
    await lastInstance(dumps).waitForStepResult({ name: 'table "small" · chunk 1' });
    expect(await snapshotObjects(database)).toEqual([]);
    await seed(database, ["INSERT INTO big VALUES (20000, 'new')"]);
    const status = await runDumpToCompletion(started.dumpId);
    expect(status.snapshot).toBeNull();
    expect(status.options).toMatchObject({ snapshot: false });
    expect(await downloadText(started.dumpId)).toContain(`INSERT INTO "big"("id","label") VALUES(20000,'new');`);
  });

  it("fails the dump with the table's name when a dumped table is altered while it runs", async () => {
    const database = await seedTwoTables("snap-alter");
    const dumps = await watchInstances(env.DUMP_WORKFLOW);
    const started = await startDump(database, { storage: "do", breathingMs: 1500 });
    await lastInstance(dumps).waitForStepResult({ name: 'table "small" · chunk 1' });
    await seed(database, ["ALTER TABLE big ADD COLUMN extra TEXT"]);
    const status = await runDumpUntilFinished(started.dumpId);
    expect(status.status).toBe("failed");
    expect(status.error).toMatch(/table "big" was altered.*retry the dump/);
    expect(await snapshotObjects(database)).toEqual([]);
    expect((await api(`/export/dump/${started.dumpId}`)).status).toBe(409);
  });

  it("is removed when the dump is cancelled", async () => {
    const database = await seedTwoTables("snap-cancel");
    const dumpId = await dumpStoppedAfterFirstChunk(database);
    expect((await snapshotObjects(database)).length).toBeGreaterThan(0);
    await expectJson(await api(`/export/dump/${dumpId}`, { method: "DELETE" }), 200);
    expect(await snapshotObjects(database)).toEqual([]);
    const status = await dumpStatus(dumpId);
    expect(status.status).toBe("cancelled");
    expect(status.snapshot?.endedAt).toEqual(expect.any(String));
  });

  it("is removed by the watchdog when the dump's instance is terminated from outside", async () => {
    const database = await seedTwoTables("snap-terminate");
    const dumpId = await dumpStoppedAfterFirstChunk(database);
    // What `wrangler workflows instances terminate` does: no step of the dump runs again.
    await (await env.DUMP_WORKFLOW.get(dumpId)).terminate();
    expect((await snapshotObjects(database)).length).toBeGreaterThan(0);

    // The dump's own watchdog sleeps a minute before it looks; a second one for the same dump, with
    // its sleeps off, runs the same check now.
    await using watchdog = await introspectWorkflowInstance(env.SNAPSHOT_WATCHDOG, "now-" + watchdogId(dumpId));
    await watchdog.modify(async (m) => m.disableSleeps());
    await env.SNAPSHOT_WATCHDOG.create({ id: "now-" + watchdogId(dumpId), params: { dumpId } });
    await watchdog.waitForStatus("complete");
    expect(await snapshotObjects(database)).toEqual([]);
    const status = await dumpStatus(dumpId);
    expect(status.status).toBe("cancelled");
    expect(status.error).toMatch(/stopped \(terminated\).*snapshot and file were removed/);
  });

  it("lets two dumps of one database run at once, each with its own snapshot", async () => {
    const database = await seedTwoTables("snap-two");
    const dumps = await watchInstances(env.DUMP_WORKFLOW);
    const first = await startDump(database, { storage: "do", breathingMs: 0 });
    const second = await startDump(database, { storage: "do", breathingMs: 0 });
    expect(dumps.get()).toHaveLength(2);
    const finished = await Promise.all([runDumpToCompletion(first.dumpId), runDumpToCompletion(second.dumpId)]);
    for (const status of finished) expect(status.snapshot).toMatchObject({ copiedTables: 1, trackedTables: 1 });
    expect(await downloadText(first.dumpId)).toBe(await downloadText(second.dumpId));
    expect(await snapshotObjects(database)).toEqual([]);
  });
});
