// A D1 database as a dump source and restore target: the sqlDump… methods of the Durable Object
// mixin, over D1's asynchronous API. Reads run the same query programs as a Durable Object
// (runAsync instead of runSync). Restores run in D1 batches (each one transaction), with the
// restore's position kept in a table of the target, updated in the same batch.

import { dumpPlan, sequences, tableAndViewNames } from "../shared/dump-plan";
import { readChunk } from "../shared/dump-read";
import type { SequenceRow } from "../shared/dump-sql";
import { messageOf } from "../shared/error-message";
import { runAsync, type Query, type QueryProgram, type Rows } from "../shared/query-program";
import { dropUserObjects, userObjectCount } from "../shared/restore-apply";
import type { ApplyOutcome, BeginOutcome, RestoreBatch, RestoreMode, RestoreStatement } from "../shared/restore-record";
import { planPages } from "../shared/plan-pages";
import { selectTables, type TableChoice } from "../shared/table-selection";
import { snapshotSummary, type SnapshotSummary } from "../shared/dump-start";
import { dropSnapshot, heldBytes, moveSnapshotTo, prepareSnapshot, readSnapshotChunk, schemaGuard, schemaOfTables } from "../shared/snapshot";
import type { ChunkRequest, ChunkResult, DumpPlan, KeyCursor } from "../shared/types";
import type { SqlDumpMethods, StartedDump } from "./databases";

/** Where a restore into D1 has got to. Its prefix keeps it out of dumps and of the target's table count. */
const POSITION_TABLE = "_dumpsnap_restore_position";
/** The pages of a plan too large for a step's result, under the same prefix. */
const PLAN_TABLE = "_dumpsnap_plan_pages";
export interface BatchLimits {
  statements: number;
  bytes: number;
}

/**
 * One D1 batch: D1 counts it as one query (1,000 per invocation), and these sizes keep it well
 * within a query's 30 s. Restore steps into D1 stay within them, so that each step is one batch,
 * all or nothing; only a single statement of the file over `bytes` makes a step of several batches.
 */
export const D1_BATCH_LIMITS: BatchLimits = { statements: 500, bytes: 1_000_000 };
/** Tries at taking a snapshot while the schema keeps changing. */
const SNAPSHOT_ATTEMPTS = 3;
/** A statement that always fails: the end of a trial batch that must not commit. */
const ALWAYS_FAILS = `SELECT * FROM "_dumpsnap_trial_end"`;

export class D1DumpDatabase implements SqlDumpMethods {
  constructor(private readonly db: D1Database) {}

  private run<T>(program: QueryProgram<T>): Promise<T> {
    return runAsync((query) => this.rows(query), program);
  }

  /** Bound numbers are integers or REAL key values; D1 refuses bigints, and never gets one here. */
  private async rows({ sql, params }: Query): Promise<Rows> {
    return this.db.prepare(sql).bind(...params).raw();
  }

  /** A D1 database always exists: it is its binding. */
  async sqlDumpExists(): Promise<boolean> {
    return true;
  }

  async sqlDumpDatabaseSize(): Promise<number> {
    return (await this.db.prepare("SELECT 1").run()).meta.size_after;
  }

  /**
   * The chosen tables' plan and, with a snapshot id, the snapshot of them. D1 cannot read and write in
   * one synchronous call, so the snapshot is prepared from reads taken between two reads of the schema
   * that agree, and taken by one batch (one transaction) that ends with schemaGuard(): it commits only if
   * the schema of the planned tables is still what was read. The batch is the instant.
   */
  async sqlDumpStart(label: string, dumpId: string, choice: TableChoice, snapshotId: string | null): Promise<StartedDump> {
    const { plan, snapshot } = snapshotId === null ? { plan: await this.plan(label, choice), snapshot: null } : await this.planWithSnapshot(label, choice, snapshotId);
    const pages = planPages(plan);
    if (pages.length <= 1) return { plan, snapshot };
    // Too large for a step's result: kept in pages, as a Durable Object keeps them (shared/plan-pages.ts).
    await this.sqlDumpForgetPlan(dumpId);
    await this.db.batch([
      this.db.prepare(`CREATE TABLE IF NOT EXISTS ${PLAN_TABLE} (dump_id TEXT NOT NULL, page INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (dump_id, page))`),
      ...pages.map((text, i) => this.db.prepare(`INSERT INTO ${PLAN_TABLE} VALUES (?, ?, ?)`).bind(dumpId, i + 1, text)),
    ]);
    return { pages: pages.length, tables: plan.tables.length, firstTable: plan.tables[0]?.name ?? null, databaseSize: plan.databaseSize, snapshot };
  }

  private async plan(label: string, choice: TableChoice): Promise<DumpPlan> {
    return selectTables(await this.run(dumpPlan(label, await this.sqlDumpDatabaseSize())), choice);
  }

  private async planWithSnapshot(label: string, choice: TableChoice, snapshotId: string): Promise<{ plan: DumpPlan; snapshot: SnapshotSummary }> {
    for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
      const before = await this.run(schemaOfTables());
      const plan = await this.plan(label, choice);
      const preparation = await this.run(prepareSnapshot(snapshotId, plan.tables, {}, before));
      const after = await this.run(schemaOfTables());
      if (JSON.stringify([...before]) !== JSON.stringify([...after])) continue;
      const statements = [...preparation.statements, schemaGuard(snapshotId)].map(({ sql, params }) => this.db.prepare(sql).bind(...params));
      const readSequences = after.has("sqlite_sequence") ? [this.db.prepare("SELECT name, quote(seq) AS seq FROM sqlite_sequence ORDER BY rowid")] : [];
      let results: D1Result[];
      try {
        results = await this.db.batch([...statements, ...readSequences]);
      } catch (error) {
        // The guard refused: the schema changed between the reads and the batch, which wrote nothing.
        if (/malformed JSON/i.test(messageOf(error))) continue;
        throw error;
      }
      const sequences = readSequences.length ? (results.at(-1)!.results as SequenceRow[]) : [];
      return { plan, snapshot: snapshotSummary(snapshotId, preparation.tables, sequences) };
    }
    throw new Error(`the schema changed ${SNAPSHOT_ATTEMPTS} times while the snapshot was being taken; retry the dump`);
  }

  async sqlDumpPlanPage(dumpId: string, page: number): Promise<string> {
    const row = await this.db.prepare(`SELECT text FROM ${PLAN_TABLE} WHERE dump_id = ? AND page = ?`).bind(dumpId, page).first<{ text: string }>();
    if (!row) throw new Error(`page ${page} of the plan of dump ${dumpId} is not kept in this database`);
    return row.text;
  }

  /** Deletes a kept plan's pages (and their table once empty); answers how many there were. */
  async sqlDumpForgetPlan(dumpId: string): Promise<number> {
    return this.forgetRows(PLAN_TABLE, "dump_id", dumpId);
  }

  /** Its writes run one by one; each is safe alone (moveSnapshot()). Answers the bytes the snapshot holds. */
  async sqlDumpAdvanceSnapshot(snapshotId: string, tableIndex: number, after: KeyCursor | null): Promise<number> {
    await this.run(moveSnapshotTo(snapshotId, tableIndex, after));
    return this.run(heldBytes(snapshotId));
  }

  async sqlDumpEndSnapshot(snapshotId: string): Promise<number> {
    return this.run(dropSnapshot(snapshotId));
  }

  /**
   * The next rows of a table, from the snapshot when the request names one. Other queries can run
   * between this read's queries (README, "D1"); a snapshot read is one merged SELECT, so it sees one state.
   */
  sqlDumpReadChunk(request: ChunkRequest): Promise<ChunkResult> {
    return this.run(request.snapshot ? readSnapshotChunk(request, request.snapshot, false) : readChunk(request));
  }

  sqlDumpTableAndViewNames(): Promise<string[]> {
    return this.run(tableAndViewNames());
  }

  sqlDumpSequences(): Promise<SequenceRow[]> {
    return this.run(sequences());
  }

  sqlDumpUserObjectCount(): Promise<number> {
    return this.run(userObjectCount());
  }

  /** Mode "empty" checks, mode "replace" drops every user object in one batch; then position 0 is recorded. */
  async sqlDumpBeginRestore(restoreId: string, mode: RestoreMode): Promise<BeginOutcome> {
    await this.db.prepare(`CREATE TABLE IF NOT EXISTS ${POSITION_TABLE} (restore_id TEXT PRIMARY KEY, position INTEGER NOT NULL, part INTEGER NOT NULL)`).run();
    if (await this.position(restoreId)) return { ok: true, dropped: 0 };
    const record = this.db.prepare(`INSERT INTO ${POSITION_TABLE} VALUES (?, 0, 0)`).bind(restoreId);
    if (mode === "empty") {
      const count = await this.sqlDumpUserObjectCount();
      if (count > 0) return { ok: false, reason: `the target database has ${count} tables or views; restore with mode "replace" to drop them first` };
      await record.run();
      return { ok: true, dropped: 0 };
    }
    // The program reads what to drop, then yields each DROP: those are collected and run in one batch.
    const drops: string[] = [];
    const dropped = await runAsync(async (query) => {
      if (/^DROP /.test(query.sql)) return void drops.push(query.sql), [];
      return this.rows(query);
    }, dropUserObjects());
    try {
      await this.db.batch([this.db.prepare("PRAGMA defer_foreign_keys = ON"), ...drops.map((sql) => this.db.prepare(sql)), record]);
    } catch (error) {
      return { ok: false, reason: messageOf(error) };
    }
    return { ok: true, dropped };
  }

  /**
   * Runs one restore step's statements in D1 batches. Each batch is one transaction with the
   * position (byte offset and batch number), so a retried step skips the batches that committed.
   * Foreign keys are deferred to the end of each batch: D1 cannot turn them off.
   */
  async sqlDumpApplyStatements(batch: RestoreBatch): Promise<ApplyOutcome> {
    const at = await this.position(batch.restoreId);
    if (at && at.position === batch.to && at.part === 0) return { status: "already-applied" };
    if (!at || at.position !== batch.from) {
      const where = at ? `is at byte ${at.position}` : "has no record of this restore";
      return { status: "failed", index: -1, message: `the batch starts at byte ${batch.from} but the target ${where}` };
    }
    const parts = splitIntoBatches(batch.statements);
    let executed = 0;
    for (let part = at.part; part < parts.length; part++) {
      const { start, statements } = parts[part];
      const last = part === parts.length - 1;
      const kept: number[] = [];
      for (const [i, statement] of statements.entries()) {
        if (!statement.onlyIfTableExists || (await this.tableExists(statement.onlyIfTableExists))) kept.push(i);
      }
      const advance = this.db
        .prepare(`UPDATE ${POSITION_TABLE} SET position = ?, part = ? WHERE restore_id = ? AND position = ? AND part = ?`)
        .bind(last ? batch.to : batch.from, last ? 0 : part + 1, batch.restoreId, batch.from, part);
      const prepared = kept.map((i) => this.db.prepare(statements[i].sql));
      try {
        await this.db.batch([...this.deferred(batch), ...prepared, advance]);
      } catch (error) {
        const index = await this.failingStatement(batch, prepared);
        return { status: "failed", index: index < 0 ? -1 : start + kept[index], message: messageOf(error) };
      }
      executed += prepared.length;
    }
    return { status: "applied", statements: executed };
  }

  async sqlDumpEndRestore(restoreId: string): Promise<void> {
    await this.forgetRows(POSITION_TABLE, "restore_id", restoreId);
  }

  /** Deletes a job's rows from one of this tool's tables, and the table once it is empty. */
  private async forgetRows(table: string, column: string, id: string): Promise<number> {
    try {
      const { meta } = await this.db.prepare(`DELETE FROM ${table} WHERE ${column} = ?`).bind(id).run();
      const [[left]] = await this.db.prepare(`SELECT count(*) FROM ${table}`).raw<[number]>();
      if (left === 0) await this.db.prepare(`DROP TABLE IF EXISTS ${table}`).run();
      return meta.changes;
    } catch (error) {
      if (/no such table/.test(messageOf(error))) return 0;
      throw error;
    }
  }

  private deferred(batch: RestoreBatch): D1PreparedStatement[] {
    return batch.foreignKeys ? [] : [this.db.prepare("PRAGMA defer_foreign_keys = ON")];
  }

  private async position(restoreId: string): Promise<{ position: number; part: number } | null> {
    try {
      return await this.db.prepare(`SELECT position, part FROM ${POSITION_TABLE} WHERE restore_id = ?`).bind(restoreId).first();
    } catch (error) {
      if (/no such table/.test(messageOf(error))) return null;
      throw error;
    }
  }

  private async tableExists(name: string): Promise<boolean> {
    return (await this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").bind(name).raw()).length > 0;
  }

  /**
   * Which statement made a batch fail: the longest prefix that runs is found by trial batches
   * that end in a statement that always fails, so none of them commits.
   */
  private async failingStatement(batch: RestoreBatch, statements: D1PreparedStatement[]): Promise<number> {
    const runs = async (count: number) => {
      try {
        await this.db.batch([...this.deferred(batch), ...statements.slice(0, count), this.db.prepare(ALWAYS_FAILS)]);
      } catch (error) {
        return messageOf(error).includes("_dumpsnap_trial_end");
      }
      return false;
    };
    let good = 0;
    let bad = statements.length;
    if (await runs(bad)) return -1; // each statement runs: the batch failed at its commit (foreign keys)
    while (bad - good > 1) {
      const middle = Math.floor((good + bad) / 2);
      if (await runs(middle)) good = middle;
      else bad = middle;
    }
    return bad - 1;
  }
}

/** Consecutive runs of statements, each within D1's limits for one batch. */
function splitIntoBatches(statements: RestoreStatement[]): Array<{ start: number; statements: RestoreStatement[] }> {
  const parts: Array<{ start: number; statements: RestoreStatement[] }> = [];
  let bytes = 0;
  statements.forEach((statement, i) => {
    const current = parts.at(-1);
    // A conditional statement starts a batch, so that its table is looked for after the batches before it committed.
    const full = !current || current.statements.length >= D1_BATCH_LIMITS.statements || bytes + statement.sql.length > D1_BATCH_LIMITS.bytes;
    if (full || statement.onlyIfTableExists) {
      parts.push({ start: i, statements: [statement] });
      bytes = statement.sql.length;
    } else {
      current.statements.push(statement);
      bytes += statement.sql.length;
    }
  });
  return parts.length ? parts : [{ start: 0, statements: [] }];
}
