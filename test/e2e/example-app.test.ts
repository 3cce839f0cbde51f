// The example app (examples/notes-app) as a user runs it: the package packed with `npm pack`,
// installed by its name into a copy of the app, served by the local server (scripts/serve.mjs). Data is written through
// the app's own routes; dumps and restores go through the API it mounts under /admin; every
// comparison is between sqlite3 restores of the dumps.

import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiClient } from "../../scripts/lib/api-client.mjs";
import { compareDatabases, fileSide, formatMismatches } from "../../scripts/lib/compare.mjs";
import { querySql, restoreDump } from "../../scripts/lib/sqlite-cli.mjs";
import { PROJECT_ROOT, superviseWorker, waitUntilHealthy, type RunningWorker } from "../../scripts/lib/worker-process.mjs";
import { workDir } from "./round-trip";

const work = workDir("notes-app-e2e-");
const app = join(work.dir, "notes-app");
let worker: RunningWorker;
let admin: ApiClient;
let typeCheck: { stdout: string; stderr: string; status: number | null };

beforeAll(async () => {
  const packed = execFileSync("npm", ["pack", "--pack-destination", work.dir], { cwd: PROJECT_ROOT, encoding: "utf8", stdio: "pipe" });
  const tarball = join(work.dir, packed.trim().split("\n").at(-1)!);
  cpSync(join(PROJECT_ROOT, "examples/notes-app"), app, { recursive: true, filter: (path) => !/node_modules|\.wrangler/.test(path) });
  execFileSync("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline", "--no-save", tarball], { cwd: app, stdio: "pipe" });
  // The app's types come from @cloudflare/workers-types, here this checkout's copy. Linked before
  // the server starts: a change in the app's folder makes it reload, cutting requests short.
  mkdirSync(join(app, "node_modules/@cloudflare"), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, "node_modules/@cloudflare/workers-types"), join(app, "node_modules/@cloudflare/workers-types"));
  // Run here, not in its test: a pause after GET /health lets the server close the kept-alive
  // connection that the next request would reuse ("other side closed").
  typeCheck = spawnSync(join(PROJECT_ROOT, "node_modules/.bin/tsc"), ["-p", join(app, "tsconfig.json"), "--skipLibCheck", "false"], { encoding: "utf8" });
  // E2E_WRANGLER_LOG=<file> keeps what the app's wrangler printed too (start-worker.ts).
  const logFile = process.env.E2E_WRANGLER_LOG;
  worker = await superviseWorker(
    {
      configPath: join(app, "wrangler.jsonc"),
      healthPath: "/admin/health",
      onOutput: logFile ? (line) => appendFileSync(logFile, `${new Date().toISOString()} notes-app ${line}\n`) : undefined,
    },
    { onRestart: (reason, lines) => console.error(`example app: restarting its local server (${reason}); its last lines:\n${lines.join("\n")}`) },
  );
  admin = new ApiClient(`${worker.url}/admin`);
}, 240_000);

// The app's local server answers before each case (its supervisor may be restarting it after a crash).
beforeEach(async () => {
  if (worker) await waitUntilHealthy(`${worker.url}/admin/health`);
}, 130_000);

// A failed case shows what the app's wrangler printed last (a restart, a crash of workerd).
afterEach(({ task }) => {
  if (task.result?.state === "fail") console.error(`--- last lines of the app's wrangler ---\n${worker?.output().join("\n")}`);
});

afterAll(async () => {
  await worker?.stop();
  work.remove();
});

async function appJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${worker.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    throw new Error(`${method} ${path}: ${(error as Error).message}\n--- wrangler ---\n${worker.output().join("\n")}`);
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Dumps the database the query names and restores the file with sqlite3; returns the dump id and the database file. */
async function dumpToFile(where: string, file: string): Promise<{ dumpId: string; db: string; sql: string }> {
  const started = await admin.json("POST", `/export/dump?${where}`, { breathingMs: 0 });
  const status = await admin.waitForDump(started.dumpId, { timeoutMs: 120_000 });
  expect(status.status, `dump of ${where}: ${status.error}`).toBe("completed");
  const { path } = await admin.downloadDump(started.dumpId, work.dir);
  const db = join(work.dir, file);
  await restoreDump(path, db);
  return { dumpId: started.dumpId, db, sql: path };
}

/**
 * After a pause longer than the server's keep-alive, the pooled connection the next request would
 * take is closed ("other side closed"): a GET, which may be retried, takes it first.
 */
async function afterPause(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await (await fetch(`${worker.url}/admin/health`)).arrayBuffer();
      return;
    } catch (error) {
      if (attempt === 2) throw error;
    }
  }
}

async function waitForRestore(started: { restoreId: string }) {
  const status = await admin.restores.wait(started.restoreId, { timeoutMs: 120_000 });
  expect(status.status, `restore ${started.restoreId}: ${status.error}`).toBe("completed");
}

/** Uploads a SQL file into the database the query names (mode replace) and waits for the restore. */
async function restoreFile(where: string, file: string): Promise<void> {
  const response = await admin.fetch(`/import/dump?${where}&mode=replace&breathingMs=0`, {
    method: "POST",
    headers: { "Content-Type": "application/sql" },
    body: readFileSync(file),
  });
  expect(response.status).toBe(202);
  await waitForRestore(((await response.json()) as { result: { restoreId: string } }).result);
}

async function expectSameFiles(expected: string, actual: string) {
  const result = await compareDatabases(fileSide(expected), fileSide(actual));
  expect(formatMismatches(result)).toBe("");
}

const NOTES = [
  { title: "héllo wörld", body: "first note, with a NUL \u0000 inside", score: 0.1, tags: ["a", "b"], amount: "9007199254740993" },
  { title: "tiny", body: "subnormal score", score: 5e-324, tags: [], amount: "-9223372036854775808" },
  { title: "big", body: "x".repeat(150_000), score: -2.5, tags: ["long"], amount: "42" },
];

describe("the example app", () => {
  let tenantA: string;

  it("type-checks against the declarations the package ships (strict, without skipLibCheck)", () => {
    expect(typeCheck.stdout + typeCheck.stderr).toBe("");
    expect(typeCheck.status).toBe(0);
  });

  it("dumps tenant A (created with newUniqueId) and restores it into tenant B exactly", async () => {
    tenantA = (await appJson<{ id: string }>("POST", "/tenants", { name: "acme" })).id;
    for (const note of NOTES) await appJson("POST", `/tenants/${tenantA}/notes`, note);
    const tenantB = (await appJson<{ id: string }>("POST", "/tenants", { name: "globex" })).id;
    await appJson("POST", `/tenants/${tenantB}/notes`, { title: "replaced", body: "by the restore", tags: [] });

    const a = await dumpToFile(`source=notes&id=${tenantA}`, "tenant-a.db");
    expect(await querySql(a.db, "SELECT title, typeof(score) AS t, hex(body) = hex(CAST('first note, with a NUL ' || char(0) || ' inside' AS TEXT)) AS nul FROM notes WHERE id = 1")).toEqual([
      { title: "héllo wörld", t: "real", nul: 1 },
    ]);
    await waitForRestore(await admin.json("POST", `/import/dump?source=notes&id=${tenantB}`, { dumpId: a.dumpId, mode: "replace", breathingMs: 0 }));
    const b = await dumpToFile(`source=notes&id=${tenantB}`, "tenant-b.db");
    await expectSameFiles(a.db, b.db);
    expect(await appJson("GET", `/tenants/${tenantB}/notes`)).toEqual(await appJson("GET", `/tenants/${tenantA}/notes`));
  });

  it("refuses an id that is not one of the app's, and restoring into the read-only D1 source", async () => {
    const notOurs = await admin.fetch(`/export/dump?source=notes&id=${"0".repeat(64)}`, { method: "POST" });
    expect(notOurs.status).toBe(400);
    const readOnly = await admin.fetch("/import/dump?source=app-db", { method: "POST", headers: { "Content-Type": "application/sql" }, body: "SELECT 1;" });
    expect(readOnly.status).toBe(403);
  });

  it("dumps the app's D1 database, restores it into a second D1 database, and restores a `wrangler d1 export` file into a Durable Object", async () => {
    const d1 = await dumpToFile("source=app-db", "d1.db");
    expect(await querySql(d1.db, "SELECT quote(amount) AS amount FROM activity ORDER BY id")).toEqual([
      { amount: "9007199254740993" },
      { amount: "-9223372036854775808" },
      { amount: "42" },
      { amount: "NULL" },
    ]);
    await waitForRestore(await admin.json("POST", "/import/dump?source=app-db-copy", { dumpId: d1.dumpId, mode: "replace", breathingMs: 0 }));
    const copy = await dumpToFile("source=app-db-copy", "d1-copy.db");
    await expectSameFiles(d1.db, copy.db);

    const exported = join(work.dir, "d1-export.sql");
    // `wrangler d1 export --local` reads a project's .wrangler/state: a copy of the running app's state,
    // so that nothing changes under the running local server.
    const exporter = join(work.dir, "exporter");
    cpSync(worker.persistTo, join(exporter, ".wrangler/state"), { recursive: true });
    cpSync(join(app, "wrangler.jsonc"), join(exporter, "wrangler.jsonc"));
    execFileSync(join(PROJECT_ROOT, "node_modules/.bin/wrangler"), ["d1", "export", "notes-app", "--local", "--output", exported], {
      cwd: exporter,
      stdio: "pipe",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    await afterPause();
    await restoreFile("source=notes&name=from-d1-export", exported);
    // D1's export itself rounds integers beyond 2^53, so the reference is sqlite3's reading of the same file.
    const fromExport = join(work.dir, "d1-export-sqlite3.db");
    await restoreDump(exported, fromExport);
    const restored = await dumpToFile("source=notes&name=from-d1-export", "d1-export-in-do.db");
    await expectSameFiles(fromExport, restored.db);
    expect(await querySql(restored.db, "SELECT name FROM tenants ORDER BY name")).toEqual([{ name: "acme" }, { name: "globex" }]);

    // The same file into the second D1 database: its tables were created parents first, so D1 takes it.
    await restoreFile("source=app-db-copy", exported);
    await expectSameFiles(fromExport, (await dumpToFile("source=app-db-copy", "d1-export-in-d1.db")).db);
  });
});
