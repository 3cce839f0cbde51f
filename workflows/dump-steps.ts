// The bodies of the dump Workflow's steps. Each returns only what the next step needs.

import { READ_LIMITS, nextReadRows, stepTargetBytes } from "../shared/chunk-size";
import { retentionFor, type DumpConfig } from "../shared/config";
import { createTableStatement, dumpFooter, dumpPreamble, usesAutoincrement, type SequenceSection } from "../shared/dump-sql";
import { contentType, encodeEnd, encodeSegment, type EncodingState } from "../shared/dump-encoding";
import type { DumpRecord, DumpSnapshotState } from "../shared/dump-record";
import type { SnapshotSummary } from "../shared/dump-start";
import { yieldToEventLoop } from "../shared/event-loop";
import { jobTimes } from "../shared/job-record";
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

/** A chunk step stops reading after this long even below its byte target. */
const STEP_TIME_BUDGET_MS = 15_000;

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
 */
export async function planDump(
  env: Env,
  params: DumpParams,
): Promise<{ plan: DumpPlan; uploadId: string | null; snapshot: SnapshotSummary | null }> {
  const snapshotId = takesSnapshot(params.options) ? snapshotIdForDump(params.dumpId) : null;
  const { plan, snapshot } = await openDatabase(env, params).sqlDumpStart(params.database, params.options, snapshotId);
  if (snapshot) await startWatchdog(env, params.dumpId);
  const uploadId = await dumpFileClient(env, params).begin(contentType(params.options.compression));
  await jobRecords(env, "dump").update(params.dumpId, {
    uploadId,
    snapshot: snapshot && snapshotState(snapshot, 0),
    startedAt: new Date().toISOString(),
    estimatedSize: plan.databaseSize,
    progress: {
      currentTable: plan.tables[0]?.name ?? null,
      processedTables: 0,
      totalTables: plan.tables.length,
      rowsDumped: 0,
      bytesWritten: 0,
      percent: 0,
    },
  });
  return { plan, uploadId, snapshot };
}

export interface ChunkStepInput {
  tableIndex: number;
  chunk: number;
  after: KeyCursor | null;
  readRows: number;
  sink: AppendCursor;
  encoding: EncodingState;
  rowsBefore: number;
}

export interface ChunkStepResult {
  lastKey: KeyCursor | null;
  done: boolean;
  rows: number;
  readRows: number;
  reads: number;
  sink: AppendCursor;
  encoding: EncodingState;
  parts: UploadedPart[];
}

/** Reads rows of one table until the step's byte target, writes them to the sink, records progress. */
export async function dumpChunk(context: DumpContext, input: ChunkStepInput): Promise<ChunkStepResult> {
  const { env, params, plan, config } = context;
  const table = plan.tables[input.tableIndex];
  const database = openDatabase(env, params);
  const { schemaOnly, dataOnly, compression } = params.options;
  const snapshot = context.snapshot ? { id: context.snapshot.id, tableIndex: input.tableIndex } : undefined;
  // The previous step has completed, so the snapshot may let go of what it read (see advanceSnapshot).
  const heldBytes = snapshot ? await database.sqlDumpAdvanceSnapshot(snapshot.id, snapshot.tableIndex, input.after) : 0;
  const writer = await dumpFileClient(env, params).openWriter(input.sink, context.uploadId);
  let encoding = input.encoding;
  let writeMs = 0;
  // Each read is written at once, so uploads run while the next rows are read.
  const emit = async (text: string) => {
    if (text === "") return;
    const writeStarted = Date.now();
    const encoded = encodeSegment(text, compression, encoding);
    encoding = encoded.state;
    await writer.write(encoded.bytes);
    writeMs += Date.now() - writeStarted;
  };
  await emit(
    (input.encoding.sqlBytes === 0 ? dumpPreamble(plan.objects, dataOnly) : "") +
      (input.chunk === 1 && !dataOnly ? createTableStatement(table) : ""),
  );

  let after = input.after;
  let readRows = input.readRows || READ_LIMITS.firstRows;
  let done = table.content !== "rows" || schemaOnly;
  let rows = 0;
  let bytes = 0;
  let reads = 0;
  const carried = params.storage === "r2" && compression === "none" ? input.sink.carryBytes : null;
  const target = stepTargetBytes(config.stepTargetBytes, config.partSizeBytes, carried);
  const started = Date.now();
  let readMs = 0;
  while (!done && bytes < target && Date.now() - started < STEP_TIME_BUDGET_MS) {
    const readStarted = Date.now();
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
    await yieldToEventLoop();
  }
  const closeStarted = Date.now();
  const written = await writer.close();
  writeMs += Date.now() - closeStarted;
  const processedTables = input.tableIndex + (done ? 1 : 0);
  await jobRecords(env, "dump").update(params.dumpId, {
    ...(context.snapshot ? { snapshot: snapshotState(context.snapshot, heldBytes) } : {}),
    progress: {
      currentTable: done ? (plan.tables[input.tableIndex + 1]?.name ?? null) : table.name,
      processedTables,
      totalTables: plan.tables.length,
      rowsDumped: input.rowsBefore + rows,
      bytesWritten: written.cursor.bytesWritten,
      // Once this table is done, the fraction applies to the next one, which has not started.
      percent: overallPercent(plan.tables, processedTables, done ? 0 : tableFraction(table, after, false)),
    },
  });
  console.log(
    JSON.stringify({
      event: "chunk",
      dumpId: params.dumpId,
      table: table.name,
      chunk: input.chunk,
      rows,
      reads,
      readRows,
      bytes,
      readMs,
      writeMs,
      stepMs: Date.now() - started,
    }),
  );
  return { lastKey: after, done, rows, readRows, reads, sink: written.cursor, encoding, parts: written.parts };
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

/** What a failed or cancelled dump leaves behind: its file, and its snapshot in the source database. */
export async function discardDump(env: Env, record: DumpRecord): Promise<void> {
  await discardDumpFile(env, record);
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
