// 50,000+ rows (so that tables are read in many chunks) plus rows far larger than a statement may be
// (900 KB blob, 300 KB text, big values in STRICT and WITHOUT ROWID tables), a 1.5 MB blob row in a
// database of its own, for both storage kinds; and the download's Range support.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareDatabases, fileSide, formatMismatches, serviceSide } from "../../scripts/lib/compare.mjs";
import { loadDatabase } from "../../scripts/lib/load-database.mjs";
import { splitSqlStatements } from "../../scripts/lib/sql-statements.mjs";
import { querySql, runSql } from "../../scripts/lib/sqlite-cli.mjs";
import { STORAGE_KINDS, client, expectExact, expectRange, roundTrip, workDir, type RoundTrip } from "./round-trip";

const DATABASE = "large";
const ROWS = 50_000;
const GAPS = Math.floor(ROWS / 997);

describe("large tables and oversized rows", () => {
  const api = client();
  const work = workDir("large");
  const trips = new Map<string, RoundTrip>();

  beforeAll(async () => {
    await api.transaction(
      [
        { sql: "CREATE TABLE many(id INTEGER PRIMARY KEY, n INTEGER, r REAL, t TEXT, b BLOB)" },
        {
          sql:
            `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) ` +
            "INSERT INTO many(id, n, r, t, b) SELECT i, (i * 2654435761) % 4294967296 - 2147483648, i / 7.0, " +
            "'row ' || i || ' ''q'' ' || hex(randomblob(6)), CASE WHEN i % 10 = 0 THEN randomblob(12) END FROM c",
        },
        { sql: "DELETE FROM many WHERE id % 997 = 0" },
        { sql: "CREATE INDEX many_n ON many(n)" },
        { sql: "CREATE TABLE big(id INTEGER PRIMARY KEY, kind TEXT, data)" },
        { sql: "INSERT INTO big VALUES(1, 'blob 900 KB', randomblob(900000))" },
        // 300 KB of text with multi-byte characters, quotes and newlines: pieces may split a character.
        { sql: "INSERT INTO big VALUES(2, 'text 300 KB', replace(hex(zeroblob(37500)), '00', 'aé€''' || char(10)))" },
        // Text with NUL bytes, 150 KB.
        { sql: "INSERT INTO big VALUES(3, 'text with NUL 150 KB', replace(hex(zeroblob(50000)), '00', char(0) || 'é'))" },
        { sql: "INSERT INTO big VALUES(4, 'small', 'after the big ones')" },
        { sql: "CREATE TABLE strict_big(id INTEGER PRIMARY KEY, t TEXT, b BLOB, a ANY) STRICT" },
        { sql: "INSERT INTO strict_big VALUES(1, replace(hex(zeroblob(60000)), '00', 'ü·'), randomblob(250000), replace(hex(zeroblob(60000)), '00', 'x'))" },
        { sql: `CREATE TABLE "no rowid big"(k TEXT, n INTEGER, data, PRIMARY KEY(k, n)) WITHOUT ROWID` },
        { sql: `INSERT INTO "no rowid big" VALUES('it''s ✓', -1, randomblob(200000)), ('it''s ✓', 2, 'small'), ('z', 0, replace(hex(zeroblob(70000)), '00', 'ab'))` },
      ],
      { database: DATABASE },
    );
    const [counts] = await api.transaction(
      [
        {
          sql:
            "SELECT (SELECT count(*) FROM many) AS rows_, (SELECT length(data) FROM big WHERE id = 1) AS blob_bytes, " +
            "(SELECT length(CAST(data AS BLOB)) FROM big WHERE id = 2) AS text_bytes, (SELECT typeof(data) FROM big WHERE id = 3) AS nul_type",
        },
      ],
      { database: DATABASE },
    );
    expect(counts[0]).toEqual({ rows_: ROWS - GAPS, blob_bytes: 900_000, text_bytes: 300_000, nul_type: "text" });
  });

  afterAll(() => work.remove());

  describe.each(STORAGE_KINDS)("storage %s", (storage) => {
    it("restores exactly, with every statement at most 100,000 bytes", async () => {
      const trip = await roundTrip(api, DATABASE, storage, work.dir);
      trips.set(storage, trip);
      expectExact(trip);
      expect(trip.status.progress.rowsDumped).toBe(ROWS - GAPS + 4 + 1 + 3);
      expect(trip.comparison.tables.find((t) => t.name === "many")?.rows).toBe(ROWS - GAPS);
      // The oversized values really were split over several statements.
      const text = trip.bytes.toString("utf8");
      let updates = 0;
      for (const statement of splitSqlStatements(text)) if (statement.sql.startsWith("UPDATE ")) updates += 1;
      expect(updates).toBeGreaterThanOrEqual(30);
      expect(await querySql(trip.dbPath, "SELECT id, typeof(data) AS type, length(CAST(data AS BLOB)) AS bytes FROM big ORDER BY id")).toEqual([
        { id: 1, type: "blob", bytes: 900_000 },
        { id: 2, type: "text", bytes: 300_000 },
        { id: 3, type: "text", bytes: 150_000 },
        { id: 4, type: "text", bytes: 18 },
      ]);
    });

    it.runIf(storage === "do")("the loader copies the restored file (oversized values split) into a new database exactly", async () => {
      const trip = trips.get(storage);
      if (!trip) throw new Error("the round trip did not run");
      const copy = "large-reloaded";
      const loaded = await loadDatabase(api, trip.dbPath, { database: copy });
      expect(loaded.tables.find((t) => t.name === "many")?.rows).toBe(ROWS - GAPS);
      const result = await compareDatabases(fileSide(trip.dbPath), serviceSide(api, copy));
      expect(formatMismatches(result)).toBe("");
    });

    it("answers Range requests with 206 and exactly those bytes", async () => {
      const trip = trips.get(storage);
      if (!trip) throw new Error("the round trip did not run");
      const size = trip.bytes.length;
      await expectRange(api, trip, 0, 99);
      await expectRange(api, trip, 1000, 1000);
      // Across an R2 part boundary (parts are 5 MiB) and up to the last byte.
      const boundary = 5 * 1024 * 1024;
      if (size > boundary + 1000) await expectRange(api, trip, boundary - 1000, boundary + 999);
      await expectRange(api, trip, size - 4096, size - 1);
      const suffix = await api.fetchDump(trip.dumpId, { Range: "bytes=-8" });
      expect(suffix.status).toBe(206);
      expect(Buffer.from(await suffix.arrayBuffer()).toString("utf8")).toBe("COMMIT;\n");
      const beyond = await api.fetchDump(trip.dumpId, { Range: `bytes=${size}-` });
      await beyond.arrayBuffer();
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get("Content-Range")).toBe(`bytes */${size}`);
    });
  });
});

describe("a 1.5 MB blob row", () => {
  const api = client();
  const work = workDir("blob");
  const database = "blob-1_5mb";

  beforeAll(async () => {
    await api.transaction(
      [
        { sql: "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB)" },
        { sql: "INSERT INTO blobs VALUES(1, randomblob(1500000)), (2, X'00')" },
      ],
      { database },
    );
  });

  afterAll(() => work.remove());

  it("the loader and the comparison handle values over 1 MB (no dump involved)", async () => {
    const source = join(work.dir, "source.db");
    await runSql(
      source,
      "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB);" +
        "INSERT INTO blobs VALUES(1, randomblob(1500000)), (2, X'00');" +
        "INSERT INTO blobs VALUES(3, CAST(replace(hex(zeroblob(400000)), '00', 'é' || char(0)) AS TEXT));",
    );
    await loadDatabase(api, source, { database: "blob-loaded" });
    const result = await compareDatabases(fileSide(source), serviceSide(api, "blob-loaded"));
    expect(formatMismatches(result)).toBe("");
    // And it notices a difference in the last byte of the 1.5 MB blob.
    await runSql(
      source,
      "UPDATE blobs SET data = CAST(substr(data, 1, 1499999) || CASE WHEN substr(data, 1500000) = X'00' THEN X'01' ELSE X'00' END AS BLOB) WHERE id = 1",
    );
    expect(await querySql(source, "SELECT typeof(data) AS t, length(data) AS n FROM blobs WHERE id = 1")).toEqual([{ t: "blob", n: 1_500_000 }]);
    const changed = await compareDatabases(fileSide(source), serviceSide(api, "blob-loaded"));
    expect(changed.mismatches.map((m) => `${m.kind} ${m.rowKey} ${m.column}`)).toEqual(["cell rowid=1 data"]);
  });

  it.each(STORAGE_KINDS)("storage %s: restores exactly", async (storage) => {
    const trip = await roundTrip(api, database, storage, work.dir);
    expectExact(trip);
    expect(await querySql(trip.dbPath, "SELECT id, typeof(data) AS type, length(data) AS bytes FROM blobs ORDER BY id")).toEqual([
      { id: 1, type: "blob", bytes: 1_500_000 },
      { id: 2, type: "blob", bytes: 1 },
    ]);
  });
});
