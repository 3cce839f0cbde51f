// The package's public entry point (package.json "exports"): what a Worker needs to add dumps and
// restores of its own Durable Objects and D1 databases. This repository's own Worker (worker.ts)
// is built from it too. README, "Add dumps to your own Worker".

/** The HTTP API as a fetch handler, to mount under a path of your Worker. */
export { dumpApi, type DumpApiOptions } from "./api/router";
/** Starts the runs of scheduled backups that are due: call it from your Worker's scheduled() handler. */
export { runDueSchedules } from "./services/schedules";
/** Makes a Durable Object class dumpable: `class Notes extends withSqlDump(DurableObject)<Env> {}`. */
export { withSqlDump, SQL_DUMP_METHODS, type SqlDumpMethods } from "./durable-objects/sql-dump";
/** The service's own database class (?database=); optional in a Worker that dumps its own classes. */
export { DatabaseObject } from "./durable-objects/database-object";
/** The store classes: records of dumps and restores, and files kept in Durable Object storage. */
export { JobIndex } from "./durable-objects/job-index";
export { FileStore } from "./durable-objects/file-store";
/** One Workflow instance per dump and per restore. */
export { DumpWorkflow, type DumpParams } from "./workflows/dump-workflow";
export { RestoreWorkflow, type RestoreParams } from "./workflows/restore-workflow";
/** One instance per run of a scheduled backup (/export/schedules). */
export { ScheduleWorkflow } from "./workflows/schedule-workflow";
/** One instance per dump that reads a snapshot: removes the snapshot if the dump's instance stops without doing so. */
export { SnapshotWatchdog } from "./workflows/snapshot-watchdog";

export type { DumpOptions } from "./shared/schemas";
export type { RestoreOptions, RestoreMode } from "./shared/restore-record";
export type { SourceRef, SourceConfig, SourcesConfig, SourceType } from "./shared/sources";
export type { DumpPlan, TablePlan, DumpProgress } from "./shared/types";
