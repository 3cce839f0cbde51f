// The quote-aware statement splitter that the size assertions rely on, cross-checked with sqlite3 itself.

import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { splitSqlStatements } from "../../scripts/lib/sql-statements.mjs";
import { querySql, restoreDump } from "../../scripts/lib/sqlite-cli.mjs";
import { workDir } from "./round-trip";

const TRICKY = [
  "PRAGMA foreign_keys=OFF;",
  "BEGIN TRANSACTION;",
  `CREATE TABLE "a;b"("x;" TEXT, [y;z] INT, \`w;\` BLOB);`,
  `INSERT INTO "a;b" VALUES('it''s; -- not a comment', 1, X'3B');`,
  "-- a comment; with a semicolon\nINSERT INTO \"a;b\" VALUES('/* not; a comment */', 2, NULL);",
  "/* block; comment */ INSERT INTO \"a;b\" VALUES('line\n;\nbreak', 3, NULL);",
  `CREATE TABLE log(msg TEXT);`,
  `CREATE TRIGGER "t;1" AFTER INSERT ON "a;b" BEGIN INSERT INTO log VALUES('one;'); INSERT INTO log VALUES(CASE WHEN new."y;z" > 0 THEN 'pos' ELSE 'neg' END); END;`,
  `CREATE TEMP TRIGGER t2 AFTER DELETE ON "a;b" BEGIN DELETE FROM log; END;`,
  `CREATE VIEW "end" AS SELECT "x;" AS "END" FROM "a;b";`,
  `INSERT INTO "a;b" VALUES('😀;表', 4, NULL);`,
  "COMMIT;",
];

describe("splitSqlStatements", () => {
  const work = workDir("split");
  afterAll(() => work.remove());

  it("splits only at statement ends, as sqlite3 does", async () => {
    const text = TRICKY.join("\n") + "\n";
    const statements = [...splitSqlStatements(text)];
    expect(statements.map((s) => s.sql)).toEqual(TRICKY);
    expect(statements.map((s) => s.bytes)).toEqual(TRICKY.map((s) => Buffer.byteLength(s, "utf8")));
    // Each piece on its own is complete SQL: running them one by one gives what running the text gives.
    const whole = join(work.dir, "whole.sql");
    const pieces = join(work.dir, "pieces.sql");
    writeFileSync(whole, text);
    writeFileSync(pieces, statements.map((s) => `${s.sql}\n`).join(""));
    await restoreDump(whole, join(work.dir, "whole.db"));
    await restoreDump(pieces, join(work.dir, "pieces.db"));
    const read = (db: string) => querySql(join(work.dir, db), `SELECT (SELECT group_concat(msg, '|') FROM log) AS log, (SELECT count(*) FROM "a;b") AS n`);
    expect(await read("pieces.db")).toEqual(await read("whole.db"));
    expect(await read("whole.db")).toEqual([{ log: "one;|pos", n: 4 }]);
  });

  it("yields text after the last semicolon and nothing for trailing whitespace", () => {
    expect([...splitSqlStatements("SELECT 1;\n\n  ")].map((s) => s.sql)).toEqual(["SELECT 1;"]);
    expect([...splitSqlStatements("SELECT 1; SELECT 'x;y'")].map((s) => s.sql)).toEqual(["SELECT 1;", "SELECT 'x;y'"]);
  });
});
