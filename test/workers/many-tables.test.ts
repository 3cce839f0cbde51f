// A database with one table per tenant: 3,000 tables of 12 columns, one row each (past the ~1,900 tables
// at which listing them through pragma_table_list fails with SQLITE_NOMEM). The plan is larger than a
// step may return (1 MiB), so it arrives in pages; small tables share chunk steps; the dump restores into
// a new database whose own dump is the same file. docs/benchmarks.md has the figures for 10,000 tables.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { joinPlanPages, type PlannedDump } from "../../shared/plan-pages";
import { START_POSITION, type ChunkStepResult } from "../../workflows/dump-steps";
import { chunkStepName } from "../../workflows/dump-workflow";
import { downloadBytes, lastInstance, restoreFromDump, runRestore, sameBytes, seed, startDump, uniqueName, waitForFinish, watchInstances } from "./helpers";

const TABLES = 3_000;
const MIB = 1024 * 1024;
const encoder = new TextEncoder();

/** Bytes of a step's result as JSON, which is how it is kept. */
const resultBytes = (result: unknown) => encoder.encode(JSON.stringify(result)).length;

async function seedTenants(database: string): Promise<void> {
  const types = ["INTEGER", "TEXT", "REAL", "BLOB"];
  const columns = Array.from({ length: 12 }, (_, i) => `c${i} ${types[i % 4]}`).join(", ");
  const values = Array.from({ length: 12 }, (_, i) => ["i", "'tenant ' || i", "i / 7.0", "randomblob(8)"][i % 4]).join(", ");
  for (let start = 0; start < TABLES; start += 500) {
    const statements: string[] = [];
    for (let i = start; i < start + 500; i++) {
      statements.push(`CREATE TABLE tenant_${i}_orders (id INTEGER PRIMARY KEY, ${columns})`);
      statements.push(`INSERT INTO tenant_${i}_orders SELECT 1, ${values} FROM (SELECT ${i} AS i)`);
    }
    await seed(database, statements);
  }
}

/** Dumps the database; returns the file, the chunk steps taken and the plan step's results. */
async function dumpTenants(database: string, snapshot: boolean) {
  // Sleeps stay on (breathing is 0 here): the retention sleep keeps the file for the download.
  const dumps = await watchInstances(env.DUMP_WORKFLOW);
  try {
    const { dumpId } = await startDump(database, { storage: "do", breathingMs: 0, snapshot });
    const instance = lastInstance(dumps);
    expect(await waitForFinish(instance, dumpId)).toBe("finalized");
    const planned = (await instance.waitForStepResult({ name: "plan" })) as PlannedDump;
    const pageCount = "pages" in planned ? planned.pages : 0;
    const pages: string[] = [];
    for (let page = 1; page <= pageCount; page++) pages.push((await instance.waitForStepResult({ name: `plan · page ${page} of ${pageCount}` })) as string);
    const plan = joinPlanPages(pages);
    const stepTables: number[] = [];
    for (let position = START_POSITION; position.tableIndex < plan.tables.length; ) {
      const name = chunkStepName(plan.tables[position.tableIndex], position.tableIndex, position.chunk);
      const result = (await instance.waitForStepResult({ name })) as ChunkStepResult;
      stepTables.push(result.position.tableIndex - position.tableIndex);
      position = result.position;
    }
    return { dumpId, file: await downloadBytes(dumpId), planned, pages, tables: plan.tables.length, stepTables };
  } finally {
    await dumps.dispose();
  }
}

describe("a database with one table per tenant", () => {
  it(`dumps ${TABLES.toLocaleString("en")} tables of 12 columns in a few shared steps and restores them`, async () => {
    const database = uniqueName("tenants");
    await seedTenants(database);
    const dump = await dumpTenants(database, true);
    expect(dump.tables).toBe(TABLES);
    // The plan came in pages, each within what a step may return.
    expect(dump.pages.length).toBeGreaterThan(1);
    for (const result of [dump.planned, ...dump.pages]) expect(resultBytes(result)).toBeLessThan(MIB);
    // Small tables shared steps: far fewer steps than tables, every table in exactly one chain of steps.
    expect(dump.stepTables.reduce((a, b) => a + b, 0)).toBe(TABLES);
    expect(dump.stepTables.length).toBeLessThan(TABLES / 100);
    const text = new TextDecoder().decode(dump.file);
    expect(text.match(/^CREATE TABLE /gm)).toHaveLength(TABLES);
    expect(text.match(/^INSERT INTO /gm)).toHaveLength(TABLES);

    const copy = uniqueName("tenants-copy");
    const restored = await runRestore(await restoreFromDump(copy, { dumpId: dump.dumpId }));
    expect(restored).toMatchObject({ status: "completed", error: null });
    const again = await dumpTenants(copy, false);
    expect(again.stepTables.length).toBeLessThan(TABLES / 100);
    expect(again.file.length).toBe(dump.file.length);
    expect(sameBytes(again.file, dump.file)).toBe(true);
  });
});
