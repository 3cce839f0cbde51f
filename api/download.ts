// GET /export/dump/:dumpId: streams a finished dump, with Range support for resumable downloads.

import { json, type IRequest } from "itty-router";
import { parseRange } from "../shared/http-range";
import { hexToBytes, reprDigestValue } from "../shared/sha256";
import { finishedDump, readDump } from "../services/dumps";
import { jobId } from "./jobs";

export async function downloadDump(request: IRequest, env: Env, ctx: ExecutionContext) {
  const file = await finishedDump(env, jobId("dump", request));
  const ifRange = request.headers.get("If-Range");
  const range = ifRange && ifRange !== file.etag ? { kind: "full" as const } : parseRange(request.headers.get("Range"), file.size);
  const headers = new Headers({
    "Content-Type": file.contentType,
    "Content-Disposition": `attachment; filename="${file.fileName}"`,
    ETag: file.etag,
    "Accept-Ranges": "bytes",
    "Cache-Control": "no-store",
  });
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${file.size}`);
    return json({ error: "requested range is outside the file", status: "completed" }, { status: 416, headers });
  }
  const part = range.kind === "partial" ? { offset: range.offset, length: range.length } : null;
  const length = part ? part.length : file.size;
  headers.set("Content-Length", String(length));
  if (part) headers.set("Content-Range", `bytes ${part.offset}-${part.offset + part.length - 1}/${file.size}`);
  // RFC 9530: the digest of the whole file, sent with the whole file (a range cannot be checked against it alone).
  else if (file.sha256) headers.set("Repr-Digest", reprDigestValue(hexToBytes(file.sha256)));
  const body = await readDump(env, file, part, (work) => ctx.waitUntil(work));
  return new Response(body, { status: part ? 206 : 200, headers });
}
