// TEXT that is not valid UTF-8 (a stray FF, an encoded surrogate ED A0 80, a cut sequence), through
// both halves: files read for a restore (sqlite3 .dump writes such bytes raw inside a literal) and
// dumps of such values, judged with sql.js and with the real sqlite3 CLI.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dumpPlan } from "../../shared/dump-plan";
import { readChunk } from "../../shared/dump-read";
import { createTableStatement, DUMP_HEADER, DUMP_TRAILER } from "../../shared/dump-sql";
import { runSync, selectAll } from "../../shared/query-program";
import { applyStatements, beginRestore, type ExclusiveAccess } from "../../shared/restore-apply";
import { classifyStatement, readStatements, type SplitStatement } from "../../shared/sql-splitter";
import { utf8Length } from "../../shared/sql-text";
import { EscapingUtf8Decoder, escapedTextHex } from "../../shared/utf8-escape";
import { seededRandom } from "../random";
import { sqlJsDatabase, type SqlJsDatabase } from "./sqljs-database";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex").toUpperCase();
const bytesOf = (...parts: Array<string | number[]>) =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p)))));
const reader = (data: Uint8Array) => async (offset: number, length: number) => data.slice(offset, offset + length);
const access: ExclusiveAccess = { exclusive: (work) => work(), flush: async () => undefined };

/** Every statement of the file, read `sliceBytes` at a time as a restore reads it. */
async function readAll(file: Uint8Array, sliceBytes: number): Promise<SplitStatement[]> {
  const statements: SplitStatement[] = [];
  let position = { offset: 0, line: 1 };
  for (;;) {
    const read = await readStatements(reader(file), position, file.length, sliceBytes, 1_000_000);
    statements.push(...read.statements);
    position = read.next;
    if (read.endOfFile) return statements;
  }
}

/** Applies a file to a new database the way a restore does: its runnable statements, through the restore core. */
async function restoreFile(file: Uint8Array): Promise<SqlJsDatabase> {
  const target = sqlJsDatabase();
  await beginRestore(target, access, "r", "empty");
  const statements = (await readAll(file, 4096)).filter((s) => classifyStatement(s.sql).action === "run").map((s) => ({ sql: s.sql }));
  const outcome = await applyStatements(target, access, { restoreId: "r", from: 0, to: file.length, foreignKeys: false, statements });
  expect(outcome).toMatchObject({ status: "applied" });
  return target;
}

function cells(database: SqlJsDatabase, table: string): unknown[][] {
  return runSync(database.sql, selectAll(`SELECT rowid, typeof(v), hex(v) FROM "${table}" ORDER BY rowid`));
}

/** Values that are not valid UTF-8, and two that are (a real U+FFFD, plain text), as hex. */
const INVALID_VALUES = ["FF", "61EDA08062", "E282", "C0AF", "F4908080", "2720FF2027", "3BFE0A3B", "EFBFBDFF", "EFBFBD", "616263"];

describe("EscapingUtf8Decoder", () => {
  it("keeps every byte of random input, however it is cut", () => {
    const random = seededRandom(12);
    const pieces = [[0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98, 0x80], [0xc3, 0xa9], [0x41], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xdc]];
    for (let round = 0; round < 200; round++) {
      const input = new Uint8Array(Array.from({ length: 1 + Math.floor(random() * 30) }, () => pieces[Math.floor(random() * pieces.length)]).flat());
      const decoder = new EscapingUtf8Decoder();
      let text = "";
      for (let at = 0; at < input.length; ) {
        const cut = Math.min(input.length, at + 1 + Math.floor(random() * 5));
        text += decoder.decode(input.subarray(at, cut));
        at = cut;
      }
      text += decoder.decode(new Uint8Array(0), true);
      expect(escapedTextHex(text)).toBe(hex(input));
      expect(utf8Length(text)).toBe(input.length);
    }
  });

  it("decodes valid UTF-8 exactly as TextDecoder does", () => {
    const valid = new TextEncoder().encode("plain é 中文 😀 \uFFFD \uD800\uDC80 end");
    const decoder = new EscapingUtf8Decoder();
    const text = decoder.decode(valid.subarray(0, 20)) + decoder.decode(valid.subarray(20)) + decoder.decode(new Uint8Array(0), true);
    expect(text).toBe(new TextDecoder().decode(valid));
    expect(decoder.sawInvalidBytes).toBe(false);
    expect(escapedTextHex(text)).toBe(hex(valid));
  });
});

describe("readStatements on a file with bytes that are not UTF-8", () => {
  const file = bytesOf(
    "CREATE TABLE t(v TEXT);\n",
    "INSERT INTO t VALUES('a", [0xff], "b');\n",
    "INSERT INTO t VALUES('", [0x27, 0x27, 0xed, 0xa0, 0x80, 0x3b], "', 'ok ", [0xe2, 0x82], "');\n",
    "UPDATE t SET v = 'é", [0xfe], "' WHERE v = 'x';\n",
    "INSERT INTO t VALUES(X'00FF');\n",
  );

  it("writes each string literal that holds them as CAST(X'…' AS TEXT), read in slices of any size", async () => {
    const whole = await readAll(file, file.length);
    expect(whole.map((s) => s.sql)).toEqual([
      "CREATE TABLE t(v TEXT)",
      "INSERT INTO t VALUES(CAST(X'61FF62' AS TEXT))",
      "INSERT INTO t VALUES(CAST(X'27EDA0803B' AS TEXT), CAST(X'6F6B20E282' AS TEXT))",
      "UPDATE t SET v = CAST(X'C3A9FE' AS TEXT) WHERE v = 'x'",
      "INSERT INTO t VALUES(X'00FF')",
    ]);
    // Offsets count the file's bytes, so a restore can resume at any statement's end.
    expect(whole.map((s) => file[s.end - 1])).toEqual(whole.map(() => 0x3b));
    expect(whole.map((s) => file[s.start])).toEqual([0x43, 0x49, 0x49, 0x55, 0x49]);
    expect(whole.at(-1)!.end).toBe(file.length - 1);
    for (const sliceBytes of [1, 2, 3, 7, 30]) {
      expect(await readAll(file, sliceBytes), `slices of ${sliceBytes} bytes`).toEqual(whole);
    }
  });

  it("refuses them outside the string literals of data statements", async () => {
    const cases = [
      bytesOf("CREATE TABLE t(v TEXT DEFAULT '", [0xff], "');"),
      bytesOf('INSERT INTO "t', [0xff], '" VALUES(1);'),
      bytesOf("INSERT INTO t VALUES(1 /* ", [0xff], " */);"),
      bytesOf("INSERT INTO t VALUES(X'", [0xff], "');"),
    ];
    for (const bad of cases) {
      await expect(readAll(bad, 1000)).rejects.toThrow(/not valid UTF-8 text: statement at line 1 \(byte 0\) has bytes that are not UTF-8/);
    }
  });
});

const SQLITE3 = process.env.SQLITE3 ?? "sqlite3";
const sqlite3Present = spawnSync(SQLITE3, ["-version"]).status === 0;
if (!sqlite3Present) console.warn(`unit: skipping the sqlite3 CLI cases: ${SQLITE3} cannot be run`);

describe.skipIf(!sqlite3Present)(`with the sqlite3 CLI${sqlite3Present ? "" : " (skipped: no sqlite3)"}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "invalid-utf8-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A database file written by sqlite3 itself, holding INVALID_VALUES (one with a CR, which .dump writes with replace()). */
  function cliDatabase(name: string): string {
    const path = join(dir, `${name}.db`);
    const values = [...INVALID_VALUES, "41FF0D0A42"].map((h) => `(CAST(X'${h}' AS TEXT))`).join(",");
    execFileSync(SQLITE3, [path], { input: `CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ${values};` });
    return path;
  }

  it("restores sqlite3's .dump of such text with every byte", async () => {
    const path = cliDatabase("source");
    const dump = new Uint8Array(execFileSync(SQLITE3, [path, ".dump"]));
    expect(Buffer.from(dump).includes(Buffer.from([0x27, 0x61, 0xed, 0xa0, 0x80, 0x62, 0x27]))).toBe(true); // raw bytes in a literal
    const target = await restoreFile(dump);
    const source = sqlJsDatabase(new Uint8Array(readFileSync(path)));
    expect(cells(target, "t")).toEqual(cells(source, "t"));
    expect(cells(target, "t")).toContainEqual([2, "text", "61EDA08062"]);
  });

  it("dumps such text so that sqlite3 restores every byte", () => {
    const path = cliDatabase("dumped");
    const source = sqlJsDatabase(new Uint8Array(readFileSync(path)));
    const plan = runSync(source.sql, dumpPlan("d", 0));
    const table = plan.tables[0];
    const rows = runSync(source.sql, readChunk({ table, after: null, maxRows: 100, maxBytes: Infinity }));
    const text = new TextDecoder().decode(rows.sql);
    expect(text).toContain("CAST(X'61EDA08062' AS TEXT)");
    const dumpPath = join(dir, "ours.sql");
    writeFileSync(dumpPath, DUMP_HEADER + createTableStatement(table) + text + DUMP_TRAILER);
    const restored = join(dir, "restored.db");
    execFileSync(SQLITE3, [restored], { input: readFileSync(dumpPath) });
    const back = sqlJsDatabase(new Uint8Array(readFileSync(restored)));
    expect(cells(back, "t")).toEqual(cells(source, "t"));
  });
});
