// Types of ./sqlite-cli.mjs for the TypeScript tests, generated from its JSDoc. After changing the .mjs files, regenerate with
//   npx tsc --allowJs --declaration --emitDeclarationOnly --module nodenext --target es2022 --strict --types node --skipLibCheck --outDir scripts/lib scripts/lib/*.mjs
/**
 * Runs SQL on a database file (created when missing), stopping at the first error.
 * @param {string} dbPath
 * @param {string} sql
 * @returns {Promise<string>} what the shell printed
 */
export function runSql(dbPath: string, sql: string): Promise<string>;
/**
 * Rows of one query as objects. Select text (typeof(), hex(), quote()) for anything that must be
 * exact: the shell's JSON prints integers beyond 2^53 and reals as numbers.
 * @param {string} dbPath
 * @param {string} sql
 * @returns {Promise<Record<string, any>[]>}
 */
export function querySql(dbPath: string, sql: string): Promise<Record<string, any>[]>;
/**
 * `sqlite3 new.db < dump.sql`: restores a dump into a new database file (replacing one that exists).
 * Fails on any error output, not only on the exit code (the shell goes on after an error).
 * @param {string} dumpPath
 * @param {string} dbPath
 * @returns {Promise<void>}
 */
export function restoreDump(dumpPath: string, dbPath: string): Promise<void>;
/** @param {string} name */
export function quoteIdentifier(name: string): string;
/** @param {string} text */
export function quoteString(text: string): string;
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
export function schemaObjects(dbPath: string): Promise<SchemaObject[]>;
/**
 * Tables of the main schema as `PRAGMA table_list` reports them (type table, virtual, shadow or view).
 * @param {string} dbPath
 * @returns {Promise<ListedTable[]>}
 */
export function listTables(dbPath: string): Promise<ListedTable[]>;
/**
 * Columns including hidden and generated ones (`hidden`: 0 normal, 1 virtual-table hidden, 2 virtual generated, 3 stored generated).
 * @param {string} dbPath
 * @param {string} table
 * @returns {Promise<ColumnInfo[]>}
 */
export function tableColumns(dbPath: string, table: string): Promise<ColumnInfo[]>;
export const SQLITE3: string;
/** Thrown when sqlite3 exits non-zero or prints anything on stderr. */
export class SqliteCliError extends Error {
    /**
     * @param {string} message
     * @param {{ code: number | null, stderr: string }} details
     */
    constructor(message: string, details: {
        code: number | null;
        stderr: string;
    });
    code: number | null;
    stderr: string;
}
export type SchemaObject = {
    type: string;
    name: string;
    tbl_name: string;
    sql: string | null;
};
export type ListedTable = {
    name: string;
    type: string;
    ncol: number;
    wr: number;
    strict: number;
};
export type ColumnInfo = {
    cid: number;
    name: string;
    type: string;
    notnull: number;
    dflt_value: string | null;
    pk: number;
    hidden: number;
};
