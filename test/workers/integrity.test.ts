// Integrity: every finished dump carries the SHA-256 of the exact bytes served (status, Repr-Digest on
// whole downloads), and a restore from a dump whose stored file was changed (a byte in R2, a byte of
// the FileStore pieces) fails before it applies anything.

import { env } from "cloudflare:workers";
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { PIECE_BYTES } from "../../shared/file-pieces";
import { fileStoreObject } from "../../storage/bindings";
import { dumpObjectKey } from "../../storage/files";
import { download, dumpFile, dumpStatus, query, restoreFromDump, runRestore, seed, uniqueName } from "./helpers";

const SOURCE = uniqueName("integrity-source");

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Inverts the byte at `offset` of a dump's stored file, where it is kept. */
async function corruptStoredByte(dumpId: string, storage: "r2" | "do", offset: number): Promise<void> {
  const key = dumpObjectKey(dumpId);
  if (storage === "r2") {
    const object = await env.DUMPS_BUCKET!.get(key);
    const bytes = new Uint8Array(await object!.arrayBuffer());
    bytes[offset] ^= 0xff;
    await env.DUMPS_BUCKET!.put(key, bytes);
    return;
  }
  // writeAt replaces everything from its offset on, so the rest of the file is written back after the changed byte.
  const store = fileStoreObject(env, key);
  const tail = new Uint8Array(await store.readAt(offset, (await store.storedBytes()) - offset + PIECE_BYTES));
  tail[0] ^= 0xff;
  await store.writeAt(offset, tail);
}

async function userTables(database: string): Promise<unknown[]> {
  return query(database, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
}

beforeAll(async () => {
  await seed(SOURCE, [
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, data BLOB)",
    ...Array.from({ length: 40 }, (_, i) => `INSERT INTO items (name, data) VALUES ('item ${i} ${"é".repeat(i)}', randomblob(${200 + i * 50}))`),
  ]);
});

describe("the SHA-256 of a dump", () => {
  it.each([
    ["do", "none"],
    ["r2", "none"],
    ["do", "gzip"],
    ["r2", "gzip"],
  ] as const)("is that of the bytes served (storage %s, compression %s), in the status and as Repr-Digest on whole downloads only", async (storage, compression) => {
    const { dumpId, bytes } = await dumpFile(SOURCE, { storage, compression });
    const status = await dumpStatus(dumpId);
    expect(status.sha256).toBe(sha256Hex(bytes));
    const whole = await download(dumpId);
    expect(whole.headers.get("Repr-Digest")).toBe(`sha-256=:${createHash("sha256").update(bytes).digest("base64")}:`);
    await whole.body?.cancel();
    const range = await download(dumpId, { headers: { Range: "bytes=0-99" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("Repr-Digest")).toBeNull();
    await range.body?.cancel();
  });
});

describe("a restore from a dump whose stored file was changed", () => {
  it.each([
    ["r2", "none"],
    ["do", "none"],
    ["do", "gzip"],
  ] as const)("fails before it applies anything (storage %s, compression %s)", async (storage, compression) => {
    const { dumpId, bytes } = await dumpFile(SOURCE, { storage, compression });
    await corruptStoredByte(dumpId, storage, Math.floor(bytes.length / 2));
    const served = new Uint8Array(await (await download(dumpId)).arrayBuffer());
    expect(served.length).toBe(bytes.length);
    expect(sha256Hex(served)).not.toBe(sha256Hex(bytes));

    const target = uniqueName("integrity-target");
    const status = await runRestore(await restoreFromDump(target, { dumpId }), "errored");
    expect(status.status).toBe("failed");
    expect(status.error).toContain("does not match its SHA-256");
    expect(status.error).toContain(sha256Hex(bytes));
    expect(status.error).toContain(sha256Hex(served));
    expect(status.progress.statementsApplied).toBe(0);
    expect(await userTables(target)).toEqual([]);
  });

  it("restores the same dump when nothing was changed", async () => {
    const { dumpId } = await dumpFile(SOURCE, { storage: "do" });
    const target = uniqueName("integrity-intact");
    expect((await runRestore(await restoreFromDump(target, { dumpId }))).status).toBe("completed");
    expect(await query(target, "SELECT count(*) AS n FROM items")).toEqual([{ n: 40 }]);
  });
});
