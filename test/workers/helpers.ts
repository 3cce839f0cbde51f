// Shared helpers for the tests that run inside workerd: they drive the Worker through its public
// HTTP API (exports.default.fetch) and watch the Workflows through the pool's introspection.

import { introspectWorkflow, introspectWorkflowInstance, type WorkflowInstanceIntrospector, type WorkflowIntrospector } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { DumpSnapshotState } from "../../shared/dump-record";
import type { DumpProgress } from "../../shared/types";
import { fileStoreObject } from "../../storage/bindings";
import { dumpObjectKey } from "../../storage/files";

/** The token from .dev.vars, which the test pool reads too. */
export const TOKEN = "ABC123";
export const ORIGIN = "http://dump.test";

export type Row = Record<string, unknown>;
export type SqlStatement = string | { sql: string; params?: Array<string | number | boolean | null> };

export interface DumpStarted {
  message: string;
  dumpId: string;
  status: string;
  statusUrl: string;
  downloadUrl: string;
  estimatedSize: number;
  storage: "r2" | "do";
}

export type DumpProgressBody = DumpProgress;

export interface DumpStatusBody {
  dumpId: string;
  database: string;
  status: string;
  progress: DumpProgressBody;
  storage: "r2" | "do";
  options: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  size: number | null;
  sha256: string | null;
  schedule: string | null;
  estimatedSize: number;
  statusUrl: string;
  downloadUrl: string;
  error: string | null;
  callback: unknown;
  snapshot: DumpSnapshotState | null;
}

/** A request to the Worker with the admin token, unless `init.headers` sets Authorization itself. */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${TOKEN}`);
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers }));
}

export function postJson(path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "application/json");
  return api(path, { ...init, method: "POST", headers, body: JSON.stringify(body) });
}

/** Reads a JSON body and fails with the body's text when the status is not the expected one. */
export async function expectJson<T = any>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${response.status}: ${text.slice(0, 500)}`);
  }
  return JSON.parse(text) as T;
}

function databaseQuery(database: string): string {
  return `?database=${encodeURIComponent(database)}`;
}

/** One statement through POST /query; returns its rows. */
export async function query(database: string, sql: string, params?: Array<string | number | boolean | null>): Promise<Row[]> {
  const body = await expectJson<{ result: Row[] }>(await postJson(`/query${databaseQuery(database)}`, { sql, params }), 200);
  return body.result;
}

/** Rows of `pad` a dump needs to fill its first chunk step (see spanningRows). */
export const SPANNING_ROWS = 4;

/**
 * Statements that put SPANNING_ROWS rows of 1.9 MB random blobs into `table(id, label, pad)`: 15 MB of SQL,
 * more than one chunk step writes (8 MiB, or whole 5 MiB parts for R2), which ends after three of them. Small
 * tables share a step, so a test that holds a dump in the middle needs a table like this first.
 */
export function spanningRows(table: string): string[] {
  return Array.from({ length: SPANNING_ROWS }, (_, i) => `INSERT INTO ${table} (id, label, pad) VALUES (${i + 1}, 'pad ${i + 1}', randomblob(1900000))`);
}

/** Runs the statements as one transaction through POST /query; returns each statement's rows. */
export async function seed(database: string, statements: SqlStatement[]): Promise<Row[][]> {
  const transaction = statements.map((s) => (typeof s === "string" ? { sql: s } : s));
  const response = await postJson(`/query${databaseQuery(database)}`, { transaction });
  return (await expectJson<{ result: Row[][] }>(response, 200)).result;
}

/** POST /export/dump, expecting 202; `options` is the JSON body (omitted when undefined). */
export async function startDump(
  database: string,
  options?: Record<string, unknown>,
  init: { path?: string; headers?: HeadersInit } = {},
): Promise<DumpStarted> {
  const path = `${init.path ?? "/export/dump"}${databaseQuery(database)}`;
  const response =
    options === undefined
      ? await api(path, { method: "POST", headers: init.headers })
      : await postJson(path, options, { headers: init.headers });
  return (await expectJson<{ result: DumpStarted }>(response, 202)).result;
}

export async function dumpStatus(dumpId: string): Promise<DumpStatusBody> {
  return (await expectJson<{ result: DumpStatusBody }>(await api(`/export/dump/${dumpId}/status`), 200)).result;
}

/** Introspects every instance of `workflow` created from here on, with retry delays (and optionally sleeps) off. */
export async function watchInstances(workflow: Workflow, options: { disableSleeps?: boolean } = {}): Promise<WorkflowIntrospector> {
  const introspector = await introspectWorkflow(workflow);
  await introspector.modifyAll(async (m) => {
    await m.disableRetryDelays();
    if (options.disableSleeps) await m.disableSleeps();
  });
  return introspector;
}

export function lastInstance(introspector: WorkflowIntrospector): WorkflowInstanceIntrospector {
  const instance = introspector.get().at(-1);
  if (!instance) throw new Error("no Workflow instance was created");
  return instance;
}

/** Polls `read` while its status is one of `passing`; returns the first other answer. */
export async function statusAfter<T extends { status: string }>(read: () => Promise<T>, passing: string[]): Promise<T> {
  for (;;) {
    const answer = await read();
    if (!passing.includes(answer.status)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every page of a list route (`/export/dumps`, `/import/dumps`) for `query`, following its cursor. */
async function listEvery<T>(route: string, key: string, query: string): Promise<{ pages: T[][]; items: T[] }> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const url = `${route}?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: { cursor: string | null } & Record<string, T[]> = (await expectJson<{ result: any }>(await api(url), 200)).result;
    pages.push(page[key]);
    cursor = page.cursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return { pages, items: pages.flat() };
}

export interface ListingCheck<T> {
  /** "/export/dumps" or "/import/dumps", and the key of the listed jobs in its answer. */
  route: string;
  key: string;
  idOf: (item: T) => string;
  /** Jobs made for the check, oldest first: four finished ones in `first` and `second`, then `running` in `first`. */
  created: Array<{ id: string; database: string }>;
  running: string;
  first: string;
  second: string;
  /** Cancels the running job. */
  cancel: (id: string) => Promise<void>;
}

/**
 * What a list route must do: page newest first with a cursor, two at a time; filter by database
 * and by status. Returns the items it checked, for checks of their own fields.
 */
export async function checkListing<T extends { createdAt: string; database: string }>(check: ListingCheck<T>) {
  const { route, key, idOf, created, running, first, second } = check;
  const listAll = (query: string) => listEvery<T>(route, key, query);
  const newestFirst = (a: T, b: T) => (a.createdAt === b.createdAt ? (idOf(a) < idOf(b) ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1);
  const ours = new Set(created.map((c) => c.id));

  // Everything, two at a time: ours all appear once, the whole listing is newest first.
  const all = await listAll("limit=2");
  for (const page of all.pages) expect(page.length).toBeLessThanOrEqual(2);
  expect(all.pages[0]).toHaveLength(2);
  const ids = all.items.map(idOf);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.filter((id) => ours.has(id)).sort()).toEqual([...ours].sort());
  expect(all.items).toEqual([...all.items].sort(newestFirst));

  // One database, two at a time: exactly its three jobs, newest first, over two pages.
  const firstOnly = await listAll(`limit=2&database=${first}`);
  expect(firstOnly.pages.map((p) => p.length)).toEqual([2, 1]);
  const expected = created.filter((c) => c.database === first).map((c) => c.id);
  expect(firstOnly.items.map(idOf).sort()).toEqual([...expected].sort());
  expect(firstOnly.items).toEqual([...firstOnly.items].sort(newestFirst));
  expect(idOf(firstOnly.items[0])).toBe(running);
  for (const item of firstOnly.items) {
    expect(item.database).toBe(first);
    expect(item).toHaveProperty("status");
  }

  // Status filters, within one database.
  expect((await listAll(`database=${first}&status=in_progress`)).items.map(idOf)).toEqual([running]);
  const completed = await listAll(`database=${first}&status=completed`);
  expect(completed.items.map(idOf).sort()).toEqual(expected.filter((id) => id !== running).sort());

  await check.cancel(running);
  expect((await listAll(`database=${first}&status=cancelled`)).items.map(idOf)).toEqual([running]);
  expect((await listAll(`database=${second}&status=cancelled`)).items).toEqual([]);
  return { firstOnly: firstOnly.items, completed: completed.items };
}

export interface RunOptions {
  /** Also skip the retention sleep (and so reach the deletion after it); off by default. */
  disableSleeps?: boolean;
}

/**
 * Waits until the dump's Workflow has either finalized the file or recorded its failure, then
 * returns the API status. Waits on step results rather than on the instance status, because a
 * completed dump's instance keeps sleeping until its retention ends.
 */
export async function runDumpUntilFinished(dumpId: string, options: RunOptions = {}): Promise<DumpStatusBody> {
  const instance = await introspectWorkflowInstance(env.DUMP_WORKFLOW, dumpId);
  if (options.disableSleeps) await instance.modify(async (m) => m.disableSleeps());
  await waitForFinish(instance, dumpId);
  return dumpStatus(dumpId);
}

/** Waits for a step that ends a dump: "finalize" on success, "clean up after failure" otherwise. */
export async function waitForFinish(
  instance: { waitForStepResult(step: { name: string; index?: number }): Promise<unknown> },
  dumpId?: string,
): Promise<"finalized" | "failed"> {
  return new Promise((resolve, reject) => {
    instance.waitForStepResult({ name: "finalize" }).then(
      () => resolve("finalized"),
      // A failed attempt rejects the waiter although a retry may still succeed: ask the API instead.
      () => (dumpId ? pollUntilFinal(dumpId).then((s) => resolve(s === "completed" ? "finalized" : "failed"), reject) : undefined),
    );
    // Rejected only when the instance is disposed first.
    instance.waitForStepResult({ name: "clean up after failure" }).then(() => resolve("failed"), () => undefined);
  });
}

const FINAL = new Set(["completed", "failed", "cancelled", "expired"]);

async function pollUntilFinal(dumpId: string): Promise<string> {
  for (;;) {
    const { status } = await dumpStatus(dumpId);
    if (FINAL.has(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Like runDumpUntilFinished, but fails unless the dump completed. */
export async function runDumpToCompletion(dumpId: string, options: RunOptions = {}): Promise<DumpStatusBody> {
  const status = await runDumpUntilFinished(dumpId, options);
  if (status.status !== "completed") {
    throw new Error(`dump ${dumpId} ended ${status.status}: ${status.error}`);
  }
  return status;
}

/**
 * Dumps `database` through the API and returns the finished file. Breathing sleeps are off in this
 * project (BREATHING_MS=0); the retention sleep after the file is finished must stay, or the file
 * would be deleted before the test reads it.
 */
export async function dumpFile(database: string, options: Record<string, unknown>): Promise<{ dumpId: string; bytes: Uint8Array }> {
  const started = await expectJson<{ result: { dumpId: string } }>(await postJson(`/export/dump?database=${database}`, options), 202);
  const { dumpId } = started.result;
  for (;;) {
    const status = await dumpStatus(dumpId);
    if (status.status === "completed") break;
    if (status.status !== "in_progress" && status.status !== "queued") throw new Error(`dump ${dumpId} is ${status.status}: ${status.error}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { dumpId, bytes: await downloadBytes(dumpId) };
}

/** GET /export/dump/:id (the file, or an error response). */
export function download(dumpId: string, init: RequestInit = {}): Promise<Response> {
  return api(`/export/dump/${dumpId}`, init);
}

/** The finished dump's bytes; fails unless the download answers 200. */
export async function downloadBytes(dumpId: string): Promise<Uint8Array> {
  const response = await download(dumpId);
  if (response.status !== 200) throw new Error(`download of ${dumpId}: HTTP ${response.status}: ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function downloadText(dumpId: string): Promise<string> {
  return new TextDecoder().decode(await downloadBytes(dumpId));
}

/** Every key in the dumps bucket under `prefix`. */
export async function listBucket(prefix = ""): Promise<string[]> {
  const bucket = env.DUMPS_BUCKET;
  if (!bucket) throw new Error("DUMPS_BUCKET is not bound");
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const listed = await bucket.list({ prefix, cursor });
    keys.push(...listed.objects.map((o) => o.key));
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
  return keys;
}

/** Bytes the FileStore instance of one dump holds (its file pieces). */
export function storedFileBytes(dumpId: string): Promise<number> {
  return fileStoreObject(env, dumpObjectKey(dumpId)).storedBytes();
}

/**
 * Splits SQL text into statements at `;` outside quotes (single-quoted strings, double-quoted
 * identifiers), so that values containing semicolons or newlines stay whole.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (quote) {
      if (c === quote) quote = null; // a doubled quote closes and reopens, which is equivalent
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === ";") {
      const statement = sql.slice(start, i + 1).trim();
      if (statement !== ";") statements.push(statement);
      start = i + 1;
    }
  }
  if (sql.slice(start).trim() !== "") throw new Error(`SQL text ends inside a statement: ${sql.slice(start, start + 200)}`);
  return statements;
}

/**
 * The statements of a dump that a Durable Object can execute: it refuses BEGIN/COMMIT (a restore
 * runs them in one transactionSync instead) and PRAGMA foreign_keys changes nothing inside one.
 */
export function restorableStatements(dumpSql: string): string[] {
  return splitStatements(dumpSql).filter((s) => !/^(PRAGMA\b|BEGIN\b|COMMIT\b)/i.test(s));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A name no other test uses, for a database of its own. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Everything a restore must reproduce, as text: the schema objects and every row of every user
 * table with quote()d values (exact for integers beyond 2^53, blobs and text), in rowid order.
 */
export function databaseSnapshot(database: string): Promise<{ schema: Row[]; rows: Record<string, string[]> }> {
  return snapshotOf((sql, params) => query(database, sql, params));
}

/** databaseSnapshot of any database, through a function that runs one query (a user class's RPC, D1). */
export async function snapshotOf(
  query: (sql: string, params?: Array<string | number>) => Promise<Row[]>,
): Promise<{ schema: Row[]; rows: Record<string, string[]> }> {
  const schema = await query(
    `SELECT type, name, tbl_name, sql FROM sqlite_master
     WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_miniflare%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
     ORDER BY type, name`,
  );
  const rows: Record<string, string[]> = {};
  for (const { name } of schema.filter((o) => o.type === "table") as Array<{ name: string }>) {
    const columns = (await query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [name])) as Array<{ name: string }>;
    const quoted = columns.map((c) => `quote("${c.name.replaceAll('"', '""')}")`).join(` || ',' || `);
    const table = `"${name.replaceAll('"', '""')}"`;
    const [{ wr }] = (await query("SELECT wr FROM pragma_table_list WHERE name = ?", [name])) as Array<{ wr: number }>;
    const result = await query(`SELECT ${quoted} AS row FROM ${table} ORDER BY ${wr ? "1" : "rowid"}`);
    rows[name] = result.map((r) => String(r.row));
  }
  const hasSequence = await query("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'");
  if (hasSequence.length) {
    const sequence = await query("SELECT name || '=' || quote(seq) AS row FROM sqlite_sequence ORDER BY name");
    rows.sqlite_sequence = sequence.map((r) => String(r.row));
  }
  return { schema, rows };
}

/** Runs a dump's statements in a (new) database as one transaction through POST /query. */
export async function restoreDump(database: string, dumpSql: string): Promise<void> {
  await seed(database, restorableStatements(dumpSql));
}

// ---- restores ----

export interface RestoreStatusBody {
  restoreId: string;
  database: string;
  status: string;
  mode: string;
  progress: { bytesRead: number; totalBytes: number; statementsApplied: number; statementsSkipped: number; currentTable: string | null; percent: number };
  createdAt: string;
  error: string | null;
  failedStatement: { number: number; line: number; byteOffset: number; sql: string; message: string } | null;
  targetState: string | null;
  callback: { delivered: boolean; attempts: number } | null;
}

/** POST /import/dump with a JSON body naming a finished dump, expecting 202; returns the restore id. */
export async function restoreFromDump(database: string, body: Record<string, unknown>, headers: HeadersInit = {}): Promise<string> {
  const started = await expectJson<{ result: { restoreId: string; status: string; statusUrl: string } }>(
    await postJson(`/import/dump?database=${database}`, body, { headers }),
    202,
  );
  expect(started.result.statusUrl).toBe(`${ORIGIN}/import/dump/${started.result.restoreId}/status`);
  return started.result.restoreId;
}

/** POST /import/dump with the file as the body, expecting 202; `query` adds options ("&mode=replace"). */
export async function restoreUpload(database: string, body: BodyInit, contentType: string, query = ""): Promise<string> {
  const response = await api(`/import/dump?database=${database}${query}`, { method: "POST", headers: { "Content-Type": contentType }, body });
  return (await expectJson<{ result: { restoreId: string } }>(response, 202)).result.restoreId;
}

export async function restoreStatus(restoreId: string): Promise<RestoreStatusBody> {
  return (await expectJson<{ result: RestoreStatusBody }>(await api(`/import/dump/${restoreId}/status`), 200)).result;
}

/** Runs the restore's Workflow with its sleeps skipped until it completes or errors. */
export async function runRestore(restoreId: string, expected: "complete" | "errored" = "complete"): Promise<RestoreStatusBody> {
  const instance = await introspectWorkflowInstance(env.RESTORE_WORKFLOW, restoreId);
  try {
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
    });
    await instance.waitForStatus(expected);
  } finally {
    await instance.dispose();
  }
  return restoreStatus(restoreId);
}
