// Dump ids: sortable by start time, valid Workflow instance ids.

export function newDumpId(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${random}`;
}

/** dump_YYYYMMDD-HHMMSS.sql, from the dump's UTC start time. */
export function dumpFileName(createdAt: string): string {
  const stamp = new Date(createdAt).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `dump_${stamp}.sql`;
}

export function chooseStorage(
  requested: "auto" | "r2" | "do",
  estimatedBytes: number,
  thresholdBytes: number,
  hasBucket: boolean,
): "r2" | "do" {
  if (requested !== "auto") return requested;
  return hasBucket && estimatedBytes > thresholdBytes ? "r2" : "do";
}
