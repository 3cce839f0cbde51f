// A small client of the V8 inspector protocol that `wrangler dev --inspector-port` exposes for the
// Worker's isolate (Durable Objects and Workflow steps included): CPU profiles, heap use, heap snapshots.

import { createWriteStream } from "node:fs";

/** Node 20 has WebSocket only behind a flag; `ws` comes with wrangler (through miniflare). */
async function webSocketClass() {
  if (typeof globalThis.WebSocket === "function") return globalThis.WebSocket;
  // @ts-ignore ws has no types here; it is only the fallback for Node 20
  return /** @type {any} */ ((await import("ws")).default);
}

export class Inspector {
  /** @param {any} socket */
  constructor(socket) {
    this.socket = socket;
    this.nextId = 1;
    /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
    this.pending = new Map();
    /** @type {Map<string, (params: any) => void>} */
    this.listeners = new Map();
    socket.addEventListener("message", (/** @type {{ data: any }} */ event) => {
      const message = JSON.parse(String(event.data));
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`${message.error.message} (${message.error.code})`));
        else waiter?.resolve(message.result);
      } else this.listeners.get(message.method)?.(message.params);
    });
    socket.addEventListener("close", () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error("inspector connection closed"));
      this.pending.clear();
    });
  }

  /** Connects to the first target listed at http://127.0.0.1:<port>/json. @param {number} port */
  static async connect(port) {
    const targets = /** @type {{ webSocketDebuggerUrl: string }[]} */ (await (await fetch(`http://127.0.0.1:${port}/json`)).json());
    if (!targets.length) throw new Error(`the inspector on port ${port} lists no target`);
    const WebSocketClass = await webSocketClass();
    const socket = new WebSocketClass(targets[0].webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve);
      socket.addEventListener("error", () => reject(new Error(`could not connect to the inspector on port ${port}`)));
    });
    return new Inspector(socket);
  }

  /** @param {string} method @param {Record<string, unknown>} [params] @returns {Promise<any>} */
  send(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** @param {number} [intervalUs] sampling interval */
  async startProfile(intervalUs = 500) {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.send("Profiler.start");
  }

  /** @returns {Promise<CpuProfile>} */
  async stopProfile() {
    const { profile } = await this.send("Profiler.stop");
    await this.send("Profiler.disable");
    return profile;
  }

  /** V8 heap of the isolate: { usedSize, totalSize } in bytes. */
  heapUsage() {
    return this.send("Runtime.getHeapUsage");
  }

  async collectGarbage() {
    await this.send("HeapProfiler.enable");
    await this.send("HeapProfiler.collectGarbage");
  }

  /** Writes a .heapsnapshot file (open it in Chrome DevTools, Memory tab). @param {string} path */
  async heapSnapshot(path) {
    const out = createWriteStream(path);
    this.listeners.set("HeapProfiler.addHeapSnapshotChunk", (params) => out.write(params.chunk));
    await this.send("HeapProfiler.enable");
    await this.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    this.listeners.delete("HeapProfiler.addHeapSnapshotChunk");
    await new Promise((resolve) => out.end(resolve));
  }

  close() {
    this.socket.close();
  }
}

/**
 * @typedef {object} CpuProfile
 * @property {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }[]} nodes
 * @property {number[]} samples
 * @property {number[]} timeDeltas
 * @property {number} startTime
 * @property {number} endTime
 */

/**
 * Self and total time per function, heaviest first.
 * @param {CpuProfile} profile @param {number} [top]
 */
export function summarizeProfile(profile, top = 25) {
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  profile.samples.forEach((nodeId, i) => selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (/** @type {number} */ id) => {
    const f = /** @type {any} */ (byId.get(id)).callFrame;
    const file = f.url ? f.url.split("/").pop() : "";
    return `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
  };
  /** @type {Map<string, number>} */
  const selfByName = new Map();
  /** @type {Map<string, number>} */
  const totalByName = new Map();
  for (const [id, us] of selfUs) {
    selfByName.set(name(id), (selfByName.get(name(id)) ?? 0) + us);
    // Total: once per distinct function on the stack.
    const seen = new Set();
    for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parent.get(at)) {
      const n = name(at);
      if (seen.has(n)) continue;
      seen.add(n);
      totalByName.set(n, (totalByName.get(n) ?? 0) + us);
    }
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idleUs = [...selfUs].filter(([id]) => ["(idle)", "(program)"].includes(name(id))).reduce((a, [, us]) => a + us, 0);
  const rank = (/** @type {Map<string, number>} */ m) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / totalUs) / 10 }));
  return { wallMs: Math.round(totalUs / 1000), busyMs: Math.round((totalUs - idleUs) / 1000), self: rank(selfByName), total: rank(totalByName) };
}
