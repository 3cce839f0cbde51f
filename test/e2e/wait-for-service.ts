// Before each e2e test: the service answers. Should local workerd crash (README, "Known limits"), the
// supervisor in start-worker.ts restarts it, and the next test waits for it here instead of failing on a
// refused connection.

import { beforeEach, inject } from "vitest";
import { waitUntilHealthy } from "../../scripts/lib/worker-process.mjs";

beforeEach(async () => {
  await waitUntilHealthy(`${inject("baseUrl")}/health`);
}, 130_000);
