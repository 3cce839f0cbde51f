// The Worker's entry point: the HTTP API, the Cron Trigger that starts due schedules, and the classes
// that wrangler.jsonc binds.

import { api } from "./api/router";
import { runDueSchedules } from "./services/schedules";

export default {
  fetch: api.fetch,
  async scheduled(controller, env) {
    await runDueSchedules(env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;

export { DatabaseObject } from "./durable-objects/database-object";
export { FileStore } from "./durable-objects/file-store";
export { JobIndex } from "./durable-objects/job-index";
export { DumpWorkflow } from "./workflows/dump-workflow";
export { RestoreWorkflow } from "./workflows/restore-workflow";
export { ScheduleWorkflow } from "./workflows/schedule-workflow";
export { SnapshotWatchdog } from "./workflows/snapshot-watchdog";
