// POST /query: one statement, or a transaction of several, against a database.

import type { QueryOutcome, QueryRow, Statement } from "../durable-objects/database-object";
import { ServiceError } from "../shared/service-error";
import { databaseObject } from "../storage/bindings";

/** One statement; SQL errors come back as "invalid" with SQLite's message. */
export async function runStatement(env: Env, database: string, statement: Statement): Promise<QueryRow[]> {
  return resultOf((await databaseObject(env, database).query(statement)) as QueryOutcome<QueryRow[]>);
}

/** All statements in one transaction, or none. */
export async function runTransaction(env: Env, database: string, statements: Statement[]): Promise<QueryRow[][]> {
  return resultOf((await databaseObject(env, database).transaction(statements)) as QueryOutcome<QueryRow[][]>);
}

function resultOf<T>(outcome: QueryOutcome<T>): T {
  if (outcome.error !== null) throw new ServiceError("invalid", outcome.error);
  return outcome.result as T;
}
