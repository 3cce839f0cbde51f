// What the API can ask of any job, dump or restore: its status, the list, cancel, pause and resume.
// Each answer is the job's view (dumpView, restoreView).

import type { JobKind, JobRecord, JobStatus, ListPosition } from "../shared/job-record";
import { controlJob, currentStatus, findJob, pageOfJobs, type JobState } from "../workflows/jobs";
import { dumpView } from "./dumps";
import { restoreView } from "./restores";

/** A job that has not finished is cancelled; a finished one is deleted with its files. */
export { cancelJob } from "../workflows/jobs";

type View<K extends JobKind> = (record: JobRecord<K>, state: JobState, origin: string) => object;

const VIEWS: { [K in JobKind]: View<K> } = { dump: dumpView, restore: restoreView };

function view<K extends JobKind>(kind: K, record: JobRecord<K>, state: JobState, origin: string): object {
  return (VIEWS[kind] as View<K>)(record, state, origin);
}

/** What the status route shows for the job. */
export async function showJob(env: Env, kind: JobKind, id: string, origin: string) {
  const record = await findJob(env, kind, id);
  return view(kind, record, await currentStatus(env, kind, record), origin);
}

export async function listJobs(
  env: Env,
  kind: JobKind,
  query: { database?: string; status?: JobStatus; schedule?: string; limit: number; before?: ListPosition },
  origin: string,
): Promise<{ jobs: object[]; next: ListPosition | null }> {
  const { jobs, next } = await pageOfJobs(env, kind, query);
  return { jobs: jobs.map(({ record, ...state }) => view(kind, record, state, origin)), next };
}

export async function pauseJob(env: Env, kind: JobKind, id: string, origin: string) {
  await controlJob(env, kind, id, "pause");
  return showJob(env, kind, id, origin);
}

export async function resumeJob(env: Env, kind: JobKind, id: string, origin: string) {
  await controlJob(env, kind, id, "resume");
  return showJob(env, kind, id, origin);
}
