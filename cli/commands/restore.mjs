// `restore`: load a SQL file (streamed from disk) or a finished dump into a database, and follow
// the restore to its end.

import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { PROGRAM, choice, integer, jobId, noExtraArguments } from "../args.mjs";
import { usageError } from "../errors.mjs";
import { endedError, follow } from "../follow.mjs";
import { bytesLine } from "../progress.mjs";

/**
 * @typedef {import("../main.mjs").CommandContext} CommandContext
 * @typedef {import("../main.mjs").Command} Command
 */

/** @type {Command} */
export const restoreCommand = {
  name: "restore",
  options: {
    "dump-id": { type: "string", value: "ID", help: "restore this finished dump of the service instead of a file" },
    mode: { type: "string", value: "empty|replace", help: "empty (default): refuse a database that has tables; replace: drop them first" },
    "breathing-ms": { type: "string", value: "N", help: "pause between restore steps, in milliseconds" },
    "slice-bytes": { type: "string", value: "N", help: "bytes of the file per step (4096 to 16 MiB; default 4 MiB)" },
    storage: { type: "string", value: "r2|do|auto", help: "where the service keeps an uploaded file (default auto)" },
    "callback-url": { type: "string", value: "URL", help: "POST the outcome there" },
    "no-wait": { type: "boolean", help: "start the restore, print its id and return" },
  },
  help: {
    usage: "restore FILE | --dump-id ID [options]",
    summary: "Load a SQL file (.sql, or .sql.gz) or a finished dump into a database, and follow it to the end.",
    description: [
      "A file is streamed from disk (never read whole into memory) as application/sql, or application/gzip when it",
      "ends in .gz or starts with the gzip magic bytes. Exit code 1 when the restore fails; the failing statement is",
      "printed. Mode empty refuses a database that has tables or views with exit code 6.",
    ],
    examples: [
      `${PROGRAM} restore dump_20261125-093000.sql -d copy`,
      `${PROGRAM} restore app.sql.gz -d app --mode replace`,
      `${PROGRAM} restore --dump-id 20261125-093000-1a2b3c4d -d copy --json`,
    ],
  },
  async run(ctx) {
    noExtraArguments(ctx.positionals, 1, "restore");
    const file = ctx.positionals[0];
    const dumpId = /** @type {string | undefined} */ (ctx.values["dump-id"]);
    if ((file === undefined) === (dumpId === undefined)) throw usageError(`give either a FILE or --dump-id ID; see \`${PROGRAM} restore --help\``);
    const database = /** @type {string | undefined} */ (ctx.values.database);
    const options = restoreOptions(ctx);
    const callbackUrl = /** @type {string | undefined} */ (ctx.values["callback-url"]);
    let started;
    if (dumpId !== undefined) {
      if (jobId(dumpId, "restore").kind !== "dump") throw usageError(`--dump-id needs a dump id, not the restore ${dumpId}`);
      if (ctx.values.storage !== undefined) throw usageError("--storage is for uploaded files; a dump is read where it is");
      started = await ctx.api.restoreFromDump(database, { dumpId, ...options, ...(callbackUrl ? { callbackUrl } : {}) });
    } else {
      started = await upload(ctx, /** @type {string} */ (file), database, options, callbackUrl);
    }
    const job = /** @type {const} */ ({ kind: "restore", id: started.restoreId });
    ctx.out.log(`restore ${job.id} into database ${started.database} started (mode ${started.mode})`);
    if (ctx.values["no-wait"]) {
      ctx.out.result(job.id, { restoreId: job.id, database: started.database, status: started.status, statusUrl: started.statusUrl });
      return;
    }
    ctx.onInterrupt(`restore ${job.id} goes on running on the service: \`${PROGRAM} status ${job.id} --wait\` follows it`, { restoreId: job.id });
    const status = await follow(ctx.api, ctx.out, job);
    if (status.status !== "completed") throw endedError(job, status);
    const p = status.progress;
    ctx.out.log(`restored into ${status.database}: ${p.statementsApplied} statements applied, ${p.statementsSkipped} skipped`);
    ctx.out.result(`${job.id} completed`, { restoreId: job.id, database: status.database, status: status.status, restore: status });
  },
};

/** @param {CommandContext} ctx */
function restoreOptions(ctx) {
  /** @type {Record<string, string | number>} */
  const options = {};
  const v = ctx.values;
  if (v.mode !== undefined) options.mode = choice(v.mode, "--mode", ["empty", "replace"]);
  if (v["breathing-ms"] !== undefined) options.breathingMs = integer(v["breathing-ms"], "--breathing-ms");
  if (v["slice-bytes"] !== undefined) options.sliceBytes = integer(v["slice-bytes"], "--slice-bytes", { min: 4096, max: 16 * 1024 * 1024 });
  return options;
}

/**
 * @param {CommandContext} ctx
 * @param {string} file
 * @param {string | undefined} database
 * @param {Record<string, string | number>} options
 * @param {string | undefined} callbackUrl
 */
async function upload(ctx, file, database, options, callbackUrl) {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw usageError(`${file} is not a file`);
  if (info.size === 0) throw usageError(`${file} is empty`);
  const storage = ctx.values.storage === undefined ? undefined : choice(ctx.values.storage, "--storage", ["r2", "do", "auto"]);
  const gzip = /\.gz$/i.test(file) || (await startsWithGzipMagic(file));
  const line = ctx.out.progress();
  const label = `upload ${basename(file)}`;
  let sent = 0;
  const started = await ctx.api.uploadRestore({
    database,
    body: createReadStream(file),
    bytes: info.size,
    contentType: gzip ? "application/gzip" : "application/sql",
    query: { ...options, storage },
    callbackUrl,
    onBodyBytes: (bytes) => {
      sent += bytes;
      line.update(bytesLine(label, sent, info.size));
    },
  });
  line.finish();
  return started;
}

/** @param {string} file */
async function startsWithGzipMagic(file) {
  const handle = await open(file, "r");
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
