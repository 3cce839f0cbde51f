// Yielding to the event loop during long work.

/**
 * Lets requests waiting on sockets in. Local workerd runs every isolate on one event loop, and calls
 * between Workers, Durable Objects and R2 there never leave it idle, so without a timer a busy step
 * keeps every HTTP request waiting until it ends. In production this costs a millisecond.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
