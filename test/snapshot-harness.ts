// Drives shared/snapshot.ts the way a dump does: plan the tables, begin the snapshot while capturing the
// database's content in the same call, then read chunk after chunk (check, advance, merged read) while
// the test writes between the reads. No imports beyond shared/: the unit (sql.js) and workers (Durable
// Object) projects both use it.

import { liveRows, type RowSource } from "../shared/dump-read";
import { largeValueLiteral, type SequenceRow } from "../shared/dump-sql";
import { runSync } from "../shared/query-program";
import { realLiteral } from "../shared/real-literal";
import { ftsContentMode, isInternalTable } from "../shared/schema-order";
import type { SqlDatabase, SqlValue } from "../shared/sql-handle";
import { LARGE_VALUE_BYTES } from "../shared/sql-text";
import {
  advanceSnapshot,
  beginSnapshot,
  checkSnapshotSchema,
  sideIsEmpty,
  snapshotRows,
  type CopyLimits,
  type SnapshotStart,
} from "../shared/snapshot";
import type { KeyCursor, TablePlan } from "../shared/types";

/** Plans every user table of the database, as the dump's plan does (creation order). */
export function planTables(db: SqlDatabase): TablePlan[] {
  const tables = db.sql
    .exec<{ name: string; type: string; wr: number; strict: number; sql: string }>(
      "SELECT l.name, l.type, l.wr, l.strict, m.sql FROM pragma_table_list AS l JOIN sqlite_master AS m ON m.name = l.name " +
        "WHERE l.schema = 'main' AND l.type IN ('table', 'virtual') ORDER BY m.rowid",
    )
    .toArray()
    .filter((t) => !isInternalTable(t.name));
  return tables.map((t) => {
    const columns = db.sql
      .exec<{ name: string; type: string; pk: number; hidden: number }>("SELECT * FROM pragma_table_xinfo(?)", t.name)
      .toArray();
    const inserted = columns.filter((c) => c.hidden === 0);
    const keyColumns = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const virtual = t.type === "virtual";
    const aliased = !virtual && keyColumns.length === 1 && keyColumns[0].type.toUpperCase() === "INTEGER";
    const rowidName = ["rowid", "_rowid_", "oid"].find((n) => !columns.some((c) => c.name.toLowerCase() === n))!;
    return {
      name: t.name,
      createSql: t.sql,
      virtual,
      strict: t.strict === 1,
      columns: inserted.map((c) => c.name),
      columnTypes: inserted.map((c) => c.type.toUpperCase()),
      insertRowid: t.wr === 0 && !aliased,
      key: t.wr === 1 ? { kind: "primaryKey", columns: keyColumns.map((c) => c.name) } : { kind: "rowid", column: rowidName },
      content: virtual ? ftsContentMode(t.sql) : "rows",
      estimatedRows: 0,
    };
  });
}

/** One row as its key literals followed by its value literals. */
export type LiteralRow = string[];

interface ReadRow {
  key: KeyCursor;
  literals: LiteralRow;
}

/** Reads up to `limit` rows after `after`, reading large values in pieces as the Durable Object does. */
function readRows(db: SqlDatabase, plan: TablePlan, source: RowSource, after: KeyCursor | null, limit: number): ReadRow[] {
  const select = source.chunkSelect(after, limit);
  const columns = plan.insertRowid ? [plan.key.kind === "rowid" ? plan.key.column : "rowid", ...plan.columns] : plan.columns;
  return [...db.sql.exec(select.sql, ...select.params).raw()].map((raw: SqlValue[]) => {
    const literal = (v: SqlValue) => (typeof v === "number" ? realLiteral(v) : (v as string));
    const key = raw.slice(0, select.keyWidth).map((v) => (typeof v === "number" ? v : (v as string)));
    const values = raw.slice(select.keyWidth, select.keyWidth + columns.length).map((v, i) => {
      if (v !== null) return literal(v);
      const queries = source.largeValueQueries(columns[i], key);
      const { type, bytes } = db.sql.exec<{ type: string; bytes: number }>(queries.info).one();
      let hex = "";
      for (let start = 1; start <= bytes; start += LARGE_VALUE_BYTES) {
        hex += db.sql.exec<{ piece: string }>(queries.piece, start, LARGE_VALUE_BYTES).one().piece;
      }
      return largeValueLiteral(type, hex);
    });
    return { key, literals: [...key.map(literal), ...values] };
  });
}

/** The content of every table that has rows to read, read plainly in one go. */
export function readContent(db: SqlDatabase, plans: TablePlan[]): Map<string, LiteralRow[]> {
  const content = new Map<string, LiteralRow[]>();
  for (const plan of plans.filter((p) => p.content === "rows")) {
    content.set(plan.name, readRows(db, plan, liveRows(plan), null, Number.MAX_SAFE_INTEGER).map((r) => r.literals));
  }
  return content;
}

export function readSequences(db: SqlDatabase): SequenceRow[] {
  if (db.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").toArray().length === 0) return [];
  return db.sql.exec<{ name: string; seq: string }>("SELECT name, quote(seq) AS seq FROM sqlite_sequence ORDER BY rowid").toArray();
}

export interface Instant {
  start: SnapshotStart;
  plans: TablePlan[];
  content: Map<string, LiteralRow[]>;
  sequences: SequenceRow[];
}

/** Plans, captures the content and begins the snapshot in one synchronous call: one instant. */
export function beginCapturing(db: SqlDatabase, snapshotId: string, copyLimits?: Partial<CopyLimits>): Instant {
  return db.transactionSync(() => {
    const plans = planTables(db);
    const content = readContent(db, plans);
    const sequences = readSequences(db);
    return { plans, content, sequences, start: beginSnapshot(db, snapshotId, plans, copyLimits) };
  });
}

/** A dump's reading of the snapshot: one table at a time, one chunk per step. */
export class SnapshotReader {
  readonly rows = new Map<string, LiteralRow[]>();
  private tableIndex = 0;
  private after: KeyCursor | null = null;
  private previousTableDone = false;
  private steps = 0;
  /** A dump of the instant takes at most this many steps; a wrong read that keeps finding rows would not stop. */
  private readonly maxSteps: number;

  constructor(
    private readonly db: SqlDatabase,
    private readonly instant: Instant,
  ) {
    const rows = [...instant.content.values()].reduce((sum, table) => sum + table.length, 0);
    this.maxSteps = rows + instant.plans.length + 1;
    this.skipTablesWithoutRows();
  }

  get finished(): boolean {
    return this.tableIndex >= this.instant.plans.length;
  }

  get snapshotId(): string {
    return this.instant.start.snapshotId;
  }

  /** One chunk step: finish the previous table if it ended, advance, check, read. */
  step(limit: number): LiteralRow[] {
    if (this.finished) return [];
    if (++this.steps > this.maxSteps) throw new Error(`the reads found more rows than the snapshot has (${this.maxSteps} steps)`);
    if (this.previousTableDone) {
      advanceSnapshot(this.db, this.snapshotId, this.tableIndex - 1, "done");
      this.previousTableDone = false;
    }
    const rows = this.readKeyed(limit);
    const plan = this.instant.plans[this.tableIndex];
    this.rows.set(plan.name, [...(this.rows.get(plan.name) ?? []), ...rows.map((r) => r.literals)]);
    if (rows.length < limit) {
      this.tableIndex++;
      this.after = null;
      this.previousTableDone = true;
      this.skipTablesWithoutRows();
    } else {
      this.after = rows[rows.length - 1].key;
    }
    return rows.map((r) => r.literals);
  }

  /** The read of the step in progress, without moving on: what a retried step reads. */
  read(limit: number): LiteralRow[] {
    return this.readKeyed(limit).map((r) => r.literals);
  }

  private readKeyed(limit: number): ReadRow[] {
    const plan = this.instant.plans[this.tableIndex];
    const table = checkSnapshotSchema(this.db, this.snapshotId, this.tableIndex);
    advanceSnapshot(this.db, this.snapshotId, this.tableIndex, this.after);
    return readRows(this.db, plan, snapshotRows(plan, table, runSync(this.db.sql, sideIsEmpty(table))), this.after, limit);
  }

  private skipTablesWithoutRows(): void {
    while (!this.finished && this.instant.plans[this.tableIndex].content !== "rows") this.tableIndex++;
  }
}
