// The bodies of ScheduleWorkflow's steps: check the databases, start one dump each, read how the
// running ones are doing, apply the retention policy, record the outcome.

import { backupsBeyondPolicy } from "../shared/backup-retention";
import { isFinished } from "../shared/job-record";
import type { ScheduledDump, ScheduleRun, SkippedDatabase } from "../shared/schedule";
import { ServiceError } from "../shared/service-error";
import { bytesToHex, sha256 } from "../shared/sha256";
import { scheduleTargets } from "../shared/schedule";
import type { DatabaseRequest } from "../shared/sources";
import { openDatabase, resolveDatabase, type JobDatabase } from "../storage/databases";
import { jobRecords } from "../storage/job-records";
import { scheduleRecords } from "../storage/schedules";
import { unknownNames } from "../shared/table-selection";
import { assertUsableOptions, startDumpJob } from "./start-dump-job";
import { currentStatus, expireDump, findJob } from "./jobs";
import type { ScheduleRunParams } from "./schedule-workflow";

/** Databases checked at once. */
const CHECK_BATCH = 25;

/** Which databases can be dumped, and why the others cannot. Reads only, so safe to retry. */
export async function checkDatabases(env: Env, params: ScheduleRunParams): Promise<{ ready: JobDatabase[]; skipped: SkippedDatabase[] }> {
  const targets = scheduleTargets(params.spec);
  try {
    assertUsableOptions(env, params.spec.options);
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    return { ready: [], skipped: targets.map((target) => ({ database: targetName(target), reason: error.message })) };
  }
  const ready: JobDatabase[] = [];
  const skipped: SkippedDatabase[] = [];
  for (let i = 0; i < targets.length; i += CHECK_BATCH) {
    const batch = targets.slice(i, i + CHECK_BATCH);
    const checked = await Promise.all(batch.map((target) => dumpable(env, target, params)));
    for (const [j, outcome] of checked.entries()) {
      if ("reason" in outcome) skipped.push({ database: targetName(batch[j]), reason: outcome.reason });
      else ready.push(outcome);
    }
  }
  return { ready, skipped };
}

/** What a run calls a database before it is resolved: its name, or its source's. */
function targetName(target: DatabaseRequest): string {
  if (target.kind === "service") return target.database;
  return target.instance && "name" in target.instance ? `${target.source}/${target.instance.name}` : target.source;
}

async function dumpable(env: Env, target: DatabaseRequest, params: ScheduleRunParams): Promise<JobDatabase | { reason: string }> {
  let database: JobDatabase;
  try {
    database = await resolveDatabase(env, target, "dump");
  } catch (error) {
    if (error instanceof ServiceError) return { reason: error.message };
    throw error;
  }
  // A Durable Object exists for every name, so a database "is gone" when it holds no tables or views.
  const names = await openDatabase(env, database).sqlDumpTableAndViewNames();
  if (names.length === 0) return { reason: `database "${targetName(target)}" has no tables or views (no such database holds data)` };
  const unknown = unknownNames(params.spec.options, names);
  return unknown.length ? { reason: `unknown tables: ${unknown.join(", ")}` } : database;
}

/** The last part of the dump id this run gives `database`'s dump, so that a retried start finds the dump it made. */
function dumpIdSuffix(runId: string, database: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(`${runId}/${database}`))).slice(0, 8);
}

/**
 * Starts the dump of one database, or says why it could not. A retry after the dump was recorded
 * finds it by its id's suffix instead of starting a second one.
 */
export async function startScheduledDump(env: Env, params: ScheduleRunParams, target: JobDatabase): Promise<{ dumpId: string } | { error: string }> {
  const { database } = target;
  const idSuffix = dumpIdSuffix(params.runId, database);
  const recent = await jobRecords(env, "dump").list({ database, schedule: params.name, limit: 5 });
  const earlier = recent.find((record) => record.dumpId.endsWith(`-${idSuffix}`));
  if (earlier) return { dumpId: earlier.dumpId };
  try {
    const started = await startDumpJob(env, { ...target, options: params.spec.options, origin: params.origin, schedule: params.name, idSuffix });
    return { dumpId: started.dumpId };
  } catch (error) {
    // Refusals are the run's outcome for this database; anything else is thrown so that the step retries.
    if (error instanceof ServiceError) return { error: error.message };
    throw error;
  }
}

/** The current status of each of the run's dumps. Reads only. */
export async function dumpStatuses(env: Env, dumps: ScheduledDump[]): Promise<ScheduledDump[]> {
  return Promise.all(
    dumps.map(async (dump) => {
      try {
        const { status } = await currentStatus(env, "dump", await findJob(env, "dump", dump.dumpId));
        return { ...dump, status };
      } catch (error) {
        // Deleted through the API while the run waited: it no longer holds a slot.
        if (error instanceof ServiceError && error.failure === "not_found") return { ...dump, status: "cancelled" };
        throw error;
      }
    }),
  );
}

export function stillRunning(dump: ScheduledDump): boolean {
  return !isFinished(dump.status as Parameters<typeof isFinished>[0]);
}

/**
 * Deletes the schedule's completed backups that its policy no longer keeps, per database, through
 * the same expiry as the end of a dump's retention. Safe to retry: an expired dump is no longer listed.
 */
export async function applyRetention(env: Env, params: ScheduleRunParams): Promise<string[]> {
  const byDatabase = new Map<string, Array<{ id: string; createdAt: string }>>();
  for (const backup of await scheduleRecords(env).completedDumps(params.name)) {
    byDatabase.set(backup.database, [...(byDatabase.get(backup.database) ?? []), backup]);
  }
  const deleted: string[] = [];
  for (const backups of byDatabase.values()) {
    for (const backup of backupsBeyondPolicy(backups, params.spec.retention)) {
      await expireDump(env, backup.id);
      deleted.push(backup.id);
    }
  }
  if (deleted.length) console.log(JSON.stringify({ event: "schedule_retention", schedule: params.name, runId: params.runId, deleted }));
  return deleted;
}

/** Records the run as the schedule's last one; harmless to repeat. */
export async function recordRun(env: Env, name: string, run: ScheduleRun): Promise<void> {
  await scheduleRecords(env).recordRun(name, run);
}
