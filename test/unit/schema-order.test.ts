import { describe, expect, it } from "vitest";
import { ftsContentMode, isInternalTable, parentsFirst, type TableDependencies } from "../../shared/schema-order";
import { seededRandom } from "../random";

/** Fails unless every name appears once and every known, non-cyclic parent precedes its child. */
function expectParentsFirst(tables: TableDependencies[], order: string[]): void {
  expect([...order].sort()).toEqual(tables.map((t) => t.name).sort());
  const position = new Map(order.map((name, i) => [name.toLowerCase(), i]));
  for (const table of tables) {
    for (const reference of table.references) {
      const parent = position.get(reference.toLowerCase());
      if (parent === undefined || reference.toLowerCase() === table.name.toLowerCase()) continue;
      expect(parent, `${reference} before ${table.name}`).toBeLessThan(position.get(table.name.toLowerCase())!);
    }
  }
}

describe("parentsFirst", () => {
  it("puts a chain of references parents first", () => {
    const tables = [
      { name: "invoice_lines", references: ["invoices", "tracks"] },
      { name: "invoices", references: ["customers"] },
      { name: "tracks", references: ["albums"] },
      { name: "customers", references: ["employees"] },
      { name: "albums", references: ["artists"] },
      { name: "artists", references: [] },
      { name: "employees", references: ["employees"] },
    ];
    const order = parentsFirst(tables);
    expect(order).toEqual(["employees", "customers", "invoices", "artists", "albums", "tracks", "invoice_lines"]);
    expectParentsFirst(tables, order);
  });

  it("keeps the input order where nothing constrains it", () => {
    const tables = ["zeta", "alpha", "Mid"].map((name) => ({ name, references: [] }));
    expect(parentsFirst(tables)).toEqual(["zeta", "alpha", "Mid"]);
    expect(parentsFirst([])).toEqual([]);
  });

  it("ignores self references and references to unknown tables", () => {
    expect(parentsFirst([{ name: "tree", references: ["tree", "missing"] }, { name: "leaf", references: ["tree"] }])).toEqual([
      "tree",
      "leaf",
    ]);
    expect(parentsFirst([{ name: "b", references: ["B"] }, { name: "a", references: ["nowhere"] }])).toEqual(["b", "a"]);
  });

  it("matches names case-insensitively and keeps their spelling", () => {
    expect(parentsFirst([{ name: "Child", references: ["PARENT"] }, { name: "Parent", references: [] }])).toEqual([
      "Parent",
      "Child",
    ]);
  });

  it("breaks cycles and still lists every table once", () => {
    const cycle = [
      { name: "a", references: ["b"] },
      { name: "b", references: ["c"] },
      { name: "c", references: ["a"] },
      { name: "d", references: ["a"] },
    ];
    const order = parentsFirst(cycle);
    expect([...order].sort()).toEqual(["a", "b", "c", "d"]);
    expect(order.indexOf("d")).toBe(3); // a child of the cycle still comes after all of it
    const mutual = parentsFirst([
      { name: "x", references: ["y"] },
      { name: "y", references: ["x"] },
    ]);
    expect([...mutual].sort()).toEqual(["x", "y"]);
  });

  it("orders 200 random acyclic schemas parents first", () => {
    const random = seededRandom(42);
    for (let round = 0; round < 200; round++) {
      const count = 1 + Math.floor(random() * 12);
      // Table i may reference only tables with a smaller index: acyclic by construction.
      const tables: TableDependencies[] = Array.from({ length: count }, (_, i) => ({
        name: `T${i}`,
        references: i === 0 ? [] : Array.from({ length: Math.floor(random() * 3) }, () => `t${Math.floor(random() * i)}`),
      }));
      const shuffled = [...tables].sort(() => random() - 0.5);
      expectParentsFirst(shuffled, parentsFirst(shuffled));
    }
  });
});

describe("isInternalTable", () => {
  it("skips SQLite, Cloudflare and miniflare tables, and snapshot objects", () => {
    for (const name of ["sqlite_sequence", "sqlite_stat1", "SQLITE_STAT4", "_cf_KV", "_CF_METADATA", "__miniflare_do_name", "_dumpsnap_ab12_state", "_dumpsnap_ab12_0_u"]) {
      expect(isInternalTable(name), name).toBe(true);
    }
  });

  it("keeps user tables that merely look similar", () => {
    for (const name of ["users", "my_sqlite_table", "sqlite", "cf_KV", "_cfKV", "_miniflare", "x__miniflare", " sqlite_x", "dumpsnap_x", "_dumpsnapx"]) {
      expect(isInternalTable(name), name).toBe(false);
    }
  });
});

describe("ftsContentMode", () => {
  it.each([
    ["CREATE VIRTUAL TABLE f USING fts5(a, b, content='')", "none"],
    ['CREATE VIRTUAL TABLE f USING fts5(a, content="")', "none"],
    ["CREATE VIRTUAL TABLE f USING FTS5(a, CONTENT = '', contentless_delete=1)", "none"],
    ["CREATE VIRTUAL TABLE f USING fts4(a, content='')", "none"],
    ["CREATE VIRTUAL TABLE f USING fts5(a, content='tbl')", "rebuild"],
    ["CREATE VIRTUAL TABLE f USING fts5(a, content=tbl)", "rebuild"],
    ['CREATE VIRTUAL TABLE f USING fts5(a, content="my tbl", content_rowid=id)', "rebuild"],
    ["CREATE VIRTUAL TABLE f USING fts5(a, content_rowid=id, content=docs)", "rebuild"],
    ["CREATE VIRTUAL TABLE f USING fts5(a, content='it''s')", "rebuild"],
    ["CREATE VIRTUAL TABLE f USING fts4(content=docs, a)", "rebuild"],
    ["CREATE VIRTUAL TABLE f USING fts5(a, b)", "rows"],
    ["CREATE VIRTUAL TABLE f USING fts5(content, body)", "rows"], // a column named content
    ["CREATE VIRTUAL TABLE f USING fts5(a, content_rowid='x')", "rows"],
    ["CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)", "rows"],
    ["CREATE VIRTUAL TABLE r USING custom(a, content='')", "rows"], // not FTS: the option means nothing
    ["CREATE TABLE t(content TEXT)", "rows"],
  ])("%s -> %s", (sql, mode) => {
    expect(ftsContentMode(sql)).toBe(mode);
  });
});
