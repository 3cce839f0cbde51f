// Query programs: reading logic written as generators that yield each query they need and receive
// its rows. The logic then does not depend on how queries run: runSync() drives a program over a
// SqlHandle in one synchronous call (a Durable Object: nothing else runs in between), and an async
// executor (D1's API) can drive the same program with `await` in its loop.

import type { SqlHandle, SqlValue } from "./sql-handle";

export type QueryParam = string | number | null;

export interface Query {
  sql: string;
  params: QueryParam[];
}

/** A query's rows, each an array of values in column order. Iterate them at most once. */
export type Rows = Iterable<SqlValue[]>;

export type QueryProgram<T> = Generator<Query, T, Rows>;

/** Yields one query; its rows, read lazily, typed by the caller. */
export function* select<R extends SqlValue[]>(sql: string, ...params: QueryParam[]): Generator<Query, Iterable<R>, Rows> {
  return (yield { sql, params }) as Iterable<R>;
}

/** Yields one query; all of its rows. */
export function* selectAll<R extends SqlValue[]>(sql: string, ...params: QueryParam[]): Generator<Query, R[], Rows> {
  return [...(yield* select<R>(sql, ...params))];
}

/** Yields one query that returns exactly one row. */
export function* selectOne<R extends SqlValue[]>(sql: string, ...params: QueryParam[]): Generator<Query, R, Rows> {
  const rows = yield* selectAll<R>(sql, ...params);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${sql.slice(0, 200)}`);
  return rows[0];
}

/** Yields one statement that returns no rows (a write, or DDL), run when the program reaches it. */
export function* execute(sql: string, ...params: QueryParam[]): Generator<Query, void, Rows> {
  yield* selectAll(sql, ...params);
}

/**
 * Runs a program to its end, each query on `sql` as it is yielded. Rows are handed over as a lazy
 * cursor; the rows a program leaves unread are stepped through at the end (see below), so that a
 * LIMIT bounds that cost.
 */
export function runSync<T>(sql: SqlHandle, program: QueryProgram<T>): T {
  const cursors: Iterable<SqlValue[]>[] = [];
  try {
    let step = program.next();
    while (!step.done) {
      const rows = sql.exec(step.value.sql, ...step.value.params).raw();
      cursors.push(rows);
      step = program.next(rows);
    }
    return step.value;
  } finally {
    // A Durable Object's statement stays active until its cursor is read to the end (cursors have no
    // close), even after this call returns; an active statement makes DROP TABLE fail with SQLITE_LOCKED.
    for (const rows of cursors) for (const _ of rows);
  }
}
