// Configured sources (DUMP_SOURCES in vitest.config.ts): a user's Durable Object class made with
// withSqlDump, picked by name or by id, and D1 databases; dumped and restored through the HTTP API.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { joinPlanPages } from "../../shared/plan-pages";
import { D1DumpDatabase } from "../../storage/d1-database";
import {
  api,
  downloadText,
  expectJson,
  postJson,
  runDumpToCompletion,
  runRestore,
  snapshotOf,
  uniqueName,
  type DumpStarted,
  type Row,
} from "./helpers";

type Stub = DurableObjectStub<import("./classes/starbase-like").StarbaseLike>;

function starbase(name: string): Stub {
  return env.STARBASE_LIKE.get(env.STARBASE_LIKE.idFromName(name));
}

function contentOf(stub: Stub) {
  return snapshotOf((sql, params) => stub.executeQuery(sql, params) as Promise<Row[]>);
}

function d1Content(db: D1Database) {
  return snapshotOf(async (sql, params = []) => (await db.prepare(sql).bind(...params).all<Row>()).results);
}

async function dumpOf(where: string, options: Record<string, unknown> = {}): Promise<{ dumpId: string; text: string }> {
  const started = (await expectJson<{ result: DumpStarted }>(await postJson(`/export/dump?${where}`, options), 202)).result;
  await runDumpToCompletion(started.dumpId);
  return { dumpId: started.dumpId, text: await downloadText(started.dumpId) };
}

async function restoreInto(where: string, body: Record<string, unknown>): Promise<string> {
  const response = await postJson(`/import/dump?${where}`, body);
  const { restoreId } = (await expectJson<{ result: { restoreId: string } }>(response, 202)).result;
  const status = await runRestore(restoreId);
  expect(status.status, status.error ?? "").toBe("completed");
  return restoreId;
}

/** Values a dump must carry exactly: 64-bit integers, REALs (±Infinity too), NUL text, BLOBs, FTS5, foreign keys. */
const SCHEMA_AND_ROWS = [
  "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
  "CREATE TABLE books (id INTEGER PRIMARY KEY AUTOINCREMENT, author INTEGER REFERENCES authors(id), title TEXT, big INTEGER, price REAL, raw BLOB, note)",
  "CREATE INDEX books_author ON books(author)",
  "CREATE VIRTUAL TABLE book_search USING fts5(title, body)",
  "INSERT INTO authors VALUES (1, 'Ada'), (2, 'Grace')",
  `INSERT INTO books (author, title, big, price, raw, note) VALUES
     (1, 'Notes', 9007199254740993, 0.1, X'00FF10', 'a' || char(0) || 'b'),
     (2, 'Compilers', -9223372036854775808, 1e999, X'', 10.0),
     (2, 'Cobol', 9223372036854775807, -1e999, NULL, 5e-324)`,
  "INSERT INTO book_search VALUES ('Notes', 'on the analytical engine'), ('Compilers', 'A-0 and FLOW-MATIC')",
];

describe("a Durable Object class as a source", () => {
  it("dumps an instance picked by name and restores it into another picked by id, exactly", async () => {
    const name = uniqueName("tenant");
    const source = starbase(name);
    await source.executeTransaction(SCHEMA_AND_ROWS);
    const targetName = uniqueName("copy");
    const target = starbase(targetName);
    await target.executeQuery("INSERT INTO tmp_cache VALUES ('held', 'before')"); // exists, and is replaced

    const { dumpId, text } = await dumpOf(`source=starbase&name=${name}`);
    expect(text).toContain("INSERT INTO \"books\"(\"id\",\"author\",\"title\",\"big\",\"price\",\"raw\",\"note\") VALUES(1,1,'Notes',9007199254740993,");
    const status = (await expectJson<{ result: { database: string; source: unknown } }>(await api(`/export/dump/${dumpId}/status`), 200)).result;
    const id = env.STARBASE_LIKE.idFromName(name).toString();
    expect(status.source).toEqual({ source: "starbase", type: "durable-object", id, name });
    expect(status.database).toBe(`source:starbase/${id}`);
    const listed = await expectJson<{ result: { dumps: Array<{ dumpId: string }> } }>(await api(`/export/dumps?source=starbase&id=${id}`), 200);
    expect(listed.result.dumps.map((d) => d.dumpId)).toEqual([dumpId]);
    const byName = await expectJson<{ result: { dumps: Array<{ dumpId: string }> } }>(await api(`/export/dumps?source=starbase&name=${name}`), 200);
    expect(byName.result.dumps.map((d) => d.dumpId)).toEqual([dumpId]);

    const targetId = env.STARBASE_LIKE.idFromName(targetName).toString();
    await restoreInto(`source=starbase&id=${targetId}`, { dumpId, mode: "replace" });
    expect(await contentOf(target)).toEqual(await contentOf(source));
    expect(await target.executeQuery("SELECT typeof(price) AS t, price FROM books ORDER BY id")).toEqual([
      { t: "real", price: 0.1 },
      { t: "real", price: Infinity },
      { t: "real", price: -Infinity },
    ]);
  });

  it("leaves key-value storage out of a dump, and a restore leaves the target's keys alone", async () => {
    const name = uniqueName("kv");
    const source = starbase(name);
    await source.executeQuery("INSERT INTO tmp_cache VALUES ('row', 'in SQL')");
    await source.putSetting("kv-only-key", "kv-only-value");
    const { dumpId, text } = await dumpOf(`source=starbase&name=${name}`);
    expect(text).toContain("'in SQL'");
    expect(text).not.toContain("kv-only");

    const targetName = uniqueName("kv-target");
    const target = starbase(targetName);
    await target.putSetting("target-key", { kept: true });
    await restoreInto(`source=starbase&name=${targetName}`, { dumpId, mode: "replace" });
    expect(await target.getSetting("target-key")).toEqual({ kept: true });
    expect(await target.getSetting("kv-only-key")).toBeUndefined();
    expect(await target.executeQuery("SELECT * FROM tmp_cache")).toEqual([{ key: "row", value: "in SQL" }]);
  });

  it("refuses an id that is malformed, of another namespace, or of an instance nobody wrote to, and writes nothing to it", async () => {
    const refused = async (where: string, status: number) =>
      (await expectJson<{ error: string }>(await postJson(`/export/dump?${where}`, {}), status)).error;
    expect(await refused("source=starbase&id=xyz", 400)).toMatch(/^id: id must be 64 hex digits/);
    const otherNamespace = env.DATABASE.idFromName("x").toString();
    expect(await refused(`source=starbase&id=${otherNamespace}`, 400)).toContain('is not the id of an instance of source "starbase"');

    const neverWritten = env.STARBASE_LIKE.newUniqueId();
    expect(await refused(`source=starbase&id=${neverWritten}`, 404)).toBe(
      `source "starbase" has no instance with id ${neverWritten}: nothing was ever stored in it`,
    );
    const restore = await postJson(`/import/dump?source=starbase&id=${neverWritten}`, { dumpId: "20990101-000000-deadbeef" });
    expect(restore.status).toBe(404);
    const stub = env.STARBASE_LIKE.get(neverWritten);
    expect(await stub.sqlDumpExists()).toBe(false);
    expect(await stub.executeQuery("SELECT count(*) AS n FROM tmp_cache")).toEqual([{ n: 0 }]);
  });

  it("answers 4xx for a source that is not configured, a wrong combination of parameters, and 403 for a read-only target", async () => {
    const cases: Array<[string, number, string | RegExp]> = [
      ["source=nope&name=a", 404, 'no source "nope" is configured (configured: starbase, starbase-readonly, analytics, analytics-copy, unbound)'],
      ["source=starbase", 400, 'source "starbase" holds Durable Objects: give name or id to pick one'],
      ["source=starbase&name=a&id=" + "0".repeat(64), 400, "give either name or id, not both"],
      ["database=x&source=starbase&name=a", 400, "give either database or source, not both"],
      ["name=a", 400, "name and id pick an instance of a source: give source too"],
      ["source=analytics&name=a", 400, 'source "analytics" is a D1 database: give no name or id'],
      ["source=bad%20name", 400, /^source: source must be 1-64 characters/],
      ["source=unbound", 500, 'source "unbound" names binding NOT_BOUND, which this Worker does not have'],
    ];
    for (const [where, status, message] of cases) {
      const { error } = await expectJson<{ error: string }>(await postJson(`/export/dump?${where}`, {}), status);
      if (typeof message === "string") expect(error, where).toBe(message);
      else expect(error, where).toMatch(message);
    }

    const query = await expectJson<{ error: string }>(await postJson("/query?source=starbase&name=a", { sql: "SELECT 1" }), 400);
    expect(query.error).toBe("source: /query works on this service's own databases (?database=), not on configured sources");

    const name = uniqueName("readonly");
    await starbase(name).executeQuery("INSERT INTO tmp_cache VALUES ('a', 'b')");
    const { dumpId } = await dumpOf(`source=starbase-readonly&name=${name}`);
    const { error } = await expectJson<{ error: string }>(await postJson(`/import/dump?source=starbase-readonly&name=${name}`, { dumpId }), 403);
    expect(error).toBe('source "starbase-readonly" is read-only: it cannot be restored into');
    const upload = await api(`/import/dump?source=starbase-readonly&name=${name}`, { method: "POST", headers: { "Content-Type": "application/sql" }, body: "SELECT 1;" });
    expect(upload.status).toBe(403);
  });
});

describe("D1 as a source and a restore target", () => {
  it("dumps a D1 database exactly (FTS5, 64-bit integers, ±Infinity, NUL text, BLOBs) and restores it into another D1 database", async () => {
    await env.ANALYTICS.batch(SCHEMA_AND_ROWS.map((sql) => env.ANALYTICS.prepare(sql)));
    const { dumpId, text } = await dumpOf("source=analytics");
    expect(text).not.toContain("_cf_");
    expect(text.indexOf('CREATE TABLE authors')).toBeLessThan(text.indexOf("CREATE TABLE books"));
    expect(text).toContain(",9007199254740993,");
    expect(text).toContain(",1e999,");
    expect(text).toContain("CAST(X'610062' AS TEXT)");
    expect(text).toContain("INSERT INTO \"book_search\"");

    await restoreInto("source=analytics-copy", { dumpId });
    expect(await d1Content(env.ANALYTICS_COPY)).toEqual(await d1Content(env.ANALYTICS));
    const reals = "SELECT typeof(price) AS t, quote(big) AS big, price, typeof(note) AS n FROM books ORDER BY id";
    expect((await env.ANALYTICS_COPY.prepare(reals).all()).results).toEqual((await env.ANALYTICS.prepare(reals).all()).results);
    const search = "SELECT rowid, title FROM book_search WHERE book_search MATCH 'engine'";
    expect((await env.ANALYTICS_COPY.prepare(search).all()).results).toEqual([{ rowid: 1, title: "Notes" }]);
    expect(await env.ANALYTICS_COPY.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '\\_dumpsnap%' ESCAPE '\\'").first()).toEqual({ n: 0 });
  });

  it("splits a restore step into D1 batches, and names the statement that failed", async () => {
    const target = "source=analytics-copy";
    const rows = Array.from({ length: 1_200 }, (_, i) => `INSERT INTO many VALUES (${i}, '${"x".repeat(i % 50)}');`).join("\n");
    const file = `CREATE TABLE many (id INTEGER PRIMARY KEY, pad TEXT);\n${rows}\nINSERT INTO many VALUES (5, 'duplicate');\n`;
    const response = await api(`/import/dump?${target}&mode=replace`, { method: "POST", headers: { "Content-Type": "application/sql" }, body: file });
    const { restoreId } = (await expectJson<{ result: { restoreId: string } }>(response, 202)).result;
    const status = await runRestore(restoreId, "errored");
    expect(status.status).toBe("failed");
    expect(status.failedStatement).toMatchObject({ number: 1_202, sql: "INSERT INTO many VALUES (5, 'duplicate')" });
    expect(status.failedStatement!.message).toContain("UNIQUE constraint failed");
    // Steps into D1 hold at most 500 statements, each step one D1 batch: the two before the failing one are kept.
    expect(await env.ANALYTICS_COPY.prepare("SELECT count(*) AS n FROM many").first()).toEqual({ n: 999 });
    expect(status.error).toContain("The target keeps the 1000 statements applied before it (up to byte");

    const withoutDuplicate = file.slice(0, file.lastIndexOf("INSERT INTO many VALUES (5,"));
    const good = await api(`/import/dump?${target}&mode=replace`, { method: "POST", headers: { "Content-Type": "application/sql" }, body: withoutDuplicate });
    const second = (await expectJson<{ result: { restoreId: string } }>(good, 202)).result.restoreId;
    expect((await runRestore(second)).status).toBe("completed");
    expect(await env.ANALYTICS_COPY.prepare("SELECT count(*) AS n, sum(length(pad)) AS pad FROM many").first()).toEqual({ n: 1_200, pad: 29_400 });
  });

  it("keeps a plan too large for a step's result in pages in the D1 database, and forgets them", async () => {
    const db = env.ANALYTICS_COPY;
    const columns = Array.from({ length: 12 }, (_, i) => `column_number_${i} TEXT`).join(", ");
    const names = Array.from({ length: 500 }, (_, i) => `wide_table_${i}`);
    await db.batch(names.map((name) => db.prepare(`CREATE TABLE ${name} (id INTEGER PRIMARY KEY, ${columns})`)));
    const d1 = new D1DumpDatabase(db);
    const started = await d1.sqlDumpStart("source:analytics-copy", "20990101-000000-pagedd1", {}, null);
    if (!("pages" in started)) throw new Error("expected the plan in pages");
    expect(started).toMatchObject({ tables: expect.any(Number), snapshot: null });
    const pages = [];
    for (let page = 1; page <= started.pages; page++) pages.push(await d1.sqlDumpPlanPage("20990101-000000-pagedd1", page));
    const plan = joinPlanPages(pages);
    expect(plan.tables.map((t) => t.name)).toEqual(expect.arrayContaining(names));
    expect(plan.tables).toHaveLength(started.tables);
    expect(await d1.sqlDumpForgetPlan("20990101-000000-pagedd1")).toBe(started.pages);
    expect(await db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = '_dumpsnap_plan_pages'").first()).toEqual({ n: 0 });
    await db.batch(names.map((name) => db.prepare(`DROP TABLE ${name}`)));
  });
});
