// The life of a dump after it starts: retention, delete-after-download, cancel, delete, pause and
// resume, and the paginated list. Everything goes through the public HTTP API; the Workflow is
// steered only through the pool's introspection (sleeps, step results).

import type { WorkflowIntrospector } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { dumpObjectKey } from "../../storage/files";
import { jobRecords } from "../../storage/job-records";
import { describe, expect, it } from "vitest";
import {
  api,
  download,
  dumpStatus,
  expectJson,
  lastInstance,
  listBucket,
  checkListing,
  seed,
  spanningRows,
  SPANNING_ROWS,
  startDump,
  storedFileBytes,
  statusAfter as pollStatus,
  uniqueName,
  watchInstances,
  type DumpStatusBody,
} from "./helpers";

type Storage = "do" | "r2";
const STORAGES: Storage[] = ["do", "r2"];

/** Introspects every dump Workflow instance created from here on. */
function watchDumps(options: { disableSleeps?: boolean } = {}): Promise<WorkflowIntrospector> {
  return watchInstances(env.DUMP_WORKFLOW, options);
}

/** Two small tables: a dump writes them in one chunk step. */
async function seedTwoTables(prefix: string): Promise<string> {
  const database = uniqueName(prefix);
  await seed(database, [
    "CREATE TABLE alpha (id INTEGER PRIMARY KEY, label TEXT)",
    "CREATE TABLE beta (id INTEGER PRIMARY KEY, label TEXT)",
    "INSERT INTO alpha (id, label) VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')",
    "INSERT INTO beta (id, label) VALUES (1, 'b1'), (2, 'b2')",
  ]);
  return database;
}

/** Two tables, the first more than one chunk step holds: a dump of it stops in the middle for its breathing sleep. */
async function seedHeldTables(prefix: string): Promise<string> {
  const database = uniqueName(prefix);
  await seed(database, [
    "CREATE TABLE alpha (id INTEGER PRIMARY KEY, label TEXT, pad BLOB)",
    "CREATE TABLE beta (id INTEGER PRIMARY KEY, label TEXT)",
    ...spanningRows("alpha"),
    "INSERT INTO alpha (id, label) VALUES (11, 'a1'), (12, 'a2'), (13, 'a3')",
    "INSERT INTO beta (id, label) VALUES (1, 'b1'), (2, 'b2')",
  ]);
  return database;
}

/** About `megabytes` MB of SQL in one table (random hex, so no two rows are alike). */
async function seedLarge(prefix: string, megabytes: number): Promise<string> {
  const database = uniqueName(prefix);
  const rows = megabytes * 1000;
  await seed(database, [
    "CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)",
    `INSERT INTO big (id, payload)
       WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ${rows})
       SELECT x, hex(randomblob(500)) FROM n`,
  ]);
  return database;
}

/** Polls the API while the dump's status is one of `passing`; returns the first other status. */
function statusAfter(dumpId: string, passing: string[]): Promise<DumpStatusBody> {
  return pollStatus(() => dumpStatus(dumpId), passing);
}

/** Waits for the dump's finalize step; the dump is then completed (its instance sleeps out the retention). */
async function completedDump(dumps: WorkflowIntrospector, dumpId: string): Promise<DumpStatusBody> {
  await lastInstance(dumps).waitForStepResult({ name: "finalize" });
  const status = await dumpStatus(dumpId);
  expect(status.status).toBe("completed");
  return status;
}

/** Every object of the dump in R2: the file and the temporary carry objects. */
async function bucketKeysOf(dumpId: string): Promise<string[]> {
  return (await listBucket()).filter((key) => key.includes(dumpId));
}

async function expectNothingStored(dumpId: string) {
  expect(await storedFileBytes(dumpId)).toBe(0);
  expect(await bucketKeysOf(dumpId)).toEqual([]);
  expect(await listBucket(`tmp/${dumpId}/`)).toEqual([]);
}

function dumpRecord(dumpId: string) {
  return jobRecords(env, "dump").get(dumpId);
}

describe("retention", () => {
  for (const storage of STORAGES) {
    it(`deletes the file when the retention ends (${storage}), then status is expired and download 410`, async () => {
      await using dumps = await watchDumps({ disableSleeps: true });
      const database = await seedTwoTables("retain");
      const started = await startDump(database, { storage, retention: "1 hour" });
      expect(started.storage).toBe(storage);
      const instance = lastInstance(dumps);
      const file = (await instance.waitForStepResult({ name: "finalize" })) as { size: number };
      expect(file.size).toBeGreaterThan(0);
      await instance.waitForStatus("complete");

      const status = await dumpStatus(started.dumpId);
      expect(status.status).toBe("expired");
      expect(status.expiresAt).not.toBeNull();
      const response = await download(started.dumpId);
      expect(response.status).toBe(410);
      expect(await response.json()).toMatchObject({ status: "expired" });
      await expectNothingStored(started.dumpId);
    });
  }
});

describe("deleteAfterDownload", () => {
  for (const storage of STORAGES) {
    it(`deletes the file once a full download went through (${storage})`, async () => {
      await using dumps = await watchDumps();
      const database = await seedLarge("dad", 3);
      const started = await startDump(database, { storage, deleteAfterDownload: true });
      const { size } = await completedDump(dumps, started.dumpId);

      const response = await download(started.dumpId);
      expect(response.status).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBe(size);

      // The deletion runs after the last byte (waitUntil), so wait for the status to show it.
      expect((await statusAfter(started.dumpId, ["completed"])).status).toBe("expired");
      await expectNothingStored(started.dumpId);
      expect((await download(started.dumpId)).status).toBe(410);
    });
  }

  it("keeps the file after a Range download", async () => {
    await using dumps = await watchDumps();
    const database = await seedLarge("dad-range", 3);
    const started = await startDump(database, { storage: "do", deleteAfterDownload: true });
    const { size } = await completedDump(dumps, started.dumpId);

    const partial = await download(started.dumpId, { headers: { Range: "bytes=0-99" } });
    expect(partial.status).toBe(206);
    const head = new Uint8Array(await partial.arrayBuffer());
    expect(head.length).toBe(100);

    expect((await dumpStatus(started.dumpId)).status).toBe("completed");
    expect(await storedFileBytes(started.dumpId)).toBe(size);
    // Still whole: a full download afterwards gets every byte, starting with the same 100.
    const full = new Uint8Array(await (await download(started.dumpId)).arrayBuffer());
    expect(full.length).toBe(size);
    expect(full.subarray(0, 100)).toEqual(head);
  });

  for (const storage of STORAGES) {
    it(`keeps the file when the client stops reading after the first chunk (${storage})`, async () => {
      await using dumps = await watchDumps();
      const database = await seedLarge("dad-abort", 4);
      const started = await startDump(database, { storage, deleteAfterDownload: true });
      const { size } = await completedDump(dumps, started.dumpId);
      expect(size).toBeGreaterThan(3 * 1024 * 1024);

      const response = await download(started.dumpId);
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      expect(first.value!.length).toBeLessThan(size!);
      await reader.cancel();

      expect((await dumpStatus(started.dumpId)).status).toBe("completed");
      if (storage === "do") expect(await storedFileBytes(started.dumpId)).toBe(size);
      else expect(await bucketKeysOf(started.dumpId)).toEqual([dumpObjectKey(started.dumpId)]);
      const again = await download(started.dumpId);
      expect(again.status).toBe(200);
      expect((await again.arrayBuffer()).byteLength).toBe(size);
    });
  }
});

describe("cancel and delete", () => {
  for (const storage of STORAGES) {
    it(`cancels a running dump and leaves nothing behind (${storage})`, async () => {
      await using dumps = await watchDumps();
      const database = await seedHeldTables("cancel");
      // A long breathing sleep after the first chunk holds the dump in the middle.
      const started = await startDump(database, { storage, breathingMs: 600_000 });
      const instance = lastInstance(dumps);
      await instance.waitForStepResult({ name: 'table "alpha" · chunk 1' });
      expect((await dumpStatus(started.dumpId)).status).toBe("in_progress");

      // Something was written that the cancel must remove.
      const record = await dumpRecord(started.dumpId);
      let upload: R2MultipartUpload | null = null;
      if (storage === "do") {
        expect(await storedFileBytes(started.dumpId)).toBeGreaterThan(0);
      } else {
        expect(await listBucket(`tmp/${started.dumpId}/`)).not.toEqual([]);
        expect(record?.uploadId).toBeTruthy();
        upload = env.DUMPS_BUCKET!.resumeMultipartUpload(dumpObjectKey(started.dumpId), record!.uploadId!);
        // The upload is open: a part can still be added to it.
        await upload.uploadPart(10_000, new Uint8Array(16));
      }

      const cancelled = await expectJson(await api(`/export/dump/${started.dumpId}`, { method: "DELETE" }), 200);
      expect(cancelled).toEqual({ result: { dumpId: started.dumpId, status: "cancelled" } });
      await instance.waitForStatus("terminated");
      const status = await dumpStatus(started.dumpId);
      expect(status.status).toBe("cancelled");
      await expectNothingStored(started.dumpId);
      if (upload) await expect(upload.uploadPart(10_000, new Uint8Array(16))).rejects.toThrow();

      // Idempotent: a second DELETE answers the same and changes nothing.
      const again = await expectJson(await api(`/export/dump/${started.dumpId}`, { method: "DELETE" }), 200);
      expect(again).toEqual({ result: { dumpId: started.dumpId, status: "cancelled" } });
      expect((await dumpStatus(started.dumpId)).status).toBe("cancelled");
      expect((await download(started.dumpId)).status).toBe(409);
    });
  }

  it("deletes a completed dump: its record and its file go, then 404", async () => {
    await using dumps = await watchDumps();
    const database = await seedTwoTables("delete");
    const started = await startDump(database, { storage: "do" });
    const { size } = await completedDump(dumps, started.dumpId);
    expect(await storedFileBytes(started.dumpId)).toBe(size);

    const deleted = await expectJson(await api(`/export/dump/${started.dumpId}`, { method: "DELETE" }), 200);
    expect(deleted).toEqual({ result: { dumpId: started.dumpId, status: "deleted" } });
    expect((await api(`/export/dump/${started.dumpId}/status`)).status).toBe(404);
    expect((await download(started.dumpId)).status).toBe(404);
    await expectNothingStored(started.dumpId);
    // Deleting what is gone answers 404.
    expect((await api(`/export/dump/${started.dumpId}`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("pause and resume", () => {
  it("pauses a running dump and resumes it to completion", async () => {
    await using dumps = await watchDumps();
    const database = await seedHeldTables("pause");
    const started = await startDump(database, { storage: "do", breathingMs: 600_000 });
    const instance = lastInstance(dumps);
    await instance.waitForStepResult({ name: 'table "alpha" · chunk 1' });

    expect((await api(`/export/dump/${started.dumpId}/pause`, { method: "POST" })).status).toBe(200);
    expect((await statusAfter(started.dumpId, ["in_progress"])).status).toBe("paused");
    expect((await dumpStatus(started.dumpId)).progress).toMatchObject({ processedTables: 0, rowsDumped: SPANNING_ROWS - 1 });
    // Pausing again is refused: it is not running.
    expect((await api(`/export/dump/${started.dumpId}/pause`, { method: "POST" })).status).toBe(409);

    // The resumed run replays the interrupted breathing sleep; skip what is left of it.
    await instance.modify(async (m) => m.disableSleeps([{ name: 'breathe · table "alpha" · chunk 1' }]));
    const resumed = await api(`/export/dump/${started.dumpId}/resume`, { method: "POST" });
    await expectJson(resumed, 200);
    const done = await statusAfter(started.dumpId, ["paused", "in_progress"]);
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ processedTables: 2, totalTables: 2, rowsDumped: SPANNING_ROWS + 5, percent: 100 });
    const sql = await (await download(started.dumpId)).text();
    expect(sql).toContain("'a3'");
    expect(sql).toContain("'b2'");
  });

  it("refuses to pause or resume a completed dump with 409", async () => {
    await using dumps = await watchDumps();
    const database = await seedTwoTables("pause-done");
    const started = await startDump(database);
    await completedDump(dumps, started.dumpId);

    const pause = await api(`/export/dump/${started.dumpId}/pause`, { method: "POST" });
    expect(await expectJson(pause, 409)).toMatchObject({ status: "completed" });
    const resume = await api(`/export/dump/${started.dumpId}/resume`, { method: "POST" });
    expect(await expectJson(resume, 409)).toMatchObject({ status: "completed" });
    expect((await dumpStatus(started.dumpId)).status).toBe("completed");
  });
});

describe("GET /export/dumps", () => {
  it("pages newest first with a cursor, and filters by database and status", async () => {
    await using dumps = await watchDumps();
    const first = await seedHeldTables("list-a");
    const second = await seedTwoTables("list-b");
    const created: Array<{ id: string; database: string }> = [];
    for (const database of [first, second, first, second]) {
      const started = await startDump(database);
      await lastInstance(dumps).waitForStepResult({ name: "finalize" });
      created.push({ id: started.dumpId, database });
    }
    // The fifth stays in the middle of its dump (long breathing sleep after its first chunk).
    const running = await startDump(first, { breathingMs: 600_000 });
    await lastInstance(dumps).waitForStepResult({ name: 'table "alpha" · chunk 1' });
    created.push({ id: running.dumpId, database: first });

    const listed = await checkListing<DumpStatusBody>({
      route: "/export/dumps",
      key: "dumps",
      idOf: (d) => d.dumpId,
      created,
      running: running.dumpId,
      first,
      second,
      cancel: async (id) => void (await expectJson(await api(`/export/dump/${id}`, { method: "DELETE" }), 200)),
    });
    for (const dump of listed.firstOnly) expect(dump).toHaveProperty("size");
    for (const dump of listed.completed) expect(dump.size).toBeGreaterThan(0);
  });

  for (const query of ["limit=0", "limit=101", "limit=abc", "limit=-1", "limit=1.5", "status=done", "database=bad%20name", "cursor=nonsense"]) {
    it(`answers 400 to ${query}`, async () => {
      const body = await expectJson<{ error: string }>(await api(`/export/dumps?${query}`), 400);
      expect(body.error).toBeTruthy();
    });
  }
});
