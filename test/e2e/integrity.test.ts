// A dump whose stored file was changed after it finished (one byte in a local R2 blob, or in the
// FileStore Durable Object's SQLite pieces, edited on disk under the running local server) is caught
// by the command-line client's download (its SHA-256) and refused by a restore before it applies anything.

import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cli, collect } from "./processes";
import { client, workDir } from "./round-trip";

async function sqlite(file: string, sql: string): Promise<string> {
  const run = await collect(spawn("sqlite3", [file, sql], { stdio: ["ignore", "pipe", "pipe"] }));
  if (run.code !== 0) throw new Error(`sqlite3 ${file}: ${run.stderr}`);
  return run.stdout.trim();
}

/** Replaces `from` by `to` (same length) in the one local R2 blob that holds it. */
function changeR2Blob(from: string, to: string): void {
  const dir = join(inject("persistTo"), "v3/r2/sqlite-dumps/blobs");
  const holders = readdirSync(dir).filter((name) => readFileSync(join(dir, name)).includes(from));
  expect(holders).toHaveLength(1);
  const path = join(dir, holders[0]);
  writeFileSync(path, Buffer.from(readFileSync(path).toString("latin1").replace(from, to), "latin1"));
}

/** Replaces `from` by `to` (same length) in the FileStore pieces that hold it, through SQLite, as another writer would. */
async function changeFileStorePieces(from: string, to: string): Promise<void> {
  const dir = join(inject("persistTo"), "v3/do/do-sqlite-dump-FileStore");
  const files = readdirSync(dir).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  let changed = 0;
  for (const name of files) {
    const hits = await sqlite(join(dir, name), `SELECT count(*) FROM pieces WHERE instr(data, CAST('${from}' AS BLOB)) > 0`).catch(() => "0");
    if (hits === "0") continue;
    await sqlite(join(dir, name), `UPDATE pieces SET data = CAST(replace(CAST(data AS TEXT), '${from}', '${to}') AS BLOB) WHERE instr(data, CAST('${from}' AS BLOB)) > 0`);
    changed += 1;
  }
  expect(changed).toBe(1);
}

describe("a stored dump changed after it finished", () => {
  const work = workDir("integrity");
  const api = client();
  afterAll(() => work.remove());

  beforeAll(async () => {
    for (const storage of ["r2", "do"]) {
      await api.transaction(
        [
          { sql: "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)" },
          { sql: `INSERT INTO notes(body) VALUES ('marker-${storage}-original'), ('a second row')` },
        ],
        { database: `integrity-${storage}` },
      );
    }
  });

  it.each([
    ["r2", changeR2Blob],
    ["do", changeFileStorePieces],
  ] as const)("is detected by the CLI's download and refused by a restore (%s storage)", async (storage, change) => {
    const database = `integrity-${storage}`;
    const started = await api.startDump({ database, options: { storage, breathingMs: 0 } });
    const status = await api.waitForDump(started.dumpId, { timeoutMs: 90_000 });
    expect(status.status).toBe("completed");
    expect(status.sha256).toMatch(/^[0-9a-f]{64}$/);

    const good = await cli(["download", started.dumpId, "-o", join(work.dir, `${storage}-good.sql`), "--json"]);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, sha256: status.sha256, verifiedBy: "sha-256" });

    await change(`marker-${storage}-original`, `marker-${storage}-CHANGED!`);
    const output = join(work.dir, `${storage}-changed.sql`);
    const bad = await cli(["download", started.dumpId, "-o", output, "--json"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not match the dump: its SHA-256 is [0-9a-f]{64} but the service says [0-9a-f]{64}/);
    expect(readFileSync(`${output}.corrupt`, "utf8")).toContain(`marker-${storage}-CHANGED!`);

    const target = `integrity-${storage}-copy`;
    const restore = await cli(["restore", "--dump-id", started.dumpId, "-d", target, "--json"]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain("does not match its SHA-256");
    expect(await api.query("SELECT count(*) AS n FROM sqlite_master WHERE name = 'notes'", [], { database: target })).toEqual([{ n: 0 }]);
  });
});
