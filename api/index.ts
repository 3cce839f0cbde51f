// The API Worker: routes HTTP requests to the source databases and the dump Workflow.

import { AutoRouter, StatusError, error, type IRequest } from "itty-router";
import { requireAdmin } from "./auth";
import { cancelDump, dumpStatus, listDumps, pauseDump, resumeDump, startDump } from "./dumps";
import { downloadDump } from "./download";
import { runQuery } from "./query";
import { restoreStatus, startRestore } from "./restore";

export { DatabaseObject } from "../durable-objects/database-object";
export { DumpStore } from "../durable-objects/dump-store";
export { DumpWorkflow } from "../workflows/dump-workflow";
export { RestoreWorkflow } from "../workflows/restore-workflow";

type Args = [Env, ExecutionContext];

const methodNotAllowed = () => error(405, "method not allowed");

function handleError(thrown: unknown, request: IRequest) {
  if (thrown instanceof StatusError) return error(thrown);
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  console.error(JSON.stringify({ event: "unhandled_error", method: request.method, url: request.url, message }));
  return error(500, message);
}

const router = AutoRouter<IRequest, Args>({ catch: handleError });

router
  .get("/health", () => ({ result: { status: "ok" } }))
  .all("/health", methodNotAllowed)
  .all("*", requireAdmin)
  .post("/query", runQuery)
  .post("/export/dump", startDump)
  .post("/export/dump/chunked", startDump)
  .get("/export/dumps", listDumps)
  .get("/export/dump/:dumpId/status", dumpStatus)
  .post("/export/dump/:dumpId/pause", pauseDump)
  .post("/export/dump/:dumpId/resume", resumeDump)
  .get("/export/dump/:dumpId", downloadDump)
  .delete("/export/dump/:dumpId", cancelDump)
  .all("/query", methodNotAllowed)
  .all("/export/dump", methodNotAllowed)
  .all("/export/dump/chunked", methodNotAllowed)
  .all("/export/dumps", methodNotAllowed)
  .all("/export/dump/:dumpId/status", methodNotAllowed)
  .all("/export/dump/:dumpId/pause", methodNotAllowed)
  .all("/export/dump/:dumpId/resume", methodNotAllowed)
  .all("/export/dump/:dumpId", methodNotAllowed);

// Restores: load a finished dump, or an uploaded SQL file, into a database (RestoreWorkflow).
router
  .post("/import/dump", startRestore)
  .get("/import/dump/:restoreId/status", restoreStatus)
  .all("/import/dump", methodNotAllowed)
  .all("/import/dump/:restoreId/status", methodNotAllowed);

export default { fetch: router.fetch } satisfies ExportedHandler<Env>;
