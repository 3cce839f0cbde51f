// One file, in R2 or in a FileStore Durable Object, behind one small interface (after Litestream's
// ReplicaClient). Every algorithm on files is written once, against FileClient: appending across
// Workflow steps (dump sinks), finishing, streaming writes (uploads, gzip expansion), ranged reads
// (downloads, restore slices) and deletion. Errors name the file and what was being done.
//
// R2 keeps a file as one multipart upload whose parts all have the same size (R2 requires it); the
// bytes after the last full part of a step are carried to the next step in a temporary object.
// Durable Object storage keeps it as pieces keyed by byte offset. Both are driven by a small cursor,
// so a retried or replayed step writes the same bytes to the same place.

import { readConfig } from "../shared/config";
import { messageOf } from "../shared/error-message";
import { yieldToEventLoop } from "../shared/event-loop";
import { PIECE_BYTES } from "../shared/file-pieces";
import type { StorageKind } from "../shared/types";
import { fileStoreObject } from "./bindings";
import type { StoredFile } from "./files";

export interface AppendCursor {
  /** Bytes of the file written so far, including an R2 carry not yet in a part. */
  bytesWritten: number;
  /** How many appends have happened; names the R2 carry objects. */
  appends: number;
  /** R2: the next part number, and the bytes carried to the next append. */
  nextPart: number;
  carryBytes: number;
}

export const EMPTY_CURSOR: AppendCursor = { bytesWritten: 0, appends: 0, nextPart: 1, carryBytes: 0 };

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

export interface FinishedFile {
  size: number;
  etag: string;
}

/** Writes after everything the cursor says was written before. */
export interface FileWriter {
  /** May start I/O and return before it ends; close() and complete() wait for all of it. */
  write(data: Uint8Array): Promise<void>;
  /** Ends one step's writing; R2 carries the bytes after the last full part to the next step. */
  close(): Promise<{ cursor: AppendCursor; parts: UploadedPart[] }>;
  /** Ends the file. R2 uploads the rest as the last part and completes the upload with `earlier` parts and these. */
  complete(earlier: UploadedPart[]): Promise<FinishedFile>;
}

/** What each kind of storage provides. */
export interface FileClient {
  readonly file: StoredFile;
  /** Starts a new file: the R2 multipart upload's id, or null in Durable Object storage. */
  begin(contentType: string): Promise<string | null>;
  openWriter(cursor: AppendCursor, uploadId: string | null): Promise<FileWriter>;
  /** The file once finished; null where finishing again is harmless (Durable Object storage). */
  finished(): Promise<FinishedFile | null>;
  /** Removes what writing kept aside (R2 carries). */
  dropTemporary(): Promise<void>;
  readRange(offset: number, length: number): Promise<Uint8Array>;
  openStream(offset: number, length: number): Promise<ReadableStream<Uint8Array>>;
  /** One write of a stream of known length, where the storage has one (R2). */
  putWhole?(stream: ReadableStream<Uint8Array>, length: number, contentType: string): Promise<number>;
  /** Removes the file, finished or not; an R2 upload in progress is aborted. */
  delete(uploadId: string | null): Promise<void>;
}

/** Files in R2 need the DUMPS_BUCKET binding: the one rule, checked here. */
export class NoBucketError extends Error {
  constructor() {
    super("no R2 bucket is bound as DUMPS_BUCKET");
    this.name = "NoBucketError";
  }
}

export function hasBucket(env: Env): boolean {
  return Boolean(env.DUMPS_BUCKET);
}

/** Why files cannot be kept in `storage` here, or null when they can. */
export function unusableStorage(env: Env, storage: StorageKind | "auto"): string | null {
  return storage === "r2" && !hasBucket(env) ? new NoBucketError().message : null;
}

export function fileClient(env: Env, file: StoredFile): FileClient {
  return file.storage === "r2" ? new R2File(file, env.DUMPS_BUCKET, readConfig(env).partSizeBytes) : new PiecesFile(file, env);
}

// ---- algorithms, written once ----

/**
 * Writes the last bytes and completes the file; safe to repeat. Returns the file's size and etag.
 * A repeat after R2 completed the upload finds the finished object and writes nothing.
 */
export async function finishFile(
  client: FileClient,
  cursor: AppendCursor,
  data: Uint8Array,
  parts: UploadedPart[],
  uploadId: string | null,
): Promise<FinishedFile> {
  return withContext("finishing", client.file, async () => {
    let file = await client.finished();
    if (!file) {
      const writer = await client.openWriter(cursor, uploadId);
      await writer.write(data);
      file = await writer.complete(parts);
    }
    await client.dropTemporary();
    return file;
  });
}

/**
 * Writes a stream to a new file without holding it in memory: one R2 put when the length is known,
 * else equal R2 parts or Durable Object pieces. Returns its size; on failure nothing is left.
 */
export async function writeStream(
  client: FileClient,
  stream: ReadableStream<Uint8Array>,
  options: { knownLength: number | null; contentType: string },
): Promise<number> {
  let uploadId: string | null = null;
  try {
    if (options.knownLength !== null && client.putWhole) return await client.putWhole(stream, options.knownLength, options.contentType);
    uploadId = await client.begin(options.contentType);
    const writer = await client.openWriter(EMPTY_CURSOR, uploadId);
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    return (await writer.complete([])).size;
  } catch (error) {
    await client.delete(uploadId).catch(() => undefined);
    throw contextError("writing", client.file, error);
  }
}

/**
 * Exactly `length` bytes from `offset`, as a stream of known length (so a Response built on it has
 * Content-Length). `whenRead` runs once the last byte went through, never for a stream cut short.
 */
export async function readStream(
  client: FileClient,
  offset: number,
  length: number,
  whenRead?: () => void,
): Promise<ReadableStream<Uint8Array>> {
  let body = await withContext("reading", client.file, () => client.openStream(offset, length));
  if (whenRead) body = body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: whenRead }));
  return body.pipeThrough(new FixedLengthStream(length));
}

/** Up to `length` bytes from `offset`. */
export function readRange(client: FileClient, offset: number, length: number): Promise<Uint8Array> {
  return withContext(`reading bytes ${offset}+${length} of`, client.file, () => client.readRange(offset, length));
}

/** Deletes a file wherever it is; an R2 file without a bucket bound cannot be reached and is left. */
export async function deleteFile(env: Env, file: StoredFile, uploadId: string | null = null): Promise<void> {
  if (file.storage === "r2" && !hasBucket(env)) return;
  await withContext("deleting", file, () => fileClient(env, file).delete(uploadId));
}

function contextError(action: string, file: StoredFile, error: unknown): Error {
  if (error instanceof NoBucketError) return error;
  const message = messageOf(error);
  return new Error(`${action} ${file.key} (${file.storage === "r2" ? "R2" : "Durable Object storage"}): ${message}`, { cause: error });
}

async function withContext<T>(action: string, file: StoredFile, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw contextError(action, file, error);
  }
}

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

/** Chunks written but not yet sent, taken off in pieces of a fixed size. */
class Buffered {
  private chunks: Uint8Array[] = [];
  bytes = 0;

  push(data: Uint8Array) {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.bytes += data.length;
  }

  take(length = this.bytes): Uint8Array {
    this.bytes -= length;
    return takeBytes(this.chunks, length);
  }
}

// ---- R2 ----

/** Parts uploaded at the same time while a step goes on reading. */
const MAX_PARTS_IN_FLIGHT = 2;

class R2File implements FileClient {
  constructor(
    readonly file: StoredFile,
    private readonly boundBucket: R2Bucket | undefined,
    private readonly partSize: number,
  ) {}

  private get bucket(): R2Bucket {
    if (!this.boundBucket) throw new NoBucketError();
    return this.boundBucket;
  }

  async begin(contentType: string): Promise<string> {
    const upload = await this.bucket.createMultipartUpload(this.file.key, { httpMetadata: { contentType } });
    return upload.uploadId;
  }

  private carryKey(append: number): string {
    return `${this.file.tempPrefix}carry-${append}`;
  }

  async openWriter(cursor: AppendCursor, uploadId: string | null): Promise<FileWriter> {
    if (!uploadId) throw new Error("the R2 upload was not started");
    const upload = this.bucket.resumeMultipartUpload(this.file.key, uploadId);
    const carried = cursor.carryBytes > 0 ? await this.carried(cursor) : new Uint8Array(0);
    return new R2PartWriter(upload, cursor, carried, this.partSize, async (appends, rest) => {
      if (rest.length > 0) await this.bucket.put(this.carryKey(appends), rest);
      // The carry before the one just read is no longer needed by any retry.
      if (cursor.appends >= 1) await this.bucket.delete(this.carryKey(cursor.appends - 1));
    });
  }

  private async carried(cursor: AppendCursor): Promise<Uint8Array> {
    const object = await this.bucket.get(this.carryKey(cursor.appends));
    if (!object) throw new Error(`carried bytes of append ${cursor.appends} are missing`);
    const carry = new Uint8Array(await object.arrayBuffer());
    if (carry.length !== cursor.carryBytes) {
      throw new Error(`carried bytes of append ${cursor.appends}: expected ${cursor.carryBytes}, found ${carry.length}`);
    }
    return carry;
  }

  async finished(): Promise<FinishedFile | null> {
    const object = await this.bucket.head(this.file.key);
    return object ? { size: object.size, etag: object.httpEtag } : null;
  }

  async dropTemporary(): Promise<void> {
    let cursor: string | undefined;
    do {
      const listed = await this.bucket.list({ prefix: this.file.tempPrefix, cursor });
      if (listed.objects.length) await this.bucket.delete(listed.objects.map((o) => o.key));
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
  }

  private async get(offset: number, length: number): Promise<R2ObjectBody> {
    const object = await this.bucket.get(this.file.key, { range: { offset, length } });
    if (!object) throw new Error("the file is missing from R2");
    return object;
  }

  async readRange(offset: number, length: number): Promise<Uint8Array> {
    return new Uint8Array(await (await this.get(offset, length)).arrayBuffer());
  }

  async openStream(offset: number, length: number): Promise<ReadableStream<Uint8Array>> {
    if (length === 0) return new Blob([]).stream();
    return (await this.get(offset, length)).body;
  }

  async putWhole(stream: ReadableStream<Uint8Array>, length: number, contentType: string): Promise<number> {
    const object = await this.bucket.put(this.file.key, stream.pipeThrough(new FixedLengthStream(length)), {
      httpMetadata: { contentType },
    });
    if (!object) throw new Error("R2 did not store the object");
    return object.size;
  }

  async delete(uploadId: string | null): Promise<void> {
    if (uploadId) {
      try {
        await this.bucket.resumeMultipartUpload(this.file.key, uploadId).abort();
      } catch {
        // Already completed or aborted.
      }
    }
    await this.bucket.delete(this.file.key);
    await this.dropTemporary();
  }
}

/** Uploads every full part at once while the writer goes on; at most MAX_PARTS_IN_FLIGHT at a time. */
class R2PartWriter implements FileWriter {
  private buffered = new Buffered();
  private nextPart: number;
  private uploads: Promise<UploadedPart>[] = [];
  private settledCount = 0;
  private written = 0;

  constructor(
    private readonly upload: R2MultipartUpload,
    private readonly cursor: AppendCursor,
    carried: Uint8Array,
    private readonly partSize: number,
    private readonly keepRest: (appends: number, rest: Uint8Array) => Promise<void>,
  ) {
    this.nextPart = cursor.nextPart;
    this.buffered.push(carried);
  }

  async write(data: Uint8Array): Promise<void> {
    this.written += data.length;
    this.buffered.push(data);
    while (this.buffered.bytes >= this.partSize) {
      await yieldToEventLoop();
      this.send(this.buffered.take(this.partSize));
      if (this.uploads.length - this.settledCount >= MAX_PARTS_IN_FLIGHT) await this.uploads[this.settledCount++];
    }
  }

  private send(body: Uint8Array) {
    const pending = this.upload.uploadPart(this.nextPart++, body).then((part) => ({ partNumber: part.partNumber, etag: part.etag }));
    pending.catch(() => undefined); // awaited in close() or complete(); this only keeps the rejection from being unhandled
    this.uploads.push(pending);
  }

  async close() {
    const parts = await Promise.all(this.uploads);
    const rest = this.buffered.take();
    const appends = this.cursor.appends + 1;
    await this.keepRest(appends, rest);
    const bytesWritten = this.cursor.bytesWritten + this.written;
    return { cursor: { bytesWritten, appends, nextPart: this.nextPart, carryBytes: rest.length }, parts };
  }

  async complete(earlier: UploadedPart[]): Promise<FinishedFile> {
    // Every part but the last has exactly partSize bytes; an empty file is one empty part.
    if (this.buffered.bytes > 0 || earlier.length + this.uploads.length === 0) this.send(this.buffered.take());
    const parts = [...earlier, ...(await Promise.all(this.uploads))].sort((a, b) => a.partNumber - b.partNumber);
    const object = await this.upload.complete(parts);
    return { size: object.size, etag: object.httpEtag };
  }
}

// ---- Durable Object storage ----

class PiecesFile implements FileClient {
  constructor(
    readonly file: StoredFile,
    private readonly env: Env,
  ) {}

  private store() {
    return fileStoreObject(this.env, this.file.key);
  }

  async begin(): Promise<null> {
    return null;
  }

  async openWriter(cursor: AppendCursor): Promise<FileWriter> {
    return new PieceWriter(this.store(), cursor, (size) => `"${this.file.key}-${size}"`);
  }

  async finished(): Promise<null> {
    return null;
  }

  async dropTemporary(): Promise<void> {}

  readRange(offset: number, length: number): Promise<Uint8Array> {
    return this.store().readAt(offset, length);
  }

  async openStream(offset: number, length: number): Promise<ReadableStream<Uint8Array>> {
    let position = offset;
    const end = offset + length;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (position >= end) return controller.close();
          const bytes = await this.readRange(position, Math.min(PIECE_BYTES, end - position));
          if (bytes.length === 0) return controller.error(new Error(`the file ends at byte ${position}, before ${end}`));
          position += bytes.length;
          controller.enqueue(bytes);
        },
      },
      { highWaterMark: 0 },
    );
  }

  async delete(): Promise<void> {
    await this.store().deleteFile();
  }
}

/** Writes whole pieces, in order, each while the writer goes on (one write in flight behind the next). */
class PieceWriter implements FileWriter {
  private buffered = new Buffered();
  private offset: number;
  private previous: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ReturnType<typeof fileStoreObject>,
    private readonly cursor: AppendCursor,
    private readonly etagOf: (size: number) => string,
  ) {
    this.offset = cursor.bytesWritten;
  }

  async write(data: Uint8Array): Promise<void> {
    this.buffered.push(data);
    if (this.buffered.bytes >= PIECE_BYTES) await this.flush();
  }

  /** Each write replaces what lies after its offset, so a retried step leaves one copy. */
  private async flush(): Promise<void> {
    const at = this.offset;
    const bytes = this.buffered.take();
    this.offset += bytes.length;
    await yieldToEventLoop();
    const next = this.previous.then(() => this.store.writeAt(at, bytes));
    next.catch(() => undefined); // awaited by the next flush, close() or complete()
    await this.previous;
    this.previous = next;
  }

  async close() {
    if (this.buffered.bytes > 0) await this.flush();
    await this.previous;
    return { cursor: { ...this.cursor, bytesWritten: this.offset, appends: this.cursor.appends + 1 }, parts: [] };
  }

  async complete(): Promise<FinishedFile> {
    // Always written, even empty: it also removes whatever a failed attempt left after the end.
    await this.flush();
    await this.previous;
    return { size: this.offset, etag: this.etagOf(this.offset) };
  }
}
