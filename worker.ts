// The Worker's entry point: the HTTP API, and the classes that wrangler.jsonc binds, all from the
// package's public entry point (index.ts), as a Worker that uses the library would take them.

import { dumpApi } from "./index";

export { DatabaseObject, DumpWorkflow, FileStore, JobIndex, RestoreWorkflow, SnapshotWatchdog } from "./index";
export default dumpApi();
