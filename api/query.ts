// POST /query: one statement, or a transaction of several, against a database.

import type { IRequest } from "itty-router";
import { querySchemaFor } from "../shared/schemas";
import { runStatement, runTransaction } from "../services/query";
import { databaseName, parseOrThrow, readJson } from "./http";

type Param = string | number | boolean | null;
const toSqlParams = (params: Param[] = []) => params.map((p) => (typeof p === "boolean" ? Number(p) : p));

export async function runQuery(request: IRequest, env: Env) {
  const database = databaseName(request);
  const input = await readJson(request);
  const body = parseOrThrow(querySchemaFor(input), input, "body");
  const result =
    "transaction" in body
      ? await runTransaction(env, database, body.transaction.map((s) => ({ sql: s.sql, params: toSqlParams(s.params) })))
      : await runStatement(env, database, { sql: body.sql, params: toSqlParams(body.params) });
  return { result };
}
