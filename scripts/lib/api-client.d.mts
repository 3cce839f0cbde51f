// Types of ./api-client.mjs for the TypeScript tests, generated from its JSDoc. After changing the .mjs files, regenerate with
//   npx tsc --allowJs --declaration --emitDeclarationOnly --module nodenext --target es2022 --strict --types node --skipLibCheck --outDir scripts/lib scripts/lib/*.mjs
/**
 * The file name of a Content-Disposition header (filename* preferred), reduced to a plain base name.
 * @param {string | null} header
 * @returns {string | null}
 */
export function fileNameFromDisposition(header: string | null): string | null;
export const DEFAULT_TOKEN: "ABC123";
/** Statuses after which a dump or restore never changes again (except a dump expiring later). */
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
 * @typedef {"queued" | "in_progress" | "paused" | "completed" | "failed" | "cancelled" | "expired"} JobStatus
 * @typedef {{ database?: string, status?: JobStatus, schedule?: string, limit?: number, cursor?: string }} ListQuery
 *
 * @typedef {{ storage?: "auto" | "r2" | "do", breathingMs?: number, callbackUrl?: string, retention?: string, deleteAfterDownload?: boolean, tables?: string[], excludeTables?: string[], schemaOnly?: boolean, dataOnly?: boolean, compression?: "none" | "gzip", snapshot?: boolean }} DumpOptions
 * @typedef {{ currentTable: string | null, processedTables: number, totalTables: number, rowsDumped: number, bytesWritten: number, percent: number }} DumpProgress
 * @typedef {{ url: string, delivered: boolean, attempts: number, lastStatus: number | null, lastError: string | null }} CallbackOutcome
 * @typedef {{ takenAt: string, copiedTables: number, trackedTables: number, exceptions: string[], heldBytes: number, endedAt: string | null }} DumpSnapshot
 * @typedef {{ dumpId: string, database: string, status: string, progress: DumpProgress, storage: "r2" | "do", options: DumpOptions, size: number | null, sha256: string | null, schedule: string | null, estimatedSize: number, error: string | null, downloadUrl: string, statusUrl: string, createdAt: string, startedAt: string | null, completedAt: string | null, expiresAt: string | null, callback: CallbackOutcome | null, snapshot: DumpSnapshot | null, [key: string]: unknown }} DumpStatus
 * @typedef {{ message: string, dumpId: string, status: string, statusUrl: string, downloadUrl: string, estimatedSize: number, storage: "r2" | "do" }} StartedDump
 * @typedef {{ dumps: DumpStatus[], cursor: string | null }} DumpList
 * @typedef {{ keepLast: number, keepDaily?: number, keepWeekly?: number }} RetentionPolicy
 * @typedef {{ cron: string, databases: string | string[], options?: DumpOptions, retention: RetentionPolicy, concurrency?: number }} ScheduleInput
 * @typedef {{ database: string, dumpId: string, status: string }} ScheduledDump
 * @typedef {{ runId: string, scheduledAt: string, startedAt: string, finishedAt: string | null, outcome: "running" | "completed" | "partial" | "failed" | "not_started", dumps: ScheduledDump[], skipped: { database: string, reason: string }[], deleted: string[], error: string | null }} ScheduleRun
 * @typedef {{ name: string, cron: string, databases: string[], options: DumpOptions, retention: RetentionPolicy, concurrency: number, createdAt: string, updatedAt: string, nextRun: string | null, lastRun: ScheduleRun | null, lastNotStarted: ScheduleRun | null, lastOutcome: { outcome: string, at: string, error: string | null, skipped: { database: string, reason: string }[] } | null }} Schedule
 *
 * @typedef {{ mode?: "empty" | "replace", breathingMs?: number, sliceBytes?: number }} RestoreOptions
 * @typedef {RestoreOptions & { storage?: "auto" | "r2" | "do" }} UploadOptions
 * @typedef {{ bytesRead: number, totalBytes: number, statementsApplied: number, statementsSkipped: number, currentTable: string | null, percent: number }} RestoreProgress
 * @typedef {{ number: number, line: number, byteOffset: number, sql: string, message: string }} FailedStatement
 * @typedef {{ restoreId: string, database: string, status: string, mode: "empty" | "replace", source: Record<string, unknown>, progress: RestoreProgress, createdAt: string, startedAt: string | null, completedAt: string | null, statusUrl: string, error: string | null, failedStatement: FailedStatement | null, targetState: string | null, callback: CallbackOutcome | null }} RestoreStatus
 * @typedef {{ message: string, restoreId: string, database: string, status: string, mode: "empty" | "replace", source: Record<string, unknown>, statusUrl: string }} StartedRestore
 * @typedef {{ restores: RestoreStatus[], cursor: string | null }} RestoreList
 */
/**
 * @template Status
 * @typedef {{ onProgress?: (status: Status) => void, timeoutMs?: number, intervalMs?: number }} WaitOptions
 */
export class ApiClient {
    /**
     * @param {string} baseUrl e.g. http://127.0.0.1:8787
     * @param {{ token?: string, requestTimeoutMs?: number }} [options]
     */
    constructor(baseUrl: string, options?: {
        token?: string;
        requestTimeoutMs?: number;
    });
    baseUrl: string;
    token: string;
    /** Abort a request that has no answer after this long (none by default). */
    requestTimeoutMs: number | null;
    /** @type {JobRoutes<DumpStatus, DumpList>} */
    dumps: JobRoutes<DumpStatus, DumpList>;
    /** @type {JobRoutes<RestoreStatus, RestoreList>} */
    restores: JobRoutes<RestoreStatus, RestoreList>;
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
    /** @returns {Promise<{ schedules: Schedule[] }>} */
    listSchedules(): Promise<{
        schedules: Schedule[];
    }>;
    /**
     * @param {string} name
     * @returns {Promise<Schedule>}
     */
    getSchedule(name: string): Promise<Schedule>;
    /**
     * Creates or replaces a schedule.
     * @param {string} name
     * @param {ScheduleInput} schedule
     * @returns {Promise<Schedule>}
     */
    putSchedule(name: string, schedule: ScheduleInput): Promise<Schedule>;
    /**
     * @param {string} name
     * @returns {Promise<{ name: string, deleted: true }>}
     */
    deleteSchedule(name: string): Promise<{
        name: string;
        deleted: true;
    }>;
    /**
     * Runs the Worker's scheduled() handler as the Cron Trigger would at `time` (`wrangler dev` only: its
     * /cdn-cgi/handler/scheduled takes the time, while /__scheduled of --test-scheduled always uses now).
     * @param {Date} time
     */
    triggerScheduled(time: Date): Promise<void>;
    /** @returns {Promise<{ status: string }>} */
    health(): Promise<{
        status: string;
    }>;
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
     * Same as `dumps.status(dumpId)`.
     * @param {string} dumpId
     * @returns {Promise<DumpStatus>}
     */
    dumpStatus(dumpId: string): Promise<DumpStatus>;
    /**
     * Same as `dumps.wait(dumpId, options)`.
     * @param {string} dumpId
     * @param {WaitOptions<DumpStatus>} [options]
     * @returns {Promise<DumpStatus>}
     */
    waitForDump(dumpId: string, options?: WaitOptions<DumpStatus>): Promise<DumpStatus>;
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
     * Same as `dumps.cancel(dumpId)`: cancels a running dump, or deletes a finished one with its file.
     * @param {string} dumpId
     * @returns {Promise<{ dumpId: string, status: "cancelled" | "deleted" }>}
     */
    deleteDump(dumpId: string): Promise<{
        dumpId: string;
        status: "cancelled" | "deleted";
    }>;
    /**
     * POST /import/dump with a JSON body: restores a finished dump into `database`.
     * @param {{ dumpId: string, database?: string, options?: RestoreOptions, callbackUrl?: string }} request
     *   `callbackUrl` is sent as the X-Callback-URL header.
     * @returns {Promise<StartedRestore>}
     */
    restoreDump(request: {
        dumpId: string;
        database?: string;
        options?: RestoreOptions;
        callbackUrl?: string;
    }): Promise<StartedRestore>;
    /**
     * POST /import/dump with the SQL file (or a .sql.gz with contentType "application/gzip") as the body.
     * A stream is sent as it is read, never held in memory.
     * @param {{ body: string | Uint8Array | Blob | ReadableStream<Uint8Array>, contentType?: "application/sql" | "text/plain" | "application/gzip", database?: string, options?: UploadOptions, callbackUrl?: string }} request
     * @returns {Promise<StartedRestore>}
     */
    restoreFile(request: {
        body: string | Uint8Array | Blob | ReadableStream<Uint8Array>;
        contentType?: "application/sql" | "text/plain" | "application/gzip";
        database?: string;
        options?: UploadOptions;
        callbackUrl?: string;
    }): Promise<StartedRestore>;
}
/**
 * The routes every dump and every restore has: status, wait (polling), list, pause, resume, cancel.
 * @template {{ status: string, progress?: unknown }} Status
 * @template List
 */
export class JobRoutes<Status extends {
    status: string;
    progress?: unknown;
}, List> {
    /**
     * @param {ApiClient} client
     * @param {"/export" | "/import"} prefix
     * @param {string} noun "dump" or "restore", for messages
     */
    constructor(client: ApiClient, prefix: "/export" | "/import", noun: string);
    client: ApiClient;
    prefix: "/export" | "/import";
    noun: string;
    /** @param {string} id */
    path(id: string): string;
    /**
     * @param {string} id
     * @returns {Promise<Status>}
     */
    status(id: string): Promise<Status>;
    /**
     * Polls the status until it is final; returns the last status (also when the job failed).
     * @param {string} id
     * @param {WaitOptions<Status>} [options]
     * @returns {Promise<Status>}
     */
    wait(id: string, options?: WaitOptions<Status>): Promise<Status>;
    /**
     * One page, newest first; pass the answer's `cursor` for the next.
     * @param {ListQuery} [query]
     * @returns {Promise<List>}
     */
    list(query?: ListQuery): Promise<List>;
    /**
     * @param {string} id
     * @returns {Promise<Status>}
     */
    pause(id: string): Promise<Status>;
    /**
     * @param {string} id
     * @returns {Promise<Status>}
     */
    resume(id: string): Promise<Status>;
    /**
     * Cancels a running job, or deletes a finished one. A cancelled restore's target keeps what its completed steps applied.
     * @param {string} id
     * @returns {Promise<{ status: "cancelled" | "deleted", [id: string]: string }>}
     */
    cancel(id: string): Promise<{
        status: "cancelled" | "deleted";
        [id: string]: string;
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
export type JobStatus = "queued" | "in_progress" | "paused" | "completed" | "failed" | "cancelled" | "expired";
export type ListQuery = {
    database?: string;
    status?: JobStatus;
    schedule?: string;
    limit?: number;
    cursor?: string;
};
export type DumpOptions = {
    storage?: "auto" | "r2" | "do";
    breathingMs?: number;
    callbackUrl?: string;
    retention?: string;
    deleteAfterDownload?: boolean;
    tables?: string[];
    excludeTables?: string[];
    schemaOnly?: boolean;
    dataOnly?: boolean;
    compression?: "none" | "gzip";
    snapshot?: boolean;
};
export type DumpProgress = {
    currentTable: string | null;
    processedTables: number;
    totalTables: number;
    rowsDumped: number;
    bytesWritten: number;
    percent: number;
};
export type CallbackOutcome = {
    url: string;
    delivered: boolean;
    attempts: number;
    lastStatus: number | null;
    lastError: string | null;
};
export type DumpSnapshot = {
    takenAt: string;
    copiedTables: number;
    trackedTables: number;
    exceptions: string[];
    heldBytes: number;
    endedAt: string | null;
};
export type DumpStatus = {
    dumpId: string;
    database: string;
    status: string;
    progress: DumpProgress;
    storage: "r2" | "do";
    options: DumpOptions;
    size: number | null;
    sha256: string | null;
    schedule: string | null;
    estimatedSize: number;
    error: string | null;
    downloadUrl: string;
    statusUrl: string;
    createdAt: string;
    startedAt: string | null;
    completedAt: string | null;
    expiresAt: string | null;
    callback: CallbackOutcome | null;
    snapshot: DumpSnapshot | null;
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
export type DumpList = {
    dumps: DumpStatus[];
    cursor: string | null;
};
export type RetentionPolicy = {
    keepLast: number;
    keepDaily?: number;
    keepWeekly?: number;
};
export type ScheduleInput = {
    cron: string;
    databases: string | string[];
    options?: DumpOptions;
    retention: RetentionPolicy;
    concurrency?: number;
};
export type ScheduledDump = {
    database: string;
    dumpId: string;
    status: string;
};
export type ScheduleRun = {
    runId: string;
    scheduledAt: string;
    startedAt: string;
    finishedAt: string | null;
    outcome: "running" | "completed" | "partial" | "failed" | "not_started";
    dumps: ScheduledDump[];
    skipped: {
        database: string;
        reason: string;
    }[];
    deleted: string[];
    error: string | null;
};
export type Schedule = {
    name: string;
    cron: string;
    databases: string[];
    options: DumpOptions;
    retention: RetentionPolicy;
    concurrency: number;
    createdAt: string;
    updatedAt: string;
    nextRun: string | null;
    lastRun: ScheduleRun | null;
    lastNotStarted: ScheduleRun | null;
    lastOutcome: {
        outcome: string;
        at: string;
        error: string | null;
        skipped: {
            database: string;
            reason: string;
        }[];
    } | null;
};
export type RestoreOptions = {
    mode?: "empty" | "replace";
    breathingMs?: number;
    sliceBytes?: number;
};
export type UploadOptions = RestoreOptions & {
    storage?: "auto" | "r2" | "do";
};
export type RestoreProgress = {
    bytesRead: number;
    totalBytes: number;
    statementsApplied: number;
    statementsSkipped: number;
    currentTable: string | null;
    percent: number;
};
export type FailedStatement = {
    number: number;
    line: number;
    byteOffset: number;
    sql: string;
    message: string;
};
export type RestoreStatus = {
    restoreId: string;
    database: string;
    status: string;
    mode: "empty" | "replace";
    source: Record<string, unknown>;
    progress: RestoreProgress;
    createdAt: string;
    startedAt: string | null;
    completedAt: string | null;
    statusUrl: string;
    error: string | null;
    failedStatement: FailedStatement | null;
    targetState: string | null;
    callback: CallbackOutcome | null;
};
export type StartedRestore = {
    message: string;
    restoreId: string;
    database: string;
    status: string;
    mode: "empty" | "replace";
    source: Record<string, unknown>;
    statusUrl: string;
};
export type RestoreList = {
    restores: RestoreStatus[];
    cursor: string | null;
};
export type WaitOptions<Status> = {
    onProgress?: (status: Status) => void;
    timeoutMs?: number;
    intervalMs?: number;
};
