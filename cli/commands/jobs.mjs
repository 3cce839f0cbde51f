// `list`, `status`, `cancel`, `pause`, `resume`: dumps and restores by id. A restore's id starts
// with "restore-", which picks the /import routes instead of /export.

import { PROGRAM, choice, integer, jobId, noExtraArguments } from "../args.mjs";
import { usageError } from "../errors.mjs";
import { FINAL_STATUSES, endedError, follow } from "../follow.mjs";
import { formatBytes } from "../progress.mjs";

/**
 * @typedef {import("../main.mjs").CommandContext} CommandContext
 * @typedef {import("../main.mjs").Command} Command
 */

const STATUSES = ["queued", "in_progress", "paused", "completed", "failed", "cancelled", "expired"];

/** @type {Command} */
export const listCommand = {
  name: "list",
  options: {
    restores: { type: "boolean", help: "list restores instead of dumps" },
    status: { type: "string", value: "STATUS", help: `only this status: ${STATUSES.join(", ")}` },
    schedule: { type: "string", value: "NAME", help: "only the dumps of this schedule" },
    limit: { type: "string", value: "N", help: "at most N (1 to 100, default 20)" },
    cursor: { type: "string", value: "CURSOR", help: "the next page, from the previous list's cursor" },
  },
  help: {
    usage: "list [--restores] [options]",
    summary: "List the most recent dumps (or restores), newest first.",
    description: ["With --database only that database's. A next page's cursor is printed on stderr (in `cursor` with --json)."],
    examples: [`${PROGRAM} list -d shop --status completed`, `${PROGRAM} list --restores --json`],
  },
  async run(ctx) {
    noExtraArguments(ctx.positionals, 0, "list");
    const v = ctx.values;
    const restores = Boolean(v.restores);
    if (restores && v.schedule !== undefined) throw usageError("--schedule lists dumps; restores have no schedule");
    const query = {
      database: /** @type {string | undefined} */ (v.database),
      status: v.status === undefined ? undefined : choice(v.status, "--status", STATUSES),
      limit: v.limit === undefined ? undefined : integer(v.limit, "--limit", { min: 1, max: 100 }),
      cursor: /** @type {string | undefined} */ (v.cursor),
      schedule: /** @type {string | undefined} */ (v.schedule),
    };
    const result = await ctx.api.listJobs(restores ? "restore" : "dump", query);
    /** @type {any[]} */
    let items = (restores ? result.restores : result.dumps) ?? [];
    // A service without schedule filtering ignores the parameter; never show other dumps as the schedule's.
    if (query.schedule !== undefined) items = items.filter((dump) => scheduleName(dump) === query.schedule);
    const cursor = result.cursor ?? null;
    if (cursor) ctx.out.log(`more: ${PROGRAM} list${restores ? " --restores" : ""} --cursor ${cursor}`);
    const text = restores ? restoreTable(items) : dumpTable(items);
    ctx.out.result(text, restores ? { restores: items, cursor } : { dumps: items, cursor });
  },
};

/** @type {Command} */
export const statusCommand = {
  name: "status",
  options: { wait: { type: "boolean", help: "follow it to its end (exit code 1 unless it completes)" } },
  help: {
    usage: "status ID [--wait]",
    summary: "Show the status of a dump, or of a restore (ids starting restore-).",
    examples: [`${PROGRAM} status 20261125-093000-1a2b3c4d`, `${PROGRAM} status restore-20261125-093500-5e6f7a8b --wait --json`],
  },
  async run(ctx) {
    noExtraArguments(ctx.positionals, 1, "status");
    const job = jobId(ctx.positionals[0], "status");
    let status = await ctx.api.jobStatus(job);
    if (ctx.values.wait && !FINAL_STATUSES.has(status.status)) {
      ctx.onInterrupt(`${job.kind} ${job.id} goes on running on the service`, { [`${job.kind}Id`]: job.id });
      status = await follow(ctx.api, ctx.out, job);
    }
    if (ctx.values.wait && status.status !== "completed") throw endedError(job, status);
    ctx.out.result(describeJob(job.kind, status), { [job.kind]: status });
  },
};

/** @type {Command} */
export const cancelCommand = controlCommand("cancel", "Cancel a running dump or restore (a finished dump: delete it and its file).");
/** @type {Command} */
export const pauseCommand = controlCommand("pause", "Pause a running dump or restore.");
/** @type {Command} */
export const resumeCommand = controlCommand("resume", "Resume a paused dump or restore.");

/**
 * @param {"cancel" | "pause" | "resume"} action
 * @param {string} summary
 * @returns {Command}
 */
function controlCommand(action, summary) {
  return {
    name: action,
    options: {},
    help: {
      usage: `${action} ID`,
      summary,
      description: ["Exit code 6 when it is in the wrong state for that (e.g. pausing a finished dump)."],
      examples: [`${PROGRAM} ${action} 20261125-093000-1a2b3c4d`, `${PROGRAM} ${action} restore-20261125-093500-5e6f7a8b`],
    },
    async run(ctx) {
      noExtraArguments(ctx.positionals, 1, action);
      const job = jobId(ctx.positionals[0], action);
      const result = action === "cancel" ? await ctx.api.cancelJob(job) : await ctx.api.controlJob(job, action);
      ctx.out.result(`${job.kind} ${job.id}: ${result.status}`, { [`${job.kind}Id`]: job.id, status: result.status, [job.kind]: result });
    },
  };
}

/** @param {any} dump */
function scheduleName(dump) {
  const schedule = dump.schedule;
  return typeof schedule === "string" ? schedule : (schedule?.name ?? null);
}

/** @param {any[]} dumps */
function dumpTable(dumps) {
  if (dumps.length === 0) return "no dumps";
  const rows = dumps.map((d) => [
    d.dumpId,
    d.database,
    d.status,
    d.size === null || d.size === undefined ? `${d.progress?.percent ?? 0}%` : formatBytes(d.size),
    d.createdAt,
    scheduleName(d) ?? "",
  ]);
  return table(["ID", "DATABASE", "STATUS", "SIZE", "CREATED", "SCHEDULE"], rows);
}

/** @param {any[]} restores */
function restoreTable(restores) {
  if (restores.length === 0) return "no restores";
  const rows = restores.map((r) => [r.restoreId, r.database, r.status, r.mode, sourceText(r.source), r.createdAt]);
  return table(["ID", "DATABASE", "STATUS", "MODE", "SOURCE", "CREATED"], rows);
}

/** @param {any} source */
function sourceText(source) {
  if (!source) return "";
  return source.kind === "dump" ? `dump ${source.dumpId}` : `upload ${formatBytes(source.receivedBytes ?? source.bytes ?? 0)}`;
}

/**
 * @param {string[]} header
 * @param {string[][]} rows
 */
function table(header, rows) {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => String(row[i] ?? "").length)));
  const format = (/** @type {string[]} */ row) => row.map((cell, i) => String(cell ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [format(header), ...rows.map(format)].join("\n");
}

/**
 * Key: value lines for a person.
 * @param {"dump" | "restore"} kind
 * @param {any} s
 */
function describeJob(kind, s) {
  const p = s.progress ?? {};
  /** @type {[string, unknown][]} */
  const fields =
    kind === "dump"
      ? [
          ["dump", s.dumpId],
          ["database", s.database],
          ["status", s.status],
          ["progress", `${p.percent}% · ${p.processedTables}/${p.totalTables} tables · ${p.rowsDumped} rows · ${formatBytes(p.bytesWritten ?? 0)}`],
          ["table", p.currentTable],
          ["storage", s.storage],
          ["size", s.size],
          ["sha256", s.sha256],
          ["schedule", scheduleName(s)],
          ["created", s.createdAt],
          ["completed", s.completedAt],
          ["expires", s.expiresAt],
          ["download", s.downloadUrl],
          ["error", s.error],
        ]
      : [
          ["restore", s.restoreId],
          ["database", s.database],
          ["status", s.status],
          ["mode", s.mode],
          ["source", sourceText(s.source)],
          ["progress", `${p.percent}% · ${p.statementsApplied} statements · ${formatBytes(p.bytesRead ?? 0)} of ${formatBytes(p.totalBytes ?? 0)}`],
          ["table", p.currentTable],
          ["created", s.createdAt],
          ["completed", s.completedAt],
          ["error", s.error],
          ["statement", s.failedStatement ? `${s.failedStatement.number} (line ${s.failedStatement.line}): ${s.failedStatement.sql}` : null],
        ];
  const shown = fields.filter(([, value]) => value !== null && value !== undefined && value !== "");
  return shown.map(([key, value]) => `${key.padEnd(10)} ${value}`).join("\n");
}
