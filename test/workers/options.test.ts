// Dump options inside workerd: gzip files written over several chunk steps (one deflate segment per
// step, all in ONE gzip member that workerd's DecompressionStream reads whole), the refused option
// combinations, and the options echoed by the status endpoint.

import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../shared/config";
import { dumpObjectKey } from "../../storage/files";
import type { ChunkStepResult } from "../../workflows/dump-steps";
import {
  api,
  download,
  downloadBytes,
  dumpStatus,
  expectJson,
  postJson,
  runDumpToCompletion,
  sameBytes,
  seed,
  startDump,
  uniqueName,
  waitForFinish,
} from "./helpers";

const BLOB_BYTES = 30_000;
const BLOB_ROWS_PER_INSERT = 100;
const BLOB_INSERTS = 5;
/** A full flush ends with an empty stored block, whose last four bytes are these. */
const FULL_FLUSH_TAIL = [0x00, 0x00, 0xff, 0xff];

function numbers(count: number): string {
  return `(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count}) SELECT i FROM n)`;
}

async function gunzipStream(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}

async function listedDumpIds(query = ""): Promise<string[]> {
  const body = await expectJson<{ result: { dumps: Array<{ dumpId: string }> } }>(await api(`/export/dumps?limit=100${query}`), 200);
  return body.result.dumps.map((d) => d.dumpId);
}

describe("a gzip dump that spans several chunk steps", () => {
  const database = uniqueName("gzip-steps");
  const stepTarget = readConfig(env).stepTargetBytes;
  let plain: Uint8Array;

  beforeAll(async () => {
    // Random blobs (hex in the SQL: twice their size, poorly compressible) for several steps of one
    // table, then a small, very compressible table with an AUTOINCREMENT sequence, an index and a view.
    const insert = `INSERT INTO blobs (data) SELECT randomblob(${BLOB_BYTES}) FROM ${numbers(BLOB_ROWS_PER_INSERT)}`;
    await seed(database, ["CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)", insert]);
    for (let i = 1; i < BLOB_INSERTS; i++) await seed(database, [insert]);
    await seed(database, [
      "CREATE TABLE words (id INTEGER PRIMARY KEY AUTOINCREMENT, word TEXT NOT NULL, n REAL)",
      `INSERT INTO words (word, n) SELECT 'word number ' || (i % 50) || ' é😀', i / 8.0 FROM ${numbers(3000)}`,
      "CREATE INDEX words_by_word ON words(word)",
      "CREATE VIEW short_words AS SELECT word FROM words WHERE length(word) < 16",
    ]);
    // The blob table alone must need at least three steps at the configured step target.
    expect(2 * BLOB_BYTES * BLOB_ROWS_PER_INSERT * BLOB_INSERTS).toBeGreaterThan(2.5 * stepTarget);

    const { dumpId } = await startDump(database, { storage: "do", compression: "none" });
    await runDumpToCompletion(dumpId);
    plain = await downloadBytes(dumpId);
  });

  it.each(["do", "r2"] as const)("storage %s: one member that DecompressionStream reads back as the plain dump, byte for byte", async (storage) => {
    await using workflows = await introspectWorkflow(env.DUMP_WORKFLOW);
    const started = await startDump(database, { storage, compression: "gzip" });
    expect(started.storage).toBe(storage);
    const [instance] = workflows.get();
    expect(await waitForFinish(instance, started.dumpId)).toBe("finalized");
    const status = await dumpStatus(started.dumpId);
    expect(status).toMatchObject({ status: "completed", storage, error: null });
    expect(status.options).toMatchObject({ compression: "gzip" });

    // Where each step of the blob table ended its segment in the file.
    const stepEnds: number[] = [];
    for (let chunk = 1; ; chunk++) {
      const result = (await instance.waitForStepResult({ name: `table "blobs" · chunk ${chunk}` })) as ChunkStepResult;
      stepEnds.push(result.sink.bytesWritten);
      if (result.position.tableIndex > 0) break; // blobs is done; this step went on with the next table
    }
    expect(stepEnds.length).toBeGreaterThanOrEqual(3);

    const response = await download(started.dumpId);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/gzip");
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; filename="dump_\d{8}-\d{6}\.sql\.gz"$/);
    expect(response.headers.get("Content-Length")).toBe(String(status.size));
    const file = new Uint8Array(await response.arrayBuffer());
    expect(file.length).toBe(status.size);
    expect([...file.subarray(0, 3)]).toEqual([0x1f, 0x8b, 8]);
    // Every step ended its deflate output on a full flush, so the next step could start afresh.
    for (const end of stepEnds) expect([...file.subarray(end - 4, end)], `segment ending at ${end}`).toEqual(FULL_FLUSH_TAIL);
    expect(file.length).toBeLessThan(plain.length);

    // Decompressed straight from the download stream, as a Worker reading it would.
    const again = await download(started.dumpId);
    const sql = await gunzipStream(again.body!);
    expect(sql.length).toBe(plain.length);
    expect(sameBytes(sql, plain)).toBe(true);
    // The trailer's ISIZE is the length of the SQL (mod 2^32).
    expect(new DataView(file.buffer, file.byteOffset + file.length - 4).getUint32(0, true)).toBe(plain.length % 2 ** 32);

    if (storage === "r2") {
      const object = await env.DUMPS_BUCKET!.head(dumpObjectKey(started.dumpId));
      expect(object).not.toBeNull();
      expect(object!.size).toBe(status.size);
      expect(object!.httpMetadata?.contentType).toBe("application/gzip");
    }
  });
});

describe("refused option combinations", () => {
  const database = uniqueName("refused-options");

  beforeAll(async () => {
    await seed(database, [
      "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)",
      "INSERT INTO items (name) VALUES ('a'), ('b')",
      "CREATE VIEW item_names AS SELECT name FROM items",
    ]);
  });

  /** Posts the options, expects 400 with an error matching `message`, and checks that nothing started. */
  async function expectRefused(options: Record<string, unknown>, message: RegExp): Promise<string> {
    const before = await listedDumpIds();
    await using workflows = await introspectWorkflow(env.DUMP_WORKFLOW);
    const response = await postJson(`/export/dump?database=${database}`, options);
    const { error } = await expectJson<{ error: string }>(response, 400);
    expect(error).toMatch(message);
    expect(workflows.get()).toHaveLength(0);
    expect(await listedDumpIds()).toEqual(before);
    expect(await listedDumpIds(`&database=${database}`)).toEqual([]);
    return error;
  }

  it.each([
    ["schemaOnly and dataOnly together", { schemaOnly: true, dataOnly: true }, /schemaOnly and dataOnly/],
    ["schemaOnly and dataOnly together with other valid options", { storage: "r2", compression: "gzip", tables: ["items"], schemaOnly: true, dataOnly: true }, /schemaOnly and dataOnly/],
    ["an unknown compression", { compression: "brotli" }, /compression/],
    ["compression given as a boolean", { compression: true }, /compression/],
    ["an empty tables array", { tables: [] }, /^options: tables: /],
    ["an empty excludeTables array", { excludeTables: [] }, /^options: excludeTables: /],
    ["an empty table name", { tables: [""] }, /tables/],
    ["tables that is not an array", { tables: "items" }, /tables/],
    ["schemaOnly that is not a boolean", { schemaOnly: "yes" }, /schemaOnly/],
  ])("refuses %s with 400 and starts nothing", async (_, options, message) => {
    await expectRefused(options, message);
  });

  it("refuses unknown table names with 400 listing each of them, and only them", async () => {
    const error = await expectRefused(
      { tables: ["items", "no_such_table", "item_names"], excludeTables: ["Ghost"] },
      /unknown tables/,
    );
    expect(error).toContain("no_such_table");
    expect(error).toContain("Ghost");
    expect(error).not.toMatch(/\bitems\b/);
    expect(error).not.toContain("item_names");
  });

  it("refuses a table that exists only in another database", async () => {
    const other = uniqueName("other-db");
    await seed(other, ["CREATE TABLE elsewhere (x)"]);
    const error = await expectRefused({ tables: ["elsewhere"] }, /unknown tables/);
    expect(error).toContain("elsewhere");
  });
});

describe("options in the status response", () => {
  const database = uniqueName("status-options");

  beforeAll(async () => {
    await seed(database, [
      "CREATE TABLE parents (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)",
      "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents(id))",
      "CREATE TABLE logs (line TEXT)",
      "INSERT INTO parents (name) VALUES ('p1'), ('p2')",
      "INSERT INTO children (parent_id) VALUES (1), (2), (2)",
      "INSERT INTO logs VALUES ('l')",
    ]);
  });

  it("shows the defaults of every option when the request gave none", async () => {
    const { dumpId } = await startDump(database);
    const status = await runDumpToCompletion(dumpId);
    expect(status.options).toEqual({
      storage: "auto",
      deleteAfterDownload: false,
      schemaOnly: false,
      dataOnly: false,
      compression: "none",
      snapshot: true,
    });
  });

  it("shows every option the request gave, while running and after completion, and in the list", async () => {
    const options = {
      storage: "do",
      breathingMs: 0,
      retention: "1 hour",
      deleteAfterDownload: false,
      tables: ["parents", "children"],
      excludeTables: ["children"],
      schemaOnly: false,
      dataOnly: true,
      compression: "gzip",
      snapshot: false,
    };
    const { dumpId } = await startDump(database, options);
    expect((await dumpStatus(dumpId)).options).toEqual(options);
    const status = await runDumpToCompletion(dumpId);
    expect(status.options).toEqual(options);
    // The options took effect: one table, data only, gzip.
    expect(status.progress).toMatchObject({ totalTables: 1, rowsDumped: 2 });
    const sql = new TextDecoder().decode(await gunzipStream((await download(dumpId)).body!));
    expect(sql).not.toContain("CREATE TABLE");
    expect(sql).toContain('INSERT INTO "parents"');
    expect(sql).not.toContain("children");
    expect(sql).not.toContain("logs");

    const listed = await expectJson<{ result: { dumps: Array<{ dumpId: string; options: unknown }> } }>(
      await api(`/export/dumps?database=${database}`),
      200,
    );
    expect(listed.result.dumps.find((d) => d.dumpId === dumpId)?.options).toEqual(options);
  });

  it("shows schemaOnly", async () => {
    const { dumpId } = await startDump(database, { storage: "do", schemaOnly: true, excludeTables: ["logs"] });
    const status = await runDumpToCompletion(dumpId);
    expect(status.options).toMatchObject({ schemaOnly: true, dataOnly: false, excludeTables: ["logs"], compression: "none" });
    expect(status.progress).toMatchObject({ totalTables: 2, rowsDumped: 0 });
    const sql = new TextDecoder().decode(await downloadBytes(dumpId));
    expect(sql).toContain("CREATE TABLE parents");
    expect(sql).not.toContain("INSERT INTO");
    expect(sql).not.toContain("logs");
  });
});
