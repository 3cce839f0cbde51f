// Shared steps of the e2e round trips: dump through the public API, download like `curl -OJ`,
// check the file, restore it with the sqlite3 CLI and compare it with the service's database.

import { isUtf8 } from "node:buffer";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject } from "vitest";
import { ApiClient, type DumpStatus } from "../../scripts/lib/api-client.mjs";
import { compareWithService, formatMismatches, type ComparisonResult } from "../../scripts/lib/compare.mjs";
import { restoreDump } from "../../scripts/lib/sqlite-cli.mjs";
import { statementSizes, type SqlStatement } from "../../scripts/lib/sql-statements.mjs";

export const MAX_STATEMENT_BYTES = 100_000;
export const STORAGE_KINDS = ["do", "r2"] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

export function client(): ApiClient {
  return new ApiClient(inject("baseUrl"));
}

/** A temporary directory, made on first use (not when a skipped suite is collected), removed by `remove`. */
export function workDir(prefix: string): { readonly dir: string; remove: () => void } {
  let made: string | null = null;
  return {
    get dir() {
      made ??= mkdtempSync(join(tmpdir(), `e2e-${prefix}-`));
      return made;
    },
    remove: () => {
      if (made) rmSync(made, { recursive: true, force: true });
      made = null;
    },
  };
}

export interface RoundTrip {
  dumpId: string;
  status: DumpStatus;
  dumpPath: string;
  fileName: string;
  dbPath: string;
  bytes: Buffer;
  headers: Headers;
  statements: number;
  largestStatement: SqlStatement;
  comparison: ComparisonResult;
}

/**
 * Runs one dump of `database` to `storage`, downloads it like `curl -OJ`, restores it with sqlite3 and
 * compares it with the service. Asserts only what the later steps need (the dump completed, the file
 * restores); `expectExact` asserts the rest, so that tests using the restored file still run after a mismatch.
 */
export async function roundTrip(api: ApiClient, database: string, storage: StorageKind, dir: string): Promise<RoundTrip> {
  const started = await api.startDump({ database, options: { storage, breathingMs: 0 } });
  expect(started.storage).toBe(storage);
  const status = await api.waitForDump(started.dumpId, { timeoutMs: 90_000 });
  expect(status.status, `dump ${started.dumpId} ended ${status.status}: ${status.error}`).toBe("completed");
  const download = await api.downloadDump(started.dumpId, join(dir, `${storage}-download`));
  const bytes = readFileSync(download.path);
  const sizes = statementSizes(bytes.toString("utf8"), 1);
  const dbPath = join(dir, `${storage}-restored.db`);
  await restoreDump(download.path, dbPath);
  const comparison = await compareWithService(dbPath, api, { database });
  return {
    dumpId: started.dumpId,
    status,
    dumpPath: download.path,
    fileName: download.fileName,
    dbPath,
    bytes,
    headers: download.headers,
    statements: sizes.count,
    largestStatement: sizes.largest[0],
    comparison,
  };
}

/** Everything every dump must satisfy: headers, shape of the file, statement sizes, and no mismatch. */
export function expectExact(trip: RoundTrip) {
  const { status, headers, bytes, fileName } = trip;
  expect(status.progress.percent).toBe(100);
  expect(status.progress.processedTables).toBe(status.progress.totalTables);
  expect(fileName).toMatch(/^dump_\d{8}-\d{6}\.sql$/);
  // Named after the dump's UTC start time (creation or first step).
  const stamp = (iso: unknown) => `dump_${String(iso).replace(/[-:]/g, "").replace("T", "-").slice(0, 15)}.sql`;
  expect([stamp(status.createdAt), stamp(status.startedAt)]).toContain(fileName);
  expect(headers.get("Content-Disposition")).toBe(`attachment; filename="${fileName}"`);
  expect(headers.get("Content-Type")).toMatch(/^application\/sql/);
  expect(Number(headers.get("Content-Length"))).toBe(bytes.length);
  expect(status.size).toBe(bytes.length);
  expect(headers.get("ETag")).toMatch(/^(W\/)?"[^"]+"$/);

  // Plain UTF-8 text in the shape of sqlite3 .dump.
  expect(isUtf8(bytes)).toBe(true);
  const text = bytes.toString("utf8");
  expect(text.startsWith("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")).toBe(true);
  expect(text.endsWith("COMMIT;\n")).toBe(true);

  const largest = trip.largestStatement;
  expect(largest.bytes, `largest statement starts with ${largest.sql.slice(0, 120)}`).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);

  expect(formatMismatches(trip.comparison)).toBe("");
  expect(trip.comparison.totalMismatches).toBe(0);
}

/** A Range request answers 206 with exactly those bytes of the file. */
export async function expectRange(api: ApiClient, trip: RoundTrip, first: number, last: number) {
  const response = await api.fetchDump(trip.dumpId, { Range: `bytes=${first}-${last}` });
  const body = Buffer.from(await response.arrayBuffer());
  expect(response.status).toBe(206);
  expect(response.headers.get("Content-Range")).toBe(`bytes ${first}-${last}/${trip.bytes.length}`);
  expect(Number(response.headers.get("Content-Length"))).toBe(last - first + 1);
  expect(response.headers.get("ETag")).toBe(trip.headers.get("ETag"));
  expect(body.equals(trip.bytes.subarray(first, last + 1))).toBe(true);
}
