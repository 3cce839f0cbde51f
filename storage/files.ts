// Where each file of a job lives. A file has one key: its R2 object key, and the name of the
// FileStore instance that holds it when it is kept in Durable Object storage.

import type { StorageKind } from "../shared/types";

export interface StoredFile {
  storage: StorageKind;
  key: string;
  /** Prefix of the temporary R2 objects that carry bytes from one append to the next. */
  tempPrefix: string;
}

export function dumpObjectKey(dumpId: string): string {
  return `dumps/${dumpId}`;
}

/** A dump's file. */
export function dumpFile(dumpId: string, storage: StorageKind): StoredFile {
  return { storage, key: dumpObjectKey(dumpId), tempPrefix: `tmp/${dumpId}/` };
}

/** The request body of a restore, as received (compressed or not). */
export function uploadedFile(restoreId: string, storage: StorageKind): StoredFile {
  return { storage, key: `restores/${restoreId}/upload`, tempPrefix: `tmp/${restoreId}/upload/` };
}

/** The plain SQL a compressed restore source is expanded into before it is read. */
export function expandedFile(restoreId: string, storage: StorageKind): StoredFile {
  return { storage, key: `restores/${restoreId}/sql`, tempPrefix: `tmp/${restoreId}/sql/` };
}
