// The bodies of the restore Workflow's steps, and where a restore's files live.
// A step reads the next slice of the SQL file by byte range, applies its complete statements in
// one transaction in the target database, and returns only a cursor. A statement cut by the slice
// end is read again by the next step from its first byte: the file itself is the durable carry.

import { MAX_STATEMENT_BYTES } from "../shared/dump-sql";
import {
  DEFAULT_SLICE_BYTES,
  MAX_FILE_STATEMENT_BYTES,
  restorePercent,
  statementExcerpt,
  type FailedStatement,
  type RestoreStatement,
} from "../shared/restore-record";
import { realLiteral } from "../shared/real-literal";
import { SqlFileError, classifyStatement, exactRealLiterals, fitStatement, readStatements } from "../shared/sql-splitter";
import type { StorageKind } from "../shared/types";
import { dumpFileStore, dumpIndex, dumpObjectKey, sourceDatabase } from "./bindings";
import { postCallback } from "./callback";
import type { RestoreParams } from "./restore-workflow";
import { yieldToEventLoop } from "./step-config";

// ---- files ----

/** A file of a restore: an R2 object or the pieces of a DumpStore instance. */
export interface RestoreFile {
  storage: StorageKind;
  r2Key: string;
  store: (env: Env) => DurableObjectStub<import("../durable-objects/dump-store").DumpStore>;
}

const PIECE_BYTES = 1024 * 1024;

function namedStore(name: string) {
  return (env: Env) => env.DUMP_STORE.get(env.DUMP_STORE.idFromName(name));
}

/** The uploaded request body, as received (compressed or not). */
export function uploadFile(restoreId: string, storage: StorageKind): RestoreFile {
  return { storage, r2Key: `restores/${restoreId}/upload`, store: namedStore(`restore-upload:${restoreId}`) };
}

/** The file as stored by its source: a dump's file, or the upload. */
export function sourceFile(params: RestoreParams): RestoreFile {
  const { source } = params;
  if (source.kind === "dump") {
    return { storage: source.storage, r2Key: dumpObjectKey(source.dumpId), store: (env) => dumpFileStore(env, source.dumpId) };
  }
  return uploadFile(params.restoreId, source.storage);
}

/** The plain SQL a compressed source is expanded into before the restore reads it. */
function expandedFile(params: RestoreParams): RestoreFile {
  const id = params.restoreId;
  return { storage: params.source.storage, r2Key: `restores/${id}/sql`, store: namedStore(`restore-sql:${id}`) };
}

/** The plain SQL file the slices are read from. */
function sqlFile(params: RestoreParams): RestoreFile {
  return params.compressed ? expandedFile(params) : sourceFile(params);
}

function bucketOf(env: Env): R2Bucket {
  if (!env.DUMPS_BUCKET) throw new Error("this restore's file is in R2 but no R2 bucket is bound (DUMPS_BUCKET)");
  return env.DUMPS_BUCKET;
}

async function readRange(env: Env, file: RestoreFile, offset: number, length: number): Promise<Uint8Array> {
  if (file.storage === "do") return file.store(env).readAt(offset, length);
  const object = await bucketOf(env).get(file.r2Key, { range: { offset, length } });
  if (!object) throw new Error(`the restore's file ${file.r2Key} is missing from R2`);
  return new Uint8Array(await object.arrayBuffer());
}

function readStream(env: Env, file: RestoreFile, size: number): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (position >= size) return controller.close();
        const bytes = await readRange(env, file, position, Math.min(PIECE_BYTES, size - position));
        if (bytes.length === 0) return controller.error(new Error(`the restore's file ends at byte ${position}, before ${size}`));
        position += bytes.length;
        controller.enqueue(bytes);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Writes a stream to `file` without holding it in memory: one R2 put when the length is known,
 * else an R2 multipart upload of equal `partSize` parts, or DumpStore pieces. Returns its size.
 */
export async function writeFile(
  env: Env,
  file: RestoreFile,
  stream: ReadableStream<Uint8Array>,
  options: { knownLength: number | null; partSize: number },
): Promise<number> {
  if (file.storage === "r2" && options.knownLength !== null) {
    const object = await bucketOf(env).put(file.r2Key, stream.pipeThrough(new FixedLengthStream(options.knownLength)));
    if (!object) throw new Error(`R2 did not store ${file.r2Key}`);
    return object.size;
  }
  const pieceBytes = file.storage === "r2" ? options.partSize : PIECE_BYTES;
  const upload = file.storage === "r2" ? await bucketOf(env).createMultipartUpload(file.r2Key) : null;
  const parts: R2UploadedPart[] = [];
  let written = 0;
  const flush = async (piece: Uint8Array) => {
    await yieldToEventLoop();
    if (upload) parts.push(await upload.uploadPart(parts.length + 1, piece));
    else await file.store(env).writeAt(written, piece);
    written += piece.length;
  };
  try {
    let buffer = new Uint8Array(pieceBytes);
    let filled = 0;
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let used = 0; used < value.length; ) {
        const take = Math.min(value.length - used, pieceBytes - filled);
        buffer.set(value.subarray(used, used + take), filled);
        filled += take;
        used += take;
        if (filled === pieceBytes) {
          await flush(buffer);
          buffer = new Uint8Array(pieceBytes);
          filled = 0;
        }
      }
    }
    if (filled > 0 || (upload && parts.length === 0)) await flush(buffer.subarray(0, filled));
    if (upload) await upload.complete(parts);
    return written;
  } catch (error) {
    if (upload) await upload.abort().catch(() => undefined);
    await deleteFile(env, file).catch(() => undefined);
    throw error;
  }
}

export async function deleteFile(env: Env, file: RestoreFile): Promise<void> {
  if (file.storage === "r2") {
    if (env.DUMPS_BUCKET) await env.DUMPS_BUCKET.delete(file.r2Key);
  } else {
    await file.store(env).deleteFile();
  }
}

/** The files this restore made (never a dump's own file). */
async function discardRestoreFiles(env: Env, params: RestoreParams): Promise<void> {
  if (params.source.kind === "upload") await deleteFile(env, uploadFile(params.restoreId, params.source.storage));
  if (params.compressed) await deleteFile(env, expandedFile(params));
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

/** Expands a gzip source into plain SQL that can be read by byte range. */
export async function expandSource(env: Env, params: RestoreParams, partSize: number): Promise<{ totalBytes: number }> {
  const compressed = readStream(env, sourceFile(params), params.fileBytes);
  const plain = compressed.pipeThrough(new DecompressionStream("gzip"));
  const totalBytes = await writeFile(env, expandedFile(params), plain, { knownLength: null, partSize });
  return { totalBytes };
}

/** Checks (mode "empty") or clears (mode "replace") the target, and records the start. */
export async function prepareTarget(env: Env, params: RestoreParams, totalBytes: number): Promise<StepResult> {
  await dumpIndex(env).updateRestore(params.restoreId, {
    startedAt: new Date().toISOString(),
    progress: { bytesRead: 0, totalBytes, statementsApplied: 0, statementsSkipped: 0, currentTable: null, percent: 0 },
  });
  const begun = await sourceDatabase(env, params.database).beginRestore(params.restoreId, params.options.mode);
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
  const file = sqlFile(params);
  const sliceBytes = params.options.sliceBytes ?? DEFAULT_SLICE_BYTES;
  let read;
  try {
    read = await readStatements(
      (offset, length) => readRange(env, file, offset, length),
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
  let stoppedEarly = false;
  for (const statement of read.statements) {
    const origin: Origin = { number: next.statements + 1, line: statement.line, start: statement.start, sql: statement.sql };
    const action = classifyStatement(statement.sql);
    if (action.action === "refuse") return failed(failureMessage(origin, action.reason, cursor), failedStatement(origin, action.reason));
    if (action.action === "run") {
      const fitted = fitStatement(exactRealLiterals(statement.sql, realLiteral), MAX_STATEMENT_BYTES);
      if (!fitted.ok) return failed(failureMessage(origin, fitted.reason, cursor), failedStatement(origin, fitted.reason));
      for (const sql of fitted.statements) {
        statements.push({ sql, ...(action.onlyIfTableExists ? { onlyIfTableExists: action.onlyIfTableExists } : {}) });
        origins.push(origin);
      }
      next.applied += 1;
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
  const outcome = await sourceDatabase(env, params.database).applyStatements({
    restoreId: params.restoreId,
    from: cursor.offset,
    to: next.offset,
    foreignKeys: cursor.foreignKeys,
    statements,
  });
  if (outcome.status === "failed") {
    const origin = origins[outcome.index];
    if (!origin) return failed(`${outcome.message}; ${cursor.applied} statements were applied`);
    return failed(failureMessage(origin, outcome.message, cursor), failedStatement(origin, outcome.message));
  }
  await dumpIndex(env).updateRestore(params.restoreId, {
    progress: {
      bytesRead: next.offset,
      totalBytes: next.totalBytes,
      statementsApplied: next.applied,
      statementsSkipped: next.skipped,
      currentTable: next.currentTable,
      percent: restorePercent(next.offset, next.totalBytes),
    },
  });
  console.log(
    JSON.stringify({
      event: "restore_slice",
      restoreId: params.restoreId,
      from: cursor.offset,
      to: next.offset,
      statements: next.statements - cursor.statements,
      outcome: outcome.status,
      applyMs: Date.now() - applyStarted,
    }),
  );
  return { cursor: next, failure: null };
}

function failureMessage(origin: Origin, message: string, cursor: RestoreCursor): string {
  return (
    `statement ${origin.number} (line ${origin.line}, byte ${origin.start}) failed: ${message}. ` +
    `The target keeps the ${cursor.applied} statements applied before the step that failed (up to byte ${cursor.offset}).`
  );
}

function failedStatement(origin: Origin, message: string): FailedStatement {
  return { number: origin.number, line: origin.line, byteOffset: origin.start, sql: statementExcerpt(origin.sql), message };
}

export async function finishRestore(env: Env, params: RestoreParams, cursor: RestoreCursor): Promise<void> {
  await sourceDatabase(env, params.database).endRestore(params.restoreId);
  await dumpIndex(env).updateRestore(params.restoreId, {
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
  await discardRestoreFiles(env, params);
}

export async function recordRestoreFailure(env: Env, params: RestoreParams, failure: RestoreFailure): Promise<void> {
  await sourceDatabase(env, params.database).endRestore(params.restoreId);
  await dumpIndex(env).updateRestore(params.restoreId, {
    phase: "failed",
    completedAt: new Date().toISOString(),
    error: failure.message,
    failedStatement: failure.statement,
  });
  await discardRestoreFiles(env, params);
}

// ---- callback ----

export interface RestoreCallbackPayload {
  restoreId: string;
  database: string;
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

/** POSTs the outcome, signed like a dump's callback (X-Dump-Signature: sha256=<hex HMAC of the body>). */
export async function deliverRestoreCallback(env: Env, params: RestoreParams, status: "completed" | "failed", attempt: number) {
  const url = params.options.callbackUrl;
  const index = dumpIndex(env);
  const record = await index.getRestore(params.restoreId);
  if (!record || !url) return { delivered: false };
  const started = record.startedAt ?? record.createdAt;
  const payload: RestoreCallbackPayload = {
    restoreId: record.restoreId,
    database: record.database,
    status,
    statusUrl: params.statusUrl,
    bytesRead: record.progress.bytesRead,
    totalBytes: record.progress.totalBytes,
    statementsApplied: record.progress.statementsApplied,
    startedAt: started,
    completedAt: record.completedAt,
    durationMs: record.completedAt ? Date.parse(record.completedAt) - Date.parse(started) : null,
    error: record.error,
    failedStatement: record.failedStatement,
  };
  const outcome = await postCallback(url, payload, env.CALLBACK_SECRET);
  await index.updateRestore(params.restoreId, {
    callback: { url, delivered: outcome.ok, attempts: attempt, lastStatus: outcome.status, lastError: outcome.error },
  });
  if (!outcome.ok) throw new Error(`callback to ${url} failed: ${outcome.error}`);
  return { delivered: true, status: outcome.status };
}
