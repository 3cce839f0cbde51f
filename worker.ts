// The Worker's entry point: the HTTP API, the Cron Trigger that starts due schedules, and the classes
// that wrangler.jsonc binds, all from the package's public entry point (index.ts), as a Worker that
// uses the library would take them.

import { dumpApi, runDueSchedules } from "./index";

export default {
  fetch: dumpApi().fetch,
  async scheduled(controller, env) {
    await runDueSchedules(env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;

export { DatabaseObject, DumpWorkflow, FileStore, JobIndex, RestoreWorkflow, ScheduleWorkflow, SnapshotWatchdog } from "./index";
