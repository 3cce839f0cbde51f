// The layers of the source tree (README, "Project layout"): each folder imports only from the ones
// below it, shared/ stays pure, and durable-objects/ is reached from above for its types only.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** What each folder may import, and from which folders only types. */
const LAYERS: Record<string, { imports: string[]; typesFrom?: string[] }> = {
  api: { imports: ["api", "services", "shared"] },
  services: { imports: ["services", "workflows", "storage", "shared"], typesFrom: ["durable-objects"] },
  workflows: { imports: ["workflows", "storage", "shared"] },
  storage: { imports: ["storage", "shared"], typesFrom: ["durable-objects"] },
  "durable-objects": { imports: ["durable-objects", "shared"] },
  shared: { imports: ["shared"] },
};

interface Import {
  file: string;
  target: string;
  typeOnly: boolean;
}

function importsOf(folder: string): Import[] {
  const found: Import[] = [];
  for (const name of readdirSync(join(ROOT, folder)).filter((n) => n.endsWith(".ts"))) {
    const file = join(ROOT, folder, name);
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
      found.push({ file: relative(ROOT, file), target: match[3], typeOnly: Boolean(match[2]) });
    }
  }
  return found;
}

/** The top folder an import lands in, or the module name for packages and cloudflare:*. */
function folderOf(from: string, target: string): string {
  if (!target.startsWith(".")) return target;
  return relative(ROOT, resolve(ROOT, from, "..", target)).split("/")[0];
}

describe("layers", () => {
  for (const [folder, rule] of Object.entries(LAYERS)) {
    it(`${folder}/ imports only from ${rule.imports.join(", ")}${rule.typesFrom ? ` (types from ${rule.typesFrom.join(", ")})` : ""}`, () => {
      const wrong = importsOf(folder)
        .filter(({ target }) => target.startsWith("."))
        .filter(({ file, target, typeOnly }) => {
          const to = folderOf(file, target);
          return !rule.imports.includes(to) && !(typeOnly && rule.typesFrom?.includes(to));
        })
        .map(({ file, target }) => `${file} -> ${target}`);
      expect(wrong).toEqual([]);
    });
  }

  it("shared/ needs no runtime: no cloudflare:* imports", () => {
    const runtime = importsOf("shared").filter(({ target }) => target.startsWith("cloudflare:"));
    expect(runtime).toEqual([]);
  });
});
