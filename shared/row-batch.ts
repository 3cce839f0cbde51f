// A chunk read whose text SQLite writes: the INSERTs of many rows as one UTF-8 BLOB, so that
// JavaScript handles one value per read instead of one per cell, and the step gets bytes it need not
// encode. It wraps the query that selects the rows (the source's chunkSelect: the live table, or a
// snapshot's merged SELECT), choosing what that query selects for each column, so it reads whatever the
// source reads. REALs stay exact: SQLite writes a NUL byte where each one goes, a second statement over
// the same rows returns them as numbers in the same order, and realLiteral() formats them. A read the
// text cannot hold exactly comes back null, and readChunk() reads it cell by cell.

import { isUtf8 } from "node:buffer";
import { MAX_STATEMENT_BYTES, insertColumns, insertPrefix, type ValueExpression } from "./dump-sql";
import { select, selectOne, type QueryProgram } from "./query-program";
import { realLiteral } from "./real-literal";
import { literalOf, quoteString } from "./sql-text";
import type { KeyCursor, TablePlan } from "./types";

/** Bytes the text of one read may hold: well below the 2 MB a Durable Object's SQLite allows for a string. */
export const BATCH_TEXT_BYTES = 1_500_000;
/** Longest text of an exact REAL (a denormal: a mantissa divided by 2^62 seventeen times). */
const MAX_REAL_LITERAL = 400;

/** A query over a table's rows: `keyWidth` key columns, one per inserted column, then `trailing` more (if any). */
export interface RowQuery {
  sql: string;
  params: number[];
  keyWidth: number;
  trailing?: number;
}

/** Where the rows are found (dump-read's RowSource: the live table or a snapshot's merge), with the expressions to select. */
export interface BatchSource {
  chunkSelect(after: KeyCursor | null, limit: number, value: ValueExpression): RowQuery;
}

/**
 * Whether a column's REALs are common enough to be returned apart from the text. A REAL in any other
 * column makes its row's text NULL, and the read goes cell by cell. Affinity: sqlite.org/datatype3.html §3.1.
 */
export function splitsReals(table: TablePlan, valueIndex: number): boolean {
  if (table.insertRowid && valueIndex === 0) return false; // the rowid is an integer
  const type = (table.columnTypes[table.insertRowid ? valueIndex - 1 : valueIndex] ?? "").toUpperCase();
  if (table.strict) return type === "REAL" || type === "ANY";
  if (type.includes("INT") || type.includes("CHAR") || type.includes("CLOB") || type.includes("TEXT")) return false;
  return !type.includes("BLOB"); // REAL, NUMERIC or no type
}

/**
 * `CASE` that writes ±Infinity (inf - inf is NULL) as realLiteral does, in the text itself: D1's JSON
 * answers would turn it into null. The caller adds the `ELSE …` for finite REALs and the `END`.
 */
const INFINITY_OR = (value: string) => `CASE WHEN ${value} - ${value} IS NULL THEN (CASE WHEN ${value} > 0 THEN '1e999' ELSE '-1e999' END) ELSE`;

/** Rows of the second statement, told apart by their first column. */
const enum Part {
  Reals = 1, // one row per row holding a split REAL: those REALs, in column order
  LastKey = 2, // the last row's key literals
}

/** The rows' select wrapped so that its columns have names: k0… for the key, v0… for the inserted columns. */
function named(table: TablePlan, query: RowQuery): { withRows: string; rows: string; keys: string[]; values: string[] } {
  const keys = Array.from({ length: query.keyWidth }, (_, i) => `k${i}`);
  const values = insertColumns(table).map((_, i) => `v${i}`);
  const trailing = Array.from({ length: query.trailing ?? 0 }, (_, i) => `t${i}`);
  // The name must not be one the source reads (a table of that name would become a circular reference).
  let rows = "batch_rows";
  while (query.sql.includes(rows)) rows += "_";
  return { withRows: `WITH ${rows}(${[...keys, ...values, ...trailing].join(", ")}) AS (${query.sql})`, rows, keys, values };
}

/**
 * The first statement: the INSERTs of the rows `source` selects (at most `limit`) as one BLOB, with a NUL
 * byte where each split REAL goes; a row that cannot be written so (a REAL that is not split, a value too
 * large for quote(), a row longer than the batch allows) is left out, which count(line) shows.
 */
export function batchTextQuery(table: TablePlan, source: BatchSource, after: KeyCursor | null, limit: number): RowQuery {
  const cell: ValueExpression = (value, i) => `CASE WHEN typeof(${value}) = 'real' THEN ${splitsReals(table, i) ? `${INFINITY_OR(value)} char(0) END` : "NULL"} ELSE ${literalOf(value)} END`;
  const query = source.chunkSelect(after, limit, cell);
  const { withRows, rows, values } = named(table, query);
  const line = [quoteString(insertPrefix(table)), ...values.flatMap((v, i) => (i > 0 ? ["','", v] : [v])), "');\n'"].join(" || ");
  // Rows longer than this are left out: the whole text stays under BATCH_TEXT_BYTES, and each INSERT under
  // the statement limit once its REALs are written.
  const split = values.filter((_, i) => splitsReals(table, i)).length;
  const maxRowBytes = Math.min(MAX_STATEMENT_BYTES - MAX_REAL_LITERAL * split, Math.floor(BATCH_TEXT_BYTES / Math.max(1, limit)));
  const fits = `CASE WHEN octet_length(line) <= ${maxRowBytes} THEN line END`;
  const sql =
    `${withRows} SELECT count(*), count(${fits}), CAST(group_concat(${fits}, '') AS BLOB) ` +
    // OFFSET 0 keeps the subquery from being flattened, which would build each line once per use.
    `FROM (SELECT ${line} AS line FROM ${rows} LIMIT -1 OFFSET 0)`;
  return { sql, params: query.params, keyWidth: query.keyWidth };
}

/**
 * The second statement, over the same rows: their split REALs as numbers, in order (only rows that hold
 * one), then the key literals of row number `rows`, the last.
 */
export function batchRealsQuery(table: TablePlan, source: BatchSource, after: KeyCursor | null, limit: number, rows: number): RowQuery {
  const real: ValueExpression = (value, i) => (splitsReals(table, i) ? `CASE WHEN typeof(${value}) = 'real' AND ${value} - ${value} IS NOT NULL THEN ${value} END` : "NULL");
  const query = source.chunkSelect(after, limit, real);
  const { withRows, rows: from, keys, values } = named(table, query);
  const split = values.filter((_, i) => splitsReals(table, i));
  const width = Math.max(split.length, keys.length);
  const pad = (columns: string[]) => [...columns, ...Array.from({ length: width - columns.length }, () => "NULL")].join(", ");
  const last = `SELECT * FROM (SELECT ${Part.LastKey}, ${pad(keys)} FROM ${from} LIMIT 1 OFFSET ${Math.max(0, rows - 1)})`;
  const reals = split.length ? `SELECT ${Part.Reals}, ${pad(split)} FROM ${from} WHERE ${split.map((v) => `${v} IS NOT NULL`).join(" OR ")} UNION ALL ` : "";
  return { sql: `${withRows} ${reals}${last}`, params: query.params, keyWidth: query.keyWidth };
}

export interface RowBatch {
  /** The rows' statements as UTF-8. */
  sql: Uint8Array;
  rows: number;
  lastKey: KeyCursor | null;
}

/**
 * The rows `source` selects (at most `limit`, after `after`), as one text; or null when a row cannot be part
 * of it (see batchTextQuery), or its TEXT is not UTF-8 (the per-cell read checks such text against its
 * bytes). Run in one synchronous call, so that both statements read the same rows.
 */
export function* readRowBatch(table: TablePlan, source: BatchSource, after: KeyCursor | null, limit: number): QueryProgram<RowBatch | null> {
  const textQuery = batchTextQuery(table, source, after, limit);
  const [rows, complete, blob] = yield* selectOne<[number, number, ArrayBuffer | null]>(textQuery.sql, ...textQuery.params);
  if (complete < rows) return null;
  const text = new Uint8Array(blob ?? new ArrayBuffer(0));
  if (rows === 0) return { sql: text, rows, lastKey: after };
  if (!isUtf8(text)) return null;
  const realsQuery = batchRealsQuery(table, source, after, limit, rows);
  const reals: number[] = [];
  let lastKey: KeyCursor | null = null;
  for (const raw of yield* select(realsQuery.sql, ...realsQuery.params)) {
    if (raw[0] === Part.Reals) {
      for (let i = 1; i < raw.length; i++) if (raw[i] !== null) reals.push(raw[i] as number);
    } else {
      lastKey = raw.slice(1, 1 + realsQuery.keyWidth) as KeyCursor;
    }
  }
  if (!lastKey || lastKey.some((value) => value === null)) return null;
  return { sql: spliceReals(text, reals, realLiteral), rows, lastKey };
}

/** `text` with each NUL byte replaced by the literal of the next REAL, in order. */
export function spliceReals(text: Uint8Array, reals: number[], format: (value: number) => string): Uint8Array {
  const literals = reals.map(format);
  let extra = 0;
  for (const literal of literals) extra += literal.length - 1;
  const out = reals.length ? new Uint8Array(text.length + extra) : text;
  let from = 0;
  let to = 0;
  for (const literal of literals) {
    const at = text.indexOf(0, from);
    if (at < 0) throw new Error(`a batch holds fewer REAL markers than its ${reals.length} REALs`);
    out.set(text.subarray(from, at), to);
    to += at - from;
    for (let i = 0; i < literal.length; i++) out[to++] = literal.charCodeAt(i); // REAL literals are ASCII
    from = at + 1;
  }
  if (text.indexOf(0, from) >= 0) throw new Error(`a batch holds more REAL markers than its ${reals.length} REALs`);
  if (reals.length) out.set(text.subarray(from), to);
  return out;
}
