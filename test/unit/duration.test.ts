import { describe, expect, it } from "vitest";
import { parseDuration } from "../../shared/duration";

describe("parseDuration", () => {
  it.each([
    ["1 hour", 3_600_000],
    ["7 days", 7 * 86_400_000],
    ["30 seconds", 30_000],
    ["1 second", 1000],
    ["15 minutes", 900_000],
    ["2 weeks", 2 * 604_800_000],
    ["250 milliseconds", 250],
    ["1.5 hours", 5_400_000],
    ["0.5 seconds", 500],
    ["  3 DAYS  ", 3 * 86_400_000],
    ["1hour", 3_600_000],
    ["0 seconds", 0],
    ["1500", 1500], // bare milliseconds
    [" 42 ", 42],
  ])("%j -> %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "hour", "1 fortnight", "-1 hour", "1 hour 5 minutes", "1 hourss", "1.5", "1e3", "one hour", "1 h", "Infinity"])(
    "rejects %j",
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );

  it("takes milliseconds as a number", () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration(1.9)).toBe(1);
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(-1)).toBeNull();
    expect(parseDuration(NaN)).toBeNull();
    expect(parseDuration(Infinity)).toBeNull();
  });
});
