// Following a dump or restore to its end by polling its status, with a live line. A lost
// connection is retried a few times: the job runs on the service whether or not we watch it.

import { CliError, EXIT } from "./errors.mjs";
import { dumpLine, restoreLine } from "./progress.mjs";

export const FINAL_STATUSES = new Set(["completed", "failed", "cancelled", "expired"]);

const POLL_MS = 500;
const CONNECTION_RETRIES = 5;

/**
 * @typedef {import("./api.mjs").Api} Api
 * @typedef {import("./output.mjs").Output} Output
 */

/**
 * @param {Api} api
 * @param {Output} out
 * @param {{ kind: "dump" | "restore", id: string }} job
 * @returns {Promise<any>} the last status
 */
export async function follow(api, out, job) {
  const render = job.kind === "dump" ? dumpLine : restoreLine;
  const line = out.progress();
  let failures = 0;
  for (;;) {
    let status;
    try {
      status = await api.jobStatus(job);
      failures = 0;
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== EXIT.CONNECTION || ++failures > CONNECTION_RETRIES) throw error;
      out.log(`${error.message}; trying again (${failures} of ${CONNECTION_RETRIES})`);
      await sleep(POLL_MS * 2 ** failures);
      continue;
    }
    line.update(render(status));
    if (FINAL_STATUSES.has(status.status)) {
      line.finish();
      return status;
    }
    await sleep(POLL_MS);
  }
}

/**
 * The error for a job that ended other than completed (exit code 1, or 6 for an expired dump).
 * @param {{ kind: "dump" | "restore", id: string }} job
 * @param {any} status
 */
export function endedError(job, status) {
  const reason = status.error ? `: ${status.error}` : "";
  const failed = status.failedStatement;
  const where = failed ? `\nstatement ${failed.number} (line ${failed.line}, byte ${failed.byteOffset}): ${failed.sql}` : "";
  const code = status.status === "expired" ? EXIT.STATE : EXIT.FAILED;
  return new CliError(code, `${job.kind} ${job.id} ${status.status}${reason}${where}`, { [`${job.kind}Id`]: job.id, status: status.status, [job.kind]: status });
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
