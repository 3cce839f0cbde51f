import { describe, expect, it } from "vitest";
import { emptyProgress } from "../../shared/dump-record";
import { jobStatus, reportedPercent, type JobPhase, type JobStatus, type WorkflowStatus } from "../../shared/job-record";

const WORKFLOW_STATUSES: (WorkflowStatus | null)[] = [
  "queued",
  "running",
  "paused",
  "errored",
  "terminated",
  "complete",
  "waiting",
  "waitingForPause",
  "unknown",
  null,
];
const PHASES: JobPhase[] = ["started", "completed", "failed", "cancelled", "expired"];
const API_STATUSES: JobStatus[] = ["queued", "in_progress", "paused", "completed", "failed", "cancelled", "expired"];

/** While the dump runs, the instance decides. */
const WHILE_STARTED: Record<string, JobStatus> = {
  queued: "queued",
  running: "in_progress",
  paused: "paused",
  errored: "failed",
  terminated: "cancelled",
  complete: "completed",
  waiting: "in_progress", // sleeping between chunks
  waitingForPause: "paused",
  unknown: "in_progress",
  null: "in_progress", // the instance could not be read
};

describe("jobStatus", () => {
  for (const phase of PHASES) {
    for (const workflow of WORKFLOW_STATUSES) {
      // Once the steps recorded a final phase, the instance (still waiting out retention, or gone) no longer matters.
      const expected = phase === "started" ? WHILE_STARTED[String(workflow)] : phase;
      it(`phase ${phase} + workflow ${workflow} -> ${expected}`, () => {
        expect(jobStatus(phase, workflow)).toBe(expected);
      });
    }
  }
});

describe("reportedPercent", () => {
  const percents = [-10, 0, 0.4, 33.3, 98.99, 99, 99.5, 99.999, 100, 100.5, 250];

  it("reaches 100 only for completed and expired dumps", () => {
    for (const status of API_STATUSES) {
      for (const percent of percents) {
        const reported = reportedPercent(status, percent);
        if (status === "completed" || status === "expired") {
          expect(reported).toBe(100);
        } else {
          expect(reported, `${status} ${percent}`).toBeLessThanOrEqual(99);
          expect(reported).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(reported)).toBe(true);
        }
      }
    }
  });

  it("rounds down and clamps", () => {
    expect(reportedPercent("in_progress", 42.9)).toBe(42);
    expect(reportedPercent("in_progress", -3)).toBe(0);
    expect(reportedPercent("paused", 100)).toBe(99);
    expect(reportedPercent("failed", 57.2)).toBe(57);
    expect(reportedPercent("completed", 12)).toBe(100);
  });
});

describe("emptyProgress", () => {
  it("starts at zero", () => {
    expect(emptyProgress()).toEqual({
      currentTable: null,
      processedTables: 0,
      totalTables: 0,
      rowsDumped: 0,
      bytesWritten: 0,
      percent: 0,
    });
    expect(emptyProgress(6).totalTables).toBe(6);
  });
});
