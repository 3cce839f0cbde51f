// Job records for tests that need one without running its Workflow. No runtime imports: the unit
// and workers projects both use it.

import { emptyProgress, type DumpRecord } from "../shared/dump-record";
import { emptyRestoreProgress, type RestoreRecord } from "../shared/restore-record";

export function dumpRecord(dumpId: string, database: string, createdAt: string): DumpRecord {
  return {
    dumpId,
    database,
    phase: "started",
    storage: "do",
    options: { storage: "auto", deleteAfterDownload: false, schemaOnly: false, dataOnly: false, compression: "none", snapshot: true },
    createdAt,
    startedAt: null,
    completedAt: null,
    size: null,
    etag: null,
    estimatedSize: 0,
    progress: emptyProgress(3),
    error: null,
    callback: null,
    uploadId: null,
    snapshot: null,
    expiresAt: null,
  };
}

export function restoreRecord(restoreId: string, database: string, createdAt: string): RestoreRecord {
  return {
    restoreId,
    database,
    phase: "started",
    mode: "empty",
    source: { kind: "dump", dumpId: "d", storage: "do" },
    compressed: false,
    options: { mode: "empty" },
    createdAt,
    startedAt: null,
    completedAt: null,
    progress: emptyRestoreProgress(1000),
    error: null,
    failedStatement: null,
    callback: null,
  };
}
