// A small fetch-based client for the dump service's public HTTP API.

import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export const DEFAULT_TOKEN = "ABC123";
/** Statuses after which a dump never changes again (except expiring later). */
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
  constructor(baseUrl, options = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = options.token ?? DEFAULT_TOKEN;
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
    return fetch(`${this.baseUrl}${path}`, { ...init, headers });
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
    const response = await this.fetch(path, init);
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
      throw new ApiError(`${method} ${path} -> ${response.status}: ${reason}`, response.status, parsed);
    }
    return typeof parsed === "object" && parsed && "result" in parsed ? parsed.result : parsed;
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
    /** @type {Record<string, string>} */
    const headers = {};
    if (request.callbackUrl) headers["X-Callback-URL"] = request.callbackUrl;
    return this.json("POST", `/export/dump/chunked${databaseQuery(request.database)}`, request.options ?? {}, headers);
  }

  /**
   * @param {string} dumpId
   * @returns {Promise<DumpStatus>}
   */
  dumpStatus(dumpId) {
    return this.json("GET", `/export/dump/${encodeURIComponent(dumpId)}/status`);
  }

  /**
   * Polls the status until it is final; returns the last status (also when the dump failed).
   * @param {string} dumpId
   * @param {{ onProgress?: (status: DumpStatus) => void, timeoutMs?: number, intervalMs?: number }} [options]
   * @returns {Promise<DumpStatus>}
   */
  async waitForDump(dumpId, options = {}) {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const status = await this.dumpStatus(dumpId);
      options.onProgress?.(status);
      if (FINAL_STATUSES.includes(status.status)) return status;
      if (Date.now() > deadline) {
        throw new Error(`dump ${dumpId} still ${status.status} after the timeout: ${JSON.stringify(status.progress)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
    }
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
   * @param {string} dumpId
   * @returns {Promise<{ dumpId: string, status: string }>}
   */
  deleteDump(dumpId) {
    return this.json("DELETE", `/export/dump/${encodeURIComponent(dumpId)}`);
  }
}

/** @param {string | undefined} database */
function databaseQuery(database) {
  return database ? `?database=${encodeURIComponent(database)}` : "";
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
