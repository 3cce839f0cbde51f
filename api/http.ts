// Request parsing, list cursors and JSON errors shared by the handlers.

import { StatusError, error, type IRequest } from "itty-router";
import * as v from "valibot";
import type { ListPosition } from "../shared/job-record";
import { DATABASE_NAME, LIST_CURSOR, describeIssues } from "../shared/schemas";
import { DATABASE_PARAMS, databaseRequest, type DatabaseRequest } from "../shared/sources";
import { messageOf } from "../shared/error-message";
import { ServiceError, type ServiceFailure } from "../shared/service-error";

export function parseOrThrow<S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) throw new StatusError(400, `${what}: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}

/** The JSON body, or `fallback` when the body is empty. */
export async function readJson(request: IRequest, fallback?: unknown): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") {
    if (fallback !== undefined) return fallback;
    throw new StatusError(400, "request body must be JSON");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StatusError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** ?database=, default "default": the service's own databases only (/query). */
export function databaseName(request: IRequest): string {
  const other = DATABASE_PARAM_NAMES.find((key) => key !== "database" && request.query[key] !== undefined);
  if (other) throw new StatusError(400, `${other}: /query works on this service's own databases (?database=), not on configured sources`);
  const name = request.query.database;
  if (Array.isArray(name)) throw new StatusError(400, "database: give it once");
  return parseOrThrow(DATABASE_NAME, name ?? "default", "database");
}

/** The query parameters that pick the database a dump reads or a restore writes. */
export const DATABASE_PARAM_NAMES = ["database", "source", "name", "id"] as const;

/** ?database= (the service's own, default "default"), or ?source= with ?name= or ?id= (shared/sources.ts). */
export function databaseOf(request: IRequest): DatabaseRequest {
  const params: Record<string, string> = {};
  for (const key of DATABASE_PARAM_NAMES) {
    const value = request.query[key];
    if (Array.isArray(value)) throw new StatusError(400, `${key}: give it once`);
    if (value !== undefined) params[key] = value;
  }
  const parsed = v.safeParse(DATABASE_PARAMS, params);
  if (!parsed.success) throw new StatusError(400, describeIssues(parsed.issues));
  return databaseRequest(parsed.output);
}

/** Where the API's routes start: the origin, and the path it is mounted under (dumpApi's base). */
export function origin(request: IRequest): string {
  return (request.apiRoot as string | undefined) ?? new URL(request.url).origin;
}

/** The page a list answer ends with, as an opaque cursor for the next request. */
export function encodeCursor(position: ListPosition): string {
  return btoa(JSON.stringify(position)).replace(/=+$/, "");
}

export function decodeCursor(cursor: string): ListPosition {
  try {
    return parseOrThrow(LIST_CURSOR, JSON.parse(atob(cursor)), "cursor");
  } catch {
    throw new StatusError(400, "cursor: not a cursor returned by this endpoint");
  }
}

const STATUS_OF: Record<ServiceFailure, number> = { invalid: 400, forbidden: 403, not_found: 404, conflict: 409, gone: 410, unavailable: 503 };

/** Every error becomes {"error": "..."} with its status; a ServiceError adds its details. */
export function errorResponse(thrown: unknown, request: IRequest): Response {
  if (thrown instanceof ServiceError) return error(STATUS_OF[thrown.failure], { error: thrown.message, ...thrown.details });
  if (thrown instanceof StatusError) return error(thrown);
  const message = messageOf(thrown);
  console.error(JSON.stringify({ event: "unhandled_error", method: request.method, url: request.url, message }));
  return error(500, message);
}
