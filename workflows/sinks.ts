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

/** Writes one step's bytes after everything the cursor says was written before. */
export interface SinkWriter {
  /** May start I/O and return before it ends; close() waits for all of it. */
  write(data: Uint8Array): Promise<void>;
  close(): Promise<{ cursor: SinkCursor; parts: UploadedPart[] }>;
}

export interface DumpSink {
  open(cursor: SinkCursor): Promise<SinkWriter>;
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

  async open(cursor: SinkCursor): Promise<SinkWriter> {
    const carried = await this.withCarry(cursor, new Uint8Array(0));
    return new R2PartWriter(this.upload.bind(this), cursor, carried, this.partSize, async (appends, rest) => {
      if (rest.length > 0) await this.bucket.put(this.carryKey(appends), rest);
      // The carry before the one just read is no longer needed by any retry.
      if (cursor.appends >= 1) await this.bucket.delete(this.carryKey(cursor.appends - 1));
    });
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

/** Uploads full parts while the step goes on reading; at most MAX_PARTS_IN_FLIGHT at a time. */
class R2PartWriter implements SinkWriter {
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private nextPart: number;
  private uploads: Promise<UploadedPart>[] = [];
  private settledCount = 0;
  private written = 0;

  constructor(
    private upload: () => R2MultipartUpload,
    private cursor: SinkCursor,
    carried: Uint8Array,
    private partSize: number,
    private keepRest: (appends: number, rest: Uint8Array) => Promise<void>,
  ) {
    this.nextPart = cursor.nextPart;
    if (carried.length) this.push(carried);
  }

  private push(data: Uint8Array) {
    this.buffered.push(data);
    this.bufferedBytes += data.length;
  }

  async write(data: Uint8Array): Promise<void> {
    this.written += data.length;
    this.push(data);
    while (this.bufferedBytes >= this.partSize) {
      const body = takeBytes(this.buffered, this.partSize);
      this.bufferedBytes -= this.partSize;
      const partNumber = this.nextPart++;
      const pending = this.upload()
        .uploadPart(partNumber, body)
        .then((part) => ({ partNumber: part.partNumber, etag: part.etag }));
      pending.catch(() => undefined); // awaited in close(); this only keeps the rejection from being unhandled
      this.uploads.push(pending);
      if (this.uploads.length - this.settledCount >= MAX_PARTS_IN_FLIGHT) await this.uploads[this.settledCount++];
    }
  }

  async close() {
    const parts = await Promise.all(this.uploads);
    const rest = takeBytes(this.buffered, this.bufferedBytes);
    const appends = this.cursor.appends + 1;
    await this.keepRest(appends, rest);
    return {
      cursor: { bytesWritten: this.cursor.bytesWritten + this.written, appends, nextPart: this.nextPart, carryBytes: rest.length },
      parts,
    };
  }
}

const MAX_PARTS_IN_FLIGHT = 2;

/** Removes the first `length` bytes from `chunks` and returns them as one array. */
function takeBytes(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const head = chunks[0];
    const needed = length - filled;
    if (head.length <= needed) {
      out.set(head, filled);
      filled += head.length;
      chunks.shift();
    } else {
      out.set(head.subarray(0, needed), filled);
      chunks[0] = head.subarray(needed);
      filled = length;
    }
  }
  return out;
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

  async open(cursor: SinkCursor): Promise<SinkWriter> {
    const store = this.store();
    let offset = cursor.bytesWritten;
    // Writes stay in order (each replaces what lies after its offset) but run while the step reads on.
    let previous: Promise<void> = Promise.resolve();
    return {
      async write(data: Uint8Array) {
        const at = offset;
        offset += data.length;
        const next = previous.then(() => store.writeAt(at, data));
        next.catch(() => undefined); // awaited by the next write or by close()
        await previous;
        previous = next;
      },
      async close() {
        await previous;
        return { cursor: { ...cursor, bytesWritten: offset, appends: cursor.appends + 1 }, parts: [] };
      },
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
