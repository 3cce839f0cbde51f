// Starting a dump: the checks its options need against the database, its record, and its Workflow
// instance. The API (services/dumps.ts) and ScheduleWorkflow both start dumps through here.

import { readConfig } from "../shared/config";
import { chooseStorage, newDumpId } from "../shared/dump-id";
import { emptyProgress, type DumpRecord } from "../shared/dump-record";
import { pendingCallback } from "../shared/job-record";
import type { DumpOptions } from "../shared/schemas";
import { ServiceError } from "../shared/service-error";
import { unknownNames } from "../shared/table-selection";
import { databaseObject } from "../storage/bindings";
import { hasBucket, unusableStorage } from "../storage/file-store";
import { startJob } from "./jobs";

export function dumpUrls(origin: string, dumpId: string) {
  const base = `${origin}/export/dump/${dumpId}`;
  return { statusUrl: `${base}/status`, downloadUrl: base };
}

/** Refuses (invalid) options that cannot work here, whatever the database: an R2 dump without a bucket. */
export function assertUsableOptions(env: Env, options: DumpOptions): void {
  const unusable = unusableStorage(env, options.storage);
  if (unusable) throw new ServiceError("invalid", `storage "${options.storage}" cannot be used: ${unusable}`);
}

export interface DumpStart {
  database: string;
  options: DumpOptions;
  origin: string;
  /** The schedule that starts it, if any. */
  schedule?: string;
  /** The last 8 characters of the id; random unless given (a schedule's run names its dumps so that a retried step finds its dump). */
  idSuffix?: string;
}

/** Checks the options against the database, records the dump and starts its Workflow. */
export async function startDumpJob(env: Env, request: DumpStart) {
  const { database, options } = request;
  assertUsableOptions(env, options);
  const config = readConfig(env);
  const source = databaseObject(env, database);
  if (options.tables || options.excludeTables) {
    const unknown = unknownNames(options, await source.tableAndViewNames());
    if (unknown.length) throw new ServiceError("invalid", `unknown tables: ${unknown.join(", ")}`);
  }
  const estimatedSize = await source.databaseSize();
  const storage = chooseStorage(options.storage, estimatedSize, config.r2ThresholdBytes, hasBucket(env));
  const now = new Date();
  const dumpId = newDumpId(now, request.idSuffix ?? crypto.randomUUID().slice(0, 8));
  const urls = dumpUrls(request.origin, dumpId);
  const schedule = request.schedule ?? null;
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
    sha256: null,
    estimatedSize,
    progress: emptyProgress(),
    error: null,
    callback: pendingCallback(options.callbackUrl),
    schedule,
    uploadId: null,
    snapshot: null,
    expiresAt: null,
  };
  await startJob(env, "dump", record, { dumpId, database, storage, options, schedule, ...urls });
  return { message: "Database dump started", dumpId, status: "in_progress", ...urls, estimatedSize, storage };
}
