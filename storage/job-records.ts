// The records of one kind of job, typed, over the JobIndex Durable Object.

import type { JobKind, JobListQuery, JobPatch, JobRecord } from "../shared/job-record";
import { jobIndexObject } from "./bindings";

export interface JobRecords<K extends JobKind> {
  create(record: JobRecord<K>): Promise<void>;
  get(id: string): Promise<JobRecord<K> | null>;
  /** Merges the patch (progress only moves forward); null when there is no such job. */
  update(id: string, patch: JobPatch<K>): Promise<JobRecord<K> | null>;
  delete(id: string): Promise<void>;
  /** Newest first. */
  list(query: JobListQuery): Promise<JobRecord<K>[]>;
  /** Jobs on `database` whose records say they have not finished. */
  started(database: string): Promise<JobRecord<K>[]>;
}

export function jobRecords<K extends JobKind>(env: Env, kind: K): JobRecords<K> {
  const index = jobIndexObject(env);
  return {
    create: async (record) => index.createJob(kind, record),
    get: async (id) => (await index.getJob(kind, id)) as JobRecord<K> | null,
    update: async (id, patch) => (await index.updateJob(kind, id, patch)) as JobRecord<K> | null,
    delete: async (id) => index.deleteJob(kind, id),
    list: async (query) => (await index.listJobs(kind, query)) as unknown as JobRecord<K>[],
    started: async (database) => (await index.startedJobs(kind, database)) as unknown as JobRecord<K>[],
  };
}
