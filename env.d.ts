// The Worker's bindings, as declared in wrangler.jsonc.

declare namespace Cloudflare {
  interface Env {
    DATABASE: DurableObjectNamespace<import("./durable-objects/database-object").DatabaseObject>;
    /** The records of every dump and restore (one instance, "index"). */
    JOB_INDEX: DurableObjectNamespace<import("./durable-objects/job-index").JobIndex>;
    /** Files kept in Durable Object storage: one instance per file. */
    FILE_STORE: DurableObjectNamespace<import("./durable-objects/file-store").FileStore>;
    /** Optional: without it every dump is kept in Durable Object storage. */
    DUMPS_BUCKET?: R2Bucket;
    DUMP_WORKFLOW: Workflow<import("./workflows/dump-workflow").DumpParams>;
    RESTORE_WORKFLOW: Workflow<import("./workflows/restore-workflow").RestoreParams>;
    /** One instance per run of a schedule: starts its dumps, a few at a time, then applies its retention policy. */
    SCHEDULE_WORKFLOW: Workflow<import("./workflows/schedule-workflow").ScheduleRunParams>;
    /** One instance per dump with a snapshot: ends the snapshot if the dump's instance stops without doing so. */
    SNAPSHOT_WATCHDOG: Workflow<import("./workflows/snapshot-watchdog").WatchdogParams>;
    ADMIN_AUTHORIZATION_TOKEN?: string;
    CALLBACK_SECRET?: string;
    R2_THRESHOLD_BYTES?: string;
    BREATHING_MS?: string;
    DUMP_RETENTION?: string;
    R2_PART_SIZE_BYTES?: string;
    STEP_TARGET_BYTES?: string;
    SCHEDULED_DUMP_RETENTION?: string;
  }
  interface GlobalProps {
    mainModule: typeof import("./worker");
    durableNamespaces: "DatabaseObject" | "JobIndex" | "FileStore";
  }
}
interface Env extends Cloudflare.Env {}
