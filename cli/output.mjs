// Where output goes: results on stdout (text, or one JSON object with --json), messages and
// progress on stderr, so that `FILE=$(do-sqlite-dump dump)` and `… --json | jq` both work.

import { LiveLine } from "./progress.mjs";

export class Output {
  /**
   * @param {{ json: boolean, quiet: boolean, stdout?: NodeJS.WriteStream, stderr?: NodeJS.WriteStream }} options
   */
  constructor(options) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    /** @type {LiveLine | null} */
    this.line = null;
  }

  /**
   * A message for the person at the terminal (stderr).
   * @param {string} message
   */
  log(message) {
    if (this.quiet) return;
    this.line?.interrupt();
    this.stderr.write(`${message}\n`);
  }

  /**
   * An error, printed even with --quiet.
   * @param {string} message
   */
  error(message) {
    this.line?.interrupt();
    this.stderr.write(`${message}\n`);
  }

  /**
   * The command's result: `text` on stdout, or `data` as one JSON object with --json.
   * @param {string} text
   * @param {Record<string, unknown>} data
   */
  result(text, data) {
    if (this.json) this.stdout.write(`${JSON.stringify({ ok: true, ...data })}\n`);
    else if (text) this.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /**
   * A live line on stderr: redrawn on a terminal, plain lines in a log, none with --quiet or --json
   * (unless stderr is a terminal).
   */
  progress() {
    const tty = Boolean(this.stderr.isTTY);
    const mode = this.quiet ? "off" : tty ? "tty" : this.json ? "off" : "plain";
    this.line = new LiveLine({ stream: this.stderr, mode });
    return this.line;
  }
}
