// A small fetch-based client for the dump service's public HTTP API.

import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export const DEFAULT_TOKEN = "ABC123";
/** Statuses after which a dump or restore never changes again (except a dump expiring later). */
export const FINAL_STATUSES = ["completed", "failed", "cancelled", "expired"];

/** A non-2xx answer: `status` is the HTTP status, `body` the parsed JSON (or text). */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {unknown} body
   */
  constructor(message, status, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
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
  constructor(baseUrl, options = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = options.token ?? DEFAULT_TOKEN;
    /** Abort a request that has no answer after this long (none by default). */
    this.requestTimeoutMs = options.requestTimeoutMs ?? null;
    /** @type {JobRoutes<DumpStatus, DumpList>} */
    this.dumps = new JobRoutes(this, "/export", "dump");
    /** @type {JobRoutes<RestoreStatus, RestoreList>} */
    this.restores = new JobRoutes(this, "/import", "restore");
  }

  /**
   * A raw request with the bearer token; `path` starts with "/".
   * @param {string} path
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   */
  fetch(path, init = {}) {
    const headers = new Headers(init.headers);
    if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${this.token}`);
    const signal = init.signal ?? (this.requestTimeoutMs ? AbortSignal.timeout(this.requestTimeoutMs) : undefined);
    return fetch(`${this.baseUrl}${path}`, { ...init, headers, signal });
  }

  /**
   * JSON request; returns `result` of a 2xx answer, throws ApiError otherwise.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {Record<string, string>} [headers]
   * @returns {Promise<any>}
   */
  async json(method, path, body, headers = {}) {
    const init = /** @type {RequestInit} */ ({ method, headers: { ...headers } });
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      /** @type {Record<string, string>} */ (init.headers)["Content-Type"] = "application/json";
    }
    return resultOf(await this.fetch(path, init), `${method} ${path}`);
  }

  // ---- schedules ----

  /** @returns {Promise<{ schedules: Schedule[] }>} */
  listSchedules() {
    return this.json("GET", "/export/schedules");
  }

  /**
   * @param {string} name
   * @returns {Promise<Schedule>}
   */
  getSchedule(name) {
    return this.json("GET", `/export/schedules/${encodeURIComponent(name)}`);
  }

  /**
   * Creates or replaces a schedule.
   * @param {string} name
   * @param {ScheduleInput} schedule
   * @returns {Promise<Schedule>}
   */
  putSchedule(name, schedule) {
    return this.json("PUT", `/export/schedules/${encodeURIComponent(name)}`, schedule);
  }

  /**
   * @param {string} name
   * @returns {Promise<{ name: string, deleted: true }>}
   */
  deleteSchedule(name) {
    return this.json("DELETE", `/export/schedules/${encodeURIComponent(name)}`);
  }

  /**
   * Runs the Worker's scheduled() handler as the Cron Trigger would at `time` (`wrangler dev` only: its
   * /cdn-cgi/handler/scheduled takes the time, while /__scheduled of --test-scheduled always uses now).
   * @param {Date} time
   */
  async triggerScheduled(time) {
    const path = `/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}&time=${time.getTime()}`;
    const response = await fetch(`${this.baseUrl}${path}`);
    const text = await response.text();
    if (response.status !== 200) throw new ApiError(`GET ${path} -> ${response.status}: ${text.slice(0, 300)}`, response.status, text);
  }

  /** @returns {Promise<{ status: string }>} */
  health() {
    return this.json("GET", "/health");
  }

  /**
   * @param {string} sql
   * @param {SqlParam[]} [params]
   * @param {DatabaseOption} [options]
   * @returns {Promise<Record<string, any>[]>}
   */
  query(sql, params = [], options = {}) {
    return this.json("POST", `/query${databaseQuery(options.database)}`, { sql, params });
  }

  /**
   * All statements or none; returns the rows of each statement.
   * @param {Statement[]} statements
   * @param {DatabaseOption} [options]
   * @returns {Promise<Record<string, any>[][]>}
   */
  transaction(statements, options = {}) {
    return this.json("POST", `/query${databaseQuery(options.database)}`, { transaction: statements });
  }

  /**
   * @param {{ database?: string, options?: DumpOptions, callbackUrl?: string }} [request]
   *   `callbackUrl` is sent as the X-Callback-URL header.
   * @returns {Promise<StartedDump>}
   */
  startDump(request = {}) {
    return this.json("POST", `/export/dump/chunked${databaseQuery(request.database)}`, request.options ?? {}, callbackHeader(request.callbackUrl));
  }

  /**
   * Same as `dumps.status(dumpId)`.
   * @param {string} dumpId
   * @returns {Promise<DumpStatus>}
   */
  dumpStatus(dumpId) {
    return this.dumps.status(dumpId);
  }

  /**
   * Same as `dumps.wait(dumpId, options)`.
   * @param {string} dumpId
   * @param {WaitOptions<DumpStatus>} [options]
   * @returns {Promise<DumpStatus>}
   */
  waitForDump(dumpId, options = {}) {
    return this.dumps.wait(dumpId, options);
  }

  /**
   * GET the dump file as a raw Response (for Range and header checks).
   * @param {string} dumpId
   * @param {Record<string, string>} [headers]
   */
  fetchDump(dumpId, headers = {}) {
    return this.fetch(`/export/dump/${encodeURIComponent(dumpId)}`, { headers });
  }

  /**
   * Saves the dump under the file name from Content-Disposition (as `curl -OJ` does).
   * @param {string} dumpId
   * @param {string} destDir
   * @returns {Promise<{ path: string, fileName: string, status: number, headers: Headers }>}
   */
  async downloadDump(dumpId, destDir) {
    const response = await this.fetchDump(dumpId);
    if (response.status !== 200 || !response.body) {
      const text = await response.text();
      throw new ApiError(`GET /export/dump/${dumpId} -> ${response.status}: ${text.slice(0, 500)}`, response.status, text);
    }
    const fileName = fileNameFromDisposition(response.headers.get("Content-Disposition")) ?? `${dumpId}.sql`;
    await mkdir(destDir, { recursive: true });
    const path = join(destDir, fileName);
    const partial = `${path}.part`;
    try {
      await pipeline(Readable.fromWeb(/** @type {any} */ (response.body)), createWriteStream(partial));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { path, fileName, status: response.status, headers: response.headers };
  }

  /**
   * Same as `dumps.cancel(dumpId)`: cancels a running dump, or deletes a finished one with its file.
   * @param {string} dumpId
   * @returns {Promise<{ dumpId: string, status: "cancelled" | "deleted" }>}
   */
  deleteDump(dumpId) {
    return /** @type {any} */ (this.dumps.cancel(dumpId));
  }

  /**
   * POST /import/dump with a JSON body: restores a finished dump into `database`.
   * @param {{ dumpId: string, database?: string, options?: RestoreOptions, callbackUrl?: string }} request
   *   `callbackUrl` is sent as the X-Callback-URL header.
   * @returns {Promise<StartedRestore>}
   */
  restoreDump(request) {
    const body = { dumpId: request.dumpId, ...request.options };
    return this.json("POST", `/import/dump${databaseQuery(request.database)}`, body, callbackHeader(request.callbackUrl));
  }

  /**
   * POST /import/dump with the SQL file (or a .sql.gz with contentType "application/gzip") as the body.
   * A stream is sent as it is read, never held in memory.
   * @param {{ body: string | Uint8Array | Blob | ReadableStream<Uint8Array>, contentType?: "application/sql" | "text/plain" | "application/gzip", database?: string, options?: UploadOptions, callbackUrl?: string }} request
   * @returns {Promise<StartedRestore>}
   */
  async restoreFile(request) {
    const path = `/import/dump${queryString({ database: request.database, ...request.options })}`;
    /** @type {Record<string, string>} */
    const headers = { "Content-Type": request.contentType ?? "application/sql", ...callbackHeader(request.callbackUrl) };
    const streamed = typeof ReadableStream !== "undefined" && request.body instanceof ReadableStream;
    const init = /** @type {RequestInit} */ ({ method: "POST", headers, body: request.body, ...(streamed ? { duplex: "half" } : {}) });
    return resultOf(await this.fetch(path, init), `POST ${path}`);
  }
}

/**
 * The routes every dump and every restore has: status, wait (polling), list, pause, resume, cancel.
 * @template {{ status: string, progress?: unknown }} Status
 * @template List
 */
export class JobRoutes {
  /**
   * @param {ApiClient} client
   * @param {"/export" | "/import"} prefix
   * @param {string} noun "dump" or "restore", for messages
   */
  constructor(client, prefix, noun) {
    this.client = client;
    this.prefix = prefix;
    this.noun = noun;
  }

  /** @param {string} id */
  path(id) {
    return `${this.prefix}/dump/${encodeURIComponent(id)}`;
  }

  /**
   * @param {string} id
   * @returns {Promise<Status>}
   */
  status(id) {
    return this.client.json("GET", `${this.path(id)}/status`);
  }

  /**
   * Polls the status until it is final; returns the last status (also when the job failed).
   * @param {string} id
   * @param {WaitOptions<Status>} [options]
   * @returns {Promise<Status>}
   */
  async wait(id, options = {}) {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const status = await this.status(id);
      options.onProgress?.(status);
      if (FINAL_STATUSES.includes(status.status)) return status;
      if (Date.now() > deadline) throw new Error(`${this.noun} ${id} still ${status.status} after the timeout: ${JSON.stringify(status.progress)}`);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
    }
  }

  /**
   * One page, newest first; pass the answer's `cursor` for the next.
   * @param {ListQuery} [query]
   * @returns {Promise<List>}
   */
  list(query = {}) {
    return this.client.json("GET", `${this.prefix}/dumps${queryString({ ...query })}`);
  }

  /**
   * @param {string} id
   * @returns {Promise<Status>}
   */
  pause(id) {
    return this.client.json("POST", `${this.path(id)}/pause`);
  }

  /**
   * @param {string} id
   * @returns {Promise<Status>}
   */
  resume(id) {
    return this.client.json("POST", `${this.path(id)}/resume`);
  }

  /**
   * Cancels a running job, or deletes a finished one. A cancelled restore's target keeps what its completed steps applied.
   * @param {string} id
   * @returns {Promise<{ status: "cancelled" | "deleted", [id: string]: string }>}
   */
  cancel(id) {
    return this.client.json("DELETE", this.path(id));
  }
}

/** @param {string | undefined} database */
function databaseQuery(database) {
  return queryString({ database });
}

/**
 * "?a=1&b=2" from the defined values, or "" when there are none.
 * @param {Record<string, string | number | boolean | undefined>} values
 */
function queryString(values) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** @param {string | undefined} url */
function callbackHeader(url) {
  return url ? { "X-Callback-URL": url } : {};
}

/**
 * The `result` of a 2xx JSON answer; an ApiError otherwise.
 * @param {Response} response
 * @param {string} what e.g. "GET /health"
 * @returns {Promise<any>}
 */
async function resultOf(response, what) {
  const text = await response.text();
  /** @type {any} */
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  if (!response.ok) {
    const reason = typeof parsed === "object" && parsed && "error" in parsed ? parsed.error : text.slice(0, 500);
    throw new ApiError(`${what} -> ${response.status}: ${reason}`, response.status, parsed);
  }
  return typeof parsed === "object" && parsed && "result" in parsed ? parsed.result : parsed;
}

/**
 * The file name of a Content-Disposition header (filename* preferred), reduced to a plain base name.
 * @param {string | null} header
 * @returns {string | null}
 */
export function fileNameFromDisposition(header) {
  if (!header) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header);
  let name = null;
  if (extended) name = decodeURIComponent(extended[1].trim());
  else if (plain) name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : plain[2];
  if (!name) return null;
  // Like curl -OJ: never write outside the target directory.
  const safe = basename(name.replaceAll("\\", "/"));
  return safe && safe !== "." && safe !== ".." ? safe : null;
}
