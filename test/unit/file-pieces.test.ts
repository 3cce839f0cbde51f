import { describe, expect, it } from "vitest";
import { FilePieces, PIECE_BYTES } from "../../shared/file-pieces";
import { seededRandom } from "../random";
import { sqlJsDatabase } from "./sqljs-database";

/** Hex of the bytes: a quick exact comparison of megabytes (toEqual on typed arrays is slow). */
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function randomBytes(length: number, seed: number): Uint8Array {
  const next = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

describe("FilePieces", () => {
  it("keeps a file written in appends of any size, and reads any range of it", () => {
    const pieces = new FilePieces(sqlJsDatabase());
    const file = randomBytes(2 * PIECE_BYTES + 12_345, 1);
    const cuts = [0, 10, PIECE_BYTES - 1, PIECE_BYTES + 7, 2 * PIECE_BYTES + 100, file.length];
    for (let i = 1; i < cuts.length; i++) pieces.writeAt(cuts[i - 1], file.subarray(cuts[i - 1], cuts[i]));
    expect(pieces.storedBytes()).toBe(file.length);

    const next = seededRandom(2);
    for (let i = 0; i < 40; i++) {
      const offset = Math.floor(next() * file.length);
      const length = 1 + Math.floor(next() * 3 * PIECE_BYTES);
      expect(hex(pieces.readAt(offset, length)) === hex(file.subarray(offset, offset + length)), `${offset}+${length}`).toBe(true);
    }
    // Fewer bytes only where the file ends; nothing after it.
    expect(pieces.readAt(file.length - 5, 100)).toEqual(file.subarray(file.length - 5));
    expect(pieces.readAt(file.length, 100)).toEqual(new Uint8Array(0));
  });

  it("stores no value larger than a piece", () => {
    const database = sqlJsDatabase();
    const pieces = new FilePieces(database);
    pieces.writeAt(0, randomBytes(2 * PIECE_BYTES + 1, 3));
    const sizes = database.sql.exec<{ n: number }>("SELECT length(data) AS n FROM pieces ORDER BY offset").toArray().map((r) => r.n);
    expect(sizes).toEqual([PIECE_BYTES, PIECE_BYTES, 1]);
  });

  it("replaces everything from the offset on, so a retried write leaves one copy", () => {
    const pieces = new FilePieces(sqlJsDatabase());
    const first = randomBytes(PIECE_BYTES + 500, 4);
    pieces.writeAt(0, first.subarray(0, 1000));
    pieces.writeAt(1000, randomBytes(PIECE_BYTES, 5)); // an attempt that failed after writing
    pieces.writeAt(1000, first.subarray(1000)); // its retry
    expect(pieces.storedBytes()).toBe(first.length);
    expect(hex(pieces.readAt(0, first.length)) === hex(first)).toBe(true);
    pieces.writeAt(first.length - 10, new Uint8Array(0)); // an empty write truncates
    expect(hex(pieces.readAt(0, first.length)) === hex(first.subarray(0, first.length - 10))).toBe(true);
    pieces.deleteAll();
    expect(pieces.storedBytes()).toBe(0);
  });
});
