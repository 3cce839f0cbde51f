// Small helpers for writing SQL text.

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** UTF-8 length of text (what a statement size limit counts), without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800 || (code >= 0xd800 && code <= 0xdfff)) bytes += 1; // a surrogate pair is 4 bytes
    else bytes += 2;
  }
  return bytes;
}

/**
 * SQL expression, evaluated by SQLite, that turns column `column` into its exact SQL literal text.
 * REAL values come back as numbers and are written by realLiteral(), because no SQLite float text
 * is exact everywhere. TEXT with a NUL byte is written as bytes, because quote() stops at the NUL.
 */
export function literalExpression(column: string): string {
  const c = quoteIdentifier(column);
  return (
    `CASE typeof(${c}) WHEN 'real' THEN ${c} ` +
    `WHEN 'text' THEN CASE WHEN instr(CAST(${c} AS BLOB), X'00') > 0 ` +
    `THEN 'CAST(' || quote(CAST(${c} AS BLOB)) || ' AS TEXT)' ELSE quote(${c}) END ` +
    `ELSE quote(${c}) END`
  );
}
