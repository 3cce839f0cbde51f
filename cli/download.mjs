// Downloads a finished dump to disk, resumes after a lost connection (Range + If-Range with the
// ETag, also across runs through FILE.part and FILE.part.json), and verifies the file: its SHA-256
// against the status's `sha256` or the `Repr-Digest` header when the service gives one, and its
// size against the status's `size` always.

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileNameFromDisposition } from "../scripts/lib/api-client.mjs";
import { CliError, EXIT, usageError } from "./errors.mjs";
import { bytesLine } from "./progress.mjs";

const FIRST_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 8_000;

/**
 * @typedef {import("./api.mjs").Api} Api
 * @typedef {import("./progress.mjs").LiveLine} LiveLine
 * @typedef {{ path: string, size: number, sha256: string, verifiedBy: "sha-256" | "size" }} SavedDump
 * @typedef {{ dumpId: string, etag: string, size: number }} PartialState what FILE.part.json records
 */

/**
 * @param {Api} api
 * @param {{ dumpId: string, size: number | null, sha256?: string | null }} dump the completed dump's status
 * @param {{ output?: string, force: boolean, retries: number, progress: LiveLine, log: (message: string) => void }} options
 * @returns {Promise<SavedDump>}
 */
export async function downloadDump(api, dump, options) {
  const file = await describeFile(api, dump.dumpId);
  const path = await outputPath(options.output, file.fileName);
  if (!options.force && (await exists(path))) {
    throw usageError(`${path} already exists; give --force to overwrite it, or -o another path`);
  }
  const partPath = `${path}.part`;
  const statePath = `${path}.part.json`;
  /** @type {PartialState} */
  const state = { dumpId: dump.dumpId, etag: file.etag, size: file.size };
  let offset = await resumableBytes(partPath, statePath, state);
  if (offset > 0) options.log(`resuming the download of ${basename(path)} at byte ${offset} of ${file.size}`);
  else {
    await writeFile(partPath, "");
    await writeFile(statePath, JSON.stringify(state));
  }
  const digests = new Set(file.digests);
  const label = `download ${basename(path)}`;
  let failures = 0;
  while (offset < state.size) {
    try {
      const received = await fetchFrom(api, state, partPath, offset, digests, (bytes) => {
        options.progress.update(bytesLine(label, bytes, state.size));
      });
      if (received.restarted) {
        options.progress.interrupt();
        options.log("the file changed on the service since the download began; downloading it again from the start");
        await writeFile(statePath, JSON.stringify(state));
      }
      offset = received.offset;
      failures = 0;
    } catch (error) {
      const lost = error instanceof InterruptedTransfer;
      if (lost && error.offset > offset) failures = 0; // it made progress: start counting again
      if (lost) offset = error.offset;
      const retryable = lost || (error instanceof CliError && error.exitCode === EXIT.CONNECTION);
      if (!retryable) throw error;
      failures++;
      options.progress.interrupt();
      const reason = error instanceof Error ? error.message : String(error);
      if (failures > options.retries) {
        throw new CliError(
          EXIT.CONNECTION,
          `the download stopped at byte ${offset} of ${state.size} (${reason}); run the same command again to resume it`,
          { dumpId: dump.dumpId, partialPath: partPath, bytes: offset },
        );
      }
      const wait = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (failures - 1));
      options.log(`connection lost at byte ${offset} of ${state.size} (${reason}); resuming in ${wait / 1000} s (retry ${failures} of ${options.retries})`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  options.progress.update(bytesLine(label, state.size, state.size));
  options.progress.finish();
  return verify(partPath, statePath, path, dump, state, [...digests]);
}

/**
 * One byte of the file (a Range request) tells its name, ETag, size and perhaps its digest.
 * @param {Api} api
 * @param {string} dumpId
 */
async function describeFile(api, dumpId) {
  const response = await api.openDump(dumpId, { Range: "bytes=0-0" });
  const status = response.statusCode ?? 0;
  if (status !== 200 && status !== 206) throw await refusal(api, response, dumpId);
  response.destroy(); // one byte, or the whole file from a server that ignores Range: not needed either way
  const headers = response.headers;
  const total = status === 206 ? /\/(\d+)$/.exec(String(headers["content-range"]))?.[1] : headers["content-length"];
  const etag = headers.etag;
  if (total === undefined || etag === undefined) {
    throw new CliError(EXIT.CONNECTION, `GET /export/dump/${dumpId} gave no file size or ETag: is --url the dump service?`);
  }
  return {
    fileName: fileNameFromDisposition(headers["content-disposition"] ?? null) ?? `${dumpId}.sql`,
    etag,
    size: Number(total),
    digests: reprDigests(headers["repr-digest"]),
  };
}

/**
 * Appends the file from `offset` to the part file. A 200 answer to a Range request means the ETag no
 * longer matches (If-Range): the file is then written again from its start.
 * @param {Api} api
 * @param {PartialState} state
 * @param {string} partPath
 * @param {number} offset
 * @param {Set<string>} digests collects every SHA-256 the answers name
 * @param {(bytes: number) => void} onBytes
 */
async function fetchFrom(api, state, partPath, offset, digests, onBytes) {
  const headers = offset > 0 ? { Range: `bytes=${offset}-`, "If-Range": state.etag } : /** @type {Record<string, string>} */ ({});
  const response = await api.openDump(state.dumpId, headers);
  const status = response.statusCode ?? 0;
  let start = offset;
  let restarted = false;
  if (status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(response.headers["content-range"]));
    if (!range || Number(range[1]) !== offset || Number(range[3]) !== state.size) {
      response.destroy();
      throw new CliError(EXIT.CONNECTION, `asked for bytes ${offset}- of ${state.size} but got Content-Range ${response.headers["content-range"]}`);
    }
  } else if (status === 200) {
    restarted = offset > 0;
    start = 0;
    state.etag = response.headers.etag ?? state.etag;
    state.size = Number(response.headers["content-length"] ?? state.size);
  } else {
    throw await refusal(api, response, state.dumpId);
  }
  for (const digest of reprDigests(response.headers["repr-digest"])) digests.add(digest);
  const expected = Number(response.headers["content-length"]);
  await truncate(partPath, start);
  let written = start;
  onBytes(written);
  const counter = new Transform({
    transform(chunk, _encoding, callback) {
      written += chunk.length;
      onBytes(written);
      callback(null, chunk);
    },
  });
  const file = createWriteStream(partPath, { flags: "a" });
  try {
    await pipeline(response, counter, file);
  } catch (error) {
    // Bytes counted but still buffered were lost with the stream: what is on disk is what we have.
    if (!file.closed) await new Promise((resolve) => file.once("close", () => resolve(undefined)));
    throw new InterruptedTransfer((await stat(partPath)).size, error);
  }
  if (Number.isFinite(expected) && written - start !== expected) {
    throw new InterruptedTransfer(written, new Error(`the answer ended after ${written - start} of ${expected} bytes`));
  }
  return { offset: written, restarted };
}

/** The connection broke after `offset` bytes of the file were safely on disk. */
class InterruptedTransfer extends Error {
  /**
   * @param {number} offset
   * @param {unknown} cause
   */
  constructor(offset, cause) {
    const code = /** @type {any} */ (cause)?.code;
    super(code ? `${code}` : cause instanceof Error ? cause.message : String(cause));
    this.offset = offset;
  }
}

/**
 * Checks the finished part file and moves it to `path`; a mismatch moves it to `path`.corrupt instead.
 * @param {string} partPath
 * @param {string} statePath
 * @param {string} path
 * @param {{ dumpId: string, size: number | null, sha256?: string | null }} dump
 * @param {PartialState} state
 * @param {string[]} headerDigests
 * @returns {Promise<SavedDump>}
 */
async function verify(partPath, statePath, path, dump, state, headerDigests) {
  const size = (await stat(partPath)).size;
  const sha256 = await fileSha256(partPath);
  const expectedDigests = [...new Set([...(dump.sha256 ? [dump.sha256.toLowerCase()] : []), ...headerDigests])];
  /** @type {string | null} */
  let problem = null;
  if (dump.size !== null && size !== dump.size) {
    problem = `the file has ${size} bytes but the dump's status says ${dump.size}`;
  } else if (size !== state.size) {
    problem = `the file has ${size} bytes but the download announced ${state.size}`;
  } else {
    const wrong = expectedDigests.find((expected) => expected !== sha256);
    if (wrong) problem = `its SHA-256 is ${sha256} but the service says ${wrong}`;
  }
  await rm(statePath, { force: true });
  if (problem) {
    const corruptPath = `${path}.corrupt`;
    await rename(partPath, corruptPath);
    throw new CliError(EXIT.FAILED, `the downloaded file does not match the dump: ${problem}. It was kept as ${corruptPath}, not ${path}`, {
      dumpId: dump.dumpId,
      corruptPath,
      sha256,
      size,
    });
  }
  await rename(partPath, path);
  return { path, size, sha256, verifiedBy: expectedDigests.length > 0 ? "sha-256" : "size" };
}

/**
 * Bytes of a part file left by an earlier run of the same download, or 0.
 * @param {string} partPath
 * @param {string} statePath
 * @param {PartialState} state
 */
async function resumableBytes(partPath, statePath, state) {
  try {
    /** @type {PartialState} */
    const earlier = JSON.parse(await readFile(statePath, "utf8"));
    const bytes = (await stat(partPath)).size;
    const same = earlier.dumpId === state.dumpId && earlier.etag === state.etag && earlier.size === state.size;
    return same && bytes <= state.size ? bytes : 0;
  } catch {
    return 0;
  }
}

/**
 * -o FILE, -o DIR (existing, or ending in /), or the server's file name in the current directory.
 * @param {string | undefined} output
 * @param {string} fileName
 */
async function outputPath(output, fileName) {
  if (output === undefined) return resolve(fileName);
  const isDir = /[\\/]$/.test(output) || (await stat(output).catch(() => null))?.isDirectory();
  const path = isDir ? join(output, fileName) : output;
  await mkdir(dirname(resolve(path)), { recursive: true });
  return resolve(path);
}

/** @param {string} path */
async function exists(path) {
  return (await stat(path).catch(() => null)) !== null;
}

/** @param {string} path */
export async function fileSha256(path) {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/**
 * The SHA-256 digests (hex) of an RFC 9530 `Repr-Digest` header, e.g. `sha-256=:uU0nuZ…=:`.
 * @param {string | string[] | undefined} header
 * @returns {string[]}
 */
export function reprDigests(header) {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(",") : header;
  return [...text.matchAll(/(?:^|,)\s*sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):/gi)].map((match) =>
    Buffer.from(match[1], "base64").toString("hex"),
  );
}

/**
 * The error for an answer that is not the file (409 not finished, 410 expired, 404, 401…).
 * @param {Api} api
 * @param {import("node:http").IncomingMessage} response
 * @param {string} dumpId
 */
async function refusal(api, response, dumpId) {
  await api.result(response, `GET /export/dump/${dumpId}`); // throws for every error status
  return new CliError(EXIT.CONNECTION, `unexpected HTTP ${response.statusCode} for a download`);
}
