import type { Database } from "sql.js";
import { describe, expect, it } from "vitest";
import { sequences } from "../../shared/dump-plan";
import { readChunk } from "../../shared/dump-read";
import {
  chunkSelect,
  createTableStatement,
  DUMP_HEADER,
  dumpFooter,
  dumpPreamble,
  insertColumns,
  insertPrefix,
  literalBytes,
  MAX_STATEMENT_BYTES,
  rowStatements,
} from "../../shared/dump-sql";
import { runSync } from "../../shared/query-program";
import { splitStatements } from "../../shared/sql-splitter";
import type { ChunkResult, KeyCursor, TablePlan } from "../../shared/types";
import { seededRandom } from "../random";
import { openDatabase, rows } from "./sqljs";
import { asSqlDatabase } from "./sqljs-database";
import { tablePlan } from "./table-plan";

// ---------------------------------------------------------------------------------------------
// Test helpers

const decoder = new TextDecoder();

/** The core's chunk reads over the whole table, `limit` rows at a time, as the dump Workflow pages it. */
function dumpRows(db: Database, table: TablePlan, limit: number): { text: string; keys: KeyCursor[] } {
  const sql = asSqlDatabase(db).sql;
  let after: KeyCursor | null = null;
  let text = "";
  const keys: KeyCursor[] = [];
  for (let chunks = 1; ; chunks++) {
    if (chunks > 1000) throw new Error(`${table.name}: still reading after 1000 chunks; the cursor does not advance`);
    const chunk: ChunkResult = runSync(sql, readChunk({ table, after, maxRows: limit, maxBytes: Infinity }));
    text += decoder.decode(chunk.sql);
    if (chunk.rows > 0) keys.push(chunk.lastKey!);
    after = chunk.lastKey;
    if (chunk.done) return { text, keys };
  }
}

/** Runs every statement in a fresh database holding the table; each must fit the statement limit. */
function restore(table: TablePlan, text: string): { db: Database; statements: string[] } {
  const db = openDatabase();
  db.run(table.createSql);
  const statements = splitStatements(text).map((s) => `${s.sql};`);
  for (const statement of statements) {
    expect(Buffer.byteLength(statement, "utf8"), statement.slice(0, 120)).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
    db.run(statement);
  }
  return { db, statements };
}

/** Every value of the table as typeof and hex, in key order. */
function snapshot(db: Database, table: TablePlan): unknown[][] {
  const keyColumns = table.key.kind === "rowid" ? [table.key.column] : table.key.columns;
  const keyList = keyColumns.map((c) => `"${c}"`).join(",");
  const values = ["rowid", ...table.columns]
    .filter((c, i) => i > 0 || table.key.kind === "rowid")
    .map((c) => `typeof("${c}"), hex("${c}")`)
    .join(", ");
  return rows(db, `SELECT ${values} FROM "${table.name}" ORDER BY ${keyList}`);
}

/** Dumps the table, restores the dump, and checks every value came back with its type and bytes. */
function roundTrip(source: Database, table: TablePlan, limit = 2): string[] {
  const { text } = dumpRows(source, table, limit);
  const { db, statements } = restore(table, text);
  const expected = snapshot(source, table);
  const actual = snapshot(db, table);
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    // Comparing the rows whole would print megabytes on failure.
    row.forEach((value, j) => {
      if (value !== expected[i][j]) {
        const show = (x: unknown) => String(x).slice(0, 60) + ` (${String(x).length} chars)`;
        expect.fail(`${table.name} row ${i} value ${j}: got ${show(value)}, want ${show(expected[i][j])}`);
      }
    });
  });
  return statements;
}

/** TEXT given by its bytes, which need not be valid UTF-8. */
class TextBytes {
  constructor(readonly bytes: Uint8Array) {}
}
class SqlExpression {
  constructor(readonly sql: string) {}
}
type Value = string | number | null | Uint8Array | TextBytes | SqlExpression;

function insert(db: Database, table: string, columns: string[], values: Value[]): void {
  const params: (string | number | null | Uint8Array)[] = [];
  const placeholders = values.map((value) => {
    if (value instanceof SqlExpression) return value.sql;
    if (value instanceof TextBytes) {
      params.push(value.bytes);
      return "CAST(? AS TEXT)";
    }
    params.push(value);
    return "?";
  });
  db.run(`INSERT INTO "${table}"(${columns.map((c) => `"${c}"`).join(",")}) VALUES(${placeholders.join(",")})`, params);
}

const encoder = new TextEncoder();
const TEXT_UNIT = `it's "quoted"; é 中文 😀 ' '' ;\n back\\slash\\n 🏳️‍🌈 `;

/** Text of about `bytes` UTF-8 bytes, with quotes, semicolons, multi-byte characters and emoji. */
function textOfBytes(bytes: number, unit = TEXT_UNIT): string {
  const text = unit.repeat(Math.floor(bytes / encoder.encode(unit).length));
  return text;
}

function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** UTF-8 text with NUL bytes in it, which quote() would cut short. */
function nulText(bytes: number): TextBytes {
  const unit = encoder.encode("a\0b'c 😀\0");
  const out = new Uint8Array(Math.floor(bytes / unit.length) * unit.length);
  for (let i = 0; i < out.length; i += unit.length) out.set(unit, i);
  return new TextBytes(out);
}

const KB150 = 150_000;
const MB2 = 2_000_000;
const MB1_5 = 1_500_000;

// ---------------------------------------------------------------------------------------------

describe("statement text", () => {
  const plain = tablePlan({
    name: 'my "table"',
    createSql: 'CREATE TABLE "my ""table"""(id INTEGER PRIMARY KEY, "a b" TEXT, c)',
    columns: ["id", "a b", "c"],
  });
  const withRowid = tablePlan({
    name: "notes",
    createSql: "CREATE TABLE notes(body TEXT)",
    columns: ["body"],
    insertRowid: true,
  });
  const shadowedRowid = tablePlan({
    name: "odd",
    createSql: "CREATE TABLE odd(rowid TEXT, v)",
    columns: ["rowid", "v"],
    insertRowid: true,
    key: { kind: "rowid", column: "_rowid_" },
  });
  const keyed = tablePlan({
    name: "wr",
    createSql: "CREATE TABLE wr(name TEXT, part REAL, body, PRIMARY KEY(name, part)) WITHOUT ROWID",
    columns: ["name", "part", "body"],
    key: { kind: "primaryKey", columns: ["name", "part"] },
  });

  it("createTableStatement ends the CREATE with ;", () => {
    expect(createTableStatement(plain)).toBe(`${plain.createSql};\n`);
  });

  it("insertPrefix quotes names and puts a preserved rowid first", () => {
    expect(insertPrefix(plain)).toBe('INSERT INTO "my ""table"""("id","a b","c") VALUES(');
    expect(insertPrefix(withRowid)).toBe('INSERT INTO "notes"("rowid","body") VALUES(');
    expect(insertPrefix(shadowedRowid)).toBe('INSERT INTO "odd"("_rowid_","rowid","v") VALUES(');
    expect(insertColumns(keyed)).toEqual(["name", "part", "body"]);
  });

  it("chunkSelect reads keys then literals in key order, after the cursor", () => {
    const first = chunkSelect(withRowid, null, 100);
    expect(first.keyWidth).toBe(1);
    expect(first.params).toEqual([]);
    expect(first.sql).toMatch(/^SELECT CASE typeof\("rowid"\).* FROM "notes" ORDER BY "rowid" LIMIT 100$/);
    expect(first.sql.match(/CASE typeof\(/g)).toHaveLength(3); // key, rowid, body

    const next = chunkSelect(withRowid, ["42"], 2.9);
    expect(next.sql).toMatch(/ FROM "notes" WHERE "rowid" > 42 ORDER BY "rowid" LIMIT 2$/);
    expect(chunkSelect(withRowid, null, 0).sql).toMatch(/LIMIT 1$/);

    const composite = chunkSelect(keyed, ["'o''brien'", 2.5], 10);
    expect(composite.keyWidth).toBe(2);
    expect(composite.params).toEqual([2.5]);
    expect(composite.sql).toMatch(/ WHERE \("name","part"\) > \('o''brien',\?\) ORDER BY "name","part" LIMIT 10$/);
  });

  it("rowStatements writes a small row as one INSERT", () => {
    const prefix = insertPrefix(plain);
    expect(rowStatements(plain, prefix, ["1", "'x'", "NULL"], ["1"])).toBe(
      'INSERT INTO "my ""table"""("id","a b","c") VALUES(1,\'x\',NULL);\n',
    );
  });

  it("literalBytes reads TEXT, NUL-bearing TEXT and BLOB literals", () => {
    expect(literalBytes("'it''s é'")).toEqual({ hex: "6974277320C3A9", isText: true });
    expect(literalBytes("CAST(X'610062' AS TEXT)")).toEqual({ hex: "610062", isText: true });
    expect(literalBytes("X'00FF'")).toEqual({ hex: "00FF", isText: false });
    expect(() => literalBytes("12345")).toThrow(/neither TEXT nor BLOB/);
  });

  it("dumpFooter writes sequences, FTS rebuilds and schema objects, then COMMIT", () => {
    expect(dumpFooter(null, [], [])).toBe("COMMIT;\n");
    expect(
      dumpFooter(
        {
          rows: [
            { name: "it's", seq: "9007199254740993" },
            { name: "b", seq: "0" },
          ],
          onlyTables: null,
        },
        ['docs "fts"'],
        [
          { type: "view", name: "v", tableName: "v", sql: "CREATE VIEW v AS SELECT 1" },
          { type: "index", name: "i", tableName: "t", sql: "CREATE INDEX i ON t(a)" },
        ],
      ),
    ).toBe(
      "DELETE FROM sqlite_sequence;\n" +
        "INSERT INTO sqlite_sequence VALUES('it''s',9007199254740993);\n" +
        "INSERT INTO sqlite_sequence VALUES('b',0);\n" +
        'INSERT INTO "docs ""fts"""("docs ""fts""") VALUES(\'rebuild\');\n' +
        "CREATE VIEW v AS SELECT 1;\n" +
        "CREATE INDEX i ON t(a);\n" +
        "COMMIT;\n",
    );
    expect(dumpFooter({ rows: [], onlyTables: null }, [], [])).toBe("DELETE FROM sqlite_sequence;\nCOMMIT;\n");
    expect(dumpFooter({ rows: [{ name: "a", seq: "7" }], onlyTables: ["a", "it's"] }, [], [])).toBe(
      "DELETE FROM sqlite_sequence WHERE name IN ('a','it''s');\nINSERT INTO sqlite_sequence VALUES('a',7);\nCOMMIT;\n",
    );
  });

  it("dumpPreamble drops triggers only for data-only dumps", () => {
    const objects = [
      { type: "trigger" as const, name: 'touch "it"', tableName: "t", sql: "CREATE TRIGGER ..." },
      { type: "index" as const, name: "i", tableName: "t", sql: "CREATE INDEX i ON t(a)" },
    ];
    expect(dumpPreamble(objects, false)).toBe(DUMP_HEADER);
    expect(dumpPreamble(objects, true)).toBe(DUMP_HEADER + 'DROP TRIGGER IF EXISTS "touch ""it""";\n');
  });
});

describe("a whole dump restores in a correct SQLite", () => {
  it("restores rows, exact integers, reals, sequences, indexes, views and triggers", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "items",
      createSql: "CREATE TABLE items(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, price REAL, big INTEGER, raw)",
      columns: ["id", "name", "price", "big", "raw"],
      columnTypes: ["INTEGER", "TEXT", "REAL", "INTEGER", ""],
    });
    source.run(table.createSql);
    source.run("CREATE INDEX items_name ON items(name)");
    source.run("CREATE VIEW cheap AS SELECT * FROM items WHERE price < 1");
    source.run("CREATE TRIGGER items_touch AFTER UPDATE ON items BEGIN SELECT 1; END");
    insert(source, "items", ["name", "price", "big", "raw"], ["it's\nx", 0.1, new SqlExpression("9007199254740993"), new SqlExpression("10.0")]);
    insert(source, "items", ["name", "price", "big", "raw"], [null, 1 / 3, new SqlExpression("-9223372036854775808"), new Uint8Array([0, 255])]);
    insert(source, "items", ["name", "price", "big", "raw"], [nulText(11), new SqlExpression("1e999"), 0, new SqlExpression("10.0")]);
    insert(source, "items", ["id", "name", "price"], [1000, "last", new SqlExpression("-1e999")]);

    const sequenceRows = runSync(asSqlDatabase(source).sql, sequences());
    const objects = rows(source, "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type <> 'table' ORDER BY rowid").map(
      ([type, name, tableName, sql]) => ({ type, name, tableName, sql }) as Parameters<typeof dumpFooter>[2][number],
    );
    const text =
      DUMP_HEADER + createTableStatement(table) + dumpRows(source, table, 3).text + dumpFooter({ rows: sequenceRows, onlyTables: null }, [], objects);

    expect(text).toContain("CAST(X'610062276320F09F988000' AS TEXT)"); // quote() would stop at the NUL
    const target = openDatabase();
    target.exec(text);
    expect(snapshot(target, table)).toEqual(snapshot(source, table));
    expect(rows(target, "SELECT typeof(raw) FROM items ORDER BY id")).toEqual([["real"], ["blob"], ["real"], ["null"]]);
    expect(rows(target, "SELECT quote(big) FROM items WHERE id = 1")).toEqual([["9007199254740993"]]);
    expect(rows(target, "SELECT name, seq FROM sqlite_sequence")).toEqual([["items", 1000]]);
    expect(rows(target, "SELECT type, name FROM sqlite_master ORDER BY name")).toEqual(
      rows(source, "SELECT type, name FROM sqlite_master ORDER BY name"),
    );
  });

  it("pages a WITHOUT ROWID table with a text+REAL key one row at a time, in order, without repeats", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "readings",
      createSql: "CREATE TABLE readings(sensor TEXT, at REAL, v, PRIMARY KEY(sensor, at)) WITHOUT ROWID",
      columns: ["sensor", "at", "v"],
      key: { kind: "primaryKey", columns: ["sensor", "at"] },
    });
    source.run(table.createSql);
    const sensors = ["a", "a'b", "😀", "B", ""];
    const times = [0.1, 1 / 3, -1e300, 2 ** 60, 5e-324];
    for (const sensor of sensors) for (const at of times) insert(source, "readings", ["sensor", "at", "v"], [sensor, at, at]);
    insert(source, "readings", ["sensor", "at", "v"], [nulText(22), 1.5, null]);
    const { keys } = dumpRows(source, table, 1);
    expect(keys).toHaveLength(sensors.length * times.length + 1);
    roundTrip(source, table, 1);
  });
});

// Generous: megabyte values are dumped and restored through sql.js on a shared machine.
describe("rows larger than one statement", { timeout: 60_000 }, () => {
  const text150k = textOfBytes(KB150);
  const text2m = textOfBytes(MB2);
  const blob1m5 = randomBytes(MB1_5, 1);

  it("splits rows of a plain rowid table into statements under the limit", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "plain",
      createSql: "CREATE TABLE plain(id INTEGER PRIMARY KEY, title TEXT, body TEXT, data BLOB, extra, price REAL)",
      columns: ["id", "title", "body", "data", "extra", "price"],
      columnTypes: ["INTEGER", "TEXT", "TEXT", "BLOB", "", "REAL"],
    });
    source.run(table.createSql);
    const columns = ["title", "body", "data", "extra", "price"];
    insert(source, "plain", columns, ["small", "row", new Uint8Array([1, 2]), 10.0, 0.1]);
    insert(source, "plain", columns, ["150k", text150k, null, null, 1 / 3]);
    insert(source, "plain", columns, ["2m", text2m, null, null, null]);
    insert(source, "plain", columns, ["blob", null, blob1m5, null, null]);
    insert(source, "plain", columns, ["nul", nulText(KB150), null, null, null]);
    insert(source, "plain", columns, [text150k, nulText(KB150), blob1m5, text150k, new SqlExpression("1e999")]);
    insert(source, "plain", columns, ["untyped blob", "x", null, randomBytes(KB150, 2), null]);
    insert(source, "plain", columns, ["untyped nul", "x", null, nulText(KB150), null]);

    const statements = roundTrip(source, table);
    expect(statements.filter((s) => s.startsWith("UPDATE")).length).toBeGreaterThan(100);
    expect(statements.filter((s) => s.startsWith("INSERT"))).toHaveLength(8);
  });

  it("keeps a preserved rowid and splits rows of a table without INTEGER PRIMARY KEY", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "notes",
      createSql: "CREATE TABLE notes(body TEXT, n INTEGER)",
      columns: ["body", "n"],
      columnTypes: ["TEXT", "INTEGER"],
      insertRowid: true,
    });
    source.run(table.createSql);
    insert(source, "notes", ["rowid", "body", "n"], [5, text150k, 1]);
    insert(source, "notes", ["rowid", "body", "n"], [new SqlExpression("4611686018427387904"), text2m, 2]);
    insert(source, "notes", ["rowid", "body", "n"], [-3, "small", 3]);
    roundTrip(source, table);
  });

  it("splits rows of a STRICT table with TEXT, BLOB and ANY columns", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "strict_t",
      createSql: "CREATE TABLE strict_t(id INTEGER PRIMARY KEY, t TEXT, b BLOB, a ANY, i INTEGER) STRICT",
      columns: ["id", "t", "b", "a", "i"],
      columnTypes: ["INTEGER", "TEXT", "BLOB", "ANY", "INTEGER"],
      strict: true,
    });
    source.run(table.createSql);
    const columns = ["t", "b", "a", "i"];
    insert(source, "strict_t", columns, [text2m, null, null, 1]);
    insert(source, "strict_t", columns, [null, blob1m5, null, 2]);
    insert(source, "strict_t", columns, [null, null, text150k, 3]);
    insert(source, "strict_t", columns, [null, null, randomBytes(KB150, 3), 4]);
    insert(source, "strict_t", columns, [nulText(KB150), null, nulText(KB150), 5]);
    insert(source, "strict_t", columns, [text150k, blob1m5, text150k, new SqlExpression("9007199254740993")]);
    insert(source, "strict_t", columns, ["small", new Uint8Array([0]), 0.5, 6]);
    roundTrip(source, table);
  });

  it("splits rows of a WITHOUT ROWID table keyed by text and integer", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "parts",
      createSql: "CREATE TABLE parts(name TEXT, part INTEGER, body TEXT, data BLOB, PRIMARY KEY(name, part)) WITHOUT ROWID",
      columns: ["name", "part", "body", "data"],
      columnTypes: ["TEXT", "INTEGER", "TEXT", "BLOB"],
      key: { kind: "primaryKey", columns: ["name", "part"] },
    });
    source.run(table.createSql);
    const columns = ["name", "part", "body", "data"];
    insert(source, "parts", columns, ["a", 1, text150k, null]);
    insert(source, "parts", columns, ["a", 2, text2m, blob1m5]);
    insert(source, "parts", columns, ["o'brien 😀", new SqlExpression("9007199254740993"), nulText(KB150), null]);
    insert(source, "parts", columns, [nulText(11), -1, text150k, null]);
    insert(source, "parts", columns, ["small", 0, "x", new Uint8Array([7])]);
    roundTrip(source, table);
  });

  it("keeps non-numeric text in NUMERIC, INTEGER and REAL affinity columns as TEXT", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "num",
      createSql: "CREATE TABLE num(id INTEGER PRIMARY KEY, v NUMERIC, w INTEGER, r REAL)",
      columns: ["id", "v", "w", "r"],
      columnTypes: ["INTEGER", "NUMERIC", "INTEGER", "REAL"],
    });
    source.run(table.createSql);
    const numericLooking = "0012abc" + "1234567890".repeat(KB150 / 10);
    insert(source, "num", ["v", "w", "r"], [numericLooking, null, null]);
    insert(source, "num", ["v", "w", "r"], [null, numericLooking, "1e5" + "x".repeat(KB150)]);
    insert(source, "num", ["v", "w", "r"], ["0012", "12", "1.5"]); // small: converted by affinity on both sides
    expect(rows(source, "SELECT typeof(v), typeof(w), typeof(r) FROM num ORDER BY id")).toEqual([
      ["text", "null", "null"],
      ["null", "text", "text"],
      ["integer", "integer", "real"],
    ]);
    roundTrip(source, table);
  });

  it("splits a row of 100 mid-size columns", () => {
    const source = openDatabase();
    const names = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const table = tablePlan({
      name: "wide",
      createSql: `CREATE TABLE wide(${names.map((n, i) => `${n} ${i % 2 ? "BLOB" : "TEXT"}`).join(", ")})`,
      columns: names,
      columnTypes: names.map((_, i) => (i % 2 ? "BLOB" : "TEXT")),
      insertRowid: true,
    });
    source.run(table.createSql);
    const values = names.map((_, i) => (i % 2 ? randomBytes(1_500 + i * 20, i) : textOfBytes(3_000 + i * 10)));
    insert(source, "wide", names, values);
    insert(source, "wide", names, values.map((v, i) => (i % 3 ? v : null)));
    const statements = roundTrip(source, table);
    expect(statements.length).toBeGreaterThan(2);
  });

  const docs = tablePlan({
    name: "docs",
    createSql: "CREATE TABLE docs(path TEXT PRIMARY KEY, a TEXT, b TEXT) WITHOUT ROWID",
    columns: ["path", "a", "b"],
    columnTypes: ["TEXT", "TEXT", "TEXT"],
    key: { kind: "primaryKey", columns: ["path"] },
  });

  it("leaves room for a long text key in every UPDATE", () => {
    const source = openDatabase();
    source.run(docs.createSql);
    insert(source, "docs", ["path", "a", "b"], ["k".repeat(40_000), text150k, null]);
    roundTrip(source, docs);
  });

  it("keeps the key in the INSERT when it is larger than the other values", () => {
    const source = openDatabase();
    source.run(docs.createSql);
    insert(source, "docs", ["path", "a", "b"], ["p".repeat(45_000), "a".repeat(40_000), "b".repeat(40_000)]);
    roundTrip(source, docs);
  });

  it("refuses a row whose key alone leaves no room", () => {
    const prefix = insertPrefix(docs);
    const key = `'${"k".repeat(99_990)}'`;
    expect(() => rowStatements(docs, prefix, [key, `'${"a".repeat(10_000)}'`, "NULL"], [key])).toThrow(/primary key/);
  });

  it("splits rows of a WITHOUT ROWID table keyed by a REAL", () => {
    const source = openDatabase();
    const table = tablePlan({
      name: "by_real",
      createSql: "CREATE TABLE by_real(k REAL PRIMARY KEY, body TEXT) WITHOUT ROWID",
      columns: ["k", "body"],
      columnTypes: ["REAL", "TEXT"],
      key: { kind: "primaryKey", columns: ["k"] },
    });
    source.run(table.createSql);
    insert(source, "by_real", ["k", "body"], [1 / 3, text150k]);
    insert(source, "by_real", ["k", "body"], [0.1, text150k]);
    roundTrip(source, table);
  });
});

/** TEXT from hex bytes. */
function textHex(hex: string): TextBytes {
  return new TextBytes(Uint8Array.from(Buffer.from(hex, "hex")));
}

/** About `bytes` bytes of text that is not valid UTF-8: a stray FF, an encoded surrogate, a cut sequence, quotes. */
function invalidText(bytes: number): TextBytes {
  const unit = Buffer.concat([Buffer.from("ok ' "), Buffer.from("FF20EDA080C3A920E282", "hex"), Buffer.from("'';\n")]);
  const out = new Uint8Array(Math.max(1, Math.floor(bytes / unit.length)) * unit.length);
  for (let i = 0; i < out.length; i += unit.length) out.set(unit, i);
  return new TextBytes(out);
}

/** A new database holding the planned table, empty. */
function sourceTable(plan: Parameters<typeof tablePlan>[0]): { source: Database; table: TablePlan } {
  const source = openDatabase();
  const table = tablePlan(plan);
  source.run(table.createSql);
  return { source, table };
}

describe("text that is not valid UTF-8", { timeout: 60_000 }, () => {
  it("writes such text as its bytes and keeps a real U+FFFD as text", () => {
    const { source, table } = sourceTable({
      name: "t",
      createSql: "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, w)",
      columns: ["id", "v", "w"],
    });
    const cases = ["FF", "61EDA08062", "E282", "C0AF", "F4908080", "EFBFBD", "EFBFBDFF", "27FF27", "0DFF"];
    for (const hex of cases) insert(source, "t", ["v", "w"], [textHex(hex), textHex(hex)]);
    insert(source, "t", ["v", "w"], ["plain \uFFFD text", null]);
    const { text } = dumpRows(source, table, 3);
    expect(text).toContain("VALUES(1,CAST(X'FF' AS TEXT),CAST(X'FF' AS TEXT));");
    expect(text).toContain("VALUES(2,CAST(X'61EDA08062' AS TEXT),");
    expect(text).toContain("VALUES(6,'\uFFFD','\uFFFD');"); // valid UTF-8: the literal is exact
    expect(text).toContain("VALUES(10,'plain \uFFFD text',NULL);");
    roundTrip(source, table);
    expect(rows(source, "SELECT count(*) FROM t WHERE typeof(v) = 'text'")).toEqual([[cases.length + 1]]);
  });

  it("keeps such text exact in rows split into an INSERT and UPDATEs, and in values read in pieces", () => {
    const { source, table } = sourceTable({
      name: "big",
      createSql: "CREATE TABLE big(id INTEGER PRIMARY KEY, a TEXT, b, s TEXT)",
      columns: ["id", "a", "b", "s"],
      columnTypes: ["INTEGER", "TEXT", "", "TEXT"],
    });
    insert(source, "big", ["a", "b", "s"], [invalidText(KB150), "small", textHex("FF")]);
    insert(source, "big", ["a", "b", "s"], [invalidText(MB1_5), invalidText(KB150), null]);
    insert(source, "big", ["a", "b", "s"], [null, invalidText(11), "x"]);
    const statements = roundTrip(source, table);
    expect(statements.filter((s) => s.startsWith("UPDATE")).length).toBeGreaterThan(10);
  });

  it("keeps such text exact in a STRICT table whose split TEXT values are appended as text", () => {
    const { source, table } = sourceTable({
      name: "strict_t",
      createSql: "CREATE TABLE strict_t(id INTEGER PRIMARY KEY, t TEXT) STRICT",
      columns: ["id", "t"],
      columnTypes: ["INTEGER", "TEXT"],
      strict: true,
    });
    insert(source, "strict_t", ["t"], [invalidText(KB150)]);
    insert(source, "strict_t", ["t"], [invalidText(20)]);
    roundTrip(source, table);
  });

  it("pages a WITHOUT ROWID table by text keys that are not valid UTF-8, without repeats or gaps", () => {
    const { source, table } = sourceTable({
      name: "keyed",
      createSql: "CREATE TABLE keyed(name TEXT, part INTEGER, body TEXT, PRIMARY KEY(name, part)) WITHOUT ROWID",
      columns: ["name", "part", "body"],
      columnTypes: ["TEXT", "INTEGER", "TEXT"],
      key: { kind: "primaryKey", columns: ["name", "part"] },
    });
    // FF and FE both reach JavaScript as U+FFFD: only their bytes tell the keys apart.
    for (const name of ["FF", "FE", "EFBFBD", "61FF", "61FE", "62"]) {
      for (const part of [1, 2]) insert(source, "keyed", ["name", "part", "body"], [textHex(name), part, textHex(name)]);
    }
    insert(source, "keyed", ["name", "part", "body"], [textHex("FD"), 1, invalidText(KB150)]);
    for (const limit of [1, 2, 5]) {
      const { keys } = dumpRows(source, table, limit);
      if (limit === 1) expect(keys).toHaveLength(13);
      roundTrip(source, table, limit);
    }
  });
});
