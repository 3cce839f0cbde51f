import { describe, expect, it } from "vitest";
import { parseRange } from "../../shared/http-range";

const SIZE = 1000;

describe("parseRange (RFC 9110 §14)", () => {
  it("serves the whole file without a Range header", () => {
    expect(parseRange(null, SIZE)).toEqual({ kind: "full" });
    expect(parseRange("", SIZE)).toEqual({ kind: "full" });
  });

  it.each([
    ["bytes=0-99", 0, 100],
    ["bytes=0-0", 0, 1],
    ["bytes=999-999", 999, 1],
    ["bytes=100-", 100, 900], // open-ended
    ["bytes=0-", 0, 1000],
    ["bytes=500-5000", 500, 500], // last byte past the end: up to the end
    ["bytes=0-99999999999999999999", 0, 1000],
    ["bytes=-100", 900, 100], // suffix: the last 100 bytes
    ["bytes=-1", 999, 1],
    ["bytes=-5000", 0, 1000], // suffix longer than the file: all of it
    ["Bytes = 10 - 19", 10, 10], // the unit is case-insensitive
  ])("%s -> offset %d, length %d", (header, offset, length) => {
    expect(parseRange(header, SIZE)).toEqual({ kind: "partial", offset, length });
  });

  it.each([
    "bytes=1000-", // starts at the end
    "bytes=1000-1001",
    "bytes=5000-6000",
    "bytes=-0", // an empty suffix
    "bytes=5-3", // last before first
  ])("%s -> 416", (header) => {
    expect(parseRange(header, SIZE)).toEqual({ kind: "unsatisfiable" });
  });

  it("finds nothing satisfiable in an empty file", () => {
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-5", 0)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-0", 0)).toEqual({ kind: "unsatisfiable" });
  });

  it.each([
    "bytes=0-10,20-30", // several ranges: answering with the whole file is allowed
    "bytes=-10, 0-5",
    "items=0-10", // an unknown unit must be ignored
    "bytes=-",
    "bytes=abc",
    "bytes 0-10",
    "bytes=1.5-3",
  ])("%s -> the whole file", (header) => {
    expect(parseRange(header, SIZE)).toEqual({ kind: "full" });
  });
});
