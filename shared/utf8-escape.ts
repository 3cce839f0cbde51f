// Reading text files that are UTF-8 except for some bytes, without losing those bytes. sqlite3's
// .dump writes TEXT that is not valid UTF-8 as raw bytes inside a string literal; a decoder that
// replaced them with U+FFFD would restore different bytes.
//
// Each byte that is not part of valid UTF-8 becomes the lone surrogate U+DC80 + (byte - 0x80)
// (Python's "surrogateescape"): valid UTF-8 never decodes to a lone surrogate, so the bytes can be
// told apart and written back exactly. utf8Length() in sql-text.ts counts such a character as one byte.

const FIRST_ESCAPE = 0xdc80;
const LAST_ESCAPE = 0xdcff;

/** Streaming decoder: valid UTF-8 as text, every other byte escaped. */
export class EscapingUtf8Decoder {
  private readonly strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  /** The start of a character cut by the end of the previous bytes. */
  private held = new Uint8Array(0);
  /** Some bytes so far were not UTF-8 (the text holds escapes). */
  sawInvalidBytes = false;

  /** Text of `bytes` (and of what was held back from the previous call); `final` at the end of input. */
  decode(bytes: Uint8Array, final = false): string {
    let input = bytes;
    if (this.held.length > 0) {
      input = new Uint8Array(this.held.length + bytes.length);
      input.set(this.held);
      input.set(bytes, this.held.length);
    }
    const end = final ? input.length : completeEnd(input);
    this.held = input.slice(end);
    const body = input.subarray(0, end);
    try {
      return this.strict.decode(body);
    } catch {
      this.sawInvalidBytes = true;
      return escapeInvalid(body);
    }
  }
}

/** Where the bytes stop being complete: before a character whose last bytes have not arrived yet. */
function completeEnd(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    const byte = bytes[i];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + length > bytes.length ? i : bytes.length;
  }
  return bytes.length;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const byte = bytes[i];
  if (byte < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (byte >= 0xc2 && byte <= 0xdf) length = 2;
  else if (byte >= 0xe0 && byte <= 0xef) {
    length = 3;
    if (byte === 0xe0) low = 0xa0; // no overlong forms
    if (byte === 0xed) high = 0x9f; // no surrogates
  } else if (byte >= 0xf0 && byte <= 0xf4) {
    length = 4;
    if (byte === 0xf0) low = 0x90;
    if (byte === 0xf4) high = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + length > bytes.length || bytes[i + 1] < low || bytes[i + 1] > high) return 0;
  for (let k = 2; k < length; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return 0;
  return length;
}

function escapeInvalid(bytes: Uint8Array): string {
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  let text = "";
  let runStart = 0;
  for (let i = 0; i < bytes.length; ) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += decoder.decode(bytes.subarray(runStart, i)) + String.fromCharCode(FIRST_ESCAPE - 0x80 + bytes[i]);
    i += 1;
    runStart = i;
  }
  return text + decoder.decode(bytes.subarray(runStart));
}

/** Whether the character at `i` is an escaped byte (a low surrogate not preceded by a high one). */
export function isEscapedByte(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code < FIRST_ESCAPE || code > LAST_ESCAPE) return false;
  const before = i > 0 ? text.charCodeAt(i - 1) : 0;
  return before < 0xd800 || before > 0xdbff;
}

const ANY_ESCAPE = /[\uDC80-\uDCFF]/;

/** Whether the text may hold escaped bytes (a quick test; isEscapedByte() decides). */
export function mayHoldEscapedBytes(text: string): boolean {
  return ANY_ESCAPE.test(text);
}

const encoder = new TextEncoder();

/** The bytes the text stands for, escaped bytes included, as upper-case hex. */
export function escapedTextHex(text: string): string {
  let hex = "";
  let runStart = 0;
  const appendBytes = (bytes: Iterable<number>) => {
    for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  };
  for (let i = 0; i < text.length; i++) {
    if (!isEscapedByte(text, i)) continue;
    appendBytes(encoder.encode(text.slice(runStart, i)));
    appendBytes([text.charCodeAt(i) - FIRST_ESCAPE + 0x80]);
    runStart = i + 1;
  }
  appendBytes(encoder.encode(text.slice(runStart)));
  return hex.toUpperCase();
}
