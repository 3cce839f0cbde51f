// Yielding to the event loop during long work.

/**
 * Lets requests waiting on sockets in. Local workerd runs every isolate on one event loop, and calls
 * between Workers, Durable Objects and R2 there never leave it idle, so without a timer a busy step
 * keeps every HTTP request waiting until it ends. In production this costs a millisecond.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Work in a row before a step lets other requests in. A timer after every read of a dump (about 2 ms each
 * locally) cost a quarter of its time; 20 ms keeps the point query's p99 low.
 */
export const YIELD_EVERY_MS = 20;

/**
 * A function to call between pieces of long work: it yields to the event loop once `everyMs` have passed
 * since the last yield (or since this was made), and otherwise returns at once.
 */
export function yieldEvery(everyMs: number): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < everyMs) return;
    await yieldToEventLoop();
    last = Date.now();
  };
}
