// What a dump will contain: the user tables in parents-first order with how each is read, and the
// indexes, views and triggers written after the data. Written as query programs (query-program.ts).

import type { SequenceRow } from "./dump-sql";
import { selectAll, selectOne, type QueryProgram } from "./query-program";
import { ftsContentMode, isInternalObject, isInternalTable, parentsFirst, type TableDependencies } from "./schema-order";
import { nextToken } from "./sql-splitter";
import { quoteIdentifier } from "./sql-text";
import type { DumpPlan, SchemaObject, TablePlan } from "./types";

export interface ListedTable {
  type: string;
  /** WITHOUT ROWID */
  wr: number;
  strict: number;
}

/** The plan of a dump of every user table; `databaseSize` is reported with it, for estimates. */
export function* dumpPlan(database: string, databaseSize: number): QueryProgram<DumpPlan> {
  const master = (
    yield* selectAll<[string, string, string, string | null]>("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid")
  ).map(([type, name, tableName, sql]) => ({ type, name, tableName, sql }));
  const kinds = yield* listTables(master);
  const tableRows = master.filter((m) => {
    const kind = kinds.get(m.name)?.type;
    return m.type === "table" && m.sql && !isInternalTable(m.name) && (kind === "table" || kind === "virtual");
  });
  const tables = new Map<string, TablePlan>();
  const dependencies: TableDependencies[] = [];
  for (const m of tableRows) {
    tables.set(m.name, yield* tablePlan(m.name, m.sql!, kinds.get(m.name)!));
    const references = yield* selectAll<[string]>('SELECT "table" FROM pragma_foreign_key_list(?)', m.name);
    dependencies.push({ name: m.name, references: references.map(([table]) => table) });
  }
  // Views first, then triggers, then indexes, as sqlite3's .dump writes them.
  const typeRank = { view: 0, trigger: 1, index: 2 } as const;
  const objects: SchemaObject[] = master
    .filter((m) => (m.type === "index" || m.type === "view" || m.type === "trigger") && m.sql)
    .filter((m) => !isInternalObject(m) && (m.type === "view" || tables.has(m.tableName)))
    .map((m) => ({ type: m.type as SchemaObject["type"], name: m.name, tableName: m.tableName, sql: m.sql! }))
    .sort((a, b) => typeRank[a.type] - typeRank[b.type]);
  return {
    database,
    tables: parentsFirst(dependencies).map((name) => tables.get(name)!),
    objects,
    hasSequenceTable: master.some((m) => m.name === "sqlite_sequence"),
    databaseSize,
  };
}

/** How one table is read: its inserted columns (no hidden or generated ones), key and content. */
export function* tablePlan(name: string, createSql: string, listed: ListedTable): QueryProgram<TablePlan> {
  const columns = (
    yield* selectAll<[string, string, number, number]>("SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", name)
  ).map(([name, type, pk, hidden]) => ({ name, type, pk, hidden }));
  const virtual = listed.type === "virtual";
  const withoutRowid = listed.wr === 1;
  const inserted = columns.filter((c) => c.hidden === 0);
  const pkColumns = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const names = new Set(columns.map((c) => c.name.toLowerCase()));
  const rowidAlias =
    !withoutRowid && !virtual && pkColumns.length === 1 && pkColumns[0].type.toUpperCase() === "INTEGER";
  const content = virtual ? ftsContentMode(createSql) : "rows";
  const table: TablePlan = {
    name,
    createSql,
    virtual,
    strict: listed.strict === 1,
    columns: inserted.map((c) => c.name),
    columnTypes: inserted.map((c) => c.type.toUpperCase()),
    insertRowid: false,
    key: { kind: "rowid", column: "rowid" },
    content,
    estimatedRows: 0,
  };
  if (withoutRowid) {
    table.key = { kind: "primaryKey", columns: pkColumns.map((c) => c.name) };
  } else {
    const rowidName = ["rowid", "_rowid_", "oid"].find((n) => !names.has(n));
    if (!rowidName) throw new Error(`table ${name}: columns named rowid, _rowid_ and oid hide its rowid`);
    table.key = { kind: "rowid", column: rowidName };
    table.insertRowid = !rowidAlias && (!virtual || /USING\s+fts/i.test(createSql));
  }
  if (content === "rows") Object.assign(table, yield* estimateRows(table));
  return table;
}

/** A cheap row estimate: the rowid range where there is one (two index probes), else a count. */
function* estimateRows(table: TablePlan): QueryProgram<Pick<TablePlan, "estimatedRows" | "minRowid" | "maxRowid">> {
  const from = `FROM ${quoteIdentifier(table.name)}`;
  if (table.key.kind === "rowid" && !table.virtual) {
    // One subquery each: SQLite answers min() or max() from the b-tree's ends only when it is alone in
    // its query; together they scan the whole table (115 ms per 100 MB, in one synchronous call).
    const [lo, hi] = yield* selectOne<[number | null, number | null]>(`SELECT (SELECT min(rowid) ${from}), (SELECT max(rowid) ${from})`);
    if (lo === null || hi === null) return { estimatedRows: 0 };
    return { minRowid: lo, maxRowid: hi, estimatedRows: hi - lo + 1 };
  }
  const [count] = yield* selectOne<[number]>(`SELECT count(*) ${from}`);
  return { estimatedRows: count };
}

/** The table options after a CREATE TABLE's column list (sqlite.org/lang_createtable.html): WITHOUT ROWID, STRICT. */
export function tableOptions(createSql: string): { withoutRowid: boolean; strict: boolean } {
  let depth = 0;
  const words: string[] = [];
  for (let i = 0; i < createSql.length; ) {
    const token = nextToken(createSql, i, true)!;
    const text = createSql.slice(token.start, token.end);
    i = token.end;
    if (text === "(") depth++;
    else if (text === ")" && --depth === 0) words.length = 0; // only what follows the last column list counts
    else if (depth === 0 && token.kind === "word") words.push(text.toUpperCase());
  }
  return { withoutRowid: words.includes("WITHOUT") && words.includes("ROWID"), strict: words.includes("STRICT") };
}

/**
 * Each table and view of the schema as pragma_table_list describes it (type, wr, strict), without
 * listing them all through it: that pragma codes one result row per table when it is prepared, and a
 * Durable Object refuses so large a statement (SQLITE_NOMEM beyond about 1,900 tables). The types come
 * from sqlite_master; pragma_table_list(name) is asked only whether a table named after a virtual table
 * is its shadow table (FTS and R*Tree keep their data in such tables).
 */
export function* listTables(master: Array<{ type: string; name: string; sql: string | null }>): QueryProgram<Map<string, ListedTable>> {
  const listed = new Map<string, ListedTable>();
  const virtuals: string[] = [];
  for (const m of master) {
    if (m.type === "view") listed.set(m.name, { type: "view", wr: 0, strict: 0 });
    if (m.type !== "table" || !m.sql) continue;
    const virtual = /^\s*CREATE\s+VIRTUAL\s+TABLE\b/i.test(m.sql);
    const options = virtual ? { withoutRowid: false, strict: false } : tableOptions(m.sql);
    listed.set(m.name, { type: virtual ? "virtual" : "table", wr: options.withoutRowid ? 1 : 0, strict: options.strict ? 1 : 0 });
    if (virtual) virtuals.push(`${m.name.toLowerCase()}_`);
  }
  for (const [name, table] of listed) {
    if (table.type !== "table" || !virtuals.some((prefix) => name.toLowerCase().startsWith(prefix))) continue;
    const [kind] = yield* selectAll<[string]>("SELECT type FROM pragma_table_list(?) WHERE schema = 'main'", name);
    if (kind) table.type = kind[0];
  }
  return listed;
}

/** User tables (plain and virtual) and, when asked, views; FTS shadow tables are not user tables. */
export function* userTableNames(withViews = false): QueryProgram<string[]> {
  const master = yield* selectAll<[string, string, string | null]>("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY rowid");
  const types = withViews ? ["table", "virtual", "view"] : ["table", "virtual"];
  const listed = yield* listTables(master.map(([type, name, sql]) => ({ type, name, sql })));
  return [...listed].filter(([name, t]) => types.includes(t.type) && !isInternalTable(name)).map(([name]) => name);
}

/** Names a dump's tables/excludeTables options may use: user tables and views. */
export function tableAndViewNames(): QueryProgram<string[]> {
  return userTableNames(true);
}

/** sqlite_sequence rows, with exact integers. */
export function* sequences(): QueryProgram<SequenceRow[]> {
  // sqlite_sequence exists only once a table with AUTOINCREMENT has been created.
  const table = yield* selectAll("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'");
  if (table.length === 0) return [];
  const rows = yield* selectAll<[string, string]>("SELECT name, quote(seq) FROM sqlite_sequence ORDER BY rowid");
  return rows.map(([name, seq]) => ({ name, seq }));
}
