// A dump's plan reaches the Workflow as a step's result, and a step may return at most 1 MiB. The plan of
// a database with thousands of tables is larger (about 650 bytes per table of 12 columns), so the source
// database keeps such a plan in pages, made in the same call as the plan itself, and the Workflow reads
// them one step each, then tells the database to forget them.

import type { SqlDatabase } from "./sql-handle";
import type { DumpPlan } from "./types";

/** Characters of the plan's JSON per page: at most 768 KB as UTF-8, 512 KB as UTF-16. */
export const PLAN_PAGE_CHARS = 256 * 1024;

/** What the plan step returns: the plan itself, or how to read it back in pages. */
export type PlannedDump =
  | { plan: DumpPlan }
  | { pages: number; tables: number; firstTable: string | null; databaseSize: number };

/** The plan's JSON cut into pages; no page ends between the two halves of a surrogate pair. */
export function planPages(plan: DumpPlan, pageChars = PLAN_PAGE_CHARS): string[] {
  const json = JSON.stringify(plan);
  const pages: string[] = [];
  for (let start = 0; start < json.length; ) {
    let end = Math.min(json.length, start + pageChars);
    const last = json.charCodeAt(end - 1);
    if (end < json.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pages.push(json.slice(start, end));
    start = end;
  }
  return pages;
}

export function joinPlanPages(pages: string[]): DumpPlan {
  return JSON.parse(pages.join("")) as DumpPlan;
}

function pageKey(dumpId: string, page: number): string {
  return `dump-plan:${dumpId}:${page}`;
}

function countKey(dumpId: string): string {
  return `dump-plan:${dumpId}`;
}

/** The plan when it fits one step's result; else its pages are kept in `db` under the dump's id. */
export function keepPlan(db: SqlDatabase, dumpId: string, plan: DumpPlan, pageChars = PLAN_PAGE_CHARS): PlannedDump {
  const pages = planPages(plan, pageChars);
  if (pages.length <= 1) return { plan };
  // A retried plan step replaces the pages of the previous attempt.
  forgetPlan(db, dumpId);
  db.transactionSync(() => {
    pages.forEach((page, i) => db.kv.put(pageKey(dumpId, i + 1), page));
    db.kv.put(countKey(dumpId), pages.length);
  });
  return { pages: pages.length, tables: plan.tables.length, firstTable: plan.tables[0]?.name ?? null, databaseSize: plan.databaseSize };
}

/** Page `page` (from 1) of a kept plan. */
export function planPage(db: SqlDatabase, dumpId: string, page: number): string {
  const text = db.kv.get<string>(pageKey(dumpId, page));
  if (text === undefined) throw new Error(`page ${page} of the plan of dump ${dumpId} is not kept in this database`);
  return text;
}

/** Deletes the pages of a kept plan, if any; returns how many there were. */
export function forgetPlan(db: SqlDatabase, dumpId: string): number {
  const count = db.kv.get<number>(countKey(dumpId)) ?? 0;
  db.transactionSync(() => {
    for (let page = 1; page <= count; page++) db.kv.delete(pageKey(dumpId, page));
    db.kv.delete(countKey(dumpId));
  });
  return count;
}
