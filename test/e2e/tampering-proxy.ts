// A real HTTP proxy in front of the local server that passes everything through, except that it can
// break dump downloads the way networks and disks do: cut the connection after N bytes, flip a byte,
// or add bytes. Every download request it sees is logged, so tests can check Range and If-Range.

import { createHash } from "node:crypto";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Tampering =
  | { kind: "none" }
  /** Ends the next `times` download answers (longer than `afterBytes`) after `afterBytes` bytes of body. */
  | { kind: "cut"; afterBytes: number; times: number }
  /** Inverts one byte in the middle of every whole-file answer. */
  | { kind: "flip" }
  /** Appends bytes to every whole-file answer, with a Content-Length that says so (and no digest). */
  | { kind: "grow" };

export interface DownloadRequest {
  path: string;
  range: string | null;
  ifRange: string | null;
  status: number;
  etag: string | null;
}

export interface TamperingProxy {
  url: string;
  tampering: Tampering;
  downloads: DownloadRequest[];
  close(): Promise<void>;
}

const DOWNLOAD_PATH = /^\/export\/dump\/[^/?]+(\?|$)/;

export async function startTamperingProxy(target: string): Promise<TamperingProxy> {
  const upstream = new URL(target);
  const proxy: TamperingProxy = { url: "", tampering: { kind: "none" }, downloads: [], close: async () => undefined };
  const server = createServer((req, res) => {
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        const isDownload = req.method === "GET" && DOWNLOAD_PATH.test(req.url ?? "");
        if (!isDownload) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        proxy.downloads.push({
          path: req.url ?? "",
          range: header(req.headers.range),
          ifRange: header(req.headers["if-range"]),
          status: answer.statusCode ?? 0,
          etag: header(answer.headers.etag),
        });
        void tamper(proxy, answer, res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** How long a cut connection stays open after its last bytes, silent. */
const CUT_DELAY_MS = 300;

async function tamper(proxy: TamperingProxy, answer: IncomingMessage, res: ServerResponse) {
  const tampering = proxy.tampering;
  const length = Number(answer.headers["content-length"] ?? 0);
  if (tampering.kind === "cut" && tampering.times > 0 && length > tampering.afterBytes) {
    tampering.times--;
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    const body = await readAll(answer);
    // Drop the connection mid-body once the bytes are flushed and the client has had time to take them in:
    // a close right after the write can reach the client before it reads them, and the test then sees a
    // cut before the first byte instead of one in the middle.
    res.write(body.subarray(0, tampering.afterBytes), () => setTimeout(() => res.socket?.destroy(), CUT_DELAY_MS));
    return;
  }
  if ((tampering.kind === "flip" || tampering.kind === "grow") && answer.statusCode === 200) {
    const original = await readAll(answer);
    const headers = { ...answer.headers };
    // A flipped byte keeps the size, so only a digest finds it: the service's Repr-Digest (the true file's
    // is added should it be missing). A grown file is caught by its size or its digest.
    if (tampering.kind === "flip") headers["repr-digest"] ??= `sha-256=:${createHash("sha256").update(original).digest("base64")}:`;
    let body = Buffer.from(original);
    if (tampering.kind === "flip") body[Math.floor(body.length / 2)] ^= 0xff;
    else body = Buffer.concat([original, Buffer.from("-- one more line\n")]);
    headers["content-length"] = String(body.length);
    res.writeHead(200, headers);
    res.end(body);
    return;
  }
  res.writeHead(answer.statusCode ?? 502, answer.headers);
  answer.pipe(res);
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function header(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}
