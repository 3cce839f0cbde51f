// Dump ids: sortable by start time, valid Workflow instance ids.

import { fileExtension, type Compression } from "./dump-encoding";

export function newDumpId(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${random}`;
}

/** dump_YYYYMMDD-HHMMSS.sql (or .sql.gz), from the dump's UTC start time. */
export function dumpFileName(createdAt: string, compression: Compression = "none"): string {
  const stamp = new Date(createdAt).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `dump_${stamp}${fileExtension(compression)}`;
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
