// Retry and timeout settings shared by the dump and restore Workflows.

import type { WorkflowStepConfig } from "cloudflare:workers";

/** Work on the database or the file: a few quick retries for transient errors. */
export const WORK_STEP: WorkflowStepConfig = {
  retries: { limit: 5, delay: "1 second", backoff: "exponential" },
  timeout: "10 minutes",
};

/** Delivery to a receiver that may be down for a while. */
export const CALLBACK_STEP: WorkflowStepConfig = {
  retries: { limit: 5, delay: "2 seconds", backoff: "exponential" },
  timeout: "1 minute",
};

/** The engine pauses or stops an instance by throwing through run(); such an error is not a failure. */
export function isEngineInterruption(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("Aborting engine:");
}

/**
 * Lets requests waiting on sockets in. Local workerd runs every isolate on one event loop, and calls
 * between Workers, Durable Objects and R2 there never leave it idle, so without a timer a busy step
 * keeps every HTTP request waiting until it ends. In production this costs a millisecond.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
