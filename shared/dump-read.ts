// Reading a table's rows as exact SQL text, a chunk at a time, as a query program
// (query-program.ts). Run it in one synchronous call (runSync) so that no write lands between its
// queries: the follow-up reads below find rows again by key or by position.

import {
  chunkSelect,
  insertColumns,
  insertPrefix,
  keyColumns,
  largeValueLiteral,
  largeValueQueries,
  literalBytes,
  rowStatements,
  rowsAfter,
  type ValueExpression,
} from "./dump-sql";
import { select, selectOne, type QueryProgram } from "./query-program";
import { realLiteral } from "./real-literal";
import { readRowBatch, type RowQuery } from "./row-batch";
import type { SqlValue } from "./sql-handle";
import { LARGE_VALUE_BYTES, quoteIdentifier } from "./sql-text";
import type { ChunkRequest, ChunkResult, KeyCursor, TablePlan } from "./types";

/**
 * A TEXT value that is not valid UTF-8 reaches JavaScript with U+FFFD in place of its bad bytes.
 * A literal with U+FFFD is therefore checked against the value's bytes.
 */
const REPLACEMENT_CHARACTER = "\uFFFD";

/**
 * Where a read finds a table's rows: the live table, or a snapshot's merge of it with saved rows
 * (shared/snapshot.ts). Each gives the same columns, keys and order.
 */
export interface RowSource {
  /** Key literals, then one `value` expression (by default the literal) per inserted column, of the rows after `after` in key order. */
  chunkSelect(after: KeyCursor | null, limit: number, value?: ValueExpression): RowQuery;
  /** `FROM … ORDER BY key` over the rows after `after`, each named by its columns. */
  rowsAfter(after: KeyCursor | null): { from: string; params: number[] };
  /** The type and length, and one piece as hex, of one value of the row with `key`. */
  largeValueQueries(column: string, key: KeyCursor): { info: string; piece: string };
}

export function liveRows(table: TablePlan): RowSource {
  return {
    chunkSelect: (after, limit, value) => chunkSelect(table, after, limit, value),
    rowsAfter: (after) => rowsAfter(table, after),
    largeValueQueries: (column, key) => largeValueQueries(table, column, key),
  };
}

const encoder = new TextEncoder();

/**
 * The next rows of a table after `after`, as INSERT statements (UTF-8), up to `maxRows` rows. SQLite
 * writes the text of the whole read (row-batch.ts); a read it cannot write exactly goes cell by cell,
 * up to `maxBytes` of text. Both read the rows of the same query.
 */
export function* readChunk(request: ChunkRequest, source: RowSource = liveRows(request.table)): QueryProgram<ChunkResult> {
  const { table, after, maxRows } = request;
  const batch = yield* readRowBatch(table, source, after, maxRows);
  if (batch) return { sql: batch.sql, rows: batch.rows, bytes: batch.sql.length, lastKey: batch.lastKey, done: batch.rows < maxRows };
  return yield* readCells(request, source, source.chunkSelect(after, maxRows));
}

/** readChunk() with one literal per cell, written in JavaScript, over the rows `query` (from `source`) selects. */
export function* readCells(request: ChunkRequest, source: RowSource, query: RowQuery): QueryProgram<ChunkResult> {
  const { table, after, maxRows, maxBytes } = request;
  const valueWidth = insertColumns(table).length;
  const prefix = insertPrefix(table);
  const parts: string[] = [];
  let bytes = 0;
  let rows = 0;
  let lastKey: KeyCursor | null = after;
  let stoppedEarly = false;
  for (const raw of yield* select(query.sql, ...query.params)) {
    const key = yield* exactKey(table, source, lastKey, raw.slice(0, query.keyWidth) as KeyCursor);
    const literals = yield* exactLiterals(table, source, key, raw.slice(query.keyWidth, query.keyWidth + valueWidth));
    const text = rowStatements(table, prefix, literals, key);
    parts.push(text);
    bytes += text.length;
    rows += 1;
    lastKey = key;
    if (bytes >= maxBytes) {
      stoppedEarly = true;
      break;
    }
  }
  const sql = encoder.encode(parts.join(""));
  return { sql, rows, bytes: sql.length, lastKey, done: !stoppedEarly && rows < maxRows };
}

/**
 * The literal of every inserted column: REALs are written here, values too large for quote() are
 * read in pieces, and text whose literal may have lost bytes is checked against its bytes.
 */
function* exactLiterals(table: TablePlan, source: RowSource, key: KeyCursor, values: SqlValue[]): QueryProgram<string[]> {
  const columns = insertColumns(table);
  const literals: string[] = [];
  for (const [i, value] of values.entries()) {
    if (value === null) literals.push(yield* readLargeValue(source.largeValueQueries(columns[i], key)));
    else if (typeof value === "number") literals.push(realLiteral(value));
    else {
      const literal = value as string;
      // Rare (U+FFFD is rare in real text), so one query per such value.
      if (!literal.includes(REPLACEMENT_CHARACTER)) literals.push(literal);
      else {
        const [hex] = yield* selectOne<[string]>(source.largeValueQueries(columns[i], key).piece, 1, MAX_VALUE_BYTES);
        literals.push(exactText(literal, hex));
      }
    }
  }
  return literals;
}

/** More than any SQLite value holds (SQLITE_MAX_LENGTH is at most 2^31 - 1): substr() of it is the whole value. */
const MAX_VALUE_BYTES = 2 ** 31 - 1;

/**
 * The row's key literals, exact. A text key that lost bytes cannot find its own row again, so its
 * bytes are read from the first row after the previous key: the same row, within one synchronous read.
 */
function* exactKey(table: TablePlan, source: RowSource, previous: KeyCursor | null, key: KeyCursor): QueryProgram<KeyCursor> {
  const unsure = key.flatMap((value, i) => (typeof value === "string" && value.includes(REPLACEMENT_CHARACTER) ? [i] : []));
  if (unsure.length === 0) return key;
  const columns = keyColumns(table);
  const { from, params } = source.rowsAfter(previous);
  const hexes = yield* selectOne<string[]>(`SELECT ${unsure.map((i) => hexOf(columns[i])).join(", ")} ${from} LIMIT 1`, ...params);
  const exact = [...key];
  unsure.forEach((i, j) => (exact[i] = exactText(key[i] as string, hexes[j])));
  return exact;
}

function hexOf(column: string): string {
  return `hex(CAST(${quoteIdentifier(column)} AS BLOB))`;
}

/** The text literal when it holds the value's bytes (a real U+FFFD), else the bytes themselves. */
function exactText(literal: string, hex: string): string {
  return literalBytes(literal).hex === hex ? literal : largeValueLiteral("text", hex);
}

/** The literal of a TEXT or BLOB too large for quote(), read as hex in pieces. */
function* readLargeValue(queries: { info: string; piece: string }): QueryProgram<string> {
  const [type, bytes] = yield* selectOne<[string, number]>(queries.info);
  let hex = "";
  for (let start = 1; start <= bytes; start += LARGE_VALUE_BYTES) {
    hex += (yield* selectOne<[string]>(queries.piece, start, LARGE_VALUE_BYTES))[0];
  }
  return largeValueLiteral(type, hex);
}
