// Types of ./compare.mjs for the TypeScript tests, generated from its JSDoc. After changing the .mjs files, regenerate with
//   npx tsc --allowJs --declaration --emitDeclarationOnly --module nodenext --target es2022 --strict --types node --skipLibCheck --outDir scripts/lib scripts/lib/*.mjs
/**
 * The service's database through POST /query.
 * @param {import("./api-client.mjs").ApiClient} client
 * @param {string} [database]
 * @returns {DatabaseSide}
 */
export function serviceSide(client: import("./api-client.mjs").ApiClient, database?: string): DatabaseSide;
/**
 * A database file read with the sqlite3 CLI.
 * @param {string} dbPath
 * @returns {DatabaseSide}
 */
export function fileSide(dbPath: string): DatabaseSide;
/**
 * Compares a restored database file (actual) against the service's database (expected).
 * @param {string} dbPath
 * @param {import("./api-client.mjs").ApiClient} client
 * @param {{ database?: string, maxMismatches?: number }} [options]
 */
export function compareWithService(dbPath: string, client: import("./api-client.mjs").ApiClient, options?: {
    database?: string;
    maxMismatches?: number;
}): Promise<ComparisonResult>;
/**
 * @param {DatabaseSide} expected
 * @param {DatabaseSide} actual
 * @param {{ maxMismatches?: number }} [options]
 * @returns {Promise<ComparisonResult>}
 */
export function compareDatabases(expected: DatabaseSide, actual: DatabaseSide, options?: {
    maxMismatches?: number;
}): Promise<ComparisonResult>;
/**
 * Whitespace runs become one space; a trailing ";" is dropped.
 * @param {string | null} sql
 */
export function normalizeSql(sql: string | null): string | null;
/**
 * The double whose 8 big-endian IEEE 754 bytes are `hex`.
 * @param {string} hex
 */
export function doubleFromHex(hex: string): number;
/**
 * Shortest round-trip text of a double; -0 reads as 0 (SQLite does not keep the sign of zero).
 * @param {number} value
 */
export function canonicalReal(value: number): string;
/**
 * A canonical cell ("type:value", value in hex except for reals) as a person reads it.
 * @param {string} cell
 */
export function describeCell(cell: string): string;
/**
 * One line per mismatch, for test failures and the smoke script.
 * @param {ComparisonResult} result
 */
export function formatMismatches(result: ComparisonResult): string;
export type TableRow = {
    name: string;
    type: string;
    wr: number;
    sql: string | null;
};
/**
 * One database to read, with how it turns a REAL into exact text.
 */
export type DatabaseSide = {
    label: string;
    query: (sql: string) => Promise<Record<string, any>[]>;
    /**
     * SQL expression reading REAL column `column` (quoted) exactly
     */
    realExpression: (column: string) => string;
    /**
     * Canonical text of what realExpression returned
     */
    realText: (value: any) => string;
    /**
     * Rows per read (Infinity: everything at once)
     */
    pageRows: number;
    /**
     * TEXT/BLOB values longer than this are read in pieces of this many bytes
     * (the Durable Object refuses strings over ~2.2 MB, and hex() doubles a value)
     */
    maxHexBytes: number;
    /**
     * Error text, or null when the FTS index is consistent
     */
    ftsIntegrityCheck?: ((table: string) => Promise<string | null>) | undefined;
};
export type Mismatch = {
    kind: "schema" | "tables" | "columns" | "row" | "cell" | "fts";
    table: string | null;
    rowKey: string | null;
    column: string | null;
    expected: string;
    actual: string;
};
export type ComparisonResult = {
    /**
     * At most `maxMismatches` of them.
     */
    mismatches: Mismatch[];
    totalMismatches: number;
    /**
     * Tables compared and their row counts (expected side).
     */
    tables: {
        name: string;
        rows: number;
    }[];
    schemaObjects: number;
};
