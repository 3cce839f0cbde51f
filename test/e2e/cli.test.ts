// The command-line client driven as a user drives it: `node bin/do-sqlite-dump.mjs …` against the
// real local server (scripts/serve.mjs), its files restored with the sqlite3 CLI, its downloads broken by a real proxy,
// its progress bar drawn in a pseudo-terminal (util-linux `script`).

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEFAULT_TOKEN } from "../../scripts/lib/api-client.mjs";
import { compareDatabases, compareWithService, formatMismatches, serviceSide } from "../../scripts/lib/compare.mjs";
import { restoreDump } from "../../scripts/lib/sqlite-cli.mjs";
import { freePort } from "../../scripts/lib/worker-process.mjs";
import { BIN, cli, collect, type Run } from "./processes";
import { client, workDir } from "./round-trip";
import { startTamperingProxy, type TamperingProxy } from "./tampering-proxy";

const SOURCE = "cli-source";
const COMMANDS = ["dump", "download", "restore", "list", "status", "cancel", "pause", "resume", "schedules"];
const UNKNOWN_DUMP = "20990101-000000-deadbeef";

/** stdout of a --json run: exactly one JSON object and nothing else. */
function jsonOf(run: Run): any {
  const lines = run.stdout.trimEnd().split("\n");
  expect(lines, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]);
}

function sha256Of(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Tables with every kind of value, big enough (about 1 MB of SQL) for a download to be cut in the middle. */
async function seedSource(database: string) {
  await client().transaction(
    [
      { sql: "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, data BLOB, big INTEGER)" },
      { sql: "CREATE TABLE tags(item_id INTEGER NOT NULL REFERENCES items(id), tag TEXT NOT NULL, PRIMARY KEY(item_id, tag)) WITHOUT ROWID" },
      { sql: "CREATE INDEX items_name ON items(name)" },
      {
        sql:
          "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 4000) " +
          "INSERT INTO items SELECT x, 'item ' || x || ' it''s', x / 7.0, randomblob(120), 9007199254740993 + x FROM n",
      },
      { sql: "INSERT INTO items VALUES (5001, CAST(X'610062' AS TEXT), 1e999, X'00FF', 9223372036854775807)" },
      { sql: "INSERT INTO items VALUES (5002, 'line one' || char(10) || 'line two', -0.1, NULL, -9223372036854775808)" },
      { sql: "INSERT INTO tags SELECT id, 'tag' || (id % 5) FROM items WHERE id <= 2000" },
    ],
    { database },
  );
}

describe("do-sqlite-dump, the command-line client", () => {
  const work = workDir("cli");
  const api = client();
  let proxy: TamperingProxy;

  beforeAll(async () => {
    await seedSource(SOURCE);
    proxy = await startTamperingProxy(inject("baseUrl"));
  });
  afterAll(async () => {
    await proxy?.close();
    work.remove();
  });

  /** A fresh dump of SOURCE, downloaded once without the CLI, to compare the CLI's files with. */
  async function referenceDump(): Promise<{ dumpId: string; bytes: Buffer; etag: string }> {
    const started = await api.startDump({ database: SOURCE, options: { breathingMs: 0 } });
    const status = await api.waitForDump(started.dumpId, { timeoutMs: 90_000 });
    expect(status.status, String(status.error)).toBe("completed");
    const response = await api.fetchDump(started.dumpId);
    return { dumpId: started.dumpId, bytes: Buffer.from(await response.arrayBuffer()), etag: response.headers.get("ETag") ?? "" };
  }

  it("dumps with --json to a file that sqlite3 restores to exactly the service's content", async () => {
    const run = await cli(["dump", "-d", SOURCE, "--breathing-ms", "0", "--json", "-o", `${work.dir}/plain/`]);
    expect(run.code, run.stderr).toBe(0);
    const result = jsonOf(run);
    expect(result).toMatchObject({ ok: true, database: SOURCE, status: "completed" });
    expect(basename(result.path)).toMatch(/^dump_\d{8}-\d{6}\.sql$/);
    expect(result.path.startsWith(join(work.dir, "plain"))).toBe(true);
    const bytes = readFileSync(result.path);
    expect(result.size).toBe(bytes.length);
    expect(result.dump.size).toBe(bytes.length);
    expect(result.sha256).toBe(sha256Of(result.path));
    expect(["size", "sha-256"]).toContain(result.verifiedBy);
    if (result.dump.sha256) expect(result.verifiedBy).toBe("sha-256");
    // The name is the server's Content-Disposition name.
    const response = await api.fetchDump(result.dumpId, { Range: "bytes=0-0" });
    await response.arrayBuffer();
    expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="${basename(result.path)}"`);
    expect(existsSync(`${result.path}.part`) || existsSync(`${result.path}.part.json`)).toBe(false);

    const dbPath = join(work.dir, "plain.db");
    await restoreDump(result.path, dbPath);
    const comparison = await compareWithService(dbPath, api, { database: SOURCE });
    expect(formatMismatches(comparison)).toBe("");
    expect(comparison.tables.map((t) => [t.name, t.rows])).toEqual([
      ["items", 4002],
      ["tags", 2000],
    ]);
  });

  it("dumps with --gzip and --no-snapshot and restores that .sql.gz through the CLI into another database", async () => {
    const dumped = await cli(["dump", "-d", SOURCE, "--gzip", "--no-snapshot", "--breathing-ms", "0", "--json", "-o", `${work.dir}/gzip/`]);
    expect(dumped.code, dumped.stderr).toBe(0);
    const { path, dump } = jsonOf(dumped);
    expect(dump).toMatchObject({ options: { compression: "gzip", snapshot: false }, snapshot: null });
    expect(basename(path)).toMatch(/^dump_\d{8}-\d{6}\.sql\.gz$/);
    const sqlPath = join(work.dir, "gunzipped.sql");
    writeFileSync(sqlPath, gunzipSync(readFileSync(path)));
    await restoreDump(sqlPath, join(work.dir, "gunzipped.db"));
    expect(formatMismatches(await compareWithService(join(work.dir, "gunzipped.db"), api, { database: SOURCE }))).toBe("");

    const restored = await cli(["restore", path, "-d", "cli-copy-gzip", "--breathing-ms", "0", "--json"]);
    expect(restored.code, restored.stderr).toBe(0);
    const result = jsonOf(restored);
    expect(result).toMatchObject({ ok: true, database: "cli-copy-gzip", status: "completed" });
    expect(result.restoreId).toMatch(/^restore-/);
    expect(result.restore.source).toMatchObject({ kind: "upload", contentType: "application/gzip", receivedBytes: readFileSync(path).length });
    const comparison = await compareDatabases(serviceSide(api, SOURCE), serviceSide(api, "cli-copy-gzip"));
    expect(formatMismatches(comparison)).toBe("");
  });

  it("restores a dump by id, follows it to the end, and refuses a database that has tables (exit 6)", async () => {
    const { dumpId } = await referenceDump();
    const restored = await cli(["restore", "--dump-id", dumpId, "-d", "cli-copy-id", "--breathing-ms", "0"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/^restore-\S+ completed\n$/);
    expect(restored.stderr).toContain("restored into cli-copy-id");
    expect(formatMismatches(await compareDatabases(serviceSide(api, SOURCE), serviceSide(api, "cli-copy-id")))).toBe("");

    const again = await cli(["restore", "--dump-id", dumpId, "-d", "cli-copy-id", "--json"]);
    expect(again.code).toBe(6);
    expect(jsonOf(again)).toMatchObject({ ok: false, exitCode: 6, kind: "state" });
    expect(again.stderr).toMatch(/already has 2 tables or views; restore with mode "replace"/);
  });

  it("resumes a download cut in the middle with Range and If-Range, and verifies it", async () => {
    const reference = await referenceDump();
    proxy.downloads = [];
    proxy.tampering = { kind: "cut", afterBytes: 100_000, times: 2 };
    const output = join(work.dir, "resumed.sql");
    const run = await cli(["download", reference.dumpId, "-o", output, "--json"], { url: proxy.url });
    proxy.tampering = { kind: "none" };
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/connection lost at byte \d+ of \d+ .*resuming/);
    // Verified by the SHA-256 the status gives, since a resumed (206) answer carries no Repr-Digest.
    expect(jsonOf(run)).toMatchObject({ ok: true, path: output, size: reference.bytes.length, sha256: sha256Of(output), verifiedBy: "sha-256" });
    expect(readFileSync(output).equals(reference.bytes)).toBe(true);

    // Two cut answers, then the one that completes; a cut before the first body byte arrives starts again without Range.
    const answers = proxy.downloads.filter((d) => d.range !== "bytes=0-0");
    expect(answers.length).toBeGreaterThanOrEqual(3);
    const resumed = answers.filter((d) => d.range !== null);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    for (const request of resumed) {
      expect(request.range).toMatch(/^bytes=[1-9]\d*-$/);
      expect(request.ifRange).toBe(reference.etag);
      expect(request.status).toBe(206);
    }
  });

  it("resumes from FILE.part when a run that lost its connection is started again", async () => {
    const reference = await referenceDump();
    proxy.downloads = [];
    proxy.tampering = { kind: "cut", afterBytes: 200_000, times: 1 };
    const output = join(work.dir, "second-run.sql");
    const first = await cli(["download", reference.dumpId, "-o", output, "--retries", "0"], { url: proxy.url });
    expect(first.code).toBe(3);
    expect(first.stderr).toMatch(/the download stopped at byte \d+ of \d+ .*run the same command again to resume it/);
    expect(existsSync(output)).toBe(false);
    const kept = readFileSync(`${output}.part`);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.equals(reference.bytes.subarray(0, kept.length))).toBe(true);

    const second = await cli(["download", reference.dumpId, "-o", output], { url: proxy.url });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`resuming the download of second-run.sql at byte ${kept.length} of ${reference.bytes.length}`);
    expect(second.stdout).toBe(`${output}\n`);
    expect(readFileSync(output).equals(reference.bytes)).toBe(true);
    expect(proxy.downloads.at(-1)).toMatchObject({ range: `bytes=${kept.length}-`, ifRange: reference.etag, status: 206 });
    expect(existsSync(`${output}.part`)).toBe(false);
  });

  it("detects a byte flipped on the way by its SHA-256: exit 1, the file kept only as FILE.corrupt", async () => {
    const reference = await referenceDump();
    proxy.tampering = { kind: "flip" };
    const output = join(work.dir, "flipped.sql");
    const run = await cli(["download", reference.dumpId, "-o", output, "--json"], { url: proxy.url });
    proxy.tampering = { kind: "none" };
    expect(run.code).toBe(1);
    const result = jsonOf(run);
    expect(result).toMatchObject({ ok: false, exitCode: 1, kind: "failed", corruptPath: `${output}.corrupt` });
    expect(run.stderr).toMatch(/does not match the dump: its SHA-256 is [0-9a-f]{64} but the service says [0-9a-f]{64}/);
    expect(existsSync(output)).toBe(false);
    const corrupt = readFileSync(`${output}.corrupt`);
    expect(corrupt.length).toBe(reference.bytes.length);
    expect(corrupt.equals(reference.bytes)).toBe(false);
  });

  it("detects a file longer than the dump's size", async () => {
    const reference = await referenceDump();
    proxy.tampering = { kind: "grow" };
    const output = join(work.dir, "grown.sql");
    const run = await cli(["download", reference.dumpId, "-o", output], { url: proxy.url });
    proxy.tampering = { kind: "none" };
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/does not match the dump: (the file has \d+ bytes but the dump's status says \d+|its SHA-256)/);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.corrupt`)).toBe(true);
  });

  it("draws a live progress bar in a terminal, and plain lines without one", async () => {
    const output = join(work.dir, "pty.sql");
    const command = [process.execPath, BIN, "dump", "-d", SOURCE, "--breathing-ms", "0", "-o", output].map(shellQuote).join(" ");
    const env = { ...process.env, DUMP_URL: inject("baseUrl"), DUMP_TOKEN: DEFAULT_TOKEN, COLUMNS: "160" };
    const run = await collect(spawn("/usr/bin/script", ["-qfec", command, "/dev/null"], { env, stdio: ["ignore", "pipe", "pipe"] }));
    expect(run.code, run.stdout).toBe(0);
    const screen = run.stdout;
    expect(screen).toContain("\r\x1b[2K"); // redrawn in place
    expect(screen).toMatch(/dump \S+ \[█+\] 100% completed +2\/2 tables · 6,002 rows · /);
    expect(screen).toMatch(/download pty\.sql \[█+\] 100% · [\d.]+ (KiB|MiB) of [\d.]+ (KiB|MiB)/);
    expect(screen).toContain(`saved ${output}`);
    expect(existsSync(output)).toBe(true);

    const plain = await cli(["dump", "-d", SOURCE, "--breathing-ms", "0", "-o", join(work.dir, "plain-lines.sql")]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain("\x1b[");
    expect(plain.stderr).toMatch(/^dump \S+ \[█+\] 100% completed/m);
    expect(plain.stdout).toBe(`${join(work.dir, "plain-lines.sql")}\n`);
  });

  it("pauses, resumes, cancels and lists a dump, routing by id", async () => {
    await client().transaction(
      [
        { sql: "CREATE TABLE a(x)" },
        { sql: "CREATE TABLE b(y)" },
        { sql: "INSERT INTO a VALUES (1)" },
        // Over 10,000 rows, so b does not share the first table's step (small tables do).
        { sql: "INSERT INTO b WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10001) SELECT i FROM n" },
      ],
      { database: "cli-slow" },
    );
    // A long breath after the first table keeps the dump running while the commands act on it.
    const started = await cli(["dump", "-d", "cli-slow", "--breathing-ms", "600000", "--no-wait", "--json"]);
    expect(started.code, started.stderr).toBe(0);
    const { dumpId } = jsonOf(started);
    expect(dumpId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{8}$/);

    const paused = await cli(["pause", dumpId, "--json"]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(jsonOf(paused)).toMatchObject({ ok: true, dumpId, status: "paused" });
    const status = await cli(["status", dumpId]);
    expect(status.stdout).toMatch(new RegExp(`^dump +${dumpId}\\ndatabase +cli-slow\\nstatus +paused\\n`));
    const resumed = await cli(["resume", dumpId]);
    expect(resumed.stdout).toMatch(new RegExp(`^dump ${dumpId}: (in_progress|queued)\\n$`));
    const listed = await cli(["list", "-d", "cli-slow", "--json"]);
    expect(jsonOf(listed).dumps.map((d: { dumpId: string }) => d.dumpId)).toEqual([dumpId]);

    const cancelled = await cli(["cancel", dumpId]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toBe(`dump ${dumpId}: cancelled\n`);
    const download = await cli(["download", dumpId, "-o", join(work.dir, "cancelled.sql")]);
    expect(download.code).toBe(1);
    expect(download.stderr).toContain(`dump ${dumpId} cancelled`);
    const pauseAgain = await cli(["pause", dumpId]);
    expect(pauseAgain.code).toBe(6);
    expect(pauseAgain.stderr).toContain("cannot pause a dump that is cancelled");
  });

  it("lists, pauses, resumes and cancels restores", async () => {
    const { dumpId } = await referenceDump();
    const started = await cli(["restore", "--dump-id", dumpId, "-d", "cli-restore-control", "--breathing-ms", "600000", "--slice-bytes", "4096", "--no-wait", "--json"]);
    expect(started.code, started.stderr).toBe(0);
    const { restoreId } = jsonOf(started);
    const listed = await cli(["list", "--restores", "--json"]);
    expect(jsonOf(listed).restores.map((r: { restoreId: string }) => r.restoreId)).toContain(restoreId);
    for (const [action, expected] of [
      ["pause", "paused"],
      ["resume", /in_progress|queued/],
      ["cancel", "cancelled"],
    ] as const) {
      const run = await cli([action, restoreId, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      expect(jsonOf(run).status).toMatch(expected);
    }
  });

  it("manages schedules", async () => {
    const put = await cli(["schedules", "put", "cli-nightly", "--cron", "0 3 * * *", "--databases", SOURCE, "--keep-last", "3", "--keep-weekly", "4", "--gzip", "--json"]);
    expect(put.code, put.stderr).toBe(0);
    const got = await cli(["schedules", "get", "cli-nightly", "--json"]);
    expect(jsonOf(got).schedule).toMatchObject({
      cron: "0 3 * * *",
      databases: [SOURCE],
      retention: { keepLast: 3, keepWeekly: 4 },
      options: { compression: "gzip" },
      concurrency: 4,
      lastRun: null,
    });
    expect(jsonOf(got).schedule.nextRun).toMatch(/T03:00:00\.000Z$/);
    expect(jsonOf(await cli(["schedules", "--json"])).schedules.map((s: { name: string }) => s.name)).toContain("cli-nightly");
    expect((await cli(["schedules", "delete", "cli-nightly"])).code).toBe(0);
    expect((await cli(["schedules", "get", "cli-nightly"])).code).toBe(5);
  });

  it("exits 4 with a clear message for a wrong or missing token", async () => {
    const wrong = await cli(["list", "--json"], { token: "not-the-token" });
    expect(wrong.code).toBe(4);
    expect(jsonOf(wrong)).toMatchObject({ ok: false, exitCode: 4, kind: "auth", httpStatus: 401 });
    expect(wrong.stderr).toContain("the service refused the token (HTTP 401: invalid token); check --token or DUMP_TOKEN");
    const flag = await cli(["status", UNKNOWN_DUMP, "--token", "not-the-token"]);
    expect(flag.code).toBe(4);
  });

  it("takes a local URL's token from .dev.vars when none is given", async () => {
    const run = await cli(["list", "-d", SOURCE, "--limit", "1"], { token: null });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ID +DATABASE +STATUS/);
  });

  it("exits 3 for a URL where nothing listens, a server that is not the service, and a malformed URL", async () => {
    const nothing = await cli(["list", "--json"], { url: `http://127.0.0.1:${await freePort()}` });
    expect(nothing.code).toBe(3);
    expect(jsonOf(nothing)).toMatchObject({ ok: false, exitCode: 3, kind: "connection", code: "ECONNREFUSED" });
    expect(nothing.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused/);

    const other = createServer((_req, res) => res.writeHead(404, { "Content-Type": "text/html" }).end("<h1>Not here</h1>"));
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const run = await cli(["status", UNKNOWN_DUMP], { url });
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`${url} does not look like a do-sqlite-dump service`);
    } finally {
      other.close();
    }
    const wrongPath = await cli(["list"], { url: `${inject("baseUrl")}/not-the-service` });
    expect(wrongPath.code).toBe(3);
    const malformed = await cli(["list"], { url: "127.0.0.1 8787" });
    expect(malformed.code).toBe(3);
    expect(malformed.stderr).toContain('"127.0.0.1 8787" is not a URL');
  });

  it("exits 5 for an unknown dump or restore id, and 2 for something that is no id", async () => {
    const dump = await cli(["status", UNKNOWN_DUMP, "--json"]);
    expect(dump.code).toBe(5);
    expect(jsonOf(dump)).toMatchObject({ ok: false, exitCode: 5, kind: "not_found", error: `no dump with id ${UNKNOWN_DUMP}` });
    // Common options may also come before the command.
    const optionsFirst = await cli(["--json", "-d", SOURCE, "status", UNKNOWN_DUMP]);
    expect(optionsFirst.code).toBe(5);
    expect(jsonOf(optionsFirst)).toMatchObject({ ok: false, kind: "not_found" });
    const restore = await cli(["cancel", `restore-${UNKNOWN_DUMP}`]);
    expect(restore.code).toBe(5);
    const download = await cli(["download", UNKNOWN_DUMP, "-o", join(work.dir, "unknown.sql")]);
    expect(download.code).toBe(5);
    expect(download.stderr).toContain(`no dump with id ${UNKNOWN_DUMP}`);
    const notAnId = await cli(["status", "../etc"]);
    expect(notAnId.code).toBe(2);
    expect(notAnId.stderr).toContain('"../etc" is not a dump or restore id');
  });

  it("exits 2 for usage errors, and for options the service refuses", async () => {
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command "frobnicate"/],
      [["--quiet"], /no command given/],
      [["dump", "--tabels", "a"], /Unknown option '--tabels'.*do-sqlite-dump dump --help/],
      [["dump", "--breathing-ms", "soon"], /--breathing-ms must be a whole number/],
      [["dump", "--schema-only", "--data-only"], /--schema-only and --data-only exclude each other/],
      [["restore"], /give either a FILE or --dump-id ID/],
      [["restore", "/nonexistent/file.sql"], /\/nonexistent\/file\.sql is not a file/],
      [["schedules", "put", "nightly"], /schedules put needs --cron/],
      [["list", "--limit", "0"], /--limit must be a whole number from 1 to 100/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.stdout).toBe("");
    }
    const refused = await cli(["dump", "-d", SOURCE, "--tables", "nope", "--json"]);
    expect(refused.code).toBe(2);
    expect(jsonOf(refused)).toMatchObject({ ok: false, exitCode: 2, httpStatus: 400 });
    expect(refused.stderr).toContain("unknown tables: nope");
  });

  it("prints --help for each command", async () => {
    const overview = await cli(["--help"]);
    expect(overview.code).toBe(0);
    for (const command of COMMANDS) expect(overview.stdout).toContain(`\n  ${command} `);
    for (const command of COMMANDS) {
      for (const args of [[command, "--help"], ["help", command]]) {
        const run = await cli(args, { url: "http://127.0.0.1:1" }); // help needs no service
        expect(run.code, args.join(" ")).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^Usage: do-sqlite-dump ${command}\\b`));
        expect(run.stdout).toContain("--url URL");
        expect(run.stdout).toContain("Exit codes: 0 ok · 1 failed job or verification · 2 usage · 3 connection or URL · 4 auth · 5 not found");
      }
    }
  });
});

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
