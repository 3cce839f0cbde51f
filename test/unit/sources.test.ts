// DUMP_SOURCES parsing and the query parameters that pick a database (shared/sources.ts).

import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { DATABASE_PARAMS, databaseLabel, databaseRequest, parseSources } from "../../shared/sources";

describe("parseSources", () => {
  it("reads JSON text or an object, with readOnly false unless given", () => {
    const config = { notes: { type: "durable-object", binding: "NOTES" }, db: { type: "d1", binding: "DB", readOnly: true } };
    const expected = { notes: { type: "durable-object", binding: "NOTES", readOnly: false }, db: { type: "d1", binding: "DB", readOnly: true } };
    expect(parseSources(JSON.stringify(config))).toEqual(expected);
    expect(parseSources(config)).toEqual(expected);
    expect(parseSources(undefined)).toEqual({});
  });

  it("refuses a configuration it cannot use, saying where", () => {
    expect(() => parseSources("{")).toThrow(/^DUMP_SOURCES is not JSON/);
    expect(() => parseSources({ notes: { type: "kv", binding: "NOTES" } })).toThrow('DUMP_SOURCES: notes.type: type must be "durable-object" or "d1"');
    expect(() => parseSources({ notes: { type: "d1", binding: "NOTES", extra: 1 } })).toThrow(/^DUMP_SOURCES: notes.extra/);
    expect(() => parseSources({ "bad name": { type: "d1", binding: "DB" } })).toThrow(/source must be 1-64 characters/);
  });
});

describe("the parameters that pick a database", () => {
  const parse = (params: Record<string, string>) => databaseRequest(v.parse(DATABASE_PARAMS, params));

  it("default to the service's database named default", () => {
    expect(parse({})).toEqual({ kind: "service", database: "default" });
    expect(parse({ database: "shop" })).toEqual({ kind: "service", database: "shop" });
  });

  it("name a source's instance by name or by id (lower-cased)", () => {
    expect(parse({ source: "notes", name: "tenant a" })).toEqual({ kind: "source", source: "notes", instance: { name: "tenant a" } });
    expect(parse({ source: "notes", id: "AB".repeat(32) })).toEqual({ kind: "source", source: "notes", instance: { id: "ab".repeat(32) } });
    expect(parse({ source: "db" })).toEqual({ kind: "source", source: "db", instance: null });
  });

  it("label jobs so that a Durable Object and D1 never share a label with the service's names", () => {
    expect(databaseLabel({ source: "notes", type: "durable-object", id: "ab" })).toBe("source:notes/ab");
    expect(databaseLabel({ source: "db", type: "d1" })).toBe("source:db");
  });
});
