// Small helpers for writing SQL text.

import { isEscapedByte } from "./utf8-escape";

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * UTF-8 length of text (what a statement size limit counts), without encoding it. A byte that was
 * not UTF-8, escaped as a lone U+DC80–U+DCFF (utf8-escape.ts), counts as the one byte it was.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code < 0xd800 || code > 0xdfff) bytes += 2;
    else if (!isEscapedByte(text, i)) bytes += 1; // a surrogate pair is 4 bytes
  }
  return bytes;
}

/**
 * TEXT and BLOB values larger than this are read in pieces: quote() of them could pass the Durable
 * Object's limit on a string (about 2.2 MB; quote() doubles a BLOB).
 */
export const LARGE_VALUE_BYTES = 512 * 1024;

/**
 * SQL expression, evaluated by SQLite, that turns column `column` into its exact SQL literal text.
 * - REAL values come back as numbers and are written by realLiteral(), because no SQLite float text is
 *   exact everywhere; ±Infinity (inf - inf is NULL) comes back as realLiteral's text, since D1's
 *   JSON answers turn it into null.
 * - TEXT with a NUL byte is written as bytes, because quote() stops at the NUL; so is TEXT with a
 *   carriage return, because the sqlite3 shell drops a CR before a line break even inside a string.
 * - Values over LARGE_VALUE_BYTES come back as NULL (quote() never returns NULL): read them in pieces.
 */
export function literalExpression(column: string): string {
  return literalOf(quoteIdentifier(column));
}

/** literalExpression() of any expression (a qualified column, say), evaluated more than once. */
export function literalOf(c: string): string {
  return (
    `CASE typeof(${c}) WHEN 'real' THEN CASE WHEN ${c} - ${c} IS NULL THEN (CASE WHEN ${c} > 0 THEN '1e999' ELSE '-1e999' END) ELSE ${c} END ` +
    `WHEN 'text' THEN CASE WHEN length(CAST(${c} AS BLOB)) > ${LARGE_VALUE_BYTES} THEN NULL ` +
    // Both searched in the bytes: instr() of a TEXT counts characters as it goes, and a 0x0D byte in UTF-8 is
    // always a CR.
    `WHEN instr(CAST(${c} AS BLOB), X'00') > 0 OR instr(CAST(${c} AS BLOB), X'0D') > 0 ` +
    `THEN 'CAST(' || quote(CAST(${c} AS BLOB)) || ' AS TEXT)' ELSE quote(${c}) END ` +
    `WHEN 'blob' THEN CASE WHEN length(${c}) > ${LARGE_VALUE_BYTES} THEN NULL ELSE quote(${c}) END ` +
    `ELSE quote(${c}) END`
  );
}
