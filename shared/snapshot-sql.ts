// SQL text of a copy-on-write snapshot: the side tables, the triggers that fill them, and the reads that
// merge them with the live rows. Pure: shared/snapshot.ts runs it against a database.
//
// Invariant kept by the triggers: for a key k of table T beyond T's dump cursor, if k is not in T's side
// table then T's current row for k is its row at the snapshot instant. So "save k" (record k's current
// state, its row or "absent", unless k is recorded already) is correct at any time while k is beyond the
// cursor, and a read of the keys after the cursor is: live rows not in the side table, plus the side
// table's present rows. Small tables, and virtual tables (which cannot have triggers), are copied whole
// at the instant instead.

import { chunkSelect, insertColumns, largeValueQueries, type ValueExpression } from "./dump-sql";
import { realLiteral } from "./real-literal";
import { literalOf, quoteIdentifier as q } from "./sql-text";
import type { KeyCursor, TablePlan } from "./types";

/** Every object of a snapshot is named with this prefix; the plan of a dump never includes them. */
export const SNAPSHOT_PREFIX = "_dumpsnap_";

/** How a table's rows are read as of the snapshot instant. */
export type SnapshotMethod =
  | "copy-on-write" // triggers save a row's image before it first changes
  | "copied" // small enough to copy whole at the instant
  | "live" // a virtual table too large to copy: read as it is when each chunk is read, NOT a snapshot
  | "rebuilt" // external-content FTS: rebuilt on restore from its content table, which is snapshotted
  | "no-content"; // contentless FTS: no rows are read back

/** What a snapshot knows about one table: JSON, recorded in the snapshot's state table. */
export interface SnapshotTable {
  index: number;
  name: string;
  method: SnapshotMethod;
  /**
   * The side table: saved images (copy-on-write), or the snapshot's one table of copies (copied: its rows
   * with t = index, key in k0…, columns in c0…); null for the other methods.
   */
  side: string | null;
  /** The table's key columns (its rowid name for rowid tables) and the collation of each. */
  keyColumns: string[];
  collations: string[];
  /** The side table's key columns: one integer for rowid tables, the table's own key columns otherwise (k0… in the copies). */
  sideKeyColumns: string[];
  /** Side column that is 1 for a saved row and 0 for a key that did not exist at the instant. */
  presentColumn: string;
  /** Names of this snapshot's triggers on the table. */
  triggers: string[];
}

/** A UNIQUE index of a table: REPLACE deletes the rows that conflict on it without firing DELETE triggers. */
export interface UniqueIndex {
  /** Per indexed term: a column name, or null for an expression. */
  columns: (string | null)[];
  /** Per term: the SQL text over the table's column names. */
  terms: string[];
  collations: string[];
  partial: boolean;
}

/** What the triggers need to know about a table beyond its plan. */
export interface TriggerContext {
  state: string;
  /** Every column of the table, generated ones included (index expressions may use them). */
  allColumns: string[];
  /** Columns that are generated: an UPDATE OF list never names them. */
  generatedColumns: string[];
  uniqueIndexes: UniqueIndex[];
}

export function snapshotObjectPrefix(snapshotId: string): string {
  return `${SNAPSHOT_PREFIX}${snapshotId}_`;
}

export function stateTableName(snapshotId: string): string {
  return `${snapshotObjectPrefix(snapshotId)}state`;
}

/** Columns of the state table holding a table's cursor: k0, k1, ... */
export function cursorColumns(width: number): string[] {
  return Array.from({ length: width }, (_, i) => `k${i}`);
}

/** A name that is none of `taken` (compared case-insensitively, as SQLite does). */
export function freshName(base: string, taken: string[]): string {
  const used = new Set(taken.map((n) => n.toLowerCase()));
  let name = base;
  for (let i = 2; used.has(name.toLowerCase()); i++) name = `${base}${i}`;
  return name;
}

const tuple = (items: string[]) => (items.length === 1 ? items[0] : `(${items.join(", ")})`);
const qualified = (alias: string, columns: string[]) => columns.map((c) => `${alias}.${q(c)}`);
const collated = (expressions: string[], collations: string[]) =>
  expressions.map((e, i) => `${e} COLLATE ${q(collations[i])}`);

/** `a = b` for every pair, compared with the key's collations. */
function keysEqual(left: string[], right: string[], collations: string[]): string {
  return collated(left, collations)
    .map((l, i) => `${l} = ${right[i]}`)
    .join(" AND ");
}

/** True while `keys` (expressions) lie beyond the table's cursor and the table is not finished. */
function beyondCursor(table: SnapshotTable, state: string, keys: string[]): string {
  const cursor = qualified("s", cursorColumns(keys.length));
  return (
    `(SELECT s.done = 0 AND (s.k0 IS NULL OR ${tuple(collated(keys, table.collations))} > ${tuple(cursor)}) ` +
    `FROM ${q(state)} AS s WHERE s.t = ${table.index})`
  );
}

/** A Durable Object refuses tables of more columns. */
export const MAX_TABLE_COLUMNS = 100;

/** True while the table is not finished: the rows a write touches may still be read. */
function tableActive(table: SnapshotTable, state: string): string {
  return `(SELECT s.done = 0 FROM ${q(state)} AS s WHERE s.t = ${table.index})`;
}

/** Columns of the side table: its key (rowid tables), the present flag, then the row's columns. */
export function sideColumns(table: SnapshotTable, plan: TablePlan): string[] {
  const key = plan.key.kind === "rowid" ? table.sideKeyColumns : [];
  return [...key, table.presentColumn, ...plan.columns];
}

export function createSideTable(table: SnapshotTable, plan: TablePlan): string {
  // No declared types: no affinity rewrites a saved value. Key columns keep the table key's collations.
  const columns = sideColumns(table, plan).map((c) => {
    const keyAt = table.sideKeyColumns.indexOf(c);
    if (keyAt < 0) return q(c);
    return plan.key.kind === "rowid" ? `${q(c)} INTEGER PRIMARY KEY` : `${q(c)} COLLATE ${q(table.collations[keyAt])}`;
  });
  const key = plan.key.kind === "rowid" ? "" : `, PRIMARY KEY(${table.sideKeyColumns.map(q).join(", ")})`;
  return `CREATE TABLE ${q(table.side!)}(${columns.join(", ")}${key})${plan.key.kind === "rowid" ? "" : " WITHOUT ROWID"}`;
}

/** Key columns a copied table may have: its key and columns share the copies table's 100 columns. */
export const MAX_COPIED_KEY_COLUMNS = 8;

/** The snapshot's one table of copies. Small tables go there rather than into tables of their own:
 * creating and dropping thousands of tables takes SQLite seconds (each changes the schema). */
export function copiesTableName(snapshotId: string): string {
  return `${snapshotObjectPrefix(snapshotId)}copies`;
}

/** Whether a table's rows fit a row of the copies table. */
export function fitsCopies(plan: TablePlan): boolean {
  const keys = plan.key.kind === "rowid" ? 1 : plan.key.columns.length;
  return keys <= MAX_COPIED_KEY_COLUMNS && 1 + MAX_COPIED_KEY_COLUMNS + plan.columns.length <= MAX_TABLE_COLUMNS;
}

/** The copies table (no declared types, so no affinity rewrites a value) and its index by table and key. */
export function createCopiesTable(name: string, keyWidth: number, valueWidth: number): string[] {
  const keys = cursorColumns(keyWidth);
  const values = Array.from({ length: valueWidth }, (_, i) => `c${i}`);
  return [`CREATE TABLE ${q(name)}(t INTEGER NOT NULL, ${[...keys, ...values].join(", ")})`, `CREATE INDEX ${q(`${name}_key`)} ON ${q(name)}(t, ${keys.join(", ")})`];
}

/** Copies a whole table into the copies table. */
export function copyRows(table: SnapshotTable, plan: TablePlan): string {
  const keys = table.keyColumns.map((_, j) => `k${j}`);
  const values = plan.columns.map((_, i) => `c${i}`);
  const selected = [String(table.index), ...qualified("r", table.keyColumns), ...qualified("r", plan.columns)];
  return `INSERT INTO ${q(table.side!)}(t, ${[...keys, ...values].join(", ")}) SELECT ${selected.join(", ")} FROM ${q(plan.name)} AS r`;
}

/**
 * INSERT INTO the side table unless the key is there already. Not INSERT OR IGNORE: inside a trigger,
 * the conflict clause of the statement that fired it (REPLACE, or a foreign key action's) overrides ours.
 */
function insertUnsaved(table: SnapshotTable, columns: string[], values: string[], from: string, keys: string[], where: string): string {
  const saved = `EXISTS (SELECT 1 FROM ${q(table.side!)} AS x WHERE ${keysEqual(qualified("x", table.sideKeyColumns), keys, table.collations)})`;
  return `INSERT INTO ${q(table.side!)}(${columns.map(q).join(", ")}) SELECT ${values.join(", ")}${from} WHERE ${where} AND NOT ${saved};`;
}

/** Side columns and values that save the row `alias` (r: the table's row, OLD: the trigger's). */
function image(table: SnapshotTable, plan: TablePlan, alias: string): { columns: string[]; values: string[] } {
  const key = plan.key.kind === "rowid" ? [`${alias}.${q(table.keyColumns[0])}`] : [];
  return { columns: sideColumns(table, plan), values: [...key, "1", ...qualified(alias, plan.columns)] };
}

/**
 * Saves the current state of the keys `keys` (expressions, e.g. NEW."id") when they lie beyond the
 * cursor: the row if there is one, else "absent".
 */
function saveKeys(table: SnapshotTable, plan: TablePlan, state: string, keys: string[], extraGuard = ""): string {
  const guard = `${extraGuard}${beyondCursor(table, state, keys)}`;
  const row = image(table, plan, "r");
  const match = keysEqual(qualified("r", table.keyColumns), keys, table.collations);
  const saveRow = insertUnsaved(table, row.columns, row.values, ` FROM ${q(plan.name)} AS r`, keys, `${match} AND ${guard}`);
  const absent = insertUnsaved(table, [...table.sideKeyColumns, table.presentColumn], [...keys, "0"], "", keys, guard);
  return `${saveRow}\n  ${absent}`;
}

/** Saves the image of the row being updated or deleted, from OLD (it is the current row), when `guard` holds. */
function saveOld(table: SnapshotTable, plan: TablePlan, guard = "1"): string {
  const row = image(table, plan, "OLD");
  return insertUnsaved(table, row.columns, row.values, "", qualified("OLD", table.keyColumns), guard);
}

/**
 * Saves the rows beyond the cursor that conflict with NEW on a UNIQUE index: INSERT OR REPLACE and
 * UPDATE OR REPLACE delete them without firing DELETE triggers (recursive_triggers is off).
 */
function saveUniqueConflicts(table: SnapshotTable, plan: TablePlan, context: TriggerContext): string[] {
  const newRow = context.allColumns.map((c) => `NEW.${q(c)} AS ${q(c)}`).join(", ");
  const row = image(table, plan, "r");
  const rowKeys = qualified("r", table.keyColumns);
  return context.uniqueIndexes.map((index) => {
    const match = index.terms.map((term, i) => {
      const column = index.columns[i];
      if (column !== null) return `r.${q(column)} COLLATE ${q(index.collations[i])} = NEW.${q(column)}`;
      // An expression over the table's columns: evaluate it on r, and on NEW through a one-row subquery.
      return `(${term}) = (SELECT ${term} FROM (SELECT ${newRow}))`;
    });
    const where = `${match.join(" AND ")} AND ${beyondCursor(table, context.state, rowKeys)}`;
    return insertUnsaved(table, row.columns, row.values, ` FROM ${q(plan.name)} AS r`, rowKeys, where);
  });
}

export type TriggerRole = "delete" | "update" | "updateUnique" | "insert" | "afterInsert";

export function triggerName(snapshotId: string, index: number, role: TriggerRole): string {
  const suffix = { delete: "d", update: "u", updateUnique: "uu", insert: "i", afterInsert: "ai" }[role];
  return `${snapshotObjectPrefix(snapshotId)}${index}_${suffix}`;
}

/** Roles of the triggers a copy-on-write table gets. */
export function triggerRoles(context: TriggerContext): TriggerRole[] {
  const roles: TriggerRole[] = ["delete", "update", "insert", "afterInsert"];
  return context.uniqueIndexes.length > 0 ? [...roles, "updateUnique"] : roles;
}

/** The CREATE TRIGGER statement for one role. */
export function createTrigger(
  snapshotId: string,
  table: SnapshotTable,
  plan: TablePlan,
  context: TriggerContext,
  role: TriggerRole,
): string {
  const name = q(triggerName(snapshotId, table.index, role));
  const on = q(plan.name);
  const oldKey = qualified("OLD", table.keyColumns);
  const newKey = qualified("NEW", table.keyColumns);
  const state = context.state;
  const body = (statements: string[]) => `BEGIN\n  ${statements.join("\n  ")}\nEND`;
  switch (role) {
    case "delete":
      return `CREATE TRIGGER ${name} BEFORE DELETE ON ${on} FOR EACH ROW WHEN ${beyondCursor(table, state, oldKey)} ${body([saveOld(table, plan)])}`;
    case "update": {
      // A key change also saves the target key: a row there may be replaced, or appear.
      const keyChanged = `${tuple(newKey)} IS NOT ${tuple(oldKey)} AND `;
      const when = `${beyondCursor(table, state, oldKey)} OR ${beyondCursor(table, state, newKey)}`;
      return `CREATE TRIGGER ${name} BEFORE UPDATE ON ${on} FOR EACH ROW WHEN ${when} ${body([
        saveOld(table, plan, beyondCursor(table, state, oldKey)),
        saveKeys(table, plan, state, newKey, keyChanged),
      ])}`;
    }
    case "updateUnique": {
      const of = updateOfColumns(context);
      const target = of ? `UPDATE OF ${of.map(q).join(", ")}` : "UPDATE";
      return `CREATE TRIGGER ${name} BEFORE ${target} ON ${on} FOR EACH ROW WHEN ${tableActive(table, state)} ${body(saveUniqueConflicts(table, plan, context))}`;
    }
    case "insert":
      return `CREATE TRIGGER ${name} BEFORE INSERT ON ${on} FOR EACH ROW WHEN ${tableActive(table, state)} ${body([
        saveKeys(table, plan, state, newKey),
        ...saveUniqueConflicts(table, plan, context),
      ])}`;
    case "afterInsert": {
      // In BEFORE INSERT an automatic rowid is still unknown (-1): record the new key as absent here.
      const absent = insertUnsaved(table, [...table.sideKeyColumns, table.presentColumn], [...newKey, "0"], "", newKey, "1");
      return `CREATE TRIGGER ${name} AFTER INSERT ON ${on} FOR EACH ROW WHEN ${beyondCursor(table, state, newKey)} ${body([absent])}`;
    }
  }
}

/**
 * The columns an UPDATE must name to change a UNIQUE index's terms, or null when that cannot be known
 * (expressions, partial indexes, generated columns): then every UPDATE checks for conflicts.
 */
function updateOfColumns(context: TriggerContext): string[] | null {
  const generated = new Set(context.generatedColumns.map((c) => c.toLowerCase()));
  const columns = new Set<string>();
  for (const index of context.uniqueIndexes) {
    if (index.partial) return null;
    for (const column of index.columns) {
      if (column === null || generated.has(column.toLowerCase())) return null;
      columns.add(column);
    }
  }
  return [...columns];
}

// ---- reads ------------------------------------------------------------------------------------

/** SQL for the values of a key position: literals as they are, REAL values as parameters appended to `params`. */
function keyBounds(position: KeyCursor, params: number[]): string[] {
  return position.map((value) => {
    if (typeof value !== "number") return value;
    params.push(value);
    return "?";
  });
}

/** `keys > after` in the key's collations. */
function afterCondition(keys: string[], collations: string[], after: KeyCursor | null, params: number[]): string {
  if (!after) return "1";
  return `${tuple(collated(keys, collations))} > ${tuple(keyBounds(after, params))}`;
}

/** Names the merged rows carry: the key columns, then the inserted columns not already among them. */
function mergedColumns(table: SnapshotTable, plan: TablePlan): string[] {
  const names = [...table.keyColumns];
  for (const c of insertColumns(plan)) if (!names.includes(c)) names.push(c);
  return names;
}

/** Where a merged column comes from in the side table (or the copies table). */
function sideSource(table: SnapshotTable, plan: TablePlan, column: string): string {
  if (table.method === "copied") {
    const key = table.keyColumns.indexOf(column);
    return key >= 0 ? `x.k${key}` : `x.c${plan.columns.indexOf(column)}`;
  }
  return plan.key.kind === "rowid" && column === table.keyColumns[0] ? `x.${q(table.sideKeyColumns[0])}` : `x.${q(column)}`;
}

/** The side table's rows that belong to the instant: the saved present rows, or this table's copies. */
function savedRows(table: SnapshotTable): string {
  return table.method === "copied" ? `x.t = ${table.index}` : `x.${q(table.presentColumn)} = 1`;
}

function notSaved(table: SnapshotTable, keys: string[]): string {
  const sideKeys = qualified("x", table.sideKeyColumns);
  return `NOT EXISTS (SELECT 1 FROM ${q(table.side!)} AS x WHERE ${keysEqual(sideKeys, keys, table.collations)})`;
}

/**
 * Live rows whose key is not saved, and the saved rows (a copied table: its copies alone), with a key after
 * `after`, as one compound SELECT in key order: SQLite merges the arms, each read in key order, and stops at
 * the limit, without sorting. `select` gives what each arm selects from a column's source expression;
 * `keyAt` the 1-based positions of the raw key among them.
 */
function mergedSelect(
  plan: TablePlan,
  table: SnapshotTable,
  after: KeyCursor | null,
  limit: number,
  select: (source: (column: string) => string) => string[],
  keyAt: number[],
): { sql: string; params: number[] } {
  const sideKeys = qualified("x", table.sideKeyColumns);
  const savedParams: number[] = [];
  const liveParams: number[] = [];
  const saved =
    `SELECT ${select((c) => sideSource(table, plan, c)).join(", ")} ` +
    `FROM ${q(table.side!)} AS x WHERE ${savedRows(table)} AND ${afterCondition(sideKeys, table.collations, after, savedParams)}`;
  const liveKeys = qualified("r", table.keyColumns);
  const live =
    `SELECT ${select((c) => `r.${q(c)}`).join(", ")} FROM ${q(plan.name)} AS r ` +
    `WHERE ${afterCondition(liveKeys, table.collations, after, liveParams)} AND ${notSaved(table, liveKeys)}`;
  // A copied table is read from its copy alone: live rows are newer than the instant.
  const copied = table.method === "copied";
  const source = copied ? saved : `${live} UNION ALL ${saved}`;
  const order = keyAt.map((position, i) => `${position} COLLATE ${q(table.collations[i])}`);
  return { sql: `${source} ORDER BY ${order.join(", ")} LIMIT ${Math.max(1, Math.floor(limit))}`, params: copied ? savedParams : [...liveParams, ...savedParams] };
}

/**
 * The snapshot's version of rowsAfter(): `FROM … ORDER BY key` over the rows of the instant with a key
 * after `after` (at most `limit` of them), each named by its columns.
 */
export function snapshotRowsAfter(
  plan: TablePlan,
  table: SnapshotTable,
  after: KeyCursor | null,
  limit: number,
): { from: string; params: number[] } {
  const columns = mergedColumns(table, plan);
  const keyAt = table.keyColumns.map((_, i) => i + 1); // mergedColumns() starts with the key
  const { sql, params } = mergedSelect(plan, table, after, limit, (source) => columns.map((c) => `${source(c)} AS ${q(c)}`), keyAt);
  const order = collated(qualified("m", table.keyColumns), table.collations).join(", ");
  return { from: `FROM (${sql}) AS m ORDER BY ${order}`, params };
}

/** Whether the table's reads go through the snapshot's side table (else they read the live table). */
export function readsSnapshot(table: SnapshotTable): boolean {
  return table.method === "copy-on-write" || table.method === "copied";
}

/**
 * The snapshot's version of chunkSelect(): the rows of the instant with a key after `after`, in key order,
 * as key literals then one `value` expression (by default the literal) per inserted column, then the raw
 * key, which the order needs.
 */
export function snapshotChunkSelect(
  plan: TablePlan,
  table: SnapshotTable,
  after: KeyCursor | null,
  limit: number,
  value: ValueExpression = literalOf,
): { sql: string; params: number[]; keyWidth: number; trailing?: number } {
  if (!readsSnapshot(table)) return chunkSelect(plan, after, limit, value);
  const inserted = insertColumns(plan);
  const keyWidth = table.keyColumns.length;
  const select = (source: (column: string) => string) => [
    ...table.keyColumns.map((c) => literalOf(source(c))),
    ...inserted.map((c, i) => value(source(c), i)),
    ...table.keyColumns.map(source),
  ];
  const keyAt = table.keyColumns.map((_, i) => keyWidth + inserted.length + i + 1);
  const { sql, params } = mergedSelect(plan, table, after, limit, select, keyAt);
  return { sql, params, keyWidth, trailing: keyWidth };
}

/** SQL literal of one key value, as keyMatch() in dump-sql writes it. */
const keyLiteral = (value: string | number) => (typeof value === "number" ? realLiteral(value) : value);

/**
 * The snapshot's version of largeValueQueries(): `info` gives the type and byte length of a value that the
 * chunk read left NULL for being large, `piece` (bound to start and length) one slice of it as hex,
 * both read from the saved row when the key is saved and from the live row otherwise.
 */
export function snapshotLargeValueQueries(
  plan: TablePlan,
  table: SnapshotTable,
  column: string,
  key: KeyCursor,
): { info: string; piece: string } {
  if (!readsSnapshot(table)) return largeValueQueries(plan, column, key);
  const literals = key.map(keyLiteral);
  const sideKeys = qualified("x", table.sideKeyColumns);
  const saved =
    `SELECT ${sideSource(table, plan, column)} AS v FROM ${q(table.side!)} AS x ` +
    `WHERE ${savedRows(table)} AND ${keysEqual(sideKeys, literals, table.collations)}`;
  const liveKeys = qualified("r", table.keyColumns);
  const live =
    `SELECT r.${q(column)} FROM ${q(plan.name)} AS r ` +
    `WHERE ${keysEqual(liveKeys, literals, table.collations)} AND ${notSaved(table, liveKeys)}`;
  const from = `FROM (${table.method === "copied" ? saved : `${saved} UNION ALL ${live}`})`;
  return {
    info: `SELECT typeof(v) AS type, length(CAST(v AS BLOB)) AS bytes ${from}`,
    piece: `SELECT hex(substr(CAST(v AS BLOB), ?, ?)) AS piece ${from}`,
  };
}

// ---- cursor -----------------------------------------------------------------------------------

/** How `after` compares with the recorded cursor: 1 beyond it (or none recorded), 0 equal, -1 before. */
export function compareWithCursor(table: SnapshotTable, state: string, after: KeyCursor): { sql: string; params: number[] } {
  const params: number[] = [];
  const cursor = tuple(qualified("s", cursorColumns(after.length)));
  const beyond = `${tuple(collated(keyBounds(after, params), table.collations))} > ${cursor}`;
  const equal = `${tuple(collated(keyBounds(after, params), table.collations))} = ${cursor}`;
  return {
    sql:
      `SELECT CASE WHEN s.k0 IS NULL OR ${beyond} THEN 1 WHEN ${equal} THEN 0 ELSE -1 END AS direction ` +
      `FROM ${q(state)} AS s WHERE s.t = ${table.index}`,
    params,
  };
}

/** Records the cursor and drops the saved rows at or before it: no step will read them again. */
export function moveCursor(table: SnapshotTable, state: string, after: KeyCursor): { sql: string; params: number[] }[] {
  const setParams: number[] = [];
  const set = keyBounds(after, setParams).map((bound, i) => `k${i} = ${bound}`);
  const pruneParams: number[] = [];
  const sideKeys = tuple(collated(table.sideKeyColumns.map(q), table.collations));
  return [
    { sql: `UPDATE ${q(state)} SET ${set.join(", ")} WHERE t = ${table.index}`, params: setParams },
    {
      // The copies table holds every copied table: prune this one's rows only.
      sql: `DELETE FROM ${q(table.side!)} WHERE ${table.method === "copied" ? `t = ${table.index} AND ` : ""}${sideKeys} <= ${tuple(keyBounds(after, pruneParams))}`,
      params: pruneParams,
    },
  ];
}
