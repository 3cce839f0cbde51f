// Dumps: starting one, what its status says, and reading its finished file.

import { contentType } from "../shared/dump-encoding";
import { dumpFileName } from "../shared/dump-id";
import type { DumpRecord } from "../shared/dump-record";
import { reportedPercent } from "../shared/job-record";
import type { DumpOptions } from "../shared/schemas";
import { ServiceError } from "../shared/service-error";
import { fileClient, readStream } from "../storage/file-store";
import { dumpFile } from "../storage/files";
import { dumpUrls, startDumpJob } from "../workflows/start-dump-job";
import { currentStatus, expireDump, findJob, type JobState } from "../workflows/jobs";

export { dumpUrls } from "../workflows/start-dump-job";

/** Checks the options against the database, records the dump and starts its Workflow. */
export function startDump(env: Env, request: { database: string; options: DumpOptions; origin: string }) {
  return startDumpJob(env, request);
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
    sha256: record.sha256 ?? null,
    schedule: record.schedule ?? null,
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
  /** Hex SHA-256 of the whole file; null for dumps finished before it was computed. */
  sha256: string | null;
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
    sha256: record.sha256 ?? null,
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
