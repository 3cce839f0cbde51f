import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  CALLBACK_URL,
  DATABASE_NAME,
  describeIssues,
  DUMP_ID,
  DUMP_OPTIONS,
  LIST_QUERY,
  STATEMENT,
  querySchemaFor,
} from "../../shared/schemas";

/** The one-line message the API would answer with, or null when the input is accepted. */
function problem(schema: v.GenericSchema, input: unknown): string | null {
  const parsed = v.safeParse(schema, input);
  return parsed.success ? null : describeIssues(parsed.issues);
}

describe("DUMP_OPTIONS", () => {
  it("fills in defaults for an empty body", () => {
    expect(v.parse(DUMP_OPTIONS, {})).toEqual({
      storage: "auto",
      deleteAfterDownload: false,
      schemaOnly: false,
      dataOnly: false,
      compression: "none",
      snapshot: true,
    });
  });

  it("accepts every documented option", () => {
    const options = {
      storage: "r2",
      breathingMs: 0,
      callbackUrl: "https://example.com/hooks/dump?x=1",
      retention: "1 hour",
      deleteAfterDownload: true,
      tables: ["users", "orders"],
      excludeTables: ["logs"],
      schemaOnly: true,
      dataOnly: false,
      compression: "gzip",
      snapshot: false,
    };
    expect(v.parse(DUMP_OPTIONS, options)).toEqual(options);
    expect(v.parse(DUMP_OPTIONS, { storage: "do", breathingMs: 3_600_000 }).breathingMs).toBe(3_600_000);
  });

  it.each([
    [{ unknownOption: 1 }, /unknownOption/],
    [{ storage: "s3" }, /storage: storage must be "auto", "r2" or "do"/],
    [{ storage: "R2" }, /storage/],
    [{ breathingMs: -1 }, /breathingMs/],
    [{ breathingMs: 1.5 }, /breathingMs: breathingMs must be an integer/],
    [{ breathingMs: 3_600_001 }, /breathingMs/],
    [{ breathingMs: "100" }, /breathingMs/],
    [{ callbackUrl: "ftp://example.com/x" }, /callbackUrl: callback URL must use http or https/],
    [{ callbackUrl: "not a url" }, /callbackUrl: callback URL must be an absolute URL/],
    [{ retention: "soon" }, /retention/],
    [{ retention: 3600 }, /retention/],
    [{ deleteAfterDownload: "yes" }, /deleteAfterDownload/],
    [{ tables: [] }, /tables: give at least one table/],
    [{ tables: [""] }, /tables/],
    [{ excludeTables: "users" }, /excludeTables/],
    [{ schemaOnly: true, dataOnly: true }, /schemaOnly and dataOnly cannot both be true/],
    [{ compression: "zip" }, /compression/],
    [{ snapshot: "no" }, /snapshot/],
    [null, /./],
    ["storage=r2", /./],
    [[1], /./],
  ])("rejects %j", (input, message) => {
    expect(problem(DUMP_OPTIONS, input)).toMatch(message);
  });
});

describe("CALLBACK_URL", () => {
  it.each(["https://example.com/hook", "http://localhost:8787/callback", "https://example.com:8443/a/b?c=d#e", "HTTPS://EXAMPLE.COM"])(
    "accepts %s",
    (url) => {
      expect(problem(CALLBACK_URL, url)).toBeNull();
    },
  );

  it.each([
    ["ftp://example.com/file", /http or https/],
    ["file:///etc/passwd", /http or https/],
    ["javascript:alert(1)", /http or https/],
    ["ws://example.com", /http or https/],
    ["https://user:secret@example.com/hook", /credentials/],
    ["https://user@example.com/hook", /credentials/],
    ["https://:secret@example.com/hook", /credentials/],
    ["not a url", /absolute URL/],
    ["/relative/path", /absolute URL/],
    ["", /absolute URL/],
    [`https://example.com/${"a".repeat(2030)}`, /at most 2048 characters/],
    [42, /./],
  ])("rejects %s", (url, message) => {
    expect(problem(CALLBACK_URL, url)).toMatch(message);
  });

  it("allows exactly 2048 characters", () => {
    const prefix = "https://example.com/";
    expect(problem(CALLBACK_URL, prefix + "a".repeat(2048 - prefix.length))).toBeNull();
    expect(problem(CALLBACK_URL, prefix + "a".repeat(2049 - prefix.length))).toMatch(/2048/);
  });
});

describe("querySchemaFor", () => {
  it("accepts a statement and a transaction", () => {
    expect(v.parse(querySchemaFor({ sql: "SELECT 1" }), { sql: "SELECT 1" })).toEqual({ sql: "SELECT 1" });
    expect(v.parse(STATEMENT, { sql: "SELECT ?, ?, ?, ?", params: [1, "a", null, true] })).toEqual({
      sql: "SELECT ?, ?, ?, ?",
      params: [1, "a", null, true],
    });
    const transaction = { transaction: [{ sql: "INSERT INTO t VALUES(?)", params: [1.5] }, { sql: "SELECT 1" }] };
    expect(v.parse(querySchemaFor(transaction), transaction)).toEqual(transaction);
  });

  it.each([
    [{}],
    [{ sql: "" }],
    [{ sql: 1 }],
    [{ params: [1] }],
    [{ sql: "SELECT 1", params: "1" }],
    [{ sql: "SELECT ?", params: [{ a: 1 }] }],
    [{ sql: "SELECT ?", params: [[1]] }],
    [{ sql: "SELECT 1", extra: true }],
    [{ sql: "SELECT 1", transaction: [{ sql: "SELECT 1" }] }],
    [{ transaction: [] }],
    [{ transaction: [{ sql: "" }] }],
    [{ transaction: [{ sql: "SELECT 1", other: 1 }] }],
    [{ transaction: { sql: "SELECT 1" } }],
    [[{ sql: "SELECT 1" }]],
    [null],
    ["SELECT 1"],
  ])("rejects %j", (input) => {
    expect(problem(querySchemaFor(input), input)).not.toBeNull();
  });
});

describe("DATABASE_NAME", () => {
  it.each(["main", "a", "my-db_2", "A".repeat(64)])("accepts %s", (name) => {
    expect(problem(DATABASE_NAME, name)).toBeNull();
  });

  it.each(["", "A".repeat(65), "a b", "a/b", "../x", "db.sqlite", "ü", "a\n"])("rejects %j", (name) => {
    expect(problem(DATABASE_NAME, name)).toMatch(/database must be/);
  });
});

describe("DUMP_ID", () => {
  it("takes Workflow instance ids of at most 100 characters", () => {
    expect(problem(DUMP_ID, "20240305-070809-a1b2c3d4")).toBeNull();
    expect(problem(DUMP_ID, "_x")).toBeNull();
    expect(problem(DUMP_ID, "a".repeat(100))).toBeNull();
    for (const id of ["", "-x", "a".repeat(101), "a/b", "a.b", "a b"]) expect(problem(DUMP_ID, id), id).not.toBeNull();
  });
});

describe("LIST_QUERY", () => {
  it("turns the limit into a number, 20 by default", () => {
    expect(v.parse(LIST_QUERY, {})).toEqual({ limit: 20 });
    expect(v.parse(LIST_QUERY, { limit: "100", status: "completed", database: "main", cursor: "abc" })).toEqual({
      limit: 100,
      status: "completed",
      database: "main",
      cursor: "abc",
    });
  });

  it.each([{ limit: "0" }, { limit: "101" }, { limit: "-1" }, { limit: "ten" }, { status: "running" }, { database: "a b" }])(
    "rejects %j",
    (query) => {
      expect(problem(LIST_QUERY, query)).not.toBeNull();
    },
  );
});

describe("describeIssues", () => {
  it("names the field and keeps at most three issues", () => {
    const parsed = v.safeParse(DUMP_OPTIONS, { storage: "x", breathingMs: -1, compression: "y", retention: "z", schemaOnly: 1 });
    expect(parsed.success).toBe(false);
    const message = describeIssues(parsed.issues!);
    expect(message.split("; ")).toHaveLength(3);
    expect(message).toMatch(/^storage: /);
  });
});
