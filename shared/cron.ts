// Five-field cron expressions (minute hour day-of-month month day-of-week), in UTC, as Cron Triggers
// read them: lists, ranges, steps, `*`, month and weekday names. The next run is found by walking
// forward field by field, never minute by minute.

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** Both day fields restricted: a day matches when either does (as in Vixie cron). */
  dayOrDay: boolean;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  namesFrom?: number;
}

const FIELDS: FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  // 7 is Sunday too.
  { name: "day of week", min: 0, max: 7, names: WEEKDAYS, namesFrom: 0 },
];

export class CronError extends Error {}

/** Parses an expression or throws a CronError that says which field is wrong and why. */
export function parseCron(expression: string): CronSchedule {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new CronError(`a cron expression has 5 fields (minute hour day-of-month month day-of-week), "${expression}" has ${fields.length}`);
  }
  const sets = fields.map((text, i) => parseField(text, FIELDS[i]));
  const daysOfWeek = new Set([...sets[4]].map((d) => d % 7));
  return {
    minutes: sets[0],
    hours: sets[1],
    daysOfMonth: sets[2],
    months: sets[3],
    daysOfWeek,
    dayOrDay: fields[2] !== "*" && fields[4] !== "*",
  };
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new CronError(`${spec.name}: "${part}" is not a value, range, list or step`);
    const step = match[2] === undefined ? 1 : Number(match[2]);
    if (step < 1) throw new CronError(`${spec.name}: a step must be at least 1`);
    let from: number;
    let to: number;
    if (match[1] === "*") {
      from = spec.min;
      to = spec.max === 7 ? 6 : spec.max;
    } else {
      const [a, b] = match[1].split("-");
      from = fieldValue(a, spec);
      to = b === undefined ? (match[2] === undefined ? from : spec.max) : fieldValue(b, spec);
    }
    if (from > to) throw new CronError(`${spec.name}: range ${from}-${to} runs backwards`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function fieldValue(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + (spec.namesFrom ?? 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
    throw new CronError(`${spec.name}: "${text}" is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const dom = schedule.daysOfMonth.has(date.getUTCDate());
  const dow = schedule.daysOfWeek.has(date.getUTCDay());
  return schedule.dayOrDay ? dom || dow : dom && dow;
}

/** The first minute strictly after `after` that the schedule matches, or null within the next 5 years. */
export function nextRun(schedule: CronSchedule, after: Date): Date | null {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = after.getTime() + 5 * 366 * 86_400_000;
  while (t.getTime() <= limit) {
    if (!schedule.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(schedule, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!schedule.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return null;
}

/** Whether the schedule is due at some minute in (after, until]. */
export function dueBetween(schedule: CronSchedule, after: Date, until: Date): boolean {
  const next = nextRun(schedule, after);
  return next !== null && next.getTime() <= until.getTime();
}
