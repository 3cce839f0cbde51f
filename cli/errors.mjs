// Exit codes a script can rely on, and the error that carries one out of any command.

/** Documented in README.md ("Command-line client"); never renumber them. */
export const EXIT = Object.freeze({
  OK: 0,
  /** The dump or restore ended failed, cancelled or expired, or a download did not verify. */
  FAILED: 1,
  /** Bad command line, or the service refused the request's input (HTTP 400, 415). */
  USAGE: 2,
  /** The service could not be reached or did not answer as this service does (bad URL, network, HTTP 5xx). */
  CONNECTION: 3,
  /** The token was missing or refused (HTTP 401, 403). */
  AUTH: 4,
  /** No such dump, restore or schedule (HTTP 404 from the service). */
  NOT_FOUND: 5,
  /** The dump or restore is in the wrong state for this (HTTP 409, 410): not finished, expired, target not empty… */
  STATE: 6,
  /** Interrupted with Ctrl-C (128 + SIGINT). The dump or restore goes on running on the server. */
  INTERRUPTED: 130,
});

/**
 * The name of an exit code in --json output, e.g. "auth".
 * @type {Readonly<Record<number, string>>}
 */
export const EXIT_KIND = Object.freeze({
  [EXIT.OK]: "ok",
  [EXIT.FAILED]: "failed",
  [EXIT.USAGE]: "usage",
  [EXIT.CONNECTION]: "connection",
  [EXIT.AUTH]: "auth",
  [EXIT.NOT_FOUND]: "not_found",
  [EXIT.STATE]: "state",
  [EXIT.INTERRUPTED]: "interrupted",
});

export class CliError extends Error {
  /**
   * @param {number} exitCode one of EXIT
   * @param {string} message what went wrong and, when it helps, what to do
   * @param {Record<string, unknown>} [details] extra fields for --json output (dumpId, httpStatus, …)
   */
  constructor(exitCode, message, details = {}) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** @param {string} message */
export function usageError(message) {
  return new CliError(EXIT.USAGE, message);
}
