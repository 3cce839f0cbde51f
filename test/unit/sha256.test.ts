import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  hexToBytes,
  reprDigestValue,
  sha256,
  sha256Finish,
  sha256Start,
  sha256Update,
  type Sha256State,
} from "../../shared/sha256";
import { seededRandom } from "../random";

const encoder = new TextEncoder();

function nodeSha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Hashes `bytes` in pieces ending at `cuts`, passing the state through JSON as Workflow steps do. */
function hashInPieces(bytes: Uint8Array, cuts: number[]): string {
  let state: Sha256State = sha256Start();
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    state = JSON.parse(JSON.stringify(sha256Update(state, bytes.subarray(from, to))));
    from = to;
  }
  return bytesToHex(sha256Finish(state));
}

describe("sha256", () => {
  it("gives the FIPS 180-4 test vectors", () => {
    expect(bytesToHex(sha256(encoder.encode("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(bytesToHex(sha256(encoder.encode("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(bytesToHex(sha256(encoder.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("matches node:crypto for every length around the block and padding boundaries", () => {
    const random = seededRandom(256);
    for (let length = 0; length <= 200; length++) {
      const bytes = randomBytes(random, length);
      expect(bytesToHex(sha256(bytes)), `length ${length}`).toBe(nodeSha256(bytes));
    }
  });

  it("matches node:crypto over random sizes split at random points", () => {
    const random = seededRandom(15);
    for (let round = 0; round < 200; round++) {
      const length = Math.floor(random() ** 3 * 300_000);
      const bytes = randomBytes(random, length);
      const cuts = Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * (length + 1))).sort((a, b) => a - b);
      expect(hashInPieces(bytes, cuts), `round ${round}: ${length} bytes cut at ${cuts.join(",")}`).toBe(nodeSha256(bytes));
    }
  });

  it("goes on from a state one byte at a time, and with empty updates", () => {
    const bytes = randomBytes(seededRandom(7), 300);
    const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
    expect(hashInPieces(bytes, everyByte)).toBe(nodeSha256(bytes));
    expect(hashInPieces(bytes, [0, 0, 64, 64, 128, 300, 300])).toBe(nodeSha256(bytes));
  });

  it("keeps the state small and does not change the state it was given", () => {
    const start = sha256Start();
    const after = sha256Update(start, randomBytes(seededRandom(3), 1_000_000 + 63));
    expect(start).toEqual(sha256Start());
    expect(after.tail.length).toBe(63 * 2);
    expect(after.length).toBe(1_000_063);
    expect(JSON.stringify(after).length).toBeLessThan(250);
    const again = sha256Update(after, new Uint8Array([1, 2, 3]));
    expect(after.tail.length).toBe(63 * 2);
    expect(again.tail).toBe("0203");
  });

  it("refuses a state it did not make", () => {
    const good = sha256Update(sha256Start(), new Uint8Array(10));
    expect(() => sha256Update({ ...good, tail: "zz" }, new Uint8Array(1))).toThrow(/not hex/);
    expect(() => sha256Finish({ ...good, length: 11 })).toThrow(/not a SHA-256 state/);
    expect(() => sha256Finish({ ...good, words: good.words.slice(1) })).toThrow(/not a SHA-256 state/);
    expect(() => sha256Update({ ...good, tail: "00".repeat(64), length: 64 }, new Uint8Array(1))).toThrow(/not a SHA-256 state/);
  });

  it("writes hex, base64 and the Repr-Digest value as node:crypto does", () => {
    const digest = sha256(encoder.encode("hello"));
    const expected = createHash("sha256").update("hello").digest();
    expect(bytesToBase64(digest)).toBe(expected.toString("base64"));
    expect(reprDigestValue(digest)).toBe(`sha-256=:${expected.toString("base64")}:`);
    expect(hexToBytes(bytesToHex(digest))).toEqual(digest);
    expect(base64ToBytes(bytesToBase64(digest))).toEqual(digest);
    const random = seededRandom(9);
    for (let length = 0; length < 40; length++) {
      const bytes = randomBytes(random, length);
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
      expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    }
  });
});
