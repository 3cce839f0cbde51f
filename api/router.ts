// The API's routes: each HTTP request goes to a handler that calls the service layer (services/).

import { AutoRouter, error, type IRequest } from "itty-router";
import { requireAdmin } from "./auth";
import { startDump } from "./dumps";
import { downloadDump } from "./download";
import { errorResponse } from "./http";
import { jobHandlers } from "./jobs";
import { runQuery } from "./query";
import { startRestore } from "./restores";
import { scheduleHandlers as schedules } from "./schedules";

type Args = [Env, ExecutionContext];

const methodNotAllowed = () => error(405, "method not allowed");

const router = AutoRouter<IRequest, Args>({ catch: errorResponse });
const dumps = jobHandlers("dump");
const restores = jobHandlers("restore");

router
  .get("/health", () => ({ result: { status: "ok" } }))
  .all("/health", methodNotAllowed)
  .all("*", requireAdmin)
  .post("/query", runQuery)
  .all("/query", methodNotAllowed);

// Dumps: one DumpWorkflow instance each.
router
  .post("/export/dump", startDump)
  .post("/export/dump/chunked", startDump)
  .get("/export/dumps", dumps.list)
  .get("/export/dump/:dumpId/status", dumps.status)
  .post("/export/dump/:dumpId/pause", dumps.pause)
  .post("/export/dump/:dumpId/resume", dumps.resume)
  .get("/export/dump/:dumpId", downloadDump)
  .delete("/export/dump/:dumpId", dumps.cancel)
  .all("/export/dump", methodNotAllowed)
  .all("/export/dump/chunked", methodNotAllowed)
  .all("/export/dumps", methodNotAllowed)
  .all("/export/dump/:dumpId/status", methodNotAllowed)
  .all("/export/dump/:dumpId/pause", methodNotAllowed)
  .all("/export/dump/:dumpId/resume", methodNotAllowed)
  .all("/export/dump/:dumpId", methodNotAllowed);

// Scheduled backups: the Worker's scheduled() handler starts their runs (worker.ts).
router
  .get("/export/schedules", schedules.list)
  .get("/export/schedules/:name", schedules.get)
  .put("/export/schedules/:name", schedules.put)
  .delete("/export/schedules/:name", schedules.delete)
  .all("/export/schedules", methodNotAllowed)
  .all("/export/schedules/:name", methodNotAllowed);

// Restores: load a finished dump, or an uploaded SQL file, into a database (one RestoreWorkflow instance each).
router
  .post("/import/dump", startRestore)
  .get("/import/dumps", restores.list)
  .get("/import/dump/:restoreId/status", restores.status)
  .post("/import/dump/:restoreId/pause", restores.pause)
  .post("/import/dump/:restoreId/resume", restores.resume)
  .delete("/import/dump/:restoreId", restores.cancel)
  .all("/import/dump", methodNotAllowed)
  .all("/import/dumps", methodNotAllowed)
  .all("/import/dump/:restoreId/status", methodNotAllowed)
  .all("/import/dump/:restoreId/pause", methodNotAllowed)
  .all("/import/dump/:restoreId/resume", methodNotAllowed)
  .all("/import/dump/:restoreId", methodNotAllowed);

export const api = { fetch: router.fetch } satisfies ExportedHandler<Env>;
