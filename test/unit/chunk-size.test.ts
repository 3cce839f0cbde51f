import { describe, expect, it } from "vitest";
import { nextReadRows, READ_LIMITS, stepTargetBytes, type ReadObservation } from "../../shared/chunk-size";
import { seededRandom } from "../random";

function observed(rows: number, bytes: number, ms: number): ReadObservation {
  return { rows, bytes, ms, stoppedEarly: false };
}

describe("nextReadRows", () => {
  it("starts at firstRows and keeps the previous size without an observation", () => {
    expect(nextReadRows(0, null)).toBe(READ_LIMITS.firstRows);
    expect(nextReadRows(50, null)).toBe(50);
    expect(nextReadRows(50, observed(0, 0, 3))).toBe(50);
    expect(nextReadRows(1_000_000, null)).toBe(READ_LIMITS.maxRows);
  });

  it("grows at most 4x after a fast read of small rows", () => {
    expect(nextReadRows(200, observed(200, 200 * 50, 1))).toBe(800);
    expect(nextReadRows(800, observed(800, 800 * 50, 1))).toBe(3200);
    expect(nextReadRows(10, observed(10, 10, 0))).toBe(40);
  });

  it("shrinks for big rows to stay near the byte target", () => {
    // 10 KB per row: about 1 MiB / 10 KB rows.
    expect(nextReadRows(1000, observed(1000, 10_000_000, 5))).toBe(Math.floor(READ_LIMITS.targetBytes / 10_000));
  });

  it("shrinks for slow reads to stay near the time target", () => {
    // 0.2 ms per row: 20 ms / 0.2 ms rows.
    expect(nextReadRows(1000, observed(1000, 1000, 200))).toBe(100);
  });

  it("clamps to at least one row and at most maxRows", () => {
    expect(nextReadRows(5, observed(5, 5 * 3_000_000, 10))).toBe(1);
    expect(nextReadRows(1, observed(1, 10, 10_000))).toBe(1);
    expect(nextReadRows(10_000, observed(10_000, 10_000, 0.1))).toBe(READ_LIMITS.maxRows);
  });

  it("takes other limits", () => {
    const limits = { ...READ_LIMITS, maxRows: 100, maxGrowth: 2, firstRows: 7 };
    expect(nextReadRows(0, null, limits)).toBe(7);
    expect(nextReadRows(30, observed(30, 30, 0), limits)).toBe(60);
    expect(nextReadRows(80, observed(80, 80, 0), limits)).toBe(100);
  });

  it("stays within [1, maxRows] and 4x growth for 5,000 random reads", () => {
    const random = seededRandom(9);
    for (let i = 0; i < 5000; i++) {
      const previous = 1 + Math.floor(random() * 30_000);
      const rows = 1 + Math.floor(random() * previous);
      const obs = observed(rows, Math.floor(random() * rows * 100_000), random() * 500);
      const next = nextReadRows(previous, obs);
      expect(Number.isInteger(next)).toBe(true);
      expect(next).toBeGreaterThanOrEqual(READ_LIMITS.minRows);
      expect(next).toBeLessThanOrEqual(READ_LIMITS.maxRows);
      expect(next).toBeLessThanOrEqual(Math.max(1, previous * READ_LIMITS.maxGrowth));
    }
  });
});

describe("stepTargetBytes", () => {
  const MiB = 1024 * 1024;
  it("keeps the target when nothing is carried over by the sink", () => {
    expect(stepTargetBytes(8 * MiB, 5 * MiB, null)).toBe(8 * MiB);
  });
  it("rounds carried plus new bytes up to whole parts", () => {
    expect(stepTargetBytes(8 * MiB, 5 * MiB, 0)).toBe(10 * MiB);
    expect(stepTargetBytes(8 * MiB, 5 * MiB, 300)).toBe(10 * MiB - 300);
    expect(stepTargetBytes(8 * MiB, 5 * MiB, 3 * MiB)).toBe(12 * MiB);
    expect(stepTargetBytes(MiB, 5 * MiB, 4 * MiB)).toBe(MiB);
  });
});
