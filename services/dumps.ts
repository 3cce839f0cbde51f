// Dumps: starting one, what its status says, and reading its finished file.

import { readConfig } from "../shared/config";
import { contentType } from "../shared/dump-encoding";
import { chooseStorage, dumpFileName, newDumpId } from "../shared/dump-id";
import { emptyProgress, type DumpRecord } from "../shared/dump-record";
import { pendingCallback, reportedPercent } from "../shared/job-record";
import type { DumpOptions } from "../shared/schemas";
import { ServiceError } from "../shared/service-error";
import { unknownNames } from "../shared/table-selection";
import { databaseObject } from "../storage/bindings";
import { fileClient, hasBucket, readStream, unusableStorage } from "../storage/file-store";
import { dumpFile } from "../storage/files";
import { currentStatus, expireDump, findJob, startJob, type JobState } from "../workflows/jobs";

export function dumpUrls(origin: string, dumpId: string) {
  const base = `${origin}/export/dump/${dumpId}`;
  return { statusUrl: `${base}/status`, downloadUrl: base };
}

/** Checks the options against the database, records the dump and starts its Workflow. */
export async function startDump(env: Env, request: { database: string; options: DumpOptions; origin: string }) {
  const { database, options } = request;
  const unusable = unusableStorage(env, options.storage);
  if (unusable) throw new ServiceError("invalid", `storage "${options.storage}" cannot be used: ${unusable}`);
  const config = readConfig(env);
  const source = databaseObject(env, database);
  if (options.tables || options.excludeTables) {
    const unknown = unknownNames(options, await source.tableAndViewNames());
    if (unknown.length) throw new ServiceError("invalid", `unknown tables: ${unknown.join(", ")}`);
  }
  const estimatedSize = await source.databaseSize();
  const storage = chooseStorage(options.storage, estimatedSize, config.r2ThresholdBytes, hasBucket(env));
  const now = new Date();
  const dumpId = newDumpId(now, crypto.randomUUID().slice(0, 8));
  const urls = dumpUrls(request.origin, dumpId);
  const record: DumpRecord = {
    dumpId,
    database,
    phase: "started",
    storage,
    options,
    createdAt: now.toISOString(),
    startedAt: null,
    completedAt: null,
    size: null,
    etag: null,
    estimatedSize,
    progress: emptyProgress(),
    error: null,
    callback: pendingCallback(options.callbackUrl),
    uploadId: null,
    snapshot: null,
    expiresAt: null,
  };
  await startJob(env, "dump", record, { dumpId, database, storage, options, ...urls });
  return { message: "Database dump started", dumpId, status: "in_progress", ...urls, estimatedSize, storage };
}

/** What GET /export/dump/:id/status shows. */
export function dumpView(record: DumpRecord, { status, error }: JobState, origin: string) {
  const progress = { ...record.progress, percent: reportedPercent(status, record.progress.percent) };
  progress.processedTables = Math.min(progress.processedTables, progress.totalTables);
  return {
    dumpId: record.dumpId,
    database: record.database,
    status,
    progress,
    storage: record.storage,
    options: record.options,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    expiresAt: record.expiresAt,
    size: record.size,
    estimatedSize: record.estimatedSize,
    snapshot: record.snapshot,
    ...dumpUrls(origin, record.dumpId),
    error,
    callback: record.callback,
  };
}

export interface DumpDownload {
  record: DumpRecord;
  size: number;
  etag: string;
  fileName: string;
  contentType: string;
}

/** A finished dump's file; gone (410) once expired, a conflict (409) while it is not finished. */
export async function finishedDump(env: Env, dumpId: string): Promise<DumpDownload> {
  const record = await findJob(env, "dump", dumpId);
  const { status, error } = await currentStatus(env, "dump", record);
  if (status === "expired") throw new ServiceError("gone", "this dump has expired and its file was deleted", { status });
  if (status !== "completed" || record.size === null || record.etag === null) {
    const message = status === "failed" ? `the dump failed: ${error}` : `the dump is not finished (status ${status})`;
    throw new ServiceError("conflict", message, { status });
  }
  const compression = record.options.compression;
  return {
    record,
    size: record.size,
    etag: record.etag,
    fileName: dumpFileName(record.createdAt, compression),
    contentType: contentType(compression),
  };
}

/**
 * The file, or `range` of it. A dump made with deleteAfterDownload expires once a download of the
 * whole file (not of a range) has streamed its last byte; `waitUntil` keeps that work alive.
 */
export function readDump(
  env: Env,
  download: DumpDownload,
  range: { offset: number; length: number } | null,
  waitUntil: (work: Promise<unknown>) => void,
): Promise<ReadableStream<Uint8Array>> {
  const { record } = download;
  const expire = () => waitUntil(expireDump(env, record.dumpId, new Date().toISOString()));
  const whenRead = record.options.deleteAfterDownload && !range ? expire : undefined;
  const { offset, length } = range ?? { offset: 0, length: download.size };
  return readStream(fileClient(env, dumpFile(record.dumpId, record.storage)), offset, length, whenRead);
}
