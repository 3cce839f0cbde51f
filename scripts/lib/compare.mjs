// Compares two SQLite databases value by value: typically a dump restored with the sqlite3 CLI
// against the service's database read back through POST /query.
//
// What is compared:
// - the schema objects of sqlite_master (type, name, tbl_name, whitespace-normalised sql), internal
//   platform tables (_cf_*, __miniflare*) left out;
// - the set of tables (ordinary and virtual; FTS shadow tables only through their schema rows, since
//   their index pages may legitimately differ after a rebuild) and each table's columns;
// - every cell, including generated columns, by storage class (typeof) and value, rows matched by
//   rowid (or the primary key of WITHOUT ROWID tables; sqlite_sequence by name), so rowids must match.
//
// How values are compared: hex() for INTEGER, TEXT and BLOB (exact bytes; integers as their exact
// decimal text). REALs are NOT compared through SQLite's float text: hex() of a real is its text, and
// printf('%!.17g') is not exact in the 3.40 CLI (measured: wrong for 5 of 2,000 random doubles) and
// prints differently on other SQLite versions. Instead each side yields the exact double: the restored file through the CLI's built-in
// ieee754_to_blob() (the 8 IEEE bytes), the service through the number itself, which reaches
// JavaScript exactly (±Infinity, which JSON cannot carry, is mapped to a marker inside SQLite).
// SQLite does not keep -0.0 apart from 0.0, and JSON cannot carry it, so zero's sign is not compared.

import { quoteIdentifier, quoteString, querySql, runSql } from "./sqlite-cli.mjs";

/**
 * @typedef {object} DatabaseSide One database to read, with how it turns a REAL into exact text.
 * @property {string} label
 * @property {(sql: string) => Promise<Record<string, any>[]>} query
 * @property {(column: string) => string} realExpression SQL expression reading REAL column `column` (quoted) exactly
 * @property {(value: any) => string} realText Canonical text of what realExpression returned
 * @property {number} pageRows Rows per read (Infinity: everything at once)
 * @property {number} maxHexBytes TEXT/BLOB values longer than this are read in pieces of this many bytes
 *   (the Durable Object refuses strings over ~2.2 MB, and hex() doubles a value)
 * @property {((table: string) => Promise<string | null>)} [ftsIntegrityCheck] Error text, or null when the FTS index is consistent
 */

/**
 * @typedef {object} Mismatch
 * @property {"schema" | "tables" | "columns" | "row" | "cell" | "fts"} kind
 * @property {string | null} table
 * @property {string | null} rowKey
 * @property {string | null} column
 * @property {string} expected
 * @property {string} actual
 */

/**
 * @typedef {object} ComparisonResult
 * @property {Mismatch[]} mismatches At most `maxMismatches` of them.
 * @property {number} totalMismatches
 * @property {{ name: string, rows: number }[]} tables Tables compared and their row counts (expected side).
 * @property {number} schemaObjects
 */

const INTERNAL = /^(_cf_|__miniflare)/i;
const INF_MARK = "'Infinity'";

/**
 * The service's database through POST /query.
 * @param {import("./api-client.mjs").ApiClient} client
 * @param {string} [database]
 * @returns {DatabaseSide}
 */
export function serviceSide(client, database) {
  return {
    label: `service${database ? ` (database ${database})` : ""}`,
    query: (sql) => client.query(sql, [], { database }),
    realExpression: (c) => `CASE WHEN ${c} = 1e999 THEN ${INF_MARK} WHEN ${c} = -1e999 THEN '-Infinity' ELSE ${c} END`,
    realText: (value) => (typeof value === "number" ? canonicalReal(value) : String(value)),
    pageRows: 2000,
    maxHexBytes: 500_000,
  };
}

/**
 * A database file read with the sqlite3 CLI.
 * @param {string} dbPath
 * @returns {DatabaseSide}
 */
export function fileSide(dbPath) {
  return {
    label: dbPath,
    query: (sql) => querySql(dbPath, sql),
    realExpression: (c) => `hex(ieee754_to_blob(${c}))`,
    realText: (value) => canonicalReal(doubleFromHex(String(value))),
    pageRows: Infinity,
    maxHexBytes: Infinity,
    ftsIntegrityCheck: async (table) => {
      const q = quoteIdentifier(table);
      try {
        await runSql(dbPath, `INSERT INTO ${q}(${q}) VALUES('integrity-check');`);
        return null;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  };
}

/**
 * Compares a restored database file (actual) against the service's database (expected).
 * @param {string} dbPath
 * @param {import("./api-client.mjs").ApiClient} client
 * @param {{ database?: string, maxMismatches?: number }} [options]
 */
export function compareWithService(dbPath, client, options = {}) {
  return compareDatabases(serviceSide(client, options.database), fileSide(dbPath), options);
}

/**
 * @param {DatabaseSide} expected
 * @param {DatabaseSide} actual
 * @param {{ maxMismatches?: number }} [options]
 * @returns {Promise<ComparisonResult>}
 */
export async function compareDatabases(expected, actual, options = {}) {
  const limit = options.maxMismatches ?? 50;
  /** @type {Mismatch[]} */
  const mismatches = [];
  let total = 0;
  /** @param {Omit<Mismatch, "table" | "rowKey" | "column"> & Partial<Mismatch>} m */
  const report = (m) => {
    total += 1;
    if (mismatches.length < limit) {
      mismatches.push({ table: null, rowKey: null, column: null, ...m });
    }
  };

  // Schema objects.
  const [expectedObjects, actualObjects] = await Promise.all([schemaRows(expected), schemaRows(actual)]);
  compareKeyed(expectedObjects, actualObjects, (o) => `${o.type} ${o.name}`, (key, e, a) => {
    if (!a) report({ kind: "schema", table: e?.tbl_name ?? null, expected: describeObject(e), actual: "(missing)" });
    else if (!e) report({ kind: "schema", table: a.tbl_name, expected: "(absent)", actual: describeObject(a) });
    else if (e.tbl_name !== a.tbl_name || e.sql !== a.sql) {
      report({ kind: "schema", table: e.tbl_name, expected: describeObject(e), actual: describeObject(a) });
    }
  });

  // Tables.
  const [expectedTables, actualTables] = await Promise.all([userTables(expected), userTables(actual)]);
  const actualByName = new Map(actualTables.map((t) => [t.name, t]));
  for (const t of actualTables) {
    if (!expectedTables.some((e) => e.name === t.name)) {
      report({ kind: "tables", table: t.name, expected: "(absent)", actual: `${t.type} ${t.name}` });
    }
  }
  /** @type {{ name: string, rows: number }[]} */
  const compared = [];
  for (const table of expectedTables) {
    const other = actualByName.get(table.name);
    if (!other) {
      report({ kind: "tables", table: table.name, expected: `${table.type} ${table.name}`, actual: "(missing)" });
      continue;
    }
    const rows = await compareTable(table, expected, actual, report);
    compared.push({ name: table.name, rows });
    if (table.type === "virtual" && /USING\s+fts5/i.test(table.sql ?? "") && actual.ftsIntegrityCheck) {
      const problem = await actual.ftsIntegrityCheck(table.name);
      if (problem) report({ kind: "fts", table: table.name, expected: "integrity-check passes", actual: problem });
    }
  }
  return { mismatches, totalMismatches: total, tables: compared, schemaObjects: expectedObjects.length };
}

/**
 * @typedef {{ name: string, type: string, wr: number, sql: string | null }} TableRow
 */

/**
 * @param {DatabaseSide} side
 * @returns {Promise<TableRow[]>}
 */
async function userTables(side) {
  const rows = await side.query(
    "SELECT l.name AS name, l.type AS type, l.wr AS wr, m.sql AS sql FROM pragma_table_list AS l " +
      "LEFT JOIN sqlite_master AS m ON m.name = l.name AND m.type = 'table' " +
      "WHERE l.schema = 'main' AND l.type IN ('table', 'virtual') ORDER BY l.name",
  );
  return /** @type {TableRow[]} */ (rows).filter(
    (t) => t.name === "sqlite_sequence" || !(INTERNAL.test(t.name) || /^sqlite_/i.test(t.name)),
  );
}

/**
 * @param {DatabaseSide} side
 * @returns {Promise<{ type: string, name: string, tbl_name: string, sql: string | null }[]>}
 */
async function schemaRows(side) {
  const rows = await side.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");
  return rows
    .filter((r) => !INTERNAL.test(r.name) && !INTERNAL.test(r.tbl_name))
    .map((r) => ({ type: r.type, name: r.name, tbl_name: r.tbl_name, sql: normalizeSql(r.sql) }));
}

/**
 * Whitespace runs become one space; a trailing ";" is dropped.
 * @param {string | null} sql
 */
export function normalizeSql(sql) {
  if (sql === null || sql === undefined) return null;
  return sql.replace(/\s+/g, " ").trim().replace(/;$/, "");
}

/** @param {{ type: string, name: string, tbl_name: string, sql: string | null } | undefined} o */
function describeObject(o) {
  return o ? `${o.type} ${o.name} on ${o.tbl_name}: ${o.sql}` : "(none)";
}

/**
 * @template T
 * @param {T[]} expected
 * @param {T[]} actual
 * @param {(item: T) => string} keyOf
 * @param {(key: string, e: T | undefined, a: T | undefined) => void} visit
 */
function compareKeyed(expected, actual, keyOf, visit) {
  const actualMap = new Map(actual.map((a) => [keyOf(a), a]));
  for (const e of expected) {
    const key = keyOf(e);
    visit(key, e, actualMap.get(key));
    actualMap.delete(key);
  }
  for (const [key, a] of actualMap) visit(key, undefined, a);
}

/**
 * @param {TableRow} table
 * @param {DatabaseSide} expected
 * @param {DatabaseSide} actual
 * @param {(m: any) => void} report
 * @returns {Promise<number>} rows on the expected side
 */
async function compareTable(table, expected, actual, report) {
  const columnsSql = `SELECT name, type, pk, "notnull" AS nn, dflt_value AS dflt, hidden FROM pragma_table_xinfo(${quoteString(table.name)}) ORDER BY cid`;
  const [expectedColumns, actualColumns] = await Promise.all([expected.query(columnsSql), actual.query(columnsSql)]);
  const describeColumns = (/** @type {Record<string, any>[]} */ cols) =>
    cols.map((c) => `${c.name} ${c.type} pk=${c.pk} notnull=${c.nn} default=${c.dflt} hidden=${c.hidden}`).join("; ");
  if (describeColumns(expectedColumns) !== describeColumns(actualColumns)) {
    report({ kind: "columns", table: table.name, expected: describeColumns(expectedColumns), actual: describeColumns(actualColumns) });
    return 0;
  }
  // Hidden columns of virtual tables (hidden = 1) are not data; generated columns (2, 3) are compared.
  const columns = expectedColumns.filter((c) => c.hidden !== 1).map((c) => String(c.name));
  const key = tableKey(table, expectedColumns);

  const expectedRows = new Map();
  for await (const row of readRows(expected, table.name, columns, key)) expectedRows.set(row.key, row.cells);
  let index = 0;
  const expectedCount = expectedRows.size;
  for await (const row of readRows(actual, table.name, columns, key)) {
    index += 1;
    const cells = expectedRows.get(row.key);
    if (!cells) {
      report({ kind: "row", table: table.name, rowKey: describeKey(row.key, key.columns), expected: "(no such row)", actual: shortRow(columns, row.cells) });
      continue;
    }
    expectedRows.delete(row.key);
    for (let i = 0; i < columns.length; i++) {
      if (cells[i] !== row.cells[i]) {
        report({ kind: "cell", table: table.name, rowKey: describeKey(row.key, key.columns), column: columns[i], expected: short(cells[i]), actual: short(row.cells[i]) });
      }
    }
  }
  for (const [rowKey, cells] of expectedRows) {
    report({ kind: "row", table: table.name, rowKey: describeKey(rowKey, key.columns), expected: shortRow(columns, cells), actual: "(missing)" });
  }
  return expectedCount;
}

/**
 * How rows are identified and ordered.
 * @param {TableRow} table
 * @param {Record<string, any>[]} columns
 * @returns {{ columns: string[], rowid: boolean }}
 */
function tableKey(table, columns) {
  if (table.name === "sqlite_sequence") return { columns: ["name"], rowid: false };
  if (table.wr === 1) {
    const pk = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => String(c.name));
    return { columns: pk, rowid: false };
  }
  const names = new Set(columns.map((c) => String(c.name).toLowerCase()));
  const alias = ["rowid", "_rowid_", "oid"].find((n) => !names.has(n));
  if (!alias) throw new Error(`table ${table.name}: columns named rowid, _rowid_ and oid hide its rowid`);
  return { columns: [alias], rowid: true };
}

/**
 * Rows in key order as { key, cells } with canonical "type:value" cells.
 * @param {DatabaseSide} side
 * @param {string} table
 * @param {string[]} columns
 * @param {{ columns: string[], rowid: boolean }} key
 */
async function* readRows(side, table, columns, key) {
  const keyList = key.columns.map(quoteIdentifier).join(", ");
  const big = Number.isFinite(side.maxHexBytes) ? side.maxHexBytes : null;
  const cellSelect = (/** @type {string} */ name, /** @type {string} */ alias) => {
    const c = quoteIdentifier(name);
    // A NULL value for a TEXT or BLOB means "too long for one read": it is read in pieces below.
    const hex = big === null ? `hex(${c})` : `CASE WHEN length(CAST(${c} AS BLOB)) > ${big} THEN NULL ELSE hex(${c}) END`;
    return `typeof(${c}) AS t${alias}, CASE typeof(${c}) WHEN 'real' THEN ${side.realExpression(c)} ELSE ${hex} END AS v${alias}`;
  };
  const selects = [
    ...key.columns.map((name, i) => cellSelect(name, `k${i}`)),
    ...columns.map((name, i) => cellSelect(name, `c${i}`)),
    ...key.columns.map((name, i) => `quote(${quoteIdentifier(name)}) AS q${i}`),
  ];
  const from = ` FROM ${quoteIdentifier(table)}`;
  const base = `SELECT ${selects.join(", ")}${from}`;
  /** @param {Record<string, any>} row */
  const rowWhere = (row) => ` WHERE ${key.columns.map((name, i) => `${quoteIdentifier(name)} IS ${row[`q${i}`]}`).join(" AND ")}`;
  /**
   * @param {Record<string, any>} row
   * @param {string} column
   */
  const readInPieces = async (row, column) => {
    const bytes = `CAST(${quoteIdentifier(column)} AS BLOB)`;
    const [{ n }] = await side.query(`SELECT length(${bytes}) AS n${from}${rowWhere(row)}`);
    let hex = "";
    for (let start = 1; start <= n; start += /** @type {number} */ (big)) {
      const [piece] = await side.query(`SELECT hex(substr(${bytes}, ${start}, ${big})) AS h${from}${rowWhere(row)}`);
      hex += piece.h;
    }
    return hex;
  };
  const cell = (/** @type {Record<string, any>} */ row, /** @type {string} */ alias) => {
    const type = row[`t${alias}`];
    const value = row[`v${alias}`];
    return `${type}:${type === "real" ? side.realText(value) : type === "null" ? "" : value}`;
  };
  let after = null;
  let offset = 0;
  for (;;) {
    let sql = base;
    if (Number.isFinite(side.pageRows)) {
      // Rowid tables page by key (the literal of an integer is exact); others by offset (small test tables).
      if (key.rowid && after !== null) sql += ` WHERE ${keyList} > ${after}`;
      sql += ` ORDER BY ${keyList} LIMIT ${side.pageRows}`;
      if (!key.rowid && offset > 0) sql += ` OFFSET ${offset}`;
    } else {
      sql += ` ORDER BY ${keyList}`;
    }
    const rows = await side.query(sql);
    for (const row of rows) {
      for (const [i, name] of columns.entries()) {
        const type = row[`tc${i}`];
        if ((type === "text" || type === "blob") && row[`vc${i}`] === null) row[`vc${i}`] = await readInPieces(row, name);
      }
      yield {
        key: key.columns.map((_, i) => cell(row, `k${i}`)).join(" | "),
        cells: columns.map((_, i) => cell(row, `c${i}`)),
      };
    }
    if (!Number.isFinite(side.pageRows) || rows.length < side.pageRows) return;
    after = rows[rows.length - 1].q0;
    offset += rows.length;
  }
}

/**
 * The double whose 8 big-endian IEEE 754 bytes are `hex`.
 * @param {string} hex
 */
export function doubleFromHex(hex) {
  if (!/^[0-9A-Fa-f]{16}$/.test(hex)) throw new Error(`not 8 bytes of IEEE 754 hex: ${hex}`);
  return Buffer.from(hex, "hex").readDoubleBE(0);
}

/**
 * Shortest round-trip text of a double; -0 reads as 0 (SQLite does not keep the sign of zero).
 * @param {number} value
 */
export function canonicalReal(value) {
  return Object.is(value, -0) ? "0" : String(value);
}

/**
 * A canonical cell ("type:value", value in hex except for reals) as a person reads it.
 * @param {string} cell
 */
export function describeCell(cell) {
  const colon = cell.indexOf(":");
  const type = cell.slice(0, colon);
  const value = cell.slice(colon + 1);
  const bytes = () => Buffer.from(value.length > 240 ? value.slice(0, 240) : value, "hex");
  const more = value.length > 240 ? `… (${value.length / 2} bytes)` : "";
  switch (type) {
    case "null":
      return "NULL";
    case "integer":
      return `integer ${bytes().toString("latin1")}`;
    case "real":
      return `real ${value}`;
    case "text":
      return `text ${JSON.stringify(bytes().toString("utf8"))}${more} (hex ${value.slice(0, 40)}${value.length > 40 ? "…" : ""})`;
    case "blob":
      return `blob X'${value.slice(0, 60)}${value.length > 60 ? "…" : ""}' (${value.length / 2} bytes)`;
    default:
      return cell;
  }
}

/** @param {string} cell */
function short(cell) {
  return describeCell(cell);
}

/**
 * @param {string} key
 * @param {string[]} columns
 */
function describeKey(key, columns) {
  return key
    .split(" | ")
    .map((cell, i) => `${columns[i]}=${describeCell(cell).replace(/^(integer|real) /, "")}`)
    .join(", ");
}

/**
 * @param {string[]} columns
 * @param {string[]} cells
 */
function shortRow(columns, cells) {
  return columns.map((c, i) => `${c}=${short(cells[i])}`).join(", ");
}

/**
 * One line per mismatch, for test failures and the smoke script.
 * @param {ComparisonResult} result
 */
export function formatMismatches(result) {
  const lines = result.mismatches.map((m) => {
    const where = [m.table && `table ${JSON.stringify(m.table)}`, m.rowKey && `row ${m.rowKey}`, m.column && `column ${JSON.stringify(m.column)}`]
      .filter(Boolean)
      .join(", ");
    return `[${m.kind}] ${where}: expected ${m.expected}, got ${m.actual}`;
  });
  if (result.totalMismatches > result.mismatches.length) {
    lines.push(`… and ${result.totalMismatches - result.mismatches.length} more`);
  }
  return lines.join("\n");
}
