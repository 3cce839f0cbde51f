// POST /query, auth, database selection and the JSON errors, through the Worker's fetch handler
// against real local Durable Object storage.

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ORIGIN, TOKEN, api, expectJson, postJson, query, seed, uniqueName } from "./helpers";

async function expectError(response: Response, status: number): Promise<string> {
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = await expectJson<{ error: unknown }>(response, status);
  expect(typeof body.error).toBe("string");
  expect(body.error).not.toBe("");
  return body.error as string;
}

describe("single statements", () => {
  it("round-trips a blob literal, NULL, an integer above 2^53 and quoted text exactly", async () => {
    const db = uniqueName("query");
    await query(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB, n, big INTEGER, s TEXT)");
    const inserted = await query(db, "INSERT INTO t (b, n, big, s) VALUES (X'00FF10', NULL, 9007199254740993, 'it''s\n;x')");
    expect(inserted).toEqual([]);
    const rows = await query(db, "SELECT quote(b) AS b, quote(n) AS n, quote(big) AS big, typeof(big) AS tb, s, b AS raw FROM t");
    expect(rows).toEqual([{ b: "X'00FF10'", n: "NULL", big: "9007199254740993", tb: "integer", s: "it's\n;x", raw: [0, 255, 16] }]);
  });

  it("binds parameters: text, real, null, and booleans as 0/1", async () => {
    const rows = await query(uniqueName("params"), "SELECT ? AS a, ? AS b, ? AS c, ? AS d, typeof(?) AS e", ["x", 1.5, null, true, 2.25]);
    expect(rows).toEqual([{ a: "x", b: 1.5, c: null, d: 1, e: "real" }]);
  });

  it("answers a SQL error with 400 and SQLite's message", async () => {
    const message = await expectError(await postJson(`/query?database=${uniqueName("err")}`, { sql: "SELECT * FROM missing_table" }), 400);
    expect(message).toContain("no such table: missing_table");
  });

  it("creates and queries an FTS5 table", async () => {
    const db = uniqueName("fts");
    await query(db, "CREATE VIRTUAL TABLE docs USING fts5(title, body)");
    await query(db, "INSERT INTO docs (title, body) VALUES (?, ?), (?, ?)", ["one", "durable objects hold sqlite", "two", "workflows run steps"]);
    const rows = await query(db, "SELECT title FROM docs WHERE docs MATCH 'sqlite'");
    expect(rows).toEqual([{ title: "one" }]);
  });
});

describe("transactions", () => {
  it("runs every statement and returns one result per statement", async () => {
    const db = uniqueName("tx");
    const results = await seed(db, [
      "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB, n, big INTEGER)",
      { sql: "INSERT INTO t (b, n, big) VALUES (X'CAFE', ?, 9007199254740993)", params: [null] },
      "INSERT INTO t (b, n, big) VALUES (X'', NULL, -9007199254740993)",
      "SELECT quote(b) AS b, quote(n) AS n, quote(big) AS big FROM t ORDER BY id",
    ]);
    expect(results).toEqual([
      [],
      [],
      [],
      [
        { b: "X'CAFE'", n: "NULL", big: "9007199254740993" },
        { b: "X''", n: "NULL", big: "-9007199254740993" },
      ],
    ]);
  });

  it("applies nothing when one statement fails", async () => {
    const db = uniqueName("txfail");
    await seed(db, ["CREATE TABLE kept (v)", "INSERT INTO kept VALUES (1)"]);
    const response = await postJson(`/query?database=${db}`, {
      transaction: [
        { sql: "INSERT INTO kept VALUES (2)" },
        { sql: "CREATE TABLE created_then_rolled_back (v)" },
        { sql: "UPDATE kept SET v = v + 100" },
        { sql: "INSERT INTO missing_table VALUES (3)" },
      ],
    });
    expect(await expectError(response, 400)).toContain("no such table: missing_table");
    expect(await query(db, "SELECT v FROM kept ORDER BY rowid")).toEqual([{ v: 1 }]);
    expect(await query(db, "SELECT name FROM sqlite_master WHERE name = 'created_then_rolled_back'")).toEqual([]);
  });
});

describe("auth", () => {
  const request = (headers: Record<string, string>) =>
    exports.default.fetch(
      new Request(`${ORIGIN}/query`, { method: "POST", headers, body: JSON.stringify({ sql: "SELECT 1 AS one" }) }),
    );

  it("refuses a request without Authorization with 401 JSON", async () => {
    await expectError(await request({}), 401);
  });

  it("refuses a wrong token, another scheme and a token with a suffix with 401 JSON", async () => {
    await expectError(await request({ Authorization: "Bearer wrong" }), 401);
    await expectError(await request({ Authorization: `Basic ${TOKEN}` }), 401);
    await expectError(await request({ Authorization: `Bearer ${TOKEN}x` }), 401);
    await expectError(await request({ Authorization: "Bearer " }), 401);
  });

  it("accepts the right token", async () => {
    const response = await request({ Authorization: `Bearer ${TOKEN}` });
    expect(await expectJson(response, 200)).toEqual({ result: [{ one: 1 }] });
  });

  it("checks auth before routing, so unknown routes do not leak without a token", async () => {
    await expectError(await exports.default.fetch(`${ORIGIN}/no/such/route`), 401);
  });

  it("serves /health without auth", async () => {
    const response = await exports.default.fetch(`${ORIGIN}/health`);
    expect(await expectJson(response, 200)).toEqual({ result: { status: "ok" } });
  });
});

describe("?database=", () => {
  it("keeps two names in two databases", async () => {
    const [a, b] = [uniqueName("iso-a"), uniqueName("iso-b")];
    await seed(a, ["CREATE TABLE t (v)", "INSERT INTO t VALUES ('from a')"]);
    await seed(b, ["CREATE TABLE t (v)", "INSERT INTO t VALUES ('from b')", "INSERT INTO t VALUES ('again b')"]);
    expect(await query(a, "SELECT v FROM t")).toEqual([{ v: "from a" }]);
    expect(await query(b, "SELECT v FROM t ORDER BY rowid")).toEqual([{ v: "from b" }, { v: "again b" }]);
  });

  it("uses the database named default when none is given", async () => {
    const table = `only_default_${crypto.randomUUID().slice(0, 8)}`;
    await expectJson(await postJson("/query", { sql: `CREATE TABLE ${table} (v)` }), 200);
    const inDefault = await query("default", "SELECT name FROM sqlite_master WHERE name = ?", [table]);
    expect(inDefault).toEqual([{ name: table }]);
    expect(await query(uniqueName("other"), "SELECT name FROM sqlite_master WHERE name = ?", [table])).toEqual([]);
  });

  it.each([
    ["empty", ""],
    ["a space", "a%20b"],
    ["a dot", "a.b"],
    ["a slash", "a%2Fb"],
    ["non-ASCII", "%C3%A9"],
    ["65 characters", "x".repeat(65)],
  ])("refuses a name with %s with 400 naming the parameter", async (_, name) => {
    const message = await expectError(await postJson(`/query?database=${name}`, { sql: "SELECT 1" }), 400);
    expect(message).toMatch(/^database: /);
  });

  it("accepts 64 characters of letters, digits, _ and -", async () => {
    const name = `A-z_09${"x".repeat(58)}`;
    expect(name).toHaveLength(64);
    expect(await query(name, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("refuses a name given twice", async () => {
    await expectError(await postJson("/query?database=a&database=b", { sql: "SELECT 1" }), 400);
  });
});

describe("malformed requests", () => {
  const send = (body: string) =>
    api(`/query?database=malformed`, { method: "POST", headers: { "Content-Type": "application/json" }, body });

  it("refuses a body that is not JSON, or empty", async () => {
    expect(await expectError(await send("{nope"), 400)).toMatch(/JSON/);
    expect(await expectError(await send(""), 400)).toMatch(/JSON/);
  });

  it.each([
    ["an array", "[1]"],
    ["an empty object", "{}"],
    ["a string", '"SELECT 1"'],
  ])("refuses %s as the body with 400", async (_, body) => {
    await expectError(await send(body), 400);
  });

  it("refuses an empty transaction, naming the field", async () => {
    expect(await expectError(await send('{"transaction": []}'), 400)).toContain("transaction");
  });

  // describeIssues writes each issue as "<dot path>: <message>", so the path of the offending
  // field must appear followed by a colon (the generic union message names no path).
  it.each([
    ["sql of the wrong type", '{"sql": 5}', /\bsql: /],
    ["an empty sql", '{"sql": ""}', /\bsql: /],
    ["params that are not an array", '{"sql": "SELECT 1", "params": "a"}', /\bparams: /],
    ["a parameter that is an object", '{"sql": "SELECT ?", "params": [{}]}', /\bparams\.0: /],
    ["an unknown key", '{"sql": "SELECT 1", "extra": 1}', /\bextra\b/],
    ["an unknown key in a transaction statement", '{"transaction": [{"sql": "SELECT 1", "parms": []}]}', /\btransaction\.0\.parms\b/],
    ["a transaction parameter of the wrong type", '{"transaction": [{"sql": "SELECT ?", "params": [[1]]}]}', /\btransaction\.0\.params\.0: /],
  ])("refuses %s with 400 naming the field", async (_, body, field) => {
    expect(await expectError(await send(body), 400)).toMatch(field);
  });
});

describe("routing errors", () => {
  it("answers an unknown route with 404 JSON", async () => {
    await expectError(await api("/no/such/route"), 404);
    await expectError(await api("/query/extra", { method: "POST" }), 404);
  });

  it.each([
    ["GET", "/query"],
    ["PUT", "/query"],
    ["GET", "/export/dump"],
    ["PUT", "/export/dump/20260101-000000-abcdef12/status"],
    ["PATCH", "/export/dump/20260101-000000-abcdef12"],
    ["POST", "/export/dumps"],
  ])("answers %s %s with 405 JSON", async (method, path) => {
    await expectError(await api(path, { method }), 405);
  });

  it("answers a wrong method on /health with 405 JSON without auth", async () => {
    await expectError(await exports.default.fetch(`${ORIGIN}/health`, { method: "POST" }), 405);
  });
});
