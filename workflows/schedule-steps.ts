// The bodies of ScheduleWorkflow's steps: check the databases, start one dump each, read how the
// running ones are doing, apply the retention policy, record the outcome.

import { backupsBeyondPolicy } from "../shared/backup-retention";
import { isFinished } from "../shared/job-record";
import type { ScheduledDump, ScheduleRun, SkippedDatabase } from "../shared/schedule";
import { ServiceError } from "../shared/service-error";
import { bytesToHex, sha256 } from "../shared/sha256";
import { databaseObject } from "../storage/bindings";
import { jobRecords } from "../storage/job-records";
import { scheduleRecords } from "../storage/schedules";
import { unknownNames } from "../shared/table-selection";
import { assertUsableOptions, startDumpJob } from "./start-dump-job";
import { currentStatus, expireDump, findJob } from "./jobs";
import type { ScheduleRunParams } from "./schedule-workflow";

/** Databases checked at once. */
const CHECK_BATCH = 25;

/** Which databases can be dumped, and why the others cannot. Reads only, so safe to retry. */
export async function checkDatabases(env: Env, params: ScheduleRunParams): Promise<{ ready: string[]; skipped: SkippedDatabase[] }> {
  const { databases, options } = params.spec;
  try {
    assertUsableOptions(env, options);
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    return { ready: [], skipped: databases.map((database) => ({ database, reason: error.message })) };
  }
  const ready: string[] = [];
  const skipped: SkippedDatabase[] = [];
  for (let i = 0; i < databases.length; i += CHECK_BATCH) {
    const batch = databases.slice(i, i + CHECK_BATCH);
    const reasons = await Promise.all(batch.map((database) => whyNotDumpable(env, database, params)));
    batch.forEach((database, j) => (reasons[j] === null ? ready.push(database) : skipped.push({ database, reason: reasons[j]! })));
  }
  return { ready, skipped };
}

async function whyNotDumpable(env: Env, database: string, params: ScheduleRunParams): Promise<string | null> {
  // A Durable Object exists for every name, so a database "is gone" when it holds no tables or views.
  const names = await databaseObject(env, database).tableAndViewNames();
  if (names.length === 0) return `database "${database}" has no tables or views (no such database holds data)`;
  const unknown = unknownNames(params.spec.options, names);
  return unknown.length ? `unknown tables: ${unknown.join(", ")}` : null;
}

/** The last part of the dump id this run gives `database`'s dump, so that a retried start finds the dump it made. */
function dumpIdSuffix(runId: string, database: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(`${runId}/${database}`))).slice(0, 8);
}

/**
 * Starts the dump of one database, or says why it could not. A retry after the dump was recorded
 * finds it by its id's suffix instead of starting a second one.
 */
export async function startScheduledDump(env: Env, params: ScheduleRunParams, database: string): Promise<{ dumpId: string } | { error: string }> {
  const idSuffix = dumpIdSuffix(params.runId, database);
  const recent = await jobRecords(env, "dump").list({ database, schedule: params.name, limit: 5 });
  const earlier = recent.find((record) => record.dumpId.endsWith(`-${idSuffix}`));
  if (earlier) return { dumpId: earlier.dumpId };
  try {
    const started = await startDumpJob(env, { database, options: params.spec.options, origin: params.origin, schedule: params.name, idSuffix });
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
