// Global setup of the e2e project: one real local server (scripts/serve.mjs) for all e2e files, on a free port with
// a fresh state directory, stopped (with its whole process group) when the run ends.
// E2E_WRANGLER_LOG=<file> keeps everything wrangler printed, for diagnosing a failed run.

import { appendFileSync, writeFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { superviseWorker } from "../../scripts/lib/worker-process.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    /** wrangler's state directory (local R2 blobs, Durable Object databases), for tests that damage stored files. */
    persistTo: string;
  }
}

export default async function setup(project: TestProject) {
  const logFile = process.env.E2E_WRANGLER_LOG;
  if (logFile) writeFileSync(logFile, "");
  const worker = await superviseWorker(
    { onOutput: logFile ? (line) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`) : undefined },
    { onRestart: (reason, lines) => console.error(`e2e: restarting the local server (${reason}); its last lines:\n${lines.join("\n")}`) },
  );
  project.provide("baseUrl", worker.url);
  project.provide("persistTo", worker.persistTo);
  return async () => {
    await worker.stop();
  };
}
