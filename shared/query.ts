// The /query API's work on a database: one statement, or several in one transaction. SQL errors
// come back as values so that the API can tell them from failures of the call itself.

import { messageOf } from "./error-message";
import type { SqlDatabase, SqlHandle, SqlValue } from "./sql-handle";

export type SqlParam = string | number | null;
export type QueryRow = Record<string, unknown>;
export type QueryOutcome<T> = { result: T; error: null } | { result: null; error: string };

export interface Statement {
  sql: string;
  params?: SqlParam[];
}

export function runStatement(sql: SqlHandle, statement: Statement): QueryOutcome<QueryRow[]> {
  return outcomeOf(() => rowsOf(sql, statement));
}

/** All statements or none. */
export function runTransaction(db: SqlDatabase, statements: Statement[]): QueryOutcome<QueryRow[][]> {
  return outcomeOf(() => db.transactionSync(() => statements.map((s) => rowsOf(db.sql, s))));
}

function outcomeOf<T>(work: () => T): QueryOutcome<T> {
  try {
    return { result: work(), error: null };
  } catch (error) {
    return { result: null, error: messageOf(error) };
  }
}

function rowsOf(sql: SqlHandle, statement: Statement): QueryRow[] {
  return sql.exec(statement.sql, ...(statement.params ?? [])).toArray().map(jsonFriendlyRow);
}

/** BLOBs become arrays of byte values, as D1 returns them. */
export function jsonFriendlyRow(row: Record<string, SqlValue>): QueryRow {
  const out: QueryRow = {};
  for (const [name, value] of Object.entries(row)) {
    out[name] = value instanceof ArrayBuffer ? Array.from(new Uint8Array(value)) : value;
  }
  return out;
}
