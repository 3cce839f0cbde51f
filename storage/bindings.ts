// Stubs of the Durable Object bindings, named for what they hold.

import { ServiceError } from "../shared/service-error";

/**
 * The service's own database of that name (?database=). A Worker that only dumps its own classes
 * and D1 (DUMP_SOURCES) may leave the DATABASE binding out.
 */
export function databaseObject(env: Env, name: string) {
  if (!env.DATABASE) throw new ServiceError("invalid", "this Worker has no DATABASE binding: pick a configured database with ?source=");
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
