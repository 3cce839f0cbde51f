// Starting, inspecting and controlling dumps. Each dump is one DumpWorkflow instance.

import { StatusError, json, type IRequest } from "itty-router";
import * as v from "valibot";
import { readConfig } from "../shared/config";
import { chooseStorage, newDumpId } from "../shared/dump-id";
import { apiStatus, emptyProgress, reportedPercent, type DumpRecord, type WorkflowStatus } from "../shared/dump-record";
import { CALLBACK_URL, DUMP_ID, DUMP_OPTIONS, LIST_QUERY } from "../shared/schemas";
import { unknownNames } from "../shared/table-selection";
import type { ApiDumpStatus } from "../shared/types";
import { dumpIndex, sourceDatabase } from "../workflows/bindings";
import { discardDumpFile } from "../workflows/dump-steps";
import { databaseName, origin, parseOrThrow, readJson } from "./http";

export async function startDump(request: IRequest, env: Env) {
  const database = databaseName(request);
  const options = parseOrThrow(DUMP_OPTIONS, await readJson(request, {}), "options");
  const headerUrl = request.headers.get("X-Callback-URL");
  if (headerUrl !== null) options.callbackUrl = parseOrThrow(CALLBACK_URL, headerUrl, "X-Callback-URL");
  if (options.storage === "r2" && !env.DUMPS_BUCKET) {
    throw new StatusError(400, 'storage "r2" needs an R2 bucket bound as DUMPS_BUCKET');
  }
  const config = readConfig(env);
  const source = sourceDatabase(env, database);
  if (options.tables || options.excludeTables) {
    const unknown = unknownNames(options, await source.tableAndViewNames());
    if (unknown.length) throw new StatusError(400, `unknown tables: ${unknown.join(", ")}`);
  }
  const estimatedSize = await source.databaseSize();
  const storage = chooseStorage(options.storage, estimatedSize, config.r2ThresholdBytes, Boolean(env.DUMPS_BUCKET));
  const now = new Date();
  const dumpId = newDumpId(now, crypto.randomUUID().slice(0, 8));
  const urls = dumpUrls(request, dumpId);
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
    callback: options.callbackUrl
      ? { url: options.callbackUrl, delivered: false, attempts: 0, lastStatus: null, lastError: null }
      : null,
    uploadId: null,
    expiresAt: null,
  };
  const index = dumpIndex(env);
  await index.createRecord(record);
  try {
    await env.DUMP_WORKFLOW.create({ id: dumpId, params: { dumpId, database, storage, options, ...urls } });
  } catch (error) {
    await index.deleteRecord(dumpId);
    throw error;
  }
  return json(
    {
      result: {
        message: "Database dump started",
        dumpId,
        status: "in_progress",
        ...urls,
        estimatedSize,
        storage,
      },
    },
    { status: 202 },
  );
}

export async function dumpStatus(request: IRequest, env: Env) {
  const record = await findRecord(request, env);
  return { result: await describe(record, env, request) };
}

export async function listDumps(request: IRequest, env: Env) {
  const query = parseOrThrow(LIST_QUERY, request.query, "query");
  const limit = query.limit as unknown as number;
  let before = query.cursor ? decodeCursor(query.cursor) : undefined;
  const dumps: Awaited<ReturnType<typeof describe>>[] = [];
  // A status is derived, not stored, so filtering by it scans pages until the page is full.
  for (let scans = 0; dumps.length < limit && scans < LIST_MAX_SCANS; scans++) {
    const wanted = limit - dumps.length;
    const records = await dumpIndex(env).listRecords({ database: query.database, limit: wanted, before });
    const described = await Promise.all(records.map((r) => describe(r, env, request)));
    dumps.push(...(query.status ? described.filter((d) => d.status === query.status) : described));
    const last = records.at(-1);
    before = records.length === wanted && last ? cursorOf(last) : undefined;
    if (!before) break;
  }
  return { result: { dumps, cursor: before ? encodeCursor(before) : null } };
}

/** Cancels a running dump, or deletes a finished one; either way its file is deleted. */
export async function cancelDump(request: IRequest, env: Env) {
  const record = await findRecord(request, env);
  const instance = await workflowInstance(env, record.dumpId);
  const before = instance ? await instanceStatus(instance) : null;
  const status = apiStatus(record.phase, before);
  const finished = status === "completed" || status === "failed" || status === "expired" || status === "cancelled";
  if (instance && before && !["complete", "errored", "terminated"].includes(before)) {
    await instance.terminate().catch(() => undefined);
    await waitForTermination(instance);
  }
  await discardDumpFile(env, record.dumpId);
  if (finished && status !== "cancelled") {
    await dumpIndex(env).deleteRecord(record.dumpId);
    return { result: { dumpId: record.dumpId, status: "deleted" } };
  }
  await dumpIndex(env).updateRecord(record.dumpId, { phase: "cancelled", completedAt: record.completedAt ?? new Date().toISOString() });
  return { result: { dumpId: record.dumpId, status: "cancelled" } };
}

export async function pauseDump(request: IRequest, env: Env) {
  return controlDump(request, env, "pause");
}

export async function resumeDump(request: IRequest, env: Env) {
  return controlDump(request, env, "resume");
}

async function controlDump(request: IRequest, env: Env, action: "pause" | "resume") {
  const record = await findRecord(request, env);
  const instance = await workflowInstance(env, record.dumpId);
  const status = apiStatus(record.phase, instance ? await instanceStatus(instance) : null);
  const allowed = action === "pause" ? status === "in_progress" || status === "queued" : status === "paused";
  if (!instance || !allowed) {
    return json({ error: `cannot ${action} a dump that is ${status}`, status }, { status: 409 });
  }
  await instance[action]();
  return { result: await describe(record, env, request) };
}

export async function findRecord(request: IRequest, env: Env): Promise<DumpRecord> {
  const dumpId = parseOrThrow(DUMP_ID, request.params.dumpId, "dumpId");
  const record = await dumpIndex(env).getRecord(dumpId);
  if (!record) throw new StatusError(404, `no dump with id ${dumpId}`);
  return record;
}

export async function currentStatus(record: DumpRecord, env: Env): Promise<{ status: ApiDumpStatus; error: string | null }> {
  const instance = record.phase === "started" ? await workflowInstance(env, record.dumpId) : null;
  const details = instance ? await instance.status().catch(() => null) : null;
  const status = apiStatus(record.phase, details?.status ?? null);
  const error = record.error ?? (status === "failed" ? (details?.error?.message ?? "the dump failed") : null);
  return { status, error };
}

async function describe(record: DumpRecord, env: Env, request: IRequest) {
  const { status, error } = await currentStatus(record, env);
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
    ...dumpUrls(request, record.dumpId),
    error,
    callback: record.callback,
  };
}

function dumpUrls(request: IRequest, dumpId: string) {
  const base = `${origin(request)}/export/dump/${dumpId}`;
  return { statusUrl: `${base}/status`, downloadUrl: base };
}

async function workflowInstance(env: Env, dumpId: string): Promise<WorkflowInstance | null> {
  try {
    return await env.DUMP_WORKFLOW.get(dumpId);
  } catch {
    return null;
  }
}

async function instanceStatus(instance: WorkflowInstance): Promise<WorkflowStatus | null> {
  return (await instance.status().catch(() => null))?.status ?? null;
}

async function waitForTermination(instance: WorkflowInstance): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const status = await instanceStatus(instance);
    if (status === "terminated" || status === "errored" || status === "complete") return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const CURSOR = v.object({ createdAt: v.string(), dumpId: v.string() });
const LIST_MAX_SCANS = 20;

function cursorOf(record: DumpRecord) {
  return { createdAt: record.createdAt, dumpId: record.dumpId };
}

function encodeCursor(cursor: v.InferOutput<typeof CURSOR>): string {
  return btoa(JSON.stringify(cursor)).replace(/=+$/, "");
}

function decodeCursor(cursor: string) {
  try {
    return parseOrThrow(CURSOR, JSON.parse(atob(cursor)), "cursor");
  } catch {
    throw new StatusError(400, "cursor: not a cursor returned by this endpoint");
  }
}
