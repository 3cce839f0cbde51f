// Restores end to end inside workerd: POST /import/dump starts a RestoreWorkflow instance that
// loads a finished dump (DO storage, R2, gzip) or an uploaded SQL file into another database.
// Exactness is judged cell by cell and by dumping the restored database again.

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { splitStatements } from "../../shared/sql-splitter";
import { fileStoreObject } from "../../storage/bindings";
import { uploadedFile } from "../../storage/files";
import { randomDoubles } from "../random";
import { api, dumpFile, expectJson, postJson, query, restoreFromDump, restoreStatus, restoreUpload, runRestore, sameBytes, seed, uniqueName } from "./helpers";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Row = Record<string, unknown>;
type Param = string | number | null;

// ---- comparing databases ----

function realText(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return `real:${view.getBigUint64(0).toString(16)}`;
}

/**
 * Every cell of every user table, as typeof plus an exact rendering: integers by quote() (exact
 * beyond 2^53), text and blobs as hex bytes (exact with NUL), reals as the 64 bits of the number
 * that reached JavaScript (Object.is equality). Rowid tables include the rowid.
 */
async function cells(database: string): Promise<Record<string, string[]>> {
  const tables = (await query(
    database,
    `SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual')
       AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name`,
  )) as Array<{ name: string; type: string; wr: number }>;
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const columns = (await query(database, "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", [table.name])) as Array<{ name: string; pk: number }>;
    const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
    const order = table.wr ? columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => q(c.name)).join(", ") : "rowid";
    const select = columns.flatMap((c, i) => [
      `typeof(${q(c.name)}) AS t${i}`,
      `CASE typeof(${q(c.name)}) WHEN 'real' THEN ${q(c.name)} WHEN 'integer' THEN quote(${q(c.name)}) WHEN 'null' THEN 'NULL' ELSE hex(${q(c.name)}) END AS v${i}`,
    ]);
    if (!table.wr) select.unshift("quote(rowid) AS rowid_");
    const rows = await query(database, `SELECT ${select.join(", ")} FROM ${q(table.name)} ORDER BY ${order}`);
    out[table.name] = rows.map((row) =>
      Object.values(row)
        .map((value) => (typeof value === "number" ? realText(value) : String(value)))
        .join("|"),
    );
  }
  return out;
}

async function schemaOf(database: string): Promise<Row[]> {
  return query(
    database,
    `SELECT type, name, tbl_name, sql FROM sqlite_master
      WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY type, name`,
  );
}

async function sequenceOf(database: string): Promise<Row[]> {
  const exists = await query(database, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'");
  return exists.length ? query(database, "SELECT name, quote(seq) AS seq FROM sqlite_sequence ORDER BY name") : [];
}

async function expectSameDatabase(restored: string, original: string) {
  expect(await schemaOf(restored)).toEqual(await schemaOf(original));
  expect(await sequenceOf(restored)).toEqual(await sequenceOf(original));
  const [a, b] = [await cells(original), await cells(restored)];
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const table of Object.keys(a)) expect(b[table], `table ${table}`).toEqual(a[table]);
}

// ---- the source database ----

const SPECIAL_DOUBLES = [0.1, 1 / 3, 1e-5, 19.99, 4, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -2.5e-310, 123456789012345680000, 2 ** 53 + 2];

/** Every kind of value and object a dump must carry: FKs, AUTOINCREMENT, WITHOUT ROWID, STRICT, FTS5, rows over 100 KB. */
async function seedSource(database: string): Promise<void> {
  const numbers = (n: number) => `(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT i FROM n)`;
  await seed(database, [
    "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id), title TEXT, cover BLOB, price REAL)",
    "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)",
    `CREATE TABLE "odd ""name"";x" ([semi;colon] TEXT, "quote""d" ANY, n INTEGER)`,
    "CREATE TABLE kv (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID",
    "CREATE TABLE strict_t (id INTEGER PRIMARY KEY, t TEXT, b BLOB, r REAL, i INTEGER, a ANY) STRICT",
    "CREATE TABLE reals (id INTEGER PRIMARY KEY, x REAL, y)",
    "CREATE TABLE g (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED)",
    "CREATE TABLE log (msg TEXT)",
    "CREATE VIRTUAL TABLE docs USING fts5(body)",
    "CREATE TRIGGER books_log AFTER INSERT ON books BEGIN INSERT INTO log VALUES ('book; ' || NEW.title); END",
    `INSERT INTO authors (name) SELECT 'author ' || i FROM ${numbers(30)}`,
    "DELETE FROM authors WHERE id IN (7, 30)",
    `INSERT INTO books (author_id, title, cover, price)
       SELECT 1 + i % 29, 'book ''' || i || ''';' || char(10) || '-- /* x', randomblob(i % 9), i * 0.1 FROM ${numbers(300)} WHERE 1 + i % 29 <> 7`,
    `INSERT INTO "odd ""name"";x" VALUES (CAST(X'610062' AS TEXT), X'00FF', 9007199254740993), ('😀 é', X'', -9223372036854775808),
       ('', 'it''s; END;', 9223372036854775807), (NULL, 1e999, NULL), ('x', -1e999, 0)`,
    "DELETE FROM \"odd \"\"name\"\";x\" WHERE rowid = 2",
    `INSERT INTO kv VALUES ('a''b', 1.5), ('big text', printf('%.*c', 150000, 'x') || '😀'), ('big blob', randomblob(130000)), ('n', NULL)`,
    `INSERT INTO strict_t VALUES (1, 'a;b', X'01', 2.5, 9007199254740993, 'any'), (2, NULL, NULL, NULL, NULL, 3.0), (3, printf('%.*c', 120000, 'y'), NULL, 0.1, -1, X'AA')`,
    `INSERT INTO g (a) SELECT i FROM ${numbers(10)}`,
    `INSERT INTO docs (body) SELECT 'document ' || i || ' about ; and '' quotes' FROM ${numbers(20)}`,
    "CREATE INDEX books_by_author ON books(author_id)",
    "CREATE VIEW cheap_books AS SELECT title FROM books WHERE price < 5",
  ]);
  const doubles = [...SPECIAL_DOUBLES, ...randomDoubles(2000, 7)];
  const statements: Array<{ sql: string; params: Param[] }> = [];
  for (let i = 0; i < doubles.length; i += 50) {
    const batch = doubles.slice(i, i + 50);
    statements.push({ sql: `INSERT INTO reals (x, y) VALUES ${batch.map(() => "(?, ?)").join(", ")}`, params: batch.flatMap((d) => [d, -d]) });
  }
  await seed(database, statements);
  await seed(database, ["INSERT INTO reals (x, y) VALUES (1e999, -1e999), (NULL, 10.0), (0.0, -0.0)"]);
}

// ---- tests ----

const SOURCE = uniqueName("restore-source");
let plainDumps: Record<"do" | "r2", { dumpId: string; bytes: Uint8Array }>;
let gzipDumps: Record<"do" | "r2", { dumpId: string; bytes: Uint8Array }>;

beforeAll(async () => {
  await seedSource(SOURCE);
  plainDumps = { do: await dumpFile(SOURCE, { storage: "do" }), r2: await dumpFile(SOURCE, { storage: "r2" }) };
  gzipDumps = {
    do: await dumpFile(SOURCE, { storage: "do", compression: "gzip" }),
    r2: await dumpFile(SOURCE, { storage: "r2", compression: "gzip" }),
  };
  expect(sameBytes(plainDumps.do.bytes, plainDumps.r2.bytes)).toBe(true);
  // The file holds the hard cases: rows over 100 KB completed by UPDATEs, and exact REAL expressions.
  const text = decoder.decode(plainDumps.do.bytes);
  expect(text).toContain('UPDATE "kv" SET "v"=');
  expect(text).toMatch(/\(-?\d+\*1\.0\/\d+/);
});

describe("restoring a dump", () => {
  it.each([
    ["do", 4096],
    ["r2", 65536],
  ] as const)("restores a dump kept in %s storage exactly, and dumping the copy gives the same file (slices of %i bytes)", async (storage, sliceBytes) => {
    const target = uniqueName(`restore-${storage}`);
    const restoreId = await restoreFromDump(target, { dumpId: plainDumps[storage].dumpId, sliceBytes, breathingMs: 50 });
    const status = await runRestore(restoreId);
    expect(status.status).toBe("completed");
    const size = plainDumps[storage].bytes.length;
    expect(status.progress).toMatchObject({ bytesRead: size, totalBytes: size, percent: 100 });
    expect(status.progress.statementsApplied).toBeGreaterThan(100);
    expect(status.progress.statementsSkipped).toBe(3); // PRAGMA foreign_keys=OFF, BEGIN TRANSACTION, COMMIT

    await expectSameDatabase(target, SOURCE);
    const again = await dumpFile(target, { storage });
    expect(again.bytes.length).toBe(size);
    expect(sameBytes(again.bytes, plainDumps[storage].bytes)).toBe(true);
  });

  it.each(["do", "r2"] as const)("restores a gzip dump kept in %s storage by expanding it first", async (storage) => {
    const target = uniqueName("restore-gzip");
    const restoreId = await restoreFromDump(target, { dumpId: gzipDumps[storage].dumpId, sliceBytes: 32768 });
    const status = await runRestore(restoreId);
    expect(status.status).toBe("completed");
    expect(status.progress.totalBytes).toBe(plainDumps.do.bytes.length);
    await expectSameDatabase(target, SOURCE);
    expect(sameBytes((await dumpFile(target, { storage: "do" })).bytes, plainDumps.do.bytes)).toBe(true);
  });

  it('refuses (409) a target that already has tables unless mode is "replace", which drops them first', async () => {
    const target = uniqueName("restore-replace");
    await seed(target, [
      "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))",
      "INSERT INTO parent VALUES (1)",
      "INSERT INTO child VALUES (1, 1)",
      "CREATE TABLE books (id INTEGER PRIMARY KEY, other TEXT)", // a name the dump also creates
      "CREATE VIEW v AS SELECT * FROM child",
      "CREATE TRIGGER t AFTER INSERT ON parent BEGIN SELECT 1; END",
      "CREATE VIRTUAL TABLE notes USING fts5(body)",
    ]);
    const refused = await postJson(`/import/dump?database=${target}`, { dumpId: plainDumps.do.dumpId });
    expect(refused.status).toBe(409);
    expect((await refused.json<{ error: string }>()).error).toMatch(/already has 5 tables or views.*mode "replace"/);
    const refusedUpload = await api(`/import/dump?database=${target}`, { method: "POST", headers: { "Content-Type": "application/sql" }, body: "SELECT 1;" });
    expect(refusedUpload.status).toBe(409);

    const restoreId = await restoreFromDump(target, { dumpId: plainDumps.do.dumpId, mode: "replace" });
    expect((await runRestore(restoreId)).status).toBe("completed");
    await expectSameDatabase(target, SOURCE);
  });

  it("answers 404 for an unknown dump and 409 for another restore into the same database still running", async () => {
    const target = uniqueName("restore-twice");
    expect((await postJson(`/import/dump?database=${target}`, { dumpId: "no-such-dump" })).status).toBe(404);
    const first = await restoreFromDump(target, { dumpId: plainDumps.do.dumpId, breathingMs: 60_000, sliceBytes: 4096 });
    const second = await postJson(`/import/dump?database=${target}`, { dumpId: plainDumps.do.dumpId, mode: "replace" });
    expect(second.status).toBe(409);
    expect((await second.json<{ error: string }>()).error).toContain(first);
    expect((await runRestore(first)).status).toBe("completed");
  });
});

/** A file as sqlite3 .dump writes it for a database whose children were created before their parents. */
function sqliteShellDump(): { sql: string; tracks: number; albums: number; artists: number; bulk: number } {
  const lines = ["PRAGMA foreign_keys=OFF;", "BEGIN TRANSACTION;"];
  lines.push("CREATE TABLE track (id INTEGER PRIMARY KEY, album_id INTEGER NOT NULL REFERENCES album(id), name TEXT);");
  const tracks = 400;
  for (let i = 1; i <= tracks; i++) lines.push(`INSERT INTO track VALUES(${i},${1 + (i % 40)},'track ${i}; it''s -- /* not a comment */');`);
  lines.push("CREATE TABLE album (id INTEGER PRIMARY KEY, artist_id INTEGER NOT NULL REFERENCES artist(id), title TEXT);");
  for (let i = 1; i <= 40; i++) lines.push(`INSERT INTO album VALUES(${i},${1 + (i % 10)},'album ${i}');`);
  lines.push("CREATE TABLE artist (id INTEGER PRIMARY KEY, name TEXT);");
  for (let i = 1; i <= 10; i++) lines.push(`INSERT INTO artist VALUES(${i},'artist ${i}');`);
  lines.push("CREATE TABLE bulk (id INTEGER PRIMARY KEY, payload TEXT);");
  const bulk = 3000;
  const rows = Array.from({ length: bulk }, (_, i) => `(${i + 1},'${"p".repeat(90)}),(${i}')`);
  lines.push(`INSERT INTO bulk VALUES${rows.join(",")};`); // about 300 KB: over the 100 KB statement limit
  lines.push("CREATE INDEX track_album ON track(album_id);");
  lines.push("CREATE TRIGGER album_title AFTER UPDATE ON album BEGIN UPDATE track SET name = name || ';' WHERE album_id = NEW.id; END;");
  lines.push("CREATE VIEW album_tracks AS SELECT album.title, track.name FROM track JOIN album ON album.id = track.album_id;");
  lines.push("DELETE FROM sqlite_sequence;"); // sqlite3 writes it when the source had the table; this target has none
  lines.push("COMMIT;");
  return { sql: `${lines.join("\n")}\n`, tracks, albums: 40, artists: 10, bulk };
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("restoring an uploaded file", () => {
  it.each([
    ["application/sql", "r2"],
    ["application/gzip", "do"],
  ] as const)("restores a sqlite3 .dump-style file sent as %s (kept in %s), children before parents, across many steps", async (contentType, storage) => {
    const file = sqliteShellDump();
    const target = uniqueName("restore-upload");
    const body = contentType === "application/gzip" ? await gzip(file.sql) : file.sql;
    const restoreId = await restoreUpload(target, body, contentType, `&sliceBytes=4096&storage=${storage}`);
    const status = await runRestore(restoreId);
    expect(status.status, status.error ?? "").toBe("completed");
    expect(status.progress.totalBytes).toBe(encoder.encode(file.sql).length);
    expect(status.progress.statementsSkipped).toBe(3);
    expect(status.progress.statementsApplied).toBe(file.tracks + file.albums + file.artists + 4 + 1 + 3 + 1);

    const counts = await query(
      target,
      "SELECT (SELECT count(*) FROM track) AS t, (SELECT count(*) FROM album) AS a, (SELECT count(*) FROM artist) AS r, (SELECT count(*) FROM bulk) AS b",
    );
    expect(counts).toEqual([{ t: file.tracks, a: file.albums, r: file.artists, b: file.bulk }]);
    expect(await query(target, "SELECT payload FROM bulk WHERE id = 3000")).toEqual([{ payload: `${"p".repeat(90)}),(2999` }]);
    expect(await query(target, "SELECT name FROM track WHERE id = 7")).toEqual([{ name: "track 7; it's -- /* not a comment */" }]);
    expect(await query(target, "SELECT count(*) AS n FROM album_tracks")).toEqual([{ n: file.tracks }]);
    expect(await query(target, "SELECT * FROM pragma_foreign_key_check")).toEqual([]);
    // Foreign keys are enforced again once the restore is over.
    const violation = await postJson(`/query?database=${target}`, { sql: "INSERT INTO track VALUES (100000, 999999, 'orphan')" });
    expect(violation.status).toBe(400);
    expect(await violation.text()).toContain("FOREIGN KEY constraint failed");
    // The uploaded file (and its expanded copy) are gone.
    if (storage === "r2") expect((await env.DUMPS_BUCKET!.list({ prefix: `restores/${restoreId}/` })).objects).toEqual([]);
    const pieces = await fileStoreObject(env, uploadedFile(restoreId, "do").key).storedBytes();
    expect(pieces).toBe(0);
  });

  it("streams a 12 MB body of unknown length to R2 in equal 5 MiB parts and restores it", async () => {
    const rows = 60_000;
    const chunks = (function* () {
      yield "CREATE TABLE big (id INTEGER PRIMARY KEY, pad TEXT);\n";
      for (let i = 1; i <= rows; i += 1000) {
        let text = "";
        for (let j = i; j < i + 1000; j++) text += `INSERT INTO big VALUES(${j}, '${String(j).padStart(180, "-")}');\n`;
        yield text;
      }
    })();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
    });
    const target = uniqueName("restore-stream");
    const restoreId = await restoreUpload(target, body, "application/sql");
    const status = await runRestore(restoreId);
    expect(status.status, status.error ?? "").toBe("completed");
    expect(status.progress.totalBytes).toBeGreaterThan(11 * 1024 * 1024);
    expect(status.progress.statementsApplied).toBe(rows + 1);
    expect(await query(target, "SELECT count(*) AS n, sum(id) AS s, min(length(pad)) AS l FROM big")).toEqual([{ n: rows, s: (rows * (rows + 1)) / 2, l: 180 }]);
  });

  it("reads other tools' long decimal REALs exactly, which the Durable Object's own parser does not", async () => {
    const doubles = [...randomDoubles(1000, 11), ...SPECIAL_DOUBLES].map(Math.abs);
    const lines = ["CREATE TABLE r (id INTEGER PRIMARY KEY, x REAL);"];
    // sqlite3 .dump writes a REAL with 20 significant digits (%!.20g).
    doubles.forEach((value, i) => lines.push(`INSERT INTO r VALUES(${i}, ${value.toPrecision(20)});`));
    const target = uniqueName("restore-reals");
    const status = await runRestore(await restoreUpload(target, lines.join("\n"), "application/sql"));
    expect(status.status, status.error ?? "").toBe("completed");
    const rows = (await query(target, "SELECT id, x FROM r ORDER BY id")) as Array<{ id: number; x: number }>;
    const wrong = rows.filter((row) => !Object.is(row.x, doubles[row.id])).map((row) => `${doubles[row.id]} -> ${row.x}`);
    expect(rows).toHaveLength(doubles.length);
    expect(wrong).toEqual([]);
  });

  it("stops at a failing statement with its number, line and SQLite's message, keeping only the steps before", async () => {
    const lines = ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"];
    for (let i = 1; i <= 200; i++) lines.push(`INSERT INTO t VALUES(${i}, '${"v".repeat(80)}');`);
    lines.splice(151, 0, "INSERT INTO t VALUES(3, 'duplicate');"); // statement 152, line 152
    const sql = lines.join("\n");
    const target = uniqueName("restore-fail");
    const restoreId = await restoreUpload(target, sql, "application/sql", "&sliceBytes=4096");
    const status = await runRestore(restoreId, "errored");

    expect(status.status).toBe("failed");
    expect(status.failedStatement).toMatchObject({ number: 152, line: 152, sql: "INSERT INTO t VALUES(3, 'duplicate')" });
    expect(status.failedStatement!.message).toContain("UNIQUE constraint failed: t.id");
    expect(status.error).toMatch(/^statement 152 \(line 152, byte \d+\) failed: UNIQUE constraint failed: t\.id/);
    const statements = splitStatements(sql);
    expect(status.failedStatement!.byteOffset).toBe(statements[151].start);

    // Exactly the statements of the steps before the failing one are in the target.
    const applied = statements.filter((s) => s.end <= status.progress.bytesRead);
    const sameStep = statements.slice(applied.length, 151);
    expect(sameStep.length).toBeGreaterThan(0); // the failing step had good statements before the bad one
    expect(await query(target, "SELECT count(*) AS n, max(id) AS last FROM t")).toEqual([{ n: applied.length - 1, last: applied.length - 1 }]);
    expect(status.progress.statementsApplied).toBe(applied.length);
  });

  it("applies a step in batches of about 512 KiB: a failure in a later batch keeps the batches before it", async () => {
    const lines = ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"];
    for (let i = 1; i <= 3000; i++) lines.push(`INSERT INTO t VALUES(${i}, '${"w".repeat(400)}');`);
    lines.splice(2500, 0, "INSERT INTO t VALUES(7, 'duplicate');"); // statement 2501, about 1 MB into the file
    const sql = lines.join("\n");
    const target = uniqueName("restore-batches");
    // One step holds the whole file (4 MiB slices): its first batches commit before the failing one.
    const status = await runRestore(await restoreUpload(target, sql, "application/sql"), "errored");

    expect(status.status).toBe("failed");
    expect(status.failedStatement).toMatchObject({ number: 2501, sql: "INSERT INTO t VALUES(7, 'duplicate')" });
    const statements = splitStatements(sql);
    const applied = statements.filter((s) => s.end <= status.progress.bytesRead);
    expect(applied.length).toBeGreaterThan(1000);
    expect(applied.length).toBeLessThan(2501);
    expect(status.progress.statementsApplied).toBe(applied.length);
    expect(status.error).toContain(`The target keeps the ${applied.length} statements applied before it (up to byte ${status.progress.bytesRead})`);
    expect(await query(target, "SELECT count(*) AS n, max(id) AS last FROM t")).toEqual([{ n: applied.length - 1, last: applied.length - 1 }]);
  });

  it("refuses a file that rolls back its own transaction, leaving the target untouched", async () => {
    const target = uniqueName("restore-rollback");
    const restoreId = await restoreUpload(target, "CREATE TABLE x (a);\nINSERT INTO x VALUES (1);\nROLLBACK; -- due to errors\n", "text/plain");
    const status = await runRestore(restoreId, "errored");
    expect(status.failedStatement).toMatchObject({ number: 3, line: 3, sql: "ROLLBACK" });
    expect(status.error).toMatch(/rolls back its own transaction/);
    expect(await query(target, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'x'")).toEqual([{ n: 0 }]);
  });

  it("posts the outcome to X-Callback-URL, signed", async () => {
    const receiver = `http://127.0.0.1:${inject("callbackReceiverPort")}`;
    const path = `/callback/ok/${crypto.randomUUID()}`;
    const target = uniqueName("restore-callback");
    const response = await api(`/import/dump?database=${target}`, {
      method: "POST",
      headers: { "Content-Type": "application/sql", "X-Callback-URL": `${receiver}${path}` },
      body: "CREATE TABLE c (a);\nINSERT INTO c VALUES (1);\n",
    });
    const { restoreId } = (await expectJson<{ result: { restoreId: string } }>(response, 202)).result;
    const status = await runRestore(restoreId);
    expect(status.callback).toMatchObject({ delivered: true, attempts: 1 });
    const records = (await (await fetch(`${receiver}/records?path=${encodeURIComponent(path)}`)).json()) as Array<{ body: string; headers: Record<string, string> }>;
    expect(records).toHaveLength(1);
    const payload = JSON.parse(records[0].body);
    expect(payload).toMatchObject({ restoreId, database: target, status: "completed", statementsApplied: 2, error: null });
    expect(records[0].headers["x-dump-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});

describe("the restore API", () => {
  it("validates its input", async () => {
    const target = uniqueName("restore-api");
    const cases: Array<[RequestInit & { path?: string }, number, RegExp]> = [
      [{ method: "POST", headers: { "Content-Type": "text/csv" }, body: "a,b" }, 415, /Content-Type must be/],
      [{ method: "POST", headers: { "Content-Type": "application/sql" }, body: "SELECT 1;", path: "&mode=bogus" }, 400, /mode must be "empty" or "replace"/],
      [{ method: "POST", headers: { "Content-Type": "application/sql" }, body: "SELECT 1;", path: "&sliceBytes=12" }, 400, /sliceBytes must be at least 4096/],
      [{ method: "POST", headers: { "Content-Type": "application/sql" }, body: "SELECT 1;", path: "&bogus=1" }, 400, /bogus/],
      [{ method: "POST", headers: { "Content-Type": "application/sql" }, body: "" }, 400, /body is empty/],
      [{ method: "POST", headers: { "Content-Type": "application/json" }, body: '{"dumpId":"x","extra":1}' }, 400, /extra/],
      [{ method: "POST", headers: { "Content-Type": "application/json", "X-Callback-URL": "ftp://x" }, body: '{"dumpId":"x"}' }, 400, /X-Callback-URL/],
    ];
    for (const [init, status, message] of cases) {
      const response = await api(`/import/dump?database=${target}${init.path ?? ""}`, init);
      const text = await response.text();
      expect(response.status, text).toBe(status);
      expect(JSON.parse(text).error).toMatch(message);
    }
    expect((await api("/import/dump/restore-unknown/status")).status).toBe(404);
    expect((await api("/import/dump")).status).toBe(405);
    expect((await api("/import/dump/restore-unknown/status", { method: "DELETE" })).status).toBe(405);
    expect((await api("/import/dump", { method: "POST", headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
  });
});

describe("DatabaseObject restore batches", () => {
  it("applies a batch once, refuses batches out of order, and turns foreign keys back on", async () => {
    const name = uniqueName("restore-batch");
    const target = env.DATABASE.get(env.DATABASE.idFromName(name));
    expect(await target.sqlDumpBeginRestore("r1", "empty")).toEqual({ ok: true, dropped: 0 });
    const batch = {
      restoreId: "r1",
      from: 0,
      to: 100,
      foreignKeys: false,
      statements: [
        { sql: "CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id))" },
        { sql: "CREATE TABLE parent (id INTEGER PRIMARY KEY)" },
        { sql: "INSERT INTO child VALUES (1, 42)" },
        { sql: "INSERT INTO child VALUES (2, 43) RETURNING id" },
      ],
    };
    expect(await target.sqlDumpApplyStatements(batch)).toEqual({ status: "applied", statements: 4 });
    // A retried step sends the same batch again: nothing runs twice.
    expect(await target.sqlDumpApplyStatements(batch)).toEqual({ status: "already-applied" });
    expect(await target.sqlDumpApplyStatements({ ...batch, from: 50, to: 150 })).toMatchObject({ status: "failed", index: -1 });
    const failing = { ...batch, from: 100, to: 200, statements: [{ sql: "INSERT INTO child VALUES (3, 44)" }, { sql: "INSERT INTO nope VALUES (1)" }] };
    expect(await target.sqlDumpApplyStatements(failing)).toEqual({ status: "failed", index: 1, message: expect.stringContaining("no such table: nope") });
    expect(await query(name, "SELECT id, p FROM child ORDER BY id")).toEqual([{ id: 1, p: 42 }, { id: 2, p: 43 }]);
    expect(await query(name, "PRAGMA foreign_keys")).toEqual([{ foreign_keys: 1 }]);
    // With foreign keys enforced (PRAGMA foreign_keys=ON in the file), a violation fails cleanly.
    const enforced = { ...batch, from: 100, to: 200, foreignKeys: true, statements: [{ sql: "INSERT INTO child VALUES (4, 45)" }] };
    expect(await target.sqlDumpApplyStatements(enforced)).toMatchObject({ status: "failed", index: 0, message: expect.stringContaining("FOREIGN KEY") });
    // While the restore is open a retried begin is a no-op; once ended, the table makes "empty" refuse.
    expect(await target.sqlDumpBeginRestore("r1", "empty")).toEqual({ ok: true, dropped: 0 });
    await target.sqlDumpEndRestore("r1");
    expect(await target.sqlDumpBeginRestore("r1", "empty")).toMatchObject({ ok: false, reason: expect.stringContaining("has 2 tables or views") });
  });
});

describe("TEXT that is not valid UTF-8", () => {
  /** Bytes, with strings as UTF-8 and numbers as raw bytes. */
  const bytesOf = (...parts: Array<string | number[]>) => {
    const chunks = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : Uint8Array.from(p)));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) out.set(chunk, (at += chunk.length) - chunk.length);
    return out;
  };
  const replacementCharacters = (text: string) => text.split("\uFFFD").length - 1;

  it.each(["do", "r2"] as const)("is dumped (%s) as its bytes, and the dump restores every byte", async (storage) => {
    const source = uniqueName("invalid-utf8");
    await seed(source, [
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, w)",
      "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID",
      `INSERT INTO t (v, w) VALUES (CAST(X'FF' AS TEXT), 1), (CAST(X'61EDA08062' AS TEXT), CAST(X'E282' AS TEXT)),
         (CAST(X'EFBFBD' AS TEXT), CAST(X'2720FF27' AS TEXT)), (CAST(X'EFBFBDFF' AS TEXT), NULL),
         (CAST(X'61FF' || printf('%.*c', 150000, 'y') AS TEXT), NULL),
         (CAST(X'FE' || printf('%.*c', 600000, 'z') || X'C0AF' AS TEXT), CAST(X'F4908080' AS TEXT))`,
      // FF and FE both reach JavaScript as U+FFFD: only their bytes tell the keys apart.
      `INSERT INTO kv VALUES (CAST(X'FF' AS TEXT), 'a'), (CAST(X'FE' AS TEXT), CAST(X'FE' || printf('%.*c', 120000, 'k') AS TEXT)),
         (CAST(X'61FF' AS TEXT), CAST(X'ED' AS TEXT)), ('b', 'plain')`,
    ]);
    const dump = await dumpFile(source, { storage });
    const text = decoder.decode(dump.bytes);
    expect(text).toContain(`INSERT INTO "t"("id","v","w") VALUES(1,CAST(X'FF' AS TEXT),1);`);
    expect(text).toContain(`VALUES(2,CAST(X'61EDA08062' AS TEXT),CAST(X'E282' AS TEXT));`);
    expect(text).toContain(`INSERT INTO "kv"("k","v") VALUES(CAST(X'FF' AS TEXT),'a');`);
    expect(text).toContain(`UPDATE "kv" SET "v"=`); // the 120 KB value is split, found again by its key's bytes
    // The only U+FFFD in the file is the one that is really in the data (row 3, valid UTF-8).
    expect(text).toContain("VALUES(3,'\uFFFD',CAST(X'2720FF27' AS TEXT));");
    expect(replacementCharacters(text)).toBe(1);

    const target = uniqueName("invalid-utf8-copy");
    const status = await runRestore(await restoreFromDump(target, { dumpId: dump.dumpId, sliceBytes: 65536 }));
    expect(status.status, status.error ?? "").toBe("completed");
    await expectSameDatabase(target, source);
    expect(await query(target, "SELECT hex(v) AS v FROM t WHERE id = 2")).toEqual([{ v: "61EDA08062" }]);
    expect(sameBytes((await dumpFile(target, { storage })).bytes, dump.bytes)).toBe(true);
  });

  it("restores a file in sqlite3 .dump's shape, raw bytes inside string literals, every byte, across slices", async () => {
    const big = "x".repeat(5000);
    const body = bytesOf(
      "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n",
      "INSERT INTO t VALUES(1,'", [0xff], "');\n",
      "INSERT INTO t VALUES(2,'a", [0xed, 0xa0, 0x80], "b');\n",
      "INSERT INTO t VALUES(3,'", [0xe2, 0x82], "');\n",
      "INSERT INTO t VALUES(4,'it''s ", [0xef, 0xbf, 0xbd], " ok');\n",
      "INSERT INTO t VALUES(5,replace(replace('", [0x41, 0xff], "\\r\\nB','\\r',char(13)),'\\n',char(10)));\n",
      `INSERT INTO t VALUES(6,'${big}`, [0xfe], `${big}');\n`,
      "COMMIT;\n",
    );
    const target = uniqueName("invalid-utf8-upload");
    const status = await runRestore(await restoreUpload(target, body, "application/sql", "&sliceBytes=4096"));
    expect(status.status, status.error ?? "").toBe("completed");
    expect(status.progress).toMatchObject({ bytesRead: body.length, totalBytes: body.length, statementsApplied: 7 });
    const hex = (text: string) => [...encoder.encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
    const bigHex = `${hex(big)}FE${hex(big)}`;
    expect(await query(target, `SELECT id, typeof(v) AS type, CASE WHEN id = 6 THEN hex(v) = '${bigHex}' ELSE hex(v) END AS v FROM t ORDER BY id`)).toEqual([
      { id: 1, type: "text", v: "FF" },
      { id: 2, type: "text", v: "61EDA08062" },
      { id: 3, type: "text", v: "E282" },
      { id: 4, type: "text", v: `${hex("it's ")}EFBFBD${hex(" ok")}` },
      { id: 5, type: "text", v: "41FF0D0A42" },
      { id: 6, type: "text", v: 1 },
    ]);
  });

  it("fails a restore whose file has such bytes outside a string literal, with the statement's place", async () => {
    const body = bytesOf("CREATE TABLE ok (a);\nCREATE TABLE t (v TEXT DEFAULT '", [0xff], "');\n");
    const target = uniqueName("invalid-utf8-refused");
    const status = await runRestore(await restoreUpload(target, body, "application/sql"), "errored");
    expect(status.status).toBe("failed");
    expect(status.error).toMatch(/not valid UTF-8 text: statement at line 2 \(byte 21\)/);
  });
});
