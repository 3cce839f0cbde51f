// withSqlDump(Base): makes any SQLite-backed Durable Object class a dump source and restore target.
// It adds RPC methods, all named `sqlDump…`, over the core in shared/, and nothing else: the class's
// fetch(), alarm(), WebSocket handlers and own methods are left as they are.
//
//   export class Notes extends withSqlDump(DurableObject)<Env> { … }
//
// Key-value storage (ctx.storage.put/get) is not part of a dump: see README, "Add dumps to your own Worker".

import type { DurableObject } from "cloudflare:workers";
import { sequences, tableAndViewNames } from "../shared/dump-plan";
import { readChunk } from "../shared/dump-read";
import { startDump, type SnapshotSummary } from "../shared/dump-start";
import type { SequenceRow } from "../shared/dump-sql";
import { runSync } from "../shared/query-program";
import { applyStatements, beginRestore, endRestore, userObjectCount, type ExclusiveAccess } from "../shared/restore-apply";
import type { ApplyOutcome, BeginOutcome, RestoreBatch, RestoreMode } from "../shared/restore-record";
import { holdsData, isBlank } from "../shared/instance-state";
import { forgetPlan, keepPlan, planPage, type PlannedDump } from "../shared/plan-pages";
import { advanceSnapshotTo, endSnapshot, readSnapshotChunk, snapshotHeldBytes } from "../shared/snapshot";
import type { TableChoice } from "../shared/table-selection";
import type { ChunkRequest, ChunkResult, KeyCursor } from "../shared/types";

/** Every method withSqlDump adds. A class that already has one of these names is refused. */
export const SQL_DUMP_METHODS: ReadonlyArray<keyof SqlDumpable> = [
  "sqlDumpExists",
  "sqlDumpDatabaseSize",
  "sqlDumpStart",
  "sqlDumpPlanPage",
  "sqlDumpForgetPlan",
  "sqlDumpReadChunk",
  "sqlDumpAdvanceSnapshot",
  "sqlDumpEndSnapshot",
  "sqlDumpTableAndViewNames",
  "sqlDumpSequences",
  "sqlDumpUserObjectCount",
  "sqlDumpBeginRestore",
  "sqlDumpApplyStatements",
  "sqlDumpEndRestore",
];

/** What starting a dump answers: the plan (or how to read its pages) and the snapshot taken, if any. */
export type StartedDump = PlannedDump & { snapshot: SnapshotSummary | null };

type DurableObjectClass = abstract new (...args: any[]) => DurableObject<any, any>;

/** Whether each instance's storage was blank before the class's own constructor could write to it. */
const blankAtStart = new WeakMap<object, boolean>();

/** The methods withSqlDump adds, as the class itself has them. */
export interface SqlDumpable {
  sqlDumpExists(): boolean;
  sqlDumpDatabaseSize(): number;
  sqlDumpStart(label: string, dumpId: string, choice: TableChoice, snapshotId: string | null): StartedDump;
  sqlDumpPlanPage(dumpId: string, page: number): string;
  sqlDumpForgetPlan(dumpId: string): number;
  sqlDumpReadChunk(request: ChunkRequest): ChunkResult;
  sqlDumpAdvanceSnapshot(snapshotId: string, tableIndex: number, after: KeyCursor | null): number;
  sqlDumpEndSnapshot(snapshotId: string): number;
  sqlDumpTableAndViewNames(): string[];
  sqlDumpSequences(): SequenceRow[];
  sqlDumpUserObjectCount(): number;
  sqlDumpBeginRestore(restoreId: string, mode: RestoreMode): Promise<BeginOutcome>;
  sqlDumpApplyStatements(batch: RestoreBatch): Promise<ApplyOutcome>;
  sqlDumpEndRestore(restoreId: string): void;
}

export function withSqlDump<Base extends DurableObjectClass>(base: Base): Base & (abstract new (...args: any[]) => SqlDumpable) {
  const taken = SQL_DUMP_METHODS.filter((name) => name in base.prototype);
  if (taken.length) throw new Error(`withSqlDump(${base.name}): the class already has ${taken.join(", ")}`);

  abstract class SqlDumpClass extends base implements SqlDumpable {
    constructor(...args: any[]) {
      // Read before super(): a constructor that creates its schema would otherwise make every
      // instance look as if it had always existed.
      const blank = isBlank((args[0] as DurableObjectState).storage);
      super(...args);
      blankAtStart.set(this, blank);
    }

    /**
     * Whether this instance held anything before this call reached it: storage that was not blank
     * when it started, or rows and keys written since. Dumps by id ask first, so that an id
     * nobody wrote to is refused instead of dumped empty.
     */
    sqlDumpExists(): boolean {
      return blankAtStart.get(this) === false || holdsData(this.ctx.storage);
    }

    sqlDumpDatabaseSize(): number {
      return this.ctx.storage.sql.databaseSize;
    }

    /**
     * The chosen tables' plan and, with a snapshot id, the snapshot of them, at one instant. A plan too
     * large for a step's result is kept here in pages (sqlDumpPlanPage, sqlDumpForgetPlan).
     */
    sqlDumpStart(label: string, dumpId: string, choice: TableChoice, snapshotId: string | null): StartedDump {
      const { plan, snapshot } = startDump(this.ctx.storage, label, choice, snapshotId);
      return { ...keepPlan(this.ctx.storage, dumpId, plan), snapshot };
    }

    sqlDumpPlanPage(dumpId: string, page: number): string {
      return planPage(this.ctx.storage, dumpId, page);
    }

    sqlDumpForgetPlan(dumpId: string): number {
      return forgetPlan(this.ctx.storage, dumpId);
    }

    /**
     * The next rows of a table as INSERT statements, from the snapshot when the request names one.
     * Synchronous, so no other request interleaves.
     */
    sqlDumpReadChunk(request: ChunkRequest): ChunkResult {
      const { snapshot } = request;
      if (!snapshot) return runSync(this.ctx.storage.sql, readChunk(request));
      return runSync(this.ctx.storage.sql, readSnapshotChunk(request, snapshot, true));
    }

    /** Called first by each chunk step of a snapshot dump; answers the bytes the snapshot holds. */
    sqlDumpAdvanceSnapshot(snapshotId: string, tableIndex: number, after: KeyCursor | null): number {
      advanceSnapshotTo(this.ctx.storage, snapshotId, tableIndex, after);
      return snapshotHeldBytes(this.ctx.storage, snapshotId);
    }

    /** Drops the snapshot's tables and triggers; ending an ended snapshot does nothing. */
    sqlDumpEndSnapshot(snapshotId: string): number {
      return endSnapshot(this.ctx.storage, snapshotId);
    }

    /** Names a dump's tables/excludeTables options may use: user tables and views. */
    sqlDumpTableAndViewNames(): string[] {
      return runSync(this.ctx.storage.sql, tableAndViewNames());
    }

    /** sqlite_sequence rows, with exact integers. */
    sqlDumpSequences(): SequenceRow[] {
      return runSync(this.ctx.storage.sql, sequences());
    }

    sqlDumpUserObjectCount(): number {
      return runSync(this.ctx.storage.sql, userObjectCount());
    }

    sqlDumpBeginRestore(restoreId: string, mode: RestoreMode): Promise<BeginOutcome> {
      return beginRestore(this.ctx.storage, exclusiveAccess(this.ctx), restoreId, mode);
    }

    sqlDumpApplyStatements(batch: RestoreBatch): Promise<ApplyOutcome> {
      return applyStatements(this.ctx.storage, exclusiveAccess(this.ctx), batch);
    }

    sqlDumpEndRestore(restoreId: string): void {
      endRestore(this.ctx.storage, restoreId);
    }
  }
  return SqlDumpClass;
}

/** Restores turn foreign keys off with no other event in between, then commit before turning them on. */
function exclusiveAccess(ctx: DurableObjectState): ExclusiveAccess {
  return { exclusive: (work) => ctx.blockConcurrencyWhile(work), flush: () => ctx.storage.sync() };
}

/** What a caller sees of a class made with withSqlDump: its added methods, each answering a promise. */
export type SqlDumpMethods = {
  [K in keyof SqlDumpable]: (...args: Parameters<SqlDumpable[K]>) => Promise<Awaited<ReturnType<SqlDumpable[K]>>>;
};
