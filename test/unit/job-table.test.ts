import { describe, expect, it } from "vitest";
import type { DumpRecord } from "../../shared/dump-record";
import { JobTable } from "../../shared/job-table";
import { dumpRecord as dump, restoreRecord as restore } from "../job-fixtures";
import { sqlJsDatabase } from "./sqljs-database";

describe("JobTable", () => {
  it("keeps dumps and restores apart, even with the same id", () => {
    const jobs = new JobTable(sqlJsDatabase());
    jobs.create("dump", dump("same", "a", "2026-01-01T00:00:00.000Z"));
    jobs.create("restore", restore("same", "b", "2026-01-01T00:00:00.000Z"));
    expect(jobs.get("dump", "same")?.database).toBe("a");
    expect(jobs.get("restore", "same")?.database).toBe("b");
    jobs.delete("dump", "same");
    expect(jobs.get("dump", "same")).toBeNull();
    expect(jobs.get("restore", "same")).not.toBeNull();
    expect(jobs.update("dump", "same", { phase: "failed" })).toBeNull();
  });

  it("never moves a dump's counters back, and keeps the phase in step with the record", () => {
    const jobs = new JobTable(sqlJsDatabase());
    jobs.create("dump", dump("d1", "a", "2026-01-01T00:00:00.000Z"));
    const ahead = { currentTable: "t2", processedTables: 2, totalTables: 3, rowsDumped: 50, bytesWritten: 900, percent: 60 };
    jobs.update("dump", "d1", { progress: ahead });
    // A retried step reports an older position.
    const behind = { currentTable: "t1", processedTables: 1, totalTables: 3, rowsDumped: 20, bytesWritten: 400, percent: 30 };
    const after = jobs.update("dump", "d1", { progress: behind, phase: "completed" });
    expect(after?.progress).toEqual({ ...ahead, currentTable: "t1" });
    expect(jobs.started("dump", "a")).toEqual([]);
  });

  it("keeps a restore's position from the record that read further", () => {
    const jobs = new JobTable(sqlJsDatabase());
    jobs.create("restore", restore("r1", "a", "2026-01-01T00:00:00.000Z"));
    const further = { bytesRead: 600, totalBytes: 1000, statementsApplied: 6, statementsSkipped: 1, currentTable: "t2", percent: 60 };
    jobs.update("restore", "r1", { progress: further });
    const older = { bytesRead: 300, totalBytes: 1000, statementsApplied: 3, statementsSkipped: 1, currentTable: "t1", percent: 30 };
    expect(jobs.update("restore", "r1", { progress: older })?.progress).toEqual(further);
    expect(jobs.started("restore", "a").map((r) => r.restoreId)).toEqual(["r1"]);
  });

  it("lists newest first, by database, a page after another", () => {
    const jobs = new JobTable(sqlJsDatabase());
    const times = ["2026-01-01T00:00:01.000Z", "2026-01-01T00:00:03.000Z", "2026-01-01T00:00:02.000Z", "2026-01-01T00:00:03.000Z"];
    times.forEach((time, i) => jobs.create("dump", dump(`d${i}`, i % 2 ? "odd" : "even", time)));
    jobs.create("restore", restore("r", "odd", "2026-01-01T00:00:09.000Z"));
    const ids = (records: DumpRecord[]) => records.map((r) => r.dumpId);
    expect(ids(jobs.list("dump", { limit: 10 }))).toEqual(["d3", "d1", "d2", "d0"]);
    const first = jobs.list("dump", { limit: 2 });
    const last = first.at(-1)!;
    expect(ids(jobs.list("dump", { limit: 2, before: { createdAt: last.createdAt, id: last.dumpId } }))).toEqual(["d2", "d0"]);
    expect(ids(jobs.list("dump", { limit: 10, database: "odd" }))).toEqual(["d3", "d1"]);
  });
});
