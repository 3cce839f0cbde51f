// How many rows the next read asks for. Each read runs synchronously inside the source
// database, so it is kept short; other requests are served between two reads.

export const READ_LIMITS = {
  minRows: 1,
  maxRows: 20_000,
  firstRows: 200,
  /** SQL text one read may produce: small, so one read holds the database only a few milliseconds. */
  targetBytes: 256 * 1024,
  /** Round trip one read may take. */
  targetMs: 20,
  /** At most this factor of growth between two reads, so one odd read cannot swing the size. */
  maxGrowth: 4,
};

export interface ReadObservation {
  rows: number;
  bytes: number;
  ms: number;
  /** The read stopped at its byte budget rather than its row limit. */
  stoppedEarly: boolean;
}

export function nextReadRows(previousRows: number, observed: ReadObservation | null, limits = READ_LIMITS): number {
  if (!observed || observed.rows === 0) return clamp(previousRows || limits.firstRows, limits);
  const bytesPerRow = observed.bytes / observed.rows;
  const msPerRow = Math.max(observed.ms, 0.5) / observed.rows;
  const byBytes = limits.targetBytes / Math.max(bytesPerRow, 1);
  const byTime = limits.targetMs / msPerRow;
  const wanted = Math.min(byBytes, byTime, previousRows * limits.maxGrowth);
  return clamp(Math.floor(wanted), limits);
}

function clamp(rows: number, limits: typeof READ_LIMITS): number {
  return Math.max(limits.minRows, Math.min(limits.maxRows, rows));
}

/**
 * SQL bytes a chunk step reads. When the bytes carried from the previous step are known (plain R2
 * dumps), the target is rounded so that carried plus new bytes fill whole parts; what is carried to the
 * next step is then less than one read.
 */
export function stepTargetBytes(targetBytes: number, partSize: number, carriedBytes: number | null): number {
  if (carriedBytes === null) return targetBytes;
  const parts = Math.max(1, Math.ceil((carriedBytes + targetBytes) / partSize));
  return parts * partSize - carriedBytes;
}
