// The text of a dump: the statements around the data and the INSERTs for each row.
// The shape follows sqlite3's `.dump` (shell.c.in, dump_callback and run_schema_dump_query).

import type { KeyCursor, SchemaObject, TablePlan } from "./types";
import { literalExpression, literalOf, quoteIdentifier, quoteString, utf8Length } from "./sql-text";
import { realLiteral } from "./real-literal";

/** Durable Objects and D1 refuse statements over 100 KB; every statement of a dump stays under this. */
export const MAX_STATEMENT_BYTES = 100_000;
/** Bytes of value data per UPDATE when a row is too large for one statement. */
const PIECE_BYTES = 32_000;

export const DUMP_HEADER = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n";
export const DUMP_TRAILER = "COMMIT;\n";

export function createTableStatement(table: TablePlan): string {
  return `${table.createSql};\n`;
}

export interface SequenceRow {
  name: string;
  seq: string; // an integer literal, exact
}

/** sqlite_sequence rows to restore; `onlyTables` limits the DELETE to the dumped tables' rows. */
export interface SequenceSection {
  rows: SequenceRow[];
  onlyTables: string[] | null;
}

export function usesAutoincrement(table: TablePlan): boolean {
  return /\bAUTOINCREMENT\b/i.test(table.createSql);
}

/**
 * The start of the file. A data-only dump drops the triggers of its tables first, so that loading rows
 * into a database that has the schema does not fire them; its footer creates them again.
 */
export function dumpPreamble(objects: SchemaObject[], dataOnly: boolean): string {
  if (!dataOnly) return DUMP_HEADER;
  const drops = objects
    .filter((o) => o.type === "trigger")
    .map((o) => `DROP TRIGGER IF EXISTS ${quoteIdentifier(o.name)};\n`);
  return DUMP_HEADER + drops.join("");
}

/**
 * Everything after the data: sequences, FTS rebuilds, then views, triggers and indexes, then COMMIT.
 * A schema-only dump passes no sequences and no rebuilds; a data-only dump passes only its triggers.
 */
export function dumpFooter(
  sequences: SequenceSection | null,
  rebuildTables: string[],
  objects: SchemaObject[],
): string {
  let text = "";
  if (sequences) {
    text += sequences.onlyTables
      ? `DELETE FROM sqlite_sequence WHERE name IN (${sequences.onlyTables.map(quoteString).join(",")});\n`
      : "DELETE FROM sqlite_sequence;\n";
    for (const row of sequences.rows) {
      text += `INSERT INTO sqlite_sequence VALUES(${quoteString(row.name)},${row.seq});\n`;
    }
  }
  for (const name of rebuildTables) {
    const q = quoteIdentifier(name);
    text += `INSERT INTO ${q}(${q}) VALUES('rebuild');\n`;
  }
  for (const object of objects) text += `${object.sql};\n`;
  return text + DUMP_TRAILER;
}

/** Columns named in each INSERT: the rowid first when it is preserved. */
export function insertColumns(table: TablePlan): string[] {
  return table.insertRowid ? [rowidName(table), ...table.columns] : table.columns;
}

function rowidName(table: TablePlan): string {
  return table.key.kind === "rowid" ? table.key.column : "rowid";
}

export function insertPrefix(table: TablePlan): string {
  const columns = insertColumns(table).map(quoteIdentifier).join(",");
  return `INSERT INTO ${quoteIdentifier(table.name)}(${columns}) VALUES(`;
}

/** What a chunk read selects of the `index`th inserted column, given the SQL expression of its value: by default its literal. */
export type ValueExpression = (expression: string, index: number) => string;

/**
 * SELECT that reads the next rows after `after`, in key order: the key literals first,
 * then one `value` expression (by default the literal) per inserted column.
 */
export function chunkSelect(table: TablePlan, after: KeyCursor | null, limit: number, value: ValueExpression = literalOf): {
  sql: string;
  params: number[];
  keyWidth: number;
} {
  const keys = keyColumns(table);
  const selectKeys = keys.map((c) => literalExpression(c));
  const selectValues = insertColumns(table).map((c, i) => value(quoteIdentifier(c), i));
  const { from, params } = rowsAfter(table, after);
  const sql = `SELECT ${[...selectKeys, ...selectValues].join(", ")} ${from} LIMIT ${Math.max(1, Math.floor(limit))}`;
  return { sql, params, keyWidth: keys.length };
}

export function keyColumns(table: TablePlan): string[] {
  return table.key.kind === "rowid" ? [table.key.column] : table.key.columns;
}

/** `FROM table WHERE key > after ORDER BY key`: the rows after a cursor, in key order. */
export function rowsAfter(table: TablePlan, after: KeyCursor | null): { from: string; params: number[] } {
  const keys = keyColumns(table);
  const keyList = keys.map(quoteIdentifier).join(",");
  const params: number[] = [];
  let where = "";
  if (after) {
    const bounds = after.map((value) => {
      if (typeof value === "number") {
        params.push(value);
        return "?";
      }
      return value;
    });
    where = keys.length === 1 ? ` WHERE ${keyList} > ${bounds[0]}` : ` WHERE (${keyList}) > (${bounds.join(",")})`;
  }
  return { from: `FROM ${quoteIdentifier(table.name)}${where} ORDER BY ${keyList}`, params };
}

/** The WHERE clause that finds one row again by its key literals. */
export function keyMatch(table: TablePlan, key: KeyCursor): string {
  return keyColumns(table)
    .map((column, i) => {
      const value = key[i];
      return `${quoteIdentifier(column)}=${typeof value === "number" ? realLiteral(value) : value}`;
    })
    .join(" AND ");
}

/**
 * How to read a value that literalExpression() left NULL for being large: `info` gives its type and
 * byte length, `piece` (bound to start and length) one slice of it as hex.
 */
export function largeValueQueries(table: TablePlan, column: string, key: KeyCursor): { info: string; piece: string } {
  const c = quoteIdentifier(column);
  const from = `FROM ${quoteIdentifier(table.name)} WHERE ${keyMatch(table, key)}`;
  return {
    info: `SELECT typeof(${c}) AS type, length(CAST(${c} AS BLOB)) AS bytes ${from}`,
    piece: `SELECT hex(substr(CAST(${c} AS BLOB), ?, ?)) AS piece ${from}`,
  };
}

export function largeValueLiteral(type: string, hex: string): string {
  return type === "blob" ? `X'${hex}'` : `CAST(X'${hex}' AS TEXT)`;
}

/**
 * The statements that insert one row, given the literal of every inserted column.
 * A row whose INSERT would exceed MAX_STATEMENT_BYTES is inserted with its large values empty,
 * then completed by UPDATEs that append at most PIECE_BYTES of the value each (less when the key is long).
 */
export function rowStatements(table: TablePlan, prefix: string, literals: string[], key: KeyCursor): string {
  const statement = `${prefix}${literals.join(",")});\n`;
  if (statement.length <= MAX_STATEMENT_BYTES / 3 || utf8Length(statement) <= MAX_STATEMENT_BYTES) {
    return statement;
  }
  return splitRow(table, prefix, literals, key);
}

function splitRow(table: TablePlan, prefix: string, literals: string[], key: KeyCursor): string {
  const columns = insertColumns(table);
  const where = keyMatch(table, key);
  const target = quoteIdentifier(table.name);
  const sizes = literals.map(utf8Length);
  // Key values stay inline, since the UPDATEs find the row by them; then the smallest values
  // until the INSERT is as large as it may be.
  const keyIndexes = table.key.kind === "primaryKey" ? table.key.columns.map((c) => columns.indexOf(c)).filter((i) => i >= 0) : [];
  const order = [
    ...keyIndexes,
    ...sizes.map((_, i) => i).filter((i) => !keyIndexes.includes(i)).sort((a, b) => sizes[a] - sizes[b]),
  ];
  const inline = new Array<boolean>(literals.length).fill(false);
  let budget = MAX_STATEMENT_BYTES - utf8Length(prefix) - 8 - literals.length * 24;
  for (const i of order) {
    if (keyIndexes.includes(i) && sizes[i] > budget) {
      throw new Error(`table ${table.name}: a primary key of ${sizes[i]} bytes leaves no room to split its row`);
    }
    if (sizes[i] <= budget) {
      inline[i] = true;
      budget -= sizes[i] + 1;
    }
  }
  const values = literals.map((literal, i) => (inline[i] ? literal : emptyValueFor(table, i, literal)));
  let text = `${prefix}${values.join(",")});\n`;
  literals.forEach((literal, i) => {
    if (inline[i]) return;
    const column = quoteIdentifier(columns[i]);
    const { hex, isText } = literalBytes(literal);
    const textPieces = isText && keepsTextWhileAppending(table, i);
    // Every UPDATE repeats the key, so a long key leaves less room for the piece.
    const overhead = utf8Length(`UPDATE ${target} SET ${column}=CAST(${column}||X'' AS TEXT) WHERE ${where};\n`);
    const pieceBytes = Math.min(PIECE_BYTES, Math.floor((MAX_STATEMENT_BYTES - overhead) / 2));
    if (pieceBytes < 1) throw new Error(`table ${table.name}: its key leaves no room to split a row`);
    for (let start = 0; start < hex.length; start += pieceBytes * 2) {
      const piece = `X'${hex.slice(start, start + pieceBytes * 2)}'`;
      const appended = textPieces
        ? `${column}||CAST(${piece} AS TEXT)`
        : `CAST(${column}||${piece} AS BLOB)`;
      text += `UPDATE ${target} SET ${column}=${appended} WHERE ${where};\n`;
    }
    if (isText && !textPieces) text += `UPDATE ${target} SET ${column}=CAST(${column} AS TEXT) WHERE ${where};\n`;
  });
  return text;
}

/** STRICT TEXT columns refuse BLOBs, so pieces are appended as TEXT there; elsewhere as BLOBs, which no affinity rewrites. */
function keepsTextWhileAppending(table: TablePlan, literalIndex: number): boolean {
  const columnIndex = table.insertRowid ? literalIndex - 1 : literalIndex;
  return table.strict && table.columnTypes[columnIndex] === "TEXT";
}

function emptyValueFor(table: TablePlan, literalIndex: number, literal: string): string {
  const isText = !literal.startsWith("X'");
  return isText && keepsTextWhileAppending(table, literalIndex) ? "''" : "X''";
}

const encoder = new TextEncoder();

/** The bytes of a TEXT or BLOB literal, as hex. */
export function literalBytes(literal: string): { hex: string; isText: boolean } {
  if (literal.startsWith("X'")) return { hex: literal.slice(2, -1), isText: false };
  const castMatch = /^CAST\(X'([0-9A-Fa-f]*)' AS TEXT\)$/.exec(literal);
  if (castMatch) return { hex: castMatch[1], isText: true };
  if (literal.startsWith("'")) {
    const text = literal.slice(1, -1).replaceAll("''", "'");
    return { hex: toHex(encoder.encode(text)), isText: true };
  }
  throw new Error(`a value of ${literal.length} bytes that is neither TEXT nor BLOB cannot be split`);
}

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, "0");
  return out.toUpperCase();
}
