// The snapshot's SQL inside a real Durable Object's SQLite, which authorizes less than sql.js: persistent
// triggers, pragma_index_list/index_xinfo, row values and the merged reads, with writes between reads.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SqlDatabase } from "../../shared/sql-handle";
import { endSnapshot, listSnapshots, snapshotHeldBytes } from "../../shared/snapshot";
import { beginCapturing, readContent, SnapshotReader } from "../snapshot-harness";
import { uniqueName } from "./helpers";

function inDatabase<T>(work: (db: SqlDatabase) => T): Promise<T> {
  const stub = env.DATABASE.get(env.DATABASE.idFromName(uniqueName("snapshot")));
  return runInDurableObject(stub, (_instance, state) => work(state.storage));
}

describe("snapshots inside a Durable Object", () => {
  it("refuses TEMP triggers, allows persistent ones, and leaves recursive_triggers off", async () => {
    const facts = await inDatabase((db) => {
      db.sql.exec("CREATE TABLE t(a)");
      let temp = "allowed";
      try {
        db.sql.exec("CREATE TEMP TRIGGER tt AFTER INSERT ON t BEGIN SELECT 1; END");
      } catch (error) {
        temp = String(error);
      }
      db.sql.exec("CREATE TRIGGER pt AFTER INSERT ON t BEGIN SELECT 1; END");
      return {
        temp,
        persistent: db.sql.exec("SELECT name FROM sqlite_master WHERE type = 'trigger'").toArray(),
        recursive: db.sql.exec("PRAGMA recursive_triggers").toArray(),
      };
    });
    expect(facts.temp).toMatch(/not authorized/);
    expect(facts.persistent).toEqual([{ name: "pt" }]);
    expect(facts.recursive).toEqual([{ recursive_triggers: 0 }]);
  });

  it("reads the database as of the instant while it is written, for every kind of key, then ends cleanly", async () => {
    const outcome = await inDatabase((db) => {
      db.sql.exec(`
        CREATE TABLE acct(id INTEGER PRIMARY KEY, email TEXT UNIQUE COLLATE NOCASE, balance INTEGER);
        CREATE TABLE ord(id INTEGER PRIMARY KEY AUTOINCREMENT, acct INTEGER REFERENCES acct(id) ON DELETE CASCADE ON UPDATE CASCADE, amount REAL);
        CREATE TABLE tag(name TEXT COLLATE NOCASE, n INTEGER, PRIMARY KEY(name, n)) WITHOUT ROWID;
        CREATE TABLE person(name TEXT, v);
        CREATE UNIQUE INDEX person_name ON person(lower(name));`);
      for (let i = 1; i <= 20; i++) {
        db.sql.exec("INSERT INTO acct VALUES (?, ?, 100)", i, `e${i}@x`);
        db.sql.exec("INSERT INTO ord(acct, amount) VALUES (?, ?)", i, i / 3);
        db.sql.exec("INSERT INTO tag VALUES (?, ?)", `t${i % 4}`, i);
        db.sql.exec("INSERT INTO person VALUES (?, ?)", `N${i}`, i);
      }
      const instant = beginCapturing(db, "do1", { totalBytes: -1 }) // triggers on every table, none copied;
      const reader = new SnapshotReader(db, instant);
      const writes = [
        "UPDATE acct SET balance = balance - 10 WHERE id = 3; UPDATE acct SET balance = balance + 10 WHERE id = 17",
        "INSERT OR REPLACE INTO acct VALUES (40, 'E5@X', 1); DELETE FROM acct WHERE id = 18",
        "UPDATE acct SET id = 60 WHERE id = 2; INSERT INTO ord(acct, amount) VALUES (60, 0.5)",
        "UPDATE tag SET name = 'T9' WHERE n = 19; INSERT OR REPLACE INTO tag VALUES ('T1', 5)",
        "INSERT OR REPLACE INTO person VALUES ('n20', 'replaced'); UPDATE person SET name = 'zz' WHERE v = 19",
      ];
      let step = 0;
      while (!reader.finished) {
        reader.step(3);
        const write = writes[step++ % writes.length];
        if (step <= 25) db.sql.exec(write);
      }
      const held = snapshotHeldBytes(db, "do1");
      const listed = listSnapshots(db);
      const dropped = endSnapshot(db, "do1");
      return {
        expected: Object.fromEntries(instant.content),
        read: Object.fromEntries(reader.rows),
        now: Object.fromEntries(readContent(db, instant.plans)),
        sequences: [instant.sequences, instant.start.sequences],
        held,
        listed,
        dropped,
        left: db.sql.exec("SELECT name FROM sqlite_master WHERE name LIKE '%dumpsnap%'").toArray(),
      };
    });
    expect(outcome.read).toEqual(outcome.expected);
    expect(outcome.now).not.toEqual(outcome.expected);
    expect(outcome.sequences[1]).toEqual(outcome.sequences[0]);
    expect(outcome.held).toBeGreaterThan(0);
    expect(outcome.listed).toEqual(["do1"]);
    // Finished tables dropped their triggers and side tables as the reads went on; the end drops the rest.
    expect(outcome.dropped).toBeGreaterThan(0);
    expect(outcome.left).toEqual([]);
  });
});
