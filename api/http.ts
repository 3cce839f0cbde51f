// Request parsing and JSON errors shared by the handlers.

import { StatusError, type IRequest } from "itty-router";
import * as v from "valibot";
import { DATABASE_NAME, describeIssues } from "../shared/schemas";

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

/** ?database=, default "default". */
export function databaseName(request: IRequest): string {
  const name = request.query.database;
  if (Array.isArray(name)) throw new StatusError(400, "database: give it once");
  return parseOrThrow(DATABASE_NAME, name ?? "default", "database");
}

export function origin(request: IRequest): string {
  return new URL(request.url).origin;
}
