// The bodies of the dump Workflow's steps. Each returns only what the next step needs.

import { READ_LIMITS, nextReadRows, stepTargetBytes } from "../shared/chunk-size";
import { retentionFor, type DumpConfig } from "../shared/config";
import { createTableStatement, dumpFooter, dumpPreamble, usesAutoincrement, type SequenceSection } from "../shared/dump-sql";
import { contentType, encodeEnd, encodeSegment, type EncodingState } from "../shared/dump-encoding";
import type { DumpRecord, DumpSnapshotState } from "../shared/dump-record";
import type { SnapshotSummary } from "../shared/dump-start";
import { YIELD_EVERY_MS, yieldEvery } from "../shared/event-loop";
import { concatBytes } from "../shared/gzip-member";
import { jobTimes } from "../shared/job-record";
import type { PlannedDump } from "../shared/plan-pages";
import { overallPercent, tableFraction } from "../shared/progress";
import type { DumpOptions } from "../shared/schemas";
import type { SourceRef } from "../shared/sources";
import { snapshotIdForDump } from "../shared/snapshot";
import type { DumpPlan, KeyCursor } from "../shared/types";
import { openDatabase } from "../storage/databases";
import { deleteFile, fileClient, finishFile, type AppendCursor, type FileClient, type UploadedPart } from "../storage/file-store";
import { dumpFile } from "../storage/files";
import { jobRecords } from "../storage/job-records";
import type { DumpParams } from "./dump-workflow";
import { watchdogId } from "./snapshot-watchdog";
import { messageOf } from "../shared/error-message";

/**
 * Small tables share a step: one that ends leaves the rest of the step to the next. A table estimated
 * at more rows than this starts a step of its own, so the dump breathes before it.
 */
const SHARED_STEP_MAX_ROWS = 10_000;
/** Texts shorter than this are gathered before they are encoded and written. */
const MIN_SEGMENT_BYTES = 64 * 1024;
/** A chunk step stops reading after this long even below its byte target. */
const STEP_TIME_BUDGET_MS = 15_000;

const encoder = new TextEncoder();

export interface DumpContext {
  env: Env;
  params: DumpParams;
  plan: DumpPlan;
  uploadId: string | null;
  config: DumpConfig;
  snapshot: SnapshotSummary | null;
}

function dumpFileClient(env: Env, params: DumpParams): FileClient {
  return fileClient(env, dumpFile(params.dumpId, params.storage));
}

/** Starts the dump's snapshot watchdog; a retried plan step finds it started. */
async function startWatchdog(env: Env, dumpId: string): Promise<void> {
  try {
    await env.SNAPSHOT_WATCHDOG.create({ id: watchdogId(dumpId), params: { dumpId } });
  } catch (error) {
    if (!/already exists/i.test(messageOf(error))) throw error;
  }
}

/** Whether the dump reads a snapshot: by default, unless it writes no rows. */
export function takesSnapshot(options: DumpOptions): boolean {
  return options.snapshot !== false && !options.schemaOnly;
}

function snapshotState(snapshot: SnapshotSummary, heldBytes: number, endedAt: string | null = null): DumpSnapshotState {
  const { takenAt, copiedTables, trackedTables, exceptions } = snapshot;
  return { takenAt, copiedTables, trackedTables, exceptions, heldBytes, endedAt };
}

/**
 * Plans the dump, takes its snapshot and starts its file. A retry takes the snapshot again (replacing the
 * first, so the instant is the retry's) and starts another R2 upload; the record keeps the last one's id.
 * A plan too large for this step's result stays in the source database, in pages (readPlanPage).
 */
export async function planDump(env: Env, params: DumpParams): Promise<PlannedDump & { uploadId: string | null; snapshot: SnapshotSummary | null }> {
  const snapshotId = takesSnapshot(params.options) ? snapshotIdForDump(params.dumpId) : null;
  const planned = await openDatabase(env, params).sqlDumpStart(params.database, params.dumpId, params.options, snapshotId);
  const { snapshot } = planned;
  const summary = "plan" in planned
    ? { tables: planned.plan.tables.length, firstTable: planned.plan.tables[0]?.name ?? null, databaseSize: planned.plan.databaseSize }
    : planned;
  if (snapshot) await startWatchdog(env, params.dumpId);
  const uploadId = await dumpFileClient(env, params).begin(contentType(params.options.compression));
  await jobRecords(env, "dump").update(params.dumpId, {
    uploadId,
    snapshot: snapshot && snapshotState(snapshot, 0),
    startedAt: new Date().toISOString(),
    estimatedSize: summary.databaseSize,
    progress: {
      currentTable: summary.firstTable,
      processedTables: 0,
      totalTables: summary.tables,
      rowsDumped: 0,
      bytesWritten: 0,
      percent: 0,
    },
  });
  return { ...planned, uploadId };
}

/** One page of a plan kept in the source database. */
export async function readPlanPage(env: Env, params: DumpParams, page: number): Promise<string> {
  return openDatabase(env, params).sqlDumpPlanPage(params.dumpId, page);
}

/** Lets the source database drop the pages of the plan once the Workflow holds them all. Safe to repeat. */
export async function forgetPlanPages(env: Env, params: DumpParams): Promise<number> {
  return openDatabase(env, params).sqlDumpForgetPlan(params.dumpId);
}

/** Where a dump's reading stands: the table, its next chunk, the last key written. */
export interface DumpPosition {
  tableIndex: number;
  chunk: number;
  after: KeyCursor | null;
  readRows: number;
}

export const START_POSITION: DumpPosition = { tableIndex: 0, chunk: 1, after: null, readRows: 0 };

export interface ChunkStepInput {
  position: DumpPosition;
  sink: AppendCursor;
  encoding: EncodingState;
  rowsBefore: number;
}

export interface ChunkStepResult {
  /** Where the next step starts; its tableIndex is the number of tables finished. */
  position: DumpPosition;
  rows: number;
  reads: number;
  sink: AppendCursor;
  encoding: EncodingState;
  parts: UploadedPart[];
}

/**
 * Reads rows from the position on until the step's byte target or time budget, writes them to the sink,
 * records progress. A table that ends leaves the rest of the step to the next ones (SHARED_STEP_MAX_ROWS).
 */
export async function dumpChunk(context: DumpContext, input: ChunkStepInput): Promise<ChunkStepResult> {
  const { env, params, plan, config } = context;
  const database = openDatabase(env, params);
  const { schemaOnly, dataOnly, compression } = params.options;
  // The previous step has completed, so the snapshot may let go of what it read (see advanceSnapshot);
  // tables this step goes on to are let go by the next step, once this one has completed.
  const { position } = input;
  const heldBytes = context.snapshot ? await database.sqlDumpAdvanceSnapshot(context.snapshot.id, position.tableIndex, position.after) : 0;
  const writer = await dumpFileClient(env, params).openWriter(input.sink, context.uploadId);
  let encoding = input.encoding;
  let writeMs = 0;
  // Reads are written as they come, so uploads run while the next rows are read; small texts (the
  // CREATE TABLE and rows of small tables) are gathered first, so each encoded segment is not tiny.
  const pending: Array<string | Uint8Array> = [];
  let pendingLength = 0;
  const flush = async () => {
    if (pendingLength === 0) return;
    const writeStarted = Date.now();
    const sql = pending.length === 1 ? pending[0] : concatBytes(pending.map((p) => (typeof p === "string" ? encoder.encode(p) : p)));
    pending.length = 0;
    pendingLength = 0;
    const encoded = encodeSegment(sql, compression, encoding);
    encoding = encoded.state;
    await writer.write(encoded.bytes);
    writeMs += Date.now() - writeStarted;
  };
  const emit = async (text: string | Uint8Array) => {
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength >= MIN_SEGMENT_BYTES) await flush();
  };
  if (input.encoding.sqlBytes === 0) await emit(dumpPreamble(plan.objects, dataOnly));

  let { tableIndex, chunk, after, readRows } = position;
  const firstTable = tableIndex;
  let rows = 0;
  let bytes = 0;
  let reads = 0;
  const carried = params.storage === "r2" && compression === "none" ? input.sink.carryBytes : null;
  const target = stepTargetBytes(config.stepTargetBytes, config.partSizeBytes, carried);
  const started = Date.now();
  let readMs = 0;
  const breathe = yieldEvery(YIELD_EVERY_MS);
  const hasTime = () => bytes < target && Date.now() - started < STEP_TIME_BUDGET_MS;
  while (tableIndex < plan.tables.length && hasTime()) {
    const table = plan.tables[tableIndex];
    if (tableIndex > firstTable && table.estimatedRows > SHARED_STEP_MAX_ROWS) break;
    if (chunk === 1 && !dataOnly) {
      const create = createTableStatement(table);
      bytes += create.length;
      await emit(create);
    }
    let done = table.content !== "rows" || schemaOnly;
    readRows ||= READ_LIMITS.firstRows;
    while (!done && hasTime()) {
      const readStarted = Date.now();
      const snapshot = context.snapshot ? { id: context.snapshot.id, tableIndex } : undefined;
      const read = await database.sqlDumpReadChunk({ table, snapshot, after, maxRows: readRows, maxBytes: READ_LIMITS.targetBytes });
      const ms = Date.now() - readStarted;
      readMs += ms;
      after = read.lastKey;
      done = read.done;
      rows += read.rows;
      bytes += read.bytes;
      reads += 1;
      readRows = nextReadRows(readRows, { rows: read.rows, bytes: read.bytes, ms, stoppedEarly: !read.done && read.rows < readRows });
      await emit(read.sql);
      await breathe();
    }
    if (!done) {
      chunk += 1;
      break;
    }
    ({ tableIndex, chunk, after, readRows } = { ...START_POSITION, tableIndex: tableIndex + 1 });
  }
  await flush();
  const closeStarted = Date.now();
  const written = await writer.close();
  writeMs += Date.now() - closeStarted;
  const next = { tableIndex, chunk, after, readRows };
  const current = plan.tables[tableIndex];
  await jobRecords(env, "dump").update(params.dumpId, {
    ...(context.snapshot ? { snapshot: snapshotState(context.snapshot, heldBytes) } : {}),
    progress: {
      currentTable: current?.name ?? null,
      processedTables: tableIndex,
      totalTables: plan.tables.length,
      rowsDumped: input.rowsBefore + rows,
      bytesWritten: written.cursor.bytesWritten,
      percent: overallPercent(plan.tables, tableIndex, current ? tableFraction(current, after, false) : 0),
    },
  });
  console.log(
    JSON.stringify({
      event: "chunk",
      dumpId: params.dumpId,
      table: plan.tables[firstTable]?.name ?? null,
      tables: tableIndex - firstTable + (chunk > 1 ? 1 : 0),
      chunk: input.position.chunk,
      rows,
      reads,
      readRows,
      bytes,
      readMs,
      writeMs,
      stepMs: Date.now() - started,
    }),
  );
  return { position: next, rows, reads, sink: written.cursor, encoding, parts: written.parts };
}

export async function finalizeDump(
  context: DumpContext,
  cursor: AppendCursor,
  encoding: EncodingState,
  parts: UploadedPart[],
  rows: number,
) {
  const { env, params, plan, config } = context;
  const { schemaOnly, dataOnly, compression } = params.options;
  // Only tables with AUTOINCREMENT have sequences; without one, the restored file has no sqlite_sequence.
  const sequenceTables = plan.tables.filter(usesAutoincrement).map((t) => t.name);
  const selective = Boolean(params.options.tables || params.options.excludeTables);
  let sequences: SequenceSection | null = null;
  if (plan.hasSequenceTable && !schemaOnly && sequenceTables.length > 0) {
    const wanted = new Set(sequenceTables.map((name) => name.toLowerCase()));
    const current = context.snapshot?.sequences ?? (await openDatabase(env, params).sqlDumpSequences());
    const rows = current.filter((s) => wanted.has(s.name.toLowerCase()));
    sequences = { rows, onlyTables: selective ? sequenceTables : null };
  }
  const rebuild = schemaOnly ? [] : plan.tables.filter((t) => t.content === "rebuild").map((t) => t.name);
  const objects = dataOnly ? plan.objects.filter((o) => o.type === "trigger") : plan.objects;
  const header = encoding.sqlBytes === 0 ? dumpPreamble(plan.objects, dataOnly) : "";
  const footer = encodeEnd(header + dumpFooter(sequences, rebuild, objects), compression, encoding);
  const file = await finishFile(dumpFileClient(env, params), cursor, footer.bytes, parts, context.uploadId);
  // Nothing reads the snapshot after this; ending it again on a retry drops nothing.
  if (context.snapshot) await openDatabase(env, params).sqlDumpEndSnapshot(context.snapshot.id);
  const completedAt = new Date();
  await jobRecords(env, "dump").update(params.dumpId, {
    ...(context.snapshot ? { snapshot: snapshotState(context.snapshot, 0, completedAt.toISOString()) } : {}),
    phase: "completed",
    completedAt: completedAt.toISOString(),
    expiresAt: new Date(completedAt.getTime() + retentionFor(params.options.retention, config, Boolean(params.schedule))).toISOString(),
    size: file.size,
    etag: file.etag,
    sha256: footer.sha256,
    progress: {
      currentTable: null,
      processedTables: plan.tables.length,
      totalTables: plan.tables.length,
      rowsDumped: rows,
      bytesWritten: file.size,
      percent: 100,
    },
  });
  return { ...file, sha256: footer.sha256 };
}

/** Deletes a dump's file, finished or not (an open R2 upload is aborted). */
export async function discardDumpFile(env: Env, record: DumpRecord): Promise<void> {
  await deleteFile(env, dumpFile(record.dumpId, record.storage), record.uploadId);
}

/** What a failed or cancelled dump leaves behind: its file, and its snapshot and plan pages in the source database. */
export async function discardDump(env: Env, record: DumpRecord): Promise<void> {
  await discardDumpFile(env, record);
  await openDatabase(env, record).sqlDumpForgetPlan(record.dumpId);
  if (record.snapshot && !record.snapshot.endedAt) {
    await openDatabase(env, record).sqlDumpEndSnapshot(snapshotIdForDump(record.dumpId));
    await jobRecords(env, "dump").update(record.dumpId, { snapshot: { ...record.snapshot, heldBytes: 0, endedAt: new Date().toISOString() } });
  }
}

/** What a dump's callback posts. */
export interface DumpCallbackPayload {
  dumpId: string;
  database: string;
  source: SourceRef | null;
  status: "completed" | "failed";
  downloadUrl: string;
  statusUrl: string;
  size: number | null;
  /** Hex SHA-256 of the file as served. */
  sha256: string | null;
  /** The schedule that started the dump, or null. */
  schedule: string | null;
  rows: number;
  tables: number;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  error: string | null;
  /** The options the dump was started with. */
  options: DumpOptions;
  /** When the snapshot the file holds was taken; null for a dump with "snapshot": false. */
  snapshotAt: string | null;
}

export function dumpCallbackPayload(record: DumpRecord, status: "completed" | "failed", params: DumpParams): DumpCallbackPayload {
  return {
    dumpId: record.dumpId,
    database: record.database,
    source: record.sourceRef ?? null,
    status,
    downloadUrl: params.downloadUrl,
    statusUrl: params.statusUrl,
    size: record.size,
    sha256: record.sha256 ?? null,
    schedule: record.schedule ?? null,
    rows: record.progress.rowsDumped,
    tables: record.progress.totalTables,
    ...jobTimes(record),
    error: record.error,
    options: record.options,
    snapshotAt: record.snapshot?.takenAt ?? null,
  };
}
