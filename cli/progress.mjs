// One live progress line on stderr: redrawn in place on a terminal, a plain line now and then
// otherwise (a CI log has no terminal, and redraws would only fill it with escape codes).

import { bar, formatBytes, progressLine } from "../scripts/lib/progress-bar.mjs";

const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 5_000;

export class LiveLine {
  /**
   * @param {{ stream?: NodeJS.WriteStream, mode: "tty" | "plain" | "off" }} options
   */
  constructor(options) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.mode;
    this.text = "";
    this.printed = "";
    this.lastDraw = 0;
    this.drawn = false;
  }

  /** @param {string} text the whole line */
  update(text) {
    this.text = text;
    const interval = this.mode === "tty" ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS;
    if (Date.now() - this.lastDraw >= interval) this.draw();
  }

  draw() {
    this.lastDraw = Date.now();
    if (this.mode === "off" || this.text === this.printed) return;
    if (this.mode === "tty") {
      const columns = this.stream.columns || 120;
      this.stream.write(`\r\x1b[2K${this.text.slice(0, columns - 1)}`);
      this.drawn = true;
    } else {
      this.stream.write(`${this.text}\n`);
    }
    this.printed = this.text;
  }

  /** Draws the last state and ends the line, so that later output starts below it. */
  finish() {
    this.draw();
    if (this.mode === "tty" && this.drawn) this.stream.write("\n");
    this.drawn = false;
  }

  /** Ends a drawn line before a message is printed under it. */
  interrupt() {
    if (this.mode === "tty" && this.drawn) this.stream.write("\n");
    this.drawn = false;
    this.printed = "";
  }
}

/**
 * `upload app.sql [████░░░░]  40% · 3.20 MiB of 8.00 MiB`
 * @param {string} label
 * @param {number} done
 * @param {number} total
 */
export function bytesLine(label, done, total) {
  const percent = total > 0 ? (done / total) * 100 : 100;
  return `${label} ${bar(percent)} · ${formatBytes(done)} of ${formatBytes(total)}`;
}

/**
 * A dump's line: its id, bar, status, tables, current table, rows and bytes.
 * @param {any} status the API's dump status
 */
export function dumpLine(status) {
  return progressLine(`dump ${status.dumpId}`, status);
}

/**
 * @param {any} status the API's restore status
 */
export function restoreLine(status) {
  const p = status.progress;
  const table = p.currentTable ? ` · table ${JSON.stringify(p.currentTable)}` : "";
  const total = p.totalBytes > 0 ? ` of ${formatBytes(p.totalBytes)}` : "";
  return (
    `restore ${status.restoreId} ${bar(p.percent)} ${String(status.status).padEnd(11)}${table}` +
    ` · ${p.statementsApplied.toLocaleString("en-US")} statements · ${formatBytes(p.bytesRead)}${total}`
  );
}

export { formatBytes };
