// Schedules over configured sources: instance names of a user's Durable Object class, or the one
// database of a D1 source; each run dumps them through the real ScheduleWorkflow and DumpWorkflow.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runDueSchedules } from "../../services/schedules";
import { api, dumpStatus, expectJson, lastInstance, uniqueName, watchInstances } from "./helpers";

function put(name: string, body: unknown) {
  return api(`/export/schedules/${name}`, { method: "PUT", body: JSON.stringify(body) });
}

describe("schedules over sources", () => {
  it("dumps named instances of a Durable Object source", async () => {
    const names = [uniqueName("tenant-a"), uniqueName("tenant-b")];
    for (const [i, name] of names.entries()) {
      const stub = env.STARBASE_LIKE.get(env.STARBASE_LIKE.idFromName(name));
      await stub.executeQuery("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
      await stub.executeQuery("INSERT INTO notes (body) VALUES (?)", [`note of tenant ${i}`]);
    }
    const schedule = uniqueName("tenants");
    const saved = (await expectJson(await put(schedule, { cron: "* * * * *", source: "starbase", databases: names, retention: { keepLast: 1 }, options: { breathingMs: 0 } }), 200)).result;
    expect(saved).toMatchObject({ source: "starbase", databases: names });

    const runs = await watchInstances(env.SCHEDULE_WORKFLOW, { disableSleeps: true });
    await watchInstances(env.DUMP_WORKFLOW);
    const started = await runDueSchedules(env, new Date(saved.nextRun));
    expect(started.find((run) => run.runId.includes(schedule))?.outcome).toBe("running");
    await lastInstance(runs).waitForStatus("complete");

    const shown = (await expectJson(await api(`/export/schedules/${schedule}`), 200)).result;
    expect(shown.lastRun).toMatchObject({ outcome: "completed", skipped: [] });
    expect(shown.lastRun.dumps).toHaveLength(2);
    for (const [i, dump] of shown.lastRun.dumps.entries()) {
      const id = env.STARBASE_LIKE.idFromName(names[i]).toString();
      expect(dump).toMatchObject({ database: `source:starbase/${id}`, status: "completed" });
      const status = await dumpStatus(dump.dumpId);
      expect(status).toMatchObject({ status: "completed", schedule });
      const sql = await (await api(`/export/dump/${dump.dumpId}`)).text();
      expect(sql).toContain(`note of tenant ${i}`);
    }
  });

  it("takes a D1 source without database names, and refuses names for it or a source nobody configured", async () => {
    const saved = (await expectJson(await put(uniqueName("d1-nightly"), { cron: "0 3 * * *", source: "analytics", retention: { keepLast: 7 } }), 200)).result;
    expect(saved).toMatchObject({ source: "analytics", databases: [] });
    const named = await expectJson<{ error: string }>(await put(uniqueName("d1-named"), { cron: "0 3 * * *", source: "analytics", databases: ["x"], retention: { keepLast: 1 } }), 400);
    expect(named.error).toMatch(/D1 database: give no name or id/);
    const unknown = await expectJson<{ error: string }>(await put(uniqueName("nowhere"), { cron: "0 3 * * *", source: "nowhere", databases: ["x"], retention: { keepLast: 1 } }), 404);
    expect(unknown.error).toMatch(/no source "nowhere" is configured/);
    const none = await expectJson<{ error: string }>(await put(uniqueName("nothing"), { cron: "0 3 * * *", retention: { keepLast: 1 } }), 400);
    expect(none.error).toMatch(/give at least one database/);
  });
});
