// Dump options against the real service under the local server (scripts/serve.mjs), each restored with the sqlite3 CLI:
// table selection (tables / excludeTables), schemaOnly, dataOnly into a database that already has the
// schema, and gzip (gunzip and node:zlib give back the plain dump byte for byte). Chinook with gzip
// reports its compression ratio and timings in the output.

import { execFile } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient, DumpOptions, DumpStatus } from "../../scripts/lib/api-client.mjs";
import { compareDatabases, compareWithService, fileSide, formatMismatches } from "../../scripts/lib/compare.mjs";
import { loadDatabase } from "../../scripts/lib/load-database.mjs";
import { querySql, quoteIdentifier, quoteString, restoreDump, runSql, schemaObjects } from "../../scripts/lib/sqlite-cli.mjs";
import { PROJECT_ROOT } from "../../scripts/lib/worker-process.mjs";
import { STORAGE_KINDS, client, workDir, type StorageKind } from "./round-trip";

const execFileAsync = promisify(execFile);

const DATASETS_DIR = resolve(PROJECT_ROOT, process.env.DATASETS_DIR ?? "../shared/datasets");
const CHINOOK = resolve(DATASETS_DIR, "chinook.sqlite");
const chinookPresent = existsSync(CHINOOK);
if (!chinookPresent) console.warn(`e2e: skipping the Chinook gzip dump: ${CHINOOK} does not exist (set DATASETS_DIR)`);

interface Downloaded {
  dumpId: string;
  status: DumpStatus;
  path: string;
  fileName: string;
  headers: Headers;
  bytes: Buffer;
  /** From the start request until the status said completed, as a client sees it. */
  wallMs: number;
}

let downloads = 0;

/** Starts a dump with these options (JSON body), waits for it and saves the file like `curl -OJ`. */
async function dumpWith(api: ApiClient, database: string, options: DumpOptions, dir: string): Promise<Downloaded> {
  const began = performance.now();
  const started = await api.startDump({ database, options: { breathingMs: 0, ...options } });
  const status = await api.waitForDump(started.dumpId, { timeoutMs: 240_000, intervalMs: 50 });
  const wallMs = performance.now() - began;
  expect(status.status, `dump ${started.dumpId} ended ${status.status}: ${status.error}`).toBe("completed");
  const saved = await api.downloadDump(started.dumpId, join(dir, `download-${++downloads}`));
  expect(saved.status).toBe(200);
  const bytes = readFileSync(saved.path);
  expect(status.size).toBe(bytes.length);
  return { dumpId: started.dumpId, status, path: saved.path, fileName: saved.fileName, headers: saved.headers, bytes, wallMs };
}

/** type:name of every schema object of a database file, internal tables left out, sorted. */
async function objectNames(dbPath: string): Promise<string[]> {
  const rows = await querySql(dbPath, "SELECT type || ':' || name AS o FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_autoindex%' ESCAPE '\\' ORDER BY 1");
  return rows.map((r) => String(r.o));
}

async function sequenceRows(dbPath: string): Promise<string[]> {
  const exists = await querySql(dbPath, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'");
  if (!exists.length) return [];
  return (await querySql(dbPath, "SELECT name || '=' || seq AS s FROM sqlite_sequence ORDER BY name")).map((r) => String(r.s));
}

/**
 * The database a selective dump should restore to, built by sqlite3 itself from the full restore:
 * the kept tables, the rows and sqlite_sequence entries of those in `dataOf`, then the kept indexes,
 * triggers and views, all in their original creation order.
 */
async function expectedDatabase(fullDb: string, path: string, keep: { names: string[]; dataOf: string[] }): Promise<string> {
  const kept = (await schemaObjects(fullDb)).filter((o) => o.sql !== null && !o.name.startsWith("sqlite_") && keep.names.includes(o.name));
  const tables = kept.filter((o) => o.type === "table");
  const filled = tables.filter((t) => keep.dataOf.includes(t.name));
  const statements = [`ATTACH ${quoteString(fullDb)} AS full;`];
  for (const table of tables) statements.push(`${table.sql};`);
  for (const table of filled) {
    statements.push(`INSERT INTO main.${quoteIdentifier(table.name)} SELECT * FROM full.${quoteIdentifier(table.name)};`);
  }
  if (tables.some((t) => /AUTOINCREMENT/i.test(t.sql ?? ""))) {
    statements.push("DELETE FROM main.sqlite_sequence;");
    const names = filled.map((t) => quoteString(t.name)).join(",");
    statements.push(`INSERT INTO main.sqlite_sequence SELECT name, seq FROM full.sqlite_sequence WHERE name IN (${names || "NULL"});`);
  }
  // Triggers after the rows, as in a dump, so they do not fire while copying.
  for (const object of kept.filter((o) => o.type !== "table")) statements.push(`${object.sql};`);
  await runSql(path, statements.join("\n"));
  return path;
}

const nameOf = (object: string) => object.slice(object.indexOf(":") + 1);

async function expectSameDatabase(expected: string, actual: string) {
  const comparison = await compareDatabases(fileSide(expected), fileSide(actual));
  expect(formatMismatches(comparison)).toBe("");
  expect(comparison.totalMismatches).toBe(0);
}

/** sqlite3 restores the dump file (plain SQL) into a new database. */
async function restored(download: Downloaded, dbPath: string): Promise<string> {
  await restoreDump(download.path, dbPath);
  return dbPath;
}

async function gunzipCli(path: string): Promise<Buffer> {
  const { stdout } = await execFileAsync("gunzip", ["-c", path], { encoding: "buffer", maxBuffer: 1 << 30 });
  return stdout;
}

function expectGzipDownload(download: Downloaded) {
  expect(download.fileName).toMatch(/^dump_\d{8}-\d{6}\.sql\.gz$/);
  expect(download.headers.get("Content-Type")).toBe("application/gzip");
  expect(download.headers.get("Content-Disposition")).toBe(`attachment; filename="${download.fileName}"`);
  expect([...download.bytes.subarray(0, 3)]).toEqual([0x1f, 0x8b, 8]);
}

const ALL_OBJECTS = [
  "index:authors_by_name",
  "index:books_by_author",
  "index:notes_by_body",
  "table:authors",
  "table:books",
  "table:notes",
  "table:sqlite_sequence",
  "trigger:books_count",
  "view:author_titles",
  "view:prolific_authors",
];

describe("dump options on parent/child tables with AUTOINCREMENT, indexes, a trigger and views", () => {
  const api = client();
  const work = workDir("options");
  const database = `options-${Math.random().toString(36).slice(2, 10)}`;
  let full: Downloaded;
  let fullDb: string;
  let schemaDump: Downloaded;
  let schemaDb: string;

  beforeAll(async () => {
    await api.transaction(
      [
        "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, book_count INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE books (id INTEGER PRIMARY KEY AUTOINCREMENT, author_id INTEGER NOT NULL REFERENCES authors(id), title TEXT, price REAL, cover BLOB)",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "CREATE INDEX authors_by_name ON authors(name)",
        "CREATE INDEX books_by_author ON books(author_id)",
        "CREATE INDEX notes_by_body ON notes(body)",
        // Keeps a count in the parent table, so a restore that fires it again shows in the data.
        "CREATE TRIGGER books_count AFTER INSERT ON books BEGIN UPDATE authors SET book_count = book_count + 1 WHERE id = NEW.author_id; END",
        "CREATE VIEW prolific_authors AS SELECT name, book_count FROM authors WHERE book_count >= 10",
        "CREATE VIEW author_titles AS SELECT a.name AS author, b.title AS title FROM authors AS a JOIN books AS b ON b.author_id = a.id",
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 31)
           INSERT INTO authors (name) SELECT 'author ' || i || ' ''quoted''' FROM n`,
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 301)
           INSERT INTO books (author_id, title, price, cover) SELECT 1 + i % 30, 'book ' || i || char(10) || 'line 2', i * 0.37, randomblob(i % 5) FROM n`,
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
           INSERT INTO notes (body) SELECT 'note ' || i || '; é😀' FROM n`,
        // The sequences stay above the largest ids.
        "DELETE FROM books WHERE id = 301",
        "DELETE FROM authors WHERE id = 31",
      ].map((sql) => ({ sql })),
      { database },
    );
    expect(await api.query("SELECT name, seq FROM sqlite_sequence ORDER BY name", [], { database })).toEqual([
      { name: "authors", seq: 31 },
      { name: "books", seq: 301 },
    ]);

    // The reference: a full plain dump, restored and checked against the service.
    full = await dumpWith(api, database, { storage: "do" }, work.dir);
    fullDb = await restored(full, join(work.dir, "full.db"));
    const comparison = await compareWithService(fullDb, api, { database });
    expect(formatMismatches(comparison)).toBe("");
    expect(await objectNames(fullDb)).toEqual(ALL_OBJECTS);
  });

  afterAll(() => work.remove());

  describe("tables", () => {
    it.each([
      {
        tables: ["authors", "books"],
        objects: ["index:authors_by_name", "index:books_by_author", "table:authors", "table:books", "table:sqlite_sequence", "trigger:books_count", "view:author_titles", "view:prolific_authors"],
        sequences: ["authors=31", "books=301"],
      },
      {
        tables: ["authors", "notes"],
        objects: ["index:authors_by_name", "index:notes_by_body", "table:authors", "table:notes", "table:sqlite_sequence", "view:prolific_authors"],
        sequences: ["authors=31"],
      },
      {
        tables: ["books"],
        objects: ["index:books_by_author", "table:books", "table:sqlite_sequence", "trigger:books_count"],
        sequences: ["books=301"],
      },
      // No AUTOINCREMENT table is chosen: the dump must not touch sqlite_sequence.
      { tables: ["notes"], objects: ["index:notes_by_body", "table:notes"], sequences: [] },
      // A view named in `tables` is kept although a table it reads is left out (the documented rule).
      {
        tables: ["authors", "author_titles"],
        objects: ["index:authors_by_name", "table:authors", "table:sqlite_sequence", "view:author_titles", "view:prolific_authors"],
        sequences: ["authors=31"],
      },
    ])("$tables: only those tables, their indexes and triggers, and the views they support", async ({ tables, objects, sequences }) => {
      const dump = await dumpWith(api, database, { storage: "do", tables }, work.dir);
      expect(dump.status.options).toMatchObject({ tables });
      expect(dump.status.progress.totalTables).toBe(tables.filter((t) => ALL_OBJECTS.includes(`table:${t}`)).length);
      const db = await restored(dump, join(work.dir, `tables-${tables.join("-")}.db`));
      expect(await objectNames(db)).toEqual(objects);
      expect(await sequenceRows(db)).toEqual(sequences);
      const names = objects.map(nameOf);
      const expected = await expectedDatabase(fullDb, join(work.dir, `expected-tables-${tables.join("-")}.db`), { names, dataOf: names });
      await expectSameDatabase(expected, db);
    });
  });

  describe("excludeTables", () => {
    it.each([
      {
        excludeTables: ["books"],
        objects: ["index:authors_by_name", "index:notes_by_body", "table:authors", "table:notes", "table:sqlite_sequence", "view:prolific_authors"],
        sequences: ["authors=31"],
      },
      {
        excludeTables: ["authors", "notes"],
        objects: ["index:books_by_author", "table:books", "table:sqlite_sequence", "trigger:books_count"],
        sequences: ["books=301"],
      },
      // Excluding a view leaves every table, index and trigger.
      {
        excludeTables: ["author_titles"],
        objects: ALL_OBJECTS.filter((o) => o !== "view:author_titles"),
        sequences: ["authors=31", "books=301"],
      },
    ])("$excludeTables: absent with their indexes, triggers and the views reading them", async ({ excludeTables, objects, sequences }) => {
      const dump = await dumpWith(api, database, { storage: "r2", excludeTables }, work.dir);
      expect(dump.status.options).toMatchObject({ excludeTables });
      const text = dump.bytes.toString("utf8");
      for (const name of excludeTables) expect(text).not.toContain(`INSERT INTO "${name}"`);
      const db = await restored(dump, join(work.dir, `exclude-${excludeTables.join("-")}.db`));
      expect(await objectNames(db)).toEqual(objects);
      expect(await sequenceRows(db)).toEqual(sequences);
      const names = objects.map(nameOf);
      const expected = await expectedDatabase(fullDb, join(work.dir, `expected-exclude-${excludeTables.join("-")}.db`), { names, dataOf: names });
      await expectSameDatabase(expected, db);
    });
  });

  describe("schemaOnly and dataOnly", () => {
    beforeAll(async () => {
      schemaDump = await dumpWith(api, database, { storage: "do", schemaOnly: true }, work.dir);
      schemaDb = await restored(schemaDump, join(work.dir, "schema-only.db"));
    });

    it("schemaOnly restores to the same schema with no rows", async () => {
      expect(schemaDump.status.progress.rowsDumped).toBe(0);
      expect(schemaDump.bytes.toString("utf8")).not.toMatch(/^INSERT INTO/m);
      expect(await objectNames(schemaDb)).toEqual(ALL_OBJECTS);
      for (const table of ["authors", "books", "notes", "sqlite_sequence"]) {
        expect(await querySql(schemaDb, `SELECT count(*) AS n FROM ${table}`), table).toEqual([{ n: 0 }]);
      }
      const expected = await expectedDatabase(fullDb, join(work.dir, "expected-schema-only.db"), { names: ALL_OBJECTS.map(nameOf), dataOf: [] });
      await expectSameDatabase(expected, schemaDb);
    });

    /** A data-only dump of `options`, run by sqlite3 in a copy of `base` (the schemaOnly restore unless given). */
    async function restoreDataOnly(
      options: Record<string, unknown>,
      name: string,
      base = schemaDb,
      prepare: (target: string) => Promise<unknown> = async () => undefined,
    ): Promise<{ dump: Downloaded; db: string }> {
      const dump = await dumpWith(api, database, { ...options, dataOnly: true }, work.dir);
      const text = dump.bytes.toString("utf8");
      expect(text.startsWith("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")).toBe(true);
      expect(text.endsWith("COMMIT;\n")).toBe(true);
      // Only the triggers it dropped before the rows are created again.
      expect(text).not.toMatch(/^CREATE (?!TRIGGER )/m);
      const db = join(work.dir, `data-only-${name}.db`);
      copyFileSync(base, db);
      await prepare(db);
      await runSql(db, text);
      return { dump, db };
    }

    it("dataOnly of tables without triggers, restored over the schemaOnly restore, fills exactly those tables", async () => {
      const { dump, db } = await restoreDataOnly({ storage: "do", excludeTables: ["books"] }, "no-books");
      expect(dump.status.progress).toMatchObject({ totalTables: 2, rowsDumped: 30 + 40 });
      const expected = await expectedDatabase(fullDb, join(work.dir, "expected-data-only-no-books.db"), {
        names: ALL_OBJECTS.map(nameOf),
        dataOf: ["authors", "notes"],
      });
      await expectSameDatabase(expected, db);
    });

    it("dataOnly of some tables, restored where the other tables keep their data, leaves their sqlite_sequence rows alone", async () => {
      const { db } = await restoreDataOnly({ storage: "do", excludeTables: ["books"] }, "refresh", fullDb, (target) =>
        runSql(target, "DELETE FROM authors; DELETE FROM notes;"),
      );
      await expectSameDatabase(fullDb, db);
    });

    // books has an AFTER INSERT trigger counting books in authors; a data-only dump drops its tables'
    // triggers before the rows and creates them again after, so the counts are not added twice.
    it.each(STORAGE_KINDS)("dataOnly (storage %s) restored over the schemaOnly restore equals the full dump's restore", async (storage: StorageKind) => {
      const { dump, db } = await restoreDataOnly({ storage }, storage);
      expect(dump.status.progress.rowsDumped).toBe(full.status.progress.rowsDumped);
      await expectSameDatabase(fullDb, db);
    });
  });

  describe("compression gzip", () => {
    it.each(STORAGE_KINDS)("storage %s: gunzip and node:zlib give the plain dump byte for byte, and it restores", async (storage: StorageKind) => {
      const gz = await dumpWith(api, database, { storage, compression: "gzip" }, work.dir);
      expectGzipDownload(gz);
      expect(gz.status.options).toMatchObject({ compression: "gzip", storage });

      const byCli = await gunzipCli(gz.path);
      expect(byCli.length).toBe(full.bytes.length);
      expect(byCli.equals(full.bytes)).toBe(true);
      expect(gunzipSync(gz.bytes).equals(full.bytes)).toBe(true);

      const sqlPath = join(work.dir, `gunzipped-${storage}.sql`);
      writeFileSync(sqlPath, byCli);
      const db = join(work.dir, `gunzipped-${storage}.db`);
      await restoreDump(sqlPath, db);
      const comparison = await compareWithService(db, api, { database });
      expect(formatMismatches(comparison)).toBe("");
    });

    it("combines with table selection and dataOnly", async () => {
      const gz = await dumpWith(api, database, { storage: "do", compression: "gzip", tables: ["authors"], dataOnly: true }, work.dir);
      expectGzipDownload(gz);
      const plain = await dumpWith(api, database, { storage: "do", tables: ["authors"], dataOnly: true }, work.dir);
      expect((await gunzipCli(gz.path)).equals(plain.bytes)).toBe(true);
    });
  });
});

describe.skipIf(!chinookPresent)(`Chinook with gzip${chinookPresent ? "" : ` (skipped: ${CHINOOK} is missing)`}`, () => {
  const api = client();
  const work = workDir("options-chinook");
  const database = `chinook-gzip-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    await loadDatabase(api, CHINOOK, { database });
  });

  afterAll(() => work.remove());

  it.each(STORAGE_KINDS)("storage %s: the gzip dump gunzips to the plain dump and restores to the original file", async (storage: StorageKind) => {
    const plain = await dumpWith(api, database, { storage }, work.dir);
    const gz = await dumpWith(api, database, { storage, compression: "gzip" }, work.dir);
    expectGzipDownload(gz);
    const sql = await gunzipCli(gz.path);
    expect(sql.equals(plain.bytes)).toBe(true);

    const sqlPath = join(work.dir, `chinook-${storage}.sql`);
    writeFileSync(sqlPath, sql);
    const db = join(work.dir, `chinook-${storage}.db`);
    await restoreDump(sqlPath, db);
    const against = await compareDatabases(fileSide(CHINOOK), fileSide(db));
    expect(formatMismatches(against)).toBe("");

    const serverMs = (d: Downloaded) => Date.parse(String(d.status.completedAt)) - Date.parse(String(d.status.startedAt));
    const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
    console.log(
      `Chinook gzip (storage ${storage}): ${mb(plain.bytes.length)} MB SQL -> ${mb(gz.bytes.length)} MB gzip, ` +
        `ratio ${(plain.bytes.length / gz.bytes.length).toFixed(2)}:1 (${((100 * gz.bytes.length) / plain.bytes.length).toFixed(1)}% of plain); ` +
        `plain dump ${plain.wallMs.toFixed(0)} ms (server ${serverMs(plain)} ms), ` +
        `gzip dump ${gz.wallMs.toFixed(0)} ms (server ${serverMs(gz)} ms), ` +
        `gzip throughput ${(plain.bytes.length / 1e6 / (gz.wallMs / 1000)).toFixed(1)} MB of SQL/s`,
    );
  });
});
