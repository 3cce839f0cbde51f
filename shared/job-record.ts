// What dumps and restores have in common as jobs: their phases and statuses, the callback outcome,
// the records kept for them, and how a record changes.

import type { DumpRecord, DumpRecordPatch } from "./dump-record";
import type { RestoreRecord, RestoreRecordPatch } from "./restore-record";

/** The status the API reports for a job. */
export type JobStatus = "queued" | "in_progress" | "paused" | "completed" | "failed" | "cancelled" | "expired";

/** What the Workflow's steps (or a cancel) recorded about a job, besides the instance status. */
export type JobPhase = "started" | "completed" | "failed" | "cancelled" | "expired";

export type WorkflowStatus = InstanceStatus["status"];

export const JOB_STATUSES: readonly JobStatus[] = ["queued", "in_progress", "paused", "completed", "failed", "cancelled", "expired"];

/**
 * The API status of a job. What the steps recorded wins once it is final (a completed dump's
 * instance keeps running while it waits out retention); before that the instance status decides.
 */
export function jobStatus(phase: JobPhase, workflow: WorkflowStatus | null): JobStatus {
  if (phase !== "started") return phase;
  switch (workflow) {
    case "queued":
      return "queued";
    case "paused":
    case "waitingForPause":
      return "paused";
    case "errored":
      return "failed";
    case "terminated":
      return "cancelled";
    case "complete":
      return "completed";
    case "running":
    case "waiting":
    case "unknown":
    case null:
    default:
      return "in_progress";
  }
}

/** Statuses after which a job never runs again. */
export function isFinished(status: JobStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled" || status === "expired";
}

/** Percent reaches 100 only for a completed job. */
export function reportedPercent(status: JobStatus, percent: number): number {
  if (status === "completed" || status === "expired") return 100;
  return Math.max(0, Math.min(99, Math.floor(percent)));
}

export interface CallbackOutcome {
  url: string;
  delivered: boolean;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

export function pendingCallback(url: string | undefined): CallbackOutcome | null {
  return url ? { url, delivered: false, attempts: 0, lastStatus: null, lastError: null } : null;
}

interface JobRecords {
  dump: DumpRecord;
  restore: RestoreRecord;
}
interface JobPatches {
  dump: DumpRecordPatch;
  restore: RestoreRecordPatch;
}

export type JobKind = keyof JobRecords;
export type JobRecord<K extends JobKind = JobKind> = JobRecords[K];
export type JobPatch<K extends JobKind = JobKind> = JobPatches[K];

export const JOB_KINDS: readonly JobKind[] = ["dump", "restore"];

export function jobIdOf(kind: JobKind, record: JobRecord): string {
  return kind === "dump" ? (record as DumpRecord).dumpId : (record as RestoreRecord).restoreId;
}

/** Where a page of a listing ends: the last record's creation time and id. */
export interface ListPosition {
  createdAt: string;
  id: string;
}

export interface JobListQuery {
  database?: string;
  /** Only dumps started by this schedule. */
  schedule?: string;
  limit: number;
  before?: ListPosition;
}

/** Start, end and duration of a job, as its callback reports them. */
export function jobTimes(record: Pick<JobRecord, "startedAt" | "createdAt" | "completedAt">) {
  const startedAt = record.startedAt ?? record.createdAt;
  return {
    startedAt,
    completedAt: record.completedAt,
    durationMs: record.completedAt ? Date.parse(record.completedAt) - Date.parse(startedAt) : null,
  };
}
