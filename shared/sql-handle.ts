// The database handle the core is written against. `ctx.storage` of a SQLite-backed Durable Object
// satisfies it as it is; tests satisfy it with sql.js (test/unit/sqljs-database.ts).

export type SqlValue = string | number | null | ArrayBuffer;

export interface SqlCursor<T> extends Iterable<T> {
  toArray(): T[];
  one(): T;
  /** Rows as arrays of values, in column order. */
  raw<U extends SqlValue[]>(): IterableIterator<U>;
}

/** Runs one statement (or several separated by ';' when no bindings are given). */
export interface SqlHandle {
  exec<T extends Record<string, SqlValue>>(query: string, ...bindings: any[]): SqlCursor<T>;
  /** Bytes the database file takes. */
  readonly databaseSize: number;
}

/** What the core needs from a database: SQL, a synchronous transaction, and small private markers. */
export interface SqlDatabase {
  sql: SqlHandle;
  /** Runs `work` in one transaction: all of its writes or none. */
  transactionSync<T>(work: () => T): T;
  /** Key-value storage outside the SQL schema (a Durable Object's `ctx.storage.kv`). */
  kv: {
    get<T = unknown>(key: string): T | undefined;
    put<T>(key: string, value: T): void;
    delete(key: string): boolean;
  };
}
