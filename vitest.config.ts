import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

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
            miniflare: { bindings: { BREATHING_MS: "0", CALLBACK_SECRET: "test-callback-secret" } },
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
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
