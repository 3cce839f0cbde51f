import initSqlJs from "sql.js";
import { describe, expect, it } from "vitest";
import {
  SqlSplitter,
  classifyStatement,
  exactRealLiterals,
  fitStatement,
  readStatements,
  splitStatements,
  unquoteIdentifier,
  type SplitStatement,
} from "../../shared/sql-splitter";

const SQL = await initSqlJs();
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).length;

/** Statements that exercise every token form; several contain `;` where it does not end anything. */
const SAMPLE = [
  "\uFEFFPRAGMA foreign_keys=OFF;",
  "BEGIN TRANSACTION;",
  `CREATE TABLE "we;ird ""name"""(id INTEGER PRIMARY KEY, [col;1] TEXT, \`col;2\` BLOB, note TEXT DEFAULT 'x;y');`,
  `INSERT INTO "we;ird ""name"""("id",[col;1],\`col;2\`,note) VALUES(1,'it''s; here',X'3B00FF','-- not a comment');`,
  "INSERT INTO \"we;ird \"\"name\"\"\" VALUES(2,'/* not a comment; */','' , 'é;ü 😀');",
  "-- a comment; with a semicolon\nINSERT INTO \"we;ird \"\"name\"\"\" VALUES(3, /* inline; comment */ 'a', NULL, 'b'); /* trailing *; **/",
  "CREATE TABLE log(msg TEXT);",
  [
    "CREATE TRIGGER tr AFTER INSERT ON log BEGIN",
    "  INSERT INTO log VALUES('nested;');",
    "  UPDATE log SET msg = CASE WHEN msg = 'x' THEN 'END;' ELSE msg END;",
    "END;",
  ].join("\n"),
  "create temp trigger tr2 before delete on log begin select 1; end;",
  "CREATE VIEW v AS SELECT * FROM log;",
  "INSERT INTO log VALUES('multi\nline;\ntext');",
  ";;",
  "COMMIT;",
].join("\n");

const EXPECTED_SQL = [
  "PRAGMA foreign_keys=OFF",
  "BEGIN TRANSACTION",
  `CREATE TABLE "we;ird ""name"""(id INTEGER PRIMARY KEY, [col;1] TEXT, \`col;2\` BLOB, note TEXT DEFAULT 'x;y')`,
  `INSERT INTO "we;ird ""name"""("id",[col;1],\`col;2\`,note) VALUES(1,'it''s; here',X'3B00FF','-- not a comment')`,
  "INSERT INTO \"we;ird \"\"name\"\"\" VALUES(2,'/* not a comment; */','' , 'é;ü 😀')",
  "INSERT INTO \"we;ird \"\"name\"\"\" VALUES(3, /* inline; comment */ 'a', NULL, 'b')",
  "CREATE TABLE log(msg TEXT)",
  [
    "CREATE TRIGGER tr AFTER INSERT ON log BEGIN",
    "  INSERT INTO log VALUES('nested;');",
    "  UPDATE log SET msg = CASE WHEN msg = 'x' THEN 'END;' ELSE msg END;",
    "END",
  ].join("\n"),
  "create temp trigger tr2 before delete on log begin select 1; end",
  "CREATE VIEW v AS SELECT * FROM log",
  "INSERT INTO log VALUES('multi\nline;\ntext')",
  "COMMIT",
];

function sqlOf(statements: SplitStatement[]) {
  return statements.map((s) => s.sql);
}

describe("SqlSplitter", () => {
  it("finds statement ends through every quoting form, comment and trigger body", () => {
    expect(sqlOf(splitStatements(SAMPLE))).toEqual(EXPECTED_SQL);
  });

  it("agrees with SQLite's own parser on where each statement ends", () => {
    // sql.js prepares one statement at a time from the rest of the text, as sqlite3_prepare does.
    const db = new SQL.Database();
    const fromSqlite: string[] = [];
    for (const statement of db.iterateStatements(SAMPLE.replace("\uFEFF", "").replace("BEGIN TRANSACTION;", "").replace("COMMIT;", ""))) {
      fromSqlite.push(statement.getSQL().trim().replace(/;$/, ""));
      statement.step();
    }
    const ours = sqlOf(splitStatements(SAMPLE)).filter((s) => s !== "BEGIN TRANSACTION" && s !== "COMMIT");
    // SQLite keeps comments in front of a statement as part of its text; we drop them.
    expect(ours).toEqual(fromSqlite.map((s) => s.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, "")));
    db.close();
  });

  it("reports byte offsets and lines that point at each statement in the UTF-8 file", () => {
    const file = encoder.encode(SAMPLE);
    const decoder = new TextDecoder();
    const statements = splitStatements(SAMPLE);
    for (const s of statements) {
      const text = decoder.decode(file.subarray(s.start, s.end));
      expect(text.startsWith(s.sql)).toBe(true);
      expect(text.slice(s.sql.length).trim()).toBe(";");
      expect(decoder.decode(file.subarray(0, s.start)).split("\n").length).toBe(s.line);
      expect(decoder.decode(file.subarray(0, s.end)).split("\n").length).toBe(s.endLine);
    }
    expect(statements.at(-1)!.end).toBe(file.length);
  });

  it("gives the same statements whatever offset the input is cut at", () => {
    const whole = splitStatements(SAMPLE);
    for (let cut = 0; cut <= SAMPLE.length; cut++) {
      const splitter = new SqlSplitter();
      const got = [...splitter.push(SAMPLE.slice(0, cut)), ...splitter.push(SAMPLE.slice(cut)), ...splitter.finish()];
      expect(got, `cut at ${cut}`).toEqual(whole);
    }
  });

  it("gives the same statements when fed one character at a time", () => {
    const splitter = new SqlSplitter();
    const got: SplitStatement[] = [];
    for (const ch of SAMPLE) got.push(...splitter.push(ch));
    got.push(...splitter.finish());
    expect(got).toEqual(splitStatements(SAMPLE));
  });

  it("returns an unterminated last statement only at the end of input, and nothing for trailing comments", () => {
    const splitter = new SqlSplitter();
    expect(sqlOf(splitter.push("SELECT 1; SELECT 2"))).toEqual(["SELECT 1"]);
    expect(splitter.pendingText).toBe("SELECT 2");
    expect(sqlOf(splitter.finish())).toEqual(["SELECT 2"]);
    expect(splitStatements("SELECT 1; -- done\n/* really */\n")).toHaveLength(1);
    expect(splitStatements("  \n;;\n")).toEqual([]);
  });

  it("keeps a trigger open until ;END; even with END inside its body", () => {
    const trigger = "CREATE TRIGGER t1 AFTER UPDATE ON a BEGIN SELECT CASE WHEN 1 THEN 2 END; SELECT 'END'; END";
    expect(sqlOf(splitStatements(`${trigger}; SELECT 3;`))).toEqual([trigger, "SELECT 3"]);
    // EXPLAIN CREATE TRIGGER and CREATE TEMPORARY TRIGGER follow the same rule.
    expect(splitStatements("EXPLAIN CREATE TRIGGER x AFTER INSERT ON a BEGIN SELECT 1; END; SELECT 2;")).toHaveLength(2);
    expect(splitStatements("CREATE TEMPORARY TRIGGER x AFTER INSERT ON a BEGIN SELECT 1; END; SELECT 2;")).toHaveLength(2);
    // A table named trigger is not a trigger.
    expect(splitStatements('CREATE TABLE "trigger"(a); SELECT 2;')).toHaveLength(2);
  });

  it("resumes at any statement's end with the same remaining statements", () => {
    const whole = splitStatements(SAMPLE);
    const file = encoder.encode(SAMPLE);
    for (const [i, s] of whole.entries()) {
      const rest = new TextDecoder().decode(file.subarray(s.end));
      const resumed = new SqlSplitter(s.end, s.endLine);
      const got = [...resumed.push(rest), ...resumed.finish()];
      expect(got).toEqual(whole.slice(i + 1));
    }
  });
});

describe("readStatements", () => {
  const file = encoder.encode(SAMPLE);
  const reader = (data: Uint8Array) => async (offset: number, length: number) => data.slice(offset, offset + length);

  it("reads the whole file slice by slice, cutting bytes anywhere, even inside a UTF-8 character", async () => {
    const whole = splitStatements(SAMPLE);
    for (const sliceBytes of [1, 2, 3, 5, 7, 16, 61, 200, 10_000]) {
      const got: SplitStatement[] = [];
      let position = { offset: 0, line: 1 };
      for (let steps = 0; ; steps++) {
        expect(steps).toBeLessThan(1000);
        const read = await readStatements(reader(file), position, file.length, sliceBytes, 1_000_000);
        got.push(...read.statements);
        position = read.next;
        if (read.endOfFile) break;
      }
      expect(got, `slices of ${sliceBytes} bytes`).toEqual(whole);
    }
  });

  it("reads more than a slice when one statement is longer than a slice", async () => {
    const long = `INSERT INTO t VALUES('${"x".repeat(5000)}'); SELECT 1;`;
    const data = encoder.encode(long);
    const read = await readStatements(reader(data), { offset: 0, line: 1 }, data.length, 100, 1_000_000);
    expect(read.statements[0].sql.length).toBe(long.indexOf(";"));
  });

  it("refuses a statement longer than the limit, and text that is not UTF-8", async () => {
    const long = encoder.encode(`SELECT '${"x".repeat(5000)}';`);
    await expect(readStatements(reader(long), { offset: 0, line: 1 }, long.length, 100, 1000)).rejects.toThrow(/longer than 1000 bytes/);
    const invalid = new Uint8Array([...encoder.encode("SELECT '"), 0xff, 0xfe, ...encoder.encode("';")]);
    await expect(readStatements(reader(invalid), { offset: 0, line: 1 }, invalid.length, 100, 1000)).rejects.toThrow(/not valid UTF-8/);
  });
});

describe("classifyStatement", () => {
  it.each([
    ["BEGIN TRANSACTION", "skip"],
    ["begin immediate", "skip"],
    ["COMMIT", "skip"],
    ["END TRANSACTION", "skip"],
    ["SAVEPOINT a", "skip"],
    ["RELEASE SAVEPOINT a", "skip"],
    ["ROLLBACK", "refuse"],
    ["ROLLBACK TO a", "refuse"],
    ["PRAGMA defer_foreign_keys=ON", "skip"],
    ["PRAGMA writable_schema=ON", "refuse"],
    ["PRAGMA foreign_keys", "run"],
    ["PRAGMA user_version=3", "run"],
    ["CREATE TABLE sqlite_sequence(name,seq)", "skip"],
    ['CREATE TABLE IF NOT EXISTS "_cf_KV"(key TEXT PRIMARY KEY, value BLOB)', "skip"],
    ["INSERT INTO _cf_KV VALUES('a', X'00')", "skip"],
    ["INSERT INTO sqlite_sequence VALUES('t', 5)", "run"],
  ])("%s -> %s", (sql, action) => {
    expect(classifyStatement(sql).action).toBe(action);
  });

  it("reads PRAGMA foreign_keys in every spelling", () => {
    for (const sql of ["PRAGMA foreign_keys=OFF", "pragma FOREIGN_KEYS = 0", "PRAGMA main.foreign_keys='off'", "PRAGMA foreign_keys(false)", "PRAGMA foreign_keys = no"]) {
      expect(classifyStatement(sql), sql).toEqual({ action: "foreign-keys", enabled: false });
    }
    for (const sql of ["PRAGMA foreign_keys=ON", "PRAGMA foreign_keys = 1", "PRAGMA foreign_keys=yes", "PRAGMA foreign_keys=true"]) {
      expect(classifyStatement(sql), sql).toEqual({ action: "foreign-keys", enabled: true });
    }
  });

  it("names the table an INSERT or CREATE TABLE writes", () => {
    expect(classifyStatement('INSERT INTO "we;ird ""name"""("id") VALUES(1)')).toEqual({ action: "run", table: 'we;ird "name"' });
    expect(classifyStatement("INSERT OR REPLACE INTO main.[x y] VALUES(1)")).toEqual({ action: "run", table: "x y" });
    expect(classifyStatement("REPLACE INTO `q` VALUES(1)")).toEqual({ action: "run", table: "q" });
    expect(classifyStatement("CREATE TABLE IF NOT EXISTS t2(a)")).toEqual({ action: "run", table: "t2" });
    expect(classifyStatement("CREATE VIRTUAL TABLE ft USING fts5(a)")).toEqual({ action: "run", table: "ft" });
    expect(classifyStatement("CREATE INDEX i ON t(a)")).toEqual({ action: "run", table: null });
    expect(classifyStatement("DELETE FROM sqlite_sequence")).toEqual({ action: "run", table: null, onlyIfTableExists: "sqlite_sequence" });
  });

  it("tells apart INSERTs whose heads only start alike (the last head is remembered)", () => {
    const table = (sql: string) => (classifyStatement(sql) as { table: string | null }).table;
    const sequence = ["INSERT INTO t VALUES(1)", "INSERT INTO t2 VALUES(1)", "INSERT INTO t VALUES(2)", 'INSERT INTO "t""x" VALUES(1)', 'INSERT INTO "t" VALUES(1)', "INSERT INTO t.u VALUES(1)", "INSERT INTO [t] VALUES(1)", "INSERT INTO [t]x VALUES(1)"];
    expect(sequence.map(table)).toEqual(["t", "t2", "t", 't"x', "t", "u", "t", "t"]);
    expect(classifyStatement("INSERT INTO _cf_KV VALUES(1)").action).toBe("skip");
    expect(classifyStatement("INSERT INTO t VALUES(3)")).toEqual({ action: "run", table: "t" });
  });

  it("unquotes every identifier form", () => {
    expect(unquoteIdentifier('"a""b"')).toBe('a"b');
    expect(unquoteIdentifier("[a b]")).toBe("a b");
    expect(unquoteIdentifier("`a``b`")).toBe("a`b");
    expect(unquoteIdentifier("'a''b'")).toBe("a'b");
    expect(unquoteIdentifier("plain")).toBe("plain");
  });
});

describe("fitStatement", () => {
  const LIMIT = 100_000;

  function rowsOf(db: InstanceType<typeof SQL.Database>, table: string) {
    return db.exec(`SELECT typeof(id), id, typeof(v), quote(v) FROM ${table} ORDER BY id`)[0]?.values ?? [];
  }

  it("cuts a multi-row INSERT over the limit into INSERTs under it with the same rows", () => {
    const values: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const tricky = ["'),(x'", "'a,b'", "'(('", "X'28292C'", "1.5e-7", "NULL", `'${"é".repeat(i % 17)}'`, "-- no\n'c'", "/* ),( */ 7"][i % 9];
      values.push(`(${i}, ${tricky})`);
    }
    const sql = `INSERT INTO t (id, v) VALUES ${values.join(",\n")} ON CONFLICT(id) DO UPDATE SET v = excluded.v`;
    expect(bytes(sql)).toBeGreaterThan(LIMIT);
    const fitted = fitStatement(sql, LIMIT);
    if (!fitted.ok) throw new Error(fitted.reason);
    expect(fitted.statements.length).toBeGreaterThan(1);
    for (const piece of fitted.statements) {
      expect(bytes(piece)).toBeLessThanOrEqual(LIMIT);
      expect(piece.startsWith("INSERT INTO t (id, v) VALUES (")).toBe(true);
      expect(piece.endsWith(" ON CONFLICT(id) DO UPDATE SET v = excluded.v")).toBe(true);
    }
    const whole = new SQL.Database();
    const cut = new SQL.Database();
    for (const db of [whole, cut]) db.run("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
    whole.run(sql);
    for (const piece of fitted.statements) cut.run(piece);
    expect(rowsOf(cut, "t")).toEqual(rowsOf(whole, "t"));
    expect(rowsOf(cut, "t")).toHaveLength(10_000);
  });

  it("packs rows up to the limit", () => {
    const row = `('${"x".repeat(98)}')`; // 102 bytes
    const sql = `INSERT INTO t VALUES${Array(50).fill(row).join(",")}`;
    const fitted = fitStatement(sql, 20 + 3 * 103);
    expect(fitted.ok && fitted.statements.map(bytes)).toEqual([...Array(16).fill(20 + 3 * 102 + 2), 20 + 2 * 102 + 1]);
  });

  it("leaves statements under the limit alone", () => {
    expect(fitStatement("INSERT INTO t VALUES(1),(2)", LIMIT)).toEqual({ ok: true, statements: ["INSERT INTO t VALUES(1),(2)"] });
  });

  it("explains what it cannot cut", () => {
    const big = "x".repeat(LIMIT);
    const single = fitStatement(`INSERT INTO t VALUES(1),('${big}')`, LIMIT);
    expect(single.ok).toBe(false);
    expect(!single.ok && single.reason).toMatch(/row 2 of its VALUES alone/);
    const select = fitStatement(`INSERT INTO t SELECT 1 UNION ALL VALUES(2),('${big}')`, LIMIT);
    expect(!select.ok && select.reason).toMatch(/not a multi-row INSERT/);
    const update = fitStatement(`UPDATE t SET v = '${big}'`, LIMIT);
    expect(!update.ok && update.reason).toMatch(/over the 100000-byte statement limit/);
  });
});

describe("exactRealLiterals", () => {
  const marker = (value: number) => `<${value}>`;

  it("replaces decimal REAL literals outside strings, names and comments in data statements only", () => {
    const sql = `INSERT INTO "t1.5"(a, [b 2.5]) VALUES(1.9799999999999999822, -.5, 1e5, 3, 0x1F, '2.5', X'2E35', 7 /* 8.5 */, 1.)`;
    expect(exactRealLiterals(sql, marker)).toBe(
      `INSERT INTO "t1.5"(a, [b 2.5]) VALUES(<1.98>, -<0.5>, <100000>, 3, 0x1F, '2.5', X'2E35', 7 /* 8.5 */, <1>)`,
    );
    expect(exactRealLiterals("UPDATE t SET x = 2.50 WHERE id = 1", marker)).toBe("UPDATE t SET x = <2.5> WHERE id = 1");
    expect(exactRealLiterals("CREATE TABLE t (x REAL DEFAULT 0.10)", marker)).toBe("CREATE TABLE t (x REAL DEFAULT 0.10)");
    expect(exactRealLiterals("INSERT INTO t VALUES(1e999, -1e999)", marker)).toBe("INSERT INTO t VALUES(1e999, -1e999)");
  });

  it("reads numbers as SQLite's tokenizer does: not inside names, after a name or quote, or before letters", () => {
    const sql = `INSERT INTO t VALUES(a.5, x1.5, "q".5, [z].5, 1.5e3, 1e5x, 2.5.3, 12., :2.25, 'open 9.5`;
    expect(exactRealLiterals(sql, marker)).toBe(`INSERT INTO t VALUES(a.5, x1.5, "q".5, [z].5, <1500>, 1e5x, <2.5>.3, <12>, :<2.25>, 'open 9.5`);
    expect(exactRealLiterals("INSERT INTO t VALUES(1.5) -- 2.5\n, (3.5)", marker)).toBe("INSERT INTO t VALUES(<1.5>) -- 2.5\n, (<3.5>)");
  });

  it("gives a correct SQLite the same doubles, and leaves this service's own REAL literals as they are", async () => {
    const { realLiteral } = await import("../../shared/real-literal");
    const db = new SQL.Database();
    db.run("CREATE TABLE t (x REAL)");
    const view = new DataView(new ArrayBuffer(8));
    let state = 99;
    for (let i = 0; i < 2000; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      view.setUint32(0, state);
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      view.setUint32(4, state);
      const value = Math.abs(view.getFloat64(0));
      if (!Number.isFinite(value)) continue;
      const ours = `INSERT INTO t VALUES(${realLiteral(value)})`;
      expect(exactRealLiterals(ours, realLiteral)).toBe(ours);
      const shell = `INSERT INTO t VALUES(${value.toPrecision(20)})`; // sqlite3 .dump writes %!.20g
      const rewritten = exactRealLiterals(shell, realLiteral);
      db.run("DELETE FROM t");
      db.run(rewritten);
      const [[stored]] = db.exec("SELECT x FROM t")[0].values as number[][];
      expect(Object.is(stored, value), `${shell} -> ${rewritten}`).toBe(true);
    }
    db.close();
  });
});
