// A restore step's statements in batches that the target applies one transaction each, so that it answers
// other requests between them. A batch ends only where a statement of the file ends, at the file offset the
// target then records (shared/restore-apply.ts), so a retried step finds its committed batches applied.

import type { RestoreStatement } from "./restore-record";

/** How far the target has got: a file offset and the statements applied up to it. */
export interface Reached {
  offset: number;
  applied: number;
}

/** SQL one apply call runs in one transaction: about 40 ms of a Durable Object's time for small INSERTs. */
export const APPLY_BATCH_BYTES = 512 * 1024;

/**
 * Splits a step's statements into batches of about APPLY_BATCH_BYTES that end where a statement of the file
 * ends (`ends`), each with the file offset it reaches; the last reaches `to`. Always at least one batch, so
 * that an empty step still records its offset.
 */
export function applyBatches(statements: RestoreStatement[], ends: Array<Reached | null>, to: number): Array<{ start: number; end: number; to: number }> {
  const batches: Array<{ start: number; end: number; to: number }> = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < statements.length; i++) {
    bytes += statements[i].sql.length;
    const end = ends[i];
    if (bytes >= APPLY_BATCH_BYTES && end && i + 1 < statements.length) {
      batches.push({ start, end: i + 1, to: end.offset });
      start = i + 1;
      bytes = 0;
    }
  }
  batches.push({ start, end: statements.length, to });
  return batches;
}

