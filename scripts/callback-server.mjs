#!/usr/bin/env node
// A tiny receiver for dump callbacks, for trying the service by hand and for the smoke script.
//   POST   /callback   records the request (and checks X-Dump-Signature when a secret is known)
//   GET    /callbacks  the recorded list as JSON
//   DELETE /callbacks  clears it
// Usage: node scripts/callback-server.mjs [--port 3000] [--secret S]   (or env PORT, CALLBACK_SECRET)

import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * @typedef {object} RecordedCallback
 * @property {string} receivedAt ISO time
 * @property {Record<string, string | string[] | undefined>} headers
 * @property {any} body The parsed JSON, or null when the body is not JSON
 * @property {string} rawBody
 * @property {boolean | null} signatureValid null when the server has no secret
 */

/**
 * `sha256=<hex HMAC-SHA256 of the raw body>` compared in constant time.
 * @param {string} secret
 * @param {Buffer} rawBody
 * @param {string | undefined} given
 */
export function signatureMatches(secret, rawBody, given) {
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`);
  const actual = Buffer.from(given ?? "");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * @param {{ port?: number, host?: string, secret?: string, onCallback?: (callback: RecordedCallback) => void }} [options]
 *   port 0 picks a free one.
 * @returns {Promise<{ url: string, port: number, callbacks: RecordedCallback[], clear: () => void, close: () => Promise<void> }>}
 */
export async function startCallbackServer(options = {}) {
  const secret = options.secret || null;
  /** @type {RecordedCallback[]} */
  const callbacks = [];

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    /**
     * @param {number} status
     * @param {unknown} value
     */
    const reply = (status, value) => {
      const text = JSON.stringify(value);
      response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      response.end(text);
    };

    if (path === "/callback" && request.method === "POST") {
      /** @type {Buffer[]} */
      const chunks = [];
      let size = 0;
      request.on("data", (/** @type {Buffer} */ chunk) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          reply(413, { error: "body too large" });
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      request.on("end", () => {
        if (size > MAX_BODY_BYTES) return;
        // The signature covers the raw bytes, so check them before (and independently of) parsing.
        const raw = Buffer.concat(chunks);
        const signature = request.headers["x-dump-signature"];
        const signatureValid = secret === null ? null : signatureMatches(secret, raw, typeof signature === "string" ? signature : undefined);
        const rawBody = raw.toString("utf8");
        let body = null;
        try {
          body = JSON.parse(rawBody);
        } catch {
          // recorded anyway: rawBody shows what arrived
        }
        const callback = { receivedAt: new Date().toISOString(), headers: request.headers, body, rawBody, signatureValid };
        callbacks.push(callback);
        options.onCallback?.(callback);
        // A bad signature is still answered 200: the sender would only retry the same bytes.
        reply(200, { result: { received: true, signatureValid } });
      });
      return;
    }
    if (path === "/callbacks" && request.method === "GET") return reply(200, callbacks);
    if (path === "/callbacks" && request.method === "DELETE") {
      callbacks.length = 0;
      return reply(200, { result: { cleared: true } });
    }
    if (path === "/callback" || path === "/callbacks") return reply(405, { error: "method not allowed" });
    reply(404, { error: "not found" });
  });

  const host = options.host ?? "127.0.0.1";
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://${host}:${port}`,
    port,
    callbacks,
    clear: () => {
      callbacks.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

/** @param {RecordedCallback} callback */
function describe(callback) {
  const b = callback.body ?? {};
  const signature = callback.signatureValid === null ? "signature not checked (no secret)" : callback.signatureValid ? "signature ok" : "SIGNATURE INVALID";
  const outcome = b.status === "failed" ? `error: ${b.error}` : `${b.rows ?? "?"} rows, ${b.size ?? "?"} bytes`;
  return `${callback.receivedAt}  ${b.dumpId ?? "(no dumpId)"}  ${b.status ?? "(no status)"}  ${outcome}  ${signature}`;
}

async function main() {
  const { values } = parseArgs({
    options: { port: { type: "string" }, secret: { type: "string" }, host: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log("usage: node scripts/callback-server.mjs [--port 3000] [--host 127.0.0.1] [--secret S]  (env PORT, CALLBACK_SECRET)");
    return;
  }
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a port: ${values.port ?? process.env.PORT}`);
  const secret = values.secret ?? process.env.CALLBACK_SECRET;
  const server = await startCallbackServer({ port, host: values.host, secret, onCallback: (c) => console.log(describe(c)) });
  console.log(`listening on ${server.url}: POST /callback, GET /callbacks, DELETE /callbacks (signature check ${secret ? "on" : "off"})`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
