// Helpers around the `sqlite3` command-line shell: run SQL on a database file, restore a dump,
// read the schema back. SQL always goes through stdin, so size and quoting never matter.

import { spawn } from "node:child_process";
import { open, rm } from "node:fs/promises";

export const SQLITE3 = process.env.SQLITE3 ?? "sqlite3";

/** Thrown when sqlite3 exits non-zero or prints anything on stderr. */
export class SqliteCliError extends Error {
  /**
   * @param {string} message
   * @param {{ code: number | null, stderr: string }} details
   */
  constructor(message, details) {
    super(message);
    this.name = "SqliteCliError";
    this.code = details.code;
    this.stderr = details.stderr;
  }
}

/**
 * Runs sqlite3 with `args`, feeding `input` (text, or an open file handle) on stdin.
 * Any output on stderr counts as a failure: the shell reports SQL errors there and keeps going.
 * @param {string[]} args
 * @param {string | import("node:fs/promises").FileHandle} input
 * @returns {Promise<string>} stdout
 */
function runSqlite3(args, input) {
  return new Promise((resolve, reject) => {
    const fromFile = typeof input !== "string";
    const child = spawn(SQLITE3, args, { stdio: [fromFile ? input.fd : "pipe", "pipe", "pipe"] });
    /** @type {Buffer[]} */
    const out = [];
    /** @type {Buffer[]} */
    const err = [];
    child.stdout?.on("data", (chunk) => out.push(chunk));
    child.stderr?.on("data", (chunk) => err.push(chunk));
    child.on("error", (error) => reject(new SqliteCliError(`could not run ${SQLITE3}: ${error.message}`, { code: null, stderr: "" })));
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8");
      if (code !== 0 || stderr.trim() !== "") {
        const shown = stderr.length > 4000 ? `${stderr.slice(0, 4000)}…` : stderr;
        reject(new SqliteCliError(`sqlite3 ${args.join(" ")} failed (exit ${code}): ${shown.trim()}`, { code, stderr }));
        return;
      }
      resolve(Buffer.concat(out).toString("utf8"));
    });
    if (!fromFile) {
      child.stdin?.on("error", () => undefined); // sqlite3 may exit early on -bail; close reports it
      child.stdin?.end(input);
    }
  });
}

/**
 * Runs SQL on a database file (created when missing), stopping at the first error.
 * @param {string} dbPath
 * @param {string} sql
 * @returns {Promise<string>} what the shell printed
 */
export function runSql(dbPath, sql) {
  return runSqlite3(["-batch", "-bail", dbPath], sql);
}

/**
 * Rows of one query as objects. Select text (typeof(), hex(), quote()) for anything that must be
 * exact: the shell's JSON prints integers beyond 2^53 and reals as numbers.
 * @param {string} dbPath
 * @param {string} sql
 * @returns {Promise<Record<string, any>[]>}
 */
export async function querySql(dbPath, sql) {
  const text = await runSqlite3(["-batch", "-bail", "-json", "-readonly", dbPath], sql);
  return text.trim() === "" ? [] : JSON.parse(text);
}

/**
 * `sqlite3 new.db < dump.sql`: restores a dump into a new database file (replacing one that exists).
 * Fails on any error output, not only on the exit code (the shell goes on after an error).
 * @param {string} dumpPath
 * @param {string} dbPath
 * @returns {Promise<void>}
 */
export async function restoreDump(dumpPath, dbPath) {
  await rm(dbPath, { force: true });
  const handle = await open(dumpPath, "r");
  try {
    await runSqlite3(["-batch", dbPath], handle);
  } finally {
    await handle.close();
  }
}

/** @param {string} name */
export function quoteIdentifier(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

/** @param {string} text */
export function quoteString(text) {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * @typedef {{ type: string, name: string, tbl_name: string, sql: string | null }} SchemaObject
 * @typedef {{ name: string, type: string, ncol: number, wr: number, strict: number }} ListedTable
 * @typedef {{ cid: number, name: string, type: string, notnull: number, dflt_value: string | null, pk: number, hidden: number }} ColumnInfo
 */

/**
 * Every row of sqlite_master, in creation order.
 * @param {string} dbPath
 * @returns {Promise<SchemaObject[]>}
 */
export function schemaObjects(dbPath) {
  return /** @type {Promise<SchemaObject[]>} */ (querySql(dbPath, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid;"));
}

/**
 * Tables of the main schema as `PRAGMA table_list` reports them (type table, virtual, shadow or view).
 * @param {string} dbPath
 * @returns {Promise<ListedTable[]>}
 */
export function listTables(dbPath) {
  return /** @type {Promise<ListedTable[]>} */ (
    querySql(dbPath, "SELECT name, type, ncol, wr, strict FROM pragma_table_list WHERE schema = 'main' ORDER BY name;")
  );
}

/**
 * Columns including hidden and generated ones (`hidden`: 0 normal, 1 virtual-table hidden, 2 virtual generated, 3 stored generated).
 * @param {string} dbPath
 * @param {string} table
 * @returns {Promise<ColumnInfo[]>}
 */
export function tableColumns(dbPath, table) {
  return /** @type {Promise<ColumnInfo[]>} */ (
    querySql(dbPath, `SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(${quoteString(table)}) ORDER BY cid;`)
  );
}
