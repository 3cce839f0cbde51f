// withSqlDump on a user class shaped like StarbaseDB's: everything the class had still works, the
// added methods are all prefixed, and an id nobody wrote to is not taken for an instance.

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { DurableObject, env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SQL_DUMP_METHODS, withSqlDump } from "../../durable-objects/sql-dump";
import { StarbaseLike } from "./classes/starbase-like";

describe("withSqlDump", () => {
  it("leaves fetch, alarm, WebSocket handlers and the class's own methods alone", async () => {
    const stub = env.STARBASE_LIKE.get(env.STARBASE_LIKE.idFromName("own-methods"));
    expect(await stub.init()).toBe("init of StarbaseLike");
    expect(await stub.executeTransaction(["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users VALUES (1, 'Ada')"])).toBe(2);
    expect(await stub.executeQuery("SELECT name FROM users WHERE id = ?", [1])).toEqual([{ name: "Ada" }]);
    expect(await stub.getStatistics()).toEqual({ tables: 2 });

    const response = await stub.fetch("http://do/some/path");
    expect(await response.json()).toEqual({ path: "/some/path", stats: { tables: 2 } });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.executeQuery("SELECT value FROM tmp_cache WHERE key = 'alarm'")).toEqual([{ value: "ran" }]);

    const upgrade = await stub.fetch("http://do/ws", { headers: { Upgrade: "websocket" } });
    const socket = upgrade.webSocket!;
    socket.accept();
    const echoed = new Promise<string>((resolve) => socket.addEventListener("message", (event) => resolve(event.data as string)));
    socket.send("hello");
    expect(await echoed).toBe("echo: hello");
    const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
    socket.close(1000, "done");
    expect(await closed).toBe(1000);

    expect((await stub.sqlDumpTableAndViewNames()).sort()).toEqual(["tmp_cache", "users"]);
  });

  it("adds only methods named sqlDump…, and refuses a class that has one already", async () => {
    const added = await runInDurableObject(env.STARBASE_LIKE.get(env.STARBASE_LIKE.idFromName("names")), (instance) => {
      const own = new Set(Object.getOwnPropertyNames(StarbaseLike.prototype));
      const names: string[] = [];
      for (let proto = Object.getPrototypeOf(StarbaseLike.prototype); proto !== DurableObject.prototype; proto = Object.getPrototypeOf(proto)) {
        names.push(...Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor" && !own.has(n)));
      }
      return { names, isInstance: instance instanceof StarbaseLike };
    });
    expect(added.isInstance).toBe(true);
    expect(added.names.sort()).toEqual([...SQL_DUMP_METHODS].sort());
    expect(added.names.every((n) => n.startsWith("sqlDump"))).toBe(true);

    class Clashing extends DurableObject {
      sqlDumpStart() {
        return "mine";
      }
    }
    expect(() => withSqlDump(Clashing)).toThrow("withSqlDump(Clashing): the class already has sqlDumpStart");
  });

  it("tells an instance nobody wrote to from one that holds data, even when the constructor creates tables", async () => {
    const fresh = env.STARBASE_LIKE.get(env.STARBASE_LIKE.newUniqueId());
    expect(await fresh.sqlDumpExists()).toBe(false);
    expect(await fresh.getStatistics()).toEqual({ tables: 1 }); // the constructor's table
    expect(await fresh.sqlDumpExists()).toBe(false);
    await fresh.executeQuery("INSERT INTO tmp_cache VALUES ('k', 'v')");
    expect(await fresh.sqlDumpExists()).toBe(true);

    const keysOnly = env.STARBASE_LIKE.get(env.STARBASE_LIKE.newUniqueId());
    await keysOnly.putSetting("theme", "dark");
    expect(await keysOnly.sqlDumpExists()).toBe(true);
  });
});
