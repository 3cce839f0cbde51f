// POST /import/dump: starts a restore (one RestoreWorkflow instance) from a finished dump (JSON body)
// or from the SQL file sent as the body. The other restore routes are in jobs.ts.

import { StatusError, json, type IRequest } from "itty-router";
import { RESTORE_FROM_DUMP, RESTORE_UPLOAD_QUERY } from "../shared/restore-record";
import { CALLBACK_URL } from "../shared/schemas";
import { restoreFromDump, restoreFromUpload } from "../services/restores";
import { DATABASE_PARAM_NAMES, databaseOf, origin, parseOrThrow, readJson } from "./http";

const SQL_TYPES = new Set(["application/sql", "application/x-sql", "text/plain"]);
const GZIP_TYPES = new Set(["application/gzip", "application/x-gzip"]);

export async function startRestore(request: IRequest, env: Env) {
  const database = databaseOf(request);
  const type = (request.headers.get("Content-Type") ?? "").split(";")[0].trim().toLowerCase();
  const headerUrl = request.headers.get("X-Callback-URL");
  const callback = headerUrl !== null ? { callbackUrl: parseOrThrow(CALLBACK_URL, headerUrl, "X-Callback-URL") } : {};
  const common = { database, origin: origin(request) };
  let started;
  if (type === "application/json") {
    const { dumpId, ...options } = parseOrThrow(RESTORE_FROM_DUMP, await readJson(request), "body");
    started = await restoreFromDump(env, { ...common, dumpId, options: { ...options, ...callback } });
  } else if (SQL_TYPES.has(type) || GZIP_TYPES.has(type)) {
    const { storage, ...options } = parseOrThrow(RESTORE_UPLOAD_QUERY, withoutDatabase(request.query), "query");
    const lengthHeader = request.headers.get("Content-Length");
    started = await restoreFromUpload(env, {
      ...common,
      options: { ...options, ...callback },
      storage,
      contentType: type,
      compressed: GZIP_TYPES.has(type),
      body: request.body as ReadableStream<Uint8Array> | null,
      knownLength: lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null,
    });
  } else {
    throw new StatusError(
      415,
      'Content-Type must be application/json ({"dumpId": "..."}), application/sql (the SQL file as the body) or application/gzip (a .sql.gz body)',
    );
  }
  return json({ result: started }, { status: 202 });
}

function withoutDatabase(query: IRequest["query"]) {
  return Object.fromEntries(Object.entries(query).filter(([key]) => !(DATABASE_PARAM_NAMES as readonly string[]).includes(key)));
}
