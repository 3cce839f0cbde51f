// The dump pipeline end to end inside workerd: POST /export/dump starts a DumpWorkflow instance,
// the status endpoint reports it, and the download serves the file from DO storage or R2.

import { introspectWorkflow, type WorkflowIntrospector } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { dumpObjectKey } from "../../storage/files";
import { jobRecords } from "../../storage/job-records";
import {
  ORIGIN,
  api,
  databaseSnapshot,
  download,
  downloadBytes,
  dumpStatus,
  expectJson,
  listBucket,
  postJson,
  restoreDump,
  runDumpToCompletion,
  sameBytes,
  seed,
  spanningRows,
  SPANNING_ROWS,
  startDump,
  storedFileBytes,
  uniqueName,
  waitForFinish,
  type DumpStatusBody,
} from "./helpers";

const PART_SIZE = 5 * 1024 * 1024;
const decoder = new TextDecoder();

function numbers(count: number): string {
  return `(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count}) SELECT i FROM n)`;
}

/** A parent and a child table (foreign key), an AUTOINCREMENT sequence, an index and a view: 250 rows. */
async function seedLibrary(database: string): Promise<number> {
  await seed(database, [
    "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), title TEXT, cover BLOB, price REAL, isbn INTEGER)",
    "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)",
    `INSERT INTO authors (name) SELECT 'author ' || i FROM ${numbers(20)}`,
    `INSERT INTO books (author_id, title, cover, price)
       SELECT 1 + i % 20, 'book ''' || i || char(10) || 'x', randomblob(i % 7), i * 0.1 FROM ${numbers(230)}`,
    "INSERT INTO books (author_id, title, cover, price, isbn) VALUES (NULL, NULL, NULL, NULL, 9007199254740993)",
    "DELETE FROM books WHERE id = 100",
    "CREATE INDEX books_by_author ON books(author_id)",
    "CREATE VIEW cheap_books AS SELECT title FROM books WHERE price < 5",
  ]);
  return 250;
}

function expectedFileName(createdAt: string): string {
  const d = new Date(createdAt);
  const two = (n: number) => String(n).padStart(2, "0");
  return `dump_${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}.sql`;
}

function expectProgressInvariants(status: DumpStatusBody) {
  const p = status.progress;
  expect(p.processedTables).toBeLessThanOrEqual(p.totalTables);
  expect(p.percent).toBeGreaterThanOrEqual(0);
  expect(p.percent).toBeLessThanOrEqual(100);
  if (status.status !== "completed") expect(p.percent).toBeLessThan(100);
}

/** Samples the status until the dump is final; every sample must keep the invariants and never go back. */
async function watchProgress(dumpId: string): Promise<DumpStatusBody[]> {
  const samples: DumpStatusBody[] = [];
  for (;;) {
    const status = await dumpStatus(dumpId);
    samples.push(status);
    if (["completed", "failed", "cancelled", "expired"].includes(status.status)) return samples;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function expectMonotonic(samples: DumpStatusBody[]) {
  for (const [i, sample] of samples.entries()) {
    expectProgressInvariants(sample);
    if (i === 0) continue;
    const before = samples[i - 1].progress;
    const now = sample.progress;
    expect(now.processedTables).toBeGreaterThanOrEqual(before.processedTables);
    expect(now.rowsDumped).toBeGreaterThanOrEqual(before.rowsDumped);
    expect(now.bytesWritten).toBeGreaterThanOrEqual(before.bytesWritten);
    expect(now.percent).toBeGreaterThanOrEqual(before.percent);
  }
}

async function expectNoDumps(database: string) {
  const listed = await expectJson<{ result: { dumps: unknown[] } }>(await api(`/export/dumps?database=${database}`), 200);
  expect(listed.result.dumps).toEqual([]);
}

describe("a dump to Durable Object storage", () => {
  const database = uniqueName("library");
  let rows = 0;
  beforeAll(async () => {
    rows = await seedLibrary(database);
  });

  it("completes, reports consistent progress and serves an exact, restorable file", async () => {
    const started = await startDump(database, { storage: "do" });
    expect(started).toMatchObject({ message: "Database dump started", status: "in_progress", storage: "do" });
    expect(started.dumpId).toMatch(/^[a-zA-Z0-9_][a-zA-Z0-9-_]{0,99}$/);
    expect(started.statusUrl).toBe(`${ORIGIN}/export/dump/${started.dumpId}/status`);
    expect(started.downloadUrl).toBe(`${ORIGIN}/export/dump/${started.dumpId}`);
    expect(started.estimatedSize).toBeGreaterThan(0);

    const status = await runDumpToCompletion(started.dumpId);
    expectProgressInvariants(status);
    expect(status).toMatchObject({ dumpId: started.dumpId, database, status: "completed", storage: "do", error: null });
    expect(status.progress).toMatchObject({ processedTables: 2, totalTables: 2, rowsDumped: rows, percent: 100 });
    expect(status.completedAt).not.toBeNull();
    expect(status.size).toBe(status.progress.bytesWritten);

    const response = await download(started.dumpId);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/sql");
    expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${expectedFileName(status.createdAt)}"`);
    expect(response.headers.get("Content-Disposition")).toMatch(/filename="dump_\d{8}-\d{6}\.sql"$/);
    expect(response.headers.get("Content-Length")).toBe(String(status.size));
    expect(response.headers.get("ETag")).toMatch(/^(W\/)?"[^"]+"$/);
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes.length).toBe(status.size);
    expect(await storedFileBytes(started.dumpId)).toBe(status.size);

    const text = decoder.decode(bytes);
    expect(text.startsWith("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")).toBe(true);
    expect(text.endsWith("COMMIT;\n")).toBe(true);
    // Parents first, data before indexes and views, the sequence restored as .dump does.
    expect(text.indexOf('CREATE TABLE authors')).toBeLessThan(text.indexOf("CREATE TABLE books"));
    expect(text.indexOf("CREATE INDEX books_by_author")).toBeGreaterThan(text.lastIndexOf("INSERT INTO"));
    expect(text).toContain("DELETE FROM sqlite_sequence;\nINSERT INTO sqlite_sequence VALUES('authors',20);\n");
    expect(text).toContain("9007199254740993");

    const restored = uniqueName("library-restored");
    await restoreDump(restored, text);
    expect(await databaseSnapshot(restored)).toEqual(await databaseSnapshot(database));
  });

  it("answers Range requests with 206 and the right bytes", async () => {
    const { dumpId } = await startDump(database, { storage: "do" });
    const status = await runDumpToCompletion(dumpId);
    const full = await download(dumpId);
    expect(full.headers.get("Accept-Ranges")).toBe("bytes");
    const etag = full.headers.get("ETag")!;
    const whole = new Uint8Array(await full.arrayBuffer());
    const size = status.size!;

    const middle = await download(dumpId, { headers: { Range: "bytes=10-99" } });
    expect(middle.status).toBe(206);
    expect(middle.headers.get("Content-Range")).toBe(`bytes 10-99/${size}`);
    expect(middle.headers.get("Content-Length")).toBe("90");
    expect(sameBytes(new Uint8Array(await middle.arrayBuffer()), whole.subarray(10, 100))).toBe(true);

    const tail = await download(dumpId, { headers: { Range: "bytes=-20" } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("Content-Range")).toBe(`bytes ${size - 20}-${size - 1}/${size}`);
    expect(sameBytes(new Uint8Array(await tail.arrayBuffer()), whole.subarray(size - 20))).toBe(true);

    const open = await download(dumpId, { headers: { Range: `bytes=${size - 5}-` } });
    expect(open.status).toBe(206);
    expect(decoder.decode(await open.arrayBuffer())).toBe("MIT;\n");

    const resumed = await download(dumpId, { headers: { Range: "bytes=100-", "If-Range": etag } });
    expect(resumed.status).toBe(206);
    expect(sameBytes(new Uint8Array(await resumed.arrayBuffer()), whole.subarray(100))).toBe(true);

    // The file changed since (another ETag): the whole file, not a splice of two versions.
    const stale = await download(dumpId, { headers: { Range: "bytes=100-", "If-Range": '"another-version"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(size);

    const beyond = await download(dumpId, { headers: { Range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("Content-Range")).toBe(`bytes */${size}`);
    await beyond.body?.cancel();
  });

  /** Authors first, with more SQL than one chunk step writes, then books: SPANNING_ROWS + 2 + 3 rows. */
  const held = uniqueName("held");
  const heldRows = SPANNING_ROWS + 5;
  beforeAll(async () => {
    await seed(held, [
      "CREATE TABLE authors (id INTEGER PRIMARY KEY, label TEXT, pad BLOB)",
      "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), title TEXT)",
      ...spanningRows("authors"),
      "INSERT INTO authors (id, label) VALUES (11, 'Ada'), (12, 'Grace')",
      "INSERT INTO books (id, author_id, title) VALUES (1, 11, 'Notes'), (2, 12, 'COBOL'), (3, 12, 'Nanoseconds')",
    ]);
  });

  /** Starts a dump that stops after its first chunk for a breath of an hour; returns when that chunk is written. */
  async function startHeldDump(workflows: WorkflowIntrospector) {
    const { dumpId } = await startDump(held, { storage: "do", breathingMs: 3_600_000 });
    const [instance] = workflows.get();
    const { plan } = (await instance.waitForStepResult({ name: "plan" })) as { plan: { tables: Array<{ name: string }> } };
    expect(plan.tables.map((t) => t.name)).toEqual(["authors", "books"]);
    const firstChunk = 'table "authors" · chunk 1';
    await instance.waitForStepResult({ name: firstChunk });
    return { dumpId, instance, breath: `breathe · ${firstChunk}` };
  }

  it("answers 409 while the dump is not finished, and after it was cancelled", async () => {
    await using workflows = await introspectWorkflow(env.DUMP_WORKFLOW);
    const { dumpId } = await startHeldDump(workflows);

    const running = await dumpStatus(dumpId);
    expect(running.status).toBe("in_progress");
    expectProgressInvariants(running);
    // The first step ended inside authors, after SPANNING_ROWS - 1 of its rows.
    expect(running.progress).toMatchObject({ processedTables: 0, totalTables: 2, rowsDumped: SPANNING_ROWS - 1 });
    expect(running.size).toBeNull();
    expect(await expectJson(await download(dumpId), 409)).toMatchObject({ status: "in_progress", error: expect.any(String) });

    expect(await expectJson(await api(`/export/dump/${dumpId}`, { method: "DELETE" }), 200)).toMatchObject({
      result: { status: "cancelled" },
    });
    expect(await expectJson(await download(dumpId), 409)).toMatchObject({ status: "cancelled" });
    expect(await storedFileBytes(dumpId)).toBe(0);
    // Some of the rows were written: the percent follows the rows, it does not count the table as done.
    expect(running.progress.percent).toBeLessThan(100 * (SPANNING_ROWS / heldRows));
  });

  it("keeps a paused dump paused with its file, answers 409, and completes it after resume", async () => {
    await using workflows = await introspectWorkflow(env.DUMP_WORKFLOW);
    const { dumpId, instance, breath } = await startHeldDump(workflows);

    expect((await api(`/export/dump/${dumpId}/pause`, { method: "POST" })).status).toBe(200);
    await instance.waitForStatus("paused");
    const paused = await dumpStatus(dumpId);
    expect(paused).toMatchObject({ status: "paused", error: null });
    expectProgressInvariants(paused);
    expect(await expectJson(await download(dumpId), 409)).toMatchObject({ status: "paused" });
    expect(await storedFileBytes(dumpId)).toBeGreaterThan(0);

    // Only the hour-long breath is skipped; the retention sleep stays, or the file would expire at once.
    await instance.modify(async (m) => m.disableSleeps([{ name: breath }]));
    expect((await api(`/export/dump/${dumpId}/resume`, { method: "POST" })).status).toBe(200);
    const finished = await runDumpToCompletion(dumpId);
    expect(finished.progress).toMatchObject({ processedTables: 2, totalTables: 2, rowsDumped: heldRows, percent: 100 });

    const uninterrupted = await startDump(held, { storage: "do" });
    await runDumpToCompletion(uninterrupted.dumpId);
    expect(sameBytes(await downloadBytes(dumpId), await downloadBytes(uninterrupted.dumpId))).toBe(true);
  });

  it("ends failed with the reason when a chunk keeps failing, and keeps nothing", async () => {
    await using workflows = await introspectWorkflow(env.DUMP_WORKFLOW);
    await workflows.modifyAll(async (m) => {
      await m.disableRetryDelays();
      // The second step fails after the first one's rows were written to the file store.
      await m.mockStepError({ name: 'table "authors" · chunk 2' }, new Error("simulated read failure"));
    });
    const { dumpId } = await startDump(held, { storage: "do" });
    const [instance] = workflows.get();
    expect(await waitForFinish(instance, dumpId)).toBe("failed");
    await instance.waitForStatus("errored");

    const status = await dumpStatus(dumpId);
    expect(status.status).toBe("failed");
    expect(status.error).toContain("simulated read failure");
    expectProgressInvariants(status);
    expect(status.size).toBeNull();
    const response = await download(dumpId);
    const body = await expectJson<{ error: string; status: string }>(response, 409);
    expect(body.status).toBe("failed");
    expect(body.error).toContain("simulated read failure");
    expect(await storedFileBytes(dumpId)).toBe(0);
  });
});

describe("a dump to R2", () => {
  const database = uniqueName("blobs");
  let rows = 0;
  beforeAll(async () => {
    // About 9 MB of random blobs, so the SQL (hex literals) spans four 5 MiB parts.
    const insert = `INSERT INTO blobs (data) SELECT randomblob(30000) FROM ${numbers(100)}`;
    await seed(database, ["CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)", insert]);
    await seed(database, [insert]);
    await seed(database, [insert, "CREATE TABLE labels (name TEXT)", "INSERT INTO labels VALUES ('a'), ('b;c'), (NULL)"]);
    rows = 303;
  });

  it("completes a multipart upload of three or more parts, byte-identical to the DO dump", async () => {
    const started = await startDump(database, { storage: "r2" }, { path: "/export/dump/chunked" });
    expect(started.storage).toBe("r2");
    const [samples, status] = await Promise.all([watchProgress(started.dumpId), runDumpToCompletion(started.dumpId)]);
    expectMonotonic(samples);
    expect(samples.at(-1)!.status).toBe("completed");
    expect(status.progress).toMatchObject({ processedTables: 2, totalTables: 2, rowsDumped: rows, percent: 100 });
    expect(status.size).toBeGreaterThan(2 * PART_SIZE);

    const key = dumpObjectKey(started.dumpId);
    const object = await env.DUMPS_BUCKET!.get(key);
    expect(object).not.toBeNull();
    expect(object!.size).toBe(status.size);
    const stored = new Uint8Array(await object!.arrayBuffer());
    expect(await listBucket(`tmp/${started.dumpId}/`)).toEqual([]);
    expect(await listBucket("tmp/")).toEqual([]);
    expect(decoder.decode(stored.subarray(stored.length - 9))).toBe("\nCOMMIT;\n");

    const response = await download(started.dumpId);
    expect(response.headers.get("Content-Length")).toBe(String(status.size));
    expect(response.headers.get("ETag")).toBe(object!.httpEtag);
    expect(sameBytes(new Uint8Array(await response.arrayBuffer()), stored)).toBe(true);

    // Across the boundary between the first and the second part.
    const across = await download(started.dumpId, { headers: { Range: `bytes=${PART_SIZE - 10}-${PART_SIZE + 9}` } });
    expect(across.status).toBe(206);
    expect(sameBytes(new Uint8Array(await across.arrayBuffer()), stored.subarray(PART_SIZE - 10, PART_SIZE + 10))).toBe(true);

    const inDurableObject = await startDump(database, { storage: "do" });
    await runDumpToCompletion(inDurableObject.dumpId);
    expect(sameBytes(await downloadBytes(inDurableObject.dumpId), stored)).toBe(true);
  });

  it.each(["r2", "do"] as const)(
    "retries a chunk step that fails twice and still writes the exact file (storage %s)",
    async (storage) => {
      const clean = await startDump(database, { storage });
      await runDumpToCompletion(clean.dumpId);
      const expected = await downloadBytes(clean.dumpId);

      await using workflows = await introspectWorkflow(env.DUMP_WORKFLOW);
      await workflows.modifyAll(async (m) => {
        await m.disableRetryDelays();
        // Two failures, then the real step runs: within the five retries.
        await m.mockStepError({ name: 'table "blobs" · chunk 2' }, new Error("transient read failure"), 2);
      });
      const { dumpId } = await startDump(database, { storage });
      const [instance] = workflows.get();
      expect(await waitForFinish(instance, dumpId)).toBe("finalized");
      const status = await dumpStatus(dumpId);
      expect(status).toMatchObject({ status: "completed", error: null, size: expected.length });
      expect(sameBytes(await downloadBytes(dumpId), expected)).toBe(true);
      expect(await listBucket(`tmp/${dumpId}/`)).toEqual([]);
    },
  );

  it("ends failed after a part was uploaded, aborts the upload and leaves nothing in the bucket", async () => {
    await using workflows = await introspectWorkflow(env.DUMP_WORKFLOW);
    await workflows.modifyAll(async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: 'table "blobs" · chunk 2' }, new Error("simulated failure after a part"));
    });
    const { dumpId } = await startDump(database, { storage: "r2" });
    const [instance] = workflows.get();
    const chunk = (await instance.waitForStepResult({ name: 'table "blobs" · chunk 1' })) as { parts: unknown[] };
    expect(chunk.parts.length).toBeGreaterThanOrEqual(1);
    expect(await waitForFinish(instance, dumpId)).toBe("failed");

    const status = await dumpStatus(dumpId);
    expect(status).toMatchObject({ status: "failed", size: null });
    expect(status.error).toContain("simulated failure after a part");
    expect(await expectJson(await download(dumpId), 409)).toMatchObject({ status: "failed" });

    expect(await listBucket(`tmp/${dumpId}/`)).toEqual([]);
    expect(await listBucket(dumpObjectKey(dumpId))).toEqual([]);
    const record = await jobRecords(env, "dump").get(dumpId);
    expect(record?.uploadId).toBeTruthy();
    const upload = env.DUMPS_BUCKET!.resumeMultipartUpload(dumpObjectKey(dumpId), record!.uploadId!);
    await expect(upload.uploadPart(99, new Uint8Array(PART_SIZE))).rejects.toThrow();
  });
});

describe("starting a dump", () => {
  it.each([
    ["an unknown option key", { storage: "do", compress: true }, /compress/],
    ["an unknown storage", { storage: "s3" }, /storage/],
    ["a negative breathingMs", { breathingMs: -1 }, /breathingMs/],
    ["a fractional breathingMs", { breathingMs: 1.5 }, /breathingMs/],
    ["a retention that is not a duration", { retention: "soon" }, /retention/],
  ])("refuses %s with 400 and creates no dump", async (_, options, field) => {
    const database = uniqueName("refused");
    const response = await postJson(`/export/dump?database=${database}`, options);
    const body = await expectJson<{ error: string }>(response, 400);
    expect(body.error).toMatch(field);
    await expectNoDumps(database);
  });

  it("refuses a body that is not JSON and an invalid X-Callback-URL, creating no dump", async () => {
    const database = uniqueName("refused");
    const notJson = await api(`/export/dump?database=${database}`, { method: "POST", body: "{storage" });
    expect(await expectJson<{ error: string }>(notJson, 400)).toMatchObject({ error: expect.stringMatching(/JSON/) });
    const badCallback = await api(`/export/dump?database=${database}`, { method: "POST", headers: { "X-Callback-URL": "ftp://example.com/x" } });
    expect(await expectJson<{ error: string }>(badCallback, 400)).toMatchObject({ error: expect.stringMatching(/X-Callback-URL/) });
    await expectNoDumps(database);
  });

  it("refuses an invalid database name with 400", async () => {
    const response = await api("/export/dump?database=no%20spaces", { method: "POST" });
    expect(await expectJson<{ error: string }>(response, 400)).toMatchObject({ error: expect.stringMatching(/^database: /) });
  });

  it("answers 404 for unknown dump ids and 400 for malformed ones", async () => {
    const unknown = "20260101-000000-00000000";
    expect((await download(unknown)).status).toBe(404);
    expect((await api(`/export/dump/${unknown}/status`)).status).toBe(404);
    expect(await expectJson(await download(unknown), 404)).toMatchObject({ error: expect.stringContaining(unknown) });
    expect((await download("not.an.id")).status).toBe(400);
  });

  it("dumps an empty database to a file with only the header and COMMIT", async () => {
    const { dumpId } = await startDump(uniqueName("empty"));
    const status = await runDumpToCompletion(dumpId);
    expect(status.progress).toMatchObject({ processedTables: 0, totalTables: 0, rowsDumped: 0, percent: 100 });
    expect(decoder.decode(await downloadBytes(dumpId))).toBe("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCOMMIT;\n");
  });
});
