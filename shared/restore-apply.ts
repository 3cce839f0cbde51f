// Applying a restore to its target database, one batch of statements per call. Each batch runs in
// one transaction together with the target's own record of how far the restore has got (a marker in
// db.kv), so that a retried batch does nothing and a batch that would leave a gap is refused.

import { userTableNames } from "./dump-plan";
import { MAX_STATEMENT_BYTES } from "./dump-sql";
import { messageOf } from "./error-message";
import { runSync, selectAll, selectOne, type QueryProgram } from "./query-program";
import { restoreMarkerKey, type ApplyOutcome, type BeginOutcome, type RestoreBatch, type RestoreMode } from "./restore-record";
import { isInternalObject } from "./schema-order";
import type { SqlDatabase, SqlHandle } from "./sql-handle";
import { quoteIdentifier } from "./sql-text";

/** What only the runtime can do for a restore that turns foreign keys off. */
export interface ExclusiveAccess {
  /** Runs `work` with no other event on this database in between (a Durable Object's blockConcurrencyWhile). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Resolves once the writes made so far are committed (a Durable Object's storage.sync()). */
  flush(): Promise<void>;
}

/** User tables (plain and virtual) and views; internal, platform and FTS shadow tables do not count. */
export function* userObjectCount(): QueryProgram<number> {
  const tables = (yield* userTableNames()).length;
  const [views] = yield* selectOne<[number]>("SELECT count(*) FROM sqlite_master WHERE type = 'view'");
  return tables + views;
}

/**
 * Readies the database for restore `restoreId`: mode "empty" checks that it has no user tables
 * or views, mode "replace" drops them all. Records position 0, so a retried call does nothing.
 */
export async function beginRestore(db: SqlDatabase, access: ExclusiveAccess, restoreId: string, mode: RestoreMode): Promise<BeginOutcome> {
  const key = restoreMarkerKey(restoreId);
  if (db.kv.get(key) !== undefined) return { ok: true, dropped: 0 };
  if (mode === "empty") {
    const count = runSync(db.sql, userObjectCount());
    if (count > 0) {
      return { ok: false, reason: `the target database has ${count} tables or views; restore with mode "replace" to drop them first` };
    }
    db.kv.put(key, 0);
    return { ok: true, dropped: 0 };
  }
  return withoutForeignKeys(db.sql, access, (): BeginOutcome => {
    const dropped = db.transactionSync(() => {
      const count = runSync(db.sql, dropUserObjects());
      db.kv.put(key, 0);
      return count;
    });
    return { ok: true, dropped };
  }, (reason) => ({ ok: false, reason }));
}

/**
 * Runs one batch in one transaction: all of it or none. The position recorded with it makes a
 * retried batch a no-op and refuses batches out of order.
 */
export async function applyStatements(db: SqlDatabase, access: ExclusiveAccess, batch: RestoreBatch): Promise<ApplyOutcome> {
  const run = (): ApplyOutcome => {
    const key = restoreMarkerKey(batch.restoreId);
    const position = db.kv.get<number>(key);
    // Batches are applied in file order, so a target past this batch's end has applied it (a retried step).
    if (position !== undefined && position >= batch.to) return { status: "already-applied" };
    if (position !== batch.from) {
      const where = position === undefined ? "has no record of this restore" : `is at byte ${position}`;
      return { status: "failed", index: -1, message: `the batch starts at byte ${batch.from} but the target ${where}` };
    }
    let index = -1;
    const attempt = (grouped: boolean): ApplyOutcome => {
      const executed = db.transactionSync(() => {
        const count = runStatements(db.sql, batch.statements, grouped, (at) => (index = at));
        db.kv.put(key, batch.to);
        return count;
      });
      return { status: "applied", statements: executed };
    };
    try {
      return attempt(true);
    } catch {
      // The transaction rolled back; one statement per call now tells which statement fails.
      try {
        return attempt(false);
      } catch (error) {
        return { status: "failed", index, message: messageOf(error) };
      }
    }
  };
  if (batch.foreignKeys) return run();
  return withoutForeignKeys(db.sql, access, run, (message) => ({ status: "failed", index: -1, message }));
}

/**
 * Runs the statements in order and returns how many ran. Grouped, several share one exec() call,
 * which costs more than a small INSERT (a 4 MiB slice of small rows: 2.8 s instead of 4 s).
 */
function runStatements(sql: SqlHandle, statements: RestoreBatch["statements"], grouped: boolean, at: (index: number) => void): number {
  let group = "";
  let executed = 0;
  const flush = () => {
    // Read every cursor to its end: a statement left half-read breaks the next one.
    if (group) for (const _row of sql.exec(group)) void _row;
    group = "";
  };
  for (let index = 0; index < statements.length; index++) {
    const statement = statements[index];
    at(index);
    if (statement.onlyIfTableExists) {
      flush();
      if (!runSync(sql, tableExists(statement.onlyIfTableExists))) continue;
    }
    // A call's text stays under the statement limit (UTF-16 length × 3 bounds its UTF-8 bytes). A
    // statement with "--" runs alone: a trailing comment would hide the `;` after it. Nothing may
    // come before the `;`, since SQLite keeps a CREATE's text up to it.
    const joined = `${group};\n${statement.sql}`;
    const alone = statement.sql.includes("--") || group.includes("--");
    if (group && grouped && !alone && joined.length * 3 <= MAX_STATEMENT_BYTES) group = joined;
    else {
      flush();
      group = statement.sql;
    }
    if (!grouped || statement.onlyIfTableExists) flush();
    executed++;
  }
  flush();
  at(-1);
  return executed;
}

/** Forgets a finished or failed restore's position. */
export function endRestore(db: SqlDatabase, restoreId: string): void {
  db.kv.delete(restoreMarkerKey(restoreId));
}

function* tableExists(name: string): QueryProgram<boolean> {
  return (yield* selectAll("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name)).length > 0;
}

/** Drops every user trigger, view and table (virtual tables take their shadow tables with them). */
export function* dropUserObjects(): QueryProgram<number> {
  const objects = (
    yield* selectAll<[string, string, string]>(
      "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY type = 'view'",
    )
  ).filter(([, name, tableName]) => !isInternalObject({ name, tableName }));
  const tables = yield* userTableNames();
  for (const [type, name] of objects) yield* selectAll(`DROP ${type.toUpperCase()} IF EXISTS ${quoteIdentifier(name)}`);
  for (const name of tables) yield* selectAll(`DROP TABLE IF EXISTS ${quoteIdentifier(name)}`);
  return objects.length + tables.length;
}

/**
 * Runs `work` with foreign keys off, as sqlite3 reads a .dump (which starts with
 * PRAGMA foreign_keys=OFF): a file may insert children before their parents, in different steps.
 * Durable Objects enforce foreign keys when each event's implicit transaction commits, and the
 * pragma changes nothing inside a transaction, so: no other event runs meanwhile, the pragma comes
 * before any write, and enforcement is restored after the writes are committed by flush().
 */
async function withoutForeignKeys<T>(sql: SqlHandle, access: ExclusiveAccess, work: () => T, refused: (reason: string) => T): Promise<T> {
  return access.exclusive(async () => {
    sql.exec("PRAGMA foreign_keys=OFF");
    if (foreignKeysEnforced(sql)) return refused("foreign keys could not be turned off for the restore");
    try {
      return work();
    } finally {
      await access.flush();
      sql.exec("PRAGMA foreign_keys=ON");
      if (!foreignKeysEnforced(sql)) console.error(JSON.stringify({ event: "foreign_keys_not_restored" }));
    }
  });
}

function foreignKeysEnforced(sql: SqlHandle): boolean {
  return sql.exec<{ foreign_keys: number }>("PRAGMA foreign_keys").one().foreign_keys === 1;
}
