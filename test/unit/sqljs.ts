// sql.js (SQLite 3.54 in wasm) is the reference SQLite of the unit tests: its float parser is
// exact, unlike the Durable Object's own (see DESIGN.md §2).

import initSqlJs, { type Database } from "sql.js";

const SQL = await initSqlJs();

/** A new in-memory database, empty or opened from the bytes of a database file. */
export function openDatabase(file?: Uint8Array): Database {
  return new SQL.Database(file);
}

/** Rows of a query as arrays, parameters bound once. */
export function rows(db: Database, sql: string, params: (string | number | null | Uint8Array)[] = []): unknown[][] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params);
    const out: unknown[][] = [];
    while (statement.step()) out.push(statement.get());
    return out;
  } finally {
    statement.free();
  }
}

/** The 64 bits of a double, so that -0/0 and NaN payloads compare exactly. */
export function doubleBits(value: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0);
}

