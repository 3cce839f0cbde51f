import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** Sources the workers tests dump and restore besides the service's own databases (shared/sources.ts). */
const TEST_SOURCES = JSON.stringify({
  starbase: { type: "durable-object", binding: "STARBASE_LIKE" },
  "starbase-readonly": { type: "durable-object", binding: "STARBASE_LIKE", readOnly: true },
  analytics: { type: "d1", binding: "ANALYTICS" },
  "analytics-copy": { type: "d1", binding: "ANALYTICS_COPY" },
  unbound: { type: "d1", binding: "NOT_BOUND" },
});

export default defineConfig({
  test: {
    projects: [
      {
        // Pure logic from shared/, in Node.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
      {
        // The Worker, its Durable Objects, R2 and Workflows, inside workerd.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            // The service plus user classes to dump (test/workers/test-worker.ts).
            main: "./test/workers/test-worker.ts",
            miniflare: {
              bindings: { BREATHING_MS: "0", CALLBACK_SECRET: "test-callback-secret", DUMP_SOURCES: TEST_SOURCES },
              durableObjects: { STARBASE_LIKE: { className: "StarbaseLike", useSQLite: true } },
              d1Databases: ["ANALYTICS", "ANALYTICS_COPY"],
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          testTimeout: 120_000,
          // Some beforeAll hooks run whole dumps: on a loaded machine they outlast vitest's 10 s default.
          hookTimeout: 120_000,
          // A real HTTP server in Node that dump callbacks are posted to; tests get its port with inject().
          globalSetup: ["test/callback-receiver.ts"],
        },
      },
      {
        // The real service under `wrangler dev`, driven over HTTP, dumps restored with the sqlite3 CLI.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/start-worker.ts"],
          setupFiles: ["test/e2e/wait-for-service.ts"],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
