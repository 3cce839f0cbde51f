// A chunk read whose text SQLite writes: the INSERTs of many rows as one UTF-8 BLOB, so that
// JavaScript handles one value per read instead of one per cell, and the step gets bytes it need not
// encode. It wraps the query that selects the rows (chunkSelect, or a snapshot's merged SELECT: key
// literals, then one literal per inserted column), so it reads whatever that query reads.
// REALs stay exact: SQLite writes a NUL byte where each one goes, the same statement returns them as
// numbers in the same order, and realLiteral() formats them. A read the text cannot hold exactly comes
// back null, and readChunk() reads it cell by cell.

import { isUtf8 } from "node:buffer";
import { MAX_STATEMENT_BYTES, insertColumns, insertPrefix } from "./dump-sql";
import { select, type QueryProgram } from "./query-program";
import { realLiteral } from "./real-literal";
import { quoteString } from "./sql-text";
import type { KeyCursor, TablePlan } from "./types";

/** Bytes the text of one read may hold: well below the 2 MB a Durable Object's SQLite allows for a string. */
export const BATCH_TEXT_BYTES = 1_500_000;
/** Longest text of an exact REAL (a denormal: a mantissa divided by 2^62 seventeen times). */
const MAX_REAL_LITERAL = 400;

/** The query a batch wraps: its first `keyWidth` columns are the key, the rest one literal per inserted column. */
export interface RowQuery {
  sql: string;
  params: number[];
  keyWidth: number;
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

/** Rows of a batch's result, told apart by their first column. */
const enum Part {
  Text = 0, // one row: rows read, rows whose text is complete, the text
  Reals = 1, // one row per row holding a split REAL: those REALs, in column order
  LastKey = 2, // the last row's key literals
}

/**
 * One statement over the rows `source` selects (at most `limit`): their INSERTs as one BLOB, their split REALs, and the
 * last key. The rows are materialized once, so every part reads the same rows in the same order.
 */
export function rowBatchQuery(table: TablePlan, source: RowQuery, limit: number): { sql: string; params: number[] } {
  const values = insertColumns(table).map((_, i) => `v${i}`);
  const keys = Array.from({ length: source.keyWidth }, (_, i) => `k${i}`);
  const split = values.filter((_, i) => splitsReals(table, i));
  // A literal column holds text, except a REAL (a number) and a value too large for quote() (NULL).
  const cells = values.map((v, i) => `CASE typeof(${v}) WHEN 'real' THEN ${splitsReals(table, i) ? "char(0)" : "NULL"} ELSE ${v} END`);
  const line = [quoteString(insertPrefix(table)), ...cells.flatMap((cell, i) => (i > 0 ? ["','", cell] : [cell])), "');\n'"].join(" || ");
  // Rows longer than this are left out of the text (the read then goes cell by cell): the whole text
  // stays under BATCH_TEXT_BYTES, and each INSERT under the statement limit once its REALs are written.
  const maxRowBytes = Math.min(MAX_STATEMENT_BYTES - MAX_REAL_LITERAL * split.length, Math.floor(BATCH_TEXT_BYTES / Math.max(1, limit)));
  const fits = `CASE WHEN octet_length(line) <= ${maxRowBytes} THEN line END`;
  // The rows' name must not be one the source reads (a table of that name would become a circular reference).
  let rowsName = "batch_rows";
  while (source.sql.includes(rowsName)) rowsName += "_";
  const nulls = (n: number) => Array.from({ length: n }, () => "NULL");
  const realsOnly = split.map((v) => `CASE typeof(${v}) WHEN 'real' THEN ${v} END`);
  const parts = [
    // OFFSET 0 keeps the subquery from being flattened, which would build each line once per use.
    `SELECT ${Part.Text}, count(*), count(${fits}), CAST(group_concat(${fits}, '') AS BLOB), ${[...nulls(keys.length), ...nulls(split.length)].join(", ")} ` +
      `FROM (SELECT ${line} AS line FROM ${rowsName} LIMIT -1 OFFSET 0)`,
    `SELECT * FROM (SELECT ${Part.LastKey}, NULL, NULL, NULL, ${[...keys, ...nulls(split.length)].join(", ")} FROM ${rowsName} LIMIT 1 OFFSET (SELECT count(*) FROM ${rowsName}) - 1)`,
  ];
  if (split.length > 0) {
    parts.splice(1, 0, `SELECT ${Part.Reals}, NULL, NULL, NULL, ${[...nulls(keys.length), ...realsOnly].join(", ")} FROM ${rowsName} WHERE ${split.map((v) => `typeof(${v}) = 'real'`).join(" OR ")}`);
  }
  const sql = `WITH ${rowsName}(${[...keys, ...values].join(", ")}) AS MATERIALIZED (${source.sql}) ${parts.join(" UNION ALL ")}`;
  return { sql, params: source.params };
}

export interface RowBatch {
  /** The rows' statements as UTF-8. */
  sql: Uint8Array;
  rows: number;
  lastKey: KeyCursor | null;
}

/**
 * The rows `source` selects (at most `limit`, after `after`), as one text; or null when a row cannot be part of it (a value
 * over LARGE_VALUE_BYTES, a REAL where none is split out, a row longer than the batch allows, TEXT that
 * is not UTF-8, which the per-cell read checks against its bytes).
 */
export function* readRowBatch(table: TablePlan, source: RowQuery, after: KeyCursor | null, limit: number): QueryProgram<RowBatch | null> {
  const query = rowBatchQuery(table, source, limit);
  let text = new Uint8Array(0);
  let rows = 0;
  let lastKey = after;
  const reals: number[] = [];
  for (const raw of yield* select(query.sql, ...query.params)) {
    const values = raw.slice(4);
    if (raw[0] === Part.Text) {
      rows = raw[1] as number;
      if ((raw[2] as number) < rows) return null;
      text = new Uint8Array((raw[3] as ArrayBuffer | null) ?? new ArrayBuffer(0));
    } else if (raw[0] === Part.Reals) {
      for (const value of values) if (value !== null) reals.push(value as number);
    } else {
      const key = values.slice(0, source.keyWidth);
      if (key.some((value) => value === null)) return null;
      lastKey = key as KeyCursor;
    }
  }
  if (!isUtf8(text)) return null;
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
