// POST /query: one statement, or a transaction of several, against a source database.

import { StatusError, type IRequest } from "itty-router";
import type { QueryOutcome } from "../durable-objects/database-object";
import { sourceDatabase } from "../workflows/bindings";
import { querySchemaFor } from "../shared/schemas";
import { databaseName, parseOrThrow, readJson } from "./http";

type Param = string | number | boolean | null;
const toSqlParams = (params: Param[] = []) => params.map((p) => (typeof p === "boolean" ? Number(p) : p));

export async function runQuery(request: IRequest, env: Env) {
  const database = sourceDatabase(env, databaseName(request));
  const input = await readJson(request);
  const body = parseOrThrow(querySchemaFor(input), input, "body");
  const outcome = (
    "transaction" in body
      ? await database.transaction(body.transaction.map((s) => ({ sql: s.sql, params: toSqlParams(s.params) })))
      : await database.query({ sql: body.sql, params: toSqlParams(body.params) })
  ) as QueryOutcome<unknown>;
  if (outcome.error !== null) throw new StatusError(400, outcome.error);
  return { result: outcome.result };
}
