// The Chinook sample database: loaded through POST /query, dumped to both storage kinds, restored
// with the sqlite3 CLI and compared both with the service and with the original file.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareDatabases, fileSide, formatMismatches, serviceSide } from "../../scripts/lib/compare.mjs";
import { loadDatabase } from "../../scripts/lib/load-database.mjs";
import { querySql } from "../../scripts/lib/sqlite-cli.mjs";
import { PROJECT_ROOT } from "../../scripts/lib/worker-process.mjs";
import { STORAGE_KINDS, client, expectExact, roundTrip, workDir } from "./round-trip";

const DATABASE = "chinook";
const DATASETS_DIR = resolve(PROJECT_ROOT, process.env.DATASETS_DIR ?? "../shared/datasets");
const CHINOOK = resolve(DATASETS_DIR, "chinook.sqlite");
const present = existsSync(CHINOOK);
const TABLES = ["Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine", "MediaType", "Playlist", "PlaylistTrack", "Track"];

if (!present) console.warn(`e2e: skipping the Chinook round trip: ${CHINOOK} does not exist (set DATASETS_DIR)`);

describe.skipIf(!present)(`Chinook round trip${present ? "" : ` (skipped: ${CHINOOK} is missing)`}`, () => {
  const api = client();
  const work = workDir("chinook");

  beforeAll(async () => {
    const loaded = await loadDatabase(api, CHINOOK, { database: DATABASE });
    expect(loaded.tables.map((t) => t.name).sort()).toEqual(TABLES);
    // The loader itself is exact: the service now holds what the file holds.
    const comparison = await compareDatabases(fileSide(CHINOOK), serviceSide(api, DATABASE));
    expect(formatMismatches(comparison)).toBe("");
  });

  afterAll(() => work.remove());

  it.each(STORAGE_KINDS)("storage %s: restores all 11 tables, their indexes and sequences exactly", async (storage) => {
    const trip = await roundTrip(api, DATABASE, storage, work.dir);
    expectExact(trip);
    expect(trip.status.progress.totalTables).toBe(11);
    expect(trip.status.progress.rowsDumped).toBe(15607);

    // Independent of the service: the restored file equals the original Chinook file.
    const against = await compareDatabases(fileSide(CHINOOK), fileSide(trip.dbPath));
    expect(formatMismatches(against)).toBe("");
    expect(against.tables.map((t) => t.name).sort()).toEqual([...TABLES, "sqlite_sequence"].sort());
    expect(against.tables.find((t) => t.name === "PlaylistTrack")?.rows).toBe(8715);

    const indexes = await querySql(trip.dbPath, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name");
    expect(indexes).toHaveLength(11);
    expect(await querySql(trip.dbPath, "SELECT seq FROM sqlite_sequence WHERE name = 'Track'")).toEqual([{ seq: 3503 }]);
    // Parents come before children, so an engine that enforces foreign keys can restore it too.
    const order = TABLES.map((name) => ({ name, at: trip.bytes.indexOf(`CREATE TABLE [${name}]`) }));
    expect(order.every((t) => t.at >= 0)).toBe(true);
    const at = (name: string) => order.find((t) => t.name === name)!.at;
    expect(at("Artist")).toBeLessThan(at("Album"));
    expect(at("Album")).toBeLessThan(at("Track"));
    expect(at("Track")).toBeLessThan(at("InvoiceLine"));
    expect(at("Invoice")).toBeLessThan(at("InvoiceLine"));
  });
});
