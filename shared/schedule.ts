// Scheduled backups: what a schedule says (cron, databases, dump options, retention policy, how many
// dumps run at once), what is kept about its runs, and the answers the API gives about it.

import * as v from "valibot";
import { SOURCE_NAME, type DatabaseRequest } from "./sources";
import { CronError, nextRun, parseCron } from "./cron";
import type { RetentionPolicy } from "./backup-retention";
import { DATABASE_NAME, DUMP_OPTIONS, type DumpOptions } from "./schemas";

const CRON = v.pipe(
  v.string(),
  v.check((text) => cronProblem(text) === null, (issue) => cronProblem(String(issue.input)) ?? "not a cron expression"),
);

function cronProblem(text: string): string | null {
  try {
    if (nextRun(parseCron(text), new Date()) === null) return `"${text}" never runs`;
    return null;
  } catch (error) {
    if (error instanceof CronError) return error.message;
    throw error;
  }
}

/** At most this many databases in one schedule: each is its own dump per run. */
export const MAX_SCHEDULE_DATABASES = 1000;

const DATABASES = v.pipe(
  v.union([v.pipe(DATABASE_NAME, v.transform((name) => [name])), v.array(DATABASE_NAME)], "databases: a database name or a list of them"),
  v.maxLength(MAX_SCHEDULE_DATABASES, `at most ${MAX_SCHEDULE_DATABASES} databases`),
  v.check((names) => new Set(names).size === names.length, "a database is named twice"),
);

const COUNT = (what: string, max: number) =>
  v.pipe(v.number(), v.integer(`${what} must be an integer`), v.minValue(0, `${what} must be at least 0`), v.maxValue(max));

const RETENTION_POLICY = v.strictObject({
  keepLast: v.pipe(COUNT("keepLast", 10_000), v.minValue(1, "keepLast must be at least 1")),
  keepDaily: v.optional(COUNT("keepDaily", 10_000)),
  keepWeekly: v.optional(COUNT("keepWeekly", 1_000)),
});

export const DEFAULT_SCHEDULE_CONCURRENCY = 4;

/** The body of PUT /export/schedules/:name. */
export const SCHEDULE_INPUT = v.pipe(
  v.strictObject({
    cron: CRON,
    /** A source of DUMP_SOURCES; without it, the service's own databases. */
    source: v.optional(SOURCE_NAME),
    /** Database names (instance names of a Durable Object source); none for a D1 source. */
    databases: v.optional(DATABASES, []),
    options: v.optional(DUMP_OPTIONS, {}),
    retention: RETENTION_POLICY,
    /** How many of the schedule's dumps may run at the same time. */
    concurrency: v.optional(v.pipe(COUNT("concurrency", 100), v.minValue(1, "concurrency must be at least 1")), DEFAULT_SCHEDULE_CONCURRENCY),
  }),
  v.check((input) => input.source !== undefined || input.databases.length > 0, "databases: give at least one database"),
);

/** What each run dumps: one request per database name, or the one database of a D1 source. */
export function scheduleTargets(spec: Pick<ScheduleSpec, "source" | "databases">): DatabaseRequest[] {
  const { source, databases } = spec;
  if (source === undefined) return databases.map((database) => ({ kind: "service", database }));
  if (databases.length === 0) return [{ kind: "source", source, instance: null }];
  return databases.map((name) => ({ kind: "source", source, instance: { name } }));
}

export interface ScheduleSpec {
  cron: string;
  source?: string;
  databases: string[];
  options: DumpOptions;
  retention: RetentionPolicy;
  concurrency: number;
}

/** How a run ended, or why it never started. */
export type RunOutcome = "running" | "completed" | "partial" | "failed" | "not_started";

export interface ScheduledDump {
  database: string;
  dumpId: string;
  status: string;
}

export interface SkippedDatabase {
  database: string;
  reason: string;
}

export interface ScheduleRun {
  runId: string;
  /** The cron time the run is for. */
  scheduledAt: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: RunOutcome;
  dumps: ScheduledDump[];
  /** Databases that were not dumped, and why. */
  skipped: SkippedDatabase[];
  /** Backups the retention policy deleted after the run. */
  deleted: string[];
  /** Why the run failed or could not start. */
  error: string | null;
}

export interface ScheduleRecord extends ScheduleSpec {
  name: string;
  /** Where the schedule was saved: the origin of its dumps' status and download URLs. */
  origin: string;
  createdAt: string;
  updatedAt: string;
  /** The next cron time it runs at, or null when the expression never matches again. */
  nextRunAt: string | null;
  /** The last run that started: running, or how it ended. */
  lastRun: ScheduleRun | null;
  /** The last cron time at which no run could start, and why (kept apart, so that it never hides a run still going). */
  lastNotStarted: ScheduleRun | null;
}

/** The run at `scheduledAt`: one id per schedule and cron minute, so a trigger that fires twice starts it once. */
export function scheduleRunId(name: string, scheduledAt: Date): string {
  const stamp = scheduledAt.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 13);
  return `sched-${name}-${stamp}`;
}

export function nextRunAt(cron: string, after: Date): string | null {
  return nextRun(parseCron(cron), after)?.toISOString() ?? null;
}

/** The record of a schedule saved (created or replaced) at `now`; a replaced one keeps its creation time and last run. */
export function savedSchedule(name: string, spec: ScheduleSpec, origin: string, now: Date, previous: ScheduleRecord | null): ScheduleRecord {
  return {
    name,
    ...spec,
    origin,
    createdAt: previous?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
    nextRunAt: nextRunAt(spec.cron, now),
    lastRun: previous?.lastRun ?? null,
    lastNotStarted: previous?.lastNotStarted ?? null,
  };
}

/** A run that could not start, with the reason: recorded as the schedule's lastNotStarted. */
export function runNotStarted(runId: string, scheduledAt: string, now: Date, reason: string): ScheduleRun {
  const at = now.toISOString();
  return { runId, scheduledAt, startedAt: at, finishedAt: at, outcome: "not_started", dumps: [], skipped: [], deleted: [], error: reason };
}

/** The outcome of a finished run: completed when every database was dumped, failed when none was. */
export function finishedOutcome(dumps: ScheduledDump[], skipped: SkippedDatabase[]): RunOutcome {
  const completed = dumps.filter((d) => d.status === "completed").length;
  if (completed === 0) return "failed";
  return completed === dumps.length && skipped.length === 0 ? "completed" : "partial";
}

/** What GET /export/schedules/:name shows. */
export function scheduleView(record: ScheduleRecord) {
  const started = record.lastRun;
  const notStarted = record.lastNotStarted ?? null;
  const run = notStarted && (!started || notStarted.scheduledAt > started.scheduledAt) ? notStarted : started;
  return {
    name: record.name,
    cron: record.cron,
    source: record.source ?? null,
    databases: record.databases,
    options: record.options,
    retention: record.retention,
    concurrency: record.concurrency,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    nextRun: record.nextRunAt,
    lastRun: started,
    lastNotStarted: notStarted,
    lastOutcome: run ? { outcome: run.outcome, at: run.finishedAt ?? run.startedAt, error: run.error, skipped: run.skipped } : null,
  };
}
