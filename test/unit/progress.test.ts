import { describe, expect, it } from "vitest";
import { overallPercent, tableFraction } from "../../shared/progress";
import type { TablePlan } from "../../shared/types";
import { tablePlan } from "./table-plan";

function table(name: string, estimatedRows: number, range?: [number, number]): TablePlan {
  const rowids = range ? { minRowid: range[0], maxRowid: range[1] } : {};
  return tablePlan({ name, createSql: `CREATE TABLE ${name}(a)`, columns: ["a"], insertRowid: true, estimatedRows, ...rowids });
}

describe("tableFraction", () => {
  const users = table("users", 100, [1, 100]);

  it("is 1 when the table is done and 0 before the first chunk", () => {
    expect(tableFraction(users, ["3"], true)).toBe(1);
    expect(tableFraction(users, null, false)).toBe(0);
  });

  it("follows the last rowid written through the rowid range", () => {
    expect(tableFraction(users, ["50"], false)).toBe(0.5);
    expect(tableFraction(users, ["100"], false)).toBe(1);
    expect(tableFraction(table("sparse", 11, [-5, 5]), ["0"], false)).toBeCloseTo(6 / 11, 12);
  });

  it("clamps rowids outside the planned range (rows added or removed since)", () => {
    expect(tableFraction(users, ["500"], false)).toBe(1);
    expect(tableFraction(users, ["-7"], false)).toBe(0);
  });

  it("is 0 when the position cannot be judged", () => {
    expect(tableFraction(table("empty", 0), ["1"], false)).toBe(0);
    const keyed: TablePlan = { ...users, key: { kind: "primaryKey", columns: ["a"] } };
    expect(tableFraction(keyed, ["'m'"], false)).toBe(0);
  });
});

describe("overallPercent", () => {
  const tables = [table("a", 100), table("b", 300), table("c", 0)]; // an empty table still weighs 1

  it("counts finished tables in full and the current one by position", () => {
    expect(overallPercent(tables, 0, 0)).toBe(0);
    expect(overallPercent(tables, 0, 0.5)).toBeCloseTo((50 / 401) * 100, 10);
    expect(overallPercent(tables, 1, 0)).toBeCloseTo((100 / 401) * 100, 10);
    expect(overallPercent(tables, 1, 0.5)).toBeCloseTo((250 / 401) * 100, 10);
    expect(overallPercent(tables, 2, 0)).toBeCloseTo((400 / 401) * 100, 10);
    expect(overallPercent(tables, 3, 0)).toBe(100);
    expect(overallPercent(tables, 3, 1)).toBe(100);
  });

  it("never goes backwards while the dump advances", () => {
    let last = 0;
    for (let finished = 0; finished <= tables.length; finished++) {
      for (const fraction of [0, 0.25, 0.5, 0.99]) {
        if (finished === tables.length && fraction > 0) continue;
        const percent = overallPercent(tables, finished, fraction);
        expect(percent).toBeGreaterThanOrEqual(last);
        last = percent;
      }
    }
  });

  it("is 0 for a dump of no tables", () => {
    expect(overallPercent([], 0, 0)).toBe(0);
  });
});
