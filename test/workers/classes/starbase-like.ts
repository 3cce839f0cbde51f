// A user's Durable Object class shaped like StarbaseDB's: fetch(), alarm(), hibernatable WebSockets,
// and methods named init, executeQuery, executeTransaction and getStatistics. withSqlDump must
// leave all of them working as the class wrote them.

import { DurableObject } from "cloudflare:workers";
import { withSqlDump } from "../../../durable-objects/sql-dump";

type Row = Record<string, unknown>;

export class StarbaseLike extends withSqlDump(DurableObject)<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Like StarbaseDB, the schema is created in the constructor.
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS tmp_cache (key TEXT PRIMARY KEY, value TEXT)");
  }

  init(): string {
    return "init of StarbaseLike";
  }

  executeQuery(sql: string, params: Array<string | number | null> = []): Row[] {
    return this.ctx.storage.sql.exec(sql, ...params).toArray();
  }

  executeTransaction(statements: string[]): number {
    return this.ctx.storage.transactionSync(() => statements.map((sql) => this.ctx.storage.sql.exec(sql)).length);
  }

  getStatistics(): { tables: number } {
    return { tables: this.ctx.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 4) <> '_cf_'").one().n as number };
  }

  /** Key-value storage next to the SQL tables; a dump leaves it out (README). */
  putSetting(key: string, value: unknown): Promise<void> {
    return this.ctx.storage.put(key, value);
  }

  getSetting(key: string): Promise<unknown> {
    return this.ctx.storage.get(key);
  }

  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade") === "websocket") {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    await this.ctx.storage.setAlarm(Date.now() + 60_000);
    return Response.json({ path: new URL(request.url).pathname, stats: this.getStatistics() });
  }

  async alarm(): Promise<void> {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO tmp_cache VALUES ('alarm', 'ran')");
  }

  webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    ws.send(`echo: ${typeof message === "string" ? message : "binary"}`);
  }

  webSocketClose(ws: WebSocket, code: number): void {
    ws.close(code, "closing");
  }
}
