// Turns the SQL of each step into the bytes of the file: plain UTF-8, or one gzip member.

import { GZIP_HEADER, concatBytes, crc32, deflateSegment, gzipTrailer } from "./gzip-member";

export type Compression = "none" | "gzip";

/** What later segments need to know about the earlier ones. */
export interface EncodingState {
  sqlBytes: number;
  crc: number;
}

export const START_ENCODING: EncodingState = { sqlBytes: 0, crc: 0 };

const encoder = new TextEncoder();

/** `text` is the SQL as a string or already as UTF-8 (a chunk read may return bytes built by SQLite). */
export function encodeSegment(
  text: string | Uint8Array,
  compression: Compression,
  state: EncodingState,
): { bytes: Uint8Array; state: EncodingState } {
  const sql = typeof text === "string" ? encoder.encode(text) : text;
  const next = { sqlBytes: state.sqlBytes + sql.length, crc: compression === "gzip" ? crc32(sql, state.crc) : 0 };
  if (compression === "none") return { bytes: sql, state: next };
  const body = sql.length ? deflateSegment(sql) : new Uint8Array(0);
  // The first segment of a file always holds the SQL header, so sqlBytes is 0 only before it.
  return { bytes: state.sqlBytes === 0 ? concatBytes([GZIP_HEADER, body]) : body, state: next };
}

/** The last bytes of the file: `text`, then for gzip the end of the member. */
export function encodeEnd(text: string | Uint8Array, compression: Compression, state: EncodingState): Uint8Array {
  const { bytes, state: next } = encodeSegment(text, compression, state);
  return compression === "gzip" ? concatBytes([bytes, gzipTrailer(next.crc, next.sqlBytes)]) : bytes;
}

export function fileExtension(compression: Compression): string {
  return compression === "gzip" ? ".sql.gz" : ".sql";
}

export function contentType(compression: Compression): string {
  return compression === "gzip" ? "application/gzip" : "application/sql";
}
