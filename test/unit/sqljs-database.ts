// sql.js behind the core's SqlDatabase interface, so that the core runs in Node exactly as it runs
// inside a Durable Object.

import type { Database } from "sql.js";
import type { SqlCursor, SqlDatabase, SqlValue } from "../../shared/sql-handle";
import { openDatabase } from "./sqljs";

type Row = Record<string, SqlValue>;

function toSqlValue(value: unknown): SqlValue {
  if (value instanceof Uint8Array) return value.slice().buffer;
  return value as SqlValue;
}

function toBinding(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

/** Runs every statement of `query`, like the Durable Object's exec, and returns the last one's rows. */
function execAll(db: Database, query: string, bindings: unknown[]): { columns: string[]; rows: SqlValue[][] } {
  let columns: string[] = [];
  let rows: SqlValue[][] = [];
  if (bindings.length === 0) {
    for (const statement of db.iterateStatements(query)) {
      try {
        columns = statement.getColumnNames();
        rows = [];
        while (statement.step()) rows.push(statement.get().map(toSqlValue));
      } finally {
        statement.free();
      }
    }
    return { columns, rows };
  }
  const statement = db.prepare(query);
  try {
    statement.bind(bindings.map(toBinding) as never);
    columns = statement.getColumnNames();
    while (statement.step()) rows.push(statement.get().map(toSqlValue));
  } finally {
    statement.free();
  }
  return { columns, rows };
}

function cursorOf<T>(columns: string[], rows: SqlValue[][]): SqlCursor<T> {
  const objects = () =>
    rows.map((values) => Object.fromEntries(columns.map((name, i) => [name, values[i]])) as T);
  return {
    toArray: objects,
    one() {
      if (rows.length !== 1) throw new Error(`Expected exactly one result from SQL query, but got ${rows.length}.`);
      return objects()[0];
    },
    raw<U extends SqlValue[]>() {
      return (rows as U[])[Symbol.iterator]();
    },
    [Symbol.iterator]() {
      return objects()[Symbol.iterator]();
    },
  };
}

export interface SqlJsDatabase extends SqlDatabase {
  db: Database;
}

/** A new sql.js database behind SqlDatabase; `file` opens the bytes of an existing database. */
export function sqlJsDatabase(file?: Uint8Array): SqlJsDatabase {
  return asSqlDatabase(openDatabase(file));
}

/** An open sql.js database behind SqlDatabase. */
export function asSqlDatabase(db: Database): SqlJsDatabase {
  const kv = new Map<string, unknown>();
  let depth = 0;
  return {
    db,
    sql: {
      exec<T extends Row>(query: string, ...bindings: unknown[]) {
        const { columns, rows } = execAll(db, query, bindings);
        return cursorOf<T>(columns, rows);
      },
      get databaseSize() {
        const pages = db.exec("PRAGMA page_count")[0].values[0][0] as number;
        const size = db.exec("PRAGMA page_size")[0].values[0][0] as number;
        return pages * size;
      },
    },
    transactionSync<T>(work: () => T): T {
      const name = `tx${depth++}`;
      db.run(`SAVEPOINT ${name}`);
      try {
        const result = work();
        db.run(`RELEASE ${name}`);
        return result;
      } catch (error) {
        db.run(`ROLLBACK TO ${name}`);
        db.run(`RELEASE ${name}`);
        throw error;
      } finally {
        depth--;
      }
    },
    kv: {
      get: <T>(key: string) => kv.get(key) as T | undefined,
      put: (key: string, value: unknown) => void kv.set(key, value),
      delete: (key: string) => kv.delete(key),
    },
  };
}
