import { describe, expect, it } from "vitest";
import { CronError, dueBetween, nextRun, parseCron } from "../../shared/cron";
import { backupsBeyondPolicy, isoWeek } from "../../shared/backup-retention";
import { seededRandom } from "../random";

const at = (iso: string) => new Date(iso);
const next = (expression: string, after: string) => nextRun(parseCron(expression), at(after))?.toISOString() ?? null;

/** The slow, obviously right answer: try every minute. */
function bruteNext(expression: string, after: Date): string | null {
  const s = parseCron(expression);
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  for (let i = 0; i < 60 * 24 * 800; i++) {
    t.setUTCMinutes(t.getUTCMinutes() + 1);
    const dom = s.daysOfMonth.has(t.getUTCDate());
    const dow = s.daysOfWeek.has(t.getUTCDay());
    const day = s.dayOrDay ? dom || dow : dom && dow;
    if (s.minutes.has(t.getUTCMinutes()) && s.hours.has(t.getUTCHours()) && s.months.has(t.getUTCMonth() + 1) && day) {
      return t.toISOString();
    }
  }
  return null;
}

describe("cron expressions", () => {
  it("finds the next minute for common schedules", () => {
    expect(next("0 3 * * *", "2026-12-01T06:50:00Z")).toBe("2026-12-02T03:00:00.000Z");
    expect(next("*/15 * * * *", "2026-12-01T06:50:30Z")).toBe("2026-12-01T07:00:00.000Z");
    expect(next("* * * * *", "2026-12-31T23:59:59Z")).toBe("2027-01-01T00:00:00.000Z");
    expect(next("30 2 * * SUN", "2026-12-01T00:00:00Z")).toBe("2026-12-06T02:30:00.000Z");
    expect(next("0 0 29 FEB *", "2026-03-01T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z");
    expect(next("0 12 1-7 * 1-5", "2026-12-01T13:00:00Z")).toBe("2026-12-02T12:00:00.000Z");
    expect(next("0 0 * * 7", "2026-12-01T00:00:00Z")).toBe("2026-12-06T00:00:00.000Z");
    expect(next("0 0 31 2 *", "2026-01-01T00:00:00Z")).toBeNull();
  });

  it("agrees with a minute-by-minute search on random expressions", () => {
    const random = seededRandom(11);
    const pick = (values: string[]) => values[Math.floor(random() * values.length)];
    for (let i = 0; i < 60; i++) {
      const expression = [
        pick(["*", "0", "*/7", "5,35", "10-20/5"]),
        pick(["*", "3", "*/6", "1-4", "22"]),
        pick(["*", "1", "15", "28-31", "*/10"]),
        pick(["*", "2", "JAN-MAR", "6,12", "*/4"]),
        pick(["*", "0", "MON-FRI", "6", "1,3"]),
      ].join(" ");
      const after = new Date(Date.UTC(2026, Math.floor(random() * 12), 1 + Math.floor(random() * 28), Math.floor(random() * 24)));
      expect(nextRun(parseCron(expression), after)?.toISOString() ?? null, expression).toBe(bruteNext(expression, after));
    }
  });

  it("says what is wrong with a bad expression", () => {
    expect(() => parseCron("0 3 * *")).toThrow(/5 fields/);
    expect(() => parseCron("60 * * * *")).toThrow(/minute: "60" is outside 0-59/);
    expect(() => parseCron("* * * FOO *")).toThrow(/month/);
    expect(() => parseCron("5-1 * * * *")).toThrow(/backwards/);
    expect(() => parseCron("*/0 * * * *")).toThrow(CronError);
  });

  it("tells whether a run falls inside a window", () => {
    const daily = parseCron("0 3 * * *");
    expect(dueBetween(daily, at("2026-12-01T02:59:00Z"), at("2026-12-01T03:00:00Z"))).toBe(true);
    expect(dueBetween(daily, at("2026-12-01T03:00:00Z"), at("2026-12-01T03:05:00Z"))).toBe(false);
  });
});

describe("backup retention", () => {
  const backups = (dates: string[]) => dates.map((createdAt, i) => ({ id: `b${i}`, createdAt }));

  it("keeps the newest N and deletes the rest, oldest first", () => {
    const list = backups(["2026-12-01T03:00:00Z", "2026-12-02T03:00:00Z", "2026-12-03T03:00:00Z", "2026-12-04T03:00:00Z"]);
    expect(backupsBeyondPolicy(list, { keepLast: 2 }).map((b) => b.id)).toEqual(["b0", "b1"]);
    expect(backupsBeyondPolicy(list, { keepLast: 10 })).toEqual([]);
  });

  it("keeps the newest of each of the last D days and W weeks", () => {
    const list = backups([
      "2026-11-16T03:00:00Z", // week 47
      "2026-11-23T03:00:00Z", // week 48
      "2026-11-29T03:00:00Z", // week 48, Sunday
      "2026-11-30T01:00:00Z", // week 49
      "2026-11-30T13:00:00Z",
      "2026-12-01T01:00:00Z",
      "2026-12-01T13:00:00Z",
    ]);
    const deleted = backupsBeyondPolicy(list, { keepLast: 1, keepDaily: 2, keepWeekly: 3 }).map((b) => b.id);
    // Kept: b6 (last), b6 and b4 (days), b6, b2 and b0 (weeks 49, 48, 47).
    expect(deleted).toEqual(["b1", "b3", "b5"]);
  });

  it("numbers ISO weeks across year ends", () => {
    expect(isoWeek(at("2026-12-01T00:00:00Z"))).toBe("2026-W49");
    expect(isoWeek(at("2027-01-01T00:00:00Z"))).toBe("2026-W53");
    expect(isoWeek(at("2025-12-29T00:00:00Z"))).toBe("2026-W01");
  });
});
