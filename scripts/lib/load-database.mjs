// Loads a SQLite database file (e.g. Chinook) into the service through POST /query:
// tables first, then their rows, then sqlite_sequence, then indexes, views and triggers.
//
// Row values are produced as SQL literals by the sqlite3 CLI itself (quote()), so integers beyond 2^53,
// blobs and text stay exact. REALs are the exception: no SQLite float text is exact everywhere
// (the 3.40 CLI prints wrong last digits, and the Durable Object's parser misreads some decimal
// text), so the CLI gives their 8 IEEE bytes (ieee754_to_blob) and they are bound as parameters:
// a JavaScript number is bound as a REAL, exactly. ±Infinity, which JSON cannot carry, is written
// as 1e999 / -1e999.

import { doubleFromHex } from "./compare.mjs";
import { listTables, querySql, quoteIdentifier, schemaObjects, tableColumns } from "./sqlite-cli.mjs";

/** Durable Objects refuse statements over 100 KB; stay well below. */
const DEFAULT_MAX_STATEMENT_BYTES = 90_000;
/** Durable Objects accept at most 100 bound parameters per statement. */
const MAX_PARAMS = 100;
const MAX_ROWS_PER_INSERT = 500;
/** Bytes of one value appended per UPDATE when a row is too large for one INSERT. */
const PIECE_BYTES = 40_000;

/**
 * @typedef {import("./api-client.mjs").Statement} Statement
 * @typedef {object} LoadOptions
 * @property {string} [database] Target database name (?database=).
 * @property {number} [maxStatementBytes] Upper bound of one statement (default 90,000).
 * @property {number} [statementsPerRequest] Statements per POST /query transaction (default 300).
 * @property {number} [bytesPerRequest] SQL bytes per request (default 2 MB).
 * @property {(event: { table: string, rows: number, totalRows: number }) => void} [onProgress]
 */

/**
 * @param {import("./api-client.mjs").ApiClient} client
 * @param {string} sqlitePath
 * @param {LoadOptions} [options]
 * @returns {Promise<{ tables: { name: string, rows: number }[], statements: number, requests: number }>}
 */
export async function loadDatabase(client, sqlitePath, options = {}) {
  const maxStatementBytes = options.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES;
  const sender = new BatchSender(client, {
    database: options.database,
    statements: options.statementsPerRequest ?? 300,
    bytes: options.bytesPerRequest ?? 2_000_000,
  });

  const objects = (await schemaObjects(sqlitePath)).filter((o) => o.sql !== null);
  const listed = new Map((await listTables(sqlitePath)).map((t) => [t.name, t]));
  const tables = objects.filter(
    (o) => o.type === "table" && !/^sqlite_/i.test(o.name) && listed.get(o.name)?.type !== "shadow",
  );

  for (const table of tables) await sender.add({ sql: table.sql ?? "" });
  await sender.flush();

  /** @type {{ name: string, rows: number }[]} */
  const loaded = [];
  /** @type {string[]} */
  const rebuild = [];
  for (const table of await parentsFirst(sqlitePath, tables)) {
    const content = ftsContent(table.sql ?? "");
    if (content === "rebuild") rebuild.push(table.name);
    if (content !== "rows") {
      loaded.push({ name: table.name, rows: 0 });
      continue;
    }
    const rows = await loadTableRows(sqlitePath, table.name, listed.get(table.name)?.wr === 1, sender, maxStatementBytes, options);
    loaded.push({ name: table.name, rows });
  }

  if (objects.some((o) => o.name === "sqlite_sequence")) {
    const sequences = await querySql(sqlitePath, "SELECT quote(name) AS name, quote(seq) AS seq FROM sqlite_sequence ORDER BY rowid;");
    await sender.add({ sql: "DELETE FROM sqlite_sequence" });
    for (const s of sequences) await sender.add({ sql: `INSERT INTO sqlite_sequence(name, seq) VALUES(${s.name}, ${s.seq})` });
  }
  for (const name of rebuild) await sender.add({ sql: `INSERT INTO ${quoteIdentifier(name)}(${quoteIdentifier(name)}) VALUES('rebuild')` });
  for (const type of ["index", "view", "trigger"]) {
    for (const object of objects.filter((o) => o.type === type)) await sender.add({ sql: object.sql ?? "" });
  }
  await sender.flush();
  return { tables: loaded, statements: sender.statementCount, requests: sender.requestCount };
}

/**
 * Tables ordered so that every table's rows come after those of the tables its foreign keys point to
 * (the service enforces foreign keys); cycles keep creation order and rely on deferred checks.
 * @template {{ name: string }} T
 * @param {string} sqlitePath
 * @param {T[]} tables
 * @returns {Promise<T[]>}
 */
async function parentsFirst(sqlitePath, tables) {
  const references = await querySql(
    sqlitePath,
    `SELECT m.name AS child, f."table" AS parent FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table';`,
  );
  const byName = new Map(tables.map((t) => [t.name.toLowerCase(), t]));
  /** @type {T[]} */
  const order = [];
  const state = new Map();
  const visit = (/** @type {T} */ table) => {
    if (state.has(table)) return;
    state.set(table, "visiting");
    for (const r of references) {
      if (String(r.child).toLowerCase() !== table.name.toLowerCase()) continue;
      const parent = byName.get(String(r.parent).toLowerCase());
      if (parent && parent !== table) visit(parent);
    }
    order.push(table);
  };
  tables.forEach(visit);
  return order;
}

/**
 * What a virtual table's CREATE says about its content: "rows" to copy, "rebuild" for an
 * external-content FTS table (its index is rebuilt from the content table), "none" for contentless FTS.
 * @param {string} createSql
 * @returns {"rows" | "rebuild" | "none"}
 */
export function ftsContent(createSql) {
  if (!/^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(createSql) || !/USING\s+fts\d/i.test(createSql)) return "rows";
  const match = /[(,]\s*content\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*"|[^\s,)]+)/i.exec(createSql);
  if (!match) return "rows";
  return match[1].replace(/^['"]|['"]$/g, "") === "" ? "none" : "rebuild";
}

/**
 * @param {string} sqlitePath
 * @param {string} table
 * @param {boolean} withoutRowid
 * @param {BatchSender} sender
 * @param {number} maxStatementBytes
 * @param {LoadOptions} options
 */
async function loadTableRows(sqlitePath, table, withoutRowid, sender, maxStatementBytes, options) {
  const info = await tableColumns(sqlitePath, table);
  const columns = info.filter((c) => c.hidden === 0).map((c) => c.name);
  const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const names = new Set(info.map((c) => c.name.toLowerCase()));
  const rowidAlias = !withoutRowid && pk.length === 1 && pk[0].type.toUpperCase() === "INTEGER";
  const rowidName = ["rowid", "_rowid_", "oid"].find((n) => !names.has(n));
  // Rowids are kept for rowid tables without an INTEGER PRIMARY KEY (applications and FTS refer to them).
  if (!withoutRowid && !rowidAlias && rowidName === undefined) {
    throw new Error(`table ${table}: columns named rowid, _rowid_ and oid hide its rowid, which cannot be copied`);
  }
  const insertRowid = !withoutRowid && !rowidAlias;
  const inserted = insertRowid ? [/** @type {string} */ (rowidName), ...columns] : columns;
  const keyColumns = withoutRowid ? pk.map((c) => c.name) : [rowidName ?? pk[0]?.name];
  const order = keyColumns.map((c) => quoteIdentifier(String(c))).join(", ");

  const literal = (/** @type {string} */ column) => {
    const c = quoteIdentifier(column);
    return (
      `CASE typeof(${c}) WHEN 'real' THEN 'R' || hex(ieee754_to_blob(${c})) ` +
      `WHEN 'text' THEN CASE WHEN instr(CAST(${c} AS BLOB), X'00') > 0 ` +
      `THEN 'CAST(' || quote(CAST(${c} AS BLOB)) || ' AS TEXT)' ELSE quote(${c}) END ` +
      `ELSE quote(${c}) END`
    );
  };
  const selects = inserted.map((c, i) => `${literal(c)} AS v${i}`);
  selects.push(...keyColumns.map((c, i) => `quote(${quoteIdentifier(String(c))}) AS k${i}`));
  const rows = await querySql(sqlitePath, `SELECT ${selects.join(", ")} FROM ${quoteIdentifier(table)} ORDER BY ${order};`);

  const prefix = `INSERT INTO ${quoteIdentifier(table)}(${inserted.map(quoteIdentifier).join(",")}) VALUES`;
  /** @type {string[]} */
  let tuples = [];
  /** @type {(number)[]} */
  let params = [];
  let bytes = prefix.length;
  const flushInsert = async () => {
    if (tuples.length === 0) return;
    await sender.add({ sql: prefix + tuples.join(","), params });
    tuples = [];
    params = [];
    bytes = prefix.length;
  };
  let done = 0;
  for (const row of rows) {
    const values = inserted.map((_, i) => toValue(String(row[`v${i}`])));
    const tuple = `(${values.map((v) => v.sql).join(",")})`;
    const tupleParams = values.flatMap((v) => v.params);
    const tupleBytes = Buffer.byteLength(tuple, "utf8") + 1;
    if (prefix.length + tupleBytes > maxStatementBytes) {
      await flushInsert();
      const keyWhere = keyColumns.map((c, i) => `${quoteIdentifier(String(c))}=${row[`k${i}`]}`).join(" AND ");
      for (const statement of splitLargeRow(table, prefix, inserted, values, keyWhere, maxStatementBytes)) await sender.add(statement);
    } else {
      if (
        bytes + tupleBytes > maxStatementBytes ||
        params.length + tupleParams.length > MAX_PARAMS ||
        tuples.length >= MAX_ROWS_PER_INSERT
      ) {
        await flushInsert();
      }
      tuples.push(tuple);
      params.push(...tupleParams);
      bytes += tupleBytes;
    }
    done += 1;
    if (done % 1000 === 0) options.onProgress?.({ table, rows: done, totalRows: rows.length });
  }
  await flushInsert();
  options.onProgress?.({ table, rows: done, totalRows: rows.length });
  return rows.length;
}

/**
 * The SQL (and parameters) of one value literal from the CLI.
 * @param {string} literal
 * @returns {{ sql: string, params: number[] }}
 */
function toValue(literal) {
  if (!literal.startsWith("R")) return { sql: literal, params: [] };
  const value = doubleFromHex(literal.slice(1));
  if (value === Infinity) return { sql: "1e999", params: [] };
  if (value === -Infinity) return { sql: "-1e999", params: [] };
  return { sql: "?", params: [value] };
}

/**
 * A row too large for one statement: INSERT it with its large TEXT/BLOB values empty, then append
 * each of them in pieces keyed by the row's key.
 * @param {string} table
 * @param {string} prefix
 * @param {string[]} columns
 * @param {{ sql: string, params: number[] }[]} values
 * @param {string} keyWhere
 * @param {number} maxStatementBytes
 * @returns {Statement[]}
 */
function splitLargeRow(table, prefix, columns, values, keyWhere, maxStatementBytes) {
  const sizes = values.map((v) => Buffer.byteLength(v.sql, "utf8"));
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[a] - sizes[b]);
  let budget = maxStatementBytes - prefix.length - 16 - values.length * 8;
  const inline = values.map(() => false);
  for (const i of order) {
    if (sizes[i] <= budget) {
      inline[i] = true;
      budget -= sizes[i] + 1;
    }
  }
  /** @type {Statement[]} */
  const statements = [];
  const insertValues = values.map((v, i) => (inline[i] ? v.sql : v.sql.startsWith("X'") ? "X''" : "''"));
  statements.push({ sql: `${prefix}(${insertValues.join(",")})`, params: values.flatMap((v, i) => (inline[i] ? v.params : [])) });
  const target = quoteIdentifier(table);
  values.forEach((v, i) => {
    if (inline[i]) return;
    const column = quoteIdentifier(columns[i]);
    const { bytes, isText } = literalBytes(v.sql);
    for (let start = 0; start < bytes.length; start += PIECE_BYTES) {
      const piece = `X'${bytes.subarray(start, start + PIECE_BYTES).toString("hex")}'`;
      const appended = isText ? `${column}||CAST(${piece} AS TEXT)` : `CAST(${column}||${piece} AS BLOB)`;
      statements.push({ sql: `UPDATE ${target} SET ${column}=${appended} WHERE ${keyWhere}` });
    }
  });
  return statements;
}

/**
 * Bytes of a TEXT or BLOB literal as printed by quote().
 * @param {string} literal
 */
function literalBytes(literal) {
  if (literal.startsWith("X'")) return { bytes: Buffer.from(literal.slice(2, -1), "hex"), isText: false };
  const cast = /^CAST\(X'([0-9A-Fa-f]*)' AS TEXT\)$/.exec(literal);
  if (cast) return { bytes: Buffer.from(cast[1], "hex"), isText: true };
  if (literal.startsWith("'")) return { bytes: Buffer.from(literal.slice(1, -1).replaceAll("''", "'"), "utf8"), isText: true };
  throw new Error(`a value of ${literal.length} bytes that is neither TEXT nor BLOB cannot be split`);
}

/** Sends statements as POST /query transactions of bounded size. */
class BatchSender {
  /**
   * @param {import("./api-client.mjs").ApiClient} client
   * @param {{ database?: string, statements: number, bytes: number }} limits
   */
  constructor(client, limits) {
    this.client = client;
    this.limits = limits;
    /** @type {Statement[]} */
    this.pending = [];
    this.pendingBytes = 0;
    this.statementCount = 0;
    this.requestCount = 0;
  }

  /** @param {Statement} statement */
  async add(statement) {
    const size = Buffer.byteLength(statement.sql, "utf8") + 16 * (statement.params?.length ?? 0);
    if (this.pending.length >= this.limits.statements || this.pendingBytes + size > this.limits.bytes) await this.flush();
    this.pending.push(statement);
    this.pendingBytes += size;
  }

  async flush() {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      // Foreign keys are checked at the end of each batch, so rows may come before their parents within one.
      await this.client.transaction([{ sql: "PRAGMA defer_foreign_keys=ON" }, ...batch], { database: this.limits.database });
    } catch (error) {
      const first = batch[0].sql.slice(0, 200);
      throw new Error(`loading failed in a batch of ${batch.length} statements starting with ${first}: ${error instanceof Error ? error.message : error}`);
    }
    this.statementCount += batch.length;
    this.requestCount += 1;
  }
}
