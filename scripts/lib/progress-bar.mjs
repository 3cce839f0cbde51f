// Progress of several dumps at once: one live line per dump on a terminal, plain periodic lines
// otherwise (CI logs have no TTY, and redrawn lines would only fill them with escape codes).

const BAR_WIDTH = 24;
const PLAIN_INTERVAL_MS = 1_000;
const TTY_INTERVAL_MS = 100;

/**
 * @typedef {import("./api-client.mjs").DumpStatus} DumpStatus
 */

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/**
 * `[██████░░░░]  52%`
 * @param {number} percent 0..100
 * @param {number} [width]
 */
export function bar(percent, width = BAR_WIDTH) {
  const clamped = Math.max(0, Math.min(100, percent));
  const filled = Math.round((clamped / 100) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(Math.floor(clamped)).padStart(3)}%`;
}

/**
 * One line describing a dump's state.
 * @param {string} label
 * @param {DumpStatus} status
 */
export function progressLine(label, status) {
  const p = status.progress;
  const table = p.currentTable === null ? "" : ` table ${JSON.stringify(p.currentTable)}`;
  return (
    `${label} ${bar(p.percent)} ${status.status.padEnd(11)} ${p.processedTables}/${p.totalTables} tables` +
    `${table} · ${p.rowsDumped.toLocaleString("en-US")} rows · ${formatBytes(p.bytesWritten)}`
  );
}

export class ProgressBoard {
  /**
   * @param {{ stream?: NodeJS.WriteStream, tty?: boolean }} [options]
   */
  constructor(options = {}) {
    this.stream = options.stream ?? process.stdout;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    /** @type {Map<string, { line: string, printed: string | null, final: boolean }>} */
    this.rows = new Map();
    this.drawnLines = 0;
    this.lastDraw = 0;
    /** @type {NodeJS.Timeout | null} */
    this.timer = null;
  }

  /**
   * Reserves a line, so that lines keep the order in which dumps were added.
   * @param {string} label
   */
  add(label) {
    if (!this.rows.has(label)) this.rows.set(label, { line: `${label} waiting for the first status`, printed: null, final: false });
  }

  /**
   * @param {string} label fixed-width label, e.g. "r2  20261125-…"
   * @param {DumpStatus} status
   * @param {boolean} final the dump will not change any more
   */
  update(label, status, final = false) {
    this.rows.set(label, { line: progressLine(label, status), printed: this.rows.get(label)?.printed ?? null, final });
    const now = Date.now();
    if (final || now - this.lastDraw >= (this.tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) this.draw();
    else this.scheduleDraw();
  }

  /** Draws what changed; the last state of every dump is always printed by finish(). */
  draw() {
    this.lastDraw = Date.now();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.tty) {
      // Move up over the lines drawn last time and redraw them all in place.
      let out = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : "";
      const columns = this.stream.columns || 120;
      for (const row of this.rows.values()) out += `\r\x1b[2K${row.line.slice(0, columns - 1)}\n`;
      this.stream.write(out);
      this.drawnLines = this.rows.size;
      return;
    }
    for (const row of this.rows.values()) {
      if (row.printed === row.line) continue;
      this.stream.write(`${row.line}\n`);
      row.printed = row.line;
    }
  }

  scheduleDraw() {
    if (this.timer) return;
    const wait = (this.tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS) - (Date.now() - this.lastDraw);
    this.timer = setTimeout(() => this.draw(), Math.max(0, wait));
    this.timer.unref();
  }

  /** Final draw; later output starts below the board. */
  finish() {
    this.draw();
    this.drawnLines = 0;
  }
}
