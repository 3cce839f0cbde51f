// Every HTTP call the command-line client makes, and how an answer becomes a result or a CliError.
// node:http rather than fetch: no Accept-Encoding (a dump's bytes must arrive exactly as stored,
// never decoded on the way), a request body streamed from disk with a known Content-Length, and
// socket errors with their codes.

import http from "node:http";
import https from "node:https";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CliError, EXIT } from "./errors.mjs";

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {Record<string, string | number | boolean | undefined>} Query
 * @typedef {{ query?: Query, headers?: Record<string, string>, body?: string | import("node:stream").Readable, onBodyBytes?: (bytes: number) => void }} RequestOptions
 * @typedef {{ kind: "dump" | "restore", id: string }} Job
 */

export class Api {
  /**
   * @param {{ url: string, token?: string, timeoutMs?: number }} options
   */
  constructor(options) {
    this.base = parseBaseUrl(options.url);
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.transport = this.base.protocol === "https:" ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true });
  }

  /** Closes kept-alive connections so that the process can exit. */
  close() {
    this.agent.destroy();
  }

  /** The base URL as given, without a trailing slash, for messages. */
  get url() {
    return this.base.href.replace(/\/+$/, "");
  }

  /**
   * One request; resolves with the response as soon as its headers arrive (also for 4xx/5xx).
   * @param {string} method
   * @param {string} path starts with "/"
   * @param {RequestOptions} [options]
   * @returns {Promise<IncomingMessage>}
   */
  request(method, path, options = {}) {
    const url = new URL(`${this.url}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    /** @type {Record<string, string>} */
    const headers = { "User-Agent": "do-sqlite-dump-cli", ...options.headers };
    if (this.token !== undefined) headers.Authorization = `Bearer ${this.token}`;
    const body = options.body;
    if (typeof body === "string") headers["Content-Length"] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      let answered = false;
      const request = this.transport.request(url, { method, headers, agent: this.agent });
      request.setTimeout(this.timeoutMs, () => {
        request.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs / 1000} s`), { code: "ETIMEDOUT" }));
      });
      request.on("response", (response) => {
        answered = true;
        resolve(response);
      });
      // An error after the answer (the server answered before reading the whole upload) is not ours to report.
      request.on("error", (error) => {
        if (!answered) reject(this.connectionError(error));
      });
      if (body === undefined || typeof body === "string") {
        request.end(body);
        return;
      }
      const counter = new Transform({
        transform(chunk, _encoding, callback) {
          options.onBodyBytes?.(chunk.length);
          callback(null, chunk);
        },
      });
      pipeline(body, counter, request).catch((error) => {
        if (!answered) reject(error instanceof CliError ? error : this.connectionError(error));
      });
    });
  }

  /**
   * A JSON request: the `result` of a 2xx answer, or a CliError.
   * @param {string} method
   * @param {string} path
   * @param {{ query?: Query, body?: unknown }} [options]
   * @returns {Promise<any>}
   */
  async json(method, path, options = {}) {
    const withBody = options.body !== undefined;
    const response = await this.request(method, path, {
      query: options.query,
      headers: withBody ? { "Content-Type": "application/json" } : {},
      body: withBody ? JSON.stringify(options.body) : undefined,
    });
    return this.result(response, `${method} ${path}`);
  }

  /**
   * Reads an answer: the `result` of a 2xx JSON answer, otherwise throws the matching CliError.
   * @param {IncomingMessage} response
   * @param {string} what e.g. "GET /export/dump/…/status"
   */
  async result(response, what) {
    const text = await this.readText(response);
    const parsed = parseJson(text);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300 && parsed && typeof parsed === "object" && "result" in parsed) return parsed.result;
    throw await this.failure(status, parsed, text, what);
  }

  /**
   * The CliError for a non-2xx answer whose body has been read.
   * @param {number} status
   * @param {any} parsed
   * @param {string} text
   * @param {string} what
   * @returns {Promise<CliError>}
   */
  async failure(status, parsed, text, what) {
    const message = parsed && typeof parsed === "object" && typeof parsed.error === "string" ? parsed.error : null;
    const details = { httpStatus: status, request: what };
    if (message === null) return this.notThisService(`${what} answered HTTP ${status}: ${snippet(text)}`, details);
    if (status === 401 || status === 403) {
      return new CliError(EXIT.AUTH, `the service refused the token (HTTP ${status}: ${message}); check --token or DUMP_TOKEN`, details);
    }
    if (status === 404) {
      // The router's own 404 means the route is unknown, which an id or name never causes.
      if (message !== "Not Found") return new CliError(EXIT.NOT_FOUND, message, details);
      if (!(await this.isService())) return this.notThisService(`${what} answered HTTP 404 and GET /health did not answer as the service`, details);
      return new CliError(EXIT.NOT_FOUND, `this service has no route for ${what} (is it an older version?)`, details);
    }
    if (status === 409 || status === 410 || status === 416) return new CliError(EXIT.STATE, message, { ...details, status: parsed.status });
    if (status >= 500) return new CliError(EXIT.CONNECTION, `the service failed (HTTP ${status}): ${message}`, details);
    if (status >= 400) return new CliError(EXIT.USAGE, `the service refused the request (HTTP ${status}): ${message}`, details);
    return this.notThisService(`${what} answered HTTP ${status}: ${snippet(text)}`, details);
  }

  /** GET /health answers {"result":{"status":"ok"}} on this service, with or without a token. */
  async isService() {
    try {
      const response = await this.request("GET", "/health");
      const parsed = parseJson(await this.readText(response));
      return response.statusCode === 200 && parsed?.result?.status === "ok";
    } catch {
      return false;
    }
  }

  /**
   * @param {string} reason
   * @param {Record<string, unknown>} details
   */
  notThisService(reason, details) {
    return new CliError(EXIT.CONNECTION, `${this.url} does not look like a do-sqlite-dump service: ${reason}; check --url or DUMP_URL`, details);
  }

  /**
   * @param {IncomingMessage} response
   * @returns {Promise<string>}
   */
  async readText(response) {
    try {
      const chunks = [];
      for await (const chunk of response) chunks.push(chunk);
      return Buffer.concat(chunks).toString("utf8");
    } catch (error) {
      throw this.connectionError(error);
    }
  }

  /**
   * A socket-level failure as a CliError (exit code 3), keeping the code for --json.
   * @param {unknown} error
   */
  connectionError(error) {
    if (error instanceof CliError) return error;
    const code = /** @type {any} */ (error)?.code;
    const reasons = /** @type {Record<string, string>} */ ({
      ECONNREFUSED: "connection refused (is the service running there?)",
      ENOTFOUND: `host ${this.base.hostname} not found`,
      EAI_AGAIN: `host ${this.base.hostname} could not be resolved`,
      ECONNRESET: "the connection was reset",
      EPIPE: "the connection was closed while sending",
      EHOSTUNREACH: "host unreachable",
    });
    const reason = (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
    return new CliError(EXIT.CONNECTION, `cannot reach ${this.url}: ${reason}`, { code: code ?? null, url: this.url });
  }

  // ---- dumps and restores: the same routes under /export/dump and /import/dump ----

  /**
   * @param {string | undefined} database
   * @param {Record<string, unknown>} options the API's dump options
   */
  startDump(database, options) {
    return this.json("POST", "/export/dump/chunked", { query: { database }, body: options });
  }

  /** @param {Job} job */
  jobStatus(job) {
    return this.json("GET", `${jobPath(job)}/status`);
  }

  /**
   * DELETE: cancels a running job; for a finished dump, deletes it and its file.
   * @param {Job} job
   */
  cancelJob(job) {
    return this.json("DELETE", jobPath(job));
  }

  /**
   * @param {Job} job
   * @param {"pause" | "resume"} action
   */
  controlJob(job, action) {
    return this.json("POST", `${jobPath(job)}/${action}`);
  }

  /**
   * @param {"dump" | "restore"} kind
   * @param {Query} query database, status, limit, cursor (and schedule for dumps)
   */
  listJobs(kind, query) {
    return this.json("GET", kind === "dump" ? "/export/dumps" : "/import/dumps", { query });
  }

  /**
   * The file's raw answer (200, 206, or an error the caller reads with result()).
   * @param {string} dumpId
   * @param {Record<string, string>} headers Range, If-Range
   */
  openDump(dumpId, headers) {
    return this.request("GET", jobPath({ kind: "dump", id: dumpId }), { headers });
  }

  /**
   * Uploads a SQL file as the request body, streamed from disk.
   * @param {{ database?: string, body: import("node:stream").Readable, bytes: number, contentType: string, query: Query, callbackUrl?: string, onBodyBytes?: (bytes: number) => void }} upload
   */
  async uploadRestore(upload) {
    /** @type {Record<string, string>} */
    const headers = { "Content-Type": upload.contentType, "Content-Length": String(upload.bytes) };
    if (upload.callbackUrl) headers["X-Callback-URL"] = upload.callbackUrl;
    const response = await this.request("POST", "/import/dump", {
      query: { database: upload.database, ...upload.query },
      headers,
      body: upload.body,
      onBodyBytes: upload.onBodyBytes,
    });
    return this.result(response, "POST /import/dump");
  }

  /**
   * @param {string | undefined} database
   * @param {Record<string, unknown>} body dumpId, mode, breathingMs, sliceBytes, callbackUrl
   */
  restoreFromDump(database, body) {
    return this.json("POST", "/import/dump", { query: { database }, body });
  }

  // ---- schedules ----

  listSchedules() {
    return this.json("GET", "/export/schedules");
  }

  /** @param {string} name */
  getSchedule(name) {
    return this.json("GET", `/export/schedules/${encodeURIComponent(name)}`);
  }

  /**
   * @param {string} name
   * @param {Record<string, unknown>} schedule
   */
  putSchedule(name, schedule) {
    return this.json("PUT", `/export/schedules/${encodeURIComponent(name)}`, { body: schedule });
  }

  /** @param {string} name */
  deleteSchedule(name) {
    return this.json("DELETE", `/export/schedules/${encodeURIComponent(name)}`);
  }
}

/** @param {Job} job */
function jobPath(job) {
  return `${job.kind === "dump" ? "/export/dump" : "/import/dump"}/${encodeURIComponent(job.id)}`;
}

/**
 * @param {string} text
 * @returns {URL}
 */
function parseBaseUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(EXIT.CONNECTION, `"${text}" is not a URL; give the service's address, e.g. --url http://127.0.0.1:8787`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(EXIT.CONNECTION, `"${text}" is not an http or https URL`);
  }
  if (url.search || url.hash) throw new CliError(EXIT.CONNECTION, `"${text}": give the service's address without ?query or #fragment`);
  return url;
}

/** @param {string} text */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** @param {string} text */
function snippet(text) {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "(empty body)";
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}
