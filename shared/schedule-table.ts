// The schedules, in one SQLite table of the JobIndex Durable Object, written against the SQL handle
// so that it runs in Node tests as well.

import { nextRunAt, type ScheduleRecord, type ScheduleRun } from "./schedule";
import type { SqlDatabase } from "./sql-handle";

/** A schedule whose run is due, with the cron time that run is for. */
export interface DueSchedule {
  schedule: ScheduleRecord;
  scheduledAt: string;
}

export class ScheduleTable {
  constructor(private readonly database: SqlDatabase) {
    database.sql.exec(`
      CREATE TABLE IF NOT EXISTS schedules (
        name TEXT PRIMARY KEY,
        next_run_at TEXT,
        record TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS schedules_due ON schedules(next_run_at);
    `);
  }

  put(record: ScheduleRecord): void {
    this.database.sql.exec(
      "INSERT OR REPLACE INTO schedules (name, next_run_at, record) VALUES (?, ?, ?)",
      record.name,
      record.nextRunAt,
      JSON.stringify(record),
    );
  }

  get(name: string): ScheduleRecord | null {
    const row = this.database.sql.exec<{ record: string }>("SELECT record FROM schedules WHERE name = ?", name).toArray()[0];
    return row ? (JSON.parse(row.record) as ScheduleRecord) : null;
  }

  /** Every schedule, by name. */
  list(): ScheduleRecord[] {
    return this.database.sql
      .exec<{ record: string }>("SELECT record FROM schedules ORDER BY name")
      .toArray()
      .map((row) => JSON.parse(row.record) as ScheduleRecord);
  }

  /** True when there was such a schedule. */
  delete(name: string): boolean {
    const existed = this.get(name) !== null;
    this.database.sql.exec("DELETE FROM schedules WHERE name = ?", name);
    return existed;
  }

  /**
   * The schedules due at `now`, each moved on to its next cron time in the same transaction, so that
   * two triggers that overlap never claim the same run twice.
   */
  claimDue(now: Date): DueSchedule[] {
    return this.database.transactionSync(() => {
      const due = this.database.sql
        .exec<{ record: string }>("SELECT record FROM schedules WHERE next_run_at <= ? ORDER BY next_run_at, name", now.toISOString())
        .toArray()
        .map((row) => JSON.parse(row.record) as ScheduleRecord);
      return due.map((schedule) => {
        const scheduledAt = schedule.nextRunAt!;
        this.put({ ...schedule, nextRunAt: nextRunAt(schedule.cron, now) });
        return { schedule, scheduledAt };
      });
    });
  }

  /**
   * Records a run as the schedule's last run (or, when it could not start, as lastNotStarted), unless a
   * later one is recorded there already; null when the schedule is gone.
   */
  recordRun(name: string, run: ScheduleRun): ScheduleRecord | null {
    return this.database.transactionSync(() => {
      const current = this.get(name);
      if (!current) return null;
      const field = run.outcome === "not_started" ? "lastNotStarted" : "lastRun";
      const recorded = current[field] ?? null;
      if (recorded && recorded.runId !== run.runId && recorded.scheduledAt > run.scheduledAt) return current;
      const next = { ...current, [field]: run };
      this.put(next);
      return next;
    });
  }
}
