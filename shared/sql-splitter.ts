// Splits SQL text into statements the way SQLite itself finds their ends, fed slice by slice.
//
// Token rules follow SQLite's tokenizer (tokenize.c): '…' strings and "…", `…`, […] identifiers
// (doubled quotes escape; [..] has no escape), -- and /* */ comments, X'..' blobs (a word and a
// string). Statement ends follow sqlite3_complete() (complete.c), which the sqlite3 shell uses to
// read a .dump: a `;` ends a statement, except inside CREATE [TEMP] TRIGGER, which ends at `;END;`.

import { utf8Length } from "./sql-text";
import { EscapingUtf8Decoder, escapedTextHex, isEscapedByte, mayHoldEscapedBytes } from "./utf8-escape";

export interface SplitStatement {
  /** The statement without leading whitespace/comments and without its terminating `;`. */
  sql: string;
  /** Byte offset of the statement's first character, counted from where the splitter started. */
  start: number;
  /** Byte offset just after its `;` (or the end of input for an unterminated last statement). */
  end: number;
  /** 1-based line of its first character. */
  line: number;
  /** 1-based line at `end`. */
  endLine: number;
}

export type TokenKind = "space" | "semi" | "word" | "quoted" | "other";

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

// complete.c token classes and states.
const enum Tk {
  Semi = 0,
  Ws = 1,
  Other = 2,
  Explain = 3,
  Create = 4,
  Temp = 5,
  Trigger = 6,
  End = 7,
}
const enum State {
  Invalid = 0,
  Start = 1,
  Normal = 2,
  Explain = 3,
  Create = 4,
  Trigger = 5,
  Semi = 6,
  End = 7,
}
// prettier-ignore
const TRANSITIONS: number[][] = [
  /*                 SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
  /* 0 INVALID: */ [ 1,   0, 2,    3,      4,     2,   2,      2 ],
  /* 1   START: */ [ 1,   1, 2,    3,      4,     2,   2,      2 ],
  /* 2  NORMAL: */ [ 1,   2, 2,    2,      2,     2,   2,      2 ],
  /* 3 EXPLAIN: */ [ 1,   3, 3,    2,      4,     2,   2,      2 ],
  /* 4  CREATE: */ [ 1,   4, 2,    2,      2,     4,   5,      2 ],
  /* 5 TRIGGER: */ [ 6,   5, 5,    5,      5,     5,   5,      5 ],
  /* 6    SEMI: */ [ 6,   6, 5,    5,      5,     5,   5,      7 ],
  /* 7     END: */ [ 1,   7, 5,    5,      5,     5,   5,      5 ],
];

const KEYWORDS: Record<string, Tk> = {
  CREATE: Tk.Create,
  TEMP: Tk.Temp,
  TEMPORARY: Tk.Temp,
  TRIGGER: Tk.Trigger,
  END: Tk.End,
  EXPLAIN: Tk.Explain,
};

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** SQLite's IdChar: letters, digits, _, $ and every non-ASCII character. */
export function isIdChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x5f ||
    code === 0x24 ||
    code >= 0x80
  );
}

/** Removes trailing SQLite whitespace (not other Unicode spaces, which SQLite reads as identifier characters). */
function trimSqlEnd(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(0, end);
}

/**
 * The token at `i`, or null when it may continue past the end of `text` and `final` is false
 * (an unclosed quote or comment, a word or `--` cut at the end, a closing quote that may be doubled).
 */
export function nextToken(text: string, i: number, final: boolean): Token | null {
  const n = text.length;
  const c = text.charCodeAt(i);
  const token = (kind: TokenKind, end: number): Token => ({ kind, start: i, end });
  if (isSpace(c)) {
    let j = i + 1;
    while (j < n && isSpace(text.charCodeAt(j))) j++;
    return token("space", j);
  }
  switch (c) {
    case 0x3b: // ;
      return token("semi", i + 1);
    case 0x2d: // -
      if (i + 1 >= n) return final ? token("other", i + 1) : null;
      if (text.charCodeAt(i + 1) !== 0x2d) return token("other", i + 1);
      {
        const newline = text.indexOf("\n", i + 2);
        if (newline >= 0) return token("space", newline);
        return final ? token("space", n) : null;
      }
    case 0x2f: // /
      if (i + 1 >= n) return final ? token("other", i + 1) : null;
      if (text.charCodeAt(i + 1) !== 0x2a) return token("other", i + 1);
      {
        const close = text.indexOf("*/", i + 2);
        if (close >= 0) return token("space", close + 2);
        return final ? token("space", n) : null;
      }
    case 0x27: // '
    case 0x22: // "
    case 0x60: // `
      return quoted(text, i, String.fromCharCode(c), final);
    case 0x5b: {
      // [ … ]
      const close = text.indexOf("]", i + 1);
      if (close >= 0) return token("quoted", close + 1);
      return final ? token("quoted", n) : null;
    }
  }
  if (isIdChar(c)) {
    let j = i + 1;
    while (j < n && isIdChar(text.charCodeAt(j))) j++;
    if (j === n && !final) return null;
    return token("word", j);
  }
  return token("other", i + 1);
}

function quoted(text: string, i: number, quote: string, final: boolean): Token | null {
  let j = i + 1;
  for (;;) {
    const close = text.indexOf(quote, j);
    if (close < 0) return final ? { kind: "quoted", start: i, end: text.length } : null;
    if (close + 1 >= text.length) return final ? { kind: "quoted", start: i, end: close + 1 } : null;
    if (text[close + 1] !== quote) return { kind: "quoted", start: i, end: close + 1 };
    j = close + 2;
  }
}

/** Characters that cannot start a quote, a comment or a `;`. */
const PLAIN_RUN = /[^;'"`[\-/]+/y;

/**
 * The position of the next `;` that is not inside quotes or a comment (found), or where scanning must
 * resume once more text has arrived: the end of the text, or the start of a token it may cut.
 */
function skipToSemicolon(text: string, from: number, final: boolean): { at: number; found: boolean } {
  let i = from;
  for (;;) {
    PLAIN_RUN.lastIndex = i;
    if (PLAIN_RUN.test(text)) i = PLAIN_RUN.lastIndex;
    if (i >= text.length) return { at: i, found: false };
    if (text.charCodeAt(i) === 0x3b) return { at: i, found: true };
    const token = nextToken(text, i, final);
    if (!token) return { at: i, found: false };
    i = token.end;
  }
}

function completeClass(text: string, token: Token): Tk {
  switch (token.kind) {
    case "space":
      return Tk.Ws;
    case "semi":
      return Tk.Semi;
    case "word": {
      const length = token.end - token.start;
      if (length < 3 || length > 9) return Tk.Other;
      return KEYWORDS[text.slice(token.start, token.end).toUpperCase()] ?? Tk.Other;
    }
    default:
      return Tk.Other;
  }
}

/**
 * Incremental splitter. `push()` each slice of text as it arrives and collect the complete
 * statements; `finish()` at the end of input returns an unterminated last statement, if any.
 * Offsets count UTF-8 bytes, so a caller reading a file by byte range can resume at `end`.
 */
export class SqlSplitter {
  private buffer = "";
  /** Where scanning resumes in `buffer`. */
  private scan = 0;
  private state: State = State.Invalid;
  /** Start in `buffer` of the current statement's first token, or -1 before it. */
  private statementStart = -1;
  private statementLine = 0;
  /** Position in `buffer` up to which bytes and lines have been counted. */
  private counted = 0;
  private countedBytes: number;
  private countedLine: number;
  private atInputStart: boolean;

  constructor(startByte = 0, startLine = 1) {
    this.countedBytes = startByte;
    this.countedLine = startLine;
    this.atInputStart = startByte === 0;
  }

  push(text: string): SplitStatement[] {
    this.buffer += text;
    return this.run(false);
  }

  finish(): SplitStatement[] {
    const statements = this.run(true);
    if (this.statementStart >= 0) {
      const sql = trimSqlEnd(this.buffer.slice(this.statementStart));
      const start = this.bytesAt(this.statementStart);
      const end = this.bytesAt(this.buffer.length);
      statements.push({ sql, start, end, line: this.statementLine, endLine: this.countedLine });
      this.statementStart = -1;
    }
    this.compact(this.buffer.length);
    return statements;
  }

  /** The unfinished statement received so far (from its first token), or trailing whitespace and comments. */
  get pendingText(): string {
    return this.buffer.slice(this.scanBase());
  }

  /** Byte offset just after the last statement returned (where a resumed splitter would start). */
  get consumedBytes(): number {
    return this.bytesAt(this.scanBase());
  }

  /** Line at `consumedBytes`. */
  get consumedLine(): number {
    this.bytesAt(this.scanBase());
    return this.countedLine;
  }

  private scanBase(): number {
    return this.statementStart >= 0 ? this.statementStart : Math.min(this.scan, this.counted);
  }

  private run(final: boolean): SplitStatement[] {
    const out: SplitStatement[] = [];
    const text = this.buffer;
    if (this.atInputStart && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) this.scan = 1; // a UTF-8 byte order mark
      this.atInputStart = false;
    }
    while (this.scan < text.length) {
      if (this.state === State.Normal) {
        // Only a `;` changes this state: skip quoted text and comments up to the next one.
        const skipped = skipToSemicolon(text, this.scan, final);
        this.scan = skipped.at;
        if (!skipped.found) break;
      }
      const token = nextToken(text, this.scan, final);
      if (!token) break;
      const tokenClass = completeClass(text, token);
      if (tokenClass !== Tk.Ws && tokenClass !== Tk.Semi && this.statementStart < 0) {
        this.statementStart = token.start;
        this.bytesAt(token.start);
        this.statementLine = this.countedLine;
      }
      this.state = TRANSITIONS[this.state][tokenClass];
      this.scan = token.end;
      if (tokenClass === Tk.Semi && this.state === State.Start) {
        if (this.statementStart >= 0) {
          const start = this.bytesAt(this.statementStart);
          const sql = trimSqlEnd(text.slice(this.statementStart, token.start));
          const end = this.bytesAt(token.end);
          out.push({ sql, start, end, line: this.statementLine, endLine: this.countedLine });
          this.statementStart = -1;
        } else {
          this.bytesAt(token.end); // an empty statement: consumed with nothing to run
        }
      }
    }
    this.compact(this.statementStart >= 0 ? this.statementStart : this.counted);
    return out;
  }

  /** Counts bytes and lines up to `position` in `buffer` (positions only move forward). */
  private bytesAt(position: number): number {
    if (position > this.counted) {
      const segment = this.buffer.slice(this.counted, position);
      this.countedBytes += utf8Length(segment);
      for (let i = segment.indexOf("\n"); i >= 0; i = segment.indexOf("\n", i + 1)) this.countedLine++;
      this.counted = position;
    }
    return this.countedBytes;
  }

  /** Drops text before `position`, which is no longer needed. */
  private compact(position: number): void {
    const drop = Math.min(position, this.counted, this.scan);
    if (drop <= 0) return;
    this.buffer = this.buffer.slice(drop);
    this.scan -= drop;
    this.counted -= drop;
    if (this.statementStart >= 0) this.statementStart -= drop;
  }
}

/** Thrown when a file cannot be read as SQL text at all; retrying cannot help. */
export class SqlFileError extends Error {}

export interface ReadPosition {
  /** Byte offset in the file, at a statement boundary. */
  offset: number;
  /** 1-based line at `offset`. */
  line: number;
}

export interface StatementsRead {
  statements: SplitStatement[];
  /** Where the next read starts: after the last statement returned, or the file's end. */
  next: ReadPosition;
  /** Everything up to the end of the file was returned. */
  endOfFile: boolean;
}

/**
 * Reads the file from `from` by byte ranges and returns the complete statements of at least one
 * slice (more when a single statement is longer than a slice). A statement cut by the slice end is
 * not returned; the next read starts again at its first byte, so nothing has to be carried over.
 */
export async function readStatements(
  read: (offset: number, length: number) => Promise<Uint8Array>,
  from: ReadPosition,
  fileBytes: number,
  sliceBytes: number,
  maxStatementBytes: number,
): Promise<StatementsRead> {
  const splitter = new SqlSplitter(from.offset, from.line);
  const decoder = new EscapingUtf8Decoder();
  const statements: SplitStatement[] = [];
  // Bytes that are not UTF-8 are kept, escaped, only inside the string literals of data statements.
  const exact = () => (decoder.sawInvalidBytes ? statements.map(exactTextLiterals) : statements);
  let position = from.offset;
  for (;;) {
    if (position >= fileBytes) {
      statements.push(...splitter.push(decoder.decode(new Uint8Array(0), true)), ...splitter.finish());
      return { statements: exact(), next: { offset: fileBytes, line: splitter.consumedLine }, endOfFile: true };
    }
    const bytes = await read(position, Math.min(sliceBytes, fileBytes - position));
    if (bytes.length === 0) throw new Error(`the file ends at byte ${position}, before its recorded size ${fileBytes}`);
    position += bytes.length;
    statements.push(...splitter.push(decoder.decode(bytes)));
    const last = statements.at(-1);
    if (last && position - from.offset >= sliceBytes) {
      return { statements: exact(), next: { offset: last.end, line: last.endLine }, endOfFile: false };
    }
    if (position - splitter.consumedBytes > maxStatementBytes) {
      throw new SqlFileError(
        `the statement at line ${splitter.consumedLine} (after byte ${splitter.consumedBytes}) is longer than ${maxStatementBytes} bytes`,
      );
    }
  }
}

/**
 * The statement with each string literal that holds bytes that are not UTF-8 (escaped by
 * EscapingUtf8Decoder) written as CAST(X'…' AS TEXT), which restores those bytes exactly: sqlite3
 * .dump writes such TEXT as raw bytes inside a literal. Only INSERT, REPLACE and UPDATE are
 * rewritten; such bytes anywhere else cannot be kept and are refused.
 */
export function exactTextLiterals(statement: SplitStatement): SplitStatement {
  const { sql } = statement;
  if (!mayHoldEscapedBytes(sql)) return statement;
  const refuse = (where: string) => {
    throw new SqlFileError(
      `the file is not valid UTF-8 text: statement at line ${statement.line} (byte ${statement.start}) has bytes that are not UTF-8 ${where}`,
    );
  };
  const head = leadingTokens(sql, 1)[0];
  if (!head || head.kind !== "word" || !DATA_STATEMENTS.has(sql.slice(head.start, head.end).toUpperCase())) {
    refuse("outside the string literals of an INSERT, REPLACE or UPDATE");
  }
  let out = "";
  let copied = 0;
  for (let i = 0; i < sql.length; ) {
    const token = nextToken(sql, i, true)!;
    i = token.end;
    const text = sql.slice(token.start, token.end);
    if (!hasEscapedByte(text)) continue;
    const stringLiteral = text.startsWith("'") && text.endsWith("'") && text.length > 1 && !isIdChar(sql.charCodeAt(token.start - 1));
    if (!stringLiteral) refuse("outside a string literal");
    out += `${sql.slice(copied, token.start)}CAST(X'${escapedTextHex(text.slice(1, -1).replaceAll("''", "'"))}' AS TEXT)`;
    copied = token.end;
  }
  return { ...statement, sql: out + sql.slice(copied) };
}

function hasEscapedByte(text: string): boolean {
  if (!mayHoldEscapedBytes(text)) return false;
  for (let i = 0; i < text.length; i++) if (isEscapedByte(text, i)) return true;
  return false;
}

/** Every statement of complete text. */
export function splitStatements(text: string): SplitStatement[] {
  const splitter = new SqlSplitter();
  return [...splitter.push(text), ...splitter.finish()];
}

// ---- What a Durable Object does with each statement of a restored file ----

/** What a restore does with one statement. */
export type StatementAction =
  /** Run it. `table` names the table an INSERT or CREATE TABLE writes, for progress. */
  | { action: "run"; table: string | null; onlyIfTableExists?: string }
  /** Leave it out: the restore does its job another way (each step is its own transaction). */
  | { action: "skip"; reason: string }
  /** PRAGMA foreign_keys=…: enforce (or not) foreign keys for the statements that follow. */
  | { action: "foreign-keys"; enabled: boolean }
  /** Stop the restore here: the statement cannot mean what the file intends inside a Durable Object. */
  | { action: "refuse"; reason: string };

/** Tables a restore never creates or fills: SQLite's, Cloudflare's and local development's own. */
export function isPlatformTable(name: string): boolean {
  return /^(_cf_|__miniflare)/i.test(name) || name.toLowerCase() === "sqlite_sequence";
}

const TRANSACTION_SKIP = "transaction control: every restore step is its own transaction";

/** The head (up to the table name) and action of the last INSERT classified: a dump repeats it for every row. */
let lastInsert: { head: string; action: StatementAction } | null = null;

export function classifyStatement(sql: string): StatementAction {
  if (lastInsert && sql.startsWith(lastInsert.head) && !continuesName(sql.charCodeAt(lastInsert.head.length))) {
    return lastInsert.action;
  }
  const words = leadingTokens(sql, 12);
  const word = (i: number) => (words[i] && words[i].kind === "word" ? sql.slice(words[i].start, words[i].end).toUpperCase() : "");
  const text = (i: number) => (words[i] ? sql.slice(words[i].start, words[i].end) : "");
  switch (word(0)) {
    case "BEGIN":
    case "COMMIT":
    case "END":
    case "SAVEPOINT":
    case "RELEASE":
      return { action: "skip", reason: TRANSACTION_SKIP };
    case "ROLLBACK":
      return {
        action: "refuse",
        reason:
          "the file rolls back its own transaction here (sqlite3 .dump writes ROLLBACK when the dump itself failed), so its data is incomplete",
      };
    case "PRAGMA":
      return classifyPragma(words, sql);
    case "CREATE": {
      let i = 1;
      if (word(i) === "TEMP" || word(i) === "TEMPORARY" || word(i) === "VIRTUAL") i++;
      if (word(i) !== "TABLE") return { action: "run", table: null };
      i++;
      if (word(i) === "IF" && word(i + 1) === "NOT" && word(i + 2) === "EXISTS") i += 3;
      const table = qualifiedName(words, i, sql);
      if (table && word(1) !== "VIRTUAL" && isPlatformTable(table)) {
        return { action: "skip", reason: `${table} is created by SQLite or the platform itself` };
      }
      return { action: "run", table };
    }
    case "INSERT":
    case "REPLACE": {
      let i = 1;
      if (word(0) === "INSERT" && word(1) === "OR") i = 3;
      if (word(i) !== "INTO") return { action: "run", table: null };
      const table = qualifiedName(words, i + 1, sql);
      if (table && /^(_cf_|__miniflare)/i.test(table)) {
        return { action: "skip", reason: `${table} belongs to the platform` };
      }
      const action: StatementAction = { action: "run", table };
      const nameEnd = words[i + 2] && sql[words[i + 2].start] === "." ? words[i + 3]?.end : words[i + 1]?.end;
      if (table && nameEnd !== undefined) lastInsert = { head: sql.slice(0, nameEnd), action };
      return action;
    }
    case "DELETE":
      if (word(1) === "FROM" && unquoteIdentifier(text(2)).toLowerCase() === "sqlite_sequence" && !text(3).startsWith(".")) {
        // sqlite3 .dump writes this whenever the source had the table; the target may not have it.
        return { action: "run", table: null, onlyIfTableExists: "sqlite_sequence" };
      }
      return { action: "run", table: null };
    default:
      return { action: "run", table: null };
  }
}

function classifyPragma(words: Token[], sql: string): StatementAction {
  let i = 1;
  const at = (k: number) => (words[k] ? sql.slice(words[k].start, words[k].end) : "");
  if (at(i + 1) === ".") i += 2; // schema.pragma
  const name = unquoteIdentifier(at(i)).toLowerCase();
  const hasValue = at(i + 1) === "=" || at(i + 1) === "(";
  const value = hasValue ? unquoteIdentifier(at(i + 2)).toLowerCase() : "";
  if (name === "foreign_keys" && hasValue) {
    const enabled = ["on", "true", "yes", "1"].includes(value);
    if (!enabled && !["off", "false", "no", "0"].includes(value)) return { action: "run", table: null };
    return { action: "foreign-keys", enabled };
  }
  if (name === "defer_foreign_keys" && hasValue) {
    return { action: "skip", reason: "foreign keys are checked per restore step; see PRAGMA foreign_keys" };
  }
  if (name === "writable_schema") {
    return {
      action: "refuse",
      reason:
        "PRAGMA writable_schema is not allowed in a Durable Object (sqlite3 .dump writes it for virtual tables such as FTS); dump such tables with this service's /export/dump instead",
    };
  }
  return { action: "run", table: null };
}

/** Whether a character right after a table name would make it a different name (or a schema). */
function continuesName(code: number): boolean {
  return isIdChar(code) || code === 0x2e || code === 0x22 || code === 0x27 || code === 0x60 || code === 0x5d;
}

/** The first `count` tokens that are not whitespace or comments. */
function leadingTokens(sql: string, count: number): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < sql.length && tokens.length < count; ) {
    const token = nextToken(sql, i, true)!;
    if (token.kind !== "space") tokens.push(token);
    i = token.end;
  }
  return tokens;
}

/** `name` or `schema.name` starting at token `i`, unquoted; null when there is none. */
function qualifiedName(tokens: Token[], i: number, sql: string): string | null {
  const at = (k: number) => (tokens[k] ? sql.slice(tokens[k].start, tokens[k].end) : "");
  const first = tokens[i];
  if (!first || (first.kind !== "word" && first.kind !== "quoted")) return null;
  if (at(i + 1) === "." && tokens[i + 2] && (tokens[i + 2].kind === "word" || tokens[i + 2].kind === "quoted")) {
    return unquoteIdentifier(at(i + 2));
  }
  return unquoteIdentifier(at(i));
}

/** "a""b" → a"b, [x] → x, `x` → x, 'x' → x; anything else unchanged. */
export function unquoteIdentifier(token: string): string {
  const open = token[0];
  if (open === "[") return token.slice(1, token.endsWith("]") ? -1 : undefined);
  if (open === '"' || open === "`" || open === "'") {
    const body = token.endsWith(open) && token.length > 1 ? token.slice(1, -1) : token.slice(1);
    return body.replaceAll(open + open, open);
  }
  return token;
}

// ---- REAL literals the Durable Object would misread ----

const DATA_STATEMENTS = new Set(["INSERT", "REPLACE", "UPDATE"]);

/**
 * An INSERT, REPLACE or UPDATE with each decimal REAL literal (such as sqlite3 .dump's
 * 1.9799999999999999822) replaced by `exactText` of the double it denotes. JavaScript reads decimal
 * text with correct rounding; the Durable Object's SQLite misreads some of it (DESIGN.md §2).
 * Other statements are returned unchanged: a CREATE keeps its text, which SQLite stores.
 */
export function exactRealLiterals(sql: string, exactText: (value: number) => string): string {
  const head = leadingTokens(sql, 1)[0];
  if (!head || head.kind !== "word" || !DATA_STATEMENTS.has(sql.slice(head.start, head.end).toUpperCase())) return sql;
  let out = "";
  let copied = 0;
  REAL_SCAN.lastIndex = 0;
  for (let match = REAL_SCAN.exec(sql); match; match = REAL_SCAN.exec(sql)) {
    const [all, number, exponent, trailing] = match;
    // An integer, a word that starts with digits, or a quoted text, a comment or an identifier.
    if (number === undefined || trailing !== "" || (!number.includes(".") && exponent === undefined)) continue;
    const text = exponent === undefined ? number : number + exponent;
    const value = Number(text);
    const exact = Number.isFinite(value) ? exactText(value) : text;
    if (exact !== text) {
      out += sql.slice(copied, match.index) + exact;
      copied = match.index + all.length;
    }
  }
  return copied === 0 ? sql : out + sql.slice(copied);
}

/**
 * Tokens as nextToken() reads them, for exactRealLiterals(): quoted text (closed or running to the
 * end), comments and identifiers are matched whole so that nothing inside them looks like a number;
 * a number is a word that starts with a digit, or `.digits` not right after an identifier or a quote.
 */
const REAL_SCAN = new RegExp(
  [
    `'[^']*(?:''[^']*)*(?:'|$)`,
    `"[^"]*(?:""[^"]*)*(?:"|$)`,
    "`[^`]*(?:``[^`]*)*(?:`|$)",
    `\\[[^\\]]*(?:]|$)`,
    `--[^\\n]*`,
    `/\\*[\\s\\S]*?(?:\\*/|$)`,
    `[A-Za-z_$\\u0080-\\uffff][\\w$\\u0080-\\uffff]*`,
    `(\\d+(?:\\.\\d*)?|(?<![\\w$\\u0080-\\uffff"\`\\]])\\.\\d+)([eE][+-]?\\d+)?([\\w$\\u0080-\\uffff]*)`,
  ].join("|"),
  "g",
);

// ---- Statements over the Durable Object's size limit ----

export type FitResult = { ok: true; statements: string[] } | { ok: false; reason: string };

/**
 * `sql` as statements of at most `maxBytes` UTF-8 bytes each. A multi-row INSERT … VALUES (…),(…)
 * is cut into several INSERTs with the same head and tail (e.g. ON CONFLICT …); anything else
 * that is too long cannot be cut and is reported.
 */
export function fitStatement(sql: string, maxBytes: number): FitResult {
  if (sql.length * 3 <= maxBytes) return { ok: true, statements: [sql] }; // a UTF-16 unit is at most 3 UTF-8 bytes
  const size = utf8Length(sql);
  if (size <= maxBytes) return { ok: true, statements: [sql] };
  const rows = valuesRows(sql);
  if (!rows) {
    return { ok: false, reason: `it is ${size} bytes, over the ${maxBytes}-byte statement limit, and is not a multi-row INSERT … VALUES that could be cut` };
  }
  const head = sql.slice(0, rows.headEnd);
  const tail = sql.slice(rows.tailStart);
  const fixed = utf8Length(head) + utf8Length(tail);
  const statements: string[] = [];
  let group: string[] = [];
  let groupBytes = fixed;
  for (const [index, [start, end]] of rows.rows.entries()) {
    const row = sql.slice(start, end);
    const rowBytes = utf8Length(row);
    if (fixed + rowBytes > maxBytes) {
      return {
        ok: false,
        reason: `row ${index + 1} of its VALUES alone makes a ${fixed + rowBytes}-byte INSERT, over the ${maxBytes}-byte statement limit`,
      };
    }
    const separator = group.length ? 1 : 0;
    if (groupBytes + separator + rowBytes > maxBytes) {
      statements.push(head + group.join(",") + tail);
      group = [];
      groupBytes = fixed;
    }
    groupBytes += (group.length ? 1 : 0) + rowBytes;
    group.push(row);
  }
  if (group.length) statements.push(head + group.join(",") + tail);
  return { ok: true, statements };
}

/**
 * For INSERT/REPLACE INTO t … VALUES (…),(…) …: where the head ends (at the first row), each row's
 * [start, end) including its parentheses, and where the tail after the last row begins.
 * Null for any other statement, including INSERT … SELECT … VALUES, whose rows are not all in VALUES.
 */
export function valuesRows(sql: string): { headEnd: number; rows: Array<[number, number]>; tailStart: number } | null {
  let i = 0;
  const next = (): Token | null => {
    while (i < sql.length) {
      const token = nextToken(sql, i, true)!;
      i = token.end;
      if (token.kind !== "space") return token;
    }
    return null;
  };
  const upper = (t: Token | null) => (t && t.kind === "word" ? sql.slice(t.start, t.end).toUpperCase() : "");
  const char = (t: Token | null) => (t && t.kind === "other" ? sql[t.start] : "");
  const first = upper(next());
  if (first !== "INSERT" && first !== "REPLACE") return null;
  let depth = 0;
  for (;;) {
    const t = next();
    if (!t) return null;
    if (char(t) === "(") depth++;
    else if (char(t) === ")") depth--;
    else if (depth === 0 && upper(t) === "SELECT") return null;
    else if (depth === 0 && upper(t) === "VALUES") break;
  }
  const rows: Array<[number, number]> = [];
  let open = next();
  const headEnd = open ? open.start : sql.length;
  let tailStart = headEnd;
  while (open && char(open) === "(") {
    depth = 1;
    let close: Token | null = null;
    while (depth > 0) {
      close = next();
      if (!close) return null; // unbalanced: SQLite will report it
      if (char(close) === "(") depth++;
      else if (char(close) === ")") depth--;
    }
    rows.push([open.start, close!.end]);
    tailStart = close!.end;
    const after = i;
    const comma = next();
    if (char(comma) !== ",") {
      i = after;
      break;
    }
    open = next();
  }
  if (rows.length === 0) return null;
  return { headEnd, rows, tailStart };
}
