// The record kept for each dump.

import type { CallbackOutcome, JobPhase } from "./job-record";
import type { DumpOptions } from "./schemas";
import type { DumpProgress, StorageKind } from "./types";

export interface DumpRecord {
  dumpId: string;
  database: string;
  phase: JobPhase;
  storage: StorageKind;
  options: DumpOptions;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  size: number | null;
  etag: string | null;
  /** Hex SHA-256 of the finished file's bytes, computed while it was written (absent on records made before it was). */
  sha256?: string | null;
  estimatedSize: number;
  progress: DumpProgress;
  error: string | null;
  callback: CallbackOutcome | null;
  /** The schedule that started this dump, or null for one started through the API. */
  schedule?: string | null;
  /** The R2 multipart upload, so that a failed or cancelled dump can abort it. */
  uploadId: string | null;
  expiresAt: string | null;
  /** The snapshot the dump reads, once taken; null for dumps without one. */
  snapshot: DumpSnapshotState | null;
}

/** What the status shows of a dump's snapshot. */
export interface DumpSnapshotState {
  takenAt: string;
  copiedTables: number;
  trackedTables: number;
  /** Tables not read as of the instant, in words. */
  exceptions: string[];
  /** About how many bytes of saved rows the snapshot holds in the source database now. */
  heldBytes: number;
  /** When its tables and triggers were dropped from the source database. */
  endedAt: string | null;
}

export type DumpRecordPatch = Partial<Omit<DumpRecord, "dumpId" | "database" | "createdAt">>;

export function emptyProgress(totalTables = 0): DumpProgress {
  return { currentTable: null, processedTables: 0, totalTables, rowsDumped: 0, bytesWritten: 0, percent: 0 };
}

/** Counters only move forward. */
export function mergeDumpProgress(before: DumpProgress, after: DumpProgress): DumpProgress {
  return {
    ...after,
    processedTables: Math.max(after.processedTables, before.processedTables),
    rowsDumped: Math.max(after.rowsDumped, before.rowsDumped),
    bytesWritten: Math.max(after.bytesWritten, before.bytesWritten),
    percent: Math.max(after.percent, before.percent),
  };
}
