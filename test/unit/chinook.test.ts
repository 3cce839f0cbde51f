// The pure dump pipeline on a real schema: plan, parents-first order, chunked reads and a restore
// into a SQLite that enforces foreign keys.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Database } from "sql.js";
import { describe, expect, it } from "vitest";
import { chunkSelect, createTableStatement, insertPrefix, MAX_STATEMENT_BYTES, rowStatements } from "../../shared/dump-sql";
import { realLiteral } from "../../shared/real-literal";
import { isInternalTable, parentsFirst } from "../../shared/schema-order";
import type { KeyCursor, TablePlan } from "../../shared/types";
import { openDatabase, rows } from "./sqljs";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const datasetsDir = resolve(projectRoot, process.env.DATASETS_DIR ?? "../shared/datasets");
const chinookPath = resolve(datasetsDir, "chinook.sqlite");
const haveChinook = existsSync(chinookPath);
if (!haveChinook) console.warn(`skipping the Chinook dump test: ${chinookPath} not found (set DATASETS_DIR)`);

/** The plan the Durable Object makes, for ordinary rowid tables (all Chinook has). */
function planTables(db: Database): { plans: Map<string, TablePlan>; references: Map<string, string[]> } {
  const plans = new Map<string, TablePlan>();
  const references = new Map<string, string[]>();
  const names = rows(db, "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid") as [string, string][];
  for (const [name, createSql] of names.filter(([name]) => !isInternalTable(name))) {
    const columns = rows(db, "SELECT name, type, pk FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid", [name]) as [
      string,
      string,
      number,
    ][];
    const pk = columns.filter(([, , pk]) => pk > 0);
    const rowidAlias = pk.length === 1 && pk[0][1].toUpperCase() === "INTEGER";
    plans.set(name, {
      name,
      createSql,
      virtual: false,
      strict: false,
      columns: columns.map(([c]) => c),
      columnTypes: columns.map(([, type]) => type.toUpperCase()),
      insertRowid: !rowidAlias,
      key: { kind: "rowid", column: "rowid" },
      content: "rows",
      estimatedRows: 0,
    });
    references.set(name, rows(db, 'SELECT "table" FROM pragma_foreign_key_list(?)', [name]).map(([t]) => String(t)));
  }
  return { plans, references };
}

function tableStatements(db: Database, table: TablePlan): string[] {
  const statements = [createTableStatement(table)];
  const prefix = insertPrefix(table);
  let after: KeyCursor | null = null;
  for (;;) {
    const select = chunkSelect(table, after, 500);
    const page = rows(db, select.sql, select.params);
    for (const raw of page) {
      after = raw.slice(0, select.keyWidth) as KeyCursor;
      const literals = raw.slice(select.keyWidth).map((v) => (typeof v === "number" ? realLiteral(v) : (v as string)));
      statements.push(rowStatements(table, prefix, literals, after));
    }
    if (page.length < 500) return statements;
  }
}

/** Runs each table's statements in the given order with foreign keys enforced; the first violation throws. */
function restoreEnforcingForeignKeys(source: Database, plans: TablePlan[]): Database {
  const target = openDatabase();
  target.run("PRAGMA foreign_keys=ON");
  for (const table of plans) {
    for (const statement of tableStatements(source, table)) {
      expect(Buffer.byteLength(statement)).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
      target.run(statement);
    }
  }
  return target;
}

describe.skipIf(!haveChinook)("Chinook", { timeout: 60_000 }, () => {
  it("dumps parents first and restores into a SQLite that enforces foreign keys", () => {
    const source = openDatabase(readFileSync(chinookPath));
    const { plans, references } = planTables(source);
    const creationOrder = [...plans.keys()];
    const order = parentsFirst(creationOrder.map((name) => ({ name, references: references.get(name)! })));

    // In creation order a child comes before its parent, so the enforcing restore fails there.
    expect(() => restoreEnforcingForeignKeys(source, creationOrder.map((n) => plans.get(n)!))).toThrow(/FOREIGN KEY|no such table/);

    const target = restoreEnforcingForeignKeys(source, order.map((n) => plans.get(n)!));
    expect(rows(target, "PRAGMA foreign_key_check")).toEqual([]);
    for (const table of plans.values()) {
      const values = ["rowid", ...table.columns].map((c) => `typeof("${c}"), hex("${c}")`).join(", ");
      const query = `SELECT ${values} FROM "${table.name}" ORDER BY rowid`;
      const expected = rows(source, query);
      expect(expected.length, table.name).toBeGreaterThan(0);
      expect(rows(target, query), table.name).toEqual(expected);
    }
  });
});
