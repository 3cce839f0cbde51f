// The record kept for each dump, and how its API status is derived.

import type { ApiDumpStatus, DumpPhase, DumpProgress, StorageKind } from "./types";
import type { DumpOptions } from "./schemas";

export interface CallbackOutcome {
  url: string;
  delivered: boolean;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

export interface DumpRecord {
  dumpId: string;
  database: string;
  phase: DumpPhase;
  storage: StorageKind;
  options: DumpOptions;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  size: number | null;
  etag: string | null;
  estimatedSize: number;
  progress: DumpProgress;
  error: string | null;
  callback: CallbackOutcome | null;
  /** The R2 multipart upload, so that a failed or cancelled dump can abort it. */
  uploadId: string | null;
  expiresAt: string | null;
}

export type DumpRecordPatch = Partial<Omit<DumpRecord, "dumpId" | "database" | "createdAt">>;

export interface DumpListQuery {
  database?: string;
  limit: number;
  before?: { createdAt: string; dumpId: string };
}

export type WorkflowStatus = InstanceStatus["status"];

/**
 * The API status of a dump. What the steps recorded wins once it is final (a completed dump's
 * instance keeps running while it waits out retention); before that the instance status decides.
 */
export function apiStatus(phase: DumpPhase, workflow: WorkflowStatus | null): ApiDumpStatus {
  if (phase !== "started") return phase === "completed" ? "completed" : phase;
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

/** Percent reaches 100 only for a completed dump. */
export function reportedPercent(status: ApiDumpStatus, percent: number): number {
  if (status === "completed" || status === "expired") return 100;
  return Math.max(0, Math.min(99, Math.floor(percent)));
}

export function emptyProgress(totalTables = 0): DumpProgress {
  return { currentTable: null, processedTables: 0, totalTables, rowsDumped: 0, bytesWritten: 0, percent: 0 };
}
