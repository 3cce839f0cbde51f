// The records of every job (dumps and restores) in one SQLite table: the JobIndex Durable Object's
// storage, written against the SQL handle so that it runs in Node tests as well.

import { mergeDumpProgress, type DumpRecord, type DumpRecordPatch } from "./dump-record";
import { jobIdOf, type JobKind, type JobListQuery, type JobPatch, type JobRecord } from "./job-record";
import { mergeRestoreProgress, type RestoreRecord, type RestoreRecordPatch } from "./restore-record";
import type { SqlDatabase } from "./sql-handle";

export class JobTable {
  constructor(private readonly database: SqlDatabase) {
    database.sql.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        database TEXT NOT NULL,
        phase TEXT NOT NULL,
        created_at TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (kind, id)
      );
      CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs(kind, created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS jobs_by_database ON jobs(kind, database, phase);
    `);
  }

  create<K extends JobKind>(kind: K, record: JobRecord<K>): void {
    this.database.sql.exec(
      "INSERT INTO jobs (kind, id, database, phase, created_at, record) VALUES (?, ?, ?, ?, ?, ?)",
      kind,
      jobIdOf(kind, record),
      record.database,
      record.phase,
      record.createdAt,
      JSON.stringify(record),
    );
  }

  get<K extends JobKind>(kind: K, id: string): JobRecord<K> | null {
    const row = this.database.sql
      .exec<{ record: string }>("SELECT record FROM jobs WHERE kind = ? AND id = ?", kind, id)
      .toArray()[0];
    return row ? (JSON.parse(row.record) as JobRecord<K>) : null;
  }

  /** Merges the patch into the record (progress only moves forward); null when there is no such job. */
  update<K extends JobKind>(kind: K, id: string, patch: JobPatch<K>): JobRecord<K> | null {
    return this.database.transactionSync(() => {
      const current = this.get(kind, id);
      if (!current) return null;
      const next = mergeJobRecord(kind, current, patch);
      this.database.sql.exec(
        "UPDATE jobs SET record = ?, phase = ? WHERE kind = ? AND id = ?",
        JSON.stringify(next),
        next.phase,
        kind,
        id,
      );
      return next;
    });
  }

  delete(kind: JobKind, id: string): void {
    this.database.sql.exec("DELETE FROM jobs WHERE kind = ? AND id = ?", kind, id);
  }

  /** Newest first, after `query.before` (the last record of the previous page). */
  list<K extends JobKind>(kind: K, query: JobListQuery): JobRecord<K>[] {
    const conditions = ["kind = ?"];
    const params: string[] = [kind];
    if (query.database) {
      conditions.push("database = ?");
      params.push(query.database);
    }
    if (query.schedule) {
      conditions.push("json_extract(record, '$.schedule') = ?");
      params.push(query.schedule);
    }
    if (query.before) {
      conditions.push("(created_at, id) < (?, ?)");
      params.push(query.before.createdAt, query.before.id);
    }
    const limit = Math.max(1, Math.floor(query.limit));
    return this.database.sql
      .exec<{ record: string }>(
        `SELECT record FROM jobs WHERE ${conditions.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
        ...params,
      )
      .toArray()
      .map((row) => JSON.parse(row.record) as JobRecord<K>);
  }

  /** The completed dumps that `schedule` started, on every database: what its retention policy chooses from. */
  completedScheduledDumps(schedule: string): Array<{ id: string; database: string; createdAt: string }> {
    return this.database.sql
      .exec<{ id: string; database: string; created_at: string }>(
        "SELECT id, database, created_at FROM jobs WHERE kind = 'dump' AND phase = 'completed' AND json_extract(record, '$.schedule') = ?",
        schedule,
      )
      .toArray()
      .map((row) => ({ id: row.id, database: row.database, createdAt: row.created_at }));
  }

  /** Jobs on `database` that have not finished by their records, oldest first. */
  started<K extends JobKind>(kind: K, database: string): JobRecord<K>[] {
    return this.database.sql
      .exec<{ record: string }>(
        "SELECT record FROM jobs WHERE kind = ? AND database = ? AND phase = 'started' ORDER BY created_at",
        kind,
        database,
      )
      .toArray()
      .map((row) => JSON.parse(row.record) as JobRecord<K>);
  }
}

/** Merges a patch into a record; progress only moves forward, so a retried step cannot move it back. */
export function mergeJobRecord<K extends JobKind>(kind: K, current: JobRecord<K>, patch: JobPatch<K>): JobRecord<K> {
  const next = { ...current, ...patch } as JobRecord<K>;
  if (!patch.progress) return next;
  if (kind === "dump") {
    (next as DumpRecord).progress = mergeDumpProgress((current as DumpRecord).progress, (patch as DumpRecordPatch).progress!);
  } else {
    (next as RestoreRecord).progress = mergeRestoreProgress((current as RestoreRecord).progress, (patch as RestoreRecordPatch).progress!);
  }
  return next;
}
