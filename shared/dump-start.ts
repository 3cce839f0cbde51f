// The start of a dump, in one synchronous call on the database: the plan, and (unless the dump opts
// out) the snapshot that every later read sees, so that both describe the same instant.

import { dumpPlan } from "./dump-plan";
import type { SequenceRow } from "./dump-sql";
import { runSync } from "./query-program";
import { beginSnapshot, snapshotExceptions, type SnapshotTable } from "./snapshot";
import type { SqlDatabase } from "./sql-handle";
import { selectTables, type TableChoice } from "./table-selection";
import type { DumpPlan } from "./types";

/** What a dump keeps of its snapshot: small enough to return from a step. */
export interface SnapshotSummary {
  id: string;
  takenAt: string;
  /** sqlite_sequence as of the instant. */
  sequences: SequenceRow[];
  /** Tables copied whole at the instant, and tables whose changed rows are saved as they change. */
  copiedTables: number;
  trackedTables: number;
  /** Tables not read as of the instant, in words (snapshotExceptions()). */
  exceptions: string[];
}

export interface DumpStart {
  plan: DumpPlan;
  snapshot: SnapshotSummary | null;
}

/** Plans the chosen tables and, with a snapshot id, takes the snapshot of them in the same call. */
export function startDump(db: SqlDatabase, database: string, choice: TableChoice, snapshotId: string | null): DumpStart {
  const plan = selectTables(runSync(db.sql, dumpPlan(database, db.sql.databaseSize)), choice);
  if (snapshotId === null) return { plan, snapshot: null };
  const start = beginSnapshot(db, snapshotId, plan.tables);
  return { plan, snapshot: snapshotSummary(snapshotId, start.tables, start.sequences) };
}

/** What a dump keeps of a snapshot just taken. */
export function snapshotSummary(snapshotId: string, tables: SnapshotTable[], sequences: SequenceRow[]): SnapshotSummary {
  return {
    id: snapshotId,
    takenAt: new Date().toISOString(),
    sequences,
    copiedTables: tables.filter((t) => t.method === "copied").length,
    trackedTables: tables.filter((t) => t.method === "copy-on-write").length,
    exceptions: snapshotExceptions(tables),
  };
}
