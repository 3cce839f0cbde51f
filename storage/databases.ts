// The databases dumps read and restores write: the service's own DatabaseObject by name, or a
// configured source (shared/sources.ts). Each answers the same sqlDump… methods: a Durable Object
// through RPC (durable-objects/sql-dump.ts), D1 through d1-database.ts.

import type { SqlDumpMethods } from "../durable-objects/sql-dump";
import { ServiceError } from "../shared/service-error";
import { databaseLabel, parseSources, type DatabaseRequest, type SourceConfig, type SourceRef } from "../shared/sources";
import { databaseObject } from "./bindings";
import { D1_BATCH_LIMITS, D1DumpDatabase, type BatchLimits } from "./d1-database";

export type { SqlDumpMethods, StartedDump } from "../durable-objects/sql-dump";

/** A database a job works on: its label (records, lists) and, for a configured source, where it is. */
export interface JobDatabase {
  database: string;
  sourceRef?: SourceRef;
}

/** The database a job works on, for every call the job makes. */
export function openDatabase(env: Env, { database, sourceRef: source }: JobDatabase): SqlDumpMethods {
  if (!source) return databaseObject(env, database) as unknown as SqlDumpMethods;
  const config = sourceConfig(env, source.source);
  if (source.type !== config.type) throw new Error(`source "${source.source}" is no longer a ${source.type} in DUMP_SOURCES`);
  if (config.type === "d1") return new D1DumpDatabase(d1Binding(env, source.source, config));
  const namespace = durableObjectBinding(env, source.source, config);
  return namespace.get(namespace.idFromString(source.id!)) as unknown as SqlDumpMethods;
}

/** How much one restore step may hold so that the target applies it in one transaction; null when unlimited. */
export function batchLimits({ sourceRef }: JobDatabase): BatchLimits | null {
  return sourceRef?.type === "d1" ? D1_BATCH_LIMITS : null;
}

/**
 * Checks what a request names against configuration: the source exists, the id is one of its
 * namespace, a dump or restore by id finds an instance that holds something, a restore target is
 * writable. A list only needs the label.
 */
export async function resolveDatabase(env: Env, request: DatabaseRequest, purpose: "dump" | "restore" | "list"): Promise<JobDatabase> {
  if (request.kind === "service") return { database: request.database };
  const sources = parseSources(env.DUMP_SOURCES);
  const config = sources[request.source];
  if (!config) {
    const known = Object.keys(sources);
    throw new ServiceError("not_found", `no source "${request.source}" is configured${known.length ? ` (configured: ${known.join(", ")})` : " (DUMP_SOURCES names none)"}`);
  }
  if (purpose === "restore" && config.readOnly) throw new ServiceError("forbidden", `source "${request.source}" is read-only: it cannot be restored into`);
  if (config.type === "d1") {
    if (request.instance) throw new ServiceError("invalid", `source "${request.source}" is a D1 database: give no name or id`);
    d1Binding(env, request.source, config);
    const source: SourceRef = { source: request.source, type: "d1" };
    return { database: databaseLabel(source), sourceRef: source };
  }
  if (!request.instance) throw new ServiceError("invalid", `source "${request.source}" holds Durable Objects: give name or id to pick one`);
  const namespace = durableObjectBinding(env, request.source, config);
  let id: DurableObjectId;
  if ("name" in request.instance) id = namespace.idFromName(request.instance.name);
  else {
    try {
      id = namespace.idFromString(request.instance.id);
    } catch {
      throw new ServiceError("invalid", `id: ${request.instance.id} is not the id of an instance of source "${request.source}"`);
    }
  }
  const source: SourceRef = { source: request.source, type: "durable-object", id: id.toString(), ...("name" in request.instance ? { name: request.instance.name } : {}) };
  if ("id" in request.instance && purpose !== "list") {
    // An id must name an instance that exists: asking does not write to it, so nothing empty is created.
    const stub = namespace.get(id) as unknown as SqlDumpMethods;
    if (!(await stub.sqlDumpExists())) {
      throw new ServiceError("not_found", `source "${request.source}" has no instance with id ${source.id}: nothing was ever stored in it`);
    }
  }
  return { database: databaseLabel(source), sourceRef: source };
}

function sourceConfig(env: Env, name: string): SourceConfig {
  const config = parseSources(env.DUMP_SOURCES)[name];
  if (!config) throw new Error(`source "${name}" is no longer configured in DUMP_SOURCES`);
  return config;
}

function bindingOf(env: Env, source: string, config: SourceConfig): unknown {
  const binding = (env as unknown as Record<string, unknown>)[config.binding];
  if (!binding) throw new Error(`source "${source}" names binding ${config.binding}, which this Worker does not have`);
  return binding;
}

function durableObjectBinding(env: Env, source: string, config: SourceConfig): DurableObjectNamespace {
  const binding = bindingOf(env, source, config) as Partial<DurableObjectNamespace>;
  if (typeof binding.idFromName !== "function") throw new Error(`source "${source}": binding ${config.binding} is not a Durable Object namespace`);
  return binding as DurableObjectNamespace;
}

function d1Binding(env: Env, source: string, config: SourceConfig): D1Database {
  const binding = bindingOf(env, source, config) as Partial<D1Database>;
  if (typeof binding.prepare !== "function" || typeof binding.batch !== "function") {
    throw new Error(`source "${source}": binding ${config.binding} is not a D1 database`);
  }
  return binding as D1Database;
}
