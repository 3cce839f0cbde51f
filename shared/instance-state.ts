// Whether a Durable Object instance holds anything: asked before a dump by id, so that an id nobody
// wrote to is refused instead of dumped empty (and nothing is written to it by asking).

import { userTableNames } from "./dump-plan";
import { runSync, selectAll } from "./query-program";
import { RESTORE_MARKER_PREFIX } from "./restore-record";
import type { SqlHandle } from "./sql-handle";
import { quoteIdentifier } from "./sql-text";

export interface InstanceStorage {
  sql: SqlHandle;
  kv: { list(options?: { prefix?: string; limit?: number }): Iterable<[string, unknown]> };
}

/** No schema and no key: what a Durable Object's storage is before anything was written to it. */
export function isBlank(storage: InstanceStorage): boolean {
  const [[objects]] = storage.sql.exec("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").raw<[number]>();
  return objects === 0 && !holdsKeys(storage);
}

/** A row in some user table, or a key of the application's (a restore's own markers do not count). */
export function holdsData(storage: InstanceStorage): boolean {
  if (holdsKeys(storage)) return true;
  return runSync(storage.sql, userTableNames()).some(
    (name) => runSync(storage.sql, selectAll(`SELECT 1 FROM ${quoteIdentifier(name)} LIMIT 1`)).length > 0,
  );
}

function holdsKeys(storage: InstanceStorage): boolean {
  for (const [key] of storage.kv.list()) if (!key.startsWith(RESTORE_MARKER_PREFIX)) return true;
  return false;
}
