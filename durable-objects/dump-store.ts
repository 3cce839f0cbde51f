// Dump records and the files of dumps kept in Durable Object storage.
// The instance named "index" holds one record per dump (metadata, progress, outcome);
// each dump stored here has its own instance ("file:<dumpId>") holding the file as ordered pieces.

import { DurableObject } from "cloudflare:workers";
import type { DumpRecord, DumpRecordPatch, DumpListQuery } from "../shared/dump-record";
import type { RestoreRecord, RestoreRecordPatch } from "../shared/restore-record";

/** Largest piece kept in one row: Durable Object SQLite caps a value at 2 MB. */
const PIECE_BYTES = 1024 * 1024;

export class DumpStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS dumps (
        id TEXT PRIMARY KEY,
        database TEXT NOT NULL,
        created_at TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS dumps_by_time ON dumps(created_at DESC, id DESC);
      CREATE TABLE IF NOT EXISTS pieces (
        offset INTEGER PRIMARY KEY,
        data BLOB NOT NULL
      );
    `);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS restores (
        id TEXT PRIMARY KEY,
        database TEXT NOT NULL,
        phase TEXT NOT NULL,
        created_at TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS restores_by_database ON restores(database, phase);
    `);
  }

  // ---- records (instance "index") ----

  createRecord(record: DumpRecord): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO dumps (id, database, created_at, record) VALUES (?, ?, ?, ?)",
      record.dumpId,
      record.database,
      record.createdAt,
      JSON.stringify(record),
    );
  }

  getRecord(dumpId: string): DumpRecord | null {
    const row = this.ctx.storage.sql
      .exec<{ record: string }>("SELECT record FROM dumps WHERE id = ?", dumpId)
      .toArray()[0];
    return row ? (JSON.parse(row.record) as DumpRecord) : null;
  }

  /** Merges the patch into the record; progress counters only move forward. */
  updateRecord(dumpId: string, patch: DumpRecordPatch): DumpRecord | null {
    return this.ctx.storage.transactionSync(() => {
      const current = this.getRecord(dumpId);
      if (!current) return null;
      const next: DumpRecord = { ...current, ...patch };
      if (patch.progress && current.progress) {
        next.progress = {
          ...patch.progress,
          processedTables: Math.max(patch.progress.processedTables, current.progress.processedTables),
          rowsDumped: Math.max(patch.progress.rowsDumped, current.progress.rowsDumped),
          bytesWritten: Math.max(patch.progress.bytesWritten, current.progress.bytesWritten),
          percent: Math.max(patch.progress.percent, current.progress.percent),
        };
      }
      this.ctx.storage.sql.exec("UPDATE dumps SET record = ? WHERE id = ?", JSON.stringify(next), dumpId);
      return next;
    });
  }

  deleteRecord(dumpId: string): void {
    this.ctx.storage.sql.exec("DELETE FROM dumps WHERE id = ?", dumpId);
  }

  /** Newest first. The cursor is the last record's (createdAt, id). */
  listRecords(query: DumpListQuery): DumpRecord[] {
    const conditions: string[] = [];
    const params: string[] = [];
    if (query.database) {
      conditions.push("database = ?");
      params.push(query.database);
    }
    if (query.before) {
      conditions.push("(created_at, id) < (?, ?)");
      params.push(query.before.createdAt, query.before.dumpId);
    }
    const where = conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
    return this.ctx.storage.sql
      .exec<{ record: string }>(
        `SELECT record FROM dumps ${where} ORDER BY created_at DESC, id DESC LIMIT ${query.limit}`,
        ...params,
      )
      .toArray()
      .map((row) => JSON.parse(row.record) as DumpRecord);
  }

  // ---- file pieces (instance "file:<dumpId>") ----

  /**
   * Stores `data` at byte `offset`, replacing anything at or after it, so that a retried step
   * that writes the same range again leaves exactly one copy.
   */
  writeAt(offset: number, data: Uint8Array): void {
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("DELETE FROM pieces WHERE offset >= ?", offset);
      for (let start = 0; start < data.length; start += PIECE_BYTES) {
        this.ctx.storage.sql.exec(
          "INSERT INTO pieces (offset, data) VALUES (?, ?)",
          offset + start,
          data.subarray(start, start + PIECE_BYTES),
        );
      }
    });
  }

  /** Up to `length` bytes from `offset`. */
  readAt(offset: number, length: number): Uint8Array {
    const rows = this.ctx.storage.sql
      .exec<{ offset: number; data: ArrayBuffer }>(
        `SELECT offset, data FROM pieces
         WHERE offset < ? AND offset + length(data) > ?
         ORDER BY offset`,
        offset + length,
        offset,
      )
      .toArray();
    const out = new Uint8Array(length);
    let filled = 0;
    for (const row of rows) {
      const piece = new Uint8Array(row.data);
      const from = Math.max(0, offset - row.offset);
      const to = Math.min(piece.length, offset + length - row.offset);
      out.set(piece.subarray(from, to), row.offset + from - offset);
      filled = Math.max(filled, row.offset + to - offset);
    }
    return out.subarray(0, filled);
  }

  storedBytes(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(length(data)), 0) AS n FROM pieces").one().n;
  }

  deleteFile(): void {
    this.ctx.storage.sql.exec("DELETE FROM pieces");
  }

  // ---- restore records (instance "index") ----

  createRestore(record: RestoreRecord): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO restores (id, database, phase, created_at, record) VALUES (?, ?, ?, ?, ?)",
      record.restoreId,
      record.database,
      record.phase,
      record.createdAt,
      JSON.stringify(record),
    );
  }

  getRestore(restoreId: string): RestoreRecord | null {
    const row = this.ctx.storage.sql
      .exec<{ record: string }>("SELECT record FROM restores WHERE id = ?", restoreId)
      .toArray()[0];
    return row ? (JSON.parse(row.record) as RestoreRecord) : null;
  }

  /** Merges the patch into the record; progress counters only move forward, so a retried step cannot move them back. */
  updateRestore(restoreId: string, patch: RestoreRecordPatch): RestoreRecord | null {
    return this.ctx.storage.transactionSync(() => {
      const current = this.getRestore(restoreId);
      if (!current) return null;
      const next: RestoreRecord = { ...current, ...patch };
      if (patch.progress) {
        const before = current.progress;
        const after = patch.progress;
        const forward = after.bytesRead >= before.bytesRead;
        next.progress = {
          ...(forward ? after : before),
          bytesRead: Math.max(after.bytesRead, before.bytesRead),
          statementsApplied: Math.max(after.statementsApplied, before.statementsApplied),
          statementsSkipped: Math.max(after.statementsSkipped, before.statementsSkipped),
          percent: Math.max(after.percent, before.percent),
        };
      }
      this.ctx.storage.sql.exec("UPDATE restores SET record = ?, phase = ? WHERE id = ?", JSON.stringify(next), next.phase, restoreId);
      return next;
    });
  }

  deleteRestore(restoreId: string): void {
    this.ctx.storage.sql.exec("DELETE FROM restores WHERE id = ?", restoreId);
  }

  /** Restores into `database` that have not finished by their records. */
  startedRestores(database: string): RestoreRecord[] {
    return this.ctx.storage.sql
      .exec<{ record: string }>("SELECT record FROM restores WHERE database = ? AND phase = 'started' ORDER BY created_at", database)
      .toArray()
      .map((row) => JSON.parse(row.record) as RestoreRecord);
  }
}
