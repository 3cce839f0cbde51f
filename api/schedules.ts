// Scheduled backups: GET /export/schedules, GET/PUT/DELETE /export/schedules/:name.

import type { IRequest } from "itty-router";
import { SCHEDULE_INPUT } from "../shared/schedule";
import { SCHEDULE_NAME } from "../shared/schemas";
import { deleteSchedule, listSchedules, putSchedule, showSchedule } from "../services/schedules";
import { origin, parseOrThrow, readJson } from "./http";

function scheduleName(request: IRequest): string {
  return parseOrThrow(SCHEDULE_NAME, request.params.name, "name");
}

export const scheduleHandlers = {
  list: async (_request: IRequest, env: Env) => ({ result: { schedules: await listSchedules(env) } }),

  get: async (request: IRequest, env: Env) => ({ result: await showSchedule(env, scheduleName(request)) }),

  put: async (request: IRequest, env: Env) => {
    const name = scheduleName(request);
    const spec = parseOrThrow(SCHEDULE_INPUT, await readJson(request), "schedule");
    return { result: await putSchedule(env, name, spec, origin(request)) };
  },

  delete: async (request: IRequest, env: Env) => {
    const name = scheduleName(request);
    await deleteSchedule(env, name);
    return { result: { name, deleted: true } };
  },
};
