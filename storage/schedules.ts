// The schedules and their runs, over the JobIndex Durable Object.

import type { ScheduleRecord, ScheduleRun } from "../shared/schedule";
import type { DueSchedule } from "../shared/schedule-table";
import { jobIndexObject } from "./bindings";

export function scheduleRecords(env: Env) {
  const index = jobIndexObject(env);
  return {
    put: async (record: ScheduleRecord): Promise<void> => index.putSchedule(record),
    get: async (name: string) => (await index.getSchedule(name)) as ScheduleRecord | null,
    list: async () => (await index.listSchedules()) as ScheduleRecord[],
    delete: async (name: string): Promise<boolean> => index.deleteSchedule(name),
    /** Due schedules, each moved on to its next cron time (claimed once, even by overlapping triggers). */
    claimDue: async (now: Date) => (await index.claimDueSchedules(now)) as DueSchedule[],
    recordRun: async (name: string, run: ScheduleRun) => (await index.recordScheduleRun(name, run)) as ScheduleRecord | null,
    /** The completed dumps the schedule started, on every database. */
    completedDumps: async (name: string) => index.completedScheduledDumps(name),
  };
}
