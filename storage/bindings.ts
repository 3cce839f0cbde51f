// Stubs of the Durable Object bindings, named for what they hold.

/** The database of that name: a dump's source or a restore's target. */
export function databaseObject(env: Env, name: string) {
  return env.DATABASE.get(env.DATABASE.idFromName(name));
}

/** The records of every dump and restore. */
export function jobIndexObject(env: Env) {
  return env.JOB_INDEX.get(env.JOB_INDEX.idFromName("index"));
}

/** The pieces of one file kept in Durable Object storage. */
export function fileStoreObject(env: Env, key: string) {
  return env.FILE_STORE.get(env.FILE_STORE.idFromName(key));
}
