// The app's bindings (wrangler.jsonc). `wrangler types` can generate this file instead.

interface Env {
  NOTES: DurableObjectNamespace<import("./notes").NotesObject>;
  DB: D1Database;
  DB_COPY: D1Database;
  JOB_INDEX: DurableObjectNamespace;
  FILE_STORE: DurableObjectNamespace;
  DUMP_WORKFLOW: Workflow;
  RESTORE_WORKFLOW: Workflow;
  SNAPSHOT_WATCHDOG: Workflow;
  DUMP_SOURCES: Record<string, unknown>;
  ADMIN_AUTHORIZATION_TOKEN: string;
}
