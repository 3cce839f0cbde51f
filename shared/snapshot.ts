// Consistent snapshots of a live database, without blocking its writers (issue 11): copy-on-write with
// triggers, as shared/snapshot-sql.ts describes. Everything lives in objects named _dumpsnap_<id>_…,
// created in one transaction at the instant and dropped by endSnapshot().

import type { SequenceRow } from "./dump-sql";
import { sequences } from "./dump-plan";
import { liveRows, type RowSource } from "./dump-read";
import { runSync } from "./query-program";
import type { SqlDatabase, SqlValue } from "./sql-handle";
import { quoteIdentifier as q } from "./sql-text";
import type { KeyCursor, TablePlan } from "./types";
import {
  compareWithCursor,
  copyRows,
  createSideTable,
  createTrigger,
  cursorColumns,
  freshName,
  MAX_TABLE_COLUMNS,
  moveCursor,
  readsSnapshot,
  sideColumns,
  SNAPSHOT_PREFIX,
  snapshotChunkSelect,
  snapshotLargeValueQueries,
  snapshotObjectPrefix,
  snapshotRowsAfter,
  stateTableName,
  triggerName,
  triggerRoles,
  type SnapshotMethod,
  type SnapshotTable,
  type TriggerContext,
  type UniqueIndex,
} from "./snapshot-sql";

export { snapshotChunkSelect, snapshotLargeValueQueries, SNAPSHOT_PREFIX } from "./snapshot-sql";
export type { SnapshotMethod, SnapshotTable } from "./snapshot-sql";

/**
 * Small tables are copied whole at the instant instead of getting triggers: a copy costs little, while
 * every trigger and side table is a schema object that makes the next DDL slower (SQLite scans
 * sqlite_master for each), so 1,000 tables with triggers take seconds to begin and end. Virtual tables
 * cannot have triggers: copied within these limits, read live beyond them.
 */
export interface CopyLimits {
  /** Most rows of a copied table. */
  maxRows: number;
  /** Most bytes of values of a copied table. */
  maxBytes: number;
  /** Most bytes copied for the whole snapshot. */
  totalBytes: number;
}

export const DEFAULT_COPY_LIMITS: CopyLimits = { maxRows: 10_000, maxBytes: 4 * 1024 * 1024, totalBytes: 32 * 1024 * 1024 };

export interface SnapshotStart {
  snapshotId: string;
  /** One entry per planned table, in the plan's order (`index` is the position in it). */
  tables: SnapshotTable[];
  /** sqlite_sequence as of the instant, integers exact. */
  sequences: SequenceRow[];
  /** Names of the tables and triggers created. */
  created: string[];
}

/** The snapshot id of a dump: its id without the dashes (letters and digits only). */
export function snapshotIdForDump(dumpId: string): string {
  const id = dumpId.replace(/[^A-Za-z0-9]/g, "");
  checkId(id);
  return id;
}

/** A snapshot cannot go on: its objects are gone, or a table changed under it. The message says which. */
export class SnapshotError extends Error {
  override name = "SnapshotError";
}

const SNAPSHOT_ID = /^[A-Za-z0-9]{1,32}$/;

function checkId(snapshotId: string): void {
  if (!SNAPSHOT_ID.test(snapshotId)) throw new Error(`snapshot id must be 1 to 32 letters or digits, got ${JSON.stringify(snapshotId)}`);
}

/**
 * Takes the snapshot: in one transaction, creates the state table and, per table, either a copy (small
 * and virtual tables) or a side table and the triggers that fill it, and reads sqlite_sequence. `tables`
 * must be planned in the same synchronous call (no await in between), so that the plan, the sequences and
 * the snapshot describe one instant; a table's `index` in the snapshot is its position in `tables`.
 * Beginning an id that exists replaces it, so a retried begin step gets a fresh, complete snapshot.
 */
export function beginSnapshot(
  db: SqlDatabase,
  snapshotId: string,
  tables: TablePlan[],
  copyLimits: Partial<CopyLimits> = {},
): SnapshotStart {
  checkId(snapshotId);
  const limits = { ...DEFAULT_COPY_LIMITS, ...copyLimits };
  return db.transactionSync(() => {
    dropObjects(db, snapshotId);
    const state = stateTableName(snapshotId);
    const width = Math.max(1, ...tables.map((t) => (t.key.kind === "rowid" ? 1 : t.key.columns.length)));
    db.sql.exec(
      `CREATE TABLE ${q(state)}(t INTEGER PRIMARY KEY, name TEXT NOT NULL, done INTEGER NOT NULL, ` +
        `fingerprint TEXT, ref TEXT NOT NULL, ${cursorColumns(width).join(", ")})`,
    );
    const created = [state];
    const snapshotTables = tables.map((plan, index) => {
      const table = describeTable(db, snapshotId, plan, index, limits);
      if (table.side && sideColumns(table, plan).length > MAX_TABLE_COLUMNS) {
        throw new SnapshotError(
          `table ${q(plan.name)} has ${plan.columns.length} columns: a snapshot of it needs a side table of ` +
            `${sideColumns(table, plan).length}, more than the ${MAX_TABLE_COLUMNS} a Durable Object allows; dump with "snapshot": false`,
        );
      }
      if (table.side) {
        db.sql.exec(createSideTable(table, plan));
        created.push(table.side);
      }
      if (table.method === "copied") db.sql.exec(copyRows(table, plan));
      if (table.method === "copy-on-write") {
        const context = triggerContext(db, plan, state);
        table.triggers = triggerRoles(context).map((role) => triggerName(snapshotId, index, role));
        for (const role of triggerRoles(context)) db.sql.exec(createTrigger(snapshotId, table, plan, context, role));
        created.push(...table.triggers);
      }
      return table;
    });
    const master = masterByTable(db);
    for (const table of snapshotTables) {
      const fingerprint = table.method === "copy-on-write" ? schemaFingerprint(db, table, master) : null;
      db.sql.exec(
        `INSERT INTO ${q(state)}(t, name, done, fingerprint, ref) VALUES (?, ?, 0, ?, ?)`,
        table.index,
        table.name,
        fingerprint,
        JSON.stringify(table),
      );
    }
    return { snapshotId, tables: snapshotTables, sequences: runSync(db.sql, sequences()), created };
  });
}

function describeTable(db: SqlDatabase, snapshotId: string, plan: TablePlan, index: number, limits: CopyLimits): SnapshotTable {
  const method = snapshotMethod(db, plan, limits);
  const taken = [...plan.columns, ...(plan.key.kind === "rowid" ? [plan.key.column] : [])];
  const keyColumns = plan.key.kind === "rowid" ? [plan.key.column] : plan.key.columns;
  const withSide = method === "copy-on-write" || method === "copied";
  return {
    index,
    name: plan.name,
    method,
    side: withSide ? `${snapshotObjectPrefix(snapshotId)}${index}` : null,
    keyColumns,
    collations: plan.key.kind === "rowid" ? ["BINARY"] : primaryKeyCollations(db, plan),
    sideKeyColumns: plan.key.kind === "rowid" ? [freshName(`${SNAPSHOT_PREFIX}key`, taken)] : keyColumns,
    presentColumn: freshName(`${SNAPSHOT_PREFIX}present`, taken),
    triggers: [],
  };
}

/** Copies small tables (spending `limits.totalBytes` down as it goes), triggers the others. */
function snapshotMethod(db: SqlDatabase, plan: TablePlan, limits: CopyLimits): SnapshotMethod {
  if (plan.content === "rebuild") return "rebuilt";
  if (plan.content === "none") return "no-content";
  const bytes = plan.columns.map((c) => `coalesce(length(CAST(${q(c)} AS BLOB)), 0)`).join(" + ");
  const size = db.sql
    .exec<{ rows: number; bytes: number | null }>(
      `SELECT count(*) AS rows, sum(${bytes}) AS bytes FROM (SELECT ${plan.columns.map(q).join(", ")} ` +
        `FROM ${q(plan.name)} LIMIT ${limits.maxRows + 1})`,
    )
    .one();
  const copyBytes = size.bytes ?? 0;
  if (size.rows <= limits.maxRows && copyBytes <= Math.min(limits.maxBytes, limits.totalBytes)) {
    limits.totalBytes -= copyBytes;
    return "copied";
  }
  return plan.virtual ? "live" : "copy-on-write";
}

/** Collations of a WITHOUT ROWID table's key: those of its primary key index, which decide key equality. */
function primaryKeyCollations(db: SqlDatabase, plan: TablePlan): string[] {
  const index = db.sql.exec<{ name: string }>("SELECT name FROM pragma_index_list(?) WHERE origin = 'pk'", plan.name).one().name;
  const terms = db.sql
    .exec<{ name: string; coll: string }>("SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", index)
    .toArray();
  const keyColumns = plan.key.kind === "rowid" ? [] : plan.key.columns;
  return keyColumns.map((column) => terms.find((t) => t.name === column)?.coll ?? "BINARY");
}

function triggerContext(db: SqlDatabase, plan: TablePlan, state: string): TriggerContext {
  const columns = db.sql
    .exec<{ name: string; hidden: number }>("SELECT name, hidden FROM pragma_table_xinfo(?) ORDER BY cid", plan.name)
    .toArray();
  const indexes = db.sql
    .exec<{ name: string; origin: string; partial: number; sql: string | null }>(
      `SELECT l.name, l.origin, l.partial, m.sql FROM pragma_index_list(?) AS l ` +
        `LEFT JOIN sqlite_master AS m ON m.type = 'index' AND m.name = l.name WHERE l."unique" = 1`,
      plan.name,
    )
    .toArray()
    // A WITHOUT ROWID table's primary key is its key: the key saves cover it.
    .filter((index) => !(plan.key.kind === "primaryKey" && index.origin === "pk"));
  const uniqueIndexes = indexes.map((index): UniqueIndex => {
    const terms = db.sql
      .exec<{ cid: number; name: string | null; coll: string }>(
        "SELECT cid, name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
        index.name,
      )
      .toArray();
    const hasExpression = terms.some((t) => t.cid === -2);
    const texts = hasExpression ? indexTerms(index.sql ?? "") : [];
    if (hasExpression && texts.length !== terms.length) {
      throw new Error(`table ${plan.name}: cannot read the terms of its UNIQUE index ${index.name} for a snapshot`);
    }
    return {
      columns: terms.map((t) => (t.cid === -2 ? null : t.name)),
      terms: terms.map((t, i) => (t.cid === -2 ? texts[i] : q(t.name!))),
      collations: terms.map((t) => t.coll),
      partial: index.partial === 1,
    };
  });
  return {
    state,
    allColumns: columns.map((c) => c.name),
    generatedColumns: columns.filter((c) => c.hidden === 2 || c.hidden === 3).map((c) => c.name),
    uniqueIndexes,
  };
}

/**
 * The terms of CREATE INDEX … ON t(term, term, …) as written, without ASC/DESC. Quotes, brackets and
 * nested parentheses are skipped over, so commas inside them do not split.
 */
export function indexTerms(createIndexSql: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < createIndexSql.length; i++) {
    const ch = createIndexSql[i];
    const close = { "'": "'", '"': '"', "`": "`", "[": "]" }[ch];
    if (close) {
      i = createIndexSql.indexOf(close, i + 1);
      if (i < 0) return [];
      continue;
    }
    if (ch === "(") {
      depth++;
      if (depth === 1) start = i + 1;
    } else if ((ch === ")" || ch === ",") && depth === 1) {
      terms.push(createIndexSql.slice(start, i).trim().replace(/\s+(ASC|DESC)$/i, ""));
      start = i + 1;
      if (ch === ")") return terms;
    } else if (ch === ")") {
      depth--;
    }
  }
  return [];
}

// ---- reading ----------------------------------------------------------------------------------

interface StateRow {
  name: string;
  done: number;
  fingerprint: string | null;
  ref: string;
}

function stateRow(db: SqlDatabase, snapshotId: string, tableIndex: number): StateRow {
  checkId(snapshotId);
  const state = stateTableName(snapshotId);
  const exists = db.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", state).toArray().length > 0;
  if (!exists) throw new SnapshotError(`snapshot ${snapshotId} no longer exists (it was ended); retry the dump`);
  const rows = db.sql
    .exec<StateRow & Record<string, string | number | null>>(
      `SELECT name, done, fingerprint, ref FROM ${q(state)} WHERE t = ?`,
      tableIndex,
    )
    .toArray();
  if (rows.length === 0) throw new SnapshotError(`snapshot ${snapshotId} has no table number ${tableIndex}`);
  return rows[0];
}

/** The snapshot's record of table `tableIndex`, as beginSnapshot() returned it. */
export function snapshotTable(db: SqlDatabase, snapshotId: string, tableIndex: number): SnapshotTable {
  return JSON.parse(stateRow(db, snapshotId, tableIndex).ref) as SnapshotTable;
}

/**
 * Checks, before a read, that the table, its UNIQUE indexes, the snapshot's triggers and side table are
 * as the snapshot made them. Throws a SnapshotError naming the table otherwise: the file would not be the
 * snapshot. Other indexes may change: they change neither the rows read nor which rows REPLACE deletes.
 */
export function checkSnapshotSchema(db: SqlDatabase, snapshotId: string, tableIndex: number): SnapshotTable {
  const row = stateRow(db, snapshotId, tableIndex);
  const table = JSON.parse(row.ref) as SnapshotTable;
  if (row.done) return table;
  if (table.method === "copied" && !objectExists(db, table.side!)) {
    throw new SnapshotError(`table ${q(table.name)}: the snapshot's copy of it is gone; retry the dump`);
  }
  if (row.fingerprint === null) return table;
  const now = schemaFingerprint(db, table);
  if (now !== row.fingerprint) {
    throw new SnapshotError(
      `table ${q(table.name)} ${schemaChange(JSON.parse(row.fingerprint), JSON.parse(now), table)} while the dump ` +
        `was running, so the file could not be a snapshot of one instant; retry the dump`,
    );
  }
  return table;
}

type SchemaEntry = [type: string, name: string, sql: string | null];

/** The table's definition, its UNIQUE indexes, and the snapshot's triggers and side table, as JSON. */
function schemaFingerprint(db: SqlDatabase, table: SnapshotTable, master?: Map<string, MasterRow[]>): string {
  const unique = new Set(
    db.sql
      .exec<{ name: string }>(`SELECT name FROM pragma_index_list(?) WHERE "unique" = 1`, table.name)
      .toArray()
      .map((r) => r.name),
  );
  const rows = master
    ? [...(master.get(table.name) ?? []), ...(master.get(table.side!) ?? [])]
    : readMaster(db, "WHERE tbl_name IN (?, ?)", table.name, table.side);
  const entries = rows
    .filter((m) => m.type === "table" || (m.type === "index" && unique.has(m.name)) || table.triggers.includes(m.name))
    .sort((a, b) => (a.type === b.type ? compareText(a.name, b.name) : compareText(a.type, b.type)))
    .map((m): SchemaEntry => [m.type, m.name, m.sql]);
  return JSON.stringify(entries);
}

interface MasterRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

function readMaster(db: SqlDatabase, where: string, ...bindings: unknown[]): MasterRow[] {
  return db.sql.exec<MasterRow & Record<string, string | null>>(`SELECT type, name, tbl_name, sql FROM sqlite_master ${where}`, ...bindings).toArray();
}

/** sqlite_master read once and grouped by table: one scan for every table's fingerprint at the start. */
function masterByTable(db: SqlDatabase): Map<string, MasterRow[]> {
  const byTable = new Map<string, MasterRow[]>();
  for (const row of readMaster(db, "")) {
    const rows = byTable.get(row.tbl_name);
    if (rows) rows.push(row);
    else byTable.set(row.tbl_name, [row]);
  }
  return byTable;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What changed between two fingerprints, in words. */
function schemaChange(before: SchemaEntry[], after: SchemaEntry[], table: SnapshotTable): string {
  const find = (entries: SchemaEntry[], name: string) => entries.find((e) => e[1] === name);
  const definition = find(after, table.name);
  if (!definition) return "was dropped or renamed";
  if (definition[2] !== find(before, table.name)?.[2]) return "was altered (its definition changed)";
  if (table.side && !find(after, table.side)) return "lost the snapshot's side table";
  const uniques = (entries: SchemaEntry[]) => JSON.stringify(entries.filter((e) => e[0] === "index"));
  if (uniques(before) !== uniques(after)) return "had a UNIQUE index created, changed or dropped";
  return "lost or changed the snapshot's triggers";
}

function objectExists(db: SqlDatabase, name: string): boolean {
  return db.sql.exec("SELECT 1 FROM sqlite_master WHERE name = ?", name).toArray().length > 0;
}

/**
 * Moves table `tableIndex`'s cursor to `after`, the start key of the chunk step in progress, and drops the
 * saved rows at or before it. Call it at the start of every chunk step, before the read, with the same
 * `after` the read uses: the previous step has completed, so no retry reads those rows again, while a
 * retry of this step finds everything it read before. "done", called in the step after a table's last
 * chunk, stops the table's triggers and empties its side table. Repeating a call changes nothing; moving
 * back is refused.
 */
export function advanceSnapshot(db: SqlDatabase, snapshotId: string, tableIndex: number, after: KeyCursor | null | "done"): void {
  const row = stateRow(db, snapshotId, tableIndex);
  const table = JSON.parse(row.ref) as SnapshotTable;
  const state = stateTableName(snapshotId);
  if (after === "done") {
    if (row.done) return;
    db.transactionSync(() => {
      db.sql.exec(`UPDATE ${q(state)} SET done = 1 WHERE t = ?`, tableIndex);
      if (table.side && objectExists(db, table.side)) db.sql.exec(`DELETE FROM ${q(table.side)}`);
    });
    return;
  }
  if (row.done) throw new SnapshotError(`table ${q(table.name)} was already finished in snapshot ${snapshotId}`);
  if (!table.side) return;
  if (after === null) {
    const started = db.sql.exec<{ k0: SqlValue }>(`SELECT k0 FROM ${q(state)} WHERE t = ?`, tableIndex).one().k0 !== null;
    if (started) throw new SnapshotError(`table ${q(table.name)}: the snapshot cannot move back to the start`);
    return;
  }
  const compare = compareWithCursor(table, state, after);
  const direction = db.sql.exec<{ direction: number }>(compare.sql, ...compare.params).one().direction;
  if (direction === 0) return;
  if (direction < 0) throw new SnapshotError(`table ${q(table.name)}: the snapshot cannot move back before its cursor`);
  db.transactionSync(() => {
    for (const statement of moveCursor(table, state, after)) db.sql.exec(statement.sql, ...statement.params);
  });
}

/**
 * What a chunk step calls first, before its reads: finishes the tables before `tableIndex` (their last
 * chunks are in completed steps) and moves table `tableIndex`'s cursor to `after` (advanceSnapshot()).
 */
export function advanceSnapshotTo(db: SqlDatabase, snapshotId: string, tableIndex: number, after: KeyCursor | null): void {
  checkId(snapshotId);
  const state = stateTableName(snapshotId);
  if (!objectExists(db, state)) throw new SnapshotError(`snapshot ${snapshotId} no longer exists (it was ended); retry the dump`);
  const unfinished = db.sql.exec<{ t: number }>(`SELECT t FROM ${q(state)} WHERE t < ? AND done = 0 ORDER BY t`, tableIndex).toArray();
  for (const { t } of unfinished) advanceSnapshot(db, snapshotId, t, "done");
  advanceSnapshot(db, snapshotId, tableIndex, after);
}

/** Where a read of the snapshot finds table `plan`'s rows of the instant. */
export function snapshotRows(plan: TablePlan, table: SnapshotTable): RowSource {
  if (!readsSnapshot(table)) return liveRows(plan);
  return {
    chunkSelect: (after, limit, value) => snapshotChunkSelect(plan, table, after, limit, value),
    // exactKey() reads the first of these rows: the same row the chunk select read, with its key's bytes.
    rowsAfter: (after) => snapshotRowsAfter(plan, table, after, 1),
    largeValueQueries: (column, key) => snapshotLargeValueQueries(plan, table, column, key),
  };
}

// ---- ending and watching ----------------------------------------------------------------------

/** Drops every object of the snapshot. Returns how many it dropped; ending twice drops nothing. */
export function endSnapshot(db: SqlDatabase, snapshotId: string): number {
  checkId(snapshotId);
  return db.transactionSync(() => dropObjects(db, snapshotId));
}

function dropObjects(db: SqlDatabase, snapshotId: string): number {
  const prefix = snapshotObjectPrefix(snapshotId);
  const objects = db.sql
    .exec<{ type: string; name: string }>(
      "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'table') AND substr(name, 1, ?) = ? ORDER BY type = 'table'",
      prefix.length,
      prefix,
    )
    .toArray();
  for (const object of objects) db.sql.exec(`DROP ${object.type.toUpperCase()} IF EXISTS ${q(object.name)}`);
  return objects.length;
}

/** Ids of the snapshots whose objects exist in the database, for a watchdog that ends abandoned ones. */
export function listSnapshots(db: SqlDatabase): string[] {
  const names = db.sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE substr(name, 1, ?) = ?", SNAPSHOT_PREFIX.length, SNAPSHOT_PREFIX)
    .toArray();
  const ids = names.map((n) => n.name.slice(SNAPSHOT_PREFIX.length).split("_")[0]).filter((id) => SNAPSHOT_ID.test(id));
  return [...new Set(ids)].sort();
}

/** Rows sampled to estimate the bytes of a large side table. */
const SAMPLE_ROWS = 1000;

/**
 * Approximate bytes the snapshot holds in its side tables: counted exactly up to SAMPLE_ROWS rows per
 * table, estimated from a sample beyond. Cheap: a row count and one sample per table.
 */
export function snapshotHeldBytes(db: SqlDatabase, snapshotId: string): number {
  checkId(snapshotId);
  const state = stateTableName(snapshotId);
  if (!objectExists(db, state)) return 0;
  const refs = db.sql.exec<{ ref: string }>(`SELECT ref FROM ${q(state)} WHERE done = 0`).toArray();
  let bytes = 0;
  for (const table of refs.map((r) => JSON.parse(r.ref) as SnapshotTable)) {
    if (!table.side || !objectExists(db, table.side)) continue;
    const columns = db.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", table.side).toArray();
    const rowBytes = columns.map((c) => `coalesce(length(CAST(${q(c.name)} AS BLOB)), 0)`).join(" + ");
    const side = q(table.side);
    const count = db.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${side}`).one().n;
    if (count === 0) continue;
    const sample = db.sql
      .exec<{ rows: number; bytes: number }>(
        `SELECT count(*) AS rows, sum(${rowBytes}) AS bytes FROM (SELECT * FROM ${side} LIMIT ${SAMPLE_ROWS})`,
      )
      .one();
    bytes += Math.round((sample.bytes / sample.rows) * count);
  }
  return bytes;
}

/**
 * What a dump of these tables guarantees beyond the snapshot, in words for its status: one line per
 * table that is not read as of the instant. Empty when every table is.
 */
export function snapshotExceptions(tables: SnapshotTable[]): string[] {
  return tables
    .filter((t) => t.method === "live")
    .map(
      (t) =>
        `virtual table ${q(t.name)} cannot have triggers and was too large to copy at the snapshot instant: ` +
        "its rows are read as they are when each chunk is read, not as of the snapshot",
    );
}
