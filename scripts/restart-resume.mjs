#!/usr/bin/env node
// Kills the local server in the middle of a dump, starts it again on the same state directory, and
// checks that the dump finishes with a file byte-identical to an uninterrupted dump of the same data.
//
//   npm run restart-test            (node scripts/restart-resume.mjs [--rows N] [--keep])
//
// What the local engine (wrangler 4.86) does after a restart is printed as it happens: an instance
// interrupted during a step.sleep reports "running" but makes no progress until it is paused and
// resumed, which makes the engine replay run() with the cached step results. The script waits a while
// for progress on its own, then gives that nudge through the public pause/resume endpoints.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ApiClient } from "./lib/api-client.mjs";
import { startWorker } from "./lib/worker-process.mjs";

const { values: args } = parseArgs({
  options: { rows: { type: "string", default: "30000" }, keep: { type: "boolean", default: false } },
});
const ROWS = Number(args.rows);
const DATABASE = "restart";
// Small steps and a long breathing sleep, so the kill lands between chunk steps.
const VARS = { STEP_TARGET_BYTES: String(1024 * 1024), BREATHING_MS: "0" };
const BREATHING_MS = 1500;
const STALL_BEFORE_NUDGE_MS = 8000;

const log = (message) => console.log(`[restart] ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), "restart-state-"));
  const workDir = mkdtempSync(join(tmpdir(), "restart-files-"));
  let worker = await startWorker({ persistTo: stateDir, vars: VARS });
  try {
    let api = new ApiClient(worker.url, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    log(`local server on ${worker.url}, state in ${stateDir}`);
    await seed(api);

    const reference = await api.startDump({ database: DATABASE, options: { storage: "r2", breathingMs: 0 } });
    const referenceStatus = await api.waitForDump(reference.dumpId, { timeoutMs: 120_000 });
    if (referenceStatus.status !== "completed") throw new Error(`reference dump ended ${referenceStatus.status}`);
    const referenceFile = await api.downloadDump(reference.dumpId, join(workDir, "reference"));
    log(`uninterrupted dump ${reference.dumpId}: ${referenceStatus.size} bytes`);

    const dump = await api.startDump({ database: DATABASE, options: { storage: "r2", breathingMs: BREATHING_MS } });
    let before;
    for (;;) {
      before = await api.dumpStatus(dump.dumpId);
      if (before.progress.rowsDumped > 0 && before.progress.rowsDumped < ROWS) break;
      if (before.status !== "in_progress" && before.status !== "queued") throw new Error(`dump ended ${before.status} before the kill`);
      await sleep(100);
    }
    log(`killing the local server (SIGKILL to its process group) at ${before.progress.rowsDumped}/${ROWS} rows, ${before.progress.bytesWritten} bytes`);
    process.kill(-worker.pid, "SIGKILL");
    await worker.stop();

    worker = await startWorker({ persistTo: stateDir, vars: VARS, port: worker.port });
    api = new ApiClient(worker.url, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    log(`restarted on the same state directory`);

    let nudged = false;
    let lastRows = -1;
    let lastChange = Date.now();
    let status;
    for (;;) {
      status = await api.dumpStatus(dump.dumpId);
      if (["completed", "failed", "cancelled"].includes(status.status)) break;
      if (status.progress.rowsDumped !== lastRows) {
        lastRows = status.progress.rowsDumped;
        lastChange = Date.now();
        log(`status ${status.status}, ${lastRows}/${ROWS} rows`);
      }
      if (!nudged && Date.now() - lastChange > STALL_BEFORE_NUDGE_MS) {
        log(`no progress for ${STALL_BEFORE_NUDGE_MS / 1000} s while the status says ${status.status}: pausing and resuming the instance`);
        await api.dumps.pause(dump.dumpId);
        await sleep(1000);
        await api.dumps.resume(dump.dumpId);
        nudged = true;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > 60_000) throw new Error(`the dump made no progress for 60 s after the restart (status ${status.status})`);
      await sleep(250);
    }
    if (status.status !== "completed") throw new Error(`the interrupted dump ended ${status.status}: ${status.error}`);

    const resumedFile = await api.downloadDump(dump.dumpId, join(workDir, "resumed"));
    const same = readFileSync(referenceFile.path).equals(readFileSync(resumedFile.path));
    log(`interrupted dump ${dump.dumpId}: ${status.size} bytes, ${nudged ? "resumed after a pause/resume nudge" : "resumed by itself"}`);
    if (!same) throw new Error("the resumed dump differs from the uninterrupted one");
    log("PASS: the file is byte-identical to the uninterrupted dump");
  } finally {
    await worker.stop();
    if (!args.keep) {
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    }
  }
}

/** A few MB in two tables, generated inside SQLite. */
async function seed(api) {
  await api.query("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT, score REAL, data BLOB)", [], { database: DATABASE });
  await api.query("CREATE TABLE tags(note_id INTEGER REFERENCES notes(id), tag TEXT)", [], { database: DATABASE });
  const batch = 10_000;
  for (let first = 1; first <= ROWS; first += batch) {
    const last = Math.min(ROWS, first + batch - 1);
    await api.transaction(
      [
        {
          sql: `WITH RECURSIVE n(i) AS (SELECT ${first} UNION ALL SELECT i + 1 FROM n WHERE i < ${last})
                INSERT INTO notes SELECT i, printf('note %d %s', i, hex(randomblob(40))), i / 7.0, randomblob(i % 200) FROM n`,
        },
        {
          sql: `WITH RECURSIVE n(i) AS (SELECT ${first} UNION ALL SELECT i + 1 FROM n WHERE i < ${last})
                INSERT INTO tags SELECT i, 'tag' || (i % 13) FROM n`,
        },
      ],
      { database: DATABASE },
    );
  }
  log(`seeded ${ROWS} notes and tags`);
}

/** A request without an answer after this long means the local runtime hangs (see below). */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Should local workerd abort (a V8 fatal error, README "Known limits") it stops answering, or leaves requests
 * hanging: the run is repeated once from the start when that is how it failed. A file that differs, or a dump
 * that fails, is never repeated.
 */
async function mainWithOneRetry() {
  try {
    await main();
  } catch (error) {
    if (!/fetch failed|ECONNREFUSED|ECONNRESET|TimeoutError|aborted due to timeout/.test(String(error instanceof Error ? `${error.name} ${error.message} ${error.cause}` : error))) throw error;
    log(`the local server stopped answering (${error instanceof Error ? error.message : error}): local workerd crashed; running the test once more`);
    await main();
  }
}

mainWithOneRetry().catch((error) => {
  console.error(`[restart] FAIL: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
});
