// A SQLite database in a Durable Object: one instance per database name. An RPC adapter over the
// core in shared/: the query API, the dump's plan and chunk reads, and restores into it.

import { DurableObject } from "cloudflare:workers";
import { sequences, tableAndViewNames } from "../shared/dump-plan";
import { readChunk } from "../shared/dump-read";
import { startDump, type SnapshotSummary } from "../shared/dump-start";
import type { SequenceRow } from "../shared/dump-sql";
import { forgetPlan, keepPlan, planPage, type PlannedDump } from "../shared/plan-pages";
import { runSync } from "../shared/query-program";
import { runStatement, runTransaction, type QueryOutcome, type QueryRow, type Statement } from "../shared/query";
import { applyStatements, beginRestore, endRestore, userObjectCount, type ExclusiveAccess } from "../shared/restore-apply";
import type { ApplyOutcome, BeginOutcome, RestoreBatch, RestoreMode } from "../shared/restore-record";
import { advanceSnapshotTo, endSnapshot, readSnapshotChunk, snapshotHeldBytes } from "../shared/snapshot";
import type { SqlDatabase } from "../shared/sql-handle";
import type { TableChoice } from "../shared/table-selection";
import type { ChunkRequest, ChunkResult, KeyCursor } from "../shared/types";

export type { QueryOutcome, QueryRow, SqlParam, Statement } from "../shared/query";

export class DatabaseObject extends DurableObject<Env> {
  /** The handle the core's functions take. */
  protected get database(): SqlDatabase {
    return this.ctx.storage;
  }

  /** Restores turn foreign keys off with no other event in between, then commit before turning them on. */
  private get exclusiveAccess(): ExclusiveAccess {
    return { exclusive: (work) => this.ctx.blockConcurrencyWhile(work), flush: () => this.ctx.storage.sync() };
  }

  query(statement: Statement): QueryOutcome<QueryRow[]> {
    return runStatement(this.ctx.storage.sql, statement);
  }

  /** All statements or none. */
  transaction(statements: Statement[]): QueryOutcome<QueryRow[][]> {
    return runTransaction(this.database, statements);
  }

  databaseSize(): number {
    return this.ctx.storage.sql.databaseSize;
  }

  /**
   * The chosen tables' plan and, with a snapshot id, the snapshot of them, at one instant. A plan too
   * large for a step's result is kept here in pages (planPage, forgetPlan).
   */
  startDump(database: string, dumpId: string, choice: TableChoice, snapshotId: string | null): PlannedDump & { snapshot: SnapshotSummary | null } {
    const { plan, snapshot } = startDump(this.database, database, choice, snapshotId);
    return { ...keepPlan(this.database, dumpId, plan), snapshot };
  }

  planPage(dumpId: string, page: number): string {
    return planPage(this.database, dumpId, page);
  }

  forgetPlan(dumpId: string): number {
    return forgetPlan(this.database, dumpId);
  }

  /**
   * The next rows of a table as INSERT statements, from the snapshot when the request names one.
   * Synchronous, so no other request interleaves.
   */
  readChunk(request: ChunkRequest): ChunkResult {
    const { snapshot } = request;
    if (!snapshot) return runSync(this.ctx.storage.sql, readChunk(request));
    return runSync(this.ctx.storage.sql, readSnapshotChunk(request, snapshot, true));
  }

  /** Called first by each chunk step of a snapshot dump; answers the bytes the snapshot holds. */
  advanceSnapshot(snapshotId: string, tableIndex: number, after: KeyCursor | null): number {
    advanceSnapshotTo(this.database, snapshotId, tableIndex, after);
    return snapshotHeldBytes(this.database, snapshotId);
  }

  /** Drops the snapshot's tables and triggers; ending an ended snapshot does nothing. */
  endSnapshot(snapshotId: string): number {
    return endSnapshot(this.database, snapshotId);
  }

  /** Names a dump's tables/excludeTables options may use: user tables and views. */
  tableAndViewNames(): string[] {
    return runSync(this.ctx.storage.sql, tableAndViewNames());
  }

  /** sqlite_sequence rows, with exact integers. */
  sequences(): SequenceRow[] {
    return runSync(this.ctx.storage.sql, sequences());
  }

  // ---- restores (a restore Workflow writes a dump into this database one batch at a time) ----

  userObjectCount(): number {
    return runSync(this.ctx.storage.sql, userObjectCount());
  }

  beginRestore(restoreId: string, mode: RestoreMode): Promise<BeginOutcome> {
    return beginRestore(this.database, this.exclusiveAccess, restoreId, mode);
  }

  applyStatements(batch: RestoreBatch): Promise<ApplyOutcome> {
    return applyStatements(this.database, this.exclusiveAccess, batch);
  }

  endRestore(restoreId: string): void {
    endRestore(this.database, restoreId);
  }
}
