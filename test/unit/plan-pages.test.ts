import { describe, expect, it } from "vitest";
import { forgetPlan, joinPlanPages, keepPlan, planPage, planPages, PLAN_PAGE_CHARS } from "../../shared/plan-pages";
import type { DumpPlan } from "../../shared/types";
import { sqlJsDatabase } from "./sqljs-database";
import { tablePlan } from "./table-plan";

/** The plan of `count` tables of 12 columns, as a database with one table per tenant has. */
function manyTables(count: number, name = (i: number) => `tenant_${i}_orders`): DumpPlan {
  const columns = Array.from({ length: 12 }, (_, i) => `column_${i}`);
  const tables = Array.from({ length: count }, (_, i) =>
    tablePlan({ name: name(i), createSql: `CREATE TABLE "${name(i)}" (${columns.map((c) => `${c} TEXT`).join(", ")})`, columns, columnTypes: columns.map(() => "TEXT") }),
  );
  return { database: "d", tables, objects: [], hasSequenceTable: false, databaseSize: 1 };
}

const utf8Bytes = (text: string) => Buffer.byteLength(text, "utf8");

describe("a plan too large for one step's result", () => {
  it("is cut into pages of at most 1 MiB that join back into the same plan", () => {
    const plan = manyTables(10_000);
    const pages = planPages(plan);
    expect(utf8Bytes(JSON.stringify(plan))).toBeGreaterThan(4 * 1024 * 1024);
    expect(pages.length).toBeGreaterThan(4);
    for (const page of pages) expect(utf8Bytes(JSON.stringify(page))).toBeLessThan(1024 * 1024);
    expect(joinPlanPages(pages)).toEqual(plan);
  });

  it("never ends a page between the halves of a surrogate pair, and keeps non-ASCII names exact", () => {
    const plan = manyTables(50, (i) => `表😀${i}`);
    for (const size of [7, 100, 1001]) {
      const pages = planPages(plan, size);
      for (const page of pages) expect(page).toBe(Buffer.from(page, "utf8").toString("utf8")); // no lone surrogate
      expect(joinPlanPages(pages)).toEqual(plan);
    }
  });

  it("is kept in the source database until forgotten; a small plan is returned whole", () => {
    const db = sqlJsDatabase();
    expect(keepPlan(db, "d1", manyTables(3))).toEqual({ plan: manyTables(3) });
    const plan = manyTables(3000);
    const kept = keepPlan(db, "d1", plan);
    expect(kept).toEqual({ pages: Math.ceil(JSON.stringify(plan).length / PLAN_PAGE_CHARS), tables: 3000, firstTable: "tenant_0_orders", databaseSize: 1 });
    const pages = "pages" in kept ? kept.pages : 0;
    // A retried plan step keeps the same pages again.
    expect(keepPlan(db, "d1", plan)).toEqual(kept);
    expect(joinPlanPages(Array.from({ length: pages }, (_, i) => planPage(db, "d1", i + 1)))).toEqual(plan);
    expect(forgetPlan(db, "d1")).toBe(pages);
    expect(forgetPlan(db, "d1")).toBe(0);
    expect(() => planPage(db, "d1", 1)).toThrow(/not kept/);
  });
});
