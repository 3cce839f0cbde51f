// Vitest globalSetup (runs in Node): a real HTTP server on 127.0.0.1 that dump callbacks are sent to.
//   POST /callback/<anything>  records {path, headers, body}; answers 500 for the first N requests to a
//                              path containing "fail-N", always 500 for one containing "always-fail", else 200
//   GET  /records?path=<path>  the recorded requests to that path, oldest first
// The port reaches the tests through vitest's provide/inject as "callbackReceiverPort".

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

export interface RecordedCallback {
  path: string;
  headers: Record<string, string>;
  body: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    callbackReceiverPort: number;
  }
}

/** How many requests a path is answered 500 before 200; Infinity for "always-fail". */
export function failuresFor(path: string): number {
  if (path.includes("always-fail")) return Number.POSITIVE_INFINITY;
  const match = /fail-(\d+)/.exec(path);
  return match ? Number(match[1]) : 0;
}

export default async function setup(project: TestProject) {
  const records = new Map<string, RecordedCallback[]>();

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { error: String(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (request.method === "POST" && url.pathname.startsWith("/callback/")) {
      const body = await readBody(request);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      const list = records.get(url.pathname) ?? [];
      list.push({ path: url.pathname, headers, body });
      records.set(url.pathname, list);
      // The request just recorded is number list.length; the first N of them fail.
      const status = list.length <= failuresFor(url.pathname) ? 500 : 200;
      return send(response, status, { received: list.length });
    }
    if (request.method === "GET" && url.pathname === "/records") {
      return send(response, 200, records.get(url.searchParams.get("path") ?? "") ?? []);
    }
    send(response, 404, { error: "not found" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  project.provide("callbackReceiverPort", (server.address() as AddressInfo).port);

  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}
