// Pages through a table twice, with the row batch (shared/row-batch.ts) and with the per-cell read, over
// the same row source, as readChunk() would. Shared by the unit (sql.js) and workers (Durable Object) projects.

import { readCells, type RowSource } from "../shared/dump-read";
import { runSync } from "../shared/query-program";
import { readRowBatch } from "../shared/row-batch";
import type { SqlHandle } from "../shared/sql-handle";
import type { ChunkResult, KeyCursor, TablePlan } from "../shared/types";

export interface Comparison {
  pages: number;
  /** Pages the batch declined (read cell by cell instead). */
  declined: number;
  /** Pages whose batch text or last key differ from the per-cell read's. */
  mismatches: string[];
}

const decoder = new TextDecoder();

export function compareReads(sql: SqlHandle, table: TablePlan, limit: number, source: RowSource): Comparison {
  const result: Comparison = { pages: 0, declined: 0, mismatches: [] };
  let after: KeyCursor | null = null;
  for (;;) {
    const query = source.chunkSelect(after, limit);
    const cells: ChunkResult = runSync(sql, readCells({ table, after, maxRows: limit, maxBytes: Infinity }, source, query));
    const batch = runSync(sql, readRowBatch(table, source, after, limit));
    result.pages++;
    if (!batch) result.declined++;
    else if (decoder.decode(batch.sql) !== decoder.decode(cells.sql) || JSON.stringify(batch.lastKey) !== JSON.stringify(cells.lastKey)) {
      result.mismatches.push(`page ${result.pages} after ${JSON.stringify(after)}: ${decoder.decode(batch.sql).slice(0, 200)}`);
    }
    if (cells.rows === 0 || cells.done) return result;
    after = cells.lastKey;
  }
}
