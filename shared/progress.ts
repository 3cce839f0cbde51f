// Overall progress from per-table positions.

import type { TablePlan } from "./types";

/** How far through a table the dump is, from 0 to 1, judged by the last rowid written. */
export function tableFraction(table: TablePlan, lastKey: Array<string | number> | null, done: boolean): number {
  if (done) return 1;
  if (!lastKey || table.key.kind !== "rowid" || table.minRowid === undefined || table.maxRowid === undefined) {
    return 0;
  }
  const last = Number(lastKey[0]);
  const span = table.maxRowid - table.minRowid + 1;
  return span > 0 ? Math.max(0, Math.min(1, (last - table.minRowid + 1) / span)) : 0;
}

/** Percent of the estimated rows written: finished tables in full, the current one by position. */
export function overallPercent(tables: TablePlan[], finishedTables: number, currentFraction: number): number {
  const weights = tables.map((t) => Math.max(t.estimatedRows, 1));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let done = 0;
  for (let i = 0; i < finishedTables && i < tables.length; i++) done += weights[i];
  if (finishedTables < tables.length) done += weights[finishedTables] * currentFraction;
  return (done / total) * 100;
}
