#!/usr/bin/env node
// Runs the Worker locally, as `wrangler dev` does (local Durable Objects, R2, Workflows, .dev.vars), but
// with no inspector attached unless --inspect is given. `npm start` runs this.
//
//   node scripts/serve.mjs [--port 8787] [--ip 127.0.0.1] [--persist-to .wrangler/state] [--config wrangler.jsonc]
//                          [--var KEY:VALUE ...] [--no-watch] [--inspect [--inspector-port 9229]]
//
// Why not plain `wrangler dev`: it always attaches an inspector to workerd. With one attached, every warning
// the runtime logs captures a JavaScript stack trace. The local Workflows binding (miniflare's wrapped
// binding) leaves an RPC stub undisposed on every instance status read, and workerd warns about it when the
// garbage collector finds it. A warning captured during a collection inside optimized code aborts workerd
// with "V8 fatal error: Missing deoptimization information for OptimizedJSFrame::Summarize". With no
// inspector there is no capture and no crash (docs/benchmarks.md, "The local workerd crash").
// `wrangler dev` still works; use --inspect here when you want DevTools.

import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    ip: { type: "string", default: "127.0.0.1" },
    "persist-to": { type: "string" },
    config: { type: "string", default: "wrangler.jsonc" },
    var: { type: "string", multiple: true, default: [] },
    "no-watch": { type: "boolean", default: false },
    inspect: { type: "boolean", default: false },
    "inspector-port": { type: "string", default: "9229" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (args.help) {
  console.log("usage: node scripts/serve.mjs [--port 8787] [--ip 127.0.0.1] [--persist-to DIR] [--config FILE] [--var KEY:VALUE] [--no-watch] [--inspect [--inspector-port N]]");
  process.exit(0);
}

/** @type {Record<string, { type: "plain_text", value: string }>} */
const vars = {};
for (const pair of args.var) {
  const at = pair.indexOf(":");
  if (at <= 0) {
    console.error(`serve: --var needs KEY:VALUE, got "${pair}"`);
    process.exit(2);
  }
  vars[pair.slice(0, at)] = { type: "plain_text", value: pair.slice(at + 1) };
}

const worker = await unstable_startWorker({
  config: args.config,
  ...(Object.keys(vars).length ? { bindings: vars } : {}),
  dev: {
    server: { hostname: args.ip, port: Number(args.port) },
    // Same default state directory as `wrangler dev`, so both see the same local data.
    persist: args["persist-to"] ?? ".wrangler/state",
    inspector: args.inspect ? { hostname: "127.0.0.1", port: Number(args["inspector-port"]) } : false,
    watch: !args["no-watch"],
    // GET /__scheduled?cron=…&time=… runs the scheduled() handler, as the Cron Trigger does when deployed.
    testScheduled: true,
    logLevel: "log",
  },
});
await worker.ready;
// wrangler prints "Ready on …" itself.
if (args.inspect) console.log(`Inspector on 127.0.0.1:${args["inspector-port"]}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await worker.dispose().catch(() => undefined);
    process.exit(0);
  });
}
