// The schedule routes inside workerd: answers, refusals (400, 401, 404, 405) that change nothing.

import { describe, expect, it } from "vitest";
import { api, expectJson, seed, uniqueName } from "./helpers";

function put(name: string, body: unknown, init: RequestInit = {}) {
  return api(`/export/schedules/${name}`, { method: "PUT", body: typeof body === "string" ? body : JSON.stringify(body), ...init });
}

describe("/export/schedules", () => {
  it("saves, shows, lists, replaces and deletes a schedule", async () => {
    const name = uniqueName("api-sched");
    const saved = (await expectJson(await put(name, { cron: "30 2 * * 1", databases: "shop", retention: { keepLast: 2, keepDaily: 3 } }), 200)).result;
    expect(saved).toMatchObject({ name, cron: "30 2 * * 1", databases: ["shop"], retention: { keepLast: 2, keepDaily: 3 }, concurrency: 4, lastRun: null, lastOutcome: null });
    expect(new Date(saved.nextRun).getUTCDay()).toBe(1);
    expect((await expectJson(await api(`/export/schedules/${name}`), 200)).result).toEqual(saved);
    const listed = (await expectJson(await api("/export/schedules"), 200)).result.schedules;
    expect(listed.map((s: { name: string }) => s.name)).toContain(name);

    const replaced = (await expectJson(await put(name, { cron: "0 * * * *", databases: ["a", "b"], retention: { keepLast: 1 }, concurrency: 2 }), 200)).result;
    expect(replaced).toMatchObject({ createdAt: saved.createdAt, databases: ["a", "b"], concurrency: 2 });
    expect((await expectJson(await api(`/export/schedules/${name}`, { method: "DELETE" }), 200)).result).toEqual({ name, deleted: true });
    await expectJson(await api(`/export/schedules/${name}`), 404);
    await expectJson(await api(`/export/schedules/${name}`, { method: "DELETE" }), 404);
  });

  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["an unknown key", { cron: "* * * * *", databases: "a", retention: { keepLast: 1 }, every: "day" }, /every/],
    ["a bad cron", { cron: "* * * *", databases: "a", retention: { keepLast: 1 } }, /5 fields/],
    ["a bad option", { cron: "* * * * *", databases: "a", retention: { keepLast: 1 }, options: { storage: "s3" } }, /storage/],
  ])("refuses %s with 400 and saves nothing", async (_what, body, message) => {
    const name = uniqueName("bad-sched");
    const answer = await expectJson<{ error: string }>(await put(name, body), 400);
    expect(answer.error).toMatch(message);
    await expectJson(await api(`/export/schedules/${name}`), 404);
  });

  it("refuses tables a database with tables does not have, naming the database", async () => {
    const database = uniqueName("sched-tables");
    await seed(database, ["CREATE TABLE present (x)"]);
    const body = { cron: "0 3 * * *", databases: [database, uniqueName("empty")], options: { tables: ["present", "absent"] }, retention: { keepLast: 1 } };
    const answer = await expectJson<{ error: string }>(await put("with-tables", body), 400);
    expect(answer.error).toBe(`options: database "${database}": unknown tables: absent`);
  });

  it("refuses a bad name (400), a wrong method (405) and a missing token (401)", async () => {
    await expectJson(await put("no spaces allowed", { cron: "* * * * *", databases: "a", retention: { keepLast: 1 } }), 400);
    await expectJson(await api("/export/schedules/x", { method: "POST" }), 405);
    await expectJson(await api("/export/schedules", { method: "PUT" }), 405);
    await expectJson(await api("/export/schedules", { headers: { Authorization: "Bearer wrong" } }), 401);
  });
});
