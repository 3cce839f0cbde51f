// The routes every job has, dump or restore: status, list, cancel, pause and resume.

import type { IRequest } from "itty-router";
import type { JobKind } from "../shared/job-record";
import { DUMP_ID, LIST_QUERY } from "../shared/schemas";
import { RESTORE_ID } from "../shared/restore-record";
import { cancelJob, listJobs, pauseJob, resumeJob, showJob } from "../services/jobs";
import { decodeCursor, encodeCursor, origin, parseOrThrow } from "./http";

/** How each kind's routes name it: the path parameter, its schema, and the list's key. */
const ROUTE_NAMES = {
  dump: { param: "dumpId", schema: DUMP_ID, list: "dumps" },
  restore: { param: "restoreId", schema: RESTORE_ID, list: "restores" },
} as const;

export function jobId(kind: JobKind, request: IRequest): string {
  const { param, schema } = ROUTE_NAMES[kind];
  return parseOrThrow(schema, request.params[param], param);
}

/** Handlers for one kind of job. */
export function jobHandlers(kind: JobKind) {
  return {
    status: async (request: IRequest, env: Env) => ({ result: await showJob(env, kind, jobId(kind, request), origin(request)) }),

    list: async (request: IRequest, env: Env) => {
      const query = parseOrThrow(LIST_QUERY, request.query, "query");
      const before = query.cursor ? decodeCursor(query.cursor) : undefined;
      const { database, status, schedule, limit } = query;
      const page = await listJobs(env, kind, { database, status, schedule, limit: limit as unknown as number, before }, origin(request));
      return { result: { [ROUTE_NAMES[kind].list]: page.jobs, cursor: page.next ? encodeCursor(page.next) : null } };
    },

    cancel: async (request: IRequest, env: Env) => {
      const id = jobId(kind, request);
      return { result: { [ROUTE_NAMES[kind].param]: id, status: await cancelJob(env, kind, id) } };
    },

    pause: async (request: IRequest, env: Env) => ({ result: await pauseJob(env, kind, jobId(kind, request), origin(request)) }),

    resume: async (request: IRequest, env: Env) => ({ result: await resumeJob(env, kind, jobId(kind, request), origin(request)) }),
  };
}
