// A SQLite database in a Durable Object: one instance per database name. Its dump and restore
// methods come from withSqlDump (sql-dump.ts), as for any user class; it adds the /query API.

import { DurableObject } from "cloudflare:workers";
import { runStatement, runTransaction, type QueryOutcome, type QueryRow, type Statement } from "../shared/query";
import { withSqlDump } from "./sql-dump";

export type { QueryOutcome, QueryRow, SqlParam, Statement } from "../shared/query";

export class DatabaseObject extends withSqlDump(DurableObject)<Env> {
  query(statement: Statement): QueryOutcome<QueryRow[]> {
    return runStatement(this.ctx.storage.sql, statement);
  }

  /** All statements or none. */
  transaction(statements: Statement[]): QueryOutcome<QueryRow[][]> {
    return runTransaction(this.ctx.storage, statements);
  }
}
