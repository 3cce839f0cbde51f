// The life of a restore after it starts, as lifecycle.test.ts checks it for dumps: pause and resume,
// cancel (the target keeps what the applied batches hold), delete, and the paginated list. And a
// Workflow status that cannot be read is an error, never "in progress".

import type { WorkflowIntrospector } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobKind } from "../../shared/job-record";
import { splitStatements } from "../../shared/sql-splitter";
import { databaseObject, fileStoreObject } from "../../storage/bindings";
import { expandedFile, uploadedFile } from "../../storage/files";
import { jobRecords } from "../../storage/job-records";
import { dumpRecord, restoreRecord } from "../job-fixtures";
import {
  api,
  expectJson,
  lastInstance,
  listBucket,
  checkListing,
  query,
  restoreStatus,
  restoreUpload,
  statusAfter,
  uniqueName,
  watchInstances,
  type RestoreStatusBody,
} from "./helpers";

/** Slices of 4 KiB over a file of about 6 KiB: two steps, with one breathing sleep between them. */
const SLICE = "&sliceBytes=4096";
const HOLD = "&breathingMs=600000";
const FIRST_SLICE = "slice 1 · from byte 0";

/** A table and `rows` INSERTs of about 100 bytes each. */
function sqlFile(rows = 60): string {
  const lines = ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"];
  for (let i = 1; i <= rows; i++) lines.push(`INSERT INTO t VALUES(${i}, '${String(i).padStart(70, "-")}');`);
  return `${lines.join("\n")}\n`;
}

/** Statements of `sql` that end at or before `bytes` (the file is ASCII, so characters are bytes). */
function statementsWithin(sql: string, bytes: number) {
  return splitStatements(sql).filter((s) => s.end <= bytes);
}

function watchRestores(): Promise<WorkflowIntrospector> {
  return watchInstances(env.RESTORE_WORKFLOW);
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function control(restoreId: string, action: "pause" | "resume"): Promise<Response> {
  return api(`/import/dump/${restoreId}/${action}`, { method: "POST" });
}

function cancel(restoreId: string): Promise<Response> {
  return api(`/import/dump/${restoreId}`, { method: "DELETE" });
}

/** Bytes the restore's files hold, in R2 and in Durable Object storage. */
async function storedFiles(restoreId: string): Promise<{ r2: string[]; pieces: number }> {
  let pieces = 0;
  for (const file of [uploadedFile(restoreId, "do"), expandedFile(restoreId, "do")]) pieces += await fileStoreObject(env, file.key).storedBytes();
  return { r2: await listBucket(`restores/${restoreId}/`), pieces };
}

describe("pause and resume", () => {
  it("pauses a running restore and resumes it to completion", async () => {
    await using restores = await watchRestores();
    const sql = sqlFile();
    const target = uniqueName("restore-pause");
    const restoreId = await restoreUpload(target, sql, "application/sql", SLICE + HOLD);
    const instance = lastInstance(restores);
    await instance.waitForStepResult({ name: FIRST_SLICE });

    expect((await control(restoreId, "pause")).status).toBe(200);
    const paused = await statusAfter(() => restoreStatus(restoreId), ["in_progress"]);
    expect(paused.status).toBe("paused");
    expect(paused.progress.bytesRead).toBeGreaterThan(0);
    // Pausing again is refused: it is not running.
    expect(await expectJson(await control(restoreId, "pause"), 409)).toMatchObject({ status: "paused" });

    // The resumed run replays the interrupted breathing sleep; skip what is left of it.
    await instance.modify(async (m) => m.disableSleeps([{ name: "breathe · before slice 2" }]));
    await expectJson(await control(restoreId, "resume"), 200);
    const done = await statusAfter(() => restoreStatus(restoreId), ["paused", "in_progress"]);
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ bytesRead: sql.length, totalBytes: sql.length, statementsApplied: 61, percent: 100 });
    expect(await query(target, "SELECT count(*) AS n, max(id) AS last FROM t")).toEqual([{ n: 60, last: 60 }]);
  });

  it("refuses to pause or resume a completed restore with 409", async () => {
    await using restores = await watchRestores();
    const restoreId = await restoreUpload(uniqueName("restore-pause-done"), sqlFile(3), "application/sql");
    await lastInstance(restores).waitForStatus("complete");

    expect(await expectJson(await control(restoreId, "pause"), 409)).toMatchObject({ status: "completed" });
    expect(await expectJson(await control(restoreId, "resume"), 409)).toMatchObject({ status: "completed" });
    expect((await restoreStatus(restoreId)).status).toBe("completed");
  });
});

describe("cancel and delete", () => {
  it.each([
    ["r2", "application/sql"],
    ["do", "application/gzip"],
  ] as const)(
    "cancels a running restore (%s, %s): the target keeps what the recorded batches applied, the files go",
    async (storage, contentType) => {
      await using restores = await watchRestores();
      const sql = sqlFile();
      const target = uniqueName("restore-cancel");
      const body = contentType === "application/gzip" ? await gzip(sql) : sql;
      const restoreId = await restoreUpload(target, body, contentType, `${SLICE}${HOLD}&storage=${storage}`);
      const instance = lastInstance(restores);
      await instance.waitForStepResult({ name: FIRST_SLICE });
      expect((await restoreStatus(restoreId)).status).toBe("in_progress");
      const before = await storedFiles(restoreId);
      if (storage === "r2") expect(before.r2).toEqual([`restores/${restoreId}/upload`]);
      else expect(before.pieces).toBeGreaterThan(0); // the upload, and its expanded copy

      expect(await expectJson(await cancel(restoreId), 200)).toEqual({ result: { restoreId, status: "cancelled" } });
      await instance.waitForStatus("terminated");
      const status = await restoreStatus(restoreId);
      expect(status.status).toBe("cancelled");
      expect(status.error).toBeNull();
      // Exactly the statements of the first slice are in the target, and the status says so.
      const applied = statementsWithin(sql, status.progress.bytesRead);
      expect(applied.length).toBeGreaterThan(1);
      expect(applied.length).toBeLessThan(61);
      expect(status.progress.statementsApplied).toBe(applied.length);
      expect(await query(target, "SELECT count(*) AS n FROM t")).toEqual([{ n: applied.length - 1 }]);
      expect(status.targetState).toContain(`${applied.length} statements, up to byte ${status.progress.bytesRead} of ${sql.length}`);
      expect(await storedFiles(restoreId)).toEqual({ r2: [], pieces: 0 });

      // The target no longer holds the restore's position: a late batch of it is refused.
      const late = { restoreId, from: status.progress.bytesRead, to: sql.length, foreignKeys: false, statements: [{ sql: "SELECT 1" }] };
      expect(await databaseObject(env, target).sqlDumpApplyStatements(late)).toMatchObject({ status: "failed", index: -1 });
      // Idempotent: a second DELETE answers the same.
      expect(await expectJson(await cancel(restoreId), 200)).toEqual({ result: { restoreId, status: "cancelled" } });
      expect((await restoreStatus(restoreId)).status).toBe("cancelled");

      // The target is free for another restore, which starts over with mode "replace".
      const again = await restoreUpload(target, sql, "application/sql", "&mode=replace");
      await lastInstance(restores).waitForStatus("complete");
      expect((await restoreStatus(again)).status).toBe("completed");
      expect(await query(target, "SELECT count(*) AS n FROM t")).toEqual([{ n: 60 }]);
    },
  );

  it("deletes a completed restore: its record goes, then 404", async () => {
    await using restores = await watchRestores();
    const restoreId = await restoreUpload(uniqueName("restore-delete"), sqlFile(3), "application/sql");
    await lastInstance(restores).waitForStatus("complete");

    expect(await expectJson(await cancel(restoreId), 200)).toEqual({ result: { restoreId, status: "deleted" } });
    expect((await api(`/import/dump/${restoreId}/status`)).status).toBe(404);
    expect((await cancel(restoreId)).status).toBe(404);
  });
});

describe("GET /import/dumps", () => {
  it("pages newest first with a cursor, and filters by database and status", async () => {
    await using restores = await watchRestores();
    const first = uniqueName("restore-list-a");
    const second = uniqueName("restore-list-b");
    const created: Array<{ id: string; database: string }> = [];
    for (const [database, mode] of [[first, "empty"], [second, "empty"], [first, "replace"], [second, "replace"]]) {
      const restoreId = await restoreUpload(database, sqlFile(3), "application/sql", `&mode=${mode}`);
      await lastInstance(restores).waitForStatus("complete");
      created.push({ id: restoreId, database });
    }
    // The fifth stays between its two slices (long breathing sleep after the first).
    const running = await restoreUpload(first, sqlFile(), "application/sql", `&mode=replace${SLICE}${HOLD}`);
    await lastInstance(restores).waitForStepResult({ name: FIRST_SLICE });
    created.push({ id: running, database: first });

    const listed = await checkListing<RestoreStatusBody>({
      route: "/import/dumps",
      key: "restores",
      idOf: (r) => r.restoreId,
      created,
      running,
      first,
      second,
      cancel: async (id) => void (await expectJson(await cancel(id), 200)),
    });
    for (const restore of listed.firstOnly) expect(restore).toHaveProperty("progress");
    for (const restore of listed.completed) expect(restore.progress.percent).toBe(100);
  });

  for (const bad of ["limit=0", "limit=101", "limit=abc", "status=done", "database=bad%20name", "cursor=nonsense"]) {
    it(`answers 400 to ${bad}`, async () => {
      const body = await expectJson<{ error: string }>(await api(`/import/dumps?${bad}`), 400);
      expect(body.error).toBeTruthy();
    });
  }

  it("answers 405 to other methods on the new routes", async () => {
    expect((await api("/import/dumps", { method: "POST" })).status).toBe(405);
    expect((await api("/import/dump/restore-x/pause")).status).toBe(405);
    expect((await api("/import/dump/restore-x")).status).toBe(405);
  });
});

describe("a Workflow status that cannot be read", () => {
  // A record that says the job is running, with no Workflow instance behind it.
  const cases: Array<[JobKind, string]> = [
    ["dump", "/export/dump"],
    ["restore", "/import/dump"],
  ];
  for (const [kind, base] of cases) {
    it(`is a 503 with the reason for a ${kind}, never in_progress, and changes nothing`, async () => {
      const id = uniqueName(`orphan-${kind}`);
      const database = uniqueName("orphan-db");
      const createdAt = new Date().toISOString();
      const records = jobRecords(env, kind);
      await records.create(kind === "dump" ? dumpRecord(id, database, createdAt) : restoreRecord(id, database, createdAt));
      try {
        const answers = [
          await api(`${base}/${id}/status`),
          await api(`${base}s?database=${database}`),
          await api(`${base}/${id}/pause`, { method: "POST" }),
          await api(`${base}/${id}`, { method: "DELETE" }),
        ];
        for (const answer of answers) {
          const body = await expectJson<{ error: string }>(answer, 503);
          expect(body.error).toContain(`the Workflow instance of ${kind} ${id} could not be found`);
        }
        expect((await records.get(id))?.phase).toBe("started");
      } finally {
        await records.delete(id);
      }
    });
  }
});
