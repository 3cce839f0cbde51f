// `schedules`: list, show, create or change, and delete scheduled backups
// (GET /export/schedules, GET/PUT/DELETE /export/schedules/:name).

import { readFile } from "node:fs/promises";
import { DUMP_OPTION_FLAGS, PROGRAM, dumpOptionsFrom, integer, listValue, noExtraArguments } from "../args.mjs";
import { usageError } from "../errors.mjs";

/**
 * @typedef {import("../main.mjs").CommandContext} CommandContext
 * @typedef {import("../main.mjs").Command} Command
 */

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** @type {Command} */
export const schedulesCommand = {
  name: "schedules",
  options: {
    cron: { type: "string", value: "EXPR", help: 'put: five-field cron expression in UTC, e.g. "0 3 * * *"' },
    databases: { type: "string", multiple: true, value: "A,B", help: "put: the databases to back up (default: --database, else default)" },
    "keep-last": { type: "string", value: "N", help: "put: keep the newest N backups" },
    "keep-daily": { type: "string", value: "D", help: "put: and the newest of each of the last D days" },
    "keep-weekly": { type: "string", value: "W", help: "put: and the newest of each of the last W weeks" },
    concurrency: { type: "string", value: "N", help: "put: at most N of its dumps run at once (the service's default is 4)" },
    source: { type: "string", value: "NAME", help: "put: a source of the service's DUMP_SOURCES; --databases are then its instance names (none for D1)" },
    file: { type: "string", value: "FILE", help: "put: send this JSON file (- for stdin) as the schedule, instead of the flags" },
    ...DUMP_OPTION_FLAGS,
  },
  help: {
    usage: "schedules [list] | get NAME | put NAME --cron EXPR [options] | delete NAME",
    summary: "Manage scheduled backups: each runs a dump of every database it names on its cron, and keeps what its retention says.",
    description: [
      "put sends {cron, source, databases, options, retention: {keepLast, keepDaily, keepWeekly}, concurrency}; the dump",
      "option flags fill `options`. get prints the schedule with its last run, next run and last outcome.",
    ],
    examples: [
      `${PROGRAM} schedules put nightly --cron "0 3 * * *" --databases shop,blog --keep-last 7 --keep-weekly 4 --gzip`,
      `${PROGRAM} schedules get nightly --json`,
      `${PROGRAM} list --schedule nightly`,
      `${PROGRAM} schedules delete nightly`,
    ],
  },
  async run(ctx) {
    const [action = "list", name, ...rest] = ctx.positionals;
    noExtraArguments(rest, 0, "schedules");
    if (action === "list") {
      if (name !== undefined) throw usageError(`schedules list takes no name; for one schedule: \`${PROGRAM} schedules get ${name}\``);
      const result = await ctx.api.listSchedules();
      const schedules = Array.isArray(result) ? result : (result.schedules ?? []);
      ctx.out.result(scheduleTable(schedules), { schedules, cursor: result.cursor ?? null });
      return;
    }
    if (!["get", "put", "delete"].includes(action)) throw usageError(`unknown schedules action "${action}": list, get, put or delete`);
    if (name === undefined || !NAME.test(name)) throw usageError(`schedules ${action} needs a NAME of 1-64 characters of A-Z a-z 0-9 _ -`);
    if (action === "get") {
      const schedule = await ctx.api.getSchedule(name);
      ctx.out.result(JSON.stringify(schedule, null, 2), { schedule });
    } else if (action === "put") {
      const schedule = await ctx.api.putSchedule(name, await scheduleBody(ctx));
      ctx.out.log(`schedule ${name} saved`);
      ctx.out.result(JSON.stringify(schedule, null, 2), { schedule });
    } else {
      const result = await ctx.api.deleteSchedule(name);
      ctx.out.result(`schedule ${name} deleted`, { name, result });
    }
  },
};

/**
 * The PUT body, from --file or from the flags.
 * @param {CommandContext} ctx
 */
async function scheduleBody(ctx) {
  const v = ctx.values;
  if (v.file !== undefined) {
    const text = v.file === "-" ? await readStdin() : await readFile(String(v.file), "utf8").catch(() => null);
    if (text === null) throw usageError(`cannot read ${v.file}`);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw usageError(`${v.file} is not JSON: ${error instanceof Error ? error.message : error}`);
    }
  }
  if (v.cron === undefined) throw usageError(`schedules put needs --cron (or --file); see \`${PROGRAM} schedules --help\``);
  const databases = listValue(v.databases) ?? (v.database !== undefined ? [String(v.database)] : undefined);
  /** @type {Record<string, number>} */
  const retention = {};
  if (v["keep-last"] !== undefined) retention.keepLast = integer(v["keep-last"], "--keep-last", { min: 1 });
  if (v["keep-daily"] !== undefined) retention.keepDaily = integer(v["keep-daily"], "--keep-daily");
  if (v["keep-weekly"] !== undefined) retention.keepWeekly = integer(v["keep-weekly"], "--keep-weekly");
  const options = dumpOptionsFrom(v);
  return {
    cron: String(v.cron),
    ...(v.source !== undefined ? { source: String(v.source) } : {}),
    ...(databases ? { databases } : {}),
    ...(Object.keys(options).length ? { options } : {}),
    ...(Object.keys(retention).length ? { retention } : {}),
    ...(v.concurrency !== undefined ? { concurrency: integer(v.concurrency, "--concurrency", { min: 1 }) } : {}),
  };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** @param {any[]} schedules */
function scheduleTable(schedules) {
  if (schedules.length === 0) return "no schedules";
  return schedules
    .map((s) => {
      const databases = Array.isArray(s.databases) ? s.databases.join(",") : (s.database ?? "");
      const last = s.lastOutcome;
      const outcome = last ? `last: ${last.outcome} ${last.at}${last.error ? ` (${last.error})` : ""}` : "never run";
      return [s.name, JSON.stringify(s.cron), databases, s.nextRun ? `next ${s.nextRun}` : "", outcome]
        .filter(Boolean)
        .join("  ");
    })
    .join("\n");
}
