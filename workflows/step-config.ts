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

