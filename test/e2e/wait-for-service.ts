// Before each e2e test (and before it runs once more after a failure): the service answers. Local workerd
// sometimes crashes (README, "Known limits"); the supervisor in start-worker.ts then restarts wrangler dev,
// and the test waits for it here instead of failing on a refused connection.

import { beforeEach, inject } from "vitest";
import { waitUntilHealthy } from "../../scripts/lib/worker-process.mjs";

beforeEach(async () => {
  await waitUntilHealthy(`${inject("baseUrl")}/health`);
}, 130_000);
