// Restores: the options they accept, the record kept for each, and what the target database
// is asked to do per step.

import * as v from "valibot";
import { APPLY_BATCH_BYTES } from "./apply-batches";
import { newDumpId } from "./dump-id";
import { reportedPercent, type CallbackOutcome, type JobStatus } from "./job-record";
import { CALLBACK_URL, DUMP_ID } from "./schemas";
import type { SourceRef } from "./sources";
import type { StorageKind } from "./types";

export const RESTORE_ID = v.pipe(v.string(), v.regex(/^[a-zA-Z0-9_][a-zA-Z0-9-_]{0,99}$/, "not a restore id"));

/**
 * Bytes of the file one restore step reads and applies in one transaction, unless told otherwise.
 * 4 MiB keeps a 15 GB file (a full 10 GB database with blobs) under 4,000 steps, well inside the
 * Workflows default of 10,000, while one transaction holds the target for about 100 ms.
 */
export const DEFAULT_SLICE_BYTES = 4 * 1024 * 1024;
/** A single statement may be at most this long in the file (a longer multi-row INSERT cannot be read). */
export const MAX_FILE_STATEMENT_BYTES = 16 * 1024 * 1024;

const MODE = v.picklist(["empty", "replace"], 'mode must be "empty" or "replace"');
const BREATHING_MS = v.pipe(v.number(), v.integer("breathingMs must be an integer"), v.minValue(0), v.maxValue(3_600_000));
const SLICE_BYTES = v.pipe(
  v.number(),
  v.integer("sliceBytes must be an integer"),
  v.minValue(4096, "sliceBytes must be at least 4096"),
  v.maxValue(16 * 1024 * 1024, "sliceBytes must be at most 16 MiB"),
);
const integerText = (what: string) => v.pipe(v.string(), v.regex(/^\d{1,10}$/, `${what} must be a non-negative integer`), v.transform(Number));

/** JSON body: restore a finished dump of this service. */
export const RESTORE_FROM_DUMP = v.strictObject({
  dumpId: DUMP_ID,
  mode: v.optional(MODE, "empty"),
  breathingMs: v.optional(BREATHING_MS),
  sliceBytes: v.optional(SLICE_BYTES),
  callbackUrl: v.optional(CALLBACK_URL),
});

/** Query parameters (besides those naming the database) when the request body is the SQL file itself. */
export const RESTORE_UPLOAD_QUERY = v.strictObject({
  mode: v.optional(MODE, "empty"),
  breathingMs: v.optional(v.pipe(integerText("breathingMs"), BREATHING_MS)),
  sliceBytes: v.optional(v.pipe(integerText("sliceBytes"), SLICE_BYTES)),
  storage: v.optional(v.picklist(["auto", "r2", "do"], 'storage must be "auto", "r2" or "do"'), "auto"),
});

export type RestoreMode = v.InferOutput<typeof MODE>;

export interface RestoreOptions {
  mode: RestoreMode;
  breathingMs?: number;
  sliceBytes?: number;
  callbackUrl?: string;
}

export type RestoreSource =
  | { kind: "dump"; dumpId: string; storage: StorageKind }
  | { kind: "upload"; storage: StorageKind; contentType: string; receivedBytes: number };

export interface RestoreProgress {
  /** Bytes of the (uncompressed) file applied or skipped so far. */
  bytesRead: number;
  totalBytes: number;
  /** Statements of the file run against the target. */
  statementsApplied: number;
  /** Statements of the file left out (BEGIN/COMMIT, PRAGMA foreign_keys, …). */
  statementsSkipped: number;
  currentTable: string | null;
  percent: number;
}

export interface FailedStatement {
  /** 1-based position of the statement in the file, counting every statement. */
  number: number;
  line: number;
  byteOffset: number;
  /** The statement's beginning. */
  sql: string;
  /** SQLite's message, or why the restore refused the statement. */
  message: string;
}

export type RestorePhase = "started" | "completed" | "failed" | "cancelled";

export interface RestoreRecord {
  restoreId: string;
  database: string;
  /** The configured source restored into (DUMP_SOURCES); absent for the service's own databases. */
  sourceRef?: SourceRef;
  phase: RestorePhase;
  mode: RestoreMode;
  source: RestoreSource;
  /** The stored file is gzip; the restore reads a plain copy that it expands first. */
  compressed: boolean;
  options: RestoreOptions;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  progress: RestoreProgress;
  error: string | null;
  failedStatement: FailedStatement | null;
  callback: CallbackOutcome | null;
}

export type RestoreRecordPatch = Partial<Omit<RestoreRecord, "restoreId" | "database" | "createdAt">>;

export function newRestoreId(now: Date, random: string): string {
  return `restore-${newDumpId(now, random)}`;
}

export function emptyRestoreProgress(totalBytes: number): RestoreProgress {
  return { bytesRead: 0, totalBytes, statementsApplied: 0, statementsSkipped: 0, currentTable: null, percent: 0 };
}

export function restorePercent(bytesRead: number, totalBytes: number): number {
  return totalBytes > 0 ? (bytesRead / totalBytes) * 100 : 0;
}

export function reportedRestoreProgress(status: JobStatus, progress: RestoreProgress): RestoreProgress {
  return { ...progress, percent: reportedPercent(status, progress.percent) };
}

/** Counters only move forward; the position fields follow the record that read further. */
export function mergeRestoreProgress(before: RestoreProgress, after: RestoreProgress): RestoreProgress {
  const forward = after.bytesRead >= before.bytesRead;
  return {
    ...(forward ? after : before),
    bytesRead: Math.max(after.bytesRead, before.bytesRead),
    statementsApplied: Math.max(after.statementsApplied, before.statementsApplied),
    statementsSkipped: Math.max(after.statementsSkipped, before.statementsSkipped),
    percent: Math.max(after.percent, before.percent),
  };
}

/** What a cancelled restore left in its target, for its status. */
export function cancelledTargetState(progress: RestoreProgress): string {
  const read = progress.totalBytes > 0 ? ` of ${progress.totalBytes}` : "";
  return (
    `Cancelled. The target keeps what was applied (${progress.statementsApplied} statements, ` +
    `up to byte ${progress.bytesRead}${read} of the file), and perhaps the batch of statements being applied at that moment ` +
    `(at most ${APPLY_BATCH_BYTES / 1024} KiB of SQL; 500 statements for D1). ` +
    `Restore again with mode "replace" to start over.`
  );
}

/** The statement text kept in a failure: enough to find it in the file. */
export function statementExcerpt(sql: string, max = 300): string {
  return sql.length <= max ? sql : `${sql.slice(0, max)}…`;
}

// ---- What a restore step asks of the target database ----

export interface RestoreStatement {
  sql: string;
  /** Run only when this table exists (sqlite3 .dump's DELETE FROM sqlite_sequence). */
  onlyIfTableExists?: string;
}

export interface RestoreBatch {
  restoreId: string;
  /** File offset the target must have reached (the end of the previous batch). */
  from: number;
  /** File offset the target reaches when this batch commits. */
  to: number;
  /** Enforce foreign keys while the batch runs (the file said PRAGMA foreign_keys=ON). */
  foreignKeys: boolean;
  statements: RestoreStatement[];
}

export type ApplyOutcome =
  | { status: "applied"; statements: number }
  /** A retried step whose batch had already committed: nothing was run again. */
  | { status: "already-applied" }
  /** Nothing of the batch was kept. `index` is the failing statement's, or -1 for the batch itself. */
  | { status: "failed"; index: number; message: string };

export type BeginOutcome = { ok: true; dropped: number } | { ok: false; reason: string };

/** Keys a restore keeps in its target's key-value storage while it runs. */
export const RESTORE_MARKER_PREFIX = "restore-position:";

/** Key of the target's own record of how far a restore has committed (kept in its KV storage). */
export function restoreMarkerKey(restoreId: string): string {
  return `${RESTORE_MARKER_PREFIX}${restoreId}`;
}
