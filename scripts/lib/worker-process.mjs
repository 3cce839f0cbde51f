// Starts the Worker locally (scripts/serve.mjs: wrangler's local runtime, no inspector unless asked) on a
// free port with a fresh state directory, and stops it again together with everything it spawned
// (workerd), also when the caller fails or is interrupted.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root: scripts/lib/../.. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const OUTPUT_LINES_KEPT = 40;
const STOP_GRACE_MS = 5_000;

/**
 * @typedef {object} StartWorkerOptions
 * @property {number} [port] Port to listen on; a free one when omitted.
 * @property {string} [persistTo] State directory; a fresh temporary one (deleted by stop()) when omitted.
 * @property {Record<string, string>} [vars] Overrides of wrangler.jsonc vars, passed as `--var KEY:VALUE`.
 * @property {number} [timeoutMs] How long to wait for GET /health to answer 200 (default 90 s).
 * @property {(line: string) => void} [onOutput] Receives every line the local runtime prints.
 * @property {string} [configPath] Another Worker's wrangler.jsonc (default: the project's own).
 * @property {string} [healthPath] Path that answers 200 once the Worker runs (default /health).
 * @property {boolean} [inspector] Attach an inspector (CPU profiles, heap use). Off by default: with one
 *   attached, local workerd can abort (scripts/serve.mjs says why).
 */

/**
 * @typedef {object} RunningWorker
 * @property {string} url Base URL, e.g. http://127.0.0.1:8787
 * @property {number} port
 * @property {number} pid Process id of scripts/serve.mjs, also its process group id.
 * @property {number | null} inspectorPort The inspector of the Worker's isolate, when `inspector` was asked for.
 * @property {string} persistTo
 * @property {() => string[]} output The last lines the local runtime printed.
 * @property {() => Promise<void>} stop Kills the whole process group and removes the temporary state directory.
 */

/** Workers started by this process and not stopped yet, so that exit and signals can clean them up. */
const running = new Set();

/**
 * @param {StartWorkerOptions} [options]
 * @returns {Promise<RunningWorker>}
 */
export async function startWorker(options = {}) {
  const port = options.port ?? (await freePort());
  const inspectorPort = options.inspector ? await freePort() : null;
  const ownsStateDir = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "do-dump-state-"));
  const args = [join(PROJECT_ROOT, "scripts/serve.mjs"), "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persistTo, "--no-watch"];
  if (inspectorPort !== null) args.push("--inspect", "--inspector-port", String(inspectorPort));
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push("--var", `${key}:${value}`);
  if (options.configPath) args.push("--config", options.configPath);
  const healthPath = options.healthPath ?? "/health";

  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    detached: true, // own process group, so that stop() reaches workerd too
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  if (child.pid === undefined) throw new Error("could not spawn scripts/serve.mjs");
  const pid = child.pid;

  /** @type {string[]} */
  const lines = [];
  const collect = (/** @type {NodeJS.ReadableStream} */ stream) => {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (/** @type {string} */ text) => {
      pending += text;
      const parts = pending.split(/\r?\n/);
      pending = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        if (lines.length > OUTPUT_LINES_KEPT) lines.shift();
        options.onOutput?.(line);
      }
    });
  };
  collect(/** @type {NodeJS.ReadableStream} */ (child.stdout));
  collect(/** @type {NodeJS.ReadableStream} */ (child.stderr));
  // A caller that forgets stop() still exits; the exit handler then kills the worker.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) /** @type {any} */ (stream)?.unref?.();

  /** @type {number | null} */
  let exitCode = null;
  let exited = false;
  const exitPromise = new Promise((resolveExit) => {
    child.on("exit", (code, signal) => {
      exited = true;
      exitCode = code ?? (signal ? 128 : null);
      resolveExit(undefined);
    });
  });

  const entry = { pid, persistTo: ownsStateDir ? persistTo : null };
  running.add(entry);
  installCleanupHandlers();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    signalGroup(pid, "SIGTERM");
    const timer = delay(STOP_GRACE_MS);
    await Promise.race([exitPromise, timer.promise]);
    timer.cancel();
    // workerd may outlive wrangler for a moment; the group kill reaches whatever is left.
    signalGroup(pid, "SIGKILL");
    await waitUntilGroupGone(pid);
    if (ownsStateDir) rmSync(persistTo, { recursive: true, force: true });
    running.delete(entry);
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  try {
    for (;;) {
      if (exited) throw new Error(`the local Worker exited with code ${exitCode} before ${healthPath} answered`);
      if (Date.now() > deadline) throw new Error(`the local Worker did not answer GET ${url}${healthPath} in time`);
      if (await healthy(`${url}${healthPath}`)) break;
      await delay(250).promise;
    }
  } catch (error) {
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- last lines of its output ---\n${lines.join("\n")}`);
  }
  return { url, port, pid, inspectorPort, persistTo, output: () => [...lines], stop };
}

/**
 * @typedef {object} SuperviseOptions
 * @property {number} [intervalMs] How often GET healthPath is asked (default 2 s).
 * @property {number} [misses] Checks in a row that time out (each waits 5 s) before a restart (default 6); two
 *   refused connections in a row restart it at once.
 * @property {(reason: string, lastLines: string[]) => void} [onRestart] Told before each restart.
 */

/**
 * startWorker(), watched. Local workerd can abort with a V8 fatal error (scripts/serve.mjs says when) and
 * leave the server dead or hanging; a busy one still answers GET /health within seconds. When the check
 * goes unanswered `misses` times in a row, the server is stopped and started again on the same port and
 * state directory, so `url` and every database stay as they were; requests in flight then fail.
 * @param {StartWorkerOptions} [options]
 * @param {SuperviseOptions} [watch]
 * @returns {Promise<RunningWorker & { restarts: () => number }>}
 */
export async function superviseWorker(options = {}, watch = {}) {
  const ownsStateDir = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "do-dump-state-"));
  const healthPath = options.healthPath ?? "/health";
  let worker = await startWorker({ ...options, persistTo });
  const { port, url } = worker;
  let restarts = 0;
  let misses = 0;
  let stopped = false;
  /** @type {Promise<void> | null} */
  let restarting = null;
  let checking = false;
  const check = async () => {
    // One check at a time, none during a restart: a slow answer must not count twice.
    if (stopped || restarting || checking) return;
    checking = true;
    const answer = await health(`${url}${healthPath}`, 5_000).finally(() => (checking = false));
    if (answer === "ok") {
      misses = 0;
      return;
    }
    // A refused connection means workerd is gone; a timeout may be a busy one, so it takes longer.
    misses += answer === "refused" ? Math.ceil((watch.misses ?? 6) / 2) : 1;
    if (misses < (watch.misses ?? 6) || stopped || restarting) return;
    misses = 0;
    watch.onRestart?.(`GET ${healthPath} went unanswered`, worker.output());
    restarting = (async () => {
      await worker.stop();
      if (stopped) return;
      worker = await startWorker({ ...options, persistTo, port });
      restarts += 1;
    })()
      .catch((error) => watch.onRestart?.(`the restart failed: ${error instanceof Error ? error.message : error}`, []))
      .finally(() => (restarting = null));
  };
  const timer = setInterval(check, watch.intervalMs ?? 2_000);
  timer.unref();
  return {
    url,
    port,
    get pid() {
      return worker.pid;
    },
    get inspectorPort() {
      return worker.inspectorPort;
    },
    persistTo,
    output: () => worker.output(),
    restarts: () => restarts,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await restarting;
      await worker.stop();
      if (ownsStateDir) rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

/**
 * @param {string} url
 * @param {number} timeoutMs
 * @returns {Promise<"ok" | "refused" | "timeout">}
 */
async function health(url, timeoutMs) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status === 200 ? "ok" : "refused";
  } catch (error) {
    return error instanceof Error && error.name === "TimeoutError" ? "timeout" : "refused";
  }
}

/**
 * Waits until GET `url` answers 200, for at most `timeoutMs`: a test that follows a restart of wrangler
 * dev by its supervisor waits for it here. Throws when it does not answer in time.
 * @param {string} url
 * @param {number} [timeoutMs]
 */
export async function waitUntilHealthy(url, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while ((await health(url, 5_000)) !== "ok") {
    if (Date.now() > deadline) throw new Error(`GET ${url} did not answer 200 within ${timeoutMs / 1000} s`);
    await delay(500).promise;
  }
}

/**
 * @param {string} url
 * @param {number} [timeoutMs]
 */
async function healthy(url, timeoutMs = 2_000) {
  return (await health(url, timeoutMs)) === "ok";
}

/** A port that is free right now on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** @param {number} pid */
async function waitUntilGroupGone(pid) {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(-pid, 0);
    } catch {
      return;
    }
    await delay(50).promise;
  }
}

/** @param {number} ms */
function delay(ms) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const promise = new Promise((r) => {
    timer = setTimeout(r, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

let handlersInstalled = false;

/** Kills every worker still running when this process exits or is interrupted. Synchronous on purpose. */
function killAllNow() {
  for (const entry of running) {
    signalGroup(entry.pid, "SIGKILL");
    if (entry.persistTo) rmSync(entry.persistTo, { recursive: true, force: true });
  }
  running.clear();
}

function installCleanupHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAllNow);
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    const onSignal = () => {
      killAllNow();
      // When nobody else handles the signal, keep its default meaning: terminate.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
