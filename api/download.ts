// GET /export/dump/:dumpId: streams a finished dump, with Range support for resumable downloads.

import { json, type IRequest } from "itty-router";
import { dumpFileName } from "../shared/dump-id";
import { contentType } from "../shared/dump-encoding";
import type { DumpRecord } from "../shared/dump-record";
import { parseRange } from "../shared/http-range";
import { dumpFileStore, dumpIndex, dumpObjectKey } from "../workflows/bindings";
import { discardDumpFile } from "../workflows/dump-steps";
import { currentStatus, findRecord } from "./dumps";

const READ_BYTES = 1024 * 1024;

export async function downloadDump(request: IRequest, env: Env, ctx: ExecutionContext) {
  const record = await findRecord(request, env);
  const { status, error } = await currentStatus(record, env);
  if (status === "expired") return json({ error: "this dump has expired and its file was deleted", status }, { status: 410 });
  if (status !== "completed" || record.size === null || record.etag === null) {
    const message = status === "failed" ? `the dump failed: ${error}` : `the dump is not finished (status ${status})`;
    return json({ error: message, status }, { status: 409 });
  }
  const size = record.size;
  const ifRange = request.headers.get("If-Range");
  const range = ifRange && ifRange !== record.etag ? { kind: "full" as const } : parseRange(request.headers.get("Range"), size);
  const headers = new Headers({
    "Content-Type": contentType(record.options.compression),
    "Content-Disposition": `attachment; filename="${dumpFileName(record.createdAt, record.options.compression)}"`,
    ETag: record.etag,
    "Accept-Ranges": "bytes",
    "Cache-Control": "no-store",
  });
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    return json({ error: "requested range is outside the file", status }, { status: 416, headers });
  }
  const offset = range.kind === "partial" ? range.offset : 0;
  const length = range.kind === "partial" ? range.length : size;
  headers.set("Content-Length", String(length));
  if (range.kind === "partial") headers.set("Content-Range", `bytes ${offset}-${offset + length - 1}/${size}`);

  let body = await fileStream(env, record, offset, length);
  if (record.options.deleteAfterDownload && range.kind === "full") {
    body = body.pipeThrough(afterLastByte(() => ctx.waitUntil(deleteDownloaded(env, record.dumpId))));
  }
  // A fixed-length body keeps Content-Length on the response instead of chunked encoding.
  body = body.pipeThrough(new FixedLengthStream(length));
  return new Response(body, { status: range.kind === "partial" ? 206 : 200, headers });
}

async function fileStream(env: Env, record: DumpRecord, offset: number, length: number): Promise<ReadableStream<Uint8Array>> {
  if (record.storage === "r2") {
    if (!env.DUMPS_BUCKET) throw new Error("this dump is in R2 but no R2 bucket is bound");
    const object = await env.DUMPS_BUCKET.get(dumpObjectKey(record.dumpId), { range: { offset, length } });
    if (!object) throw new Error(`the file of dump ${record.dumpId} is missing from R2`);
    return object.body;
  }
  const store = dumpFileStore(env, record.dumpId);
  let position = offset;
  const end = offset + length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (position >= end) return controller.close();
      const bytes = await store.readAt(position, Math.min(READ_BYTES, end - position));
      if (bytes.length === 0) return controller.error(new Error(`the file of dump ${record.dumpId} is shorter than recorded`));
      position += bytes.length;
      controller.enqueue(bytes);
    },
  });
}

/** Passes bytes through and calls `done` only when the whole stream went through. */
function afterLastByte(done: () => void): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({ flush: done });
}

async function deleteDownloaded(env: Env, dumpId: string) {
  await discardDumpFile(env, dumpId);
  await dumpIndex(env).updateRecord(dumpId, { phase: "expired", expiresAt: new Date().toISOString() });
}
