// Restores: starting one from a finished dump or from an uploaded file, and what its status says.

import { pendingCallback } from "../shared/job-record";
import {
  cancelledTargetState,
  emptyRestoreProgress,
  newRestoreId,
  reportedRestoreProgress,
  type RestoreMode,
  type RestoreOptions,
  type RestoreRecord,
  type RestoreSource,
} from "../shared/restore-record";
import { messageOf } from "../shared/error-message";
import { ServiceError } from "../shared/service-error";
import type { StorageKind } from "../shared/types";
import { databaseObject } from "../storage/bindings";
import { deleteFile, fileClient, hasBucket, unusableStorage, writeStream } from "../storage/file-store";
import { uploadedFile } from "../storage/files";
import { jobRecords } from "../storage/job-records";
import { currentStatus, startJob, type JobState } from "../workflows/jobs";

export function restoreStatusUrl(origin: string, restoreId: string): string {
  return `${origin}/import/dump/${restoreId}/status`;
}

interface RestoreRequest {
  database: string;
  options: RestoreOptions;
  origin: string;
}

/** Restores a finished dump of this service into `database`. */
export async function restoreFromDump(env: Env, request: RestoreRequest & { dumpId: string }) {
  const { dumpId } = request;
  const dump = await jobRecords(env, "dump").get(dumpId);
  if (!dump) throw new ServiceError("not_found", `no dump with id ${dumpId}`);
  const { status } = await currentStatus(env, "dump", dump);
  if (status !== "completed" || dump.size === null) {
    throw new ServiceError("conflict", `dump ${dumpId} cannot be restored: it is ${status}`, { status });
  }
  const unusable = unusableStorage(env, dump.storage);
  if (unusable) throw new ServiceError("conflict", `dump ${dumpId} cannot be read: ${unusable}`);
  await assertTargetReady(env, request.database, request.options.mode);
  const source: RestoreSource = { kind: "dump", dumpId, storage: dump.storage };
  return start(env, request, newId(), source, dump.options.compression === "gzip", dump.size, dump.sha256 ?? null);
}

/**
 * Restores an uploaded SQL file (gzip when `compressed`) into `database`. The body is streamed to
 * storage (R2 unless told "do" or no bucket is bound), never held in memory.
 */
export async function restoreFromUpload(
  env: Env,
  request: RestoreRequest & {
    storage: StorageKind | "auto";
    contentType: string;
    compressed: boolean;
    body: ReadableStream<Uint8Array> | null;
    knownLength: number | null;
  },
) {
  const unusable = unusableStorage(env, request.storage);
  if (unusable) throw new ServiceError("invalid", `storage "${request.storage}" cannot be used: ${unusable}`);
  await assertTargetReady(env, request.database, request.options.mode);
  if (!request.body) throw new ServiceError("invalid", "the request body is empty: send the SQL file as the body");
  const storage: StorageKind = request.storage === "do" || !hasBucket(env) ? "do" : "r2";
  const restoreId = newId();
  const file = uploadedFile(restoreId, storage);
  let size: number;
  try {
    size = await writeStream(fileClient(env, file), request.body, { knownLength: request.knownLength, contentType: request.contentType });
  } catch (error) {
    throw new ServiceError("invalid", `the request body could not be stored: ${messageOf(error)}`);
  }
  if (size === 0) {
    await deleteFile(env, file);
    throw new ServiceError("invalid", "the request body is empty: send the SQL file as the body");
  }
  const source: RestoreSource = { kind: "upload", storage, contentType: request.contentType, receivedBytes: size };
  return start(env, request, restoreId, source, request.compressed, size);
}

function newId(): string {
  return newRestoreId(new Date(), crypto.randomUUID().slice(0, 8));
}

async function start(
  env: Env,
  request: RestoreRequest,
  restoreId: string,
  source: RestoreSource,
  compressed: boolean,
  fileBytes: number,
  sha256: string | null = null,
) {
  const { database, options } = request;
  const statusUrl = restoreStatusUrl(request.origin, restoreId);
  const record: RestoreRecord = {
    restoreId,
    database,
    phase: "started",
    mode: options.mode,
    source,
    compressed,
    options,
    createdAt: new Date().toISOString(),
    startedAt: null,
    completedAt: null,
    progress: emptyRestoreProgress(compressed ? 0 : fileBytes),
    error: null,
    failedStatement: null,
    callback: pendingCallback(options.callbackUrl),
  };
  await startJob(env, "restore", record, { restoreId, database, source, compressed, fileBytes, sha256, options, statusUrl });
  return {
    message: "Database restore started",
    restoreId,
    database,
    status: "queued",
    mode: options.mode,
    source: source.kind === "dump" ? { kind: "dump", dumpId: source.dumpId } : { kind: "upload", bytes: fileBytes },
    statusUrl,
  };
}

/** Conflict when another restore into `database` is running, or (mode "empty") when it has user tables. */
async function assertTargetReady(env: Env, database: string, mode: RestoreMode): Promise<void> {
  for (const other of await jobRecords(env, "restore").started(database)) {
    const { status } = await currentStatus(env, "restore", other);
    if (status === "queued" || status === "in_progress" || status === "paused") {
      throw new ServiceError("conflict", `restore ${other.restoreId} into database "${database}" is still ${status}`);
    }
  }
  if (mode === "empty") {
    const count = await databaseObject(env, database).userObjectCount();
    if (count > 0) {
      throw new ServiceError(
        "conflict",
        `database "${database}" already has ${count} tables or views; restore with mode "replace" to drop them first`,
      );
    }
  }
}

/** What GET /import/dump/:id/status shows. */
export function restoreView(record: RestoreRecord, { status, error }: JobState, origin: string) {
  return {
    restoreId: record.restoreId,
    database: record.database,
    status,
    mode: record.mode,
    source: record.source,
    progress: reportedRestoreProgress(status, record.progress),
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    statusUrl: restoreStatusUrl(origin, record.restoreId),
    error,
    failedStatement: record.failedStatement,
    targetState: status === "cancelled" ? cancelledTargetState(record.progress) : null,
    callback: record.callback,
  };
}
