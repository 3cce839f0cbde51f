// POST /export/dump: starts a dump (one DumpWorkflow instance). The other dump routes are in jobs.ts
// and download.ts.

import { json, type IRequest } from "itty-router";
import { CALLBACK_URL, DUMP_OPTIONS } from "../shared/schemas";
import { startDump as start } from "../services/dumps";
import { databaseOf, origin, parseOrThrow, readJson } from "./http";

export async function startDump(request: IRequest, env: Env) {
  const database = databaseOf(request);
  const options = parseOrThrow(DUMP_OPTIONS, await readJson(request, {}), "options");
  const headerUrl = request.headers.get("X-Callback-URL");
  if (headerUrl !== null) options.callbackUrl = parseOrThrow(CALLBACK_URL, headerUrl, "X-Callback-URL");
  return json({ result: await start(env, { database, options, origin: origin(request) }) }, { status: 202 });
}
