// Durations written as in Workflows ("7 days", "1 hour", "30 seconds") or as milliseconds.

const UNIT_MS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? Math.floor(text) : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!match) return /^\s*\d+\s*$/.test(text) ? Number(text) : null;
  return Math.floor(Number(match[1]) * UNIT_MS[match[2].toLowerCase()]);
}
