// Types of ./worker-process.mjs for the TypeScript tests, generated from its JSDoc. After changing the .mjs files, regenerate with
//   npx tsc --allowJs --declaration --emitDeclarationOnly --module nodenext --target es2022 --strict --types node --skipLibCheck --outDir scripts/lib scripts/lib/*.mjs
/**
 * @param {StartWorkerOptions} [options]
 * @returns {Promise<RunningWorker>}
 */
export function startWorker(options?: StartWorkerOptions): Promise<RunningWorker>;
/**
 * @typedef {object} SuperviseOptions
 * @property {number} [intervalMs] How often GET healthPath is asked (default 2 s).
 * @property {number} [misses] Checks in a row that time out (each waits 5 s) before a restart (default 6); two
 *   refused connections in a row restart it at once.
 * @property {(reason: string, lastLines: string[]) => void} [onRestart] Told before each restart.
 */
/**
 * startWorker(), watched. Local workerd can abort with a V8 fatal error (scripts/serve.mjs says when) and
 * leave the server dead or hanging; a busy one still answers GET /health within seconds. When the check
 * goes unanswered `misses` times in a row, the server is stopped and started again on the same port and
 * state directory, so `url` and every database stay as they were; requests in flight then fail.
 * @param {StartWorkerOptions} [options]
 * @param {SuperviseOptions} [watch]
 * @returns {Promise<RunningWorker & { restarts: () => number }>}
 */
export function superviseWorker(options?: StartWorkerOptions, watch?: SuperviseOptions): Promise<RunningWorker & {
    restarts: () => number;
}>;
/**
 * Waits until GET `url` answers 200, for at most `timeoutMs`: a test that follows a restart of wrangler
 * dev by its supervisor waits for it here. Throws when it does not answer in time.
 * @param {string} url
 * @param {number} [timeoutMs]
 */
export function waitUntilHealthy(url: string, timeoutMs?: number): Promise<void>;
/** A port that is free right now on 127.0.0.1. */
export function freePort(): Promise<any>;
/** The project root: scripts/lib/../.. */
export const PROJECT_ROOT: string;
export type SuperviseOptions = {
    /**
     * How often GET healthPath is asked (default 2 s).
     */
    intervalMs?: number | undefined;
    /**
     * Checks in a row that time out (each waits 5 s) before a restart (default 6); two
     * refused connections in a row restart it at once.
     */
    misses?: number | undefined;
    /**
     * Told before each restart.
     */
    onRestart?: ((reason: string, lastLines: string[]) => void) | undefined;
};
export type StartWorkerOptions = {
    /**
     * Port to listen on; a free one when omitted.
     */
    port?: number | undefined;
    /**
     * State directory; a fresh temporary one (deleted by stop()) when omitted.
     */
    persistTo?: string | undefined;
    /**
     * Overrides of wrangler.jsonc vars, passed as `--var KEY:VALUE`.
     */
    vars?: Record<string, string> | undefined;
    /**
     * How long to wait for GET /health to answer 200 (default 90 s).
     */
    timeoutMs?: number | undefined;
    /**
     * Receives every line the local runtime prints.
     */
    onOutput?: ((line: string) => void) | undefined;
    /**
     * Another Worker's wrangler.jsonc (default: the project's own).
     */
    configPath?: string | undefined;
    /**
     * Path that answers 200 once the Worker runs (default /health).
     */
    healthPath?: string | undefined;
    /**
     * Attach an inspector (CPU profiles, heap use). Off by default: with one
     * attached, local workerd can abort (scripts/serve.mjs says why).
     */
    inspector?: boolean | undefined;
};
export type RunningWorker = {
    /**
     * Base URL, e.g. http://127.0.0.1:8787
     */
    url: string;
    port: number;
    /**
     * Process id of scripts/serve.mjs, also its process group id.
     */
    pid: number;
    /**
     * The inspector of the Worker's isolate, when `inspector` was asked for.
     */
    inspectorPort: number | null;
    persistTo: string;
    /**
     * The last lines the local runtime printed.
     */
    output: () => string[];
    /**
     * Kills the whole process group and removes the temporary state directory.
     */
    stop: () => Promise<void>;
};
