// Schedules: saving, showing, listing and deleting them, and starting the runs that are due (the
// Worker's scheduled() handler, every minute).

import { messageOf } from "../shared/error-message";
import { runNotStarted, savedSchedule, scheduleRunId, scheduleTargets, scheduleView, type ScheduleRecord, type ScheduleRun, type ScheduleSpec } from "../shared/schedule";
import type { DueSchedule } from "../shared/schedule-table";
import { ServiceError } from "../shared/service-error";
import { unknownNames } from "../shared/table-selection";
import { openDatabase, resolveDatabase } from "../storage/databases";
import { scheduleRecords } from "../storage/schedules";
import { assertUsableOptions } from "../workflows/start-dump-job";
import type { ScheduleRunParams } from "../workflows/schedule-workflow";

/**
 * Creates or replaces a schedule. Options are refused (invalid) as POST /export/dump refuses them;
 * tables named in them must exist in every listed database that has tables (an empty one is checked
 * again at each run).
 */
export async function putSchedule(env: Env, name: string, spec: ScheduleSpec, origin: string) {
  assertUsableOptions(env, spec.options);
  // The source must be configured, and a D1 source takes no database names (a Durable Object source needs them).
  const targets = await Promise.all(scheduleTargets(spec).map((request) => resolveDatabase(env, request, "list")));
  const selective = Boolean(spec.options.tables || spec.options.excludeTables);
  const problems = await Promise.all(
    targets.map(async (target) => {
      if (!selective) return null;
      const names = await openDatabase(env, target).sqlDumpTableAndViewNames();
      const unknown = names.length ? unknownNames(spec.options, names) : [];
      return unknown.length ? `database "${target.database}": unknown tables: ${unknown.join(", ")}` : null;
    }),
  );
  const refused = problems.filter((problem) => problem !== null);
  if (refused.length) throw new ServiceError("invalid", `options: ${refused.slice(0, 3).join("; ")}`);
  const records = scheduleRecords(env);
  const record = savedSchedule(name, spec, origin, new Date(), await records.get(name));
  await records.put(record);
  return scheduleView(record);
}

async function findSchedule(env: Env, name: string): Promise<ScheduleRecord> {
  const record = await scheduleRecords(env).get(name);
  if (!record) throw new ServiceError("not_found", `no schedule named ${name}`);
  return record;
}

export async function showSchedule(env: Env, name: string) {
  return scheduleView(await findSchedule(env, name));
}

export async function listSchedules(env: Env) {
  return (await scheduleRecords(env).list()).map(scheduleView);
}

/** Deletes the schedule; its backups stay until SCHEDULED_DUMP_RETENTION ends (or they are deleted). */
export async function deleteSchedule(env: Env, name: string): Promise<void> {
  if (!(await scheduleRecords(env).delete(name))) throw new ServiceError("not_found", `no schedule named ${name}`);
}

const ACTIVE = new Set<InstanceStatus["status"]>(["queued", "running", "waiting", "paused", "waitingForPause"]);

/** Starts a ScheduleWorkflow instance for every schedule due at `now`, and records each run or why it could not start. */
export async function runDueSchedules(env: Env, now: Date): Promise<ScheduleRun[]> {
  const records = scheduleRecords(env);
  const runs: ScheduleRun[] = [];
  for (const due of await records.claimDue(now)) {
    const run = await startRun(env, due, now);
    await records.recordRun(due.schedule.name, run);
    console.log(JSON.stringify({ event: "schedule_run", schedule: due.schedule.name, runId: run.runId, outcome: run.outcome, error: run.error }));
    runs.push(run);
  }
  return runs;
}

async function startRun(env: Env, { schedule, scheduledAt }: DueSchedule, now: Date): Promise<ScheduleRun> {
  const runId = scheduleRunId(schedule.name, new Date(scheduledAt));
  const previous = schedule.lastRun;
  if (previous?.outcome === "running" && (await isActive(env, previous.runId))) {
    return runNotStarted(runId, scheduledAt, now, `the previous run ${previous.runId} is still running`);
  }
  const { name, origin, cron, source, databases, options, retention, concurrency } = schedule;
  const params: ScheduleRunParams = {
    name,
    runId,
    scheduledAt,
    startedAt: now.toISOString(),
    spec: { cron, ...(source === undefined ? {} : { source }), databases, options, retention, concurrency },
    origin,
  };
  try {
    await env.SCHEDULE_WORKFLOW.create({ id: runId, params });
  } catch (error) {
    return runNotStarted(runId, scheduledAt, now, `its Workflow instance could not be created: ${messageOf(error)}`);
  }
  return { runId, scheduledAt, startedAt: params.startedAt, finishedAt: null, outcome: "running", dumps: [], skipped: [], deleted: [], error: null };
}

async function isActive(env: Env, runId: string): Promise<boolean> {
  try {
    return ACTIVE.has((await (await env.SCHEDULE_WORKFLOW.get(runId)).status()).status);
  } catch {
    return false; // no such instance any more
  }
}
