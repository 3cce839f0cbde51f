// Which backups of a schedule to keep: the newest N, and optionally the newest of each of the last D
// days and of each of the last W ISO weeks (UTC), as grandfather-father-son rotation does.

export interface RetentionPolicy {
  keepLast: number;
  keepDaily?: number;
  keepWeekly?: number;
}

export interface Backup {
  id: string;
  createdAt: string;
}

/** The backups to delete, oldest first. Only completed backups should be passed in. */
export function backupsBeyondPolicy<T extends Backup>(backups: T[], policy: RetentionPolicy): T[] {
  const newestFirst = [...backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const keep = new Set<string>(newestFirst.slice(0, policy.keepLast).map((b) => b.id));
  keepNewestPerPeriod(newestFirst, policy.keepDaily ?? 0, (date) => date.toISOString().slice(0, 10), keep);
  keepNewestPerPeriod(newestFirst, policy.keepWeekly ?? 0, isoWeek, keep);
  return newestFirst.filter((b) => !keep.has(b.id)).reverse();
}

function keepNewestPerPeriod(newestFirst: Backup[], periods: number, periodOf: (date: Date) => string, keep: Set<string>) {
  const seen = new Set<string>();
  for (const backup of newestFirst) {
    if (seen.size >= periods) return;
    const period = periodOf(new Date(backup.createdAt));
    if (seen.has(period)) continue;
    seen.add(period);
    keep.add(backup.id);
  }
}

/** "2026-W48": the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week names its year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}
