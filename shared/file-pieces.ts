// One file kept as ordered pieces in a SQLite database (a FileStore Durable Object), keyed by the
// byte offset where each piece starts.

import type { SqlDatabase } from "./sql-handle";

/**
 * Largest piece kept in one row (Durable Object SQLite caps a value at 2 MB), and the size in which
 * files kept in Durable Object storage are read and written.
 */
export const PIECE_BYTES = 1024 * 1024;

export class FilePieces {
  constructor(private readonly database: SqlDatabase) {
    database.sql.exec(`
      CREATE TABLE IF NOT EXISTS pieces (
        offset INTEGER PRIMARY KEY,
        data BLOB NOT NULL
      )
    `);
  }

  /**
   * Stores `data` at byte `offset`, replacing anything at or after it, so that a retried step
   * that writes the same range again leaves exactly one copy.
   */
  writeAt(offset: number, data: Uint8Array): void {
    const { sql } = this.database;
    this.database.transactionSync(() => {
      sql.exec("DELETE FROM pieces WHERE offset >= ?", offset);
      // A piece that runs past the offset keeps only what lies before it.
      sql.exec("UPDATE pieces SET data = substr(data, 1, ? - offset) WHERE offset < ? AND offset + length(data) > ?", offset, offset, offset);
      for (let start = 0; start < data.length; start += PIECE_BYTES) {
        sql.exec("INSERT INTO pieces (offset, data) VALUES (?, ?)", offset + start, data.subarray(start, start + PIECE_BYTES));
      }
    });
  }

  /** Up to `length` bytes from `offset`: fewer only where the file ends. */
  readAt(offset: number, length: number): Uint8Array {
    const rows = this.database.sql
      .exec<{ offset: number; data: ArrayBuffer }>(
        `SELECT offset, data FROM pieces
         WHERE offset < ? AND offset + length(data) > ?
         ORDER BY offset`,
        offset + length,
        offset,
      )
      .toArray();
    const out = new Uint8Array(length);
    let filled = 0;
    for (const row of rows) {
      const piece = new Uint8Array(row.data);
      const from = Math.max(0, offset - row.offset);
      const to = Math.min(piece.length, offset + length - row.offset);
      out.set(piece.subarray(from, to), row.offset + from - offset);
      filled = Math.max(filled, row.offset + to - offset);
    }
    return out.subarray(0, filled);
  }

  storedBytes(): number {
    return this.database.sql.exec<{ n: number }>("SELECT coalesce(sum(length(data)), 0) AS n FROM pieces").one().n;
  }

  deleteAll(): void {
    this.database.sql.exec("DELETE FROM pieces");
  }
}
