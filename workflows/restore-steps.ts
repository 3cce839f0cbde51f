// The bodies of the restore Workflow's steps, and where a restore's files live.
// A step reads the next slice of the SQL file by byte range, applies its complete statements in
// one transaction in the target database, and returns only a cursor. A statement cut by the slice
// end is read again by the next step from its first byte: the file itself is the durable carry.

import { MAX_STATEMENT_BYTES } from "../shared/dump-sql";
import { YIELD_EVERY_MS, yieldEvery, yieldToEventLoop } from "../shared/event-loop";
import { jobTimes } from "../shared/job-record";
import {
  DEFAULT_SLICE_BYTES,
  MAX_FILE_STATEMENT_BYTES,
  restorePercent,
  statementExcerpt,
  type ApplyOutcome,
  type FailedStatement,
  type RestoreRecord,
  type RestoreSource,
  type RestoreStatement,
} from "../shared/restore-record";
import { applyBatches, type Reached } from "../shared/apply-batches";
import { realLiteral } from "../shared/real-literal";
import { sha256Start, sha256Update, type Sha256State } from "../shared/sha256";
import { SqlFileError, classifyStatement, exactRealLiterals, fitStatement, readStatements } from "../shared/sql-splitter";
import { batchLimits, openDatabase } from "../storage/databases";
import type { SourceRef } from "../shared/sources";
import { deleteFile, fileClient, readRange, readStream, writeStream } from "../storage/file-store";
import { dumpFile, expandedFile, uploadedFile, type StoredFile } from "../storage/files";
import { jobRecords } from "../storage/job-records";
import type { RestoreParams } from "./restore-workflow";

// ---- files ----

/** The file as stored by its source: a dump's file, or the upload. */
function sourceFile(restoreId: string, source: RestoreSource): StoredFile {
  return source.kind === "dump" ? dumpFile(source.dumpId, source.storage) : uploadedFile(restoreId, source.storage);
}

/** The plain SQL file the slices are read from. */
function sqlFile(params: RestoreParams): StoredFile {
  return params.compressed ? expandedFile(params.restoreId, params.source.storage) : sourceFile(params.restoreId, params.source);
}

/** Forgets the restore's position in the target, and deletes the files the restore made (never a dump's own file). */
export async function cleanUpRestore(env: Env, record: RestoreRecord): Promise<void> {
  await openDatabase(env, record).sqlDumpEndRestore(record.restoreId);
  if (record.source.kind === "upload") await deleteFile(env, uploadedFile(record.restoreId, record.source.storage));
  if (record.compressed) await deleteFile(env, expandedFile(record.restoreId, record.source.storage));
}

// ---- steps ----

export interface RestoreCursor {
  /** Byte offset in the SQL file where the next slice starts (a statement boundary). */
  offset: number;
  line: number;
  totalBytes: number;
  /** Statements of the file read so far: applied, skipped, or translated. */
  statements: number;
  applied: number;
  skipped: number;
  /** The file's PRAGMA foreign_keys setting; off until the file turns it on, as in sqlite3. */
  foreignKeys: boolean;
  currentTable: string | null;
  done: boolean;
}

export interface RestoreFailure {
  message: string;
  statement: FailedStatement | null;
}

export type StepResult = { cursor: RestoreCursor; failure: null } | { cursor: null; failure: RestoreFailure };

const failed = (message: string, statement: FailedStatement | null = null): StepResult => ({
  cursor: null,
  failure: { message, statement },
});

/** How far the check of a dump's SHA-256 got: the state goes from one step to the next. */
export interface HashCursor {
  offset: number;
  sha256: Sha256State;
}

export function startOfHash(): HashCursor {
  return { offset: 0, sha256: sha256Start() };
}

/** Bytes one verify step hashes: about 2 s of CPU at the 283 MB/s measured for shared/sha256.ts. */
const HASH_STEP_BYTES = 512 * 1024 * 1024;
/** One read of a verify step. */
const HASH_READ_BYTES = 4 * 1024 * 1024;
/** Hashed between two looks at the clock: about 1 ms. */
const HASH_PIECE_BYTES = 256 * 1024;

/** Hashes the next slice of the restore's source file. A retry starts again from the same cursor, so it hashes the same bytes. */
export async function hashSourceSlice(env: Env, params: RestoreParams, cursor: HashCursor): Promise<HashCursor> {
  const length = Math.min(HASH_STEP_BYTES, params.fileBytes - cursor.offset);
  const file = fileClient(env, sourceFile(params.restoreId, params.source));
  let sha256 = cursor.sha256;
  const breathe = yieldEvery(YIELD_EVERY_MS);
  // Read in ranges rather than as one stream: local R2 answers a stream of a large object as a few big
  // chunks, each read at once, which kept every other request waiting for most of a second.
  for (let offset = cursor.offset; offset < cursor.offset + length; offset += HASH_READ_BYTES) {
    const bytes = await readRange(file, offset, Math.min(HASH_READ_BYTES, cursor.offset + length - offset));
    for (let at = 0; at < bytes.length; at += HASH_PIECE_BYTES) {
      sha256 = sha256Update(sha256, bytes.subarray(at, at + HASH_PIECE_BYTES));
      await breathe();
    }
  }
  return { offset: cursor.offset + length, sha256 };
}

/** Expands a gzip source into plain SQL that can be read by byte range. A retry writes the file again. */
export async function expandSource(env: Env, params: RestoreParams): Promise<{ totalBytes: number }> {
  const compressed = await readStream(fileClient(env, sourceFile(params.restoreId, params.source)), 0, params.fileBytes);
  const plain = compressed.pipeThrough(new DecompressionStream("gzip"));
  const expanded = fileClient(env, expandedFile(params.restoreId, params.source.storage));
  return { totalBytes: await writeStream(expanded, plain, { knownLength: null, contentType: "application/sql" }) };
}

/** Checks (mode "empty") or clears (mode "replace") the target, and records the start. */
export async function prepareTarget(env: Env, params: RestoreParams, totalBytes: number): Promise<StepResult> {
  await jobRecords(env, "restore").update(params.restoreId, {
    startedAt: new Date().toISOString(),
    progress: { bytesRead: 0, totalBytes, statementsApplied: 0, statementsSkipped: 0, currentTable: null, percent: 0 },
  });
  const begun = await openDatabase(env, params).sqlDumpBeginRestore(params.restoreId, params.options.mode);
  if (!begun.ok) return failed(begun.reason);
  if (begun.dropped > 0) {
    console.log(JSON.stringify({ event: "restore_replaced", restoreId: params.restoreId, dropped: begun.dropped }));
  }
  const cursor: RestoreCursor = {
    offset: 0,
    line: 1,
    totalBytes,
    statements: 0,
    applied: 0,
    skipped: 0,
    foreignKeys: false,
    currentTable: null,
    done: totalBytes === 0,
  };
  return { cursor, failure: null };
}

interface Origin {
  number: number;
  line: number;
  start: number;
  sql: string;
}

/** Reads the next slice, applies its complete statements in one transaction, records progress. */
export async function applySlice(env: Env, params: RestoreParams, cursor: RestoreCursor): Promise<StepResult> {
  await yieldToEventLoop();
  const file = fileClient(env, sqlFile(params));
  const sliceBytes = params.options.sliceBytes ?? DEFAULT_SLICE_BYTES;
  let read;
  try {
    read = await readStatements(
      (offset, length) => readRange(file, offset, length),
      { offset: cursor.offset, line: cursor.line },
      cursor.totalBytes,
      sliceBytes,
      MAX_FILE_STATEMENT_BYTES,
    );
  } catch (error) {
    if (error instanceof SqlFileError) return failed(`${error.message}; ${cursor.applied} statements were applied`);
    throw error;
  }

  const next: RestoreCursor = { ...cursor };
  const statements: RestoreStatement[] = [];
  const origins: Origin[] = [];
  /** Where a batch may end: after the last piece of a statement, with the file offset and count reached there. */
  const ends: Array<Reached | null> = [];
  let stoppedEarly = false;
  const limits = batchLimits(params);
  let batchBytes = 0;
  const breathe = yieldEvery(YIELD_EVERY_MS);
  for (const statement of read.statements) {
    // Rewriting the REALs of another tool's file takes a while for a whole slice.
    await breathe();
    // A target whose transactions are limited (D1) gets steps it can apply in one transaction.
    if (limits && statements.length > 0 && (statements.length >= limits.statements || batchBytes >= limits.bytes)) {
      stoppedEarly = true;
      break;
    }
    batchBytes += statement.sql.length;
    const origin: Origin = { number: next.statements + 1, line: statement.line, start: statement.start, sql: statement.sql };
    const action = classifyStatement(statement.sql);
    if (action.action === "refuse") return failed(failureMessage(origin, action.reason, cursor), failedStatement(origin, action.reason));
    if (action.action === "run") {
      // A dump of this service already writes every REAL in its exact form.
      const exact = params.source.kind === "dump" ? statement.sql : exactRealLiterals(statement.sql, realLiteral);
      const fitted = fitStatement(exact, MAX_STATEMENT_BYTES);
      if (!fitted.ok) return failed(failureMessage(origin, fitted.reason, cursor), failedStatement(origin, fitted.reason));
      for (const sql of fitted.statements) {
        statements.push({ sql, ...(action.onlyIfTableExists ? { onlyIfTableExists: action.onlyIfTableExists } : {}) });
        origins.push(origin);
        ends.push(null);
      }
      next.applied += 1;
      ends[ends.length - 1] = { offset: statement.end, applied: next.applied };
      if (action.table) next.currentTable = action.table;
    } else {
      next.skipped += 1;
    }
    next.statements += 1;
    next.offset = statement.end;
    next.line = statement.endLine;
    if (action.action === "foreign-keys" && action.enabled !== cursor.foreignKeys) {
      // The setting applies to the statements after it, which the next step runs under it.
      next.foreignKeys = action.enabled;
      stoppedEarly = true;
      break;
    }
  }
  if (read.endOfFile && !stoppedEarly) {
    next.offset = read.next.offset;
    next.line = read.next.line;
    next.done = true;
  }

  const applyStarted = Date.now();
  // Applied in batches of about APPLY_BATCH_BYTES, one transaction each, so that the target answers other
  // requests between them; a D1 target's step is already one batch of its limits.
  const batches = limits ? [{ start: 0, end: statements.length, to: next.offset }] : applyBatches(statements, ends, next.offset);
  let reached: Reached = { offset: cursor.offset, applied: cursor.applied };
  const database = openDatabase(env, params);
  let outcome: ApplyOutcome = { status: "already-applied" };
  for (const batch of batches) {
    // A timer, not just the await of the last batch: requests that arrived meanwhile must reach the target
    // before the next batch does, or they wait for the whole step.
    if (batch !== batches[0]) await yieldToEventLoop();
    outcome = await database.sqlDumpApplyStatements({
      restoreId: params.restoreId,
      from: reached.offset,
      to: batch.to,
      foreignKeys: cursor.foreignKeys,
      statements: statements.slice(batch.start, batch.end),
    });
    if (outcome.status === "failed") {
      const origin = origins[batch.start + outcome.index];
      if (outcome.index < 0 || !origin) return failed(`${outcome.message}; ${reached.applied} statements were applied`);
      return failed(failureMessage(origin, outcome.message, reached), failedStatement(origin, outcome.message));
    }
    const last = batch === batches[batches.length - 1];
    reached = last ? { offset: next.offset, applied: next.applied } : { offset: batch.to, applied: (ends[batch.end - 1] as Reached).applied };
    // After each batch, so that a cancelled restore's record is at most the batch then running behind its target.
    // A batch a retried step finds applied was recorded then.
    if (outcome.status === "applied" || last) await jobRecords(env, "restore").update(params.restoreId, {
      progress: {
        bytesRead: reached.offset,
        totalBytes: next.totalBytes,
        statementsApplied: reached.applied,
        statementsSkipped: last ? next.skipped : cursor.skipped,
        currentTable: next.currentTable,
        percent: restorePercent(reached.offset, next.totalBytes),
      },
    });
  }
  console.log(
    JSON.stringify({
      event: "restore_slice",
      restoreId: params.restoreId,
      from: cursor.offset,
      to: next.offset,
      statements: next.statements - cursor.statements,
      batches: batches.length,
      outcome: outcome.status,
      applyMs: Date.now() - applyStarted,
    }),
  );
  return { cursor: next, failure: null };
}

function failureMessage(origin: Origin, message: string, reached: Reached): string {
  return (
    `statement ${origin.number} (line ${origin.line}, byte ${origin.start}) failed: ${message}. ` +
    `The target keeps the ${reached.applied} statements applied before it (up to byte ${reached.offset}).`
  );
}

function failedStatement(origin: Origin, message: string): FailedStatement {
  return { number: origin.number, line: origin.line, byteOffset: origin.start, sql: statementExcerpt(origin.sql), message };
}

/** Records the completed restore, then removes its marker and files (a retry finds the record already completed). */
export async function finishRestore(env: Env, params: RestoreParams, cursor: RestoreCursor): Promise<void> {
  const record = await jobRecords(env, "restore").update(params.restoreId, {
    phase: "completed",
    completedAt: new Date().toISOString(),
    progress: {
      bytesRead: cursor.totalBytes,
      totalBytes: cursor.totalBytes,
      statementsApplied: cursor.applied,
      statementsSkipped: cursor.skipped,
      currentTable: null,
      percent: 100,
    },
  });
  if (record) await cleanUpRestore(env, record);
}

// ---- callback ----

export interface RestoreCallbackPayload {
  restoreId: string;
  database: string;
  target: SourceRef | null;
  status: "completed" | "failed";
  statusUrl: string;
  bytesRead: number;
  totalBytes: number;
  statementsApplied: number;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  error: string | null;
  failedStatement: FailedStatement | null;
}

export function restoreCallbackPayload(record: RestoreRecord, status: "completed" | "failed", params: RestoreParams): RestoreCallbackPayload {
  return {
    restoreId: record.restoreId,
    database: record.database,
    target: record.sourceRef ?? null,
    status,
    statusUrl: params.statusUrl,
    bytesRead: record.progress.bytesRead,
    totalBytes: record.progress.totalBytes,
    statementsApplied: record.progress.statementsApplied,
    ...jobTimes(record),
    error: record.error,
    failedStatement: record.failedStatement,
  };
}
