// Dump callbacks against the real HTTP receiver of test/callback-receiver.ts (Node, 127.0.0.1):
// payload, signature, retries, giving up, the failure callback, and URL validation at start.

import { introspectWorkflow, type WorkflowIntrospector } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { RecordedCallback } from "../callback-receiver";
import { api, dumpStatus, expectJson, postJson, seed, startDump, uniqueName } from "./helpers";

const SECRET = "test-callback-secret"; // the CALLBACK_SECRET binding of the workers project
const receiver = `http://127.0.0.1:${inject("callbackReceiverPort")}`;

/** A receiver path of its own for one test; "fail-N" / "always-fail" in `behaviour` set its answers. */
function callbackPath(behaviour = "ok"): string {
  return `/callback/${behaviour}/${crypto.randomUUID()}`;
}

async function received(path: string): Promise<RecordedCallback[]> {
  const response = await fetch(`${receiver}/records?path=${encodeURIComponent(path)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as RecordedCallback[];
}

async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What a receiver does to trust a callback: recompute the HMAC of the raw body. */
async function expectSigned(callback: RecordedCallback) {
  expect(callback.headers["x-dump-signature"]).toBe(`sha256=${await hmacHex(SECRET, callback.body)}`);
  const timestamp = callback.headers["x-dump-timestamp"];
  expect(timestamp).toBeTruthy();
  expect(Number.isNaN(Date.parse(timestamp))).toBe(false);
  expect(callback.headers["content-type"]).toMatch(/^application\/json/);
}

/** A small database with two tables and 5 rows. */
async function seedSmall(): Promise<string> {
  const database = uniqueName("cb");
  await seed(database, [
    "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), title TEXT)",
    "INSERT INTO authors (id, name) VALUES (1, 'Ada'), (2, 'Grace')",
    "INSERT INTO books (id, author_id, title) VALUES (1, 1, 'Notes'), (2, 2, 'COBOL'), (3, 2, 'Nanoseconds')",
  ]);
  return database;
}

/** Introspects every dump Workflow instance created from here on, with no waiting between retries. */
async function watchDumps(options: { disableSleeps: boolean }): Promise<WorkflowIntrospector> {
  const introspector = await introspectWorkflow(env.DUMP_WORKFLOW);
  await introspector.modifyAll(async (m) => {
    await m.disableRetryDelays();
    if (options.disableSleeps) await m.disableSleeps();
  });
  return introspector;
}

function onlyInstance(introspector: WorkflowIntrospector) {
  const instances = introspector.get();
  expect(instances).toHaveLength(1);
  return instances[0];
}

describe("callback delivery", () => {
  it("posts one signed JSON body with every field when the dump completes (X-Callback-URL)", async () => {
    await using dumps = await watchDumps({ disableSleeps: true });
    const database = await seedSmall();
    const path = callbackPath();
    const started = await startDump(database, undefined, { headers: { "X-Callback-URL": `${receiver}${path}` } });
    // Sleeps disabled: the instance runs to its end (retention too), so every delivery has happened.
    await onlyInstance(dumps).waitForStatus("complete");

    const calls = await received(path);
    expect(calls).toHaveLength(1);
    await expectSigned(calls[0]);
    const body = JSON.parse(calls[0].body);
    expect(Object.keys(body).sort()).toEqual(
      [
        "dumpId",
        "database",
        "source",
        "status",
        "downloadUrl",
        "statusUrl",
        "size",
        "sha256",
        "schedule",
        "rows",
        "tables",
        "startedAt",
        "completedAt",
        "durationMs",
        "error",
        "options",
        "snapshotAt",
      ].sort(),
    );
    const status = await dumpStatus(started.dumpId);
    expect(body).toMatchObject({
      dumpId: started.dumpId,
      database,
      status: "completed",
      downloadUrl: started.downloadUrl,
      statusUrl: started.statusUrl,
      size: status.size,
      sha256: status.sha256,
      schedule: null,
      rows: 5,
      tables: 2,
      startedAt: status.startedAt,
      completedAt: status.completedAt,
      error: null,
      options: status.options,
      snapshotAt: status.snapshot?.takenAt,
    });
    expect(body.options.snapshot).toBe(true);
    expect(body.size).toBeGreaterThan(0);
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(body.durationMs).toBe(Date.parse(body.completedAt) - Date.parse(body.startedAt));
    expect(status.callback).toEqual({ url: `${receiver}${path}`, delivered: true, attempts: 1, lastStatus: 200, lastError: null });
  });

  it("accepts the URL as the callbackUrl body option", async () => {
    await using dumps = await watchDumps({ disableSleeps: true });
    const database = await seedSmall();
    const path = callbackPath();
    const started = await startDump(database, { callbackUrl: `${receiver}${path}` });
    await onlyInstance(dumps).waitForStatus("complete");

    const calls = await received(path);
    expect(calls).toHaveLength(1);
    await expectSigned(calls[0]);
    expect(JSON.parse(calls[0].body)).toMatchObject({ dumpId: started.dumpId, status: "completed", error: null });
    const status = await dumpStatus(started.dumpId);
    expect(status.options.callbackUrl).toBe(`${receiver}${path}`);
    expect(status.callback).toMatchObject({ delivered: true, attempts: 1 });
  });

  it("retries a receiver that answers 500 twice, and records 3 attempts", async () => {
    await using dumps = await watchDumps({ disableSleeps: true });
    const database = await seedSmall();
    const path = callbackPath("fail-2");
    const started = await startDump(database, undefined, { headers: { "X-Callback-URL": `${receiver}${path}` } });
    await onlyInstance(dumps).waitForStatus("complete");

    const calls = await received(path);
    expect(calls).toHaveLength(3);
    for (const call of calls) await expectSigned(call);
    // Every attempt carries the same outcome.
    const bodies = calls.map((c) => JSON.parse(c.body));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toMatchObject({ dumpId: started.dumpId, status: "completed" });
    const status = await dumpStatus(started.dumpId);
    expect(status.callback).toMatchObject({ delivered: true, attempts: 3, lastStatus: 200, lastError: null });
  });

  it("gives up on a receiver that always fails without changing the dump's status", async () => {
    // Sleeps stay on: the instance waits out the retention period, so the dump stays "completed".
    await using dumps = await watchDumps({ disableSleeps: false });
    const database = await seedSmall();
    const path = callbackPath("always-fail");
    const started = await startDump(database, undefined, { headers: { "X-Callback-URL": `${receiver}${path}` } });
    await expect(onlyInstance(dumps).waitForStepResult({ name: "callback · completed" })).rejects.toBeTruthy();

    const status = await dumpStatus(started.dumpId);
    expect(status.status).toBe("completed");
    expect(status.error).toBeNull();
    // 1 attempt + 5 retries (CALLBACK_STEP in workflows/dump-workflow.ts).
    expect(status.callback).toMatchObject({ delivered: false, attempts: 6, lastStatus: 500, lastError: "HTTP 500" });
    expect(await received(path)).toHaveLength(6);
    // The file is still there to download.
    const file = await api(`/export/dump/${started.dumpId}`);
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBe(status.size);
  });

  it("posts one 'failed' callback with the error when a chunk step keeps failing", async () => {
    await using dumps = await watchDumps({ disableSleeps: true });
    await dumps.modifyAll(async (m) => {
      await m.mockStepError({ name: 'table "authors" · chunk 1' }, new Error("injected read failure"));
    });
    const database = await seedSmall();
    const path = callbackPath();
    const started = await startDump(database, undefined, { headers: { "X-Callback-URL": `${receiver}${path}` } });
    await onlyInstance(dumps).waitForStatus("errored");

    const calls = await received(path);
    expect(calls).toHaveLength(1);
    await expectSigned(calls[0]);
    const body = JSON.parse(calls[0].body);
    expect(body).toMatchObject({
      dumpId: started.dumpId,
      database,
      status: "failed",
      downloadUrl: started.downloadUrl,
      statusUrl: started.statusUrl,
      size: null,
    });
    expect(body.error).toContain("injected read failure");
    const status = await dumpStatus(started.dumpId);
    expect(status.status).toBe("failed");
    expect(status.error).toContain("injected read failure");
    expect(status.callback).toMatchObject({ delivered: true, attempts: 1, lastStatus: 200 });
  });
});

describe("callback URL validation", () => {
  const invalid: Array<[string, string]> = [
    ["an ftp: URL", "ftp://127.0.0.1/callback/x"],
    ["a URL with credentials", "http://user:pass@127.0.0.1/callback/x"],
    ["a URL of 2049 characters", `http://127.0.0.1/callback/${"a".repeat(2049 - "http://127.0.0.1/callback/".length)}`],
    ["text that is not a URL", "not a url"],
  ];

  for (const [what, url] of invalid) {
    it(`refuses ${what} with 400 and starts no dump, as header or as body option`, async () => {
      await using dumps = await watchDumps({ disableSleeps: true });
      const database = await seedSmall();
      const asHeader = await api(`/export/dump?database=${database}`, { method: "POST", headers: { "X-Callback-URL": url } });
      expect((await expectJson<{ error: string }>(asHeader, 400)).error).toMatch(/callback|url/i);
      const asOption = await postJson(`/export/dump?database=${database}`, { callbackUrl: url });
      expect((await expectJson<{ error: string }>(asOption, 400)).error).toMatch(/callback|url/i);

      expect(dumps.get()).toHaveLength(0);
      const listed = await expectJson<{ result: { dumps: unknown[] } }>(await api(`/export/dumps?database=${database}`), 200);
      expect(listed.result.dumps).toEqual([]);
    });
  }

  it("accepts a URL of exactly 2048 characters", async () => {
    await using dumps = await watchDumps({ disableSleeps: true });
    const database = await seedSmall();
    const prefix = `${receiver}/callback/long/`;
    const path = `/callback/long/${"b".repeat(2048 - prefix.length)}`;
    expect(`${receiver}${path}`).toHaveLength(2048);
    await startDump(database, undefined, { headers: { "X-Callback-URL": `${receiver}${path}` } });
    await onlyInstance(dumps).waitForStatus("complete");
    expect(await received(path)).toHaveLength(1);
  });
});
