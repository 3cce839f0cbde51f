// Types of ./load-database.mjs for the TypeScript tests, generated from its JSDoc. After changing the .mjs files, regenerate with
//   npx tsc --allowJs --declaration --emitDeclarationOnly --module nodenext --target es2022 --strict --types node --skipLibCheck --outDir scripts/lib scripts/lib/*.mjs
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
export function loadDatabase(client: import("./api-client.mjs").ApiClient, sqlitePath: string, options?: LoadOptions): Promise<{
    tables: {
        name: string;
        rows: number;
    }[];
    statements: number;
    requests: number;
}>;
/**
 * What a virtual table's CREATE says about its content: "rows" to copy, "rebuild" for an
 * external-content FTS table (its index is rebuilt from the content table), "none" for contentless FTS.
 * @param {string} createSql
 * @returns {"rows" | "rebuild" | "none"}
 */
export function ftsContent(createSql: string): "rows" | "rebuild" | "none";
export type Statement = import("./api-client.mjs").Statement;
export type LoadOptions = {
    /**
     * Target database name (?database=).
     */
    database?: string | undefined;
    /**
     * Upper bound of one statement (default 90,000).
     */
    maxStatementBytes?: number | undefined;
    /**
     * Statements per POST /query transaction (default 300).
     */
    statementsPerRequest?: number | undefined;
    /**
     * SQL bytes per request (default 2 MB).
     */
    bytesPerRequest?: number | undefined;
    onProgress?: ((event: {
        table: string;
        rows: number;
        totalRows: number;
    }) => void) | undefined;
};
