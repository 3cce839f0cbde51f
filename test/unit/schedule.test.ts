import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { JobTable } from "../../shared/job-table";
import {
  SCHEDULE_INPUT,
  finishedOutcome,
  runNotStarted,
  savedSchedule,
  scheduleRunId,
  scheduleView,
  type RunOutcome,
  type ScheduleSpec,
} from "../../shared/schedule";
import { ScheduleTable } from "../../shared/schedule-table";
import { describeIssues } from "../../shared/schemas";
import { dumpRecord } from "../job-fixtures";
import { sqlJsDatabase } from "./sqljs-database";

function parse(input: unknown) {
  const parsed = v.safeParse(SCHEDULE_INPUT, input);
  return parsed.success ? { ok: true as const, value: parsed.output } : { ok: false as const, error: describeIssues(parsed.issues) };
}

const SPEC: ScheduleSpec = {
  cron: "0 3 * * *",
  databases: ["shop", "blog"],
  options: { storage: "auto", deleteAfterDownload: false, schemaOnly: false, dataOnly: false, compression: "gzip", snapshot: true },
  retention: { keepLast: 7, keepWeekly: 4 },
  concurrency: 2,
};

describe("SCHEDULE_INPUT", () => {
  it("takes one database or a list, fills the dump options' defaults and the concurrency", () => {
    const one = parse({ cron: "0 3 * * *", databases: "shop", retention: { keepLast: 3 } });
    expect(one).toEqual({
      ok: true,
      value: {
        cron: "0 3 * * *",
        databases: ["shop"],
        options: { storage: "auto", deleteAfterDownload: false, schemaOnly: false, dataOnly: false, compression: "none", snapshot: true },
        retention: { keepLast: 3 },
        concurrency: 4,
      },
    });
    const many = parse({ cron: "*/15 * * * *", databases: ["a", "b"], options: { compression: "gzip" }, retention: { keepLast: 1, keepDaily: 7 }, concurrency: 1 });
    expect(many.ok && many.value.databases).toEqual(["a", "b"]);
    expect(many.ok && many.value.options.compression).toBe("gzip");
  });

  it.each([
    [{ cron: "0 3 * *", databases: "a", retention: { keepLast: 1 } }, /5 fields/],
    [{ cron: "61 * * * *", databases: "a", retention: { keepLast: 1 } }, /minute: "61" is outside 0-59/],
    [{ cron: "0 0 31 2 *", databases: "a", retention: { keepLast: 1 } }, /never runs/],
    [{ cron: "* * * * *", databases: [], retention: { keepLast: 1 } }, /at least one database/],
    [{ cron: "* * * * *", databases: ["a", "a"], retention: { keepLast: 1 } }, /named twice/],
    [{ cron: "* * * * *", databases: "no spaces", retention: { keepLast: 1 } }, /database/],
    [{ cron: "* * * * *", databases: "a" }, /retention/],
    [{ cron: "* * * * *", databases: "a", retention: { keepLast: 0 } }, /keepLast must be at least 1/],
    [{ cron: "* * * * *", databases: "a", retention: { keepLast: 1, keepMonthly: 3 } }, /keepMonthly/],
    [{ cron: "* * * * *", databases: "a", retention: { keepLast: 1 }, concurrency: 0 }, /concurrency must be at least 1/],
    [{ cron: "* * * * *", databases: "a", retention: { keepLast: 1 }, options: { schemaOnly: true, dataOnly: true } }, /schemaOnly and dataOnly/],
    [{ cron: "* * * * *", databases: "a", retention: { keepLast: 1 }, options: { compression: "zstd" } }, /compression/],
    [{ cron: "* * * * *", databases: "a", retention: { keepLast: 1 }, extra: true }, /extra/],
  ])("refuses %j", (input, message) => {
    const parsed = parse(input);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(message);
  });
});

describe("schedule records", () => {
  it("names a run by schedule and cron minute, as a valid Workflow instance id", () => {
    expect(scheduleRunId("nightly", new Date("2026-12-01T03:00:00.000Z"))).toBe("sched-nightly-20261201-0300");
    expect(scheduleRunId("x".repeat(64), new Date())).toMatch(/^[a-zA-Z0-9_][a-zA-Z0-9-_]{0,99}$/);
  });

  it("keeps the creation time and last run when saved again, and computes the next run", () => {
    const first = savedSchedule("n", SPEC, "http://x", new Date("2026-12-01T10:15:00Z"), null);
    expect(first.nextRunAt).toBe("2026-12-02T03:00:00.000Z");
    const withRun = { ...first, lastNotStarted: runNotStarted("r", "2026-12-02T03:00:00.000Z", new Date("2026-12-02T03:00:01Z"), "why") };
    const second = savedSchedule("n", { ...SPEC, cron: "30 * * * *" }, "http://x", new Date("2026-12-02T04:00:00Z"), withRun);
    expect(second).toMatchObject({ createdAt: first.createdAt, updatedAt: "2026-12-02T04:00:00.000Z", nextRunAt: "2026-12-02T04:30:00.000Z" });
    expect(scheduleView(second).lastOutcome).toEqual({ outcome: "not_started", at: "2026-12-02T03:00:01.000Z", error: "why", skipped: [] });
  });

  it("calls a run completed only when every database was dumped", () => {
    const done = (status: string) => ({ database: "d", dumpId: "x", status });
    expect(finishedOutcome([done("completed"), done("completed")], [])).toBe("completed");
    expect(finishedOutcome([done("completed"), done("failed")], [])).toBe("partial");
    expect(finishedOutcome([done("completed")], [{ database: "e", reason: "empty" }])).toBe("partial");
    expect(finishedOutcome([done("failed")], [])).toBe("failed");
    expect(finishedOutcome([], [{ database: "e", reason: "empty" }])).toBe("failed");
  });
});

describe("ScheduleTable", () => {
  it("stores, lists by name, replaces and deletes schedules", () => {
    const table = new ScheduleTable(sqlJsDatabase());
    const now = new Date("2026-12-01T10:00:00Z");
    table.put(savedSchedule("b", SPEC, "http://x", now, null));
    table.put(savedSchedule("a", SPEC, "http://x", now, null));
    expect(table.list().map((s) => s.name)).toEqual(["a", "b"]);
    table.put(savedSchedule("a", { ...SPEC, concurrency: 9 }, "http://x", now, table.get("a")));
    expect(table.get("a")?.concurrency).toBe(9);
    expect(table.delete("a")).toBe(true);
    expect(table.delete("a")).toBe(false);
    expect(table.get("a")).toBeNull();
  });

  it("claims a due run once, moving the schedule on to its next cron time", () => {
    const table = new ScheduleTable(sqlJsDatabase());
    table.put(savedSchedule("every-minute", { ...SPEC, cron: "* * * * *" }, "http://x", new Date("2026-12-01T10:00:30Z"), null));
    table.put(savedSchedule("nightly", SPEC, "http://x", new Date("2026-12-01T10:00:30Z"), null));
    expect(table.claimDue(new Date("2026-12-01T10:00:59Z"))).toEqual([]);
    const claimed = table.claimDue(new Date("2026-12-01T10:01:00Z"));
    expect(claimed.map((c) => [c.schedule.name, c.scheduledAt])).toEqual([["every-minute", "2026-12-01T10:01:00.000Z"]]);
    expect(table.claimDue(new Date("2026-12-01T10:01:00Z"))).toEqual([]);
    expect(table.get("every-minute")?.nextRunAt).toBe("2026-12-01T10:02:00.000Z");
    // A trigger that comes late claims the missed minute once, and moves on past its own time.
    const late = table.claimDue(new Date("2026-12-01T10:07:00Z"));
    expect(late.map((c) => c.scheduledAt)).toEqual(["2026-12-01T10:02:00.000Z"]);
    expect(table.get("every-minute")?.nextRunAt).toBe("2026-12-01T10:08:00.000Z");
  });

  it("keeps the latest run when an older one reports late, and runs that could not start apart", () => {
    const table = new ScheduleTable(sqlJsDatabase());
    table.put(savedSchedule("n", SPEC, "http://x", new Date("2026-12-01T10:00:00Z"), null));
    const run = (runId: string, scheduledAt: string, outcome: RunOutcome) => ({ ...runNotStarted(runId, scheduledAt, new Date(scheduledAt), ""), outcome });
    table.recordRun("n", run("r1", "2026-12-01T03:00:00.000Z", "running"));
    table.recordRun("n", run("r2", "2026-12-02T03:00:00.000Z", "not_started"));
    expect(table.get("n")).toMatchObject({ lastRun: { runId: "r1", outcome: "running" }, lastNotStarted: { runId: "r2" } });
    expect(scheduleView(table.get("n")!).lastOutcome?.outcome).toBe("not_started");
    table.recordRun("n", run("r1", "2026-12-01T03:00:00.000Z", "completed"));
    expect(table.get("n")).toMatchObject({ lastRun: { runId: "r1", outcome: "completed" }, lastNotStarted: { runId: "r2" } });
    table.recordRun("n", run("r3", "2026-12-03T03:00:00.000Z", "completed"));
    table.recordRun("n", run("r1", "2026-12-01T03:00:00.000Z", "failed"));
    expect(table.get("n")?.lastRun?.runId).toBe("r3");
    expect(scheduleView(table.get("n")!).lastOutcome?.outcome).toBe("completed");
    expect(table.recordRun("missing", run("r4", "2026-12-04T03:00:00.000Z", "running"))).toBeNull();
  });
});

describe("JobTable, for schedules", () => {
  it("lists the dumps of one schedule, and its completed dumps for retention", () => {
    const jobs = new JobTable(sqlJsDatabase());
    jobs.create("dump", { ...dumpRecord("d1", "shop", "2026-12-01T03:00:00.000Z"), schedule: "nightly", phase: "completed" });
    jobs.create("dump", { ...dumpRecord("d2", "shop", "2026-12-02T03:00:00.000Z"), schedule: "nightly" });
    jobs.create("dump", { ...dumpRecord("d3", "shop", "2026-12-02T04:00:00.000Z"), schedule: "hourly", phase: "completed" });
    jobs.create("dump", dumpRecord("d4", "shop", "2026-12-02T05:00:00.000Z"));
    expect(jobs.list("dump", { schedule: "nightly", limit: 10 }).map((d) => d.dumpId)).toEqual(["d2", "d1"]);
    expect(jobs.list("dump", { limit: 10 }).map((d) => d.dumpId)).toEqual(["d4", "d3", "d2", "d1"]);
    expect(jobs.completedScheduledDumps("nightly")).toEqual([{ id: "d1", database: "shop", createdAt: "2026-12-01T03:00:00.000Z" }]);
  });
});
