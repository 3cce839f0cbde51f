// The records of every dump and restore (metadata, progress, outcome), in one instance named "index".
// A thin RPC adapter over shared/job-table.ts.

import { DurableObject } from "cloudflare:workers";
import type { JobKind, JobListQuery, JobPatch, JobRecord } from "../shared/job-record";
import { JobTable } from "../shared/job-table";

export class JobIndex extends DurableObject<Env> {
  private readonly jobs = new JobTable(this.ctx.storage);

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
}
