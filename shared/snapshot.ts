// Consistent snapshots of a live database, without blocking its writers (issue 11): copy-on-write with
// triggers, as shared/snapshot-sql.ts describes. Everything lives in objects named _dumpsnap_<id>_…,
// created in one transaction at the instant and dropped by endSnapshot().

import type { SequenceRow } from "./dump-sql";
import { sequences } from "./dump-plan";
import { liveRows, readChunk, type RowSource } from "./dump-read";
import { execute, runSync, selectAll, selectOne, type Query, type QueryParam, type QueryProgram } from "./query-program";
import type { SqlDatabase, SqlValue } from "./sql-handle";
import { quoteIdentifier as q } from "./sql-text";
import type { ChunkRequest, ChunkResult, KeyCursor, TablePlan } from "./types";
import {
  compareWithCursor,
  copiesTableName,
  copyRows,
  createCopiesTable,
  createSideTable,
  fitsCopies,
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

/** What taking a snapshot needs, read from the database, and the statements that take it. */
export interface SnapshotPreparation {
  snapshotId: string;
  tables: SnapshotTable[];
  /** To run in order, in one transaction: drop a snapshot of the same id, create the state table, side tables, copies, triggers and state rows. */
  statements: Query[];
  /** Names of the tables and triggers the statements create. */
  created: string[];
}

/**
 * Reads what a snapshot of `tables` needs (sizes, keys, UNIQUE indexes) and returns the statements that
 * take it. Whoever runs them decides the instant: a Durable Object runs the reads and the statements in
 * one synchronous transaction (beginSnapshot); D1 runs the statements as one batch, guarded by a check
 * that the schema did not change since the reads.
 */
export function* prepareSnapshot(
  snapshotId: string,
  tables: TablePlan[],
  copyLimits: Partial<CopyLimits> = {},
  /** Each table's schemaOfTables() entry as read with the plan, for schemaGuard() (D1). */
  schemas: Map<string, string> = new Map(),
): QueryProgram<SnapshotPreparation> {
  checkId(snapshotId);
  const limits = { ...DEFAULT_COPY_LIMITS, ...copyLimits };
  const statements: Query[] = [];
  const add = (sql: string, ...params: QueryParam[]) => statements.push({ sql, params });
  for (const object of yield* snapshotObjects(snapshotId)) add(`DROP ${object.type.toUpperCase()} IF EXISTS ${q(object.name)}`);
  const state = stateTableName(snapshotId);
  const width = Math.max(1, ...tables.map((t) => (t.key.kind === "rowid" ? 1 : t.key.columns.length)));
  add(
    `CREATE TABLE ${q(state)}(t INTEGER PRIMARY KEY, name TEXT NOT NULL, done INTEGER NOT NULL, ` +
      `fingerprint TEXT, ref TEXT NOT NULL, schema TEXT, ${cursorColumns(width).join(", ")})`,
  );
  const created = [state];
  const snapshotTables: SnapshotTable[] = [];
  for (const [index, plan] of tables.entries()) snapshotTables.push(yield* describeTable(snapshotId, plan, index, limits));
  const copied = snapshotTables.filter((t) => t.method === "copied");
  if (copied.length > 0) {
    const name = copiesTableName(snapshotId);
    const keyWidth = Math.max(...copied.map((t) => t.keyColumns.length));
    const valueWidth = Math.max(...copied.map((t) => tables[t.index].columns.length));
    for (const sql of createCopiesTable(name, keyWidth, valueWidth)) add(sql);
    created.push(name);
  }
  for (const table of snapshotTables) {
    const { index } = table;
    const plan = tables[index];
    if (table.method === "copy-on-write" && sideColumns(table, plan).length > MAX_TABLE_COLUMNS) {
      throw new SnapshotError(
        `table ${q(plan.name)} has ${plan.columns.length} columns: a snapshot of it needs a side table of ` +
          `${sideColumns(table, plan).length}, more than the ${MAX_TABLE_COLUMNS} a Durable Object allows; dump with "snapshot": false`,
      );
    }
    if (table.method === "copied") add(copyRows(table, plan));
    if (table.method === "copy-on-write") {
      add(createSideTable(table, plan));
      created.push(table.side!);
      const context = yield* triggerContext(plan, state);
      table.triggers = triggerRoles(context).map((role) => triggerName(snapshotId, index, role));
      for (const role of triggerRoles(context)) add(createTrigger(snapshotId, table, plan, context, role));
      created.push(...table.triggers);
    }
  }
  // The fingerprints are taken by SQL after the objects exist, so that checkSnapshot() compares like with like.
  for (const table of snapshotTables) {
    const fingerprint = table.method === "copy-on-write" ? fingerprintQuery(table) : { sql: "NULL", params: [] };
    add(
      `INSERT INTO ${q(state)}(t, name, done, fingerprint, ref, schema) VALUES (?, ?, 0, (${fingerprint.sql}), ?, ?)`,
      table.index,
      table.name,
      ...fingerprint.params,
      JSON.stringify(table),
      schemas.get(table.name) ?? null,
    );
  }
  return { snapshotId, tables: snapshotTables, statements, created };
}

/**
 * Takes the snapshot in a Durable Object (or any handle with synchronous transactions): the reads, the
 * statements and sqlite_sequence in one transaction. `tables` must be planned in the same synchronous call
 * (no await in between), so that the plan, the sequences and the snapshot describe one instant; a table's
 * `index` in the snapshot is its position in `tables`. Beginning an id that exists replaces it, so a
 * retried begin step gets a fresh, complete snapshot.
 */
export function beginSnapshot(
  db: SqlDatabase,
  snapshotId: string,
  tables: TablePlan[],
  copyLimits: Partial<CopyLimits> = {},
): SnapshotStart {
  checkId(snapshotId);
  return db.transactionSync(() => {
    const preparation = runSync(db.sql, prepareSnapshot(snapshotId, tables, copyLimits));
    for (const statement of preparation.statements) db.sql.exec(statement.sql, ...statement.params);
    const { tables: snapshotTables, created } = preparation;
    return { snapshotId, tables: snapshotTables, sequences: runSync(db.sql, sequences()), created };
  });
}

/** One table's entries of sqlite_master (itself, its indexes and triggers), as JSON; snapshot objects left out. */
function schemaOfTable(tableName: string): string {
  return (
    `SELECT json_group_array(json_array(type, name, sql)) FROM (SELECT type, name, sql FROM sqlite_master ` +
    `WHERE tbl_name = ${tableName} AND substr(name, 1, ${SNAPSHOT_PREFIX.length}) <> '${SNAPSHOT_PREFIX}' ORDER BY type, name)`
  );
}

/**
 * schemaOfTable() of every table, by name: a source that cannot plan and take the snapshot in one call
 * (D1) reads it before planning and again after preparing, and goes on only when both agree.
 */
export function* schemaOfTables(): QueryProgram<Map<string, string>> {
  const rows = yield* selectAll<[string, string]>(
    `SELECT t.name, (${schemaOfTable("t.name")}) FROM (SELECT DISTINCT tbl_name AS name FROM sqlite_master) AS t ORDER BY t.name`,
  );
  return new Map(rows);
}

/**
 * A statement that fails (malformed JSON) unless every table of the snapshot still has the schema recorded
 * for it: the last of a D1 batch that takes a snapshot, so that the batch commits only if nothing changed
 * between the reads and the batch.
 */
export function schemaGuard(snapshotId: string): Query {
  const state = q(stateTableName(snapshotId));
  return {
    sql:
      `SELECT CASE WHEN EXISTS (SELECT 1 FROM ${state} AS s WHERE s.schema IS NOT (${schemaOfTable("s.name")})) ` +
      `THEN json('the schema changed while the snapshot was taken') ELSE 1 END`,
    params: [],
  };
}

function* describeTable(snapshotId: string, plan: TablePlan, index: number, limits: CopyLimits): QueryProgram<SnapshotTable> {
  const method = yield* snapshotMethod(plan, limits);
  const taken = [...plan.columns, ...(plan.key.kind === "rowid" ? [plan.key.column] : [])];
  const keyColumns = plan.key.kind === "rowid" ? [plan.key.column] : plan.key.columns;
  const side = method === "copied" ? copiesTableName(snapshotId) : method === "copy-on-write" ? `${snapshotObjectPrefix(snapshotId)}${index}` : null;
  return {
    index,
    name: plan.name,
    method,
    side,
    keyColumns,
    collations: plan.key.kind === "rowid" ? ["BINARY"] : yield* primaryKeyCollations(plan),
    sideKeyColumns:
      method === "copied" ? cursorColumns(keyColumns.length) : plan.key.kind === "rowid" ? [freshName(`${SNAPSHOT_PREFIX}key`, taken)] : keyColumns,
    presentColumn: freshName(`${SNAPSHOT_PREFIX}present`, taken),
    triggers: [],
  };
}

/** Copies small tables (spending `limits.totalBytes` down as it goes), triggers the others. */
function* snapshotMethod(plan: TablePlan, limits: CopyLimits): QueryProgram<SnapshotMethod> {
  if (plan.content === "rebuild") return "rebuilt";
  if (plan.content === "none") return "no-content";
  const bytes = plan.columns.map((c) => `coalesce(length(CAST(${q(c)} AS BLOB)), 0)`).join(" + ");
  const [rows, total] = yield* selectOne<[number, number | null]>(
    `SELECT count(*), sum(${bytes}) FROM (SELECT ${plan.columns.map(q).join(", ")} ` + `FROM ${q(plan.name)} LIMIT ${limits.maxRows + 1})`,
  );
  const copyBytes = total ?? 0;
  if (rows <= limits.maxRows && copyBytes <= Math.min(limits.maxBytes, limits.totalBytes) && fitsCopies(plan)) {
    limits.totalBytes -= copyBytes;
    return "copied";
  }
  return plan.virtual ? "live" : "copy-on-write";
}

/** Collations of a WITHOUT ROWID table's key: those of its primary key index, which decide key equality. */
function* primaryKeyCollations(plan: TablePlan): QueryProgram<string[]> {
  const [index] = yield* selectOne<[string]>("SELECT name FROM pragma_index_list(?) WHERE origin = 'pk'", plan.name);
  const terms = yield* selectAll<[string, string]>("SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", index);
  const keyColumns = plan.key.kind === "rowid" ? [] : plan.key.columns;
  return keyColumns.map((column) => terms.find(([name]) => name === column)?.[1] ?? "BINARY");
}

function* triggerContext(plan: TablePlan, state: string): QueryProgram<TriggerContext> {
  const columns = yield* selectAll<[string, number]>("SELECT name, hidden FROM pragma_table_xinfo(?) ORDER BY cid", plan.name);
  const listed = yield* selectAll<[string, string, number, string | null]>(
    `SELECT l.name, l.origin, l.partial, m.sql FROM pragma_index_list(?) AS l ` +
      `LEFT JOIN sqlite_master AS m ON m.type = 'index' AND m.name = l.name WHERE l."unique" = 1`,
    plan.name,
  );
  // A WITHOUT ROWID table's primary key is its key: the key saves cover it.
  const indexes = listed.filter(([, origin]) => !(plan.key.kind === "primaryKey" && origin === "pk"));
  const uniqueIndexes: UniqueIndex[] = [];
  for (const [name, , partial, sql] of indexes) {
    const terms = yield* selectAll<[number, string | null, string]>(
      "SELECT cid, name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
      name,
    );
    const hasExpression = terms.some(([cid]) => cid === -2);
    const texts = hasExpression ? indexTerms(sql ?? "") : [];
    if (hasExpression && texts.length !== terms.length) {
      throw new Error(`table ${plan.name}: cannot read the terms of its UNIQUE index ${name} for a snapshot`);
    }
    uniqueIndexes.push({
      columns: terms.map(([cid, column]) => (cid === -2 ? null : column)),
      terms: terms.map(([cid, column], i) => (cid === -2 ? texts[i] : q(column!))),
      collations: terms.map(([, , coll]) => coll),
      partial: partial === 1,
    });
  }
  return {
    state,
    allColumns: columns.map(([name]) => name),
    generatedColumns: columns.filter(([, hidden]) => hidden === 2 || hidden === 3).map(([name]) => name),
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
  done: number;
  fingerprint: string | null;
  table: SnapshotTable;
}

/** Whether a table exists: pragma_table_list(name) looks it up by name, without scanning sqlite_master. */
function* tableExists(name: string): QueryProgram<boolean> {
  return (yield* selectAll("SELECT 1 FROM pragma_table_list(?) WHERE schema = 'main'", name)).length > 0;
}

function* stateRow(snapshotId: string, tableIndex: number): QueryProgram<StateRow> {
  checkId(snapshotId);
  const state = stateTableName(snapshotId);
  if (!(yield* tableExists(state))) throw new SnapshotError(`snapshot ${snapshotId} no longer exists (it was ended); retry the dump`);
  const rows = yield* selectAll<[number, string | null, string]>(`SELECT done, fingerprint, ref FROM ${q(state)} WHERE t = ?`, tableIndex);
  if (rows.length === 0) throw new SnapshotError(`snapshot ${snapshotId} has no table number ${tableIndex}`);
  const [done, fingerprint, ref] = rows[0];
  return { done, fingerprint, table: JSON.parse(ref) as SnapshotTable };
}

/** The snapshot's record of table `tableIndex`, as beginSnapshot() returned it. */
export function snapshotTable(db: SqlDatabase, snapshotId: string, tableIndex: number): SnapshotTable {
  return runSync(db.sql, stateRow(snapshotId, tableIndex)).table;
}

/**
 * Checks, before a read, that the table, its UNIQUE indexes, the snapshot's triggers and side table are
 * as the snapshot made them. Throws a SnapshotError naming the table otherwise: the file would not be the
 * snapshot. Other indexes may change: they change neither the rows read nor which rows REPLACE deletes.
 */
export function* checkSnapshot(snapshotId: string, tableIndex: number): QueryProgram<SnapshotTable> {
  const { done, fingerprint, table } = yield* stateRow(snapshotId, tableIndex);
  if (done) return table;
  if (table.method === "copied" && !(yield* tableExists(table.side!))) {
    throw new SnapshotError(`table ${q(table.name)}: the snapshot's copy of it is gone; retry the dump`);
  }
  if (fingerprint === null) return table;
  const query = fingerprintQuery(table);
  const [now] = yield* selectOne<[string]>(query.sql, ...query.params);
  if (now !== fingerprint) {
    throw new SnapshotError(
      `table ${q(table.name)} ${schemaChange(JSON.parse(fingerprint), JSON.parse(now), table)} while the dump ` +
        `was running, so the file could not be a snapshot of one instant; retry the dump`,
    );
  }
  return table;
}

export function checkSnapshotSchema(db: SqlDatabase, snapshotId: string, tableIndex: number): SnapshotTable {
  return runSync(db.sql, checkSnapshot(snapshotId, tableIndex));
}

type SchemaEntry = [type: string, name: string, sql: string | null];

/**
 * The table's definition, its UNIQUE indexes, and the snapshot's triggers and side table, as a JSON array of
 * [type, name, sql], by a query: the same text whether it runs among the statements that take the snapshot
 * or before a read.
 */
function fingerprintQuery(table: SnapshotTable): { sql: string; params: string[] } {
  const triggers = table.triggers.map(() => "?").join(", ");
  return {
    sql:
      `SELECT json_group_array(json_array(type, name, sql)) FROM (SELECT type, name, sql FROM sqlite_master ` +
      `WHERE tbl_name IN (?, ?) AND (type = 'table' OR name IN (${triggers}) OR (type = 'index' AND name IN ` +
      `(SELECT name FROM pragma_index_list(?) WHERE "unique" = 1))) ORDER BY type, name)`,
    params: [table.name, table.side!, ...table.triggers, table.name],
  };
}

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

/**
 * Moves table `tableIndex`'s cursor to `after`, the start key of the chunk step in progress, and drops the
 * saved rows at or before it. Call it at the start of every chunk step, before the read, with the same
 * `after` the read uses: the previous step has completed, so no retry reads those rows again, while a
 * retry of this step finds everything it read before. "done", called in the step after a table's last
 * chunk, drops the table's triggers and side table. Repeating a call changes nothing; moving
 * back is refused. Each write is safe alone (D1 runs them one by one): a prune that did not happen leaves
 * rows at or before the cursor, which no read looks at.
 */
export function* moveSnapshot(snapshotId: string, tableIndex: number, after: KeyCursor | null | "done"): QueryProgram<void> {
  const { done, table } = yield* stateRow(snapshotId, tableIndex);
  const state = stateTableName(snapshotId);
  if (after === "done") {
    if (done) return;
    yield* execute(`UPDATE ${q(state)} SET done = 1 WHERE t = ?`, tableIndex);
    // A finished table's triggers and side table go now, so that ending a snapshot of many tables does
    // not drop them all in one call. Triggers first: a trigger whose side table is gone fails every write.
    for (const trigger of table.triggers) yield* execute(`DROP TRIGGER IF EXISTS ${q(trigger)}`);
    if (table.method === "copied" && (yield* tableExists(table.side!))) yield* execute(`DELETE FROM ${q(table.side!)} WHERE t = ?`, tableIndex);
    else if (table.side && table.method !== "copied") yield* execute(`DROP TABLE IF EXISTS ${q(table.side)}`);
    return;
  }
  if (done) throw new SnapshotError(`table ${q(table.name)} was already finished in snapshot ${snapshotId}`);
  if (!table.side) return;
  if (after === null) {
    const [k0] = yield* selectOne<[SqlValue]>(`SELECT k0 FROM ${q(state)} WHERE t = ?`, tableIndex);
    if (k0 !== null) throw new SnapshotError(`table ${q(table.name)}: the snapshot cannot move back to the start`);
    return;
  }
  const compare = compareWithCursor(table, state, after);
  const [direction] = yield* selectOne<[number]>(compare.sql, ...compare.params);
  if (direction === 0) return;
  if (direction < 0) throw new SnapshotError(`table ${q(table.name)}: the snapshot cannot move back before its cursor`);
  for (const statement of moveCursor(table, state, after)) yield* execute(statement.sql, ...statement.params);
}

/**
 * What a chunk step calls first, before its reads: finishes the tables before `tableIndex` (their last
 * chunks are in completed steps) and moves table `tableIndex`'s cursor to `after` (moveSnapshot()).
 */
export function* moveSnapshotTo(snapshotId: string, tableIndex: number, after: KeyCursor | null): QueryProgram<void> {
  checkId(snapshotId);
  const state = stateTableName(snapshotId);
  if (!(yield* tableExists(state))) throw new SnapshotError(`snapshot ${snapshotId} no longer exists (it was ended); retry the dump`);
  const unfinished = yield* selectAll<[number]>(`SELECT t FROM ${q(state)} WHERE t < ? AND done = 0 ORDER BY t`, tableIndex);
  for (const [t] of unfinished) yield* moveSnapshot(snapshotId, t, "done");
  yield* moveSnapshot(snapshotId, tableIndex, after);
}

export function advanceSnapshot(db: SqlDatabase, snapshotId: string, tableIndex: number, after: KeyCursor | null | "done"): void {
  db.transactionSync(() => runSync(db.sql, moveSnapshot(snapshotId, tableIndex, after)));
}

export function advanceSnapshotTo(db: SqlDatabase, snapshotId: string, tableIndex: number, after: KeyCursor | null): void {
  db.transactionSync(() => runSync(db.sql, moveSnapshotTo(snapshotId, tableIndex, after)));
}

/** Whether a tracked table's side table is empty: then no key beyond its cursor was written since the instant. */
export function* sideIsEmpty(table: SnapshotTable): QueryProgram<boolean> {
  if (table.method !== "copy-on-write") return false;
  return (yield* selectAll(`SELECT 1 FROM ${q(table.side!)} LIMIT 1`)).length === 0;
}

/**
 * Where a read of the snapshot finds table `plan`'s rows of the instant. `unwritten` (sideIsEmpty(), read
 * in the same synchronous call as the read) lets a tracked table be read live, without the merge.
 */
export function snapshotRows(plan: TablePlan, table: SnapshotTable, unwritten = false): RowSource {
  if (!readsSnapshot(table) || unwritten) return liveRows(plan);
  return {
    chunkSelect: (after, limit, value) => snapshotChunkSelect(plan, table, after, limit, value),
    // exactKey() reads the first of these rows: the same row the chunk select read, with its key's bytes.
    rowsAfter: (after) => snapshotRowsAfter(plan, table, after, 1),
    largeValueQueries: (column, key) => snapshotLargeValueQueries(plan, table, column, key),
  };
}

/**
 * readChunk() of the snapshot: checks the table's schema, then reads. `atomic` says the program runs in one
 * synchronous call (a Durable Object), so a side table seen empty is still empty at the read, which may
 * then skip the merge; D1 runs each query on its own and always merges.
 */
export function* readSnapshotChunk(request: ChunkRequest, snapshot: { id: string; tableIndex: number }, atomic: boolean): QueryProgram<ChunkResult> {
  const table = yield* checkSnapshot(snapshot.id, snapshot.tableIndex);
  const unwritten = atomic && (yield* sideIsEmpty(table));
  return yield* readChunk(request, snapshotRows(request.table, table, unwritten));
}

// ---- ending and watching ----------------------------------------------------------------------

function* snapshotObjects(snapshotId: string): QueryProgram<Array<{ type: string; name: string }>> {
  const prefix = snapshotObjectPrefix(snapshotId);
  const rows = yield* selectAll<[string, string]>(
    "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'table') AND substr(name, 1, ?) = ? ORDER BY type = 'table'",
    prefix.length,
    prefix,
  );
  return rows.map(([type, name]) => ({ type, name }));
}

/** Drops every object of the snapshot, triggers first. Returns how many it dropped; ending twice drops nothing. */
export function* dropSnapshot(snapshotId: string): QueryProgram<number> {
  checkId(snapshotId);
  const objects = yield* snapshotObjects(snapshotId);
  for (const object of objects) yield* execute(`DROP ${object.type.toUpperCase()} IF EXISTS ${q(object.name)}`);
  return objects.length;
}

export function endSnapshot(db: SqlDatabase, snapshotId: string): number {
  return db.transactionSync(() => runSync(db.sql, dropSnapshot(snapshotId)));
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
 * Approximate bytes of old rows the snapshot has saved since the instant, in the side tables of the
 * tables it tracks (the copies of small tables, taken at the instant and bounded by the copy limits, are
 * not counted): exact up to SAMPLE_ROWS rows per table, estimated from a sample beyond. Cheap: a row count
 * and one sample per tracked table.
 */
export function* heldBytes(snapshotId: string): QueryProgram<number> {
  checkId(snapshotId);
  const state = stateTableName(snapshotId);
  if (!(yield* tableExists(state))) return 0;
  // Only tracked tables have a fingerprint.
  const refs = yield* selectAll<[string]>(`SELECT ref FROM ${q(state)} WHERE done = 0 AND fingerprint IS NOT NULL`);
  let bytes = 0;
  for (const table of refs.map(([ref]) => JSON.parse(ref) as SnapshotTable)) {
    if (!table.side || !(yield* tableExists(table.side))) continue;
    const columns = yield* selectAll<[string]>("SELECT name FROM pragma_table_info(?)", table.side);
    const rowBytes = columns.map(([name]) => `coalesce(length(CAST(${q(name)} AS BLOB)), 0)`).join(" + ");
    const side = q(table.side);
    const [count] = yield* selectOne<[number]>(`SELECT count(*) FROM ${side}`);
    if (count === 0) continue;
    const [rows, sample] = yield* selectOne<[number, number]>(
      `SELECT count(*), sum(${rowBytes}) FROM (SELECT * FROM ${side} LIMIT ${SAMPLE_ROWS})`,
    );
    bytes += Math.round((sample / rows) * count);
  }
  return bytes;
}

export function snapshotHeldBytes(db: SqlDatabase, snapshotId: string): number {
  return runSync(db.sql, heldBytes(snapshotId));
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
