// The records of every dump and restore (metadata, progress, outcome), and the schedules, in one
// instance named "index". A thin RPC adapter over shared/job-table.ts and shared/schedule-table.ts.

import { DurableObject } from "cloudflare:workers";
import type { JobKind, JobListQuery, JobPatch, JobRecord } from "../shared/job-record";
import { JobTable } from "../shared/job-table";
import type { ScheduleRecord, ScheduleRun } from "../shared/schedule";
import { ScheduleTable, type DueSchedule } from "../shared/schedule-table";

export class JobIndex extends DurableObject<Env> {
  private readonly jobs = new JobTable(this.ctx.storage);
  private readonly schedules = new ScheduleTable(this.ctx.storage);

  createJob(kind: JobKind, record: JobRecord): void {
    this.jobs.create(kind, record);
  }

  getJob(kind: JobKind, id: string): JobRecord | null {
    return this.jobs.get(kind, id);
  }

  updateJob(kind: JobKind, id: string, patch: JobPatch): JobRecord | null {
    return this.jobs.update(kind, id, patch);
  }

  deleteJob(kind: JobKind, id: string): void {
    this.jobs.delete(kind, id);
  }

  listJobs(kind: JobKind, query: JobListQuery): JobRecord[] {
    return this.jobs.list(kind, query);
  }

  startedJobs(kind: JobKind, database: string): JobRecord[] {
    return this.jobs.started(kind, database);
  }

  completedScheduledDumps(schedule: string): Array<{ id: string; database: string; createdAt: string }> {
    return this.jobs.completedScheduledDumps(schedule);
  }

  // ---- schedules ----

  putSchedule(record: ScheduleRecord): void {
    this.schedules.put(record);
  }

  getSchedule(name: string): ScheduleRecord | null {
    return this.schedules.get(name);
  }

  listSchedules(): ScheduleRecord[] {
    return this.schedules.list();
  }

  deleteSchedule(name: string): boolean {
    return this.schedules.delete(name);
  }

  claimDueSchedules(now: Date): DueSchedule[] {
    return this.schedules.claimDue(now);
  }

  recordScheduleRun(name: string, run: ScheduleRun): ScheduleRecord | null {
    return this.schedules.recordRun(name, run);
  }
}
