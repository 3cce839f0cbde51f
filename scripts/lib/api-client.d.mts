// Types of ./api-client.mjs for the TypeScript tests, generated from its JSDoc. After changing the .mjs files, regenerate with
//   npx tsc --allowJs --declaration --emitDeclarationOnly --module nodenext --target es2022 --strict --types node --skipLibCheck --outDir scripts/lib scripts/lib/*.mjs
/**
 * The file name of a Content-Disposition header (filename* preferred), reduced to a plain base name.
 * @param {string | null} header
 * @returns {string | null}
 */
export function fileNameFromDisposition(header: string | null): string | null;
export const DEFAULT_TOKEN: "ABC123";
/** Statuses after which a dump never changes again (except expiring later). */
export const FINAL_STATUSES: string[];
/** A non-2xx answer: `status` is the HTTP status, `body` the parsed JSON (or text). */
export class ApiError extends Error {
    /**
     * @param {string} message
     * @param {number} status
     * @param {unknown} body
     */
    constructor(message: string, status: number, body: unknown);
    status: number;
    body: unknown;
}
/**
 * @typedef {string | number | boolean | null} SqlParam
 * @typedef {{ sql: string, params?: SqlParam[] }} Statement
 * @typedef {{ database?: string }} DatabaseOption
 * @typedef {{ storage?: "auto" | "r2" | "do", breathingMs?: number, callbackUrl?: string, retention?: string, deleteAfterDownload?: boolean }} DumpOptions
 * @typedef {{ currentTable: string | null, processedTables: number, totalTables: number, rowsDumped: number, bytesWritten: number, percent: number }} DumpProgress
 * @typedef {{ dumpId: string, database: string, status: string, progress: DumpProgress, storage: "r2" | "do", size: number | null, error: string | null, downloadUrl: string, statusUrl: string, createdAt: string, completedAt: string | null, [key: string]: unknown }} DumpStatus
 * @typedef {{ message: string, dumpId: string, status: string, statusUrl: string, downloadUrl: string, estimatedSize: number, storage: "r2" | "do" }} StartedDump
 */
export class ApiClient {
    /**
     * @param {string} baseUrl e.g. http://127.0.0.1:8787
     * @param {{ token?: string }} [options]
     */
    constructor(baseUrl: string, options?: {
        token?: string;
    });
    baseUrl: string;
    token: string;
    /**
     * A raw request with the bearer token; `path` starts with "/".
     * @param {string} path
     * @param {RequestInit} [init]
     * @returns {Promise<Response>}
     */
    fetch(path: string, init?: RequestInit): Promise<Response>;
    /**
     * JSON request; returns `result` of a 2xx answer, throws ApiError otherwise.
     * @param {string} method
     * @param {string} path
     * @param {unknown} [body]
     * @param {Record<string, string>} [headers]
     * @returns {Promise<any>}
     */
    json(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<any>;
    /**
     * @param {string} sql
     * @param {SqlParam[]} [params]
     * @param {DatabaseOption} [options]
     * @returns {Promise<Record<string, any>[]>}
     */
    query(sql: string, params?: SqlParam[], options?: DatabaseOption): Promise<Record<string, any>[]>;
    /**
     * All statements or none; returns the rows of each statement.
     * @param {Statement[]} statements
     * @param {DatabaseOption} [options]
     * @returns {Promise<Record<string, any>[][]>}
     */
    transaction(statements: Statement[], options?: DatabaseOption): Promise<Record<string, any>[][]>;
    /**
     * @param {{ database?: string, options?: DumpOptions, callbackUrl?: string }} [request]
     *   `callbackUrl` is sent as the X-Callback-URL header.
     * @returns {Promise<StartedDump>}
     */
    startDump(request?: {
        database?: string;
        options?: DumpOptions;
        callbackUrl?: string;
    }): Promise<StartedDump>;
    /**
     * @param {string} dumpId
     * @returns {Promise<DumpStatus>}
     */
    dumpStatus(dumpId: string): Promise<DumpStatus>;
    /**
     * Polls the status until it is final; returns the last status (also when the dump failed).
     * @param {string} dumpId
     * @param {{ onProgress?: (status: DumpStatus) => void, timeoutMs?: number, intervalMs?: number }} [options]
     * @returns {Promise<DumpStatus>}
     */
    waitForDump(dumpId: string, options?: {
        onProgress?: (status: DumpStatus) => void;
        timeoutMs?: number;
        intervalMs?: number;
    }): Promise<DumpStatus>;
    /**
     * GET the dump file as a raw Response (for Range and header checks).
     * @param {string} dumpId
     * @param {Record<string, string>} [headers]
     */
    fetchDump(dumpId: string, headers?: Record<string, string>): Promise<Response>;
    /**
     * Saves the dump under the file name from Content-Disposition (as `curl -OJ` does).
     * @param {string} dumpId
     * @param {string} destDir
     * @returns {Promise<{ path: string, fileName: string, status: number, headers: Headers }>}
     */
    downloadDump(dumpId: string, destDir: string): Promise<{
        path: string;
        fileName: string;
        status: number;
        headers: Headers;
    }>;
    /**
     * @param {string} dumpId
     * @returns {Promise<{ dumpId: string, status: string }>}
     */
    deleteDump(dumpId: string): Promise<{
        dumpId: string;
        status: string;
    }>;
}
export type SqlParam = string | number | boolean | null;
export type Statement = {
    sql: string;
    params?: SqlParam[];
};
export type DatabaseOption = {
    database?: string;
};
export type DumpOptions = {
    storage?: "auto" | "r2" | "do";
    breathingMs?: number;
    callbackUrl?: string;
    retention?: string;
    deleteAfterDownload?: boolean;
};
export type DumpProgress = {
    currentTable: string | null;
    processedTables: number;
    totalTables: number;
    rowsDumped: number;
    bytesWritten: number;
    percent: number;
};
export type DumpStatus = {
    dumpId: string;
    database: string;
    status: string;
    progress: DumpProgress;
    storage: "r2" | "do";
    size: number | null;
    error: string | null;
    downloadUrl: string;
    statusUrl: string;
    createdAt: string;
    completedAt: string | null;
    [key: string]: unknown;
};
export type StartedDump = {
    message: string;
    dumpId: string;
    status: string;
    statusUrl: string;
    downloadUrl: string;
    estimatedSize: number;
    storage: "r2" | "do";
};
