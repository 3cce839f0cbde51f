// Running the command-line client and other programs as separate processes, for the e2e tests.

import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { inject } from "vitest";
import { DEFAULT_TOKEN } from "../../scripts/lib/api-client.mjs";
import { PROJECT_ROOT } from "../../scripts/lib/worker-process.mjs";

export const BIN = join(PROJECT_ROOT, "bin/do-sqlite-dump.mjs");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Waits for the process to end, with everything it printed. */
export function collect(child: ChildProcess): Promise<Run> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (data) => (stdout += data));
  child.stderr?.on("data", (data) => (stderr += data));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `do-sqlite-dump` (asynchronously: servers in this process must keep serving) against the e2e worker. */
export function cli(args: string[], options: { url?: string; token?: string | null; cwd?: string } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, DUMP_URL: options.url ?? inject("baseUrl") };
  if (options.token === null) delete env.DUMP_TOKEN;
  else env.DUMP_TOKEN = options.token ?? DEFAULT_TOKEN;
  return collect(spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd ?? PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] }));
}
