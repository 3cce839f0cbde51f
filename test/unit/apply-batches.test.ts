import { describe, expect, it } from "vitest";
import { APPLY_BATCH_BYTES, applyBatches, type Reached } from "../../shared/apply-batches";

const statement = (bytes: number) => ({ sql: "x".repeat(bytes) });

describe("applyBatches", () => {
  it("is one batch reaching the step's end when the statements are few, or none", () => {
    expect(applyBatches([], [], 40)).toEqual([{ start: 0, end: 0, to: 40 }]);
    expect(applyBatches([statement(10), statement(10)], [{ offset: 12, applied: 1 }, { offset: 25, applied: 2 }], 30)).toEqual([{ start: 0, end: 2, to: 30 }]);
  });

  it("cuts after the statement that fills a batch, at that statement's end in the file", () => {
    const half = APPLY_BATCH_BYTES / 2;
    const statements = [statement(half), statement(half), statement(half), statement(half), statement(10)];
    const ends: Reached[] = statements.map((_, i) => ({ offset: (i + 1) * 1000, applied: i + 1 }));
    expect(applyBatches(statements, ends, 9000)).toEqual([
      { start: 0, end: 2, to: 2000 },
      { start: 2, end: 4, to: 4000 },
      { start: 4, end: 5, to: 9000 },
    ]);
  });

  it("never cuts between the pieces of one statement of the file", () => {
    const big = APPLY_BATCH_BYTES;
    // Statement 1 of the file was split into three pieces (entries 0-2); only entry 2 ends it.
    const statements = [statement(big), statement(big), statement(10), statement(big), statement(5)];
    const ends = [null, null, { offset: 3000, applied: 1 }, { offset: 4000, applied: 2 }, { offset: 5000, applied: 3 }];
    expect(applyBatches(statements, ends, 5000)).toEqual([
      { start: 0, end: 3, to: 3000 },
      { start: 3, end: 4, to: 4000 },
      { start: 4, end: 5, to: 5000 },
    ]);
  });
});
