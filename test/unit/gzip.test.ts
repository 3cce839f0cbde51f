import { createHash } from "node:crypto";
import { gunzipSync, inflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { contentType, encodeEnd, encodeSegment, fileExtension, START_ENCODING, type EncodingState } from "../../shared/dump-encoding";
import { concatBytes, crc32, deflateSegment, GZIP_HEADER, gzipTrailer } from "../../shared/gzip-member";
import { seededRandom } from "../random";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes segments the way separate Workflow steps do, each starting from the state the previous one returned. */
function encodeFile(segments: Array<string | Uint8Array>, end: string, compression: "none" | "gzip"): Uint8Array {
  return encodeFileWithDigest(segments, end, compression).file;
}

function encodeFileWithDigest(segments: Array<string | Uint8Array>, end: string, compression: "none" | "gzip") {
  const out: Uint8Array[] = [];
  let state: EncodingState = START_ENCODING;
  for (const text of segments) {
    const encoded = encodeSegment(text, compression, state);
    out.push(encoded.bytes);
    state = JSON.parse(JSON.stringify(encoded.state)); // persisted between steps
  }
  const last = encodeEnd(end, compression, state);
  out.push(last.bytes);
  return { file: concatBytes(out), sha256: last.sha256 };
}

describe("crc32", () => {
  it("matches the standard check value and continues across segments", () => {
    expect(crc32(encoder.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const a = encoder.encode("PRAGMA foreign_keys=OFF;\n");
    const b = encoder.encode("INSERT INTO t VALUES('é😀');\n");
    expect(crc32(b, crc32(a))).toBe(crc32(concatBytes([a, b])));
    expect(crc32(encoder.encode(""), 0x12345678)).toBe(0x12345678);
  });
});

describe("a gzip file written in segments", () => {
  const random = seededRandom(11);
  const segments = [
    "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n",
    "",
    Array.from({ length: 5000 }, (_, i) => `INSERT INTO t VALUES(${i},'${"é😀x".repeat(i % 7)}');\n`).join(""),
    Array.from({ length: 3000 }, () => String.fromCharCode(32 + Math.floor(random() * 90))).join(""), // poorly compressible
  ];
  const end = "COMMIT;\n";
  const sql = segments.join("") + end;

  it("is one gzip member that gunzip and a raw inflate of its body both read", () => {
    const file = encodeFile(segments, end, "gzip");
    expect(decoder.decode(gunzipSync(file))).toBe(sql);
    expect([...file.subarray(0, GZIP_HEADER.length)]).toEqual([...GZIP_HEADER]);
    // One member: the deflate stream runs from after the header to just before the 8-byte trailer.
    expect(decoder.decode(inflateRawSync(file.subarray(GZIP_HEADER.length, file.length - 8)))).toBe(sql);
    const trailer = new DataView(file.buffer, file.byteOffset + file.length - 8);
    expect(trailer.getUint32(0, true)).toBe(crc32(encoder.encode(sql)));
    expect(trailer.getUint32(4, true)).toBe(encoder.encode(sql).length);
  });

  it("decompresses with the web DecompressionStream the download path uses", async () => {
    const file = encodeFile(segments, end, "gzip");
    const stream = new Blob([file]).stream().pipeThrough(new DecompressionStream("gzip"));
    expect(await new Response(stream).text()).toBe(sql);
  });

  it("reads segments given as UTF-8 bytes the same as text", () => {
    const asBytes = segments.map((text, i) => (i % 2 ? encoder.encode(text) : text));
    const file = encodeFile(asBytes, end, "gzip");
    expect(decoder.decode(gunzipSync(file))).toBe(sql);
    expect(decoder.decode(encodeFile(asBytes, end, "none"))).toBe(sql);
  });

  it("ends every segment on a sync flush, so that steps can append the next one", () => {
    for (const text of segments.filter((t) => t !== "")) {
      const segment = deflateSegment(encoder.encode(text));
      expect([...segment.subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]);
    }
  });

  it("is the same SQL at every deflate level", async () => {
    const data = encoder.encode(segments.join(""));
    for (const level of [1, 6, 9] as const) {
      const file = concatBytes([GZIP_HEADER, deflateSegment(data, level), gzipTrailer(crc32(data), data.length)]);
      const stream = new Blob([file]).stream().pipeThrough(new DecompressionStream("gzip"));
      expect(await new Response(stream).text()).toBe(segments.join(""));
    }
  });

  it("writes plain UTF-8 without compression", () => {
    expect(decoder.decode(encodeFile(segments, end, "none"))).toBe(sql);
  });

  it("deflates one segment on its own, ending on a byte boundary", () => {
    const data = encoder.encode("hello hello hello");
    const segment = deflateSegment(data);
    expect(decoder.decode(inflateRawSync(concatBytes([segment, Uint8Array.of(0x03, 0x00)])))).toBe("hello hello hello");
    expect(gzipTrailer(0xdeadbeef, 2 ** 32 + 5).subarray(2)).toEqual(Uint8Array.of(0xef, 0xbe, 0xad, 0xde, 5, 0, 0, 0));
  });

  it("hashes exactly the bytes of the file, compressed or not, across steps", () => {
    for (const compression of ["none", "gzip"] as const) {
      const { file, sha256 } = encodeFileWithDigest(segments, end, compression);
      expect(sha256).toBe(createHash("sha256").update(file).digest("hex"));
    }
  });

  it("names and types files by compression", () => {
    expect(fileExtension("gzip")).toBe(".sql.gz");
    expect(fileExtension("none")).toBe(".sql");
    expect(contentType("gzip")).toBe("application/gzip");
    expect(contentType("none")).toBe("application/sql");
  });
});
