// Stubs for the bindings, named for what they hold.

export function sourceDatabase(env: Env, database: string) {
  return env.DATABASE.get(env.DATABASE.idFromName(database));
}

/** The store of every dump's record. */
export function dumpIndex(env: Env) {
  return env.DUMP_STORE.get(env.DUMP_STORE.idFromName("index"));
}

/** The store of one dump's file, when it is kept in Durable Object storage. */
export function dumpFileStore(env: Env, dumpId: string) {
  return env.DUMP_STORE.get(env.DUMP_STORE.idFromName(`file:${dumpId}`));
}

export function dumpObjectKey(dumpId: string): string {
  return `dumps/${dumpId}`;
}

export function dumpTempPrefix(dumpId: string): string {
  return `tmp/${dumpId}/`;
}
