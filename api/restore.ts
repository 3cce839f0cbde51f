// Starting and inspecting restores. Each restore is one RestoreWorkflow instance.

import { StatusError, json, type IRequest } from "itty-router";
import { readConfig } from "../shared/config";
import {
  RESTORE_FROM_DUMP,
  RESTORE_ID,
  RESTORE_UPLOAD_QUERY,
  emptyRestoreProgress,
  newRestoreId,
  reportedRestoreProgress,
  restoreStatus as statusOf,
  type RestoreOptions,
  type RestoreRecord,
  type RestoreSource,
} from "../shared/restore-record";
import { CALLBACK_URL } from "../shared/schemas";
import type { StorageKind } from "../shared/types";
import { dumpIndex, sourceDatabase } from "../workflows/bindings";
import { deleteFile, uploadFile, writeFile } from "../workflows/restore-steps";
import type { RestoreParams } from "../workflows/restore-workflow";
import { currentStatus } from "./dumps";
import { databaseName, origin, parseOrThrow, readJson } from "./http";
import { messageOf } from "../shared/error-message";

const SQL_TYPES = new Set(["application/sql", "application/x-sql", "text/plain"]);
const GZIP_TYPES = new Set(["application/gzip", "application/x-gzip"]);

export async function startRestore(request: IRequest, env: Env) {
  const database = databaseName(request);
  const type = (request.headers.get("Content-Type") ?? "").split(";")[0].trim().toLowerCase();
  const headerUrl = request.headers.get("X-Callback-URL");
  const headerCallback = headerUrl !== null ? parseOrThrow(CALLBACK_URL, headerUrl, "X-Callback-URL") : undefined;
  const restoreId = newRestoreId(new Date(), crypto.randomUUID().slice(0, 8));

  let options: RestoreOptions;
  let source: RestoreSource;
  let compressed: boolean;
  let fileBytes: number;
  if (type === "application/json") {
    const body = parseOrThrow(RESTORE_FROM_DUMP, await readJson(request), "body");
    const { dumpId, ...rest } = body;
    options = { ...rest, ...(headerCallback ? { callbackUrl: headerCallback } : {}) };
    const dump = await dumpIndex(env).getRecord(dumpId);
    if (!dump) throw new StatusError(404, `no dump with id ${dumpId}`);
    const { status } = await currentStatus(dump, env);
    if (status !== "completed" || dump.size === null) {
      return json({ error: `dump ${dumpId} cannot be restored: it is ${status}`, status }, { status: 409 });
    }
    if (dump.storage === "r2" && !env.DUMPS_BUCKET) throw new StatusError(409, `dump ${dumpId} is in R2 but no R2 bucket is bound`);
    await assertTargetReady(env, database, options.mode);
    source = { kind: "dump", dumpId, storage: dump.storage };
    compressed = dump.options.compression === "gzip";
    fileBytes = dump.size;
  } else if (SQL_TYPES.has(type) || GZIP_TYPES.has(type)) {
    const query = parseOrThrow(RESTORE_UPLOAD_QUERY, withoutDatabase(request.query), "query");
    const { storage: requested, ...rest } = query;
    options = { ...rest, ...(headerCallback ? { callbackUrl: headerCallback } : {}) };
    if (requested === "r2" && !env.DUMPS_BUCKET) throw new StatusError(400, 'storage "r2" needs an R2 bucket bound as DUMPS_BUCKET');
    await assertTargetReady(env, database, options.mode);
    if (!request.body) throw new StatusError(400, "the request body is empty: send the SQL file as the body");
    const storage: StorageKind = requested === "do" || !env.DUMPS_BUCKET ? "do" : "r2";
    compressed = GZIP_TYPES.has(type);
    fileBytes = await receiveUpload(env, restoreId, storage, request);
    source = { kind: "upload", storage, contentType: type, receivedBytes: fileBytes };
  } else {
    throw new StatusError(
      415,
      'Content-Type must be application/json ({"dumpId": "..."}), application/sql (the SQL file as the body) or application/gzip (a .sql.gz body)',
    );
  }

  const statusUrl = `${origin(request)}/import/dump/${restoreId}/status`;
  const record: RestoreRecord = {
    restoreId,
    database,
    phase: "started",
    mode: options.mode,
    source,
    options,
    createdAt: new Date().toISOString(),
    startedAt: null,
    completedAt: null,
    progress: emptyRestoreProgress(compressed ? 0 : fileBytes),
    error: null,
    failedStatement: null,
    callback: options.callbackUrl
      ? { url: options.callbackUrl, delivered: false, attempts: 0, lastStatus: null, lastError: null }
      : null,
  };
  const params: RestoreParams = { restoreId, database, source, compressed, fileBytes, options, statusUrl };
  const index = dumpIndex(env);
  await index.createRestore(record);
  try {
    await env.RESTORE_WORKFLOW.create({ id: restoreId, params });
  } catch (error) {
    await index.deleteRestore(restoreId);
    if (source.kind === "upload") await deleteFile(env, uploadFile(restoreId, source.storage));
    throw error;
  }
  return json(
    {
      result: {
        message: "Database restore started",
        restoreId,
        database,
        status: "queued",
        mode: options.mode,
        source: source.kind === "dump" ? { kind: "dump", dumpId: source.dumpId } : { kind: "upload", bytes: fileBytes },
        statusUrl,
      },
    },
    { status: 202 },
  );
}

export async function restoreStatus(request: IRequest, env: Env) {
  const restoreId = parseOrThrow(RESTORE_ID, request.params.restoreId, "restoreId");
  const record = await dumpIndex(env).getRestore(restoreId);
  if (!record) throw new StatusError(404, `no restore with id ${restoreId}`);
  const { status, error } = await currentRestoreStatus(env, record);
  return {
    result: {
      restoreId: record.restoreId,
      database: record.database,
      status,
      mode: record.mode,
      source: record.source,
      progress: reportedRestoreProgress(status, record.progress),
      createdAt: record.createdAt,
      startedAt: record.startedAt,
      completedAt: record.completedAt,
      statusUrl: `${origin(request)}/import/dump/${record.restoreId}/status`,
      error,
      failedStatement: record.failedStatement,
      callback: record.callback,
    },
  };
}

async function currentRestoreStatus(env: Env, record: RestoreRecord) {
  const instance = record.phase === "started" ? await env.RESTORE_WORKFLOW.get(record.restoreId).catch(() => null) : null;
  const details = instance ? await instance.status().catch(() => null) : null;
  const status = statusOf(record.phase, details?.status ?? null);
  const error = record.error ?? (status === "failed" ? (details?.error?.message ?? "the restore failed") : null);
  return { status, error };
}

/** 409 when another restore into `database` is running, or (mode "empty") when it has user tables. */
async function assertTargetReady(env: Env, database: string, mode: RestoreOptions["mode"]): Promise<void> {
  for (const other of await dumpIndex(env).startedRestores(database)) {
    const { status } = await currentRestoreStatus(env, other);
    if (status === "queued" || status === "in_progress" || status === "paused") {
      throw new StatusError(409, `restore ${other.restoreId} into database "${database}" is still ${status}`);
    }
  }
  if (mode === "empty") {
    const count = await sourceDatabase(env, database).userObjectCount();
    if (count > 0) {
      throw new StatusError(
        409,
        `database "${database}" already has ${count} tables or views; restore with mode "replace" to drop them first`,
      );
    }
  }
}

/** Streams the body to storage; a gzip body is stored as received and expanded by the Workflow. */
async function receiveUpload(env: Env, restoreId: string, storage: StorageKind, request: IRequest): Promise<number> {
  const file = uploadFile(restoreId, storage);
  const lengthHeader = request.headers.get("Content-Length");
  const knownLength = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  let size: number;
  try {
    size = await writeFile(env, file, request.body as ReadableStream<Uint8Array>, {
      knownLength,
      partSize: readConfig(env).partSizeBytes,
    });
  } catch (error) {
    throw new StatusError(400, `the request body could not be stored: ${messageOf(error)}`);
  }
  if (size === 0) {
    await deleteFile(env, file);
    throw new StatusError(400, "the request body is empty: send the SQL file as the body");
  }
  return size;
}

function withoutDatabase(query: IRequest["query"]) {
  const { database: _database, ...rest } = query;
  return rest;
}
