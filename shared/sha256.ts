// Incremental SHA-256 (FIPS 180-4) whose state is a small JSON value, so that a Workflow can hash a
// file while its steps write it and carry the state from one step to the next (crypto.subtle and
// node:crypto cannot export a running hash). Pure: no runtime APIs besides btoa.

/** Everything needed to go on hashing: at most 63 pending bytes, so it stays under 250 characters of JSON. */
export interface Sha256State {
  /** The eight 32-bit chaining words, as unsigned integers. */
  words: number[];
  /** Bytes received after the last whole 64-byte block, in hex (fewer than 64 bytes). */
  tail: string;
  /** Bytes hashed so far, the tail included. */
  length: number;
}

const BLOCK_BYTES = 64;

const INITIAL_WORDS = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// prettier-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** The message schedule, reused by every block: no allocation per block. */
const schedule = new Int32Array(64);

export function sha256Start(): Sha256State {
  return { words: [...INITIAL_WORDS], tail: "", length: 0 };
}

/** The state after `bytes` more; `state` itself is left as it was. */
export function sha256Update(state: Sha256State, bytes: Uint8Array): Sha256State {
  const words = Int32Array.from(state.words);
  const pending = pendingBytes(state);
  let offset = 0;
  if (pending.length > 0) {
    // Complete the pending block first, or keep collecting when `bytes` is too short for that.
    const needed = BLOCK_BYTES - pending.length;
    if (bytes.length < needed) {
      return { words: [...state.words], tail: state.tail + bytesToHex(bytes), length: state.length + bytes.length };
    }
    const block = new Uint8Array(BLOCK_BYTES);
    block.set(pending);
    block.set(bytes.subarray(0, needed), pending.length);
    compressBlocks(words, block, 0, BLOCK_BYTES);
    offset = needed;
  }
  const wholeEnd = offset + Math.floor((bytes.length - offset) / BLOCK_BYTES) * BLOCK_BYTES;
  compressBlocks(words, bytes, offset, wholeEnd);
  return { words: unsigned(words), tail: bytesToHex(bytes.subarray(wholeEnd)), length: state.length + bytes.length };
}

/** The 32-byte digest of everything given to sha256Update. */
export function sha256Finish(state: Sha256State): Uint8Array {
  const pending = pendingBytes(state);
  // Padding: 0x80, zeros, then the length in bits as a 64-bit big-endian integer.
  const paddedLength = pending.length < 56 ? BLOCK_BYTES : 2 * BLOCK_BYTES;
  const last = new Uint8Array(paddedLength);
  last.set(pending);
  last[pending.length] = 0x80;
  const view = new DataView(last.buffer);
  view.setUint32(paddedLength - 8, Math.floor(state.length / 0x20000000)); // length * 8 / 2^32
  view.setUint32(paddedLength - 4, (state.length % 0x20000000) * 8);
  const words = Int32Array.from(state.words);
  compressBlocks(words, last, 0, paddedLength);
  const digest = new Uint8Array(32);
  const out = new DataView(digest.buffer);
  for (let i = 0; i < 8; i++) out.setInt32(i * 4, words[i]);
  return digest;
}

/** SHA-256 of one byte array. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return sha256Finish(sha256Update(sha256Start(), bytes));
}

/** The value of an RFC 9530 `Repr-Digest` header for a SHA-256 digest: `sha-256=:<base64>:`. */
export function reprDigestValue(digest: Uint8Array): string {
  return `sha-256=:${bytesToBase64(digest)}:`;
}

export function bytesToHex(bytes: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += HEX_BYTES[bytes[i]];
  return hex;
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`not hex: ${hex.slice(0, 40)}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The tail's bytes, after checking that the state (perhaps read back from JSON) is one sha256Update makes. */
function pendingBytes(state: Sha256State): Uint8Array {
  const pending = hexToBytes(state.tail);
  const wellFormed =
    state.words.length === 8 &&
    state.words.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff) &&
    pending.length < BLOCK_BYTES &&
    Number.isSafeInteger(state.length) &&
    state.length % BLOCK_BYTES === pending.length;
  if (!wellFormed) throw new Error("not a SHA-256 state made by sha256Update");
  return pending;
}

function unsigned(words: Int32Array): number[] {
  return Array.from(words, (word) => word >>> 0);
}

/** Runs the compression function over bytes[start, end), a whole number of blocks, updating `words`. */
function compressBlocks(words: Int32Array, bytes: Uint8Array, start: number, end: number): void {
  const w = schedule;
  let h0 = words[0], h1 = words[1], h2 = words[2], h3 = words[3];
  let h4 = words[4], h5 = words[5], h6 = words[6], h7 = words[7];
  for (let p = start; p < end; p += BLOCK_BYTES) {
    for (let i = 0; i < 16; i++) {
      const j = p + i * 4;
      w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  words[0] = h0; words[1] = h1; words[2] = h2; words[3] = h3;
  words[4] = h4; words[5] = h5; words[6] = h6; words[7] = h7;
}
