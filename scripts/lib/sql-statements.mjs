// Splits SQL text (a dump) into its statements, aware of quotes, comments and trigger bodies,
// so that every statement's size can be checked against the 100 KB limit of Durable Objects and D1.

/**
 * @typedef {object} SqlStatement
 * @property {string} sql The statement including its terminating ";" (without surrounding whitespace).
 * @property {number} start Offset of its first character in the text (UTF-16 units).
 * @property {number} bytes Its UTF-8 length.
 */

/**
 * Yields the statements of `text` in order. A ";" ends a statement only outside '…', "…", `…`, […],
 * -- and /* comments, and inside CREATE TRIGGER only after the END of the trigger body
 * (the same rule sqlite3_complete() applies). Text after the last ";" is yielded as a statement too.
 * @param {string} text
 * @returns {Generator<SqlStatement>}
 */
export function* splitSqlStatements(text) {
  let start = skipSpace(text, 0);
  let i = start;
  /** Upper-cased words of the current statement, up to the fourth, to recognise CREATE [TEMP] TRIGGER. */
  /** @type {string[]} */
  let leadingWords = [];
  let lastWord = "";
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === "'" || c === '"' || c === "`") {
      i = skipQuoted(text, i, c);
      lastWord = "";
    } else if (c === "[") {
      const close = text.indexOf("]", i + 1);
      i = close < 0 ? n : close + 1;
      lastWord = "";
    } else if (c === "-" && text[i + 1] === "-") {
      const newline = text.indexOf("\n", i + 2);
      i = newline < 0 ? n : newline + 1;
    } else if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === ";") {
      i += 1;
      const inTrigger = isTrigger(leadingWords);
      if (!inTrigger || lastWord === "END") {
        const sql = text.slice(start, i);
        yield { sql, start, bytes: Buffer.byteLength(sql, "utf8") };
        start = skipSpace(text, i);
        i = start;
        leadingWords = [];
      }
      lastWord = "";
    } else if (isWordChar(c)) {
      let end = i + 1;
      while (end < n && isWordChar(text[end])) end++;
      lastWord = text.slice(i, end).toUpperCase();
      if (leadingWords.length < 4) leadingWords.push(lastWord);
      i = end;
    } else {
      if (!/\s/.test(c)) lastWord = "";
      i += 1;
    }
  }
  if (start < n) {
    const sql = text.slice(start).trimEnd();
    if (sql) yield { sql, start, bytes: Buffer.byteLength(sql, "utf8") };
  }
}

/**
 * The largest statements of a text, largest first.
 * @param {string} text
 * @param {number} [count]
 * @returns {{ count: number, largest: SqlStatement[] }}
 */
export function statementSizes(text, count = 3) {
  /** @type {SqlStatement[]} */
  const largest = [];
  let total = 0;
  for (const statement of splitSqlStatements(text)) {
    total += 1;
    if (largest.length < count || statement.bytes > largest[largest.length - 1].bytes) {
      largest.push(statement);
      largest.sort((a, b) => b.bytes - a.bytes);
      if (largest.length > count) largest.pop();
    }
  }
  return { count: total, largest };
}

/** @param {string[]} words */
function isTrigger(words) {
  if (words[0] !== "CREATE") return false;
  return words[1] === "TRIGGER" || ((words[1] === "TEMP" || words[1] === "TEMPORARY") && words[2] === "TRIGGER");
}

/** @param {string} c */
function isWordChar(c) {
  return /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) > 0x7f;
}

/**
 * Index just past the closing quote; a doubled quote is an escaped one.
 * @param {string} text
 * @param {number} i
 * @param {string} quote
 */
function skipQuoted(text, i, quote) {
  let j = i + 1;
  for (;;) {
    const close = text.indexOf(quote, j);
    if (close < 0) return text.length;
    if (text[close + 1] === quote) {
      j = close + 2;
      continue;
    }
    return close + 1;
  }
}

/**
 * @param {string} text
 * @param {number} i
 */
function skipSpace(text, i) {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}
