// Scheduled backups against the real local server (scripts/serve.mjs, with /__scheduled): a schedule saved with the
// command-line client, its runs started by GET /__scheduled (what the Cron Trigger does), one dump per
// database with the concurrency limit observed, the retention policy applied, the callback naming the
// schedule, and a database without data recorded as the reason it was skipped.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DumpStatus, Schedule } from "../../scripts/lib/api-client.mjs";
import { cli } from "./processes";
import { client } from "./round-trip";

const NAME = "e2e-backups";
const DATABASES = ["sched-a", "sched-b", "sched-c"];
const EMPTY = "sched-never-written";

/** Callback bodies posted to a real HTTP server in this process. */
async function callbackReceiver(): Promise<{ url: string; bodies: any[]; server: Server }> {
  const bodies: any[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (data) => (text += data));
    req.on("end", () => {
      bodies.push(JSON.parse(text));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

describe("scheduled backups", () => {
  const api = client();
  let receiver: Awaited<ReturnType<typeof callbackReceiver>>;

  beforeAll(async () => {
    receiver = await callbackReceiver();
    for (const [i, database] of DATABASES.entries()) {
      await api.transaction(
        [{ sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" }, { sql: `INSERT INTO t(v) VALUES ('row of ${database}')` }, { sql: `INSERT INTO t(v) VALUES (${i})` }],
        { database },
      );
    }
  });
  afterAll(() => new Promise<void>((resolve) => (receiver ? receiver.server.close(() => resolve()) : resolve())));

  /** Polls the schedule until `done` says yes (a run is a Workflow: nothing to await but its record). */
  async function scheduleWhen(name: string, done: (schedule: Schedule) => boolean, what: string): Promise<Schedule> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const schedule = await api.getSchedule(name);
      if (done(schedule)) return schedule;
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(schedule.lastRun)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Runs the Cron Trigger at the schedule's next run, and waits until that run has finished. */
  async function runOnce(name = NAME): Promise<Schedule> {
    const before = await api.getSchedule(name);
    await api.triggerScheduled(new Date(before.nextRun!));
    const finished = (s: Schedule) => s.lastRun?.scheduledAt === before.nextRun && s.lastRun.outcome !== "running";
    return scheduleWhen(name, finished, `the run at ${before.nextRun} did not finish`);
  }

  async function scheduledDumps(): Promise<DumpStatus[]> {
    return (await api.dumps.list({ schedule: NAME, limit: 100 })).dumps;
  }

  it("refuses bad options and cron expressions at PUT (exit 2), and an unknown schedule (exit 5)", async () => {
    const unknownTable = await cli(["schedules", "put", NAME, "--cron", "0 3 * * *", "--databases", "sched-a", "--keep-last", "1", "--tables", "nope"]);
    expect(unknownTable.code).toBe(2);
    expect(unknownTable.stderr).toContain('database "sched-a": unknown tables: nope');
    const badCron = await cli(["schedules", "put", NAME, "--cron", "0 25 * * *", "--databases", "sched-a", "--keep-last", "1"]);
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toContain('hour: "25" is outside 0-23');
    const noRetention = await cli(["schedules", "put", NAME, "--cron", "0 3 * * *", "--databases", "sched-a"]);
    expect(noRetention.code).toBe(2);
    expect(noRetention.stderr).toMatch(/retention/);
    expect((await cli(["schedules", "get", NAME])).code).toBe(5);
  });

  it("dumps every database one at a time, skips one without data, and keeps the newest by its policy", async () => {
    const put = await cli([
      ...["schedules", "put", NAME, "--cron", "* * * * *", "--databases", [...DATABASES, EMPTY].join(",")],
      ...["--keep-last", "1", "--concurrency", "1", "--breathing-ms", "0", "--callback-url", receiver.url, "--json"],
    ]);
    expect(put.code, put.stderr).toBe(0);
    const saved = JSON.parse(put.stdout).schedule as Schedule;
    expect(saved).toMatchObject({ name: NAME, cron: "* * * * *", databases: [...DATABASES, EMPTY], concurrency: 1, retention: { keepLast: 1 }, lastRun: null });
    expect(saved.nextRun).toMatch(/:00\.000Z$/);

    const first = await runOnce();
    const run = first.lastRun!;
    expect(run.error).toBeNull();
    expect(run.outcome).toBe("partial");
    expect(run.skipped).toEqual([{ database: EMPTY, reason: `database "${EMPTY}" has no tables or views (no such database holds data)` }]);
    expect(run.dumps.map((d) => [d.database, d.status])).toEqual(DATABASES.map((d) => [d, "completed"]));
    expect(run.deleted).toEqual([]);
    expect(first.nextRun).toBe(new Date(Date.parse(run.scheduledAt) + 60_000).toISOString());

    // The limit of one: each dump was created only after the one before it had completed.
    const dumps = (await scheduledDumps()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    expect(dumps.map((d) => d.database)).toEqual(DATABASES);
    for (const [i, dump] of dumps.entries()) {
      expect(dump).toMatchObject({ schedule: NAME, status: "completed" });
      expect(dump.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (i > 0) expect(dump.createdAt >= dumps[i - 1].completedAt!).toBe(true);
    }
    const called = receiver.bodies.filter((body) => dumps.some((d) => d.dumpId === body.dumpId));
    expect(called.map((body) => [body.schedule, body.status, body.sha256])).toEqual(
      expect.arrayContaining(dumps.map((d) => [NAME, "completed", d.sha256])),
    );

    // The same cron minute again starts nothing.
    await api.triggerScheduled(new Date(run.scheduledAt));
    expect((await api.getSchedule(NAME)).lastRun!.runId).toBe(run.runId);

    // The next run keeps only the newest backup of each database: the first run's are expired.
    const second = (await runOnce()).lastRun!;
    expect(second.runId).not.toBe(run.runId);
    expect(second.deleted.sort()).toEqual(dumps.map((d) => d.dumpId).sort());
    const after = await scheduledDumps();
    expect(after).toHaveLength(6);
    for (const dump of after) expect(dump.status).toBe(second.dumps.some((d) => d.dumpId === dump.dumpId) ? "completed" : "expired");
    const download = await api.fetchDump(dumps[0].dumpId);
    expect(download.status).toBe(410);
    await download.body?.cancel();

    const listed = await cli(["list", "--schedule", NAME, "--json"]);
    expect(JSON.parse(listed.stdout).dumps).toHaveLength(6);
    const table = await cli(["schedules"]);
    expect(table.stdout).toMatch(new RegExp(`^${NAME}  "\\* \\* \\* \\* \\*"  sched-a,sched-b,sched-c,${EMPTY}  next \\S+  last: partial `, "m"));
  });

  it("deletes a schedule and keeps its backups", async () => {
    // Also before the next test: a trigger starts every schedule that is due, this one too.
    const deleted = await cli(["schedules", "delete", NAME, "--json"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await cli(["schedules", "get", NAME])).code).toBe(5);
    expect(await scheduledDumps()).toHaveLength(6);
  });

  it("records why a run could not start while the one before it still runs", async () => {
    const name = "e2e-overlap";
    await api.transaction([{ sql: "CREATE TABLE first(x)" }, { sql: "CREATE TABLE second(y)" }, { sql: "INSERT INTO first VALUES (1)" }], {
      database: "sched-slow",
    });
    // A long breath after the first table keeps the run's only dump, and so the run, going.
    const saved = await api.putSchedule(name, { cron: "* * * * *", databases: "sched-slow", options: { breathingMs: 600_000 }, retention: { keepLast: 1 } });
    await api.triggerScheduled(new Date(saved.nextRun!));
    const running = await scheduleWhen(name, (s) => s.lastRun?.outcome === "running", "the first run did not start");
    const [dump] = await waitForDumps(name);

    const next = running.nextRun!;
    await api.triggerScheduled(new Date(next));
    const refused = await api.getSchedule(name);
    expect(refused.lastRun).toMatchObject({ runId: running.lastRun!.runId, outcome: "running" });
    expect(refused.lastNotStarted).toMatchObject({ scheduledAt: next, outcome: "not_started", error: `the previous run ${running.lastRun!.runId} is still running` });
    expect(refused.lastOutcome).toMatchObject({ outcome: "not_started", error: `the previous run ${running.lastRun!.runId} is still running` });

    // Cancelling its dump frees the first run, which then ends without a backup.
    await api.deleteDump(dump.dumpId);
    const ended = await scheduleWhen(name, (s) => s.lastRun?.outcome !== "running", "the first run did not end");
    expect(ended.lastRun).toMatchObject({ outcome: "failed", dumps: [{ database: "sched-slow", dumpId: dump.dumpId, status: "cancelled" }] });
    await api.deleteSchedule(name);
  });

  /** The schedule's dumps, once its run has started one. */
  async function waitForDumps(name: string): Promise<DumpStatus[]> {
    for (;;) {
      const { dumps } = await api.dumps.list({ schedule: name });
      if (dumps.length) return dumps;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
});
