// Turns the SQL of each step into the bytes of the file: plain UTF-8, or one gzip member.

import { GZIP_HEADER, concatBytes, crc32, deflateSegment, gzipTrailer } from "./gzip-member";
import { bytesToHex, sha256Finish, sha256Start, sha256Update, type Sha256State } from "./sha256";

export type Compression = "none" | "gzip";

/** What later segments need to know about the earlier ones. */
export interface EncodingState {
  sqlBytes: number;
  crc: number;
  /** SHA-256 of the file's bytes so far (after gzip when compressed): the file is hashed as it is written. */
  sha256: Sha256State;
}

export const START_ENCODING: EncodingState = { sqlBytes: 0, crc: 0, sha256: sha256Start() };

const encoder = new TextEncoder();

/** `text` is the SQL as a string or already as UTF-8 (a chunk read may return bytes built by SQLite). */
export function encodeSegment(
  text: string | Uint8Array,
  compression: Compression,
  state: EncodingState,
): { bytes: Uint8Array; state: EncodingState } {
  const sql = typeof text === "string" ? encoder.encode(text) : text;
  const sqlBytes = state.sqlBytes + sql.length;
  const crc = compression === "gzip" ? crc32(sql, state.crc) : 0;
  let bytes = sql;
  if (compression === "gzip") {
    const body = sql.length ? deflateSegment(sql) : new Uint8Array(0);
    // The first segment of a file always holds the SQL header, so sqlBytes is 0 only before it.
    bytes = state.sqlBytes === 0 ? concatBytes([GZIP_HEADER, body]) : body;
  }
  return { bytes, state: { sqlBytes, crc, sha256: sha256Update(state.sha256, bytes) } };
}

/** The last bytes of the file (`text`, then for gzip the end of the member), and the whole file's SHA-256 in hex. */
export function encodeEnd(text: string | Uint8Array, compression: Compression, state: EncodingState): { bytes: Uint8Array; sha256: string } {
  const { bytes, state: next } = encodeSegment(text, compression, state);
  if (compression === "none") return { bytes, sha256: bytesToHex(sha256Finish(next.sha256)) };
  const trailer = gzipTrailer(next.crc, next.sqlBytes);
  return { bytes: concatBytes([bytes, trailer]), sha256: bytesToHex(sha256Finish(sha256Update(next.sha256, trailer))) };
}

export function fileExtension(compression: Compression): string {
  return compression === "gzip" ? ".sql.gz" : ".sql";
}

export function contentType(compression: Compression): string {
  return compression === "gzip" ? "application/gzip" : "application/sql";
}
