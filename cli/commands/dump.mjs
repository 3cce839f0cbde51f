// `dump`: start a dump, follow it, download and verify the file. `download`: the last two for a
// dump started earlier (also what resumes a download whose run was interrupted).

import { stat } from "node:fs/promises";
import { DUMP_OPTION_FLAGS, PROGRAM, dumpOptionsFrom, integer, jobId, noExtraArguments } from "../args.mjs";
import { downloadDump } from "../download.mjs";
import { usageError } from "../errors.mjs";
import { FINAL_STATUSES, endedError, follow } from "../follow.mjs";
import { formatBytes } from "../progress.mjs";

/**
 * @typedef {import("../main.mjs").CommandContext} CommandContext
 * @typedef {import("../main.mjs").Command} Command
 */

const DEFAULT_RETRIES = 5;

/** @type {import("../args.mjs").OptionSpecs} */
const DOWNLOAD_FLAGS = {
  output: { type: "string", short: "o", value: "FILE|DIR", help: "where to save the file (default: the service's dump_YYYYMMDD-HHMMSS.sql[.gz] here)" },
  force: { type: "boolean", help: "overwrite the file when it exists" },
  retries: { type: "string", value: "N", help: `resume a broken download up to N times in a row (default ${DEFAULT_RETRIES})` },
};

const VERIFY_TEXT = [
  "The download resumes where it broke (Range + If-Range) and is checked before it gets its name: its SHA-256",
  "against the service's (status `sha256` or the `Repr-Digest` header) when the service gives one, and its size",
  "against the status's `size`. While it runs the file is FILE.part; a file that does not match is kept as",
  "FILE.corrupt (exit code 1) and FILE is not written. Interrupted runs resume from FILE.part when run again.",
];

/** @type {Command} */
export const dumpCommand = {
  name: "dump",
  options: {
    ...DOWNLOAD_FLAGS,
    ...DUMP_OPTION_FLAGS,
    "no-wait": { type: "boolean", help: "start the dump, print its id and return (no download)" },
  },
  help: {
    usage: "dump [-o FILE|DIR] [options]",
    summary: "Start a dump of a database, show its progress, download the file, verify it and print its path.",
    description: VERIFY_TEXT,
    examples: [
      `${PROGRAM} dump -d shop`,
      `${PROGRAM} dump -d shop --gzip --tables Album,Artist -o backups/`,
      `DUMP_URL=https://dumps.example.workers.dev DUMP_TOKEN=… ${PROGRAM} dump -d shop --json`,
      `${PROGRAM} dump -d shop --no-wait --json   # {"ok":true,"dumpId":"…",…}`,
    ],
  },
  async run(ctx) {
    noExtraArguments(ctx.positionals, 0, "dump");
    const options = dumpOptionsFrom(ctx.values);
    const retries = retriesFrom(ctx);
    const output = /** @type {string | undefined} */ (ctx.values.output);
    await refuseExistingFile(output, Boolean(ctx.values.force));
    const started = await ctx.api.startDump(/** @type {string | undefined} */ (ctx.values.database), options);
    const job = /** @type {const} */ ({ kind: "dump", id: started.dumpId });
    ctx.out.log(`dump ${started.dumpId} started (storage ${started.storage})`);
    if (ctx.values["no-wait"]) {
      ctx.out.result(started.dumpId, { dumpId: started.dumpId, status: started.status, statusUrl: started.statusUrl, downloadUrl: started.downloadUrl });
      return;
    }
    ctx.onInterrupt(
      `dump ${job.id} goes on running on the service: \`${PROGRAM} download ${job.id}\` fetches it when it is done, ` +
        `\`${PROGRAM} cancel ${job.id}\` stops it`,
      { dumpId: job.id },
    );
    const status = await follow(ctx.api, ctx.out, job);
    if (status.status !== "completed") throw endedError(job, status);
    await save(ctx, status, output, retries);
  },
};

/** @type {Command} */
export const downloadCommand = {
  name: "download",
  options: DOWNLOAD_FLAGS,
  help: {
    usage: "download ID [-o FILE|DIR] [options]",
    summary: "Download and verify the file of a dump (waiting for it to finish first), or resume a broken download.",
    description: VERIFY_TEXT,
    examples: [`${PROGRAM} download 20261125-093000-1a2b3c4d`, `${PROGRAM} download 20261125-093000-1a2b3c4d -o backups/ --json`],
  },
  async run(ctx) {
    noExtraArguments(ctx.positionals, 1, "download");
    const job = jobId(ctx.positionals[0], "download");
    if (job.kind !== "dump") throw usageError(`${job.id} is a restore; only dumps have a file to download`);
    const retries = retriesFrom(ctx);
    const output = /** @type {string | undefined} */ (ctx.values.output);
    await refuseExistingFile(output, Boolean(ctx.values.force));
    ctx.onInterrupt(`run \`${PROGRAM} download ${job.id}\` again to resume`, { dumpId: job.id });
    let status = await ctx.api.jobStatus(job);
    if (!FINAL_STATUSES.has(status.status)) status = await follow(ctx.api, ctx.out, job);
    if (status.status !== "completed") throw endedError(job, status);
    await save(ctx, status, output, retries);
  },
};

/**
 * Downloads a completed dump, verifies it and prints where it is.
 * @param {CommandContext} ctx
 * @param {any} status
 * @param {string | undefined} output
 * @param {number} retries
 */
async function save(ctx, status, output, retries) {
  const progress = ctx.out.progress();
  const saved = await downloadDump(ctx.api, status, {
    output,
    force: Boolean(ctx.values.force),
    retries,
    progress,
    log: (message) => ctx.out.log(message),
  });
  const check = saved.verifiedBy === "sha-256" ? "SHA-256 verified" : "size verified; the service gave no SHA-256";
  ctx.out.log(`saved ${saved.path}: ${formatBytes(saved.size)}, ${check}`);
  ctx.out.result(saved.path, {
    dumpId: status.dumpId,
    database: status.database,
    status: status.status,
    path: saved.path,
    size: saved.size,
    sha256: saved.sha256,
    verifiedBy: saved.verifiedBy,
    dump: status,
  });
}

/** @param {CommandContext} ctx */
function retriesFrom(ctx) {
  return ctx.values.retries === undefined ? DEFAULT_RETRIES : integer(ctx.values.retries, "--retries", { max: 100 });
}

/**
 * Checked before anything starts, so that a long dump is not made only to be refused at the end.
 * @param {string | undefined} output
 * @param {boolean} force
 */
async function refuseExistingFile(output, force) {
  if (output === undefined || force || /[\\/]$/.test(output)) return;
  const existing = await stat(output).catch(() => null);
  if (existing && !existing.isDirectory()) throw usageError(`${output} already exists; give --force to overwrite it, or -o another path`);
}
