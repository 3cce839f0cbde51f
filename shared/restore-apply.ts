// Applying a restore to its target database, one batch of statements per call. Each batch runs in
// one transaction together with the target's own record of how far the restore has got (a marker in
// db.kv), so that a retried batch does nothing and a batch out of order is refused.

import { userTableNames } from "./dump-plan";
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
    if (position === batch.to) return { status: "already-applied" };
    if (position !== batch.from) {
      const where = position === undefined ? "has no record of this restore" : `is at byte ${position}`;
      return { status: "failed", index: -1, message: `the batch starts at byte ${batch.from} but the target ${where}` };
    }
    let index = -1;
    let executed = 0;
    try {
      db.transactionSync(() => {
        for (index = 0; index < batch.statements.length; index++) {
          const statement = batch.statements[index];
          if (statement.onlyIfTableExists && !runSync(db.sql, tableExists(statement.onlyIfTableExists))) continue;
          // Read every cursor to its end: a statement left half-read breaks the next one.
          for (const _row of db.sql.exec(statement.sql)) void _row;
          executed++;
        }
        index = -1;
        db.kv.put(key, batch.to);
      });
      return { status: "applied", statements: executed };
    } catch (error) {
      return { status: "failed", index, message: messageOf(error) };
    }
  };
  if (batch.foreignKeys) return run();
  return withoutForeignKeys(db.sql, access, run, (message) => ({ status: "failed", index: -1, message }));
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
