// Databases other than the service's own: sources named in configuration (DUMP_SOURCES), each a
// Durable Object binding of a class made with withSqlDump, or a D1 binding. A request names a
// source and, for a Durable Object source, the instance by name or by hex id; never a binding.

import * as v from "valibot";
import { DATABASE_NAME, describeIssues } from "./schemas";

export const SOURCE_NAME = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,64}$/, "source must be 1-64 characters of A-Z, a-z, 0-9, _ and -"),
);

/** DUMP_SOURCES: {"notes": {"type": "durable-object", "binding": "NOTES"}, "analytics": {"type": "d1", "binding": "DB", "readOnly": true}} */
const SOURCES_CONFIG = v.record(
  SOURCE_NAME,
  v.strictObject({
    type: v.picklist(["durable-object", "d1"], 'type must be "durable-object" or "d1"'),
    binding: v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "binding must be a binding's name")),
    readOnly: v.optional(v.boolean(), false),
  }),
);

export type SourceType = "durable-object" | "d1";
export type SourceConfig = v.InferOutput<typeof SOURCES_CONFIG>[string];
export type SourcesConfig = v.InferOutput<typeof SOURCES_CONFIG>;

/** DUMP_SOURCES as JSON text or as the object wrangler.jsonc's vars give; none configured when absent. */
export function parseSources(raw: unknown): SourcesConfig {
  if (raw === undefined || raw === null || raw === "") return {};
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new Error(`DUMP_SOURCES is not JSON: ${(error as Error).message}`);
    }
  }
  const parsed = v.safeParse(SOURCES_CONFIG, value);
  if (!parsed.success) throw new Error(`DUMP_SOURCES: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}

/** The query parameters that pick a database: ?database= (the service's own), or ?source= with ?name= or ?id=. */
export const DATABASE_PARAMS = v.pipe(
  v.object({
    database: v.optional(DATABASE_NAME),
    source: v.optional(SOURCE_NAME),
    name: v.optional(v.pipe(v.string(), v.minLength(1, "name must not be empty"), v.maxLength(256, "name must be at most 256 characters"))),
    id: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/i, "id must be 64 hex digits (a Durable Object id)"))),
  }),
  v.check((p) => !(p.database !== undefined && p.source !== undefined), "give either database or source, not both"),
  v.check((p) => !(p.name !== undefined && p.id !== undefined), "give either name or id, not both"),
  v.check((p) => p.source !== undefined || (p.name === undefined && p.id === undefined), "name and id pick an instance of a source: give source too"),
);

/** A database as a request names it, before configuration is consulted. */
export type DatabaseRequest =
  | { kind: "service"; database: string }
  | { kind: "source"; source: string; instance: { name: string } | { id: string } | null };

export function databaseRequest(params: v.InferOutput<typeof DATABASE_PARAMS>): DatabaseRequest {
  if (params.source === undefined) return { kind: "service", database: params.database ?? "default" };
  const instance = params.name !== undefined ? { name: params.name } : params.id !== undefined ? { id: params.id.toLowerCase() } : null;
  return { kind: "source", source: params.source, instance };
}

/** A configured source's database, as dumps and restores keep it: a Durable Object by its hex id, or a D1 database. */
export interface SourceRef {
  source: string;
  type: SourceType;
  /** The Durable Object's id (hex), also when the request named it. */
  id?: string;
  /** The name the request gave, for display. */
  name?: string;
}

/**
 * The label jobs are recorded and listed under, and that tells two restores into one database
 * apart: `source:<source>/<hex id>` for a Durable Object, `source:<source>` for D1. The service's
 * own databases keep their names, which cannot contain ':'.
 */
export function databaseLabel(ref: SourceRef): string {
  return ref.id ? `source:${ref.source}/${ref.id}` : `source:${ref.source}`;
}
