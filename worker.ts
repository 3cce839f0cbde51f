// The Worker's entry point: the HTTP API, and the classes that wrangler.jsonc binds.

export { api as default } from "./api/router";
export { DatabaseObject } from "./durable-objects/database-object";
export { FileStore } from "./durable-objects/file-store";
export { JobIndex } from "./durable-objects/job-index";
export { DumpWorkflow } from "./workflows/dump-workflow";
export { RestoreWorkflow } from "./workflows/restore-workflow";
export { SnapshotWatchdog } from "./workflows/snapshot-watchdog";
