// Where a dump's bytes go. Both sinks are driven by a small cursor that the chunk steps return,
// so a retried or replayed step writes the same bytes to the same place.

import type { StorageKind } from "../shared/types";
import { dumpFileStore, dumpObjectKey, dumpTempPrefix } from "./bindings";

export interface SinkCursor {
  /** Bytes of the file written so far, including an R2 carry not yet in a part. */
  bytesWritten: number;
  /** How many appends have happened; names the R2 carry objects. */
  appends: number;
  /** R2: the next part number, and the bytes carried to the next append. */
  nextPart: number;
  carryBytes: number;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

export interface FinishedFile {
  size: number;
  etag: string;
}

export interface DumpSink {
  append(cursor: SinkCursor, data: Uint8Array): Promise<{ cursor: SinkCursor; parts: UploadedPart[] }>;
  finish(cursor: SinkCursor, data: Uint8Array, parts: UploadedPart[]): Promise<FinishedFile>;
  /** Removes everything written so far, finished or not. */
  discard(): Promise<void>;
}

export const EMPTY_CURSOR: SinkCursor = { bytesWritten: 0, appends: 0, nextPart: 1, carryBytes: 0 };

export interface SinkTarget {
  env: Env;
  dumpId: string;
  storage: StorageKind;
  uploadId: string | null;
  partSize: number;
}

export function openSink(target: SinkTarget): DumpSink {
  if (target.storage === "r2") {
    if (!target.env.DUMPS_BUCKET) throw new Error("storage is r2 but no R2 bucket is bound (DUMPS_BUCKET)");
    return new R2MultipartSink(target.env.DUMPS_BUCKET, target.dumpId, target.uploadId, target.partSize);
  }
  return new DurableObjectSink(target.env, target.dumpId);
}

/**
 * One R2 multipart upload. Every part but the last is exactly `partSize` bytes (R2 requires it);
 * what is left over after an append is kept in a temporary object for the next append.
 */
export class R2MultipartSink implements DumpSink {
  constructor(
    private bucket: R2Bucket,
    private dumpId: string,
    private uploadId: string | null,
    private partSize: number,
  ) {}

  static async begin(bucket: R2Bucket, dumpId: string, contentType: string): Promise<string> {
    const upload = await bucket.createMultipartUpload(dumpObjectKey(dumpId), { httpMetadata: { contentType } });
    return upload.uploadId;
  }

  private upload(): R2MultipartUpload {
    if (!this.uploadId) throw new Error("the R2 upload was not started");
    return this.bucket.resumeMultipartUpload(dumpObjectKey(this.dumpId), this.uploadId);
  }

  private carryKey(append: number): string {
    return `${dumpTempPrefix(this.dumpId)}carry-${append}`;
  }

  private async withCarry(cursor: SinkCursor, data: Uint8Array): Promise<Uint8Array> {
    if (cursor.carryBytes === 0) return data;
    const carried = await this.bucket.get(this.carryKey(cursor.appends));
    if (!carried) throw new Error(`carried bytes of append ${cursor.appends} are missing`);
    const carry = new Uint8Array(await carried.arrayBuffer());
    if (carry.length !== cursor.carryBytes) {
      throw new Error(`carried bytes of append ${cursor.appends}: expected ${cursor.carryBytes}, found ${carry.length}`);
    }
    const joined = new Uint8Array(carry.length + data.length);
    joined.set(carry);
    joined.set(data, carry.length);
    return joined;
  }

  async append(cursor: SinkCursor, data: Uint8Array) {
    const buffer = await this.withCarry(cursor, data);
    const parts: UploadedPart[] = [];
    let nextPart = cursor.nextPart;
    let offset = 0;
    if (buffer.length - offset >= this.partSize) {
      const upload = this.upload();
      while (buffer.length - offset >= this.partSize) {
        const part = await upload.uploadPart(nextPart, buffer.subarray(offset, offset + this.partSize));
        parts.push({ partNumber: part.partNumber, etag: part.etag });
        nextPart += 1;
        offset += this.partSize;
      }
    }
    const appends = cursor.appends + 1;
    const rest = buffer.subarray(offset);
    if (rest.length > 0) await this.bucket.put(this.carryKey(appends), rest);
    // The carry before the one just read is no longer needed by any retry.
    if (cursor.appends >= 1) await this.bucket.delete(this.carryKey(cursor.appends - 1));
    return {
      cursor: { bytesWritten: cursor.bytesWritten + data.length, appends, nextPart, carryBytes: rest.length },
      parts,
    };
  }

  async finish(cursor: SinkCursor, data: Uint8Array, parts: UploadedPart[]): Promise<FinishedFile> {
    const key = dumpObjectKey(this.dumpId);
    const existing = await this.bucket.head(key);
    if (!existing) {
      const buffer = await this.withCarry(cursor, data);
      const upload = this.upload();
      const all = [...parts];
      let nextPart = cursor.nextPart;
      let offset = 0;
      while (buffer.length - offset > this.partSize) {
        const part = await upload.uploadPart(nextPart++, buffer.subarray(offset, offset + this.partSize));
        all.push({ partNumber: part.partNumber, etag: part.etag });
        offset += this.partSize;
      }
      const last = await upload.uploadPart(nextPart, buffer.subarray(offset));
      all.push({ partNumber: last.partNumber, etag: last.etag });
      await upload.complete(all.sort((a, b) => a.partNumber - b.partNumber));
    }
    await this.deleteTemporary();
    const object = await this.bucket.head(key);
    if (!object) throw new Error("the completed R2 object is missing");
    return { size: object.size, etag: object.httpEtag };
  }

  async discard(): Promise<void> {
    if (this.uploadId) {
      try {
        await this.upload().abort();
      } catch {
        // Already completed or aborted.
      }
    }
    await this.bucket.delete(dumpObjectKey(this.dumpId));
    await this.deleteTemporary();
  }

  private async deleteTemporary(): Promise<void> {
    let cursor: string | undefined;
    do {
      const listed = await this.bucket.list({ prefix: dumpTempPrefix(this.dumpId), cursor });
      if (listed.objects.length) await this.bucket.delete(listed.objects.map((o) => o.key));
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
  }
}

/** The file as ordered pieces in the dump's own DumpStore instance. */
export class DurableObjectSink implements DumpSink {
  constructor(
    private env: Env,
    private dumpId: string,
  ) {}

  private store() {
    return dumpFileStore(this.env, this.dumpId);
  }

  async append(cursor: SinkCursor, data: Uint8Array) {
    await this.store().writeAt(cursor.bytesWritten, data);
    return {
      cursor: { ...cursor, bytesWritten: cursor.bytesWritten + data.length, appends: cursor.appends + 1 },
      parts: [],
    };
  }

  async finish(cursor: SinkCursor, data: Uint8Array): Promise<FinishedFile> {
    await this.store().writeAt(cursor.bytesWritten, data);
    const size = cursor.bytesWritten + data.length;
    return { size, etag: `"${this.dumpId}-${size}"` };
  }

  async discard(): Promise<void> {
    await this.store().deleteFile();
  }
}
