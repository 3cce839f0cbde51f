// Every input the API accepts, as valibot schemas.

import * as v from "valibot";
import { parseDuration } from "./duration";
import { JOB_STATUSES } from "./job-record";

export const DATABASE_NAME = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,64}$/, "database must be 1-64 characters of A-Z, a-z, 0-9, _ and -"),
);

export const SCHEDULE_NAME = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,64}$/, "a schedule name is 1-64 characters of A-Z, a-z, 0-9, _ and -"),
);

export const DUMP_ID = v.pipe(v.string(), v.regex(/^[a-zA-Z0-9_][a-zA-Z0-9-_]{0,99}$/, "not a dump id"));

const SQL_PARAM = v.union([v.string(), v.number(), v.null(), v.boolean()]);

export const STATEMENT = v.strictObject({
  sql: v.pipe(v.string(), v.nonEmpty("sql must not be empty")),
  params: v.optional(v.array(SQL_PARAM)),
});

export const TRANSACTION = v.strictObject({
  transaction: v.pipe(v.array(STATEMENT), v.minLength(1, "transaction must not be empty")),
});

/**
 * The schema for a /query body: {"transaction": [...]} when it has that key, else {"sql", "params"?}.
 * Choosing by key (rather than a union) lets errors name the field that is wrong.
 */
export function querySchemaFor(body: unknown): typeof STATEMENT | typeof TRANSACTION {
  return typeof body === "object" && body !== null && "transaction" in body ? TRANSACTION : STATEMENT;
}

/** Checks after v.url() still run on text it rejected, so they must not throw on it. */
function parsedUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

export const CALLBACK_URL = v.pipe(
  v.string(),
  v.maxLength(2048, "callback URL must be at most 2048 characters"),
  v.url("callback URL must be an absolute URL"),
  v.check((text) => {
    const url = parsedUrl(text);
    return !url || /^https?:$/.test(url.protocol);
  }, "callback URL must use http or https"),
  v.check((text) => {
    const url = parsedUrl(text);
    return !url || (!url.username && !url.password);
  }, "callback URL must not contain credentials"),
);

const DURATION = v.pipe(
  v.string(),
  v.check((text) => parseDuration(text) !== null, 'a duration such as "1 hour" or "7 days"'),
);

const TABLE_NAMES = v.pipe(v.array(v.pipe(v.string(), v.nonEmpty())), v.minLength(1, "give at least one table"));

export const DUMP_OPTIONS = v.pipe(
  v.strictObject({
    storage: v.optional(v.picklist(["auto", "r2", "do"], 'storage must be "auto", "r2" or "do"'), "auto"),
    breathingMs: v.optional(
      v.pipe(v.number(), v.integer("breathingMs must be an integer"), v.minValue(0), v.maxValue(3_600_000)),
    ),
    callbackUrl: v.optional(CALLBACK_URL),
    retention: v.optional(DURATION),
    deleteAfterDownload: v.optional(v.boolean(), false),
    tables: v.optional(TABLE_NAMES),
    excludeTables: v.optional(TABLE_NAMES),
    schemaOnly: v.optional(v.boolean(), false),
    dataOnly: v.optional(v.boolean(), false),
    compression: v.optional(v.picklist(["none", "gzip"], 'compression must be "none" or "gzip"'), "none"),
    // false reads the live database chunk by chunk: no per-write cost, but no single instant either.
    snapshot: v.optional(v.boolean(), true),
  }),
  v.check((options) => !(options.schemaOnly && options.dataOnly), "schemaOnly and dataOnly cannot both be true"),
);
export type DumpOptions = v.InferOutput<typeof DUMP_OPTIONS>;

/** GET /export/dumps and GET /import/dumps. */
export const LIST_QUERY = v.object({
  database: v.optional(DATABASE_NAME),
  status: v.optional(v.picklist(JOB_STATUSES)),
  /** Only the dumps of this schedule. */
  schedule: v.optional(SCHEDULE_NAME),
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d+$/, "limit must be a positive integer"), v.transform(Number), v.minValue(1), v.maxValue(100)),
    "20",
  ),
  cursor: v.optional(v.string()),
});

/** What a list cursor holds: where the previous page ended. */
export const LIST_CURSOR = v.object({ createdAt: v.string(), id: v.string() });

/** One line naming the field and what is wrong with it. */
export function describeIssues(issues: v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}
