// The life of a job, dump or restore, written once: its record and Workflow instance, its status,
// callbacks, failure, retention, cancel, pause, resume and listing. What differs by kind is in
// JOB_TYPES; the steps each kind runs are in dump-steps.ts and restore-steps.ts.

import { isFinished, jobIdOf, jobStatus, type JobKind, type JobPatch, type JobRecord, type JobStatus, type ListPosition } from "../shared/job-record";
import { messageOf } from "../shared/error-message";
import { ServiceError } from "../shared/service-error";
import { jobRecords } from "../storage/job-records";
import { postCallback } from "./callback";
import { discardDump, discardDumpFile, dumpCallbackPayload } from "./dump-steps";
import type { DumpParams } from "./dump-workflow";
import { cleanUpRestore, restoreCallbackPayload } from "./restore-steps";
import type { RestoreParams } from "./restore-workflow";

interface JobParamsByKind {
  dump: DumpParams;
  restore: RestoreParams;
}
export type JobParams<K extends JobKind = JobKind> = JobParamsByKind[K];

export type Outcome = "completed" | "failed";

interface JobType<K extends JobKind> {
  workflow(env: Env): Workflow<JobParams<K>>;
  idOf(params: JobParams<K>): string;
  /** Removes what the job wrote: its files, and for a restore its position marker in the target. */
  discard(env: Env, record: JobRecord<K>): Promise<void>;
  callbackPayload(record: JobRecord<K>, outcome: Outcome, params: JobParams<K>): object;
}

const JOB_TYPES: { [K in JobKind]: JobType<K> } = {
  dump: {
    workflow: (env) => env.DUMP_WORKFLOW,
    idOf: (params) => params.dumpId,
    discard: discardDump,
    callbackPayload: dumpCallbackPayload,
  },
  restore: {
    workflow: (env) => env.RESTORE_WORKFLOW,
    idOf: (params) => params.restoreId,
    discard: cleanUpRestore,
    callbackPayload: restoreCallbackPayload,
  },
};

export function jobIdOfParams<K extends JobKind>(kind: K, params: JobParams<K>): string {
  return (JOB_TYPES[kind] as JobType<K>).idOf(params);
}

/** Records the job, then starts its Workflow instance; if that fails, nothing of the job is left. */
export async function startJob<K extends JobKind>(env: Env, kind: K, record: JobRecord<K>, params: JobParams<K>): Promise<void> {
  const type = JOB_TYPES[kind] as JobType<K>;
  const records = jobRecords(env, kind);
  const id = jobIdOf(kind, record);
  await records.create(record);
  try {
    await type.workflow(env).create({ id, params });
  } catch (error) {
    await records.delete(id);
    await type.discard(env, record);
    throw error;
  }
}

export async function findJob<K extends JobKind>(env: Env, kind: K, id: string): Promise<JobRecord<K>> {
  const record = await jobRecords(env, kind).get(id);
  if (!record) throw new ServiceError("not_found", `no ${kind} with id ${id}`);
  return record;
}

export interface JobState {
  status: JobStatus;
  /** Why it failed, when it failed. */
  error: string | null;
}

/** The job's status: from its record once final, else from its Workflow instance (an error when that cannot be read). */
export async function currentStatus<K extends JobKind>(env: Env, kind: K, record: JobRecord<K>): Promise<JobState> {
  if (record.phase !== "started") return { status: jobStatus(record.phase, null), error: record.error };
  return stateOf(kind, record, await readInstance(env, kind, record));
}

interface InstanceState {
  instance: WorkflowInstance | null;
  details: InstanceStatus | null;
}

/**
 * The job's Workflow instance and its status. A job still running by its record must have one whose
 * status can be read: anything else is reported as unavailable, never as "in progress". A finished
 * job's instance may be gone.
 */
async function readInstance<K extends JobKind>(env: Env, kind: K, record: JobRecord<K>): Promise<InstanceState> {
  const id = jobIdOf(kind, record);
  let instance: WorkflowInstance;
  try {
    instance = await JOB_TYPES[kind].workflow(env).get(id);
  } catch (error) {
    if (record.phase !== "started") return { instance: null, details: null };
    throw new ServiceError("unavailable", `the Workflow instance of ${kind} ${id} could not be found: ${messageOf(error)}`);
  }
  return { instance, details: await readStatus(kind, id, instance) };
}

async function readStatus(kind: JobKind, id: string, instance: WorkflowInstance): Promise<InstanceStatus> {
  try {
    return await instance.status();
  } catch (error) {
    throw new ServiceError("unavailable", `the status of ${kind} ${id} could not be read from its Workflow instance: ${messageOf(error)}`);
  }
}

function stateOf(kind: JobKind, record: JobRecord, { details }: InstanceState): JobState {
  const status = jobStatus(record.phase, details?.status ?? null);
  const error = record.error ?? (status === "failed" ? (details?.error?.message ?? `the ${kind} failed`) : null);
  return { status, error };
}

export interface ListedJob<K extends JobKind> extends JobState {
  record: JobRecord<K>;
}

/** Pages through `database`'s jobs (or all), newest first, keeping those with `status` when given. */
export async function pageOfJobs<K extends JobKind>(
  env: Env,
  kind: K,
  query: { database?: string; status?: JobStatus; schedule?: string; limit: number; before?: ListPosition },
): Promise<{ jobs: ListedJob<K>[]; next: ListPosition | null }> {
  const records = jobRecords(env, kind);
  const jobs: ListedJob<K>[] = [];
  let before = query.before;
  // A status is derived, not stored, so filtering by it scans pages until the page is full.
  for (let scans = 0; jobs.length < query.limit && scans < LIST_MAX_SCANS; scans++) {
    const wanted = query.limit - jobs.length;
    const page = await records.list({ database: query.database, schedule: query.schedule, limit: wanted, before });
    const listed = await Promise.all(page.map(async (record) => ({ record, ...(await currentStatus(env, kind, record)) })));
    jobs.push(...(query.status ? listed.filter((job) => job.status === query.status) : listed));
    const last = page.at(-1);
    before = page.length === wanted && last ? { createdAt: last.createdAt, id: jobIdOf(kind, last) } : undefined;
    if (!before) break;
  }
  return { jobs, next: before ?? null };
}

const LIST_MAX_SCANS = 20;

/**
 * Cancels a job that has not finished (its instance is terminated; the record says "cancelled"), or
 * deletes a finished one. Either way what it wrote is removed; a restore's target keeps what its
 * completed steps applied.
 */
export async function cancelJob<K extends JobKind>(env: Env, kind: K, id: string): Promise<"cancelled" | "deleted"> {
  const record = await findJob(env, kind, id);
  const state = await readInstance(env, kind, record);
  const { status } = stateOf(kind, record, state);
  // A completed dump's instance still runs: it waits out the retention.
  if (state.instance && state.details && !STOPPED.has(state.details.status)) await terminate(kind, id, state.instance);
  await JOB_TYPES[kind].discard(env, record);
  const records = jobRecords(env, kind);
  if (isFinished(status) && status !== "cancelled") {
    await records.delete(id);
    return "deleted";
  }
  await records.update(id, { phase: "cancelled", completedAt: record.completedAt ?? new Date().toISOString() } as JobPatch<K>);
  return "cancelled";
}

const STOPPED = new Set<InstanceStatus["status"]>(["complete", "errored", "terminated"]);
const TERMINATION_POLLS = 50;
const TERMINATION_POLL_MS = 100;

/** Terminates the instance and waits until it has stopped, so that nothing writes after the cleanup. */
async function terminate(kind: JobKind, id: string, instance: WorkflowInstance): Promise<void> {
  // A refusal is reported below if the instance then does not stop (it may have stopped on its own).
  const refusal = await instance.terminate().then(
    () => null,
    (error: unknown) => messageOf(error),
  );
  let status: InstanceStatus["status"] = "unknown";
  for (let poll = 0; poll < TERMINATION_POLLS; poll++) {
    status = (await readStatus(kind, id, instance)).status;
    if (STOPPED.has(status)) return;
    await new Promise((resolve) => setTimeout(resolve, TERMINATION_POLL_MS));
  }
  const seconds = (TERMINATION_POLLS * TERMINATION_POLL_MS) / 1000;
  throw new ServiceError(
    "unavailable",
    `the Workflow instance of ${kind} ${id} did not stop within ${seconds} s (it is ${status}` +
      `${refusal ? `; terminate failed: ${refusal}` : ""}); nothing was deleted, try again`,
  );
}

/** Pauses a queued or running job, or resumes a paused one; 409 (conflict) otherwise. */
export async function controlJob<K extends JobKind>(env: Env, kind: K, id: string, action: "pause" | "resume"): Promise<JobRecord<K>> {
  const record = await findJob(env, kind, id);
  const state = await readInstance(env, kind, record);
  const { status } = stateOf(kind, record, state);
  const allowed = action === "pause" ? status === "in_progress" || status === "queued" : status === "paused";
  if (!state.instance || !allowed) throw new ServiceError("conflict", `cannot ${action} a ${kind} that is ${status}`, { status });
  await state.instance[action]();
  return record;
}

/** POSTs the outcome to the job's callback URL and records the attempt; throws so that the step retries. */
export async function deliverCallback<K extends JobKind>(env: Env, kind: K, params: JobParams<K>, outcome: Outcome, attempt: number) {
  const type = JOB_TYPES[kind] as JobType<K>;
  const url = params.options.callbackUrl;
  const id = type.idOf(params);
  const records = jobRecords(env, kind);
  const record = await records.get(id);
  if (!record || !url) return { delivered: false };
  const result = await postCallback(url, type.callbackPayload(record, outcome, params), env.CALLBACK_SECRET);
  const callback = { url, delivered: result.ok, attempts: attempt, lastStatus: result.status, lastError: result.error };
  await records.update(id, { callback } as JobPatch<K>);
  if (!result.ok) throw new Error(`callback to ${url} failed: ${result.error}`);
  return { delivered: true, status: result.status };
}

/** A job's failure, with what its record should say besides the message. */
export class JobFailure<K extends JobKind = JobKind> extends Error {
  constructor(
    message: string,
    readonly patch: JobPatch<K> = {},
  ) {
    super(message);
    this.name = "JobFailure";
  }
}

/** Removes what a failed job wrote (an open R2 upload is aborted) and records why it failed. */
export async function recordFailure<K extends JobKind>(env: Env, kind: K, id: string, failure: { message: string; patch: JobPatch<K> }) {
  const records = jobRecords(env, kind);
  const record = await records.get(id);
  if (record) await JOB_TYPES[kind].discard(env, record);
  await records.update(id, { ...failure.patch, phase: "failed", error: failure.message, completedAt: new Date().toISOString() } as JobPatch<K>);
}

/**
 * What the snapshot watchdog does: if the dump's instance has stopped (or is gone) while its snapshot is
 * still in the source database, ends the snapshot, deletes the unfinished file and records why.
 */
export async function reclaimSnapshot(env: Env, dumpId: string): Promise<"in use" | "ended" | "reclaimed"> {
  const records = jobRecords(env, "dump");
  const record = await records.get(dumpId);
  if (!record?.snapshot || record.snapshot.endedAt) return "ended";
  const status = await instanceStatusOrGone(env.DUMP_WORKFLOW, dumpId);
  if (status !== "gone" && !STOPPED.has(status)) return "in use";
  await discardDump(env, record);
  if (record.phase === "started") {
    await records.update(dumpId, {
      phase: status === "terminated" ? "cancelled" : "failed",
      error: `the dump's Workflow instance stopped (${status}) before the dump finished; its snapshot and file were removed`,
      completedAt: new Date().toISOString(),
    });
  }
  return "reclaimed";
}

/** The instance's status, or "gone" when the engine has no such instance. */
async function instanceStatusOrGone(workflow: Workflow, id: string): Promise<InstanceStatus["status"] | "gone"> {
  let instance: WorkflowInstance;
  try {
    instance = await workflow.get(id);
  } catch (error) {
    if (/not.?found/i.test(messageOf(error))) return "gone";
    throw error;
  }
  return (await instance.status()).status;
}

/** The end of a completed dump's retention (or of its one download): its file goes, its status becomes expired. */
export async function expireDump(env: Env, dumpId: string, expiresAt?: string): Promise<void> {
  const records = jobRecords(env, "dump");
  const record = await records.get(dumpId);
  if (!record || record.phase !== "completed") return;
  await discardDumpFile(env, record);
  await records.update(dumpId, { phase: "expired", ...(expiresAt ? { expiresAt } : {}) });
}
